"""Merged cells of a workbook sheet, read the way a person sees them in Excel.

ERP exports (Dianxiaomi and the like) merge order-level cells (order id,
recipient, address ...) down over the rows of one order's lines, and often put
a merged title row above the header. In Excel every cell of a merged range
shows the top-left value; the file holds it in the top-left cell only.

Once the header row is known: a merge touching the header row is rejected (a
column would lose its header), merges above it are titles and left alone,
merges below it are filled with their top-left value.
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import Problem
from ..io.tabular import RawSheet
from ..io.xlsx_sheet_scan import column_letters

Merge = tuple[int, int, int, int]   # 0-based first_row, first_col, last_row, last_col from rows[0]


def a1_range(merge: Merge, first_row_number: int) -> str:
    """``merge`` as Excel writes it, e.g. "H1:I1"."""
    r0, c0, r1, c1 = merge
    return (f"{column_letters(c0 + 1)}{r0 + first_row_number}:"
            f"{column_letters(c1 + 1)}{r1 + first_row_number}")


def touches_row(merge: Merge, index: int) -> bool:
    return merge[0] <= index <= merge[2]


def header_merge_problems(sheet: RawSheet, header_index: int) -> list[Problem]:
    """One problem per merged range that covers the header row."""
    row = sheet.first_row_number + header_index
    problems = []
    for merge in sheet.merged:
        if touches_row(merge, header_index):
            area = a1_range(merge, sheet.first_row_number)
            problems.append(Problem(f"merged cells in the header row ({area}): unmerge them so each "
                                    f"column has its own header", sheet=sheet.name, row=row, value=area))
    return problems


class OverlappingMerges(ValueError):
    """Merged ranges overlap: no spreadsheet program writes that."""


def filled_below_header(sheet: RawSheet, header_index: int) -> RawSheet:
    """A copy of ``sheet`` whose merged ranges below the header carry their top-left
    value in every cell. Ranges are clipped to the grid the reader returned: cells
    beyond it hold nothing a person could see except the repeated value."""
    below = [m for m in sheet.merged if m[0] > header_index]
    if not below:
        return sheet
    height = len(sheet.rows)
    width = max((len(r) for r in sheet.rows), default=0)
    rows = [list(r) for r in sheet.rows]
    budget = height * width   # non-overlapping ranges never fill more cells than the grid has
    for r0, c0, r1, c1 in below:
        if r0 >= height or c0 >= width:
            continue
        last_row, last_col = min(r1, height - 1), min(c1, width - 1)
        budget -= (last_row - r0 + 1) * (last_col - c0 + 1)
        if budget < 0:
            raise OverlappingMerges(sheet.name)
        top_left = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, last_row + 1):
            row = rows[r]
            if len(row) <= last_col:
                row.extend([""] * (last_col + 1 - len(row)))
            row[c0:last_col + 1] = [top_left] * (last_col - c0 + 1)
    return replace(sheet, rows=rows)
