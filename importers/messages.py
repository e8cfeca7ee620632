"""Messages of the upload reading stage (kk/ru/en). ``{name}`` is the file as the user knows it;
the file, feature and field of a problem also travel in its location.

Keys: ``upload.*`` for any format, ``archive.*`` for ZIP/KMZ containers, and ``shapefile.*``,
``gpkg.*``, ``geojson.*``, ``kml.*``, ``csv.*`` for one format each; ``defaults.*`` for the values
an upload gives for the whole file; ``note.*`` for notes of the upload report (``note()``) that
belong to no one format. A format's own notes (a shapefile without .prj, a ring closed
automatically) sit in its namespace next to its errors, and are made with ``note()`` too."""

from __future__ import annotations

from typing import Any

from geoservice.kernel.errors import UploadError
from geoservice.kernel.i18n import LANGUAGES

MESSAGES: dict[str, dict[str, str]] = {
    # No placeholders: the validation stage raises this key too, with only the location.
    "upload.empty": {
        "kk": "Файл бос: онда бірде-бір объект жоқ.",
        "ru": "Файл пуст: в нём нет ни одного объекта.",
        "en": "The file is empty: it contains no features.",
    },
    "upload.file_too_large": {
        "kk": "{name} файлы рұқсат етілген {limit_mb} МБ-тан үлкен.",
        "ru": "Файл {name} больше допустимых {limit_mb} МБ.",
        "en": "The file {name} is larger than the allowed {limit_mb} MB.",
    },
    "upload.unknown_format": {
        "kk": "{name} файлының пішімі қолдау көрсетілмейді. ZIP мұрағатындағы Shapefile, GeoPackage "
              "(.gpkg), GeoJSON, KML/KMZ немесе CSV координаттар кестесін жүктеңіз.",
        "ru": "Формат файла {name} не поддерживается. Загрузите Shapefile в ZIP-архиве, GeoPackage "
              "(.gpkg), GeoJSON, KML/KMZ или таблицу координат CSV.",
        "en": "The format of {name} is not supported. Upload a zipped Shapefile (.zip), GeoPackage "
              "(.gpkg), GeoJSON, KML/KMZ or a CSV coordinate table.",
    },
    "upload.corrupt": {
        "kk": "{name} файлы бүлінген немесе дұрыс {format} файлы емес.",
        "ru": "Файл {name} повреждён или не является корректным файлом {format}.",
        "en": "The file {name} is damaged or is not a valid {format} file.",
    },
    "upload.unreadable": {
        "kk": "{name} файлын оқу мүмкін болмады: {detail}",
        "ru": "Не удалось прочитать файл {name}: {detail}",
        "en": "The file {name} could not be read: {detail}",
    },
    "upload.unknown_encoding": {
        "kk": "«{encoding}» мәтін кодталуы белгісіз. Мысалы, UTF-8, cp1251 немесе cp866 көрсетіңіз.",
        "ru": "Неизвестная кодировка текста «{encoding}». Укажите, например, UTF-8, cp1251 или cp866.",
        "en": "Unknown text encoding «{encoding}». Use, for example, UTF-8, cp1251 or cp866.",
    },
    "upload.encoding_mismatch": {
        "kk": "{name} файлындағы мәтін {encoding} кодталуында емес. Файл сақталған кодталуды көрсетіңіз.",
        "ru": "Текст в файле {name} не в кодировке {encoding}. Укажите кодировку, в которой сохранён файл.",
        "en": "The text in {name} is not in the {encoding} encoding. Choose the encoding the file was "
              "saved in.",
    },
    "archive.unsafe_path": {
        "kk": "Мұрағатта мұрағаттан тыс жол бар: {member}",
        "ru": "Архив содержит путь за пределами архива: {member}",
        "en": "The archive contains a path outside the archive: {member}",
    },
    "archive.symlink": {
        "kk": "Мұрағатта символдық сілтеме бар, бұған жол берілмейді: {member}",
        "ru": "Архив содержит символическую ссылку, это недопустимо: {member}",
        "en": "The archive contains a symbolic link, which is not allowed: {member}",
    },
    "archive.encrypted": {
        "kk": "Мұрағаттағы {member} файлы құпиясөзбен қорғалған. Құпиясөзсіз мұрағат жүктеңіз.",
        "ru": "Файл {member} в архиве защищён паролем. Загрузите архив без пароля.",
        "en": "The archive member {member} is password-protected. Upload an archive without a password.",
    },
    "archive.unsupported_compression": {
        "kk": "Мұрағаттағы {member} файлы қолдау көрсетілмейтін әдіспен сығылған. Мұрағатты кәдімгі "
              "ZIP (Deflate) ретінде қайта жинаңыз.",
        "ru": "Файл {member} в архиве сжат неподдерживаемым методом. Пересоберите архив как обычный "
              "ZIP (Deflate).",
        "en": "The archive member {member} is compressed with an unsupported method. Re-pack the "
              "archive as a standard ZIP (Deflate).",
    },
    "archive.too_large": {
        "kk": "Ашылған мұрағат рұқсат етілген {limit_mb} МБ-тан асады.",
        "ru": "Распакованный архив превышает допустимые {limit_mb} МБ.",
        "en": "The archive unpacks to more than the allowed {limit_mb} MB.",
    },
    "archive.too_many_members": {
        "kk": "Мұрағатта {count} файл бар; ең көбі {limit} файлға рұқсат етіледі.",
        "ru": "Архив содержит {count} файлов; допускается не более {limit}.",
        "en": "The archive contains {count} files; at most {limit} are allowed.",
    },
    "archive.bomb": {
        "kk": "Мұрағат «zip-бомбаға» ұқсайды: {member} {ratio} есе сығылған.",
        "ru": "Архив похож на «zip-бомбу»: {member} сжат в {ratio} раз.",
        "en": "The archive looks like a zip bomb: {member} is compressed {ratio} times.",
    },
    "archive.nested": {
        "kk": "Мұрағаттың ішінде тек бір деңгейлі мұрағатқа рұқсат етіледі; {member} — ішкі "
              "мұрағаттың ішіндегі мұрағат.",
        "ru": "Допускается только один уровень вложенности архивов; {member} — архив внутри "
              "вложенного архива.",
        "en": "Archives may be nested only one level deep; {member} is an archive inside a nested "
              "archive.",
    },
    "archive.no_data": {
        "kk": "Мұрағатта кеңістіктік деректер файлы жоқ (.shp, .gpkg, .geojson, .kml, .csv). "
              "Табылғаны: {found}",
        "ru": "В архиве нет файла с пространственными данными (.shp, .gpkg, .geojson, .kml, .csv). "
              "Найдено: {found}",
        "en": "The archive contains no spatial data file (.shp, .gpkg, .geojson, .kml, .csv). "
              "Found: {found}",
    },
    "archive.several_datasets": {
        "kk": "Мұрағатта дәл бір деректер жиыны болуы керек, бірнешеуі табылды: {found}. "
              "Оларды бір-бірден жүктеңіз.",
        "ru": "Архив должен содержать ровно один набор данных, найдено несколько: {found}. "
              "Загрузите их по одному.",
        "en": "The archive must contain exactly one data set, but several were found: {found}. "
              "Upload them one at a time.",
    },
    "shapefile.part_missing": {
        "kk": "{name} shapefile толық емес: мұрағатта {part} бөлігі жоқ.",
        "ru": "Shapefile {name} неполный: в архиве нет части {part}.",
        "en": "The shapefile {name} is incomplete: the part {part} is missing from the archive.",
    },
    "shapefile.not_zipped": {
        "kk": "{name} — shapefile-дың тек бір бөлігі. .shp, .shx, .dbf және .prj файлдары бірге "
              "салынған ZIP мұрағатын жүктеңіз.",
        "ru": "{name} — лишь одна часть shapefile. Загрузите ZIP-архив, содержащий вместе файлы "
              ".shp, .shx, .dbf и .prj.",
        "en": "{name} is only one part of a shapefile. Upload a ZIP archive holding the .shp, .shx, "
              ".dbf and .prj files together.",
    },
    "gpkg.several_layers": {
        "kk": "{name} GeoPackage-те бірнеше қабат бар ({layers}), қайсысын жүктеу керегі түсініксіз. "
              "Файлда бір қабат қалдырыңыз.",
        "ru": "В GeoPackage {name} несколько слоёв ({layers}), и непонятно, какой загружать. "
              "Оставьте в файле один слой.",
        "en": "The GeoPackage {name} has several layers ({layers}) and it is not clear which one to "
              "load. Leave one layer in the file.",
    },
    "kml.forbidden_dtd": {
        "kk": "{name} файлында DOCTYPE немесе ENTITY жариялауы бар, жүктеу кезінде бұған жол "
              "берілмейді.",
        "ru": "Файл {name} содержит объявление DOCTYPE или ENTITY, что недопустимо при загрузке.",
        "en": "The file {name} contains a DOCTYPE or ENTITY declaration, which is not allowed in "
              "uploads.",
    },
    "geojson.crs_unsupported": {
        "kk": "{name} файлында көрсетілген координаттар жүйесі қолдау көрсетілмейді: {crs}. "
              "\"EPSG:28412\" сияқты атауды көрсетіңіз немесе оны алып тастаңыз (WGS 84).",
        "ru": "Система координат, указанная в {name}, не поддерживается: {crs}. Укажите имя вида "
              "\"EPSG:28412\" или удалите её (будет WGS 84).",
        "en": "The coordinate system given in {name} is not supported: {crs}. Give a name such as "
              "\"EPSG:28412\" or remove it (WGS 84 is then assumed).",
    },
    "upload.bad_geometry": {
        "kk": "{name} файлындағы объект геометриясын оқу мүмкін болмады: {detail}",
        "ru": "Не удалось прочитать геометрию объекта в {name}: {detail}",
        "en": "A feature geometry in {name} could not be read: {detail}",
    },
    "csv.no_geometry": {
        "kk": "{name} кестесінде координаттар бағандары жоқ. WKT бағаны (wkt, geometry), бойлық пен "
              "ендік бағандары (lon, lat, бойлық, ендік) немесе учаске нөмірі бар бұрыштық нүктелер "
              "кестесі күтіледі. Табылған бағандар: {columns}",
        "ru": "В таблице {name} нет столбцов с координатами. Ожидается столбец WKT (wkt, geometry), "
              "столбцы долготы и широты (lon, lat, долгота, широта) или таблица угловых точек с "
              "номером участка. Найдены столбцы: {columns}",
        "en": "The table {name} has no coordinate columns. Expected a WKT column (wkt, geometry), "
              "longitude and latitude columns (lon, lat) or a corner-point table with a plot number. "
              "Columns found: {columns}",
    },
    "csv.bad_coordinate": {
        "kk": "{line}-жол, «{column}» бағаны: «{value}» координатасын оқу мүмкін емес. Ондық "
              "градустарды (49.2083) немесе градус-минут-секундты (49°12'30\") пайдаланыңыз.",
        "ru": "Строка {line}, столбец «{column}»: не удаётся прочитать координату «{value}». "
              "Используйте десятичные градусы (49.2083) или градусы-минуты-секунды (49°12'30\").",
        "en": "Row {line}, column «{column}»: cannot read the coordinate «{value}». Use decimal "
              "degrees (49.2083) or degrees-minutes-seconds (49°12'30\").",
    },
    "csv.dms_out_of_range": {
        "kk": "{line}-жол, «{column}» бағаны: «{value}» мәнінде минуттар мен секундтар 60-тан кем "
              "болуы керек.",
        "ru": "Строка {line}, столбец «{column}»: в «{value}» минуты и секунды должны быть меньше 60.",
        "en": "Row {line}, column «{column}»: in «{value}» minutes and seconds must be less than 60.",
    },
    "csv.coordinate_out_of_range": {
        "kk": "{line}-жол, «{column}» бағаны: «{value}» мәні ±{limit}° шегінен тыс.",
        "ru": "Строка {line}, столбец «{column}»: «{value}» выходит за пределы ±{limit}°.",
        "en": "Row {line}, column «{column}»: «{value}» is outside ±{limit}°.",
    },
    "csv.bad_wkt": {
        "kk": "{line}-жол, «{column}» бағаны: геометрия дұрыс WKT емес ({detail}).",
        "ru": "Строка {line}, столбец «{column}»: геометрия не является корректным WKT ({detail}).",
        "en": "Row {line}, column «{column}»: the geometry is not valid WKT ({detail}).",
    },
    "csv.bad_point_number": {
        "kk": "{line}-жол, «{column}» бағаны: «{value}» нүкте нөмірі емес.",
        "ru": "Строка {line}, столбец «{column}»: «{value}» не является номером точки.",
        "en": "Row {line}, column «{column}»: «{value}» is not a point number.",
    },
    "csv.corner_missing_id": {
        "kk": "{line}-жол: «{column}» бағанындағы учаске нөмірі толтырылмаған.",
        "ru": "Строка {line}: номер участка в столбце «{column}» не заполнен.",
        "en": "Row {line}: the plot number in column «{column}» is empty.",
    },
    "csv.corner_too_few_points": {
        "kk": "«{column}» бағанындағы «{id}» көпбұрышында тек {count} әртүрлі бұрыштық нүкте бар; "
              "көпбұрышқа кемінде 3 нүкте қажет. «{column}» бағанындағы мәні бірдей жолдар бір "
              "көпбұрыш құрайды.",
        "ru": "У полигона «{id}» (столбец «{column}») только {count} различных угловых точек; для "
              "полигона нужно не менее 3. Строки с одинаковым значением в столбце «{column}» "
              "образуют один полигон.",
        "en": "Polygon «{id}» (column «{column}») has only {count} distinct corner points; a polygon "
              "needs at least 3. The rows with the same value in «{column}» make one polygon.",
    },
    "csv.corner_duplicate_point": {
        "kk": "«{id}» учаскесінде {number} нөмірлі екі түрлі бұрыштық нүкте бар.",
        "ru": "У участка «{id}» две разные угловые точки с номером {number}.",
        "en": "Plot «{id}» has two different corner points numbered {number}.",
    },
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
        "en": "The column mapping must be a JSON object {{\"source column\": \"attribute\"}} "
              "or 'column=attribute,...'.",
        "ru": "Сопоставление столбцов должно быть JSON-объектом {{\"столбец\": \"атрибут\"}} "
              "или 'столбец=атрибут,...'.",
        "kk": "Бағандарды сәйкестендіру JSON-объект {{\"баған\": \"атрибут\"}} немесе 'баған=атрибут,...' болуы керек.",
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
    # -- notes in an upload's report (the upload went through; worth telling the uploader) -----
    "geometry.z_dropped": {
        "en": "Heights (Z) were dropped from {count} feature(s): the layer stores plan geometry only.",
        "ru": "У объектов ({count}) отброшены высоты (Z): слой хранит только плановую геометрию.",
        "kk": "{count} нысанның биіктіктері (Z) алынып тасталды: қабат тек жоспарлы геометрияны сақтайды.",
    },
    "crs.overridden": {
        "en": "The file says its coordinates are in {file_crs}; they were read in {given} as the upload asked.",
        "ru": "В файле указана система координат {file_crs}; по запросу координаты прочитаны в {given}.",
        "kk": "Файлда {file_crs} координаттар жүйесі көрсетілген; сұрау бойынша координаттар {given} жүйесінде "
              "оқылды.",
    },
    "crs.assumed_wgs84": {
        "en": "The table gives no coordinate reference system: longitudes and latitudes were read as WGS 84.",
        "ru": "В таблице не указана система координат: долготы и широты прочитаны как WGS 84.",
        "kk": "Кестеде координаттар жүйесі көрсетілмеген: бойлықтар мен ендіктер WGS 84 ретінде оқылды.",
    },
    # -- values for the whole file (form field "defaults", CLI --set) ---------------------------
    "upload.bad_defaults": {
        "kk": "Бүкіл файлға арналған мәндер («defaults») {{\"атрибут\": мән}} түріндегі JSON-объект "
              "болуы керек, мысалы {{\"regime\": \"prohibited\"}} (командалық жолда: --set "
              "regime=prohibited).",
        "ru": "Значения для всего файла («defaults») должны быть JSON-объектом {{\"атрибут\": значение}}, "
              "например {{\"regime\": \"prohibited\"}} (в командной строке: --set regime=prohibited).",
        "en": "The values for the whole file («defaults») must be a JSON object {{\"attribute\": value}}, "
              "for example {{\"regime\": \"prohibited\"}} (on the command line: --set regime=prohibited).",
    },
    "defaults.unknown_attribute": {
        "kk": "«defaults» ішінде «{layer}» қабатында жоқ «{attribute}» атрибуты көрсетілген. Қабат "
              "атрибуттары: {attributes}.",
        "ru": "В «defaults» указан атрибут «{attribute}», которого нет в слое «{layer}». Атрибуты "
              "слоя: {attributes}.",
        "en": "«defaults» names the attribute «{attribute}», which layer «{layer}» does not have. The "
              "layer's attributes: {attributes}.",
    },
    "defaults.bad_value": {
        "kk": "«defaults»: «{value}» мәні «{attribute}» атрибутына сәйкес келмейді (күтілетіні: "
              "{expected}).",
        "ru": "«defaults»: значение «{value}» не подходит для атрибута «{attribute}» (ожидается: "
              "{expected}).",
        "en": "«defaults»: the value «{value}» does not fit the attribute «{attribute}» (expected: "
              "{expected}).",
    },
    "defaults.invalid": {
        "kk": "«defaults» ішіндегі {count} мән қабылданбады, олар 'errors' бөлімінде көрсетілген. "
              "Ештеңе өзгертілген жоқ.",
        "ru": "Не приняты значения в «defaults»: {count}, они перечислены в 'errors'. Ничего не изменено.",
        "en": "{count} values in «defaults» were not accepted; they are listed under 'errors'. Nothing "
              "was changed.",
    },
    # -- notes of the upload report -----------------------------------------------------------
    "note.unchanged": {
        "kk": "Бұл файл сол параметрлермен «{layer}» қабатының ағымдағы {version}-нұсқасы болып "
              "табылады: жаңа нұсқа жасалмады.",
        "ru": "Этот файл с теми же параметрами уже является текущей версией {version} слоя «{layer}»: "
              "новая версия не создана.",
        "en": "This file, with the same options, is already the current version {version} of layer "
              "«{layer}»: no new version was made.",
    },
    "note.filled_from": {
        "kk": "{count} объектіде «{attribute}» мәні жоқ; ол «{source}» атрибутынан алынды.",
        "ru": "У объектов без значения «{attribute}» ({count}) оно взято из атрибута «{source}».",
        "en": "{count} feature(s) had no «{attribute}»; it was taken from «{source}».",
    },
    "note.default_applied": {
        "kk": "«defaults» ішіндегі «{attribute}» = «{value}» мәні файлда бұл атрибуты толтырылмаған "
              "{count} объектіге берілді.",
        "ru": "Значение «{attribute}» = «{value}» из «defaults» задано объектам, у которых в файле "
              "его нет: {count}.",
        "en": "«{attribute}» = «{value}» from «defaults» was given to the {count} feature(s) that had "
              "no value in the file.",
    },
    "note.key_from_corner_column": {
        "kk": "Жолдар «{column}» бағаны бойынша көпбұрыштарға топтастырылды; оның мәндері "
              "объектілердің «{attribute}» атрибуты болды.",
        "ru": "Строки сгруппированы в полигоны по столбцу «{column}»; его значения стали атрибутом "
              "«{attribute}» объектов.",
        "en": "The rows were grouped into polygons by the column «{column}»; its values became the "
              "features' «{attribute}».",
    },
    "geometry.repaired": {
        "kk": "{feature}-объект: полигон дұрыс емес еді және түзетілді; оның ауданы "
              "{area_change_percent} %-ға өзгерді.",
        "ru": "Объект {feature}: полигон был некорректен и исправлен; его площадь изменилась на "
              "{area_change_percent} %.",
        "en": "Feature {feature}: the polygon was invalid and was repaired; its area changed by "
              "{area_change_percent} %.",
    },
    # -- notes of the reading stage (the file was read; how, and what was assumed) -------------
    "note.format_by_content": {
        "kk": "{file} файлының атауы {named} файлына ұқсайды, бірақ мазмұны — {found}; ол {found} "
              "ретінде оқылды.",
        "ru": "Файл {file} назван как {named}, но по содержимому это {found}; он прочитан как {found}.",
        "en": "{file} is named like {named} but its content is {found}; it was read as {found}.",
    },
    "note.encoding_not_used": {
        "kk": "Таңдалған {encoding} кодталуы қолданылмады: {format} мәтіні өз кодталуын өзі көрсетеді.",
        "ru": "Выбранная кодировка {encoding} не использована: текст {format} сам задаёт свою кодировку.",
        "en": "The chosen encoding {encoding} was not used: {format} text declares its own encoding.",
    },
    "note.crs_unreadable": {
        "kk": "{file} файлында көрсетілген координаттар жүйесін тану мүмкін болмады.",
        "ru": "Не удалось распознать систему координат, указанную в {file}.",
        "en": "The coordinate system declared in {file} could not be interpreted.",
    },
    "gpkg.polygon_layer_chosen": {
        "kk": "{file} файлында {layers} қабаттары бар; ондағы жалғыз полигон қабаты «{layer}» оқылды.",
        "ru": "В {file} есть слои {layers}; прочитан единственный полигональный слой «{layer}».",
        "en": "{file} has the layers {layers}; the only polygon layer, «{layer}», was read.",
    },
    "shapefile.no_prj": {
        "kk": "{file} үшін .prj файлы жоқ: координаттар жүйесі көрсетілмеген.",
        "ru": "Для {file} нет файла .prj: система координат не указана.",
        "en": "{file} has no .prj file: its coordinate system is not declared.",
    },
    "shapefile.prj_unreadable": {
        "kk": "{file} үшін .prj файлын тану мүмкін болмады; координаттар жүйесі көрсетілмеген деп "
              "саналады.",
        "ru": "Не удалось распознать файл .prj для {file}; система координат считается не указанной.",
        "en": "The .prj of {file} could not be interpreted; the coordinate system is taken as not "
              "declared.",
    },
    "shapefile.encoding_chosen": {
        "kk": "{file} файлының атрибуттары жүктеу кезінде таңдалған {encoding} кодталуында оқылды.",
        "ru": "Атрибуты файла {file} прочитаны в кодировке {encoding}, выбранной при загрузке.",
        "en": "The attributes of {file} were read in {encoding}, the encoding chosen at upload.",
    },
    "shapefile.encoding_from_cpg": {
        "kk": "{file} файлының атрибуттары оның .cpg файлында көрсетілген {encoding} кодталуында "
              "оқылды.",
        "ru": "Атрибуты файла {file} прочитаны в кодировке {encoding}, указанной в его файле .cpg.",
        "en": "The attributes of {file} were read in {encoding}, the encoding named in its .cpg file.",
    },
    "shapefile.cpg_unknown": {
        "kk": "{file} үшін .cpg файлы белгісіз кодталуды көрсетеді («{cpg}»); ол ескерілмеді.",
        "ru": "Файл .cpg для {file} указывает неизвестную кодировку («{cpg}»); он не учтён.",
        "en": "The .cpg of {file} names an unknown encoding («{cpg}»); it was ignored.",
    },
    "shapefile.encoding_from_ldid": {
        "kk": "{file} файлының атрибуттары DBF тіл драйверінің {driver} байты бойынша {encoding} "
              "кодталуында оқылды.",
        "ru": "Атрибуты файла {file} прочитаны в кодировке {encoding} по байту языкового драйвера "
              "DBF {driver}.",
        "en": "The attributes of {file} were read in {encoding}, as the DBF language driver byte "
              "{driver} says.",
    },
    "shapefile.encoding_guessed_utf8": {
        "kk": "{file} үшін .cpg файлы жоқ, ал DBF тіл драйверінің байты ({driver}) кодталуды "
              "көрсетпейді; мәтін дұрыс UTF-8 болғандықтан, UTF-8 ретінде оқылды.",
        "ru": "Для {file} нет файла .cpg, а байт языкового драйвера DBF ({driver}) не указывает "
              "кодировку; текст корректен в UTF-8 и прочитан как UTF-8.",
        "en": "{file} has no .cpg file and its DBF language driver byte ({driver}) does not say "
              "which encoding; the text is valid UTF-8 and was read as UTF-8.",
    },
    "shapefile.encoding_guessed_cp1251": {
        "kk": "{file} үшін .cpg файлы жоқ, ал DBF тіл драйверінің байты ({driver}) кодталуды "
              "көрсетпейді; мәтін Windows-1251 кодталуындағы кириллицаға ұқсайды, сондықтан cp1251 "
              "ретінде оқылды (әріптер бұрмаланса, жүктеу кезінде кодталуды көрсетіңіз).",
        "ru": "Для {file} нет файла .cpg, а байт языкового драйвера DBF ({driver}) не указывает "
              "кодировку; текст похож на кириллицу в Windows-1251 и прочитан как cp1251 (если буквы "
              "искажены, укажите кодировку при загрузке).",
        "en": "{file} has no .cpg file and its DBF language driver byte ({driver}) does not say "
              "which encoding; the text looks like Cyrillic in Windows-1251 and was read as cp1251 "
              "(choose the encoding at upload if letters look wrong).",
    },
    "shapefile.encoding_default_latin1": {
        "kk": "{file} үшін .cpg файлы жоқ, ал DBF тіл драйверінің байты ({driver}) кодталуды "
              "көрсетпейді; мәтін GDAL-дың әдепкі ISO-8859-1 кодталуында оқылды (әріптер "
              "бұрмаланса, жүктеу кезінде кодталуды көрсетіңіз).",
        "ru": "Для {file} нет файла .cpg, а байт языкового драйвера DBF ({driver}) не указывает "
              "кодировку; текст прочитан в ISO-8859-1, кодировке GDAL по умолчанию (если буквы "
              "искажены, укажите кодировку при загрузке).",
        "en": "{file} has no .cpg file and its DBF language driver byte ({driver}) does not say "
              "which encoding; the text was read as ISO-8859-1, GDAL's default (choose the encoding "
              "at upload if letters look wrong).",
    },
    "shapefile.text_cut": {
        "kk": "{file} файлында «{field}» өрісінің мәтіні {count} объектіде соңғы таңбаның ортасынан "
              "қиылған (алғашқысы — {feature}-объект); толық емес таңба алынып тасталды.",
        "ru": "В {file} текст поля «{field}» обрезан посреди последнего символа у объектов: {count} "
              "(первый — объект {feature}); неполный символ отброшен.",
        "en": "In {file}, the text of the field «{field}» was cut mid-character at its end in "
              "{count} feature(s) (first: feature {feature}); the partial character was dropped.",
    },
    "shapefile.field_name_cut": {
        "kk": "{file} файлында «{field}» бағанының атауы таңбаның ортасынан қиылған; толық емес "
              "таңба алынып тасталды.",
        "ru": "В {file} имя столбца «{field}» обрезано посреди символа; неполный символ отброшен.",
        "en": "In {file}, the column name «{field}» was cut mid-character; the partial character "
              "was dropped.",
    },
    "kml.ignored_elements": {
        "kk": "{element} элементтері ескерілмеді ({count}): тек Placemark белгілері оқылады.",
        "ru": "Элементы {element} пропущены ({count}): читаются только метки Placemark.",
        "en": "{count} {element} element(s) ignored: only placemarks are read.",
    },
    "kml.ring_closed": {
        "kk": "Тұйықталмаған полигон контурлары автоматты түрде тұйықталды, объектілер саны: "
              "{count} (нөмірлері: {features}).",
        "ru": "Незамкнутые контуры полигонов замкнуты автоматически у объектов: {count} (номера: "
              "{features}).",
        "en": "Unclosed polygon rings were closed automatically in {count} feature(s) (numbers: "
              "{features}).",
    },
    "csv.ring_closed": {
        "kk": "{count} полигонның контуры автоматты түрде тұйықталды: соңғы бұрыштық нүкте "
              "біріншісімен сәйкес келмеді ({polygons}).",
        "ru": "Контуры полигонов ({count}) замкнуты автоматически: последняя угловая точка не "
              "совпадала с первой ({polygons}).",
        "en": "The outline of {count} polygon(s) was closed automatically: the last corner point "
              "was not the first ({polygons}).",
    },
    "csv.encoding_utf16": {
        "kk": "{file} файлының мәтіні UTF-16 кодталуында оқылды (файл байттар ретінің белгісінен "
              "басталады).",
        "ru": "Текст файла {file} прочитан в кодировке UTF-16 (файл начинается с метки порядка "
              "байтов).",
        "en": "The text of {file} was read as UTF-16 (the file starts with a byte order mark).",
    },
    "csv.encoding_cp1251": {
        "kk": "{file} файлы UTF-8 кодталуында емес; мәтін cp1251 (Windows-1251) ретінде оқылды. "
              "Әріптер бұрмаланса, жүктеу кезінде кодталуды көрсетіңіз.",
        "ru": "Файл {file} не в кодировке UTF-8; текст прочитан как cp1251 (Windows-1251). Если "
              "буквы искажены, укажите кодировку при загрузке.",
        "en": "{file} is not valid UTF-8; its text was read as cp1251 (Windows-1251). Choose the "
              "encoding at upload if letters look wrong.",
    },
    "csv.extra_cells": {
        "kk": "Тақырып жолындағыдан ұяшықтары көп жолдар саны: {count} (алғашқысы — {line}-жол); "
              "артық ұяшықтар ескерілмеді.",
        "ru": "Строк, в которых ячеек больше, чем в заголовке: {count} (первая — строка {line}); "
              "лишние ячейки не учтены.",
        "en": "{count} row(s) have more cells than the header (first: row {line}); the extra cells "
              "were ignored.",
    },
    "csv.wkt_over_coordinates": {
        "kk": "Геометрия «{column}» WKT бағанынан алынды; координаттар бағандары атрибуттар ретінде "
              "сақталды.",
        "ru": "Геометрия взята из столбца WKT «{column}»; столбцы координат сохранены как атрибуты.",
        "en": "The geometry was taken from the WKT column «{column}»; the coordinate columns are "
              "kept as attributes.",
    },
    "csv.points_not_polygons": {
        "kk": "Кестеде нүкте нөмірлерінің бағаны («{column}») бар, бірақ учаске нөмірінің бағаны "
              "жоқ, сондықтан әр жол жеке нүкте ретінде оқылды; полигондар алу үшін учаске "
              "нөмірінің бағанын қосыңыз.",
        "ru": "В таблице есть столбец номеров точек («{column}»), но нет столбца номера участка, "
              "поэтому каждая строка прочитана как отдельная точка; чтобы получить полигоны, "
              "добавьте столбец номера участка.",
        "en": "The table has a point-number column («{column}») but no plot-number column, so each "
              "row was read as a separate point; add a plot-number column to get polygons.",
    },
    "csv.duplicate_column": {
        "kk": "«{column}» баған атауы қайталанады; қайталанған баған «{renamed}» деп қайта аталды.",
        "ru": "Имя столбца «{column}» повторяется; повторный столбец переименован в «{renamed}».",
        "en": "The column name «{column}» appears more than once; the repeated column was renamed "
              "«{renamed}».",
    },
    "csv.crs_from_ewkt": {
        "kk": "Координаттар жүйесі EWKT префиксінен алынды: {crs}.",
        "ru": "Система координат взята из префикса EWKT: {crs}.",
        "en": "The coordinate system was taken from the EWKT prefix: {crs}.",
    },
    "csv.mixed_srids": {
        "kk": "Жолдарда әртүрлі SRID көрсетілген ({srids}); олардың ешқайсысы қолданылмады.",
        "ru": "В строках указаны разные SRID ({srids}); ни один из них не использован.",
        "en": "The rows declare different SRIDs ({srids}); none of them was used.",
    },
    "csv.corner_id_filled_down": {
        "kk": "«{column}» бағанындағы бос ұяшықтар жоғарыдағы жолдың учаске нөмірі ретінде алынды.",
        "ru": "Пустые ячейки в столбце «{column}» приняты за номер участка из строки выше.",
        "en": "Empty cells in the column «{column}» were taken as the plot number of the row above.",
    },
    "csv.corner_values_differ": {
        "kk": "«{column}» бағанында бір полигонның жолдарындағы мәндер әртүрлі (полигондар саны: "
              "{count}; {polygons}); әрқайсысы үшін бірінші мән қалдырылды.",
        "ru": "В столбце «{column}» значения различаются в строках одного полигона (полигонов: "
              "{count}; {polygons}); для каждого оставлено первое значение.",
        "en": "The column «{column}» has different values in the rows of one polygon ({count} "
              "polygon(s): {polygons}); the first value of each was kept.",
    },
    # --- raster uploads (issue 12): GeoTIFF, or a zip of a TIFF, its world file and .prj ---------
    "geotiff.not_geotiff": {
        "kk": "{name} файлы GeoTIFF емес. GeoTIFF (.tif) файлын немесе TIFF, әлем файлы (.tfw) мен .prj "
              "салынған ZIP мұрағатын жүктеңіз.",
        "ru": "Файл {name} не является GeoTIFF. Загрузите GeoTIFF (.tif) или ZIP-архив с TIFF, файлом "
              "привязки (.tfw) и .prj.",
        "en": "The file {name} is not a GeoTIFF. Upload a GeoTIFF (.tif), or a zip with a TIFF, its world "
              "file (.tfw) and a .prj.",
    },
    "geotiff.truncated": {
        "kk": "{name} растрлық файлы бүлінген немесе толық жүктелмеген: {detail}",
        "ru": "Растровый файл {name} повреждён или загружен не полностью: {detail}",
        "en": "The raster {name} is damaged or was not uploaded whole: {detail}",
    },
    "geotiff.no_georeference": {
        "kk": "{name} растры жерге байланбаған: онда геотрансформация да, әлем файлы (.tfw/.wld) да жоқ.",
        "ru": "Растр {name} не привязан: в нём нет геопривязки и нет файла привязки (.tfw/.wld).",
        "en": "The raster {name} is not georeferenced: it has no geotransform and no world file (.tfw/.wld).",
    },
    "geotiff.bad_world_file": {
        "kk": "{name} әлем файлында алты сан болуы керек (әр жолда біреуден).",
        "ru": "Файл привязки {name} должен содержать шесть чисел, по одному в строке.",
        "en": "The world file {name} must hold six numbers, one per line.",
    },
    "geotiff.bad_prj": {
        "kk": "{name} файлындағы координаттар жүйесі танылмады.",
        "ru": "Система координат в файле {name} не распознана.",
        "en": "The coordinate reference system in {name} is not one we know.",
    },
    "geotiff.archive_no_raster": {
        "kk": "Мұрағатта TIFF (.tif/.tiff) жоқ. Табылғаны: {found}",
        "ru": "В архиве нет TIFF (.tif/.tiff). Найдено: {found}",
        "en": "The archive holds no TIFF (.tif/.tiff). Found: {found}",
    },
    "geotiff.too_many_sheets": {
        "kk": "{name} мұрағатында {count} TIFF бар; бір жүктеуде ең көбі {limit} парақ болады. Сериясын бөліп "
              "жүктеңіз.",
        "ru": "В архиве {name} {count} TIFF; в одной загрузке не более {limit} листов. Загрузите серию "
              "частями.",
        "en": "The archive {name} holds {count} TIFFs; one upload takes at most {limit} sheets. Upload the "
              "series in parts.",
    },
    "geotiff.duplicate_sheet": {
        "kk": "{name} мұрағатында «{sheet}» парағы екі рет бар: {first} және {second}. Парақ атаулары "
              "(файл атаулары) әртүрлі болуы керек.",
        "ru": "В архиве {name} лист «{sheet}» встречается дважды: {first} и {second}. Имена листов "
              "(файлов) должны различаться.",
        "en": "The archive {name} has the sheet '{sheet}' twice: {first} and {second}. Sheet (file) names "
              "must differ.",
    },
    "geotiff.sheet_for_many": {
        "kk": "Мұрағатта {count} парақ бар: олардың атаулары файл атауларынан алынады, «sheet» өрісін "
              "бермеңіз.",
        "ru": "В архиве {count} листов: их имена берутся из имён файлов, поле «sheet» не указывайте.",
        "en": "The archive holds {count} sheets: their names come from the file names; leave the 'sheet' "
              "field out.",
    },
    "geotiff.too_many_pixels": {
        "kk": "{name} растры {width} × {height} пиксельді жариялайды; ең көбі {limit} пиксельге рұқсат етіледі.",
        "ru": "Растр {name} объявляет {width} × {height} пикселей; допускается не более {limit}.",
        "en": "The raster {name} declares {width} × {height} pixels; at most {limit} are allowed.",
    },
    "geotiff.band_count": {
        "kk": "{name} растрында {count} арна бар; «{layer}» қабатына {expected} арна керек.",
        "ru": "В растре {name} {count} каналов; для слоя «{layer}» нужно {expected}.",
        "en": "The raster {name} has {count} bands; the layer '{layer}' takes {expected}.",
    },
    "geotiff.band_type": {
        "kk": "{name} растрының {band}-арнасы {dtype} түрінде; «{layer}» қабатына {expected} керек.",
        "ru": "Канал {band} растра {name} имеет тип {dtype}; для слоя «{layer}» нужен {expected}.",
        "en": "Band {band} of the raster {name} is of type {dtype}; the layer '{layer}' takes {expected}.",
    },
    "geotiff.outside_country": {
        "kk": "{name} растры Қазақстаннан тыс жатыр (WGS 84 бойынша қамтуы {bbox}). Координаттар жүйесін "
              "тексеріңіз.",
        "ru": "Растр {name} лежит за пределами Казахстана (его охват {bbox} в WGS 84). Проверьте систему "
              "координат.",
        "en": "The raster {name} lies outside Kazakhstan (its extent is {bbox} in WGS 84). Check the "
              "coordinate reference system.",
    },
    "geotiff.partly_outside": {
        "kk": "{name} парағы Қазақстан шекарасынан шығады: оның {inside}% елдің ішінде. Парақ толық "
              "сақталды (карта парағы көршілес аумақты да көрсетеді).",
        "ru": "Лист {name} выходит за границу Казахстана: внутри страны {inside}% его площади. Лист "
              "сохранён целиком (лист карты показывает и соседнюю территорию).",
        "en": "The sheet {name} reaches beyond Kazakhstan's border: {inside}% of it lies inside. It is kept "
              "whole (a map sheet shows the neighbouring land too).",
    },
    "geotiff.bad_sheet": {
        "kk": "«{sheet}» парақ атауы жарамсыз: 1–200 әріп, сан, бос орын, «-», «_», «.» немесе жақша, "
              "нүктемен басталмайды.",
        "ru": "Недопустимое имя листа «{sheet}»: 1–200 букв, цифр, пробелов, «-», «_», «.» или скобок, "
              "не с точки.",
        "en": "The sheet name '{sheet}' is not allowed: 1–200 letters, digits, spaces, '-', '_', '.' or "
              "brackets, not starting with a dot.",
    },
}

# Status 413 (too large) for these, 422 for every other key above.
TOO_LARGE = frozenset({"upload.file_too_large", "archive.too_large", "archive.too_many_members", "archive.bomb",
                       "geotiff.too_many_pixels", "geotiff.too_many_sheets"})



def listing(items: list[Any], limit: int = 10) -> str:
    """The first items of a list for a note's text ("1, 4, 7, … (+120)"): a report stays small
    however many features a note is about."""
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + (f", … (+{len(items) - limit})" if len(items) > limit else "")


def note(key: str, **params: Any) -> dict[str, Any]:
    """A note of the upload report: its code and parameters, and the text in every language (the
    report is stored with the version and read later in any of them)."""
    texts = MESSAGES[key]
    return {"code": key, **params, "message": {lang: texts[lang].format(**params) for lang in LANGUAGES}}


def upload_error(key: str, file: str | None, *, feature: int | None = None, field: str | None = None,
                 **params: Any) -> UploadError:
    """An UploadError whose message can name the file (``{name}``), with the status for its key."""
    return UploadError(key, file=file, feature=feature, field=field,
                       status=413 if key in TOO_LARGE else 422, name=file or "", **params)
