"""Values of catalog attributes: what a source cell or a query parameter means for an attribute of
a given type (text, integer, number, date, boolean, enumeration with kk/ru/en labels). Uploads
and OGC API filters read values the same way because both use this module."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import numpy as np

from layers.catalog import Attribute, normalise


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and not value.strip())


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
            return str(value).strip()
        case "integer":
            if isinstance(value, bool):
                raise ValueError("integer")
            if isinstance(value, int | np.integer):
                return int(value)
            number = float(str(value).strip().replace(",", ".").replace(" ", ""))
            if not number.is_integer():
                raise ValueError("integer")
            return int(number)
        case "number":
            return float(str(value).strip().replace(",", ".").replace(" ", "")) if not isinstance(
                value, int | float) else float(value)
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
