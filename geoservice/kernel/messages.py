"""Messages of the kernel: the HTTP layer's own answers and bearer parsing (kk/ru/en)."""

MESSAGES: dict[str, dict[str, str]] = {
    # -- authorisation ---------------------------------------------------------------------
    "auth.required": {
        "en": "This needs an authority's token: send 'Authorization: Bearer <token>'.",
        "ru": "Требуется токен уполномоченного органа: передайте 'Authorization: Bearer <токен>'.",
        "kk": "Уәкілетті органның токені қажет: 'Authorization: Bearer <токен>' жіберіңіз.",
    },
    # -- settings --------------------------------------------------------------------------
    "settings.no_password": {
        "en": "GEOSERVICE_PRODUCTION is set and {variable} gives no database password: refusing to "
              "start. Set the password (see README, Production).",
        "ru": "Задан GEOSERVICE_PRODUCTION, а {variable} не содержит пароля базы данных: запуск "
              "отменён. Задайте пароль (см. README, Production).",
        "kk": "GEOSERVICE_PRODUCTION орнатылған, бірақ {variable} дерекқор құпиясөзін бермейді: іске "
              "қосудан бас тартылды. Құпиясөзді орнатыңыз (README, Production бөлімін қараңыз).",
    },
    # -- HTTP ------------------------------------------------------------------------------
    "http.not_found": {"en": "Not found.", "ru": "Не найдено.", "kk": "Табылмады."},
    "http.method_not_allowed": {"en": "Method not allowed.", "ru": "Метод не разрешён.",
                                "kk": "Әдіске рұқсат жоқ."},
    "http.bad_request": {"en": "Bad request: {detail}", "ru": "Неверный запрос: {detail}",
                         "kk": "Қате сұрау: {detail}"},
    "http.header_timeout": {
        "en": "The request line and headers did not arrive within {seconds} s.",
        "ru": "Строка запроса и заголовки не пришли за {seconds} с.",
        "kk": "Сұрау жолы мен тақырыптары {seconds} с ішінде келмеді.",
    },
    "http.header_too_large": {
        "en": "The request headers are larger than {limit_kb} kB.",
        "ru": "Заголовки запроса больше {limit_kb} КБ.",
        "kk": "Сұрау тақырыптары {limit_kb} КБ-тан үлкен.",
    },
    "http.body_too_large": {
        "en": "The request body is larger than the {limit_kb} kB this address takes.",
        "ru": "Тело запроса больше {limit_kb} КБ, допустимых для этого адреса.",
        "kk": "Сұрау денесі бұл мекенжайға рұқсат етілген {limit_kb} КБ-тан үлкен.",
    },
    "http.body_timeout": {
        "en": "The request body arrived too slowly: it may take {seconds} s, then must keep up at least "
              "{rate_kb} kB/s.",
        "ru": "Тело запроса приходило слишком медленно: допускается {seconds} с, далее не менее {rate_kb} КБ/с.",
        "kk": "Сұрау денесі тым баяу келді: {seconds} с рұқсат етіледі, одан кейін кемінде {rate_kb} КБ/с.",
    },
    "db.unavailable": {
        "en": "The database is not available at the moment (it may be restarting). Try again in {seconds} s.",
        "ru": "База данных сейчас недоступна (возможно, перезапускается). Повторите попытку через {seconds} с.",
        "kk": "Дерекқор қазір қолжетімсіз (қайта іске қосылып жатқан болуы мүмкін). {seconds} с кейін "
              "қайталап көріңіз.",
    },
    "http.rate_limited": {
        "en": "Too many requests from this address: {rate} a second on average, bursts of {burst} (expensive "
              "queries count more). Try again in {seconds} s; authorities' tokens are not limited.",
        "ru": "Слишком много запросов с этого адреса: в среднем {rate} в секунду, всплески до {burst} (дорогие "
              "запросы считаются за несколько). Повторите через {seconds} с; токены уполномоченных органов не "
              "ограничены.",
        "kk": "Бұл мекенжайдан сұраулар тым көп: орта есеппен секундына {rate}, бір мезетте {burst} дейін (қымбат "
              "сұраулар бірнешеу болып есептеледі). {seconds} с кейін қайталаңыз; уәкілетті органдардың "
              "токендері шектелмейді.",
    },
    "http.timeout": {
        "en": "The query ran longer than {limit} s and was stopped. Try again in {seconds} s, or narrow it "
              "(a smaller bbox, an equality on an indexed property).",
        "ru": "Запрос выполнялся дольше {limit} с и был остановлен. Повторите через {seconds} с или сузьте его "
              "(меньший bbox, равенство по индексированному свойству).",
        "kk": "Сұрау {limit} с артық орындалып, тоқтатылды. {seconds} с кейін қайталаңыз немесе оны тарылтыңыз "
              "(кішірек bbox, индекстелген қасиет бойынша теңдік).",
    },
    "http.internal": {
        "en": "Internal error; it has been logged. Nothing was changed.",
        "ru": "Внутренняя ошибка; она записана в журнал. Ничего не изменено.",
        "kk": "Ішкі қате; ол журналға жазылды. Ештеңе өзгертілген жоқ.",
    },
}
