"""Messages of validation, the store, authorisation and the HTTP layer (kk/ru/en). Reader
messages live in importers/messages.py, block-list messages in layers/grid.py."""

from geoservice.i18n import register

register({
    # -- validation of features ------------------------------------------------------------
    "upload.invalid_features": {
        "en": "The file was not accepted: {count} problem(s) found, listed under 'errors'. Nothing was changed.",
        "ru": "Файл не принят: найдено проблем — {count}, они перечислены в 'errors'. Ничего не изменено.",
        "kk": "Файл қабылданбады: {count} мәселе табылды, олар 'errors' бөлімінде көрсетілген. Ештеңе өзгертілген жоқ.",
    },
    "upload.mapping_unknown_attribute": {
        "en": "The column mapping names '{attribute}', which is not an attribute of layer '{layer}'.",
        "ru": "В сопоставлении столбцов указан атрибут '{attribute}', которого нет в слое '{layer}'.",
        "kk": "Бағандарды сәйкестендіруде '{layer}' қабатында жоқ '{attribute}' атрибуты көрсетілген.",
    },
    "upload.mapping_unknown_column": {
        "en": "The column mapping names the column '{column}', which the file does not have.",
        "ru": "В сопоставлении указан столбец '{column}', которого нет в файле.",
        "kk": "Сәйкестендіруде файлда жоқ '{column}' бағаны көрсетілген.",
    },
    "upload.bad_mapping": {
        "en": "The column mapping must be a JSON object {\"source column\": \"attribute\"} or 'column=attribute,...'.",
        "ru": "Сопоставление столбцов должно быть JSON-объектом {\"столбец\": \"атрибут\"} или 'столбец=атрибут,...'.",
        "kk": "Бағандарды сәйкестендіру JSON-объект {\"баған\": \"атрибут\"} немесе 'баған=атрибут,...' болуы керек.",
    },
    "upload.missing_attribute": {
        "en": "The file has no column for the required attribute '{attribute}' (accepted names: {aliases}). "
              "Add the column, send a column mapping, or give one value for the whole file (defaults).",
        "ru": "В файле нет столбца для обязательного атрибута '{attribute}' (допустимые имена: {aliases}). "
              "Добавьте столбец, передайте сопоставление столбцов или задайте одно значение для всего "
              "файла (defaults).",
        "kk": "Файлда міндетті '{attribute}' атрибутына арналған баған жоқ (рұқсат етілген атаулар: {aliases}). "
              "Бағанды қосыңыз, сәйкестендіруді жіберіңіз немесе бүкіл файлға бір мән беріңіз (defaults).",
    },
    "upload.bad_crs": {
        "en": "'{crs}' is not a coordinate reference system we know. Give it as EPSG:N, e.g. EPSG:28412.",
        "ru": "'{crs}' — неизвестная система координат. Укажите её как EPSG:N, например EPSG:28412.",
        "kk": "'{crs}' — белгісіз координаттар жүйесі. Оны EPSG:N түрінде көрсетіңіз, мысалы EPSG:28412.",
    },
    "upload.no_crs": {
        "en": "The file does not say which coordinate reference system it uses (no .prj) and none was given. "
              "Send the 'crs' field, e.g. EPSG:28412 for Pulkovo 1942 / Gauss-Kruger zone 12.",
        "ru": "В файле не указана система координат (нет .prj), и она не передана. "
              "Укажите поле 'crs', например EPSG:28412 для Пулково 1942 / Гаусса-Крюгера, зона 12.",
        "kk": "Файлда координаттар жүйесі көрсетілмеген (.prj жоқ) және ол берілмеген. "
              "'crs' өрісін көрсетіңіз, мысалы Пулково 1942 / Гаусс-Крюгер 12-аймағы үшін EPSG:28412.",
    },
    "upload.bad_mode": {
        "en": "Unknown upload mode '{mode}': use 'replace' or 'append'.",
        "ru": "Неизвестный режим загрузки '{mode}': используйте 'replace' или 'append'.",
        "kk": "Белгісіз жүктеу режимі '{mode}': 'replace' немесе 'append' қолданыңыз.",
    },
    "upload.too_large": {
        "en": "The upload is larger than the limit of {limit_mb} MB.",
        "ru": "Загружаемый файл больше допустимых {limit_mb} МБ.",
        "kk": "Жүктелетін файл рұқсат етілген {limit_mb} МБ-тан үлкен.",
    },
    "upload.no_file": {
        "en": "Send the data as the multipart field 'file'.",
        "ru": "Передайте данные в поле формы 'file' (multipart).",
        "kk": "Деректерді 'file' (multipart) өрісінде жіберіңіз.",
    },
    "attribute.bad_value": {
        "en": "Value '{value}' does not fit attribute '{attribute}' (expected: {expected}).",
        "ru": "Значение '{value}' не подходит для атрибута '{attribute}' (ожидается: {expected}).",
        "kk": "'{value}' мәні '{attribute}' атрибутына сәйкес келмейді (күтілетіні: {expected}).",
    },
    "attribute.required": {
        "en": "Attribute '{attribute}' is required but empty.",
        "ru": "Обязательный атрибут '{attribute}' не заполнен.",
        "kk": "Міндетті '{attribute}' атрибуты толтырылмаған.",
    },
    "feature.duplicate_id": {
        "en": "Id '{id}' is used again (first by feature {first}); ids must be unique.",
        "ru": "Идентификатор '{id}' повторяется (впервые у объекта {first}); идентификаторы должны быть уникальны.",
        "kk": "'{id}' идентификаторы қайталанады (алғаш {first}-нысанда); идентификаторлар бірегей болуы керек.",
    },
    "feature.id_clash": {
        "en": "New feature ids clash with existing ids of layer '{layer}'. Give every feature an id column value.",
        "ru": "Новые идентификаторы совпадают с существующими в слое '{layer}'. Заполните столбец идентификатора.",
        "kk": "Жаңа идентификаторлар '{layer}' қабатындағы бұрынғылармен сәйкес келеді. "
              "Идентификатор бағанын толтырыңыз.",
    },
    "geometry.wrong_type": {
        "en": "Geometry is a {found_name}, but this layer holds {expected}.",
        "ru": "Геометрия имеет тип {found_name}, а слой содержит {expected}.",
        "kk": "Геометрия түрі {found_name}, ал қабат {expected} түрін қамтиды.",
    },
    "geometry.empty": {
        "en": "Geometry is empty.", "ru": "Геометрия пуста.", "kk": "Геометрия бос.",
    },
    "geometry.missing": {
        "en": "Feature has no geometry (and no block list to build one from).",
        "ru": "У объекта нет геометрии (и нет списка блоков, из которого её можно построить).",
        "kk": "Нысанда геометрия жоқ (оны құруға болатын блоктар тізімі де жоқ).",
    },
    "geometry.unrepairable": {
        "en": "Polygon is invalid ({reason}) and cannot be repaired faithfully: the repair would change its area "
              "by {change} %. Fix the outline (e.g. a self-intersecting ring) and upload again.",
        "ru": "Полигон некорректен ({reason}) и не может быть исправлен без искажения: исправление изменило бы "
              "площадь на {change} %. Исправьте контур (например, самопересечение) и загрузите снова.",
        "kk": "Полигон дұрыс емес ({reason}) және оны бұрмалаусыз түзету мүмкін емес: түзету ауданды {change} %-ға "
              "өзгертеді. Контурды түзетіп (мысалы, өздігінен қиылысу), қайта жүктеңіз.",
    },
    "geometry.bad_coordinates": {
        "en": "Coordinates could not be transformed (infinite or missing values): check the coordinate system.",
        "ru": "Координаты не удалось преобразовать (бесконечные или пустые значения): проверьте систему координат.",
        "kk": "Координаттарды түрлендіру мүмкін болмады: координаттар жүйесін тексеріңіз.",
    },
    "geometry.outside_country": {
        "en": "Feature lies outside Kazakhstan (its extent is {bbox} in WGS 84). Check the coordinate system "
              "and the axis order.",
        "ru": "Объект находится за пределами Казахстана (его охват {bbox} в WGS 84). Проверьте систему "
              "координат и порядок осей.",
        "kk": "Нысан Қазақстан аумағынан тыс орналасқан (WGS 84 бойынша шекаралары {bbox}). Координаттар жүйесі "
              "мен осьтер ретін тексеріңіз.",
    },
    # -- layers and versions ---------------------------------------------------------------
    "layer.not_found": {
        "en": "There is no layer '{layer}'.", "ru": "Слоя '{layer}' нет.", "kk": "'{layer}' қабаты жоқ.",
    },
    "layer.not_uploadable": {
        "en": "Layer '{layer}' is generated by the service and cannot be uploaded.",
        "ru": "Слой '{layer}' формируется сервисом, его нельзя загрузить.",
        "kk": "'{layer}' қабатын сервис өзі құрады, оны жүктеуге болмайды.",
    },
    "version.not_found": {
        "en": "Layer '{layer}' has no version {version}.",
        "ru": "У слоя '{layer}' нет версии {version}.",
        "kk": "'{layer}' қабатында {version} нұсқасы жоқ.",
    },
    # -- authorisation ---------------------------------------------------------------------
    "auth.required": {
        "en": "This needs an authority's token: send 'Authorization: Bearer <token>'.",
        "ru": "Требуется токен уполномоченного органа: передайте 'Authorization: Bearer <токен>'.",
        "kk": "Уәкілетті органның токені қажет: 'Authorization: Bearer <токен>' жіберіңіз.",
    },
    "auth.invalid_token": {
        "en": "The token is unknown or revoked.", "ru": "Токен неизвестен или отозван.",
        "kk": "Токен белгісіз немесе кері қайтарылған.",
    },
    "auth.forbidden_layer": {
        "en": "Authority '{authority}' may not write layer '{layer}'.",
        "ru": "Орган '{authority}' не имеет права изменять слой '{layer}'.",
        "kk": "'{authority}' органының '{layer}' қабатын өзгертуге құқығы жоқ.",
    },
    "auth.unknown_authority": {
        "en": "Unknown authority '{authority}'. Known: {known}.",
        "ru": "Неизвестный орган '{authority}'. Известные: {known}.",
        "kk": "Белгісіз орган '{authority}'. Белгілілері: {known}.",
    },
    # -- HTTP ------------------------------------------------------------------------------
    "http.not_found": {"en": "Not found.", "ru": "Не найдено.", "kk": "Табылмады."},
    "http.method_not_allowed": {"en": "Method not allowed.", "ru": "Метод не разрешён.",
                                "kk": "Әдіске рұқсат жоқ."},
    "http.bad_request": {"en": "Bad request: {detail}", "ru": "Неверный запрос: {detail}",
                         "kk": "Қате сұрау: {detail}"},
    "http.internal": {
        "en": "Internal error; it has been logged. Nothing was changed.",
        "ru": "Внутренняя ошибка; она записана в журнал. Ничего не изменено.",
        "kk": "Ішкі қате; ол журналға жазылды. Ештеңе өзгертілген жоқ.",
    },
})
