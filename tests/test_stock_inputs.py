"""Stock receipts (入库) and adjustments through the CLI: booked in the ledger with cause, file and row;
a receipt gives waiting out-of-stock orders their stock, oldest paid first, in the same run."""
from __future__ import annotations

import pandas as pd
from openpyxl import Workbook, load_workbook

from batchship.cli import main
from batchship.schema_files import stale_files
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
RECEIPT_HEADER = ["warehouse", "sku", "quantity", "reference", "received_on"]
ADJUST_HEADER = ["warehouse", "sku", "quantity", "reason", "note"]
SHIP_HEADER = ["tracking_or_order_id"]


def _ledger(ws) -> pd.DataFrame:
    return pd.read_sql("SELECT run_id, warehouse, sku, delta, cause, reference, source_file, source_row, note "
                       "FROM ledger ORDER BY id", ws.db())


def _stock_status(ws) -> dict[str, str]:
    return dict(ws.db().execute("SELECT order_id, stock_status FROM orders").fetchall())


def _on_hand(ws, sku: str, warehouse: str = "SZ") -> int:
    return ws.db().execute("SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE warehouse = ? AND sku = ?",
                           (warehouse, sku)).fetchone()[0]


def test_a_receipt_is_booked_and_re_allocates_waiting_orders_oldest_paid_first(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 0, "A-01"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(n)] for n in range(1, 4)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("LATE", "A", 1, "2026-11-03 08:00:00"),
                                         order_row("EARLY", "A", 2, "2026-11-01 08:00:00"),
                                         order_row("MID", "A", 1, "2026-11-02 08:00:00")])
    ws.run()
    assert set(_stock_status(ws).values()) == {"out_of_stock"}

    # 3 units: EARLY (2) and then MID (1); LATE keeps waiting although it alone would also fit.
    ws.drop("receipt.csv", RECEIPT_HEADER, [["SZ", "A", 3, "PO-7", "2026-11-04"]])
    assert ws.run() == 0
    assert _stock_status(ws) == {"EARLY": "in_stock", "MID": "in_stock", "LATE": "out_of_stock"}
    booked = _ledger(ws).iloc[-1]
    assert (booked["cause"], booked["delta"], booked["reference"], booked["source_file"], booked["source_row"],
            booked["note"]) == ("receipt", 3, "PO-7", "receipt.csv", 2, "2026-11-04")
    # The same run's labels are for the orders that just got their stock.
    assert len(list(ws.last_outbox().glob("labels*.pdf"))) == 1


def test_adjustments_book_signed_quantities_with_their_reason_and_a_count_books_only_the_difference(ws):
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 10, ""], ["SZ", "B", 5, ""]])
    ws.run()
    # Chinese headers and reason words are read as well.
    ws.drop("调整.csv", ["仓库", "SKU", "调整数量", "调整原因", "备注"],
            [["SZ", "A", "-2", "损坏", "crushed box"], ["SZ", "B", "+1", "found", ""]])
    assert ws.run() == 0
    moves = _ledger(ws)
    adj = moves[moves["cause"] == "adjustment"]
    assert adj[["sku", "delta", "reference", "note", "source_row"]].values.tolist() == [
        ["A", -2, "damaged", "crushed box", 2], ["B", 1, "found", "", 3]]
    assert (_on_hand(ws, "A"), _on_hand(ws, "B")) == (8, 6)
    # A count states the shelf: 7 of A is booked as -1, B unchanged books nothing.
    ws.drop("stock-2.csv", STOCK_HEADER, [["SZ", "A", 7, ""], ["SZ", "B", 6, ""]])
    ws.run()
    last = _ledger(ws).iloc[-1]
    assert (last["cause"], last["sku"], last["delta"]) == ("count", "A", -1)
    assert (_on_hand(ws, "A"), _on_hand(ws, "B")) == (7, 6)


def test_receipts_in_an_xlsx_with_chinese_headers_and_date_cells(ws):
    from datetime import datetime
    wb = Workbook()
    sheet = wb.active
    sheet.append(["仓库", "SKU", "入库数量", "采购单号", "入库日期"])
    sheet.append(["SZ", "A", 4, "PO-1", datetime(2026, 11, 5)])
    sheet.append(["SZ", "B", 6, "", datetime(2026, 11, 6)])
    wb.save(ws.root / "inbox" / "入库单.xlsx")
    assert ws.run() == 0
    moves = _ledger(ws)
    assert moves[["sku", "delta", "reference", "note"]].values.tolist() == [
        ["A", 4, "PO-1", "2026-11-05"], ["B", 6, "入库单.xlsx", "2026-11-06"]]
    # The places received into are kept from now on: stock.xlsx lists them.
    stock = ws.stock().reset_index()
    assert dict(zip(stock["sku"], stock["on_hand"])) == {"A": 4, "B": 6}


def test_bad_rows_reject_the_whole_sheet_naming_row_and_column(ws):
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 1, ""]])
    ws.run()
    ws.drop("adjust.csv", ADJUST_HEADER, [["SZ", "A", "-5", "lost", ""], ["SZ", "A", "0", "found", ""],
                                          ["SZ", "A", "2", "stolen", ""], ["SZ", "A", "1.5", "found", ""]])
    ws.drop("receipt.csv", RECEIPT_HEADER, [["SZ", "A", "-3", "PO-1", "2026-11-04"],
                                            ["SZ", "", "2", "PO-1", "someday"]])
    assert ws.run() == 1
    adjust = ws.errors_report("adjust.csv")
    assert set(zip(adjust["row"], adjust["column"])) >= {("3", "quantity"), ("4", "reason"), ("5", "quantity")}
    receipt = ws.errors_report("receipt.csv")
    assert set(zip(receipt["row"], receipt["column"])) >= {("2", "quantity"), ("3", "sku"), ("3", "received_on")}
    assert _ledger(ws)["cause"].tolist() == ["count"]    # nothing of either file was booked
    # An adjustment that takes more than the ledger holds is refused as a whole file.
    ws.drop("adjust-2.csv", ADJUST_HEADER, [["SZ", "A", "-1", "lost", ""], ["SZ", "A", "-1", "lost", ""]])
    assert ws.run() == 1
    report = ws.errors_report("adjust-2.csv")
    assert report["row"].tolist() == ["3"] and "below zero" in report["problem"].iloc[0]
    assert _on_hand(ws, "A") == 1


def test_init_writes_blank_receipt_and_adjustment_templates_from_schemas(tmp_path):
    assert main(["init", str(tmp_path / "w")]) == 0
    receipts = load_workbook(tmp_path / "w" / "templates" / "receipts.xlsx").active
    adjustments = load_workbook(tmp_path / "w" / "templates" / "adjustments.xlsx").active
    assert [c.value for c in receipts[1]] == RECEIPT_HEADER
    assert [c.value for c in adjustments[1]] == ADJUST_HEADER
    assert stale_files() == []
