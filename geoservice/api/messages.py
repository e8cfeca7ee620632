"""Messages of the /api routes and the request body limit (kk/ru/en)."""

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
}
