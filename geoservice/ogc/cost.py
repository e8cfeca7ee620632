"""Which item queries are expensive, decided before they run (README, "OGC API", limits).

A page of a large collection is cheap when an index hands over its rows: the keyset walk of an
unfiltered page stops after ``limit`` rows, an equality on an indexed attribute or a small box
reads only what it matches. A filter no index narrows is evaluated on every row until a page is
full -- on all of them when few or none match (``code LIKE '%zq1%'`` on the 1.26 million blocks:
seconds), and again to count ``numberMatched``. Such queries are *expensive*: they are admitted
only a few at a time (geoservice/admission.py) so that cheap requests keep their connections.

Only collections of more than ``GEOSERVICE_EXPENSIVE_ROWS`` features are considered; the small
layers are cheap whatever is asked of them."""

from __future__ import annotations

from dataclasses import dataclass

from geoservice.ogc import crs as crsmod
from geoservice.ogc import features as feat

# A box narrows a query when it covers less than this share of the collection's extent.
NARROW_SHARE = 0.05
HUGE_IN_LIST = 1_000     # named among the reasons
# Expensive on a large collection even when narrowed: every row the index hands over is tested
# against geometries of this many vertices (all literals of a filter together).
HUGE_GEOMETRY = 10_000


@dataclass(frozen=True)
class Cost:
    expensive: bool
    reasons: tuple[str, ...] = ()


CHEAP = Cost(False)


def classify(q: feat.ItemsQuery, large_rows: int) -> Cost:
    c = q.collection
    if (c.feature_count or 0) <= large_rows:
        return CHEAP
    indexed = c.indexed | c.paged_by
    narrowed = any(name in indexed for name in q.equals)
    reasons = [f"{name}= is not indexed" for name in q.equals if name not in indexed]
    if q.bbox is not None:
        box = (q.bbox[0], q.bbox[1], q.bbox[2], q.bbox[3]) if len(q.bbox) == 4 else \
            (q.bbox[0], q.bbox[1], q.bbox[3], q.bbox[4])
        narrowed = narrowed or _share(crsmod.lonlat_bounds(box, q.bbox_crs), c.bbox) < NARROW_SHARE
    filtering = bool(q.equals or q.datetime)
    if q.datetime:
        reasons.append("datetime is not indexed")
    huge = False
    if q.filter:
        shape = feat.filter_shape(q)
        filtering = True
        filter_crs = crsmod.parse(q.filter_crs, parameter="filter-crs")
        narrowed = narrowed or bool(shape.narrowing & indexed) or any(
            _share(crsmod.lonlat_bounds(box, filter_crs), c.bbox) < NARROW_SHARE for box in shape.boxes)
        reasons += [f"filter: {what}" for what in shape.heavy]
        if not shape.narrowing & indexed and not shape.heavy:
            reasons.append("filter: no indexed property compared at its top level")
        if shape.in_values > HUGE_IN_LIST:   # cheap when an index serves it (a probe a value); else slow
            reasons.append(f"filter: an IN list of {shape.in_values} values")
        if shape.vertices > HUGE_GEOMETRY:
            reasons.append(f"filter: geometries of {shape.vertices} vertices")
            huge = True
    # The keyset walk follows the id, or one indexed attribute; any other order sorts every match.
    sorted_by_index = not q.sortby or (len(q.sortby) == 1 and q.sortby[0][0] in indexed)
    if not sorted_by_index:
        reasons.append("sortby is not one indexed attribute")
    expensive = huge or (not narrowed and (filtering or not sorted_by_index))
    return Cost(expensive, tuple(reasons) if expensive else ())


def _share(box: tuple[float, float, float, float], extent: tuple[float, float, float, float] | None) -> float:
    """The share of ``extent`` the box covers (1 when the extent is unknown)."""
    if extent is None:
        return 1.0
    west, south, east, north = box
    if west > east:   # across the antimeridian: Kazakhstan lies on neither side of it
        return 1.0
    width = min(east, extent[2]) - max(west, extent[0])
    height = min(north, extent[3]) - max(south, extent[1])
    area = (extent[2] - extent[0]) * (extent[3] - extent[1])
    if area <= 0:
        return 1.0
    return max(0.0, width) * max(0.0, height) / area
