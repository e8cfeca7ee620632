"""The generalisations of the block grid that the store keeps (table ``block_cells``): cells of the
national map-sheet nomenclature, each the union of the blocks in it. Which zoom shows which
level is the tiles' decision (tiles/levels.py); what cells exist and how big they are is the
store's, because ``layers.grid_build`` builds and swaps them together with the grid."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellLevel:
    name: str          # value of block_cells.level (and of the tiles' ``level`` property)
    width: int         # cell size in arc-minutes of longitude ...
    height: int        # ... and of latitude

    @property
    def full(self) -> int:
        """Blocks in a cell that lies wholly inside the grid."""
        return self.width * self.height


SHEET = CellLevel("sheet", 360, 240)          # 1:1,000,000 sheet
SHEET100K = CellLevel("sheet100k", 30, 20)    # 1:100,000 sheet
CELL10 = CellLevel("cell10", 10, 10)          # 10' cell
CELL5 = CellLevel("cell5", 5, 5)              # 5' cell
BLOCK = CellLevel("block", 1, 1)              # the 1' block itself (table blocks, not block_cells)

# Coarse to fine; the rows of block_cells are all levels but BLOCK.
CELL_LEVELS: tuple[CellLevel, ...] = (SHEET, SHEET100K, CELL10, CELL5)
