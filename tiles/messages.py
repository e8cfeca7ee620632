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
    # Raster layers (tiles/rasters.py, served by geoservice/ogc/rasters.py).
    "tiles.raster.unknown_collection": {
        "en": "There is no raster collection “{collection}”. Raster collections: {known}.",
        "ru": "Растровой коллекции «{collection}» нет. Растровые коллекции: {known}.",
        "kk": "«{collection}» растрлық жинағы жоқ. Растрлық жинақтар: {known}.",
    },
    "tiles.raster.bad_format": {
        "en": "Map tiles are not made as “{format}”; use one of: {formats}.",
        "ru": "Тайлы карты не выдаются в формате «{format}»; используйте: {formats}.",
        "kk": "Карта тайлдары «{format}» пішімінде берілмейді; мыналардың бірін қолданыңыз: {formats}.",
    },
    "tiles.raster.unknown_parameter": {
        "en": "Unknown parameter “{parameter}”; known: {known}.",
        "ru": "Неизвестный параметр «{parameter}»; допустимы: {known}.",
        "kk": "«{parameter}» параметрі белгісіз; рұқсат етілгендері: {known}.",
    },
    "tiles.raster.bad_bbox": {
        "en": "bbox “{value}” is not four numbers minx,miny,maxx,maxy with minx < maxx and miny < maxy "
              "inside {crs}.",
        "ru": "bbox «{value}» — не четыре числа minx,miny,maxx,maxy с minx < maxx и miny < maxy "
              "в пределах {crs}.",
        "kk": "bbox «{value}» — {crs} шегіндегі minx < maxx және miny < maxy болатын minx,miny,maxx,maxy "
              "төрт саны емес.",
    },
    "tiles.raster.bad_crs": {
        "en": "bbox-crs “{crs}” is not offered; use one of: {known}.",
        "ru": "bbox-crs «{crs}» не поддерживается; используйте: {known}.",
        "kk": "bbox-crs «{crs}» қолданылмайды; мыналардың бірін қолданыңыз: {known}.",
    },
    "tiles.raster.bad_size": {
        "en": "{parameter} must be a whole number from 1 to {max}, not “{value}”.",
        "ru": "{parameter} должен быть целым числом от 1 до {max}, а не «{value}».",
        "kk": "{parameter} 1-ден {max}-ге дейінгі бүтін сан болуы керек, «{value}» емес.",
    },
    "tiles.raster.bad_subset": {
        "en": "subset “{value}” is not understood: give Lon(low:high) and/or Lat(low:high) in degrees (CRS84), "
              "low < high, “*” for the layer's own edge; not together with bbox.",
        "ru": "subset «{value}» не распознан: укажите Lon(мин:макс) и/или Lat(мин:макс) в градусах (CRS84), "
              "мин < макс, «*» — граница слоя; не вместе с bbox.",
        "kk": "subset «{value}» түсініксіз: Lon(төмен:жоғары) және/немесе Lat(төмен:жоғары) градуспен (CRS84) "
              "беріңіз, төмен < жоғары, «*» — қабаттың өз шеті; bbox-пен бірге емес.",
    },
    "tiles.raster.bad_scale": {
        "en": "{parameter} “{value}” is not understood: scale-size is Lon(width),Lat(height) in pixels, "
              "scale-factor a number above 0.",
        "ru": "{parameter} «{value}» не распознан: scale-size — Lon(ширина),Lat(высота) в пикселях, "
              "scale-factor — число больше 0.",
        "kk": "{parameter} «{value}» түсініксіз: scale-size — пиксельмен Lon(ені),Lat(биіктігі), "
              "scale-factor — 0-ден үлкен сан.",
    },
    "tiles.raster.too_large": {
        "en": "The coverage would be {width} × {height} pixels; at most {max_side} on a side and {max_pixels} "
              "pixels in all. Ask for a smaller bbox, width or height.",
        "ru": "Покрытие составило бы {width} × {height} пикселей; допустимо не более {max_side} по стороне "
              "и {max_pixels} пикселей всего. Запросите меньший bbox, width или height.",
        "kk": "Қамту {width} × {height} пиксель болар еді; бір жағы {max_side}-ден, барлығы {max_pixels} "
              "пиксельден аспауы керек. Кішірек bbox, width немесе height сұраңыз.",
    },
    "tiles.raster.no_data": {
        "en": "The layer “{collection}” has no data in this area.",
        "ru": "В слое «{collection}» нет данных в этой области.",
        "kk": "«{collection}» қабатында бұл аумақта деректер жоқ.",
    },
    "tiles.raster.bad_point": {
        "en": "lon and lat must be degrees (lon −180…180, lat −90…90), not “{lon}”, “{lat}”.",
        "ru": "lon и lat должны быть в градусах (lon −180…180, lat −90…90), а не «{lon}», «{lat}».",
        "kk": "lon және lat градуспен берілуі керек (lon −180…180, lat −90…90), «{lon}», «{lat}» емес.",
    },
    "tiles.raster.no_value": {
        "en": "The layer “{collection}” has no data at lon {lon}, lat {lat}.",
        "ru": "В слое «{collection}» нет данных в точке lon {lon}, lat {lat}.",
        "kk": "«{collection}» қабатында lon {lon}, lat {lat} нүктесінде деректер жоқ.",
    },
}
