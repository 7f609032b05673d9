"""Read .xlsx/.xlsm/.xls workbooks with python-calamine (formulas come back as their
cached values and are never evaluated)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import python_calamine as calamine

from ..config import Limits
from ..errors import FileRejected, Problem
from .cell_text import row_text
from .xlsx_guard import (PROLOG_SCAN_BYTES, check_prolog, iter_part, locate_parts,
                         open_central_directory)
from .xlsx_sheet_scan import SheetScan, SheetXmlError, column_letters, measure_extent, scan_worksheet

_XML_SUFFIXES = (".xml", ".rels", ".vml")


class SheetGrid(NamedTuple):
    name: str
    rows: list[list[str]]     # rows[0] is Excel row 1
    visible: bool
    # merged ranges, 0-based (first_row, first_col, last_row, last_col), ends inclusive;
    # the value sits in the top-left cell only, the importer decides what they mean
    merged: list[tuple[int, int, int, int]]


def read_workbook(path: Path, limits: Limits, container: str) -> list[SheetGrid]:
    """``container`` is "zip" (xlsx/xlsm) or "ole2" (xls, or an encrypted xlsx)."""
    scans = _guard_zip_workbook(path, limits) if container == "zip" else {}
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise _reject(path, "the workbook is password-protected: remove the password and save it again")
    except Exception as exc:  # calamine raises several error types, all meaning "cannot read"
        raise _reject(path, _calamine_reason(container, exc))
    sheets = []
    try:
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue
            sheet = book.get_sheet_by_name(meta.name)
            grid = sheet.to_python(skip_empty_area=False)
            if len(grid) > limits.max_rows:
                raise _too_many_rows(path, meta.name, len(grid), limits)
            rows = [row_text(r) for r in grid]
            scan = scans.get(meta.name)
            if scan is not None:
                _put_errors(rows, scan)
            sheets.append(SheetGrid(meta.name, rows, meta.visible == calamine.SheetVisibleEnum.Visible,
                                    _merged_ranges(sheet)))
    except FileRejected:
        raise
    except Exception as exc:
        raise _reject(path, _calamine_reason(container, exc))
    finally:
        book.close()
    if not sheets:
        raise _reject(path, "the workbook has no worksheets")
    return sheets


def _reject(path: Path, message: str, sheet: str = "") -> FileRejected:
    return FileRejected(path.name, [Problem(message, sheet=sheet)])


def _too_many_rows(path: Path, sheet: str, count: int, limits: Limits) -> FileRejected:
    return _reject(path, f"the sheet has {count:,} rows; the limit is {limits.max_rows:,} "
                         f"(limits.max_rows): split the file", sheet)


def _calamine_reason(container: str, exc: Exception) -> str:
    if container == "ole2":
        return (f"the workbook could not be read ({exc}): it may be password-protected or damaged; "
                f"open it in Excel and save it as .xlsx")
    return f"the workbook is damaged or incomplete: {exc}"


def _guard_zip_workbook(path: Path, limits: Limits) -> dict[str, SheetScan]:
    entries = open_central_directory(path, limits)
    parts = locate_parts(path, entries)
    sheet_of_part = {part: name for name, part in parts.sheet_parts.items()}
    row_threshold = min(limits.max_rows + 1, 100_000)
    scans: dict[str, SheetScan] = {}
    for name, info in entries.items():
        if not name.lower().endswith(_XML_SUFFIXES):
            continue
        if name in sheet_of_part or name.startswith("xl/worksheets/"):
            sheet = sheet_of_part.get(name, "")
            scan = _scan_sheet_part(path, info, row_threshold, sheet)
            if not scan.is_exact and (scan.max_row > limits.max_rows or scan.grid_cells > limits.max_grid_cells):
                # Only a bound (a few rows with far columns look like every row times those
                # columns; a formatted empty cell counts as a row): measure the real used
                # range before refusing anything.
                extent = _measure_sheet_part(path, info, sheet)
                extent.errors = extent.errors or scan.errors
                scan = extent
            if scan.max_row > limits.max_rows:
                raise _too_many_rows(path, sheet, scan.max_row, limits)
            if scan.grid_cells > limits.max_grid_cells:
                raise _reject(path, f"the sheet's used range is {scan.used_range}: it reaches row "
                                    f"{scan.max_row:,} and column {column_letters(scan.max_col)}, "
                                    f"{scan.grid_cells:,} cells in all; the limit is {limits.max_grid_cells:,} "
                                    f"cells (limits.max_grid_cells): delete the far-away cells or split the file",
                              sheet)
            if sheet:
                scans[sheet] = scan
        else:
            _check_whole_part(path, info)
    return scans


def _prolog_checked(path: Path, info) -> Iterator[bytes]:
    """The part's bytes, after its prolog (first 64 KB at most) was checked for DOCTYPE/ENTITY."""
    held: list[bytes] = []
    size = 0
    checked = False
    for chunk in iter_part(path, info):
        if checked:
            yield chunk
            continue
        held.append(chunk)
        size += len(chunk)
        if size >= PROLOG_SCAN_BYTES:
            check_prolog(path, info.filename, b"".join(held)[:PROLOG_SCAN_BYTES])
            checked = True
            yield from held
            held = []
    if not checked:
        check_prolog(path, info.filename, b"".join(held))
        yield from held


def _check_whole_part(path: Path, info) -> None:
    for _ in _prolog_checked(path, info):   # inflating to the end proves the declared size
        pass


def _scan_sheet_part(path: Path, info, row_threshold: int, sheet: str) -> SheetScan:
    try:
        return scan_worksheet(lambda: _prolog_checked(path, info), row_threshold)
    except SheetXmlError as exc:
        raise _reject(path, f"the workbook is damaged: part {info.filename} cannot be read ({exc})", sheet)


def _measure_sheet_part(path: Path, info, sheet: str) -> SheetScan:
    try:
        return measure_extent(lambda: _prolog_checked(path, info))
    except SheetXmlError as exc:
        raise _reject(path, f"the workbook is damaged: part {info.filename} cannot be read ({exc})", sheet)


def _merged_ranges(sheet) -> list[tuple[int, int, int, int]]:
    # sorted so the order does not depend on how the file lists them
    ranges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []]
    return sorted(ranges)


def _put_errors(rows: list[list[str]], scan: SheetScan) -> None:
    for (r, c), text in scan.errors.items():
        while len(rows) <= r:
            rows.append([])
        row = rows[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
        if row[c] == "":
            row[c] = text
