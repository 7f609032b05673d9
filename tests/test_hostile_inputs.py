"""Broken and hostile inbox files, driven through the CLI on a real workspace.

Each test drops one bad file into a batch beside a valid product list, tracking
pool and order sheet. The bad file must end in failed/ with an errors.xlsx a
person can act on; the good files of the same batch must still be applied.
"""
from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from batchship.cli import main
from batchship.io import xlsx_guard
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10, settled

POOL_HEADER = ["channel", "tracking_number"]
PAID = "2026-11-01 08:00:00"
GOOD_ORDERS = ("GOOD1", "GOOD2")

# Words that only a programmer would understand; none belongs in a report for staff.
_JARGON = re.compile(r"Traceback|Exception|Error:|errno|zlib|Error -\d|\bdict\b|\bNone\b|0x[0-9a-f]|"
                     r"please report this file|object at|codec|utf-8' codec", re.I)


# ---- the batch around each bad file ----------------------------------------------------------------

def _good_inputs(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("GOOD1", "A", 1, PAID), order_row("GOOD2", "B", 2, PAID)])


def _db(ws) -> sqlite3.Connection:
    return sqlite3.connect(ws.root / ".batchship" / "state.sqlite")


def _assert_good_batch_applied(ws) -> pd.DataFrame:
    orders = ws.orders()
    assert set(GOOD_ORDERS) <= set(orders["order_id"])
    good = orders.set_index("order_id").loc[list(GOOD_ORDERS)]
    assert (good["stage"] == "print").all() and (good["tracking_number"] != "").all()
    assert {r[0] for r in _db(ws).execute("SELECT sku FROM products")} == {"A", "B"}
    for name in ("products.csv", "pool.csv", "orders.csv"):
        assert list((ws.root / "archive").rglob(name)), f"{name} was not archived"
    return orders


def _rejected(ws, name: str, *, shop: str = "") -> pd.DataFrame:
    """The rejected file sits in failed/ with its report; the report is returned."""
    folder = ws.root / "failed" / shop if shop else ws.root / "failed"
    assert (folder / name).exists(), f"{name} is not in failed/"
    assert not (ws.root / "inbox" / name).exists()
    assert not list((ws.root / ".batchship" / "claimed").rglob(name))
    # keep_default_na=False: "#N/A" in the report is the cell's text, not a missing value
    report = pd.read_excel(folder / f"{name}.errors.xlsx", dtype=str, engine="calamine", keep_default_na=False)
    assert list(report.columns) == ["sheet", "row", "column", "value", "problem"]
    assert len(report) >= 1
    for problem in report["problem"]:
        assert not _JARGON.search(problem), f"not plain language: {problem!r}"
    return report


def _run_rejecting(ws) -> None:
    assert ws.run() == 1


def _one_problem(report: pd.DataFrame) -> str:
    assert len(report) == 1, report.to_dict("records")
    return report["problem"].iloc[0]


# ---- workbooks made for the tests ------------------------------------------------------------------

def _orders_xlsx(path: Path, rows: list[list], header: list[str] = ORDER_HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Orders"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    wb.save(path)
    return path


def _bad_orders(n: int = 3) -> list[list]:
    return [order_row(f"BAD{i}", "A", 1, PAID) for i in range(1, n + 1)]


def _rewrite_zip(source: Path, target: Path, change) -> Path:
    """Copy a workbook, passing each part's bytes through ``change(name, data)``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return target


def _assert_bad_orders_absent(ws) -> None:
    assert not any(r[0].startswith("BAD") for r in _db(ws).execute("SELECT order_id FROM orders"))


# ---- files that are not spreadsheets at all --------------------------------------------------------

def test_png_named_xlsx_is_rejected_as_an_image(ws):
    _good_inputs(ws)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    (ws.root / "inbox" / "orders.xlsx").write_bytes(png)
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "orders.xlsx"))
    assert problem == "this is not a spreadsheet or text table (looks like a PNG image)"


def test_zero_byte_file_is_rejected_as_empty(ws):
    _good_inputs(ws)
    (ws.root / "inbox" / "empty.xlsx").write_bytes(b"")
    settled(ws.root / "inbox" / "empty.xlsx")   # an empty file is taken only once it is a minute old
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    assert _one_problem(_rejected(ws, "empty.xlsx")) == "the file is empty"


# ---- damaged workbooks -----------------------------------------------------------------------------

def test_truncated_xlsx_is_rejected_as_damaged(ws, tmp_path):
    _good_inputs(ws)
    whole = _orders_xlsx(tmp_path / "whole.xlsx", _bad_orders(40)).read_bytes()
    (ws.root / "inbox" / "cut.xlsx").write_bytes(whole[: len(whole) * 2 // 3])
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "cut.xlsx"))
    assert problem.startswith("the workbook is damaged or incomplete")
    assert "cut short" in problem
    _assert_bad_orders_absent(ws)


def test_xlsx_with_flipped_bytes_is_rejected_as_damaged(ws, tmp_path):
    _good_inputs(ws)
    source = _orders_xlsx(tmp_path / "whole.xlsx", _bad_orders(40))
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # Inside the compressed sheet data, past its local header: the zip directory still reads.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 3
    for i in range(start, start + 16):
        data[i] ^= 0xFF
    (ws.root / "inbox" / "flipped.xlsx").write_bytes(bytes(data))
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "flipped.xlsx"))
    assert problem.startswith("the workbook is damaged")
    assert "xl/worksheets/sheet1.xml" in problem
    _assert_bad_orders_absent(ws)


def test_zip_bomb_xlsx_is_rejected_before_it_is_unpacked(ws, tmp_path):
    _good_inputs(ws)
    source = _orders_xlsx(tmp_path / "whole.xlsx", _bad_orders())
    padding = b" " * (64 * 1024 * 1024)

    def pad(name, data):
        return data.replace(b"<sheetData>", b"<sheetData>" + padding) if name == "xl/worksheets/sheet1.xml" else data

    bomb = _rewrite_zip(source, ws.root / "inbox" / "bomb.xlsx", pad)
    assert bomb.stat().st_size < 200 * 1024            # small on disk, 64 MB unpacked
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "bomb.xlsx"))
    assert "xl/worksheets/sheet1.xml unpacks" in problem and "times larger than it is stored" in problem
    assert "zip bomb" in problem and "limits.max_compression_ratio" in problem


def test_xml_entity_bomb_inside_an_xlsx_part_is_rejected_without_expanding(ws, tmp_path):
    _good_inputs(ws)
    source = _orders_xlsx(tmp_path / "whole.xlsx", _bad_orders())
    laughs = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')

    def inject(name, data):
        if name != "xl/worksheets/sheet1.xml":
            return data
        assert b"BAD1" in data
        return b'<?xml version="1.0" encoding="UTF-8"?>' + laughs + data.replace(b"BAD1", b"&d;", 1)

    _rewrite_zip(source, ws.root / "inbox" / "laughs.xlsx", inject)
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "laughs.xlsx"))
    assert "xl/worksheets/sheet1.xml contains a DOCTYPE declaration" in problem
    assert "not read" in problem
    _assert_bad_orders_absent(ws)


# ---- limits and layout -----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_file_over_the_configured_row_limit_is_rejected_naming_the_limit(ws, suffix):
    config = ws.root / "batchship.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n[limits]\nmax_rows = 50\n", encoding="utf-8")
    _good_inputs(ws)
    rows = [order_row(f"BIG{i}", "A", 1, PAID) for i in range(60)]
    name = "big" + suffix
    if suffix == ".csv":
        ws.drop(name, ORDER_HEADER, rows)
    else:
        _orders_xlsx(ws.root / "inbox" / name, rows)
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, name))
    assert "61 rows" in problem and "the limit is 50" in problem and "split the file" in problem
    assert not any(r[0].startswith("BIG") for r in _db(ws).execute("SELECT order_id FROM orders"))


def test_merged_header_cells_are_rejected_naming_the_range(ws):
    _good_inputs(ws)
    path = _orders_xlsx(ws.root / "inbox" / "merged.xlsx", _bad_orders())
    wb = openpyxl.load_workbook(path)
    wb["Orders"].merge_cells("H1:I1")          # recipient_name over address1
    wb.save(path)
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "merged.xlsx")
    problem = _one_problem(report)
    assert "merged cells in the header row (H1:I1)" in problem and "unmerge" in problem
    row = report.iloc[0]
    assert (row["sheet"], row["row"], row["value"]) == ("Orders", "1", "H1:I1")
    _assert_bad_orders_absent(ws)


# ---- text encodings --------------------------------------------------------------------------------

CHINESE_HEADER = ["店铺", "订单号", "SKU", "数量", "单价", "币种", "付款时间", "收件人", "地址1", "地址2",
                  "城市", "省/州", "邮编", "国家", "电话", "邮箱"]


def _gbk_table(rows: list[list]) -> bytes:
    lines = [",".join(str(c) for c in r) for r in [CHINESE_HEADER] + rows]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_text_in_no_sensible_encoding_is_rejected(ws):
    _good_inputs(ws)
    good_part = _gbk_table([["shop-a", "BAD1", "A", 1, "9.90", "USD", PAID, "张伟", "人民路1号", "", "Springfield",
                             "IL", "62704", "US", "13800000000", "a@example.com"]])
    # A GBK lead byte followed by a line end is no character in GBK, Shift_JIS, Big5, EUC-KR or cp1252.
    broken = good_part + b"shop-a,BAD2,A,1,9.90,USD,2026-11-01,\x81\r\n" + b"shop-a,BAD3,A,1,\x8d\xff\x81\r\n"
    (ws.root / "inbox" / "gbk-broken.csv").write_bytes(broken)
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    problem = _one_problem(_rejected(ws, "gbk-broken.csv"))
    assert problem.startswith("could not work out the text encoding") and "UTF-8" in problem
    _assert_bad_orders_absent(ws)


def test_correct_gbk_file_with_chinese_headers_is_accepted(ws):
    _good_inputs(ws)
    (ws.root / "inbox" / "订单-gbk.csv").write_bytes(_gbk_table([
        ["shop-a", "CN1", "A", 2, "9.90", "USD", PAID, "张伟", "人民路1号", "", "Springfield", "IL", "62704",
         "US", "13800000000", "a@example.com"],
        ["shop-a", "CN2", "B", 1, "19.90", "USD", PAID, "李娜", "中山路88号", "3楼", "Springfield", "IL", "62704",
         "US", "13900000000", "b@example.com"],
    ]))
    assert ws.run() == 0
    orders = _assert_good_batch_applied(ws).set_index("order_id")
    assert orders.loc["CN1", "recipient_name"] == "张伟"
    assert (orders.loc["CN2", "address1"], orders.loc["CN2", "address2"]) == ("中山路88号", "3楼")
    assert orders.loc["CN1", "stage"] == "print"
    lines = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="lines", dtype=str,
                          engine="calamine").set_index("order_id")
    assert lines.loc["CN1", "quantity"] == "2"
    assert not (ws.root / "failed" / "订单-gbk.csv").exists()


# ---- values a person has to fix --------------------------------------------------------------------

def test_conflicting_rows_for_one_order_are_rejected_with_row_and_column(ws):
    _good_inputs(ws)
    ws.drop("dup.csv", ORDER_HEADER, [
        order_row("DUP1", "A", 1, PAID),
        order_row("DUP1", "B", 1, PAID, postcode="10001"),       # same order, another address
        order_row("DUP2", "A", 1, PAID, name="Ann Lee"),
        order_row("DUP2", "B", 1, PAID, name="Bob Stone"),
    ])
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "dup.csv").set_index("row")
    assert set(report.index) == {"3", "5"}
    assert report.loc["3", "column"] == "postcode" and report.loc["3", "value"] == "10001"
    assert "order DUP1 has conflicting rows" in report.loc["3", "problem"]
    assert "'62704' on one row and '10001' on another" in report.loc["3", "problem"]
    assert report.loc["5", "column"] == "recipient_name" and report.loc["5", "value"] == "Bob Stone"
    assert not any(r[0].startswith("DUP") for r in _db(ws).execute("SELECT order_id FROM orders"))


AMAZON_UNSHIPPED = ["order-id", "order-item-id", "purchase-date", "payments-date", "buyer-email", "sku",
                    "quantity-purchased", "quantity-shipped", "quantity-to-ship", "recipient-name",
                    "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state",
                    "ship-postal-code", "ship-country", "ship-phone-number"]


def _amazon_row(order: str, item: str, sku: str, qty: int) -> list:
    return [order, item, "2026-11-01T08:00:00+00:00", "2026-11-01T08:00:00+00:00", "x@marketplace.example", sku,
            qty, 0, qty, "Ann Lee", "1 Main St", "", "", "Springfield", "IL", "62704", "US", "+1 217 555 0134"]


def test_one_marketplace_line_twice_with_different_quantities_is_rejected(ws):
    _good_inputs(ws)
    rows = [_amazon_row("111-0000001-0000001", "50001", "A", 1),
            _amazon_row("111-0000001-0000001", "50002", "B", 1),
            _amazon_row("111-0000001-0000001", "50001", "A", 3)]     # the same line, another quantity
    path = ws.root / "inbox" / "amz" / "unshipped.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join("\t".join(str(c) for c in r) for r in [AMAZON_UNSHIPPED] + rows) + "\n",
                    encoding="utf-8")
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "unshipped.txt", shop="amz")
    row = report.iloc[0]
    assert len(report) == 1 and (row["row"], row["column"], row["value"]) == ("4", "quantity-to-ship", "3")
    assert "order 111-0000001-0000001 line 50001 appears twice with different quantity" in row["problem"]
    assert "row 2" in row["problem"]
    assert not _db(ws).execute("SELECT 1 FROM orders WHERE order_id LIKE '111-%'").fetchall()


def test_negative_and_fractional_quantities_are_rejected_with_row_and_column(ws):
    _good_inputs(ws)
    ws.drop("qty.csv", ORDER_HEADER, [
        order_row("Q1", "A", 1, PAID),
        order_row("Q2", "A", -2, PAID),
        order_row("Q3", "A", "1.5", PAID),
        order_row("Q4", "A", 0, PAID),
    ])
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "qty.csv")
    assert sorted(zip(report["row"], report["value"])) == [("3", "-2"), ("4", "1.5"), ("5", "0")]
    assert set(report["column"]) == {"quantity"}
    assert set(report["problem"]) == {"quantity must be a whole number greater than 0"}
    assert not any(r[0] in ("Q1", "Q2", "Q3", "Q4") for r in _db(ws).execute("SELECT order_id FROM orders"))


# ---- formulas: cached values, never evaluated --------------------------------------------------------

def _formula_orders(path: Path, cells: dict[tuple[int, str], tuple[str, object]], rows: list[list]) -> Path:
    """An order workbook written by xlsxwriter; ``cells`` puts (formula, cached value) at (row, column)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Orders")
    sheet.write_row(0, 0, ORDER_HEADER)
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row)
    for (r, column), (formula, cached) in cells.items():
        sheet.write_formula(r, ORDER_HEADER.index(column), formula, None, cached)
    wb.close()
    return path


def test_excel_error_values_in_mapped_columns_are_rejected_with_row_and_column(ws):
    _good_inputs(ws)
    _formula_orders(ws.root / "inbox" / "errors.xlsx",
                    {(1, "quantity"): ("=NA()", "#N/A"), (2, "city"): ("=#REF!", "#REF!")},
                    _bad_orders())
    _run_rejecting(ws)
    _assert_good_batch_applied(ws)
    report = _rejected(ws, "errors.xlsx")
    errors = report[report["value"].str.startswith("#")]
    assert sorted(zip(errors["row"], errors["column"], errors["value"])) == [
        ("2", "quantity", "#N/A"), ("3", "city", "#REF!")]
    assert set(report["sheet"]) == {"Orders"}
    assert "the cell holds the spreadsheet error #N/A: fix the formula or type the value" in set(errors["problem"])
    # One problem per error cell: not again as the blank quantity it reads as.
    assert len(report) == 2
    _assert_bad_orders_absent(ws)


def test_formula_cells_are_read_as_their_cached_values_and_never_evaluated(ws):
    _good_inputs(ws)
    rows = [order_row("F1", "A", 1, PAID), order_row("F2", "B", 1, PAID)]
    _formula_orders(ws.root / "inbox" / "formulas.xlsx", {
        (1, "quantity"): ("=40+2", 42),
        (2, "quantity"): ("=1+1", 7),                      # evaluating would give 2
        (2, "recipient_name"): ('=CONCAT("Ann ","Lee")', "Cached Name"),
    }, rows)
    assert ws.run() == 0
    _assert_good_batch_applied(ws)
    lines = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="lines", dtype=str,
                          engine="calamine").set_index("order_id")
    assert lines.loc["F1", "quantity"] == "42" and lines.loc["F2", "quantity"] == "7"
    orders = ws.orders().set_index("order_id")
    assert orders.loc["F2", "recipient_name"] == "Cached Name"
    db = _db(ws)
    assert db.execute("SELECT quantity FROM lines WHERE order_id = 'F1'").fetchone() == (42,)


# ---- start-up safety -------------------------------------------------------------------------------

def test_cli_refuses_to_run_when_the_xml_parser_would_expand_entities(ws, monkeypatch, capsys):
    _good_inputs(ws)
    import xml.etree.ElementTree as plain
    monkeypatch.setattr(xlsx_guard.SafeET, "fromstring", plain.fromstring)
    assert main(["run", "-w", str(ws.root)]) == 2
    assert "XML safety check failed" in capsys.readouterr().err
    assert sorted(p.name for p in (ws.root / "inbox").iterdir()) == ["orders.csv", "pool.csv", "products.csv"]
    assert not [p for p in (ws.root / "outbox").iterdir() if p.is_dir()]
    monkeypatch.undo()
    assert ws.run() == 0                                # with the safe parser back, the batch runs
    _assert_good_batch_applied(ws)
