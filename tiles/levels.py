"""Which generalisation of the block grid a tile shows at which zoom: the one place that decides.

1.26 million 1'x1' blocks cannot go into a low-zoom tile, and at low zoom a single block is a
pixel or less anyway. So below ``BLOCK_ZOOM`` the ``blocks`` MVT layer shows the cells of the
national map-sheet nomenclature the blocks belong to (see layers/grid.py), one feature per cell
with its code and the number of grid blocks in it (``n_blocks``; fewer than ``full`` along the
border, where only blocks touching the country exist). The cells are precomputed in table
``block_cells`` by ``layers.grid_build`` (levels and sizes: layers/cells.py).

Zooms are WebMercatorQuad zooms. With 512-pixel tiles (MapLibre's default for vector sources) a
cell is at least ~25 px wide at the first zoom it is shown, so its outline and often its code
are legible; a block at z10 is ~24 px wide at 48° N.

===========  ==========  ======================  ============  =======================
WebMercator  CRS84Quad   level                   cell size     cells in Kazakhstan
===========  ==========  ======================  ============  =======================
0–5          0–4         ``sheet`` (1:1,000,000)  6° × 4°       27
6–7          5–6         ``sheet100k``            30′ × 20′     ~2,300
8            7           ``cell10``               10′ × 10′     ~13,000
9            8           ``cell5``                5′ × 5′       ~51,000
10–          9–          ``block``                1′ × 1′       ~1,260,000
===========  ==========  ======================  ============  =======================

A WorldCRS84Quad tile at zoom z spans as many degrees of longitude as a WebMercatorQuad tile at
z + 1, hence the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from layers import cells
from layers.cells import CellLevel


@dataclass(frozen=True)
class Level:
    cells: CellLevel   # the store's cell level (layers/cells.py)
    min_zoom: int      # first WebMercatorQuad zoom showing this level
    title: str

    @property
    def name(self) -> str:
        return self.cells.name

    @property
    def width(self) -> int:
        return self.cells.width

    @property
    def height(self) -> int:
        return self.cells.height

    @property
    def full(self) -> int:
        return self.cells.full


SHEET = Level(cells.SHEET, 0, "1:1,000,000 sheet")
SHEET100K = Level(cells.SHEET100K, 6, "1:100,000 sheet")
CELL10 = Level(cells.CELL10, 8, "10′ cell")
CELL5 = Level(cells.CELL5, 9, "5′ cell")
BLOCK = Level(cells.BLOCK, 10, "1′ block")

# Coarse to fine. The generalised ones (all but BLOCK) are the rows of table block_cells.
LEVELS: tuple[Level, ...] = (SHEET, SHEET100K, CELL10, CELL5, BLOCK)
BLOCK_ZOOM = BLOCK.min_zoom

# Added to a tile matrix set's zoom to get the equivalent WebMercatorQuad zoom.
ZOOM_OFFSET = {"WebMercatorQuad": 0, "WorldCRS84Quad": 1}


def level_for(zoom: int, tms: str = "WebMercatorQuad") -> Level:
    """The block level shown in a tile of ``tms`` at ``zoom``."""
    z = zoom + ZOOM_OFFSET[tms]
    chosen = LEVELS[0]
    for level in LEVELS:
        if z >= level.min_zoom:
            chosen = level
    return chosen


def zoom_range(level: Level, tms: str = "WebMercatorQuad") -> tuple[int, int | None]:
    """First and last zoom of ``tms`` showing ``level`` (last None: every zoom above)."""
    i = LEVELS.index(level)
    offset = ZOOM_OFFSET[tms]
    first = max(0, level.min_zoom - offset)
    last = LEVELS[i + 1].min_zoom - 1 - offset if i + 1 < len(LEVELS) else None
    return first, last
