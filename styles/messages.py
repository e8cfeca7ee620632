"""Messages of the style endpoints (kk/ru/en)."""

MESSAGES: dict[str, dict[str, str]] = {
    "styles.not_found": {
        "en": "There is no style “{style}”.",
        "ru": "Стиль «{style}» не найден.",
        "kk": "«{style}» стилі табылмады.",
    },
    "styles.collection_not_found": {
        "en": "There is no collection “{collection}” with styles.",
        "ru": "Коллекция «{collection}» со стилями не найдена.",
        "kk": "Стильдері бар «{collection}» жинағы табылмады.",
    },
    "styles.bad_format": {
        "en": "The style is not available as “{format}”; use one of: {formats}.",
        "ru": "Стиль недоступен в формате «{format}»; используйте: {formats}.",
        "kk": "Стиль «{format}» пішімінде жоқ; мыналардың бірін қолданыңыз: {formats}.",
    },
    "styles.raster.scanned_map": {
        "en": "Scanned map, shown as it is",
        "ru": "Отсканированная карта, показана как есть",
        "kk": "Сканерленген карта, сол күйінде көрсетілген",
    },
    "styles.raster.ramp": {
        "en": "Values, {unit}",
        "ru": "Значения, {unit}",
        "kk": "Мәндер, {unit}",
    },
}
