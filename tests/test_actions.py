"""Staff decisions from an action sheet: approve, hold, cancel."""
from __future__ import annotations

import sqlite3

import pandas as pd

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

ACTION_HEADER = ["shop", "order_id", "action", "note"]


def _day_one(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 2, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 6)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("P1", "A", 2, "2026-11-01 08:00:00"),
        order_row("P2", "A", 2, "2026-11-01 09:00:00"),
        order_row("H1", "A", 1, "2026-11-01 10:00:00", postcode=""),
        order_row("H2", "A", 1, "2026-11-01 11:00:00", country="Atlantis"),
    ])
    assert ws.run() == 0


def _exceptions(ws) -> pd.DataFrame:
    return pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str, engine="calamine")


def test_cancel_releases_stock_to_the_next_waiting_order_in_the_same_batch(ws):
    _day_one(ws)
    before = ws.orders().set_index("order_id")
    assert before.loc[["P1", "P2"], "stock_status"].tolist() == ["in_stock", "out_of_stock"]
    ws.drop("actions.csv", ACTION_HEADER, [["shop-a", "P1", "cancel", "buyer asked"]])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert orders.loc["P1", "stage"] == "cancelled"
    assert orders.loc["P1", "notes"] == (f"cancelled by staff (buyer asked); waybill {before.loc['P1', 'tracking_number']} "
                                       "voided; allocation released")
    assert orders.loc["P2", "stock_status"] == "in_stock"
    assert ws.stock().loc[("SZ", "A"), ["on_hand", "allocated", "available"]].tolist() == [2, 2, 0]
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert db.execute("SELECT status FROM pool WHERE tracking_number = ?",
                      (before.loc["P1", "tracking_number"],)).fetchone() == ("void",)


def test_approve_releases_a_held_order_and_hold_takes_one_out(ws):
    _day_one(ws)
    ws.drop("决定.csv", ["订单号", "操作", "备注"], [["H1", "审核通过", "address checked by phone"],
                                                       ["P1", "hold", "wrong colour?"]])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert orders.loc["H1", "stage"] == "print" and orders.loc["H1", "tracking_number"] != ""
    assert (orders.loc["P1", "stage"], orders.loc["P1", "hold_reason"]) == ("hold", "held by staff (wrong colour?)")
    # P1's stock went to the next orders in paid order: P2 needs 2 of the 2 on hand, so H1 waits.
    assert orders.loc["P2", "stock_status"] == "in_stock" and orders.loc["H1", "stock_status"] == "out_of_stock"
    # Approving P1 again returns it to print, where it waits for stock with its own tracking number.
    ws.drop("actions-2.csv", ACTION_HEADER, [["", "P1", "approve", ""]])
    ws.run()
    p1 = ws.orders().set_index("order_id").loc["P1"]
    assert (p1["stage"], p1["stock_status"]) == ("print", "out_of_stock")


def test_decisions_that_cannot_apply_are_reported(ws):
    _day_one(ws)
    ws.drop("actions.csv", ACTION_HEADER, [["", "NOPE", "approve", ""], ["", "P1", "approve", ""],
                                           ["", "H2", "approve", ""]])
    assert ws.run() == 1   # a refused decision is cron's business, like a rejected file
    details = " | ".join(_exceptions(ws)["detail"])
    assert "unknown order (actions.csv row 2)" in details
    assert "approve 审核通过: order is in print, not held (actions.csv row 3)" in details
    assert "approve 审核通过: unknown country Atlantis: no parcel can go out so" in details


def test_unknown_action_word_rejects_the_sheet(ws):
    _day_one(ws)
    ws.drop("actions.csv", ACTION_HEADER, [["", "P1", "cancel", ""], ["", "P2", "nuke", ""]])
    assert ws.run() == 1
    report = pd.read_excel(ws.root / "failed" / "actions.csv.errors.xlsx", dtype=str, engine="calamine")
    assert report[["row", "column", "value"]].values.tolist() == [["3", "action", "nuke"]]
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert db.execute("SELECT stage FROM orders WHERE order_id = 'P1'").fetchone() == ("print",)
