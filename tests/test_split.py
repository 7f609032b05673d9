"""Split (拆分订单): what is in stock ships now with the order's waybill, the rest later with its own;
each unit is deducted once, and the upload names the marketplace's order for both parcels."""
from __future__ import annotations

import pandas as pd

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10
from test_actions import ACTION_HEADER
from test_decisions import _barcodes
from test_merge import _state


def test_a_split_ships_the_in_stock_lines_now_and_deducts_each_unit_once(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 1, "A-1"], ["SZ", "B", 0, "B-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("S1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("S1", "B", 2, "2026-11-01 08:00:00")])
    assert ws.run() == 0
    assert _state(ws).loc["S1", "stock_status"] == "out_of_stock"

    ws.drop("actions.csv", ACTION_HEADER, [["", "S1", "拆分订单", "ship the mug now"]])
    assert ws.run() == 0
    s = _state(ws)
    assert (s.loc["S1", "stock_status"], s.loc["S1-2", "stock_status"]) == ("in_stock", "out_of_stock")
    first, second = s.loc["S1", "tracking_number"], s.loc["S1-2", "tracking_number"]
    assert first and second and first != second
    lines = dict(ws.db().execute("SELECT order_id, group_concat(sku || 'x' || quantity) FROM lines "
                                 "WHERE order_id LIKE 'S1%' GROUP BY order_id").fetchall())
    assert lines == {"S1": "Ax1", "S1-2": "Bx2"}
    out = ws.last_outbox()
    assert _barcodes(out / "labels-YW.pdf") == [first]
    upload = pd.read_csv(out / "upload-shop-a-batchship.csv", dtype=str)
    assert upload.loc[upload["tracking_number"] == second, "order_id"].tolist() == ["S1"]

    ws.drop("stock-2.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "B", 2, "B-1"]])
    assert ws.run() == 0
    assert _barcodes(ws.last_outbox() / "labels-YW.pdf") == [second]
    ws.drop("scan.csv", ["tracking_or_order_id"], [[first], [second]])
    assert ws.run() == 0
    s = _state(ws)
    assert s.loc[["S1", "S1-2"], "stage"].tolist() == ["shipped", "shipped"]
    shipped = ws.db().execute("SELECT sku, SUM(delta) FROM ledger WHERE cause = 'ship' GROUP BY sku").fetchall()
    assert sorted(shipped) == [("A", -1), ("B", -2)]
    on_hand = dict(ws.db().execute("SELECT sku, SUM(delta) FROM ledger GROUP BY sku").fetchall())
    assert on_hand == {"A": 0, "B": 0}


def test_a_split_with_nothing_in_stock_changes_nothing(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 0, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("S2", "A", 1, "2026-11-01 08:00:00")])
    assert ws.run() == 0
    ws.drop("actions.csv", ACTION_HEADER, [["", "S2", "split", ""]])
    assert ws.run() == 0
    s = _state(ws)
    assert list(s.index) == ["S2"] and s.loc["S2", "stock_status"] == "out_of_stock"
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    assert "split 拆分订单 not done: nothing of it is in stock" in " ".join(exceptions["detail"])
