"""The official layout of a table as a grid of (possibly merged) cells.

Derived from the format definition alone; the workbook writer, the reader's fast path and every
renderer (HTML rowspan/colspan, Word merges, text) use the same grid, so they cannot disagree.
Coordinates are 0-based and relative to the table's top-left corner.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from toolkit.formats import Block, Format, Node, Table

CAPTION, CORNER, COLUMN, ROW, VALUE = "caption", "corner", "column", "row", "value"


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    rowspan: int
    colspan: int
    role: str  # caption | corner | column | row | value
    text: str = ""
    cell_id: str | None = None  # for VALUE cells
    node_id: str | None = None  # for COLUMN and ROW header cells
    block: str = ""

    @property
    def merged(self) -> bool:
        return self.rowspan > 1 or self.colspan > 1


@dataclass(frozen=True)
class Grid:
    table: Table
    cells: tuple[GridCell, ...]
    n_rows: int
    n_cols: int

    @property
    def positions(self) -> dict[str, tuple[int, int]]:
        """cell id -> (row, col) of every value cell."""
        return {c.cell_id: (c.row, c.col) for c in self.cells if c.role == VALUE}

    def at(self, row: int, col: int) -> GridCell | None:
        for c in self.cells:
            if c.row <= row < c.row + c.rowspan and c.col <= col < c.col + c.colspan:
                return c
        return None

    def rows(self) -> list[list[GridCell]]:
        """Grid cells grouped by their top row, left to right (the shape of an HTML table)."""
        out: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for c in sorted(self.cells, key=lambda c: (c.row, c.col)):
            out[c.row].append(c)
        return out


def _width(block: Block) -> int:
    return block.row_depth + len(block.leaf_columns)


def _block_cells(table: Table, block: Block, top: int, width: int) -> tuple[list[GridCell], int]:
    cells: list[GridCell] = []
    r = top
    if block.caption:
        cells.append(GridCell(r, 0, 1, width, CAPTION, block.caption, block=block.id))
        r += 1
    depth_c, depth_r = block.column_depth, block.row_depth
    leaves = block.leaf_columns
    stretch = width - _width(block)  # a narrower block's last column fills the table's width
    if depth_r:
        cells.append(GridCell(r, 0, depth_c, depth_r, CORNER, block.corner or "", block=block.id))
    last_leaf = leaves[-1]

    def is_last(node: Node) -> bool:
        return any(leaf is last_leaf for leaf in node.leaves())

    def place_columns(nodes: list[Node], row: int, col: int) -> int:
        for node in nodes:
            n_leaves = sum(1 for _ in node.leaves())
            span = n_leaves + (stretch if is_last(node) else 0)
            if node.is_leaf:
                cells.append(GridCell(row, col, depth_c - node.depth, span, COLUMN, node.label,
                                      node_id=node.id, block=block.id))
            else:
                cells.append(GridCell(row, col, 1, span, COLUMN, node.label, node_id=node.id, block=block.id))
                place_columns(node.children, row + 1, col)
            col += span
        return col

    place_columns(block.columns, r, depth_r)
    r += depth_c

    def place_rows(nodes: list[Node], row: int, col: int) -> int:
        for node in nodes:
            n_leaves = sum(1 for _ in node.leaves())
            if node.is_leaf:
                cells.append(GridCell(row, col, 1, depth_r - node.depth, ROW, node.label,
                                      node_id=node.id, block=block.id))
            else:
                cells.append(GridCell(row, col, n_leaves, 1, ROW, node.label, node_id=node.id, block=block.id))
                place_rows(node.children, row, col + 1)
            row += n_leaves
        return row

    if depth_r:
        place_rows(block.rows, r, 0)
    cell_by_key = {(c.row.id, c.column.id): c for c in table.cells if c.block is block}
    for i, row_node in enumerate(block.leaf_rows):
        for j, col_node in enumerate(leaves):
            span = 1 + (stretch if col_node is last_leaf else 0)
            cell = cell_by_key[(row_node.id, col_node.id)]
            cells.append(GridCell(r + i, depth_r + j, 1, span, VALUE, cell_id=cell.id, block=block.id))
    r += len(block.leaf_rows)
    return cells, r


@lru_cache(maxsize=None)
def _grid(fmt: Format, table_id: str) -> Grid:
    table = fmt.table(table_id)
    width = max(_width(b) for b in table.blocks)
    cells: list[GridCell] = []
    top = 0
    for block in table.blocks:
        block_cells, top = _block_cells(table, block, top, width)
        cells.extend(block_cells)
    return Grid(table, tuple(cells), top, width)


def table_grid(fmt: Format, table_id: str) -> Grid:
    """The official layout of table ``table_id`` of ``fmt``."""
    return _grid(fmt, table_id)
