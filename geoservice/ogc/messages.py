"""Messages of the OGC API layer (kk/ru/en)."""

from geoservice.i18n import register

register({
    "ogc.collection_not_found": {
        "en": "There is no collection '{collection}'.",
        "ru": "Коллекции '{collection}' нет.",
        "kk": "'{collection}' жинағы жоқ.",
    },
    "ogc.feature_not_found": {
        "en": "Collection '{collection}' has no feature '{feature}'.",
        "ru": "В коллекции '{collection}' нет объекта '{feature}'.",
        "kk": "'{collection}' жинағында '{feature}' нысаны жоқ.",
    },
    "ogc.bad_parameter": {
        "en": "Parameter '{parameter}' is not valid: {detail}.",
        "ru": "Параметр '{parameter}' указан неверно: {detail}.",
        "kk": "'{parameter}' параметрі қате: {detail}.",
    },
    "ogc.unknown_parameter": {
        "en": "Unknown query parameter '{parameter}'. Queryable properties of this collection: {known}.",
        "ru": "Неизвестный параметр запроса '{parameter}'. Доступные для запроса свойства: {known}.",
        "kk": "Белгісіз сұрау параметрі '{parameter}'. Сұрауға болатын қасиеттер: {known}.",
    },
    "ogc.crs_not_offered": {
        "en": "'{crs}' (parameter '{parameter}') is not offered. Offered: {offered}.",
        "ru": "Система координат '{crs}' (параметр '{parameter}') не поддерживается. Доступны: {offered}.",
        "kk": "'{crs}' координаттар жүйесі ('{parameter}' параметрі) қолдау көрсетілмейді. Қолжетімділері: {offered}.",
    },
    "ogc.not_acceptable": {
        "en": "Format '{format}' is not offered here; use json or html.",
        "ru": "Формат '{format}' здесь не поддерживается; используйте json или html.",
        "kk": "'{format}' пішімі мұнда қолдау көрсетілмейді; json немесе html қолданыңыз.",
    },
    # The HTML pages' own words (f=html); what they show of the resources comes from the JSON.
    "ogc.html.link": {"en": "link", "ru": "ссылка", "kk": "сілтеме"},
    "ogc.html.matched": {
        "en": "{matched} matched, {shown} shown.",
        "ru": "Найдено: {matched}, показано: {shown}.",
        "kk": "Табылды: {matched}, көрсетілді: {shown}.",
    },
    "ogc.html.conformance": {"en": "Conformance", "ru": "Соответствие стандартам", "kk": "Стандарттарға сәйкестік"},
    "ogc.html.api": {"en": "API definition", "ru": "Описание API", "kk": "API сипаттамасы"},
    "ogc.html.collections": {"en": "Collections", "ru": "Коллекции", "kk": "Жинақтар"},
    "ogc.html.queryables": {
        "en": "Queryables: {collection}",
        "ru": "Свойства для запросов: {collection}",
        "kk": "Сұрауға болатын қасиеттер: {collection}",
    },
})
