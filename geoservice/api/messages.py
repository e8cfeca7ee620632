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
    "auth.sign_in_required": {
        "en": "Sign in to the cabinet with your digital signature first.",
        "ru": "Сначала войдите в кабинет с помощью ЭЦП.",
        "kk": "Алдымен кабинетке ЭЦҚ арқылы кіріңіз.",
    },
}
