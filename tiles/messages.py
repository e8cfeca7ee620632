"""Messages of the tile endpoints in Kazakh, Russian and English."""

MESSAGES: dict[str, dict[str, str]] = {
    "tiles.unknown_collection": {
        "en": "There is no collection “{collection}”. Collections with tiles: {known}.",
        "ru": "Коллекции «{collection}» нет. Коллекции с тайлами: {known}.",
        "kk": "«{collection}» жинағы жоқ. Тайлдары бар жинақтар: {known}.",
    },
    "tiles.unknown_tms": {
        "en": "Tile matrix set “{tms}” is not served. Available: {known}.",
        "ru": "Набор матриц тайлов «{tms}» не поддерживается. Доступны: {known}.",
        "kk": "«{tms}» тайл матрицалары жиынтығы қолданылмайды. Қолжетімдісі: {known}.",
    },
    "tiles.out_of_range": {
        "en": "Tile {z}/{y}/{x} does not exist in {tms}: the tile matrix must be 0–{max_zoom}, and at "
              "matrix {z} the row 0–{max_row} and the column 0–{max_col}.",
        "ru": "Тайла {z}/{y}/{x} нет в {tms}: матрица должна быть 0–{max_zoom}, а в матрице {z} строка "
              "0–{max_row} и столбец 0–{max_col}.",
        "kk": "{tms} жиынтығында {z}/{y}/{x} тайлы жоқ: матрица 0–{max_zoom} болуы керек, ал {z} "
              "матрицасында жол 0–{max_row}, баған 0–{max_col}.",
    },
    "tiles.tilejson_web_mercator_only": {
        "en": "TileJSON describes Web Mercator tiles only; use the WebMercatorQuad tileset, or the OGC "
              "tileset metadata for {tms}.",
        "ru": "TileJSON описывает только тайлы Web Mercator; используйте набор WebMercatorQuad или "
              "метаданные OGC набора тайлов {tms}.",
        "kk": "TileJSON тек Web Mercator тайлдарын сипаттайды; WebMercatorQuad жиынтығын немесе {tms} "
              "үшін OGC тайлдар жиынының метадеректерін пайдаланыңыз.",
    },
}
