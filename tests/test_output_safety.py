"""Text from marketplaces never becomes a live formula or a path in what batchship writes.

One batch through the CLI carries formula-looking buyer names, addresses, order
ids and shop names, from batchship's own order workbook and from a Shopify
export in inbox/shopA/, through waybill and labels; a file is rejected with a
formula-looking bad cell. Then every workbook and every upload file the run
wrote is opened and checked cell by cell.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, product_row, s10, settled, write_csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PAID = "2026-11-01 08:00:00"

CONFIG = """
[[shops]]
name = "shop-a"
platform = "batchship"

[[shops]]
name = "shopA"
platform = "shopify"

[[channels]]
name = "YW"
label_size = "100x150"
carriers = { shopify = "Yanwen" }

[[channels]]
name = "../evil"
label_size = "100x100"
carriers = { shopify = "China Post" }

[[channels]]
name = "a/b"
carriers = { shopify = "4PX" }

[[logistics]]
countries = ["GB"]
channel = "../evil"
warehouse = "SZ"

[[logistics]]
countries = ["CA"]
channel = "a/b"
warehouse = "../wh"

[[logistics]]
channel = "YW"
warehouse = "SZ"
"""

HYPERLINK = '=HYPERLINK("http://x","y")'
AT_SUM = "@SUM(1)"
PLUS_ADDRESS = "+44 Harbour Road"
MINUS_CITY = "-Springfield"
TAB_NAME = "\t=2+3"          # importers strip surrounding whitespace: written as "=2+3", still text
CR_ADDRESS2 = "\r=3+4"

# Our own order sheet, as a workbook whose cells are text (xlsxwriter write_string).
OWN_ORDERS = [
    # shop, order_id, sku, qty, name, address1, address2, city, postcode, country
    ("shop-a", "H1", "A", 1, HYPERLINK, "742 Evergreen Terrace", "", "Springfield", "62704", "US"),
    ("shop-a", "H2", "A", 2, AT_SUM, PLUS_ADDRESS, CR_ADDRESS2, MINUS_CITY, "NW1 6XE", "GB"),
    ("shop-a", "H3", "B", 1, TAB_NAME, "1 Main St", "", "Toronto", "M5V 2T6", "CA"),
    ("shop-a", "=1+2", "A", 1, "Formula Order", "1 Main St", "", "Springfield", "62704", "US"),
    ("shop-a", "-7", "B", 1, "Minus Order", "1 Main St", "", "Springfield", "62704", "US"),
    ("shop-a", "../evil", "A", 1, "Path Order", "1 Main St", "", "Springfield", "62704", "US"),
    ("../evil", "P1", "A", 1, "Shop Path 1", "1 Main St", "", "Springfield", "62704", "US"),
    ("a/b", "P2", "B", 1, "Shop Path 2", "1 Main St", "", "Springfield", "62704", "US"),
    ("@shop", "P3", "A", 1, "Shop Formula", "1 Main St", "", "Springfield", "62704", "US"),
]

SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Total",
                  "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
                  "Shipping Name", "Shipping Address1", "Shipping Address2", "Shipping City", "Shipping Zip",
                  "Shipping Province", "Shipping Country", "Shipping Phone", "Cancelled at"]


def _shopify_row(name: str, buyer: str, address1: str = "1 Ocean Ave", city: str = "Springfield",
                 address2: str = "", sku: str = "A") -> list[str]:
    return [name, "buyer@example.com", "paid", "2026-11-01 08:00:00 +0000", "unfulfilled", "USD", "9.90",
            "2026-11-01 07:59:00 +0000", "1", "Widget", "9.90", sku, buyer, address1, address2, city,
            "62704", "IL", "US", "+1 217 555 0134", ""]


SHOPIFY_ROWS = [
    _shopify_row("#1001", HYPERLINK),
    _shopify_row("#1002", AT_SUM, address1=PLUS_ADDRESS, city=MINUS_CITY),
    _shopify_row("#1003", TAB_NAME, address2=CR_ADDRESS2),
    _shopify_row("=1+1", "Formula Order Id", sku="B"),
    _shopify_row("@1004", "At Order Id", sku="B"),
]
# Names as they must read back: the importer trims surrounding whitespace, nothing else.
BUYER_TEXT = {HYPERLINK, AT_SUM, TAB_NAME.strip()}
ARRAY_FORMULA = "{=1+1}"
ADDRESS_TEXT = {PLUS_ADDRESS, MINUS_CITY, CR_ADDRESS2.strip()}


def _own_orders_xlsx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Orders")
    sheet.write_row(0, 0, ORDER_HEADER)
    for r, (shop, order_id, sku, qty, name, a1, a2, city, postcode, country) in enumerate(OWN_ORDERS, start=1):
        cells = [shop, order_id, sku, str(qty), "9.90", "USD", PAID, name, a1, a2, city, "", postcode, country,
                 "+1 217 555 0134", "buyer@example.com"]
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)        # literal text, even when it looks like a formula
    wb.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One run over every hostile input; the tests below inspect what it wrote."""
    base = tmp_path_factory.mktemp("safety")
    ws = Workspace(base / "ws")
    (ws.root / "batchship.toml").write_text(CONFIG, encoding="utf-8")
    inbox = ws.root / "inbox"
    write_csv(inbox / "products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    write_csv(inbox / "stock.csv", ["warehouse", "sku", "on_hand", "shelf"],
              [["SZ", "A", 50, "-A1"], ["SZ", "B", 50, "=B1"], ["../wh", "B", 5, "@C1"]])
    write_csv(inbox / "pool.csv", ["channel", "tracking_number"],
              [["YW", s10(i)] for i in range(1, 30)] + [["../evil", s10(i, "RA")] for i in range(40, 45)]
              + [["a/b", s10(i, "RB")] for i in range(50, 55)])
    _own_orders_xlsx(inbox / "orders.xlsx")
    write_csv(inbox / "shopA" / "orders_export.csv", SHOPIFY_HEADER, SHOPIFY_ROWS)
    # A shop folder whose name carries path separators of another system.
    write_csv(inbox / "a\\..\\evil" / "folder-orders.csv", ORDER_HEADER, [
        ["", "F1", "A", 1, "9.90", "USD", PAID, "{=1+1}", "1 Main St", "", "Springfield", "IL", "62704", "US",
         "", ""]])
    write_csv(inbox / "=SUM(1).csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", "=1+1", ""]])
    outside_before = _files_outside(base, ws.root)
    settled(inbox)   # its own config waits the default settle time for fresh files
    code = ws.run()
    return ws, code, outside_before, base


def _files_outside(base: Path, root: Path) -> set[Path]:
    return {p for p in base.rglob("*") if root not in p.parents and p != root}


def _written_workbooks(ws) -> list[Path]:
    found = sorted(ws.last_outbox().glob("*.xlsx")) + sorted((ws.root / "failed").rglob("*.errors.xlsx"))
    assert found
    return found


def _cells(path: Path):
    wb = openpyxl.load_workbook(path)       # not read-only: data_type tells formula from text
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet.title, cell


def _column(path: Path, sheet: str, title: str) -> list:
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    index = header.index(title)
    return [row[index] for row in ws.iter_rows(min_row=2)
            if not re.match(r"^Total( [A-Z]{3})?$", str(row[0].value or ""))]   # not the totals rows


def test_the_batch_ran_with_one_rejected_file(batch):
    ws, code, _, _ = batch
    assert code == 1
    assert (ws.root / "failed" / "=SUM(1).csv").exists()
    assert (ws.root / "failed" / "=SUM(1).csv.errors.xlsx").exists()
    orders = ws.orders()
    assert {"H1", "H2", "H3", "=1+2", "-7", "../evil", "#1001", "#1002", "#1003", "=1+1", "@1004"} <= set(
        orders["order_id"])
    shipped_to = orders.set_index("order_id")
    # Through waybill to labels: every hostile order has a tracking number and is printable.
    assert (shipped_to["tracking_number"] != "").all(), shipped_to[["stage", "hold_reason", "failure_reason"]]
    assert (shipped_to["stage"] == "print").all()
    assert shipped_to.loc["H2", "channel"] == "../evil" and shipped_to.loc["H3", "channel"] == "a/b"
    labels = sorted(p.name for p in ws.last_outbox().glob("labels-*.pdf"))
    assert len(labels) == 3


def test_no_cell_in_any_written_workbook_is_a_formula(batch):
    ws = batch[0]
    checked = 0
    for path in _written_workbooks(ws):
        for sheet, cell in _cells(path):
            assert cell.data_type != "f", f"{path.name}!{sheet}!{cell.coordinate} is a formula: {cell.value!r}"
            checked += 1
    assert checked > 100


def test_buyer_text_reads_back_as_the_original_string(batch):
    ws = batch[0]
    orders_xlsx = ws.last_outbox() / "orders.xlsx"
    names = _column(orders_xlsx, "orders", "recipient_name")
    values = [c.value for c in names]
    for text in BUYER_TEXT:
        assert values.count(text) == 2, f"{text!r} should appear for our sheet and for Shopify"
    assert values.count(ARRAY_FORMULA) == 1
    for cell in names:
        if cell.value in BUYER_TEXT | {ARRAY_FORMULA}:
            assert cell.data_type == "s"
    address_cells = [c for col in ("address1", "address2", "city") for c in _column(orders_xlsx, "orders", col)]
    assert {c.value for c in address_cells} >= ADDRESS_TEXT
    assert all(c.data_type == "s" for c in address_cells if c.value in ADDRESS_TEXT)
    order_ids = {c.value for c in _column(orders_xlsx, "orders", "order_id")}
    assert {"=1+2", "-7", "=1+1", "@1004"} <= order_ids
    shops = {c.value for c in _column(orders_xlsx, "orders", "shop")}
    assert {"../evil", "a/b", "@shop", "shopA", "a\\..\\evil"} <= shops
    shelves = {c.value for c in _column(ws.last_outbox() / "stock.xlsx", "stock", "shelf")}
    assert shelves == {"-A1", "=B1", "@C1"}


def test_error_report_carries_the_bad_formula_text_as_text(batch):
    ws = batch[0]
    report = ws.root / "failed" / "=SUM(1).csv.errors.xlsx"
    values = _column(report, "errors", "value")
    assert [c.value for c in values] == ["=1+1"] and values[0].data_type == "s"
    rows = _column(report, "errors", "row")
    assert [c.value for c in rows] == [2] and rows[0].data_type == "n"
    files = _column(ws.last_outbox() / "orders.xlsx", "files", "name")
    assert "=SUM(1).csv" in [c.value for c in files]


@pytest.mark.parametrize("workbook, sheet, columns", [
    ("orders.xlsx", "orders", ["source_row"]),
    ("orders.xlsx", "lines", ["quantity", "source_row", "line_no", "weight_g"]),
    ("stock.xlsx", "stock", ["on_hand", "allocated", "available"]),
    ("picklist.xlsx", "picklist", ["quantity"]),
])
def test_numeric_columns_are_numbers(batch, workbook, sheet, columns):
    ws = batch[0]
    for title in columns:
        cells = _column(ws.last_outbox() / workbook, sheet, title)
        assert cells, f"{workbook}!{sheet} has no rows"
        bad = [(c.coordinate, c.value) for c in cells if c.data_type != "n" or not isinstance(c.value, int)]
        assert not bad, f"{workbook}!{sheet}!{title} not numeric: {bad[:5]}"


def _upload_files(ws) -> list[Path]:
    out = ws.last_outbox()
    return sorted(p for p in out.iterdir() if p.suffix in (".csv", ".tsv", ".txt"))


def _delimited_cells(path: Path) -> list[str]:
    delimiter = "\t" if path.suffix in (".tsv", ".txt") else ","
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [cell for row in csv.reader(fh, delimiter=delimiter) for cell in row]


def test_every_upload_cell_that_could_start_a_formula_is_escaped(batch):
    ws = batch[0]
    uploads = _upload_files(ws)
    assert any("shopA-shopify" in p.name for p in uploads)
    all_cells = []
    for path in uploads:
        cells = _delimited_cells(path)
        for value in cells:
            assert not value.startswith(TRIGGERS), f"{path.name}: {value!r} would be evaluated"
        all_cells += cells
    # The hostile order ids and shop name did reach the uploads, made inert.
    assert {"'=1+2", "'-7", "'=1+1", "'@1004", "'@shop"} <= set(all_cells)


def test_shop_channel_and_order_ids_with_path_characters_stay_inside_outbox(batch):
    ws, _, outside_before, base = batch
    assert _files_outside(base, ws.root) == outside_before
    assert not (ws.root / "evil").exists() and not (ws.root / "outbox" / "evil").exists()
    outbox = (ws.root / "outbox").resolve()
    for path in (ws.root / "outbox").rglob("*"):
        real = path.resolve()
        assert outbox in real.parents
        if path.is_file():
            assert real.parent.parent == outbox, f"{path} is not directly in a run folder"
            assert ".." not in path.name and "/" not in path.name
    names = [p.name for p in ws.last_outbox().iterdir()]
    uploads = [n for n in names if n.startswith("upload-")]
    assert len(uploads) == 6, uploads          # shop-a, ../evil, a/b, @shop, a\\..\\evil (folder), shopA
    for folder in ("archive", "failed"):
        for path in (ws.root / folder).rglob("*"):
            assert (ws.root / folder).resolve() in path.resolve().parents
