"""Which sheets of a workbook count, and how big a workbook really is; through the CLI on a real workspace.

Sheets of one kind are combined, but a record on two sheets (a sheet copied in
Excel, "Orders (2)") rejects the file whole, naming both sheets and rows. A sheet
with a few rows and far-away columns is measured for its real used range before
any size limit refuses it. Each hostile workbook sits in a batch beside healthy
CSVs, which still apply; nothing of the workbook does; the next run goes on.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from batchship.config import Limits
from batchship.errors import FileRejected
from batchship.io import workbook_reader
from batchship.io.tabular import read_sheets
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

PAID = "2026-11-01 08:00:00"
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
ACTION_HEADER = ["shop", "order_id", "action", "note"]


# ---- the batch around each workbook ----------------------------------------------------------------

def _good_inputs(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 10, "A-1"], ["SZ", "B", 10, "B-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("GOOD1", "A", 1, PAID), order_row("GOOD2", "B", 2, PAID)])


def _assert_good_batch_applied(ws) -> None:
    orders = ws.orders()
    assert {"GOOD1", "GOOD2"} <= set(orders["order_id"])
    assert {r[0] for r in ws.db().execute("SELECT sku FROM products")} >= {"A", "B"}
    for name in ("products.csv", "stock.csv", "pool.csv", "orders.csv"):
        assert list((ws.root / "archive").rglob(name)), f"{name} was not archived"


def _order_ids(ws) -> set[str]:
    return {r[0] for r in ws.db().execute("SELECT order_id FROM orders")}


def _line_count(ws, order_id: str) -> int:
    return ws.db().execute("SELECT COUNT(*) FROM lines WHERE order_id = ?", (order_id,)).fetchone()[0]


def _rejected(ws, name: str) -> list[dict]:
    assert (ws.root / "failed" / name).exists(), f"{name} is not in failed/"
    assert not (ws.root / "inbox" / name).exists()
    return ws.errors_report(name).to_dict("records")


def _next_run_goes_on(ws) -> None:
    ws.drop("later.csv", ORDER_HEADER, [order_row("LATER1", "A", 1, PAID)])
    assert ws.run() == 0
    assert "LATER1" in _order_ids(ws)


def _workbook(path: Path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        sheet = wb.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    wb.save(path)
    return path


def _copied(path: Path, source: str, copy: str, extra: list[list] = ()) -> Path:
    """The workbook with ``source`` duplicated as Excel does it (same cells), plus ``extra`` rows on the copy."""
    wb = openpyxl.load_workbook(path)
    sheet = wb.copy_worksheet(wb[source])
    sheet.title = copy
    for row in extra:
        sheet.append(row)
    wb.save(path)
    return path


# ---- a record on two sheets ------------------------------------------------------------------------

def test_an_orders_workbook_with_a_duplicated_sheet_is_rejected_naming_both_sheets(ws):
    _good_inputs(ws)
    path = _workbook(ws.root / "inbox" / "day.xlsx", {"Orders": [
        ORDER_HEADER, order_row("1001", "A", 1, PAID), order_row("1001", "B", 1, PAID),
        order_row("1002", "A", 3, PAID)]})
    _copied(path, "Orders", "Orders (2)")
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "day.xlsx")
    # one problem per order: its first row on the copy, naming its first row on the original
    assert [(r["sheet"], r["row"], r["column"], r["value"]) for r in report] == [
        ("Orders (2)", "2", "order_id", "1001"), ("Orders (2)", "4", "order_id", "1002")]
    assert report[0]["problem"].startswith("sheet 'Orders (2)' row 2 repeats sheet 'Orders' row 2: order 1001")
    assert report[1]["problem"].startswith("sheet 'Orders (2)' row 4 repeats sheet 'Orders' row 4: order 1002")
    assert not {"1001", "1002"} & _order_ids(ws)
    _next_run_goes_on(ws)


def test_a_sheet_copy_with_one_extra_row_is_rejected_and_its_new_row_not_applied(ws):
    _good_inputs(ws)
    path = _workbook(ws.root / "inbox" / "week.xlsx", {"Monday": [
        ORDER_HEADER, order_row("2001", "A", 1, PAID), order_row("2002", "B", 1, PAID)]})
    _copied(path, "Monday", "Monday (2)", extra=[order_row("2003", "A", 2, PAID)])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "week.xlsx")
    assert [(r["sheet"], r["row"]) for r in report] == [("Monday (2)", "2"), ("Monday (2)", "3")]
    assert "repeats sheet 'Monday' row 3: order 2002" in report[1]["problem"]
    assert not {"2001", "2002", "2003"} & _order_ids(ws)
    _next_run_goes_on(ws)


def test_the_same_order_on_two_sheets_of_different_lines_is_rejected(ws):
    # Not a copy: the second sheet adds a line to an order of the first. Where the order ends is unclear.
    _good_inputs(ws)
    _workbook(ws.root / "inbox" / "split.xlsx", {
        "Shop A": [ORDER_HEADER, order_row("3001", "A", 1, PAID), order_row("3002", "A", 1, PAID)],
        "More": [ORDER_HEADER, order_row("3003", "B", 1, PAID), order_row("3001", "B", 4, PAID)]})
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "split.xlsx")
    assert len(report) == 1
    assert report[0]["problem"].startswith("sheet 'More' row 3 repeats sheet 'Shop A' row 2: order 3001")
    assert not {"3001", "3002", "3003"} & _order_ids(ws)
    _next_run_goes_on(ws)


def test_a_products_workbook_with_one_sku_on_two_sheets_is_rejected(ws):
    _good_inputs(ws)
    _workbook(ws.root / "inbox" / "catalogue.xlsx", {
        "Mugs": [PRODUCT_HEADER, product_row("MUG-1"), product_row("MUG-2", grams=300)],
        "Cups": [PRODUCT_HEADER, product_row("CUP-1"), product_row(" mug-2 ", grams=900)]})
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "catalogue.xlsx")
    assert [(r["sheet"], r["row"], r["column"]) for r in report] == [("Cups", "3", "sku")]
    assert report[0]["problem"].startswith("sheet 'Cups' row 3 repeats sheet 'Mugs' row 3: SKU mug-2")
    skus = {r[0] for r in ws.db().execute("SELECT sku FROM products")}
    assert not {"MUG-1", "MUG-2", "CUP-1", "mug-2"} & skus
    _next_run_goes_on(ws)


def test_a_stock_count_split_over_two_sheets_sharing_one_warehouse_and_sku_is_rejected(ws):
    _good_inputs(ws)
    _workbook(ws.root / "inbox" / "count.xlsx", {
        "Shelf 1": [STOCK_HEADER, ["SZ", "A", 3, "A-1"], ["SZ", "C", 4, "A-2"]],
        "Shelf 2": [STOCK_HEADER, ["SZ", "D", 1, "B-1"], ["sz", "A", 2, "B-2"]]})
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "count.xlsx")
    assert [(r["sheet"], r["row"]) for r in report] == [("Shelf 2", "3")]
    assert report[0]["problem"].startswith(
        "sheet 'Shelf 2' row 3 repeats sheet 'Shelf 1' row 2: warehouse sz, SKU A")
    stock = ws.stock()
    assert ("SZ", "C") not in stock.index and ("SZ", "D") not in stock.index
    # the CSV's count stands (GOOD1 took one A), neither 3, 2 nor 5
    assert stock.loc[("SZ", "A"), "on_hand"] == 10
    _next_run_goes_on(ws)


@pytest.mark.parametrize("kind, header, first, second, message", [
    ("tracking pool", POOL_HEADER, [["YW", s10(101)], ["YW", s10(102)]], [["YW", s10(103)], ["YW", s10(101)]],
     f"sheet 'Sheet B' row 3 repeats sheet 'Sheet A' row 2: tracking number {s10(101)}"),
    ("actions", ACTION_HEADER, [["shop-a", "GOOD1", "hold", ""]], [["shop-a", "GOOD2", "hold", ""],
                                                                  ["shop-a", "GOOD1", "cancel", ""]],
     "sheet 'Sheet B' row 3 repeats sheet 'Sheet A' row 2: order GOOD1"),
    ("ship confirmations", ["tracking_or_order_id"], [[s10(1)]], [[s10(2)], [s10(1).lower()]],
     f"sheet 'Sheet B' row 3 repeats sheet 'Sheet A' row 2: scan {s10(1).lower()}"),
], ids=["tracking pool", "actions", "ship confirmations"])
def test_other_kinds_with_one_key_on_two_sheets_are_rejected(ws, kind, header, first, second, message):
    _good_inputs(ws)
    assert ws.run() == 0
    before = {r for r in ws.db().execute("SELECT tracking_number, status FROM pool")}
    stages = {r for r in ws.db().execute("SELECT order_id, stage FROM orders")}
    _workbook(ws.root / "inbox" / "two.xlsx", {"Sheet A": [header, *first], "Sheet B": [header, *second]})
    ws.drop("products-2.csv", PRODUCT_HEADER, [product_row("C")])
    assert ws.run() == 1
    assert "C" in {r[0] for r in ws.db().execute("SELECT sku FROM products")}
    report = _rejected(ws, "two.xlsx")
    assert len(report) == 1 and report[0]["problem"].startswith(message)
    assert {r for r in ws.db().execute("SELECT tracking_number, status FROM pool")} == before
    assert {r for r in ws.db().execute("SELECT order_id, stage FROM orders")} == stages
    _next_run_goes_on(ws)


# ---- sheets that are read together, or left out ----------------------------------------------------

def test_two_sheets_with_different_orders_are_both_counted(ws):
    _good_inputs(ws)
    _workbook(ws.root / "inbox" / "shops.xlsx", {
        "Shop A": [ORDER_HEADER, order_row("4001", "A", 1, PAID), order_row("4001", "B", 1, PAID)],
        "Notes": [["counted by Li"], ["all paid"]],
        "Shop B": [ORDER_HEADER, order_row("4002", "A", 2, PAID, shop="shop-b"),
                   order_row("4001", "B", 1, PAID, shop="shop-b")]})   # same id, other shop: another order
    assert ws.run() == 0
    _assert_good_batch_applied(ws)
    rows = ws.db().execute("SELECT shop, order_id, line_no, quantity FROM lines WHERE order_id LIKE '400%' "
                           "ORDER BY shop, order_id, line_no").fetchall()
    assert rows == [("shop-a", "4001", 1, 1), ("shop-a", "4001", 2, 1),
                    ("shop-b", "4001", 1, 1), ("shop-b", "4002", 1, 2)]
    assert {"4001", "4002"} <= set(ws.orders()["order_id"])
    _next_run_goes_on(ws)


def test_a_stock_count_with_a_sheet_per_warehouse_applies_every_sheet(ws):
    _good_inputs(ws)
    _workbook(ws.root / "inbox" / "count.xlsx", {
        "Shenzhen": [STOCK_HEADER, ["SZ", "C", 4, "C-1"]],
        "Yiwu": [STOCK_HEADER, ["YW", "C", 6, "C-1"], ["YW", "A", 1, "A-9"]]})
    assert ws.run() == 0
    stock = ws.stock()
    assert (stock.loc[("SZ", "C"), "on_hand"], stock.loc[("YW", "C"), "on_hand"],
            stock.loc[("YW", "A"), "on_hand"]) == (4, 6, 1)


def test_a_hidden_copy_of_the_order_sheet_is_left_out(ws):
    _good_inputs(ws)
    rows = [ORDER_HEADER, order_row("5001", "A", 2, PAID)]
    _workbook(ws.root / "inbox" / "hidden.xlsx", {"Orders": rows, "Orders (2)": rows}, hidden=("Orders (2)",))
    assert ws.run() == 0
    assert ws.db().execute("SELECT line_no, quantity FROM lines WHERE order_id = '5001'").fetchall() == [(1, 2)]


# ---- wide but small workbooks ------------------------------------------------------------------------

def test_a_few_rows_with_data_out_to_column_xfd_are_read(ws):
    """Three rows, header in A:D, notes in column 3000 and XFD: about 50,000 cells, not 99,999 rows x 16,384."""
    _good_inputs(ws)
    path = ws.root / "inbox" / "wide.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Count"
    sheet.append(STOCK_HEADER)
    sheet.append(["SZ", "W1", 7, "W-1"])
    sheet.append(["SZ", "W2", 8, "W-2"])
    sheet.cell(row=2, column=3000, value="checked twice")
    sheet["XFD3"] = "stray"
    wb.save(path)
    assert ws.run() == 0
    _assert_good_batch_applied(ws)
    stock = ws.stock()
    assert (stock.loc[("SZ", "W1"), "on_hand"], stock.loc[("SZ", "W2"), "on_hand"]) == (7, 8)


def test_a_formatted_but_empty_cell_at_the_last_row_and_column_does_not_count(ws):
    """Excel keeps the format of a cell that was cleared; the parser has nothing there to build."""
    _good_inputs(ws)
    path = ws.root / "inbox" / "formatted.xlsx"
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Count"
    sheet.append(STOCK_HEADER)
    sheet.append(["SZ", "F1", 3, ""])
    sheet["XFD1048576"].font = openpyxl.styles.Font(bold=True)
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        assert b'r="XFD1048576"' in zf.read("xl/worksheets/sheet1.xml")
    assert ws.run() == 0
    assert ws.stock().loc[("SZ", "F1"), "on_hand"] == 3


_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                  '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                  'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                  'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                  'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                  '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/{type}" Target="{target}"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')


def _hand_made_xlsx(path: Path, sheet_name: str, rows: dict[int, dict[str, str] | str], dimension: str = "") -> Path:
    """A one-sheet workbook whose worksheet XML is written here: ``rows`` maps a row number to
    {ref: text}, or to the row's cells as raw XML."""
    cells = "".join(f'<row r="{r}">' + (refs if isinstance(refs, str) else "".join(
        f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>' for ref, text in refs.items())) + "</row>"
                    for r, refs in rows.items())
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main">{dim}<sheetData>{cells}</sheetData></worksheet>')
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS.format(type="officeDocument", target="xl/workbook.xml"))
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(name=sheet_name))
        zf.writestr("xl/_rels/workbook.xml.rels", _RELS.format(type="worksheet", target="worksheets/sheet1.xml"))
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _stock_rows(*data: tuple[str, str, str]) -> dict[int, dict[str, str]]:
    rows = {1: {"A1": "warehouse", "B1": "sku", "C1": "on_hand"}}
    for n, (warehouse, sku, count) in enumerate(data, start=2):
        rows[n] = {f"A{n}": warehouse, f"B{n}": sku, f"C{n}": count}
    return rows


def test_a_dimension_tag_claiming_the_whole_sheet_is_not_believed(ws):
    _good_inputs(ws)
    _hand_made_xlsx(ws.root / "inbox" / "liar.xlsx", "Count", _stock_rows(("SZ", "L1", "2"), ("SZ", "L2", "5")),
                    dimension="A1:XFD1048576")
    assert ws.run() == 0
    stock = ws.stock()
    assert (stock.loc[("SZ", "L1"), "on_hand"], stock.loc[("SZ", "L2"), "on_hand"]) == (2, 5)


class _NoParser:
    """Stands in for the spreadsheet parser where a file must be refused before it is parsed."""
    class CalamineWorkbook:
        @staticmethod
        def from_path(path):
            raise AssertionError(f"the parser was asked to load {path}")


def test_a_genuinely_huge_grid_is_refused_before_the_parser_builds_it(ws, monkeypatch):
    _good_inputs(ws)
    rows = _stock_rows(("SZ", "H1", "1"))
    rows[500_000] = {"XFD500000": "far away"}
    _hand_made_xlsx(ws.root / "inbox" / "huge.xlsx", "Count", rows, dimension="A1:C2")
    monkeypatch.setattr(workbook_reader, "calamine", _NoParser)   # the good inputs are CSVs: no parser needed
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "huge.xlsx")
    assert len(report) == 1 and report[0]["sheet"] == "Count"
    problem = report[0]["problem"]
    assert "used range is A1:XFD500000" in problem and "8,192,000,000 cells" in problem
    assert "the limit is 80,000,000 cells (limits.max_grid_cells)" in problem
    assert ("SZ", "H1") not in ws.stock().index
    monkeypatch.undo()
    _next_run_goes_on(ws)


def test_a_wide_sheet_over_a_lowered_cell_limit_is_refused_naming_its_real_used_range(ws):
    (ws.root / "batchship.toml").write_text((ws.root / "batchship.toml").read_text(encoding="utf-8")
                                            + "\n[limits]\nmax_grid_cells = 5000\n", encoding="utf-8")
    _good_inputs(ws)
    rows = _stock_rows(("SZ", "X1", "1"), ("SZ", "X2", "2"))
    rows[3]["DKJ3"] = "note"      # column 3,000: 3 rows x 3,000 columns = 9,000 cells
    _hand_made_xlsx(ws.root / "inbox" / "wide.xlsx", "Count", rows)
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "wide.xlsx")
    assert len(report) == 1 and report[0]["sheet"] == "Count"
    assert report[0]["problem"].startswith(
        "the sheet's used range is A1:DKJ3: it reaches row 3 and column DKJ, 9,000 cells in all; "
        "the limit is 5,000 cells (limits.max_grid_cells)")
    assert ("SZ", "X1") not in ws.stock().index


@pytest.mark.parametrize("far_cell", [
    '<c r="XFD500000" t="inlineStr" x="/>"><is><t>far</t></is></c>',       # a quoted "/>" is not the tag's end
    '<x:c r="XFD500000" t="inlineStr"><x:is><x:t>far</x:t></x:is></x:c>',  # a prefixed cell tag
    '<c r="XFD500000" s="1"><v></v></c>',                                    # empty, but not self-closed
    '<c r="XFD500000" t="inlineStr"><is><t></t></is></c>',                   # the parser builds these two
    '<c r="XFD500000" t="str"><v></v></c>',
], ids=["quoted end", "prefixed", "open empty", "empty inline string", "empty formula string"])
def test_a_far_cell_is_measured_however_its_tag_is_written(tmp_path, far_cell):
    rows = _stock_rows(("SZ", "H1", "1"))
    rows[500_000] = far_cell
    path = _hand_made_xlsx(tmp_path / "far.xlsx", "Count", rows)
    with pytest.raises(FileRejected) as caught:
        read_sheets(path, Limits())
    assert "used range is A1:XFD500000" in caught.value.problems[0].problem


@pytest.mark.parametrize("far_cell", [
    '<c r="XFD1048576" s="1"/>',
    '<c r="XFD1048576" s="1" t="n"></c>',              # openpyxl's formatted empty cell when lxml is installed
    '<c r="XFD1048576" s="1">\r\n  </c>',
    '<c r="XFD1048576" s="1" x="a>b" t=\'n\' ></c >',    # a quoted ">" is not the tag's end
], ids=["self-closed", "end tag", "whitespace", "quoted and spaced"])
def test_a_far_cell_with_nothing_inside_does_not_count_however_it_is_closed(tmp_path, far_cell):
    rows = _stock_rows(("SZ", "H1", "1"))
    rows[1_048_576] = far_cell
    path = _hand_made_xlsx(tmp_path / "far.xlsx", "Count", rows)
    sheet, = read_sheets(path, Limits())
    assert [list(row)[:3] for row in sheet.rows] == [["warehouse", "sku", "on_hand"], ["SZ", "H1", "1"]]
