"""Walmart takes tracking back in its own order file: rebuild the original rows
(kept by the importer in Line.raw) in their original column order and fill the
update columns."""
from __future__ import annotations

import pandas as pd

from ..config import Config
from ..schemas import Line
from .upload_format import UploadFormat
from .upload_rows import FieldValues, cell, raw_cells
from ..frame_records import records


def _original_cells(raw: str, fmt: UploadFormat) -> dict[str, str]:
    cells = raw_cells(raw)
    if isinstance(cells, list):
        # A positional row: name the cells by the export's known column order.
        names = list(fmt.header) + [f"Column {i}" for i in range(len(fmt.header) + 1, len(cells) + 1)]
        return dict(zip(names, cells))
    return cells


def source_rows(lines: pd.DataFrame, fmt: UploadFormat, config: Config,
                ship_date: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the Walmart upload, one row per shipped line."""
    header: list[str] = []
    filled: list[dict[str, object]] = []
    field_values = FieldValues(fmt, config, ship_date)
    for line in records(lines):
        values = field_values(line)
        row: dict[str, object] = dict(_original_cells(str(line.get(Line.raw, "")), fmt))
        if row:
            header.extend(k for k in row if k not in header)
        else:
            row = {col: values[fld] for col, fld in fmt.fallback_columns.items()}
        row.update({col: values[fld] for col, fld in fmt.columns.items()})
        row.update(fmt.constants)
        filled.append(row)
    if not header:
        header = list(fmt.header)
    # Columns we fill (or that a line without original cells has) but the export lacked.
    for row in filled:
        header.extend(k for k in row if k not in header)
    return header, [[cell(row.get(col, ""), fmt.formula_guard) for col in header] for row in filled]
