"""Workbooks people read: frozen header, filters, readable widths, and text that stays text.

xlsxwriter turns a string starting with "=" into a formula unless told not to;
with ``strings_to_formulas`` off every str is written as a shared string, so
buyer-controlled text can never become a live formula. Numbers stay numbers.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import xlsxwriter

from ..faults import checkpoint
from ..file_names import fitting_name

_SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                 "constant_memory": True}
_MAX_WIDTH = 60
_MAX_CELL = 32_767


def write_workbook(path: Path, sheets: list[tuple[str, pd.DataFrame]],
                   dropdowns: dict[str, list[tuple[str, list[int], list[str]]]] | None = None,
                   charts: dict[str, list[dict]] | None = None) -> Path:
    """Write sheets to ``path`` atomically (temporary name, then rename). ``dropdowns``: per sheet
    name, (column, data row positions from 0, choices): an Excel list validation on those cells.
    ``charts``: per sheet name, native Excel charts of that sheet's columns (see ``_chart``)."""
    tmp = path.with_name(fitting_name(path.name, tail=".partial"))
    wb = xlsxwriter.Workbook(str(tmp), _SAFE_OPTIONS)
    try:
        header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
        for name, frame in sheets:
            sheet = _write_sheet(wb, name, frame, header)
            for column, rows, choices in (dropdowns or {}).get(name, []):
                _dropdown(sheet, list(frame.columns).index(column), rows, choices)
            for spec in (charts or {}).get(name, []):
                _chart(wb, sheet, frame, spec)
    finally:
        wb.close()
    checkpoint("xlsx-written")
    os.replace(tmp, path)
    return path


def _write_sheet(wb, name: str, frame: pd.DataFrame, header_format) -> None:
    ws = wb.add_worksheet(name[:31])
    columns = [str(c) for c in frame.columns]
    values = [_cells(frame[c]) for c in frame.columns]
    for col, title in enumerate(columns):
        sample = values[col][:2000]
        width = max([len(title)] + [len(str(v)) for v in sample]) + 2
        ws.set_column(col, col, min(width, _MAX_WIDTH))
    ws.write_row(0, 0, columns, header_format)
    for r, row in enumerate(zip(*values), start=1):
        ws.write_row(r, 0, row)
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return ws


def _chart(wb, ws, frame: pd.DataFrame, spec: dict) -> None:
    """spec: type ("column", "line" ...), optional subtype, title, x (the category column), series
    (value columns), anchor (the cell of the chart's top left corner), optional y_title."""
    columns = [str(c) for c in frame.columns]
    chart = wb.add_chart({"type": spec["type"], **({"subtype": spec["subtype"]} if spec.get("subtype") else {})})
    last = max(len(frame), 1)
    x = columns.index(spec["x"])
    for column in spec["series"]:
        i = columns.index(column)
        chart.add_series({"name": [ws.name, 0, i], "categories": [ws.name, 1, x, last, x],
                          "values": [ws.name, 1, i, last, i]})
    chart.set_title({"name": spec.get("title", "")})
    if spec.get("y_title"):
        chart.set_y_axis({"name": spec["y_title"]})
    ws.insert_chart(spec["anchor"], chart, {"x_scale": 1.5, "y_scale": 1.2})


def _dropdown(ws, col: int, rows: list[int], choices: list[str]) -> None:
    """One list validation per run of consecutive rows (Excel keeps one range per rule)."""
    rows = sorted(rows)
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1:
            ws.data_validation(rows[start] + 1, col, rows[i - 1] + 1, col, {
                "validate": "list", "source": choices, "error_type": "warning",
                "error_title": "not an action for this order",
                "error_message": "choose one of: " + ", ".join(choices)})
            start = i


def _cells(series: pd.Series) -> list:
    if pd.api.types.is_bool_dtype(series):
        return series.tolist()
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series):
        return [None if pd.isna(v) else v for v in series.tolist()]
    return ["" if v is None or (isinstance(v, float) and v != v) else _fitting(str(v)) for v in series.tolist()]


def _fitting(text: str) -> str:
    # Excel holds 32,767 characters in a cell; xlsxwriter would cut a longer text without a mark.
    return text if len(text) <= _MAX_CELL else text[:_MAX_CELL - 1] + "…"
