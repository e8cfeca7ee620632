"""Which generalisation of the block grid a tile shows at which zoom: the one place that decides.

1.26 million 1'x1' blocks cannot go into a low-zoom tile, and at low zoom a single block is a
pixel or less anyway. So below ``BLOCK_ZOOM`` the ``blocks`` MVT layer shows the cells of the
national map-sheet nomenclature the blocks belong to (see layers/grid.py), one feature per cell
with its code and the number of grid blocks in it (``n_blocks``; fewer than ``full`` along the
border, where only blocks touching the country exist). The cells are precomputed in table
``block_cells`` by ``layers.grid_build`` (migration ``0003_block_cells``).

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


@dataclass(frozen=True)
class Level:
    name: str          # value of the ``level`` property and of block_cells.level
    min_zoom: int      # first WebMercatorQuad zoom showing this level
    width: int         # cell size in arc-minutes of longitude ...
    height: int        # ... and of latitude
    title: str

    @property
    def full(self) -> int:
        """Blocks in a cell that lies wholly inside the grid."""
        return self.width * self.height


SHEET = Level("sheet", 0, 360, 240, "1:1,000,000 sheet")
SHEET100K = Level("sheet100k", 6, 30, 20, "1:100,000 sheet")
CELL10 = Level("cell10", 8, 10, 10, "10′ cell")
CELL5 = Level("cell5", 9, 5, 5, "5′ cell")
BLOCK = Level("block", 10, 1, 1, "1′ block")

# Coarse to fine. The generalised ones (all but BLOCK) are the rows of table block_cells.
LEVELS: tuple[Level, ...] = (SHEET, SHEET100K, CELL10, CELL5, BLOCK)
CELL_LEVELS: tuple[Level, ...] = LEVELS[:-1]
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
