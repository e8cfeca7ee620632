"""Values of catalog attributes: what a source cell or a query parameter means for an attribute of
a given type (text, integer, number, date, boolean, enumeration with kk/ru/en labels). Uploads
and OGC API filters read values the same way because both use this module."""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import Any

import numpy as np

from layers.catalog import Attribute, normalise


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip())


# PostgreSQL's bigint: an integer attribute's column (and the type queries compare it in).
INT64_MAX = 2 ** 63 - 1

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=256)
def _choice_labels(attr: Attribute) -> dict[str, str]:
    """Every accepted label of an enumerated attribute, normalised → canonical value."""
    return {normalise(label): choice.value for choice in attr.choices
            for label in (choice.value, *choice.names.as_dict().values(), *choice.aliases)}


def coerce(attr: Attribute, value: Any) -> Any:
    """Coerce one source value to the attribute's type; ValueError if it cannot be."""
    if is_blank(value):
        return None
    if attr.choices:
        try:
            return _choice_labels(attr)[normalise(str(value))]
        except KeyError:
            raise ValueError("choice") from None
    match attr.type:
        case "text":
            text = str(value).strip()
            if not storable_text(text):
                raise ValueError("text")
            return text
        case "integer":
            if isinstance(value, bool):
                raise ValueError("integer")
            if isinstance(value, int | np.integer):
                return _int64(int(value))
            text = str(value).strip().replace(" ", "")
            try:
                exact = int(text)  # exactly: through a float, 2**53 + 1 would change
            except ValueError:
                exact = None
            if exact is not None:
                return _int64(exact)
            number = float(text.replace(",", "."))
            if not number.is_integer():  # also inf and nan
                raise ValueError("integer")
            return _int64(int(number))
        case "number":
            number = float(str(value).strip().replace(",", ".").replace(" ", "")) if not isinstance(
                value, int | float) else float(value)
            if not math.isfinite(number):  # '1e400', 'inf', 'nan': no measurement
                raise ValueError("number")
            return number
        case "date":
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, np.datetime64):
                return dt.date.fromisoformat(str(value)[:10])
            text = str(value).strip()
            for fmt in _DATE_FORMATS:
                try:
                    return dt.datetime.strptime(text, fmt).date()
                except ValueError:
                    continue
            raise ValueError("date")
        case "boolean":
            label = normalise(str(value))
            if label in {"1", "true", "yes", "да", "иә", "t", "y"}:
                return True
            if label in {"0", "false", "no", "нет", "жоқ", "f", "n"}:
                return False
            raise ValueError("boolean")
    raise ValueError(attr.type)  # pragma: no cover


def storable_text(text: str) -> bool:
    """Whether PostgreSQL can hold ``text``: no NUL character (text values cannot contain it)
    and no lone surrogate (a JSON escape like \\ud800 decodes to one; it has no UTF-8 form).
    Refused here, as a bad value, rather than by the database or the driver."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _int64(number: int) -> int:
    if not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise ValueError("integer")
    return number
