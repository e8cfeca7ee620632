"""Angles as people write them in boundary acts: decimal degrees or degrees-minutes-seconds.

Accepted: ``49.2083``, ``49,2083``, ``49°12'30.5"``, ``49° 12′ 30,5″``, ``49 12 30.5``, ``49:12:30.5``,
``49°12.5'``, with a sign or a hemisphere letter before or after: N S E W, Russian С Ю В З and
Kazakh С О Ш Б, also as abbreviations ``с.ш.``, ``в.д.``, ``с.е.``, ``ш.б.``.
"""

from __future__ import annotations

import re
from typing import Literal

Axis = Literal["lat", "lon"]
Reason = Literal["syntax", "minutes", "seconds", "degrees", "hemisphere"]


class DMSError(ValueError):
    """``reason`` says what is wrong: unreadable text, minutes or seconds not below 60, degrees
    beyond the axis range, or a hemisphere letter of the other axis (E in a latitude)."""

    def __init__(self, reason: Reason, value: str) -> None:
        super().__init__(f"{reason}: {value!r}")
        self.reason: Reason = reason
        self.value = value


# Hemisphere letter -> (axis, sign). Latin C and B stand in for look-alike Cyrillic С and В,
# and Cyrillic Е for Latin E: mixed keyboard layouts produce them in real tables.
_HEMISPHERES: dict[str, tuple[Axis, int]] = {
    "N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "W": ("lon", -1),
    "С": ("lat", 1), "C": ("lat", 1), "Ю": ("lat", -1), "О": ("lat", -1),
    "В": ("lon", 1), "B": ("lon", 1), "Ш": ("lon", 1), "Е": ("lon", 1),
    "З": ("lon", -1), "Б": ("lon", -1),
}
_LETTERS = "".join(_HEMISPHERES)
# A letter, optionally followed by the second half of a Russian/Kazakh abbreviation (с.ш., ш.б.).
_SUFFIX = re.compile(rf"\s*([{_LETTERS}])\.?(?:\s*[ШДЕБшдеб]\.?)?\s*$", re.IGNORECASE)
_PREFIX = re.compile(rf"^\s*([{_LETTERS}])\.?\s*(?=[\d+-])", re.IGNORECASE)

_NUM = r"(\d+(?:\.\d+)?)"
_DMS = re.compile(
    rf"^{_NUM}\s*(?:°\s*|:\s*|\s+)?"             # degrees
    rf"(?:{_NUM}\s*(?:'\s*|:\s*|\s+)?"            # minutes
    rf"(?:{_NUM}\s*\"?)?)?$"                      # seconds
)
_PLAIN = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
# Thousands grouped by spaces ("5 432 100,25"): groups of exactly three digits never look like DMS,
# whose minutes and seconds have at most two integer digits.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?$")

_TRANSLATE = str.maketrans({
    "º": "°", "˚": "°", "⁰": "°",
    "′": "'", "’": "'", "‘": "'", "´": "'", "`": "'", "ʹ": "'",
    "″": '"', "”": '"', "“": '"', "ʺ": '"',
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "−": "-", "–": "-",
})


def _normalise(text: str) -> str:
    text = text.translate(_TRANSLATE).replace("''", '"').strip()
    # A comma between digits is a decimal comma (Russian locale); anything else stays an error.
    return re.sub(r"(?<=\d),(?=\d)", ".", text)


def parse_number(text: str) -> float | None:
    """A plain decimal number (decimal comma and space-grouped thousands allowed), else None."""
    t = re.sub(r"\s+", " ", _normalise(text))
    if _PLAIN.match(t):
        return float(t)
    if _GROUPED.match(t):
        return float(t.replace(" ", ""))
    return None


def parse_angle(text: str, axis: Axis | None = None) -> float:
    """Decimal degrees from decimal or sexagesimal text; range-checked for ``axis``.

    Raises DMSError. South and west (by sign or letter) come back negative."""
    original = text
    t = _normalise(text)
    if not t:
        raise DMSError("syntax", original)

    hemisphere: tuple[Axis, int] | None = None
    for pattern in (_SUFFIX, _PREFIX):
        m = pattern.search(t)
        if m:
            # A letter glued to the digits is a hemisphere only as Latin N/S/E/W ("49.5N"); a
            # Cyrillic one there ("7б") is more likely a typo than "7° west", so it is refused.
            glued = not m.group(0)[:1].isspace() and (
                (pattern is _SUFFIX and m.start() > 0 and t[m.start() - 1].isdigit())
                or (pattern is _PREFIX and not m.group(0)[-1:].isspace()))
            if glued and m.group(1) not in "NSEW" and "." not in m.group(0):
                raise DMSError("syntax", original)
            letter = m.group(1).upper()
            hemisphere = _HEMISPHERES[letter]
            t = (t[: m.start()] + t[m.end():]).strip()
            break

    sign = 1
    if t[:1] in "+-":
        sign = -1 if t[0] == "-" else 1
        t = t[1:].strip()
        if hemisphere is not None:  # "-49 N": which one is meant?
            raise DMSError("syntax", original)
    if hemisphere is not None:
        if axis is not None and hemisphere[0] != axis:
            raise DMSError("hemisphere", original)
        axis = hemisphere[0]
        sign = hemisphere[1]

    plain = parse_number(t)
    if plain is not None:
        if plain < 0:  # "--49"
            raise DMSError("syntax", original)
        degrees = plain
    else:
        m = _DMS.match(t)
        if not m:
            raise DMSError("syntax", original)
        d, mi, s = m.groups()
        if (mi is not None and "." in d) or (s is not None and "." in mi):
            raise DMSError("syntax", original)  # fractional degrees followed by minutes, etc.
        minutes = float(mi) if mi is not None else 0.0
        seconds = float(s) if s is not None else 0.0
        if minutes >= 60:
            raise DMSError("minutes", original)
        if seconds >= 60:
            raise DMSError("seconds", original)
        degrees = float(d) + minutes / 60 + seconds / 3600

    limit = {"lat": 90.0, "lon": 180.0, None: 360.0}[axis]
    if degrees > limit:
        raise DMSError("degrees", original)
    return sign * degrees


def looks_sexagesimal(text: str) -> bool:
    """True when the text is clearly an angle (degree/minute marks or a hemisphere letter)."""
    t = _normalise(text)
    return bool(re.search(r"[°'\":]", t) or _SUFFIX.search(t) or _PREFIX.search(t))
