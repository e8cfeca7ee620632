"""Corner-point tables as boundary acts write them (a plot number, a point number, latitude and
longitude, several rows per plot): the column vocabulary in kk/ru/en and the delimiter sniffing,
shared by the upload reader (importers/formats/table.py) and the parcel form of applications
(cadastre/corners.py). Pure text handling; the angles themselves are ``layers.dms``."""

from __future__ import annotations

import csv
import io
import re


def normalise_label(label: str) -> str:
    """Header labels compare case-, space- and punctuation-insensitively (ё = е)."""
    label = label.strip().lower().replace("ё", "е")
    label = re.sub(r"\(.*?\)|\[.*?\]", " ", label)  # units and notes: "Lat (WGS 84)", "X [m]"
    return re.sub(r"[\s_.:,()\-]+", " ", label).strip()


def names(*labels: str) -> frozenset[str]:
    return frozenset(normalise_label(label) for label in labels)


WKT_NAMES = names("wkt", "geometry", "geom", "the_geom", "геометрия", "геометрия wkt", "wkt геометрия")
LON_NAMES = names("lon", "long", "lng", "longitude", "x", "долгота", "бойлық", "восточная долгота",
                  "в.д.", "вд", "шығыс бойлық", "долгота в.д.")
LAT_NAMES = names("lat", "latitude", "y", "широта", "ендік", "северная широта", "с.ш.", "сш",
                  "солтүстік ендік", "широта с.ш.")
# Plain x/y may hold metres of a projected CRS (the table carries no CRS): no degree range check.
PROJECTED_NAMES = names("x", "y")
ID_NAMES = names("id", "polygon", "polygon_id", "polygon id", "plot", "plot_id", "plot id", "№", "no",
                 "номер", "номер участка", "№ участка", "участок", "контур", "№ контура",
                 "учаске", "учаске №", "№ учаске", "учаске нөмірі", "нөмір")
ORDER_NAMES = names("n", "point", "point_no", "point no", "point number", "vertex", "точка", "№ точки",
                    "номер точки", "№ т", "т", "нүкте", "№ нүкте", "нүкте №", "нүкте нөмірі")


def column_roles(header: list[str], preferred_ids: frozenset[str] = frozenset()) -> dict[str, int]:
    """Column index by role: wkt, lon, lat, order (point number), id (plot number; the
    ``preferred_ids`` first)."""
    roles: dict[str, int] = {}
    keys = [normalise_label(label) for label in header]
    for i, key in enumerate(keys):
        for role, vocabulary in (("wkt", WKT_NAMES), ("lon", LON_NAMES), ("lat", LAT_NAMES),
                                 ("order", ORDER_NAMES), ("id", ID_NAMES | preferred_ids)):
            if key in vocabulary and role not in roles:
                roles[role] = i
                break
    # The target layer's own key numbers the polygons more surely than a generic "№" column
    # (often a running row number next to "zone_id").
    taken = {i for role, i in roles.items() if role != "id"}
    for i, key in enumerate(keys):
        if i not in taken and key in preferred_ids:
            roles["id"] = i
            break
    return roles


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab. A tab or semicolon on every line, splitting every line alike, wins
    (Excel in Russian locales writes ";" because the comma is the decimal sign, and headers such
    as "Долгота, в.д." then hold commas); otherwise the one splitting the header into most
    columns with the data rows agreeing."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    split = {d: list(csv.reader(io.StringIO("\n".join(lines)), delimiter=d)) for d in ("\t", ";", ",")}
    for delimiter in ("\t", ";"):
        rows = split[delimiter]
        if all(delimiter in ln for ln in lines) and all(len(r) == len(rows[0]) for r in rows):
            return delimiter
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        rows = split[delimiter]
        width = len(rows[0])
        agree = sum(1 for r in rows[1:] if len(r) == width)
        score = (width if width > 1 else 0, agree)
        if score > best_score:
            best, best_score = delimiter, score
    return best
