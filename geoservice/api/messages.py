"""Messages of the /api routes, health checks and the request body limit (kk/ru/en)."""

MESSAGES: dict[str, dict[str, str]] = {
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
    "upload.busy": {
        "en": "{uploads} uploads are already in progress on this server. Try again in {seconds} s.",
        "ru": "На этом сервере уже идут {uploads} загрузки. Повторите попытку через {seconds} с.",
        "kk": "Бұл серверде {uploads} жүктеу орындалып жатыр. {seconds} с кейін қайталап көріңіз.",
    },
    "health.database_down": {
        "en": "Not ready: the database does not answer. Try again in {seconds} s.",
        "ru": "Сервис не готов: база данных не отвечает. Повторите попытку через {seconds} с.",
        "kk": "Қызмет дайын емес: дерекқор жауап бермейді. {seconds} с кейін қайталап көріңіз.",
    },
    "health.registry_not_loaded": {
        "en": "Not ready: the list of served layers has not been loaded yet. Try again in {seconds} s.",
        "ru": "Сервис не готов: список публикуемых слоёв ещё не загружен. Повторите попытку через {seconds} с.",
        "kk": "Қызмет дайын емес: жарияланатын қабаттар тізімі әлі жүктелген жоқ. {seconds} с кейін "
              "қайталап көріңіз.",
    },
    # --- signed documents (geoservice/api/documents.py) ---
    "documents.no_file": {
        "en": "Send the document as the multipart field 'file'.",
        "ru": "Передайте документ в поле формы 'file' (multipart).",
        "kk": "Құжатты 'file' (multipart) өрісінде жіберіңіз.",
    },
    "documents.request_too_large": {
        "en": "The request is larger than the limit of {limit_mb} MB for a document with its signatures.",
        "ru": "Запрос больше допустимых {limit_mb} МБ для документа с подписями.",
        "kk": "Сұрау қолтаңбалары бар құжатқа рұқсат етілген {limit_mb} МБ-тан үлкен.",
    },
    "documents.bad_limit": {
        "en": "The parameter 'limit' must be a whole number from 1 to {max}.",
        "ru": "Параметр 'limit' должен быть целым числом от 1 до {max}.",
        "kk": "'limit' параметрі 1-ден {max}-ге дейінгі бүтін сан болуы керек.",
    },
    "documents.bad_cursor": {
        "en": "The parameter 'cursor' must be the 'next' value of a previous page.",
        "ru": "Параметр 'cursor' должен быть значением 'next' предыдущей страницы.",
        "kk": "'cursor' параметрі алдыңғы беттің 'next' мәні болуы керек.",
    },
    # -- GET /api/journal ---------------------------------------------------------------------
    "journal.bad_time": {
        "en": "Parameter '{parameter}': '{value}' is not an RFC 3339 date-time with an offset "
              "(for example 2025-03-01T09:30:00Z or 2025-03-01T14:30:00+05:00).",
        "ru": "Параметр '{parameter}': '{value}' не является датой-временем по RFC 3339 со смещением "
              "(например, 2025-03-01T09:30:00Z или 2025-03-01T14:30:00+05:00).",
        "kk": "'{parameter}' параметрі: '{value}' ығысуы бар RFC 3339 күн-уақыты емес "
              "(мысалы, 2025-03-01T09:30:00Z немесе 2025-03-01T14:30:00+05:00).",
    },
    "journal.bad_range": {
        "en": "The time range is reversed: 'from' ({start}) is after 'to' ({end}).",
        "ru": "Интервал времени перевёрнут: 'from' ({start}) позже, чем 'to' ({end}).",
        "kk": "Уақыт аралығы керісінше: 'from' ({start}) 'to' ({end}) мәнінен кейін.",
    },
    "journal.bad_limit": {
        "en": "Parameter 'limit': '{value}' is not a whole number from 1 to {max}.",
        "ru": "Параметр 'limit': '{value}' не является целым числом от 1 до {max}.",
        "kk": "'limit' параметрі: '{value}' 1-ден {max}-ге дейінгі бүтін сан емес.",
    },
    "journal.bad_after": {
        "en": "Parameter 'after': '{value}' is not a row number (use the 'next' link of the previous page).",
        "ru": "Параметр 'after': '{value}' не является номером строки (используйте ссылку 'next' "
              "предыдущей страницы).",
        "kk": "'after' параметрі: '{value}' жол нөмірі емес (алдыңғы беттің 'next' сілтемесін пайдаланыңыз).",
    },
    "journal.bad_format": {
        "en": "Parameter 'f': '{value}' is not a format of the journal: use 'json' or 'csv'.",
        "ru": "Параметр 'f': '{value}' не является форматом журнала: используйте 'json' или 'csv'.",
        "kk": "'f' параметрі: '{value}' журнал пішімі емес: 'json' немесе 'csv' қолданыңыз.",
    },
    "auth.sign_in_required": {
        "en": "Sign in to the cabinet with your digital signature first.",
        "ru": "Сначала войдите в кабинет с помощью ЭЦП.",
        "kk": "Алдымен кабинетке ЭЦҚ арқылы кіріңіз.",
    },
    "signin.demo_sign_bad_data": {
        "en": "The body must be a JSON object with 'data': the bytes to sign in base64 (at most 1 MB).",
        "ru": "Тело запроса должно быть JSON-объектом с полем 'data': подписываемые байты в base64 (не более 1 МБ).",
        "kk": "Сұраныс денесі 'data' өрісі бар JSON-нысан болуы керек: қол қойылатын байттар base64 түрінде "
              "(1 МБ-тан аспайды).",
    },
    "signin.demo_no_signing_key": {
        "en": "The demo has no signing key for IIN {iin}: sign with NCALayer.",
        "ru": "В демо нет ключа подписи для ИИН {iin}: подпишите через NCALayer.",
        "kk": "Демода {iin} ЖСН үшін қол қою кілті жоқ: NCALayer арқылы қол қойыңыз.",
    },
}

# Analytics for the authorities (issue 11, geoservice/api/analytics.py).
MESSAGES.update({
    "analytics.unknown_chart": {
        "en": "There is no chart {chart}; the charts are: {known} (add .csv or .xlsx for a file).",
        "ru": "Диаграммы {chart} нет; есть: {known} (добавьте .csv или .xlsx, чтобы получить файл).",
        "kk": "{chart} диаграммасы жоқ; барлары: {known} (файл алу үшін .csv немесе .xlsx қосыңыз).",
    },
    "analytics.bad_filter": {
        "en": "The filter {parameter} cannot be '{value}'.",
        "ru": "Фильтр {parameter} не может иметь значение '{value}'.",
        "kk": "{parameter} сүзгісінің мәні '{value}' бола алмайды.",
    },
    "analytics.bad_range": {
        "en": "The range begins ({since}) after it ends ({until}).",
        "ru": "Начало периода ({since}) позже его конца ({until}).",
        "kk": "Кезеңнің басы ({since}) оның соңынан ({until}) кейін.",
    },
    "analytics.too_many_periods": {
        "en": "The range has {periods} periods; at most {limit} are shown: narrow it or choose years.",
        "ru": "В периоде {periods} интервалов; показывается не более {limit}: сузьте период или выберите годы.",
        "kk": "Кезеңде {periods} аралық бар; ең көбі {limit} көрсетіледі: кезеңді тарылтыңыз немесе жылдарды таңдаңыз.",
    },
    "analytics.regions_source": {
        "en": "Regions: amCharts geodata (linkware licence), names by geoservice",
        "ru": "Регионы: геоданные amCharts (лицензия linkware), названия — geoservice",
        "kk": "Өңірлер: amCharts геодеректері (linkware лицензиясы), атаулары — geoservice",
    },
})
