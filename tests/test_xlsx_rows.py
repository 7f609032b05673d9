"""Data rows written as sheet XML (writers/xlsx_rows.py) are the rows xlsxwriter itself writes.

Each case writes one sheet twice: once wholly by xlsxwriter, once with only its header and last row
by xlsxwriter and the rows between spliced in. The sheet XML must be the same but for xlsxwriter's
optional ``spans`` hints; then readers (openpyxl, calamine) see the same cells.
"""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from batchship.writers.columns import WorkbookStyle
from batchship.writers.xlsx import write_workbook
from batchship.writers.xlsx_rows import SheetRows, splice_rows

OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
           "constant_memory": True}

HOSTILE_TEXT = ["plain", "=1+1", "@SUM(A1)", "a & b < c > d", 'say "hi"', " leading", "trailing ", "tab\t",
                "line\nbreak", "ends with newline\n", "\x00nul", "bell\x07", "esc\x1b[0m", "_x0041_ literal",
                "_X00e9_ upper", "\ufffe\uffff", "emoji 📦", "中文地址 上海市", "Jürgen Müller", "", None,
                "x" * 5000, "\u00a0nbsp", "\u3000wide space", "]]>", "&amp;"]
NUMBERS = [0, 1, -1, 2**53 + 1, 10**20, 0.1, 1 / 3, -0.0, 1e-20, 1.5e300, 123456789.123, None, 7]


def _sheet_xml(path, part="xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return re.sub(r' spans="[0-9:]+"', "", z.read(part).decode("utf-8"))


def _same(whole: str, spliced: str) -> None:
    """Equal texts; else the first difference, briefly (pytest's own diff of two long XMLs takes minutes)."""
    if whole != spliced:
        at = next((i for i, (a, b) in enumerate(zip(whole, spliced)) if a != b), min(len(whole), len(spliced)))
        raise AssertionError(f"sheet XML differs at {at}: xlsxwriter {whole[at - 80:at + 80]!r}, "
                             f"spliced {spliced[at - 80:at + 80]!r}")


def _both(tmp_path, columns: list[list], formats: list[dict | None], own: dict[int, dict[int, dict]] = {}):
    """Write the rows with xlsxwriter alone and spliced; return both sheet XMLs."""
    count = len(columns[0])
    paths = []
    for spliced in (False, True):
        path = tmp_path / f"{'spliced' if spliced else 'whole'}.xlsx"
        wb = xlsxwriter.Workbook(str(path.with_suffix(".partial")) if spliced else str(path), OPTIONS)
        header = wb.add_format({"bold": True})
        ws = wb.add_worksheet("data")
        made = [wb.add_format(f) if f else None for f in formats]
        for col, fmt in enumerate(made):
            ws.set_column(col, col, 12, fmt)
        ws.write_row(0, 0, [f"c{i}" for i in range(len(columns))], header)
        other = {(r, c): wb.add_format(f) for r, cells in own.items() for c, f in cells.items()}
        for fmt in [f for f in made if f] + list(other.values()):   # the same numbering in both files
            fmt._get_xf_index()
        first = count - 1 if spliced else 0
        for r in range(first, count):
            ws.write_row(r + 1, 0, [column[r] for column in columns])
            for c in range(len(columns)):
                if (r, c) in other:
                    ws.write(r + 1, c, columns[c][r], other[(r, c)])
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, count, len(columns) - 1)
        rows = SheetRows(0, columns, [f._get_xf_index() if f else None for f in made], count - 1,
                         {r: [(c, other[(r, c)]._get_xf_index()) for c in cells] for r, cells in own.items()
                          if r < count - 1})
        wb.close()
        if spliced:
            splice_rows(path.with_suffix(".partial"), path, [rows])
        paths.append(path)
    return _sheet_xml(paths[0]), _sheet_xml(paths[1]), paths


def test_hostile_text_and_numbers_give_the_same_sheet_xml_as_xlsxwriter(tmp_path):
    n = 200
    columns = [
        [HOSTILE_TEXT[i % len(HOSTILE_TEXT)] for i in range(n)],
        [NUMBERS[i % len(NUMBERS)] for i in range(n)],
        [[True, False, None][i % 3] for i in range(n)],
        [[f"B{i:06d}", i, None, 2.5, "", True][i % 6] for i in range(n)],      # mixed kinds in one column
        [None] * n,
        [[0, -7, 2**53, -(2**53), None, 42][i % 6] for i in range(n)],            # whole numbers only
        [[3, 2**53 + 1, None, -(10**16 - 1), 2**63 - 1][i % 5] for i in range(n)],  # some no float holds
        [[2**53 + 1, 5, None][i % 3] for i in range(n)],
    ]
    whole, spliced, _ = _both(tmp_path, columns, [None] * len(columns))
    _same(whole, spliced)
    assert "_x005F_x0041_" in spliced and "_x0000_nul" in spliced and "&lt;" in spliced


def test_dates_money_formats_and_cells_in_their_own_format_match_xlsxwriter(tmp_path):
    n = 120
    moments = [datetime(2026, 12, 6, 23, 59, 59, 500_000), datetime(2026, 1, 1), datetime(1900, 3, 1, 6),
               datetime(1900, 2, 28, 12), datetime(1900, 2, 28, 23, 59, 59), datetime(1900, 1, 2, 8), None,
               "not a date"]
    days = [date(2026, 12, 6), date(2000, 2, 29), date(1999, 12, 31), date(1900, 2, 28), date(1900, 3, 1), None]
    amounts = [12.5, 1999.99, 0.01, 100000, None, "n/a"]
    columns = [[moments[i % len(moments)] for i in range(n)], [days[i % len(days)] for i in range(n)],
               [amounts[i % len(amounts)] for i in range(n)], [f"row {i}" for i in range(n)]]
    formats = [{"num_format": "yyyy-mm-dd hh:mm:ss"}, {"num_format": "yyyy-mm-dd"}, {"num_format": "#,##0.00"}, None]
    own = {r: {2: {"num_format": "#,##0"}} for r in range(0, n, 7)}        # a JPY amount among USD ones
    own[n - 1] = {3: {"num_format": "@"}}
    whole, spliced, paths = _both(tmp_path, columns, formats, own)
    _same(whole, spliced)
    sheet = openpyxl.load_workbook(paths[1])["data"]
    assert sheet.max_row == n + 1
    assert sheet["A2"].value == datetime(2026, 12, 6, 23, 59, 59, 500_000)
    # Around the 29 February 1900 that Excel counts and Python does not, moments read back as written.
    assert [sheet[f"A{r}"].value for r in (4, 5, 6, 7)] == moments[2:6]
    assert [sheet[f"B{r}"].value.date() for r in (5, 6)] == [date(1900, 2, 28), date(1900, 3, 1)]
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["C2"].number_format == "#,##0" and sheet["C3"].number_format == "#,##0.00"


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 4999])
def test_a_sheet_of_any_length_reads_back_whole(tmp_path, rows):
    frame = pd.DataFrame({"order_id": [f"A{i:05d}" for i in range(rows)], "quantity": [i % 4 for i in range(rows)],
                          "note": [HOSTILE_TEXT[i % len(HOSTILE_TEXT)] or "" for i in range(rows)]})
    path = write_workbook(tmp_path / "orders.xlsx", [("orders", frame)])
    read = openpyxl.load_workbook(path, read_only=True)["orders"]
    assert read.max_row == rows + 1
    back = pd.read_excel(path, engine="calamine", dtype=object, keep_default_na=False)
    assert back["order_id"].tolist() == frame["order_id"].tolist()
    assert [int(q) for q in back["quantity"]] == frame["quantity"].tolist()
    with zipfile.ZipFile(path) as z:
        assert not z.testzip()
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.tmp"))


def test_a_styled_sheet_keeps_formats_totals_filter_and_frozen_header(tmp_path):
    n = 3000
    frame = pd.DataFrame({
        "shop": [f"shop-{i % 3}" for i in range(n)], "order_id": [f"A{i:05d}" for i in range(n)],
        "paid_at": ["2026-12-06T10:00:00Z" if i % 5 else "" for i in range(n)],
        "currency": ["JPY" if i % 4 == 0 else "USD" for i in range(n)],
        "goods_value": [str(Decimal(1000 + i) / 100) for i in range(n)], "quantity": [1 + i % 3 for i in range(n)],
    })
    style = WorkbookStyle()
    path = write_workbook(tmp_path / "orders.xlsx", [("orders", frame)], style=style, totals=("orders",))
    sheet = openpyxl.load_workbook(path)[style.sheet_name("orders")]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:F{n + 1}"
    assert sheet.cell(3, 3).value == datetime(2026, 12, 6, 18, 0) and sheet.cell(3, 3).number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet.cell(2, 3).value is None and sheet.cell(7, 3).value is None
    assert sheet.cell(2, 5).number_format == "#,##0" and sheet.cell(3, 5).number_format == "#,##0.00"
    assert sheet.cell(3, 5).value == pytest.approx(10.01)
    totals = {sheet.cell(r, 4).value: sheet.cell(r, 5).value for r in (n + 2, n + 3)}
    usd = sum(Decimal(1000 + i) / 100 for i in range(n) if i % 4)
    assert totals["USD"] == pytest.approx(float(usd))
    assert sheet.cell(n + 2, 1).font.b and sheet.cell(n + 2, 6).value == sum(1 + i % 3 for i in range(n) if i % 4 == 0)


@pytest.mark.parametrize("odd", [" leading", "trailing ", "a&b", "_x0009_", "tab\x09end", "new\nline ", "\x1f"])
def test_one_odd_text_among_plain_ones_is_written_as_xlsxwriter_writes_it(tmp_path, odd):
    n = 4_100                                       # three chunks of rows; the odd text in the second
    texts = [f"Street {i}" for i in range(n)]
    texts[2_345] = odd
    whole, spliced, paths = _both(tmp_path, [texts, list(range(n))], [None, None])
    _same(whole, spliced)
    read = [openpyxl.load_workbook(path, read_only=True)["data"].cell(2_347, 1).value for path in paths]
    assert read[0] == read[1] and read[1].strip() and len(read[1]) >= len(odd)


@pytest.mark.parametrize("style", [None, WorkbookStyle()])
def test_a_text_longer_than_a_cell_holds_is_cut_with_a_mark_and_its_neighbours_kept(tmp_path, style):
    """Excel holds 32,767 characters in a cell: a longer text is cut to that, ending in "…"."""
    column = [f"text {i}" for i in range(300)]
    column[150] = "y" * 40_000
    frame = pd.DataFrame({"long": column, "plain": [f"plain {i}" for i in range(300)]})
    path = write_workbook(tmp_path / "long.xlsx", [("sheet", frame)], style=style)
    rows = list(openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert rows[150][0] == "y" * 32_766 + "…"
    assert [r[0] for r in rows[:150]] == column[:150] and [r[0] for r in rows[151:]] == column[151:]
    assert [r[1] for r in rows] == frame["plain"].tolist()
