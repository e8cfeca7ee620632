"""Messages of the public map viewer (kk/ru/en)."""

MESSAGES: dict[str, dict[str, str]] = {
    "viewer.search_empty": {
        "en": "Enter a block code such as M-42-1-(10а-5а-1) or a list of blocks.",
        "ru": "Введите код блока, например M-42-1-(10а-5а-1), или список блоков.",
        "kk": "Блок кодын, мысалы M-42-1-(10а-5а-1), немесе блоктар тізімін енгізіңіз.",
    },
    "viewer.search_too_many": {
        "en": "The list names {count} blocks; at most {limit} can be shown at once.",
        "ru": "В списке {count} блоков; показать можно не более {limit} сразу.",
        "kk": "Тізімде {count} блок бар; бір мезгілде ең көбі {limit} блок көрсетуге болады.",
    },
    "viewer.bad_bbox": {
        "en": "bbox must be west,south,east,north in degrees, west < east and south < north.",
        "ru": "bbox должен быть в виде запад,юг,восток,север в градусах, запад < восток и юг < север.",
        "kk": "bbox батыс,оңтүстік,шығыс,солтүстік түрінде градуспен берілуі керек, "
              "батыс < шығыс, оңтүстік < солтүстік.",
    },
    "viewer.too_many_lines": {
        "en": "A graticule with step {step}° over this bbox would have {count} lines; at most {limit}.",
        "ru": "Сетка с шагом {step}° в этом bbox содержала бы {count} линий; допустимо не более {limit}.",
        "kk": "Осы bbox ішінде {step}° қадаммен тор {count} сызықтан тұрар еді; ең көбі {limit}.",
    },
    "viewer.not_found": {
        "en": "No such file.", "ru": "Такого файла нет.", "kk": "Мұндай файл жоқ.",
    },
}
