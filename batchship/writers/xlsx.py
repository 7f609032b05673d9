"""Workbooks people read: frozen header, filters, readable widths, and text that stays text.

xlsxwriter turns a string starting with "=" into a formula unless told not to;
with ``strings_to_formulas`` off every str is written as a string, so
buyer-controlled text can never become a live formula. Numbers stay numbers. xlsxwriter writes a
sheet's header, last data row and totals; the data rows between are written as XML in bulk and
spliced in (writers/xlsx_rows.py), cell for cell as xlsxwriter would write them, at a tenth of the cost.

Given a ``WorkbookStyle`` (the outputs' timezone and language), a workbook is one an accountant can
use: each column's kind (writers/columns.py: the outputs' known columns, or the caller's own)
makes dates Excel dates in the seller's timezone with a date format, money a number with its
currency's decimals, and sheets named in ``totals`` end with totals rows (one per currency where
amounts are in several). Totals are values, not formulas: no cell of an output is ever a formula.
Inputs-to-be (blank templates, a forwarder's booking sheet) are written without a style, as given.
"""
from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import xlsxwriter

from ..faults import checkpoint
from ..file_names import fitting_name
from .columns import (DATE, DATETIME, NUMBER, QUANTITY, Kind, Money, WorkbookStyle, as_amount,
                      as_day, as_moment, decimals, kind_of, missing)
from .xlsx_rows import SheetRows, splice_rows

_SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                 "constant_memory": True}
_MAX_WIDTH = 60
_MAX_CELL = 32_767
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")


def write_workbook(path: Path, sheets: list[tuple[str, pd.DataFrame]],
                   dropdowns: dict[str, list[tuple[str, list[int], list[str]]]] | None = None, *,
                   style: WorkbookStyle | None = None, kinds: dict[str, dict[str, Kind]] | None = None,
                   totals: tuple[str, ...] = (), charts: dict[str, list[dict]] | None = None) -> Path:
    """Write sheets to ``path`` atomically (temporary name, then rename). ``dropdowns``: per sheet
    name, (column, data row positions from 0, choices): an Excel list validation on those cells.
    ``style``: the outputs' conventions (dates, money, language); ``kinds``: per sheet, the kind of
    columns the known names do not tell (writers/columns.py); ``totals``: the sheets that end with
    totals rows. Sheet and column names are given in English; ``style`` translates them.
    ``charts``: per sheet name, native Excel charts of that sheet's columns (see ``_chart``)."""
    tmp = path.with_name(fitting_name(path.name, tail=".partial"))
    wb = xlsxwriter.Workbook(str(tmp), _SAFE_OPTIONS)
    data_rows: list[SheetRows] = []
    try:
        header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "bottom": 1})
        formats = _Formats(wb)
        for name, frame in sheets:
            if style is None:
                sheet, rows = _write_sheet(wb, name, frame, header)
            else:
                sheet, rows = _write_styled_sheet(wb, name, frame, header, formats, style,
                                                  (kinds or {}).get(name, {}), name in totals)
            data_rows.append(rows)
            for column, positions, choices in (dropdowns or {}).get(name, []):
                _dropdown(sheet, list(frame.columns).index(column), positions, choices)
            for spec in (charts or {}).get(name, []):
                _chart(wb, sheet, frame, spec)
    finally:
        wb.close()
    if any(rows.count for rows in data_rows):
        spliced = path.with_name(fitting_name(path.name, tail=".tmp"))
        splice_rows(tmp, spliced, data_rows)
        os.unlink(tmp)
        tmp = spliced
    checkpoint("xlsx-written")
    os.replace(tmp, path)
    return path


def _write_sheet(wb, name: str, frame: pd.DataFrame, header_format):
    """The sheet with its header and last data row; the rows before it are returned, to be spliced."""
    ws = wb.add_worksheet(name[:31])
    columns = [str(c) for c in frame.columns]
    values = [_cells(frame[c]) for c in frame.columns]
    for col, title in enumerate(columns):
        sample = values[col][:2000]
        width = max([len(title)] + [len(str(v)) for v in sample]) + 2
        ws.set_column(col, col, min(width, _MAX_WIDTH))
    ws.write_row(0, 0, columns, header_format)
    last = len(frame) - 1
    if last >= 0 and columns:
        ws.write_row(last + 1, 0, [column[last] for column in values])
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return ws, SheetRows(len(wb.worksheets()) - 1, values, [None] * len(values), max(last, 0))


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


class _Formats:
    """The cell formats a styled sheet uses, made once per workbook."""
    DATE, DATETIME = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"

    def __init__(self, wb):
        self._wb, self._made = wb, {}

    def get(self, num_format: str, bold: bool = False):
        key = (num_format, bold)
        if key not in self._made:
            self._made[key] = self._wb.add_format({**({"num_format": num_format} if num_format else {}),
                                                   **({"bold": True, "top": 1} if bold else {})})
        return self._made[key]

    def xf_index(self, num_format: str, bold: bool = False) -> int:
        # The index xlsxwriter gives a format as a cell uses it: rows written as XML need it too.
        return self.get(num_format, bold)._get_xf_index()


def _write_styled_sheet(wb, name: str, frame: pd.DataFrame, header_format, formats: _Formats,
                        style: WorkbookStyle, own: dict[str, Kind], with_totals: bool):
    ws = wb.add_worksheet(style.sheet_name(name)[:31])
    columns = [str(c) for c in frame.columns]
    kinds = [kind_of(c, own) for c in columns]
    styled = [_styled_cells(frame, c, k, style) for c, k in zip(columns, kinds)]
    titles = [style.header(c) for c in columns]
    # Each column carries its commonest number format, which xlsxwriter gives every cell written
    # without one: rows go out whole with write_row, and only cells in another format (an amount
    # in a currency with other decimals) are written again with their own.
    column_formats = [_commonest(cell_formats) for _, cell_formats in styled]
    for col, title in enumerate(titles):
        width = {DATE: 12, DATETIME: 20}.get(kinds[col]) if isinstance(kinds[col], str) else None
        if width is None:
            sample = styled[col][0][:2000]
            width = max([_shown_width(title)] + [len(str(v)) for v in sample if v is not None]) + 2
        key = column_formats[col]
        ws.set_column(col, col, min(max(width, _shown_width(title) + 2), _MAX_WIDTH),
                      formats.get(*key) if key else None)
    ws.write_row(0, 0, titles, header_format)
    others: dict[int, list[tuple[int, int]]] = {}
    for col, (values, cell_formats) in enumerate(styled):
        key = column_formats[col]
        if set(cell_formats) <= {None, key}:
            continue        # most columns: every cell in the column's format, or in none
        for r, fmt in enumerate(cell_formats):
            if fmt is not None and fmt != key:
                others.setdefault(r, []).append((col, formats.xf_index(*fmt)))
    values = [column for column, _ in styled]
    last = len(frame) - 1
    if last >= 0 and columns:
        ws.write_row(last + 1, 0, [column[last] for column in values])
        for col, _ in others.get(last, ()):
            ws.write(last + 1, col, values[col][last], formats.get(*styled[col][1][last]))
    rows = SheetRows(len(wb.worksheets()) - 1, values,
                     [formats.xf_index(*key) if key else None for key in column_formats], max(last, 0), others)
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    if with_totals and columns:
        for offset, row in enumerate(totals_rows(frame, columns, kinds, style)):
            r = len(frame) + 1 + offset
            for c, value in enumerate(row):
                if value is None:
                    continue
                kind = kinds[c]
                if isinstance(value, str):
                    ws.write_string(r, c, value, formats.get("", bold=True))
                elif isinstance(kind, Money):
                    currency = kind.currency or (row[columns.index(kind.currency_column)]
                                                 if kind.currency_column in columns else "")
                    ws.write_number(r, c, float(value), formats.get(_money_format(currency or ""), bold=True))
                else:
                    ws.write_number(r, c, float(value), formats.get("0", bold=True))
    return ws, rows


def _commonest(cell_formats: list) -> tuple | None:
    counts: dict[tuple, int] = {}
    for fmt in cell_formats:
        if fmt is not None:
            counts[fmt] = counts.get(fmt, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


TOTAL = "Total"


def totals_rows(frame: pd.DataFrame, columns: list[str], kinds: list[Kind], style: WorkbookStyle) -> list[list]:
    """The rows under a sheet's data: "Total" in the first column, the sum of each quantity and money
    column (exact decimals); where amounts name their currency row by row, one row per currency,
    each summing that currency's rows alone, with the currency in its column."""
    summed = [i for i, k in enumerate(kinds) if k == QUANTITY or isinstance(k, Money)]
    if not summed:
        return []
    per_row = sorted({k.currency_column for k in kinds if isinstance(k, Money) and k.currency_column
                      and k.currency_column in columns})
    label = style.header(TOTAL)
    groups: list[tuple[str, pd.Series]] = []
    if per_row:
        by = frame[per_row[0]].fillna("").astype(str).str.strip().str.upper()
        for currency in sorted(set(by)) or [""]:
            groups.append((currency, by == currency))
    else:
        groups.append(("", pd.Series(True, index=frame.index)))
    rows = []
    for currency, mask in groups:
        row: list = [None] * len(columns)
        row[0] = f"{label} {currency}".strip()
        for i in summed:
            kind = kinds[i]
            if (isinstance(kind, Money) and per_row and kind.currency_column
                    and kind.currency_column != per_row[0]):
                continue      # in another column's currencies: a sum over these rows would mix them
            values = [as_amount(v) for v in frame.loc[mask, columns[i]].tolist()]
            row[i] = sum((v for v in values if v is not None), start=Decimal(0))
        for column in per_row:
            i = columns.index(column)
            if i != 0:
                row[i] = currency
        rows.append(row)
    return rows


def _shown_width(text: str) -> int:
    # A CJK character takes two columns' width.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _money_format(currency: str) -> str:
    return "#,##0" if decimals(currency) == 0 else "#,##0.00"


def _styled_cells(frame: pd.DataFrame, column: str, kind: Kind, style: WorkbookStyle) -> tuple[list, list]:
    """The cells of ``column``: their values, and the (number format, bold) each needs, or None.
    A value that is not what its kind expects is written as text, never dropped."""
    series = frame[column]
    if isinstance(kind, Money):
        if kind.currency:
            currencies = [kind.currency] * len(series)
        elif kind.currency_column in frame:
            currencies = frame[kind.currency_column].fillna("").astype(str).tolist()
        else:
            currencies = [""] * len(series)
        values, cell_formats, made = [], [], {}
        for value, currency in zip(series.tolist(), currencies):
            number = _amount(value)
            if number is None:
                values.append(_text_cell(value))
                cell_formats.append(None)
            else:
                values.append(number)
                if currency not in made:
                    made[currency] = (_money_format(currency), False)
                cell_formats.append(made[currency])
        return values, cell_formats
    if kind in (DATETIME, DATE):
        key = (_Formats.DATETIME if kind == DATETIME else _Formats.DATE, False)
        values = ([as_moment(v, style.zone) for v in series.tolist()] if kind == DATETIME
                  else [as_day(v) for v in series.tolist()])
        originals = series.tolist()
        cell_formats = []
        for i, value in enumerate(values):
            if value is None:
                values[i] = _text_cell(originals[i])
                cell_formats.append(None)
            else:
                cell_formats.append(key)
        return values, cell_formats
    if kind in (QUANTITY, NUMBER):
        values = []
        for value in series.tolist():
            if type(value) is int:
                values.append(value)
                continue
            number = _amount(value) if not isinstance(value, bool) else None
            if number is None:
                values.append(_text_cell(value))
            else:   # a whole number as one: the same cell text, and no ".0" where a reader shows it
                values.append(int(number) if number.is_integer() else number)
        return values, [None] * len(values)
    values = _cells(series)
    return [v if v != "" else None for v in values], [None] * len(values)


def _amount(value) -> float | None:
    """An amount as the number a cell holds; text like "12.50" (what the store keeps) takes the short
    way, which gives the same float as through Decimal (both round correctly)."""
    if type(value) is str:
        if _PLAIN_AMOUNT.fullmatch(value):
            return float(value)
        if not value:       # most blanks: without Decimal refusing them
            return None
    amount = as_amount(value)
    return None if amount is None else float(amount)


def _text_cell(value) -> str | None:
    if missing(value) or value == "":
        return None
    return _fitting(str(value))


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
    values = series.tolist()
    if set(map(type, values)) <= {str} and max(map(len, values), default=0) <= _MAX_CELL:
        return values       # the common column, checked in C
    return [v if type(v) is str and len(v) <= _MAX_CELL else _as_text(v) for v in values]


def _as_text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else _fitting(str(value))


def _fitting(text: str) -> str:
    # Excel holds 32,767 characters in a cell; xlsxwriter would cut a longer text without a mark.
    return text if len(text) <= _MAX_CELL else text[:_MAX_CELL - 1] + "…"
