"""The layer catalog: every layer the store knows, its names in kk/ru/en, who may write it, its
geometry type and its typed attributes. Everything else (table DDL, column matching on upload,
queryables, styles) is derived from here, so a new attribute is declared once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

AttrType = Literal["text", "integer", "number", "date", "boolean"]

SQL_TYPES: dict[str, str] = {
    "text": "text", "integer": "bigint", "number": "double precision", "date": "date",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Names:
    kk: str
    ru: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"kk": self.kk, "ru": self.ru, "en": self.en}


@dataclass(frozen=True)
class Choice:
    """An allowed value of an enumerated attribute; uploads may use any of its labels."""

    value: str
    names: Names
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttrType
    names: Names
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    default: str | None = None
    # Attributes whose value stands in where a feature has none (authorities' attribute lists
    # often have no name, but always an id or a report reference); the first non-empty wins.
    fallback: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Authority:
    id: str
    names: Names


@dataclass(frozen=True)
class Layer:
    id: str
    names: Names
    # Polygons only: validation, the store, tiles and styles are written for areas. A layer of
    # lines or points needs them all extended first, so the catalog does not offer it.
    geometry_type: Literal["MultiPolygon"]
    attributes: tuple[Attribute, ...]
    writers: frozenset[str] = frozenset()
    key: str | None = None              # attribute whose value is the stable feature id
    temporal: tuple[str, str] | None = None  # (start, end) attributes, for datetime filters
    uploadable: bool = True
    block_list: str | None = None       # attribute holding a nomenclature block list
    access: str | None = None           # attribute holding the feature's access level

    def attribute(self, name: str) -> Attribute:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        raise KeyError(name)


def normalise(label: str) -> str:
    """Column and value labels compare case-, space- and punctuation-insensitively."""
    return re.sub(r"[\s_\-.]+", "", label.strip().casefold()).replace("ё", "е")


# --- Authorities -----------------------------------------------------------------------------

AUTHORITIES: dict[str, Authority] = {a.id: a for a in (
    Authority("operator", Names("Ұлттық геологиялық оператор", "Национальный геологический оператор",
                                "National geological operator")),
    Authority("solid-minerals", Names("Қатты пайдалы қазбалар жөніндегі уәкілетті орган",
                                      "Уполномоченный орган в области твёрдых полезных ископаемых",
                                      "Authorised body for solid minerals")),
    Authority("hydrocarbons", Names("Көмірсутектер жөніндегі уәкілетті орган",
                                    "Уполномоченный орган в области углеводородов",
                                    "Authorised body for hydrocarbons")),
    Authority("akimat", Names("Жергілікті атқарушы орган (әкімдік)", "Местный исполнительный орган (акимат)",
                              "Local executive body (akimat)")),
    Authority("environment", Names("Қоршаған ортаны қорғау саласындағы уәкілетті орган",
                                   "Уполномоченный орган в области охраны окружающей среды",
                                   "Authorised body for environmental protection")),
)}


# --- Attributes used by several layers -------------------------------------------------------

def _name_attr(fallback: tuple[str, ...], required: bool = True) -> Attribute:
    return Attribute("name", "text", Names("Атауы", "Наименование", "Name"), required=required,
                     aliases=("name", "наименование", "название", "атауы", "атау", "name_ru", "title"),
                     fallback=fallback)


ACCESS_LEVEL = Attribute(
    "access_level", "text", Names("Қолжетімділік деңгейі", "Уровень доступа", "Access level"),
    default="public", aliases=("access", "доступ", "уровень доступа", "гриф", "қолжетімділік"),
    choices=(
        Choice("public", Names("Ашық", "Открытый", "Public"), ("открытая", "общедоступный", "ашық")),
        Choice("official-use", Names("Қызмет бабында пайдалану үшін", "Для служебного пользования",
                                     "Official use"), ("дсп", "для служебного пользования", "қбп")),
        Choice("confidential", Names("Құпия", "Конфиденциально", "Confidential"),
               ("конфиденциальный", "конфиденциально", "құпия")),
    ),
)

# --- Layers ----------------------------------------------------------------------------------

BLOCKS = Layer(
    id="blocks",
    names=Names("Жер қойнауы блоктары", "Блоки недр", "Subsoil blocks"),
    geometry_type="MultiPolygon",
    uploadable=False,
    key="code",
    attributes=(
        Attribute("code", "text", Names("Блок коды", "Код блока", "Block code"), required=True),
        Attribute("sheet", "text", Names("1:1 000 000 парағы", "Лист 1:1 000 000", "1:1,000,000 sheet")),
        Attribute("sheet100k", "text", Names("1:100 000 парағы", "Лист 1:100 000", "1:100,000 sheet")),
    ),
)

SUBSOIL_PLOTS = Layer(
    id="subsoil-plots",
    names=Names("Жер қойнауы учаскелері", "Участки недр", "Subsoil plots"),
    geometry_type="MultiPolygon",
    writers=frozenset({"operator", "solid-minerals", "hydrocarbons", "akimat"}),
    key="plot_id",
    block_list="blocks",
    temporal=("valid_from", "valid_to"),
    attributes=(
        Attribute("plot_id", "text", Names("Учаске нөмірі", "Номер участка", "Plot id"),
                  aliases=("id", "plot", "номер", "номер участка", "учаске", "код участка")),
        _name_attr(fallback=("plot_id",)),
        Attribute("kind", "text", Names("Учаске түрі", "Вид участка", "Plot kind"), required=True,
                  aliases=("type", "вид", "тип", "түрі"),
                  choices=(
                      Choice("hydrocarbon", Names("Көмірсутектер учаскесі", "Участок углеводородов",
                                                  "Hydrocarbon plot"), ("углеводороды", "ув", "көмірсутектер")),
                      Choice("mining-allotment", Names("Тау-кен бөлуі", "Горный отвод", "Mining allotment"),
                             ("горный отвод", "тау-кен бөлуі")),
                      Choice("exploration", Names("Барлау учаскесі", "Участок разведки", "Exploration plot"),
                             ("разведка", "барлау")),
                      Choice("fund-area", Names("Мемлекеттік қор бағдарламасының аумағы",
                                                "Участок программы управления госфондом недр",
                                                "State subsoil fund programme area"),
                             ("госфонд", "программа", "фонд", "open area")),
                      Choice("common-minerals", Names("Кең таралған пайдалы қазбалар учаскесі",
                                                      "Участок общераспространённых полезных ископаемых",
                                                      "Common minerals plot"), ("опи", "общераспространенные")),
                  )),
        Attribute("status", "text", Names("Мәртебесі", "Статус", "Status"), default="open",
                  aliases=("статус", "мәртебе", "состояние"),
                  choices=(
                      Choice("open", Names("Ашық", "Открыт", "Open"), ("свободен", "открыт", "бос")),
                      Choice("applied", Names("Өтінім берілген", "Подана заявка", "Applied for"), ("заявка",)),
                      Choice("auction", Names("Аукционда", "На аукционе", "At auction"), ("аукцион",)),
                      Choice("licensed", Names("Лицензияланған", "Лицензирован", "Licensed"),
                             ("лицензия", "занят", "лицензиясы бар")),
                      Choice("reserved", Names("Резервте", "Зарезервирован", "Reserved"), ("резерв",)),
                  )),
        Attribute("mineral", "text", Names("Пайдалы қазба", "Полезное ископаемое", "Mineral"),
                  aliases=("полезное ископаемое", "пи", "минерал", "пайдалы қазба")),
        Attribute("licence_number", "text", Names("Лицензия нөмірі", "Номер лицензии", "Licence number"),
                  aliases=("licence", "license", "лицензия", "номер лицензии", "лицензия нөмірі")),
        Attribute("holder", "text", Names("Жер қойнауын пайдаланушы", "Недропользователь", "Holder"),
                  aliases=("недропользователь", "владелец", "пайдаланушы")),
        Attribute("blocks", "text", Names("Блоктар", "Блоки", "Blocks"),
                  aliases=("блоки", "блоктар", "block list", "список блоков")),
        Attribute("valid_from", "date", Names("Басталу күні", "Действует с", "Valid from"),
                  aliases=("date_from", "дата начала", "с", "start")),
        Attribute("valid_to", "date", Names("Аяқталу күні", "Действует по", "Valid to"),
                  aliases=("date_to", "дата окончания", "по", "end")),
    ),
)

RESTRICTION_ZONES = Layer(
    id="restriction-zones",
    names=Names("Шектеу аймақтары", "Зоны ограничений", "Restriction zones"),
    geometry_type="MultiPolygon",
    writers=frozenset({"operator", "environment", "akimat"}),
    key="zone_id",
    temporal=("valid_from", "valid_to"),
    attributes=(
        Attribute("zone_id", "text", Names("Аймақ нөмірі", "Номер зоны", "Zone id"),
                  aliases=("id", "номер", "номер зоны", "код")),
        _name_attr(fallback=("zone_id",)),
        Attribute("kind", "text", Names("Аймақ түрі", "Вид зоны", "Zone kind"), required=True,
                  aliases=("type", "вид", "тип", "түрі"),
                  choices=(
                      Choice("protected-area", Names("Ерекше қорғалатын табиғи аумақ",
                                                     "Особо охраняемая природная территория", "Protected area"),
                             ("оопт", "заповедник", "қорық", "protected")),
                      Choice("settlement", Names("Елді мекен", "Населённый пункт", "Settlement"),
                             ("нп", "населенный пункт", "елді мекен", "город")),
                      Choice("water-protection", Names("Су қорғау аймағы", "Водоохранная зона",
                                                       "Water-protection zone"),
                             ("водоохранная зона", "су қорғау", "water protection")),
                      Choice("military-range", Names("Әскери полигон", "Военный полигон", "Military range"),
                             ("полигон", "военный полигон", "military")),
                      Choice("other", Names("Басқа", "Иное", "Other"), ("иное", "прочее", "басқа")),
                  )),
        Attribute("regime", "text", Names("Режим", "Режим", "Regime"), required=True,
                  aliases=("режим", "режимі"),
                  choices=(
                      Choice("prohibited", Names("Тыйым салынған", "Запрещено", "Prohibited"),
                             ("запрет", "запрещено", "запрещён", "тыйым")),
                      Choice("conditional", Names("Шартты", "Условно разрешено", "Conditional"),
                             ("условно", "условный", "с согласованием", "шартты")),
                  )),
        Attribute("basis", "text", Names("Негіздеме", "Основание", "Legal basis"),
                  aliases=("основание", "акт", "негіздеме")),
        Attribute("valid_from", "date", Names("Басталу күні", "Действует с", "Valid from"),
                  aliases=("date_from", "дата начала", "start")),
        Attribute("valid_to", "date", Names("Аяқталу күні", "Действует по", "Valid to"),
                  aliases=("date_to", "дата окончания", "end")),
    ),
)

GEOLOGICAL_STUDIES = Layer(
    id="geological-studies",
    names=Names("Геологиялық зерттеулер", "Геологическая изученность", "Geological studies"),
    geometry_type="MultiPolygon",
    writers=frozenset({"operator", "solid-minerals", "hydrocarbons"}),
    key="study_id",
    temporal=("year_start", "year_end"),
    access="access_level",
    attributes=(
        Attribute("study_id", "text", Names("Зерттеу нөмірі", "Номер работы", "Study id"),
                  aliases=("id", "номер", "инв", "инвентарный номер")),
        _name_attr(fallback=("report_ref", "study_id")),
        Attribute("study_type", "text", Names("Зерттеу түрі", "Вид работ", "Study type"), required=True,
                  aliases=("type", "вид работ", "вид", "тип", "түрі"),
                  choices=(
                      Choice("geological-survey", Names("Геологиялық түсіру", "Геологическая съёмка",
                                                        "Geological survey"), ("геологическая съемка", "съемка")),
                      Choice("geophysical", Names("Геофизикалық", "Геофизические работы", "Geophysical"),
                             ("геофизика", "геофизические")),
                      Choice("geochemical", Names("Геохимиялық", "Геохимические работы", "Geochemical"),
                             ("геохимия", "геохимические")),
                      Choice("exploration", Names("Барлау", "Разведка", "Exploration"), ("разведка", "барлау")),
                      Choice("hydrogeological", Names("Гидрогеологиялық", "Гидрогеологические работы",
                                                      "Hydrogeological"), ("гидрогеология",)),
                      Choice("other", Names("Басқа", "Иное", "Other"), ("иное", "прочее")),
                  )),
        Attribute("year_start", "integer", Names("Басталған жылы", "Год начала", "Start year"), required=True,
                  aliases=("year", "год", "год начала", "жыл", "from")),
        Attribute("year_end", "integer", Names("Аяқталған жылы", "Год окончания", "End year"),
                  aliases=("год окончания", "to")),
        Attribute("organisation", "text", Names("Ұйым", "Организация", "Organisation"),
                  aliases=("organization", "организация", "исполнитель", "ұйым")),
        Attribute("report_ref", "text", Names("Есепке сілтеме", "Отчёт", "Report reference"),
                  aliases=("report", "отчет", "отчёт", "есеп", "фонд")),
        ACCESS_LEVEL,
    ),
)

# Not uploaded: every licence change (cadastre/licences.py) publishes the registry's current
# licences as the layer's next version, so OGC API, tiles and styles serve it like the others.
LICENCES = Layer(
    id="licences",
    names=Names("Лицензиялар", "Лицензии", "Licences"),
    geometry_type="MultiPolygon",
    uploadable=False,
    key="number",
    block_list="blocks",
    temporal=("issued_on", "term_until"),
    attributes=(
        Attribute("number", "text", Names("Лицензия нөмірі", "Номер лицензии", "Licence number"), required=True),
        Attribute("holder_name", "text", Names("Лицензия ұстаушы", "Владелец лицензии", "Holder"), required=True),
        Attribute("holder_id", "text", Names("ЖСН/БСН", "ИИН/БИН", "IIN/BIN")),
        Attribute("kind", "text", Names("Лицензия түрі", "Вид лицензии", "Licence kind"), required=True,
                  choices=(
                      Choice("exploration", Names("Қатты пайдалы қазбаларды барлау", "Разведка твёрдых полезных "
                                                  "ископаемых", "Exploration of solid minerals")),
                      Choice("mining", Names("Қатты пайдалы қазбаларды өндіру", "Добыча твёрдых полезных "
                                             "ископаемых", "Mining of solid minerals")),
                      Choice("geological-study", Names("Жер қойнауын геологиялық зерттеу",
                                                       "Геологическое изучение недр", "Geological study")),
                      Choice("common-minerals", Names("Кең таралған пайдалы қазбалар",
                                                      "Общераспространённые полезные ископаемые",
                                                      "Common minerals")),
                  )),
        Attribute("mineral", "text", Names("Пайдалы қазба", "Полезное ископаемое", "Mineral")),
        Attribute("status", "text", Names("Мәртебесі", "Статус", "Status"), required=True,
                  choices=(
                      Choice("active", Names("Қолданыста", "Действует", "Active")),
                      Choice("suspended", Names("Тоқтатыла тұрған", "Приостановлена", "Suspended")),
                      Choice("terminated", Names("Тоқтатылған", "Прекращена", "Terminated")),
                      Choice("expired", Names("Мерзімі өткен", "Срок истёк", "Expired")),
                  )),
        Attribute("blocks", "text", Names("Блоктар", "Блоки", "Blocks")),
        Attribute("issued_on", "date", Names("Берілген күні", "Дата выдачи", "Issued on"), required=True),
        Attribute("term_until", "date", Names("Мерзімі", "Срок до", "Term until")),
        Attribute("source", "text", Names("Негізі", "Источник", "Source")),
    ),
)

# Not uploaded: every filing, approval or refusal (cadastre/applied.py) publishes the blocks under
# pending applications as the layer's next version, so OGC API, tiles and styles serve them like
# licences. Public content only: no applicant identity.
APPLIED_BLOCKS = Layer(
    id="applied-blocks",
    names=Names("Өтінім берілген блоктар", "Блоки под заявками", "Applied-for blocks"),
    geometry_type="MultiPolygon",
    uploadable=False,
    key="number",
    block_list="blocks",
    attributes=(
        Attribute("number", "text", Names("Өтінім нөмірі", "Номер заявки", "Application number"), required=True),
        Attribute("kind", "text", Names("Өтінім түрі", "Вид заявки", "Application kind"), required=True,
                  choices=(
                      Choice("exploration-licence", Names("Қатты пайдалы қазбаларды барлауға лицензия",
                                                          "Лицензия на разведку твёрдых полезных ископаемых",
                                                          "Exploration licence for solid minerals")),
                      Choice("geological-study-licence", Names("Жер қойнауын геологиялық зерттеуге лицензия",
                                                               "Лицензия на геологическое изучение недр",
                                                               "Geological study licence")),
                  )),
        Attribute("received_at", "text", Names("Қабылданған уақыты", "Время поступления", "Received at")),
        Attribute("in_window", "boolean", Names("Ашылған айда", "В месяц открытия", "In the opening month")),
        Attribute("priority", "text", Names("Басымдық", "Приоритет", "Priority"), required=True,
                  choices=(
                      Choice("window", Names("Ашылған айда: тең басымдық, даулы блоктар аукционға",
                                             "Месяц открытия: равный приоритет, спорные блоки на аукцион",
                                             "Opening month: equal priority, contested blocks to auction")),
                      Choice("queue", Names("Түсу уақыты бойынша кезекте", "В очереди по времени поступления",
                                            "Queued by receipt time")),
                  )),
        Attribute("blocks", "text", Names("Блоктар", "Блоки", "Blocks")),
        Attribute("block_count", "integer", Names("Блок саны", "Число блоков", "Block count")),
    ),
)

# Not uploaded: every lot put up, opened, closed, failed or cancelled (cadastre/auction_lots.py)
# publishes the lots being sold (published: registration open; open: bidding) as the layer's next
# version. Public content only: never who asked for a lot or who registered.
AUCTION_LOTS = Layer(
    id="auction-lots",
    names=Names("Аукцион лоттары", "Лоты аукционов", "Auction lots"),
    geometry_type="MultiPolygon",
    uploadable=False,
    key="number",
    block_list="blocks",
    attributes=(
        Attribute("number", "text", Names("Аукцион нөмірі", "Номер аукциона", "Auction number"), required=True),
        _name_attr(fallback=("number",)),
        Attribute("status", "text", Names("Мәртебесі", "Статус", "Status"), required=True,
                  choices=(
                      Choice("published", Names("Жарияланған (тіркеу)", "Объявлен (регистрация)",
                                                "Published (registration)")),
                      Choice("open", Names("Сауда жүріп жатыр", "Идут торги", "Bidding now")),
                  )),
        Attribute("kind", "text", Names("Лицензия түрі", "Вид лицензии", "Licence kind")),
        Attribute("mineral", "text", Names("Пайдалы қазба", "Полезное ископаемое", "Mineral")),
        Attribute("starts_at", "text", Names("Басталуы", "Начало", "Starts at")),
        Attribute("ends_at", "text", Names("Аяқталуы", "Окончание", "Ends at")),
        Attribute("starting_bonus", "text", Names("Бастапқы қол қою бонусы, ₸", "Стартовый подписной бонус, ₸",
                                                  "Starting signature bonus, ₸")),
        Attribute("step", "text", Names("Аукцион қадамы, ₸", "Шаг аукциона, ₸", "Bid step, ₸")),
        Attribute("blocks", "text", Names("Блоктар", "Блоки", "Blocks")),
        Attribute("block_count", "integer", Names("Блок саны", "Число блоков", "Block count")),
    ),
)

LAYERS: dict[str, Layer] = {layer.id: layer for layer in (BLOCKS, SUBSOIL_PLOTS, RESTRICTION_ZONES,
                                                           GEOLOGICAL_STUDIES, LICENCES,
                                                           APPLIED_BLOCKS, AUCTION_LOTS)}


# --- raster layers (issue 12) ---------------------------------------------------------------------

@dataclass(frozen=True)
class RasterLayer:
    """A layer of rasters: sheets uploaded like vector layers (GeoTIFF, or a zip with a world file
    and .prj), kept as Cloud-Optimized GeoTIFFs (a mosaic: the newest version of each sheet wins)
    and served as map tiles, coverages and point values."""
    id: str
    names: Names
    # "map": scanned maps, RGB(A) shown as they are; "grid": one band of values (a geophysical
    # field) drawn through the colour ramp of its style, read as values over Coverages.
    kind: Literal["map", "grid"]
    writers: frozenset[str] = frozenset()
    unit: Names | None = None            # a grid's values' unit


GEOLOGICAL_MAPS = RasterLayer(
    id="geological-maps",
    names=Names("Геологиялық карталар", "Геологические карты", "Geological maps"),
    kind="map",
    writers=frozenset({"operator", "solid-minerals"}),
)
GEOPHYSICS_MAGNETIC = RasterLayer(
    id="geophysics-magnetic",
    names=Names("Магнит өрісі (ΔT)", "Магнитное поле (ΔT)", "Magnetic field (ΔT)"),
    kind="grid",
    writers=frozenset({"operator", "solid-minerals", "hydrocarbons"}),
    unit=Names("нТл", "нТл", "nT"),
)
GEOPHYSICS_GRAVITY = RasterLayer(
    id="geophysics-gravity",
    names=Names("Гравитациялық өріс (Буге аномалиялары)", "Гравитационное поле (аномалии Буге)",
                "Gravity field (Bouguer anomalies)"),
    kind="grid",
    writers=frozenset({"operator", "solid-minerals", "hydrocarbons"}),
    unit=Names("мГал", "мГал", "mGal"),
)
RASTER_LAYERS: dict[str, RasterLayer] = {layer.id: layer for layer in (GEOLOGICAL_MAPS, GEOPHYSICS_MAGNETIC,
                                                                       GEOPHYSICS_GRAVITY)}


def get_layer(layer_id: str) -> Layer | None:
    return LAYERS.get(layer_id)


def can_write(authority: str, layer: Layer | RasterLayer) -> bool:
    # The national geological operator runs the platform and may correct any uploadable layer
    # (every raster layer is uploaded).
    uploadable = layer.uploadable if isinstance(layer, Layer) else True
    return uploadable and (authority == "operator" or authority in layer.writers)

# Who publishes the layers: the attribution of tiles and map styles.
ATTRIBUTION = Names("Қазақстан Республикасының жер қойнауын пайдалану платформасы",
                    "Платформа недропользования Республики Казахстан",
                    "Subsoil-use platform of the Republic of Kazakhstan")
