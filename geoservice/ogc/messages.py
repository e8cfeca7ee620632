"""Messages of the OGC API layer and its CQL2 filters (kk/ru/en)."""

MESSAGES: dict[str, dict[str, str]] = {
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
    # Values that no query can use: refused with the parameter named, never passed on to the database.
    "ogc.integer_out_of_range": {
        "en": "Parameter '{parameter}': {value} is not an integer from {low} to {high}.",
        "ru": "Параметр '{parameter}': {value} не является целым числом от {low} до {high}.",
        "kk": "'{parameter}' параметрі: {value} мәні {low} мен {high} аралығындағы бүтін сан емес.",
    },
    "ogc.not_finite": {
        "en": "Parameter '{parameter}': {value} is not a finite number.",
        "ru": "Параметр '{parameter}': {value} не является конечным числом.",
        "kk": "'{parameter}' параметрі: {value} мәні шектеулі сан емес.",
    },
    "ogc.bad_text": {
        "en": "Parameter '{parameter}' contains the NUL character or an invalid character, which no stored "
              "text can hold.",
        "ru": "Параметр '{parameter}' содержит символ NUL или недопустимый символ, которого не может быть "
              "ни в одном хранимом тексте.",
        "kk": "'{parameter}' параметрінде NUL таңбасы немесе жарамсыз таңба бар, сақталған ешбір мәтінде "
              "ондай таңба болмайды.",
    },
    "ogc.bad_cursor": {
        "en": "Parameter 'cursor' is not a cursor of this service's next/prev links (it is damaged, made by "
              "hand or made for another sort order); follow the links of the previous page.",
        "ru": "Параметр 'cursor' не является курсором из ссылок next/prev этого сервиса (он повреждён, "
              "составлен вручную или относится к другому порядку сортировки); переходите по ссылкам "
              "предыдущей страницы.",
        "kk": "'cursor' параметрі осы сервистің next/prev сілтемелеріндегі курсор емес (ол бүлінген, қолмен "
              "жасалған немесе басқа сұрыптау ретіне арналған); алдыңғы беттің сілтемелерін пайдаланыңыз.",
    },
    "ogc.bbox_not_finite": {
        "en": "Parameter 'bbox': every coordinate must be a finite number.",
        "ru": "Параметр 'bbox': каждая координата должна быть конечным числом.",
        "kk": "'bbox' параметрі: әр координата шектеулі сан болуы керек.",
    },
    "ogc.bbox_outside_crs": {
        "en": "Parameter 'bbox': {value} lies outside the area where {crs} (parameter 'bbox-crs') is defined; "
              "its axis {axis} runs from {low} to {high}.",
        "ru": "Параметр 'bbox': {value} лежит вне области определения {crs} (параметр 'bbox-crs'); "
              "ось {axis} в ней идёт от {low} до {high}.",
        "kk": "'bbox' параметрі: {value} мәні {crs} ('bbox-crs' параметрі) анықталған аймақтан тыс; "
              "оның {axis}-осі {low} мен {high} аралығында.",
    },
    "ogc.bad_datetime": {
        "en": "Parameter 'datetime': '{value}' is not an RFC 3339 date, date-time or interval (for example "
              "2020-01-01, 2020-01-01T10:00:00Z, 2019-01-01/2020-12-31, 2019-01-01/.., ../2020-12-31).",
        "ru": "Параметр 'datetime': '{value}' не является датой, датой-временем или интервалом по RFC 3339 "
              "(например, 2020-01-01, 2020-01-01T10:00:00Z, 2019-01-01/2020-12-31, 2019-01-01/.., "
              "../2020-12-31).",
        "kk": "'datetime' параметрі: '{value}' RFC 3339 бойынша күн, күн-уақыт немесе аралық емес "
              "(мысалы, 2020-01-01, 2020-01-01T10:00:00Z, 2019-01-01/2020-12-31, 2019-01-01/.., "
              "../2020-12-31).",
    },
    "ogc.datetime_reversed": {
        "en": "Parameter 'datetime': the interval ends ({end}) before it starts ({start}).",
        "ru": "Параметр 'datetime': интервал заканчивается ({end}) раньше, чем начинается ({start}).",
        "kk": "'datetime' параметрі: аралық басталуынан ({start}) бұрын аяқталады ({end}).",
    },
    "ogc.busy": {
        "en": "Too many expensive queries are running ({budget} at a time); try again in {seconds} s, or narrow "
              "this one so that an index serves it (a small bbox, an equality on an indexed property). Why it is "
              "expensive: {reasons}.",
        "ru": "Сейчас выполняется слишком много дорогих запросов (не более {budget} одновременно); повторите через "
              "{seconds} с или сузьте запрос так, чтобы его обслуживал индекс (небольшой bbox, равенство по "
              "индексированному свойству). Почему он дорогой: {reasons}.",
        "kk": "Қазір қымбат сұраулар тым көп орындалуда (бір мезетте {budget} артық емес); {seconds} с кейін "
              "қайталаңыз немесе сұрауды индекс қызмет ететіндей тарылтыңыз (шағын bbox, индекстелген қасиет "
              "бойынша теңдік). Неге қымбат: {reasons}.",
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
    "cql2.invalid": {
        "en": "The filter is not valid CQL2: {detail}",
        "ru": "Фильтр не является корректным CQL2: {detail}",
        "kk": "Сүзгі дұрыс CQL2 емес: {detail}",
    },
    "cql2.syntax": {
        "en": "The filter is not valid CQL2 text: unexpected {found} at position {position} (near \"{near}\"). "
              "Expected: {expected}.",
        "ru": "Фильтр не является корректным текстом CQL2: неожиданно {found} в позиции {position} "
              "(рядом с \"{near}\"). Ожидалось: {expected}.",
        "kk": "Сүзгі дұрыс CQL2 мәтіні емес: {position}-орында күтілмеген {found} (\"{near}\" маңында). "
              "Күтілгені: {expected}.",
    },
    "cql2.bad_json": {
        "en": "The filter is not valid CQL2 JSON: {detail}",
        "ru": "Фильтр не является корректным CQL2 JSON: {detail}",
        "kk": "Сүзгі дұрыс CQL2 JSON емес: {detail}",
    },
    "cql2.unknown_property": {
        "en": "The filter uses '{name}', which is not a queryable property of this collection. Queryables: {known}.",
        "ru": "Фильтр использует '{name}', но такого свойства для запросов у коллекции нет. "
              "Доступные свойства: {known}.",
        "kk": "Сүзгіде '{name}' қолданылған, бірақ жинақта сұрауға болатын мұндай қасиет жоқ. "
              "Қолжетімді қасиеттер: {known}.",
    },
    "cql2.type_mismatch": {
        "en": "The filter compares {left} ({left_type}) with {right} ({right_type}) in `{where}`; "
              "the types do not match.",
        "ru": "Фильтр сравнивает {left} ({left_type}) с {right} ({right_type}) в `{where}`; типы не совпадают.",
        "kk": "Сүзгі `{where}` ішінде {left} ({left_type}) мәнін {right} ({right_type}) мәнімен салыстырады; "
              "түрлері сәйкес емес.",
    },
    "cql2.unsupported": {
        "en": "The filter uses {what}, which this server does not support.",
        "ru": "Фильтр использует {what}, что этот сервер не поддерживает.",
        "kk": "Сүзгіде {what} қолданылған, бұл сервер оны қолдамайды.",
    },
    "cql2.bad_geometry": {
        "en": "A geometry in the filter is not valid: {detail}",
        "ru": "Геометрия в фильтре некорректна: {detail}",
        "kk": "Сүзгідегі геометрия дұрыс емес: {detail}",
    },
    "cql2.bad_lang": {
        "en": "filter-lang '{value}' is not supported; use cql2-text or cql2-json.",
        "ru": "filter-lang '{value}' не поддерживается; используйте cql2-text или cql2-json.",
        "kk": "filter-lang '{value}' қолдау көрсетілмейді; cql2-text немесе cql2-json қолданыңыз.",
    },
    "cql2.bad_text": {
        "en": "The filter's text {value} contains the NUL character or an invalid character, which no stored "
              "value can hold.",
        "ru": "Текст {value} в фильтре содержит символ NUL или недопустимый символ, которого не может быть ни в "
              "одном хранимом значении.",
        "kk": "Сүзгідегі {value} мәтінінде NUL таңбасы немесе жарамсыз таңба бар, сақталған ешбір мәнде ондай "
              "таңба болмайды.",
    },
    "cql2.too_complex": {
        "en": "The filter is too large or too deeply nested ({detail}).",
        "ru": "Фильтр слишком большой или слишком глубоко вложен ({detail}).",
        "kk": "Сүзгі тым үлкен немесе тым терең кірістірілген ({detail}).",
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
}
