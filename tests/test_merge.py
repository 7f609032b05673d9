"""Merge (合并订单): one buyer's orders to one address become one parcel: one waybill, one label,
stock as a whole, and every original order in the marketplace upload."""
from __future__ import annotations

import pandas as pd

from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10
from test_actions import ACTION_HEADER
from test_decisions import _barcodes

MERGE_RULE = '\n[[review_rules]]\nname = "merge shop-a"\nshops = ["shop-a"]\nmerge = true\n'


def _setup(ws, rules: str = MERGE_RULE, on_hand: int = 10):
    (ws.root / "batchship.toml").write_text(rules + TEST_CONFIG, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", on_hand, "A-1"], ["SZ", "B", 10, "B-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])


def _state(ws) -> pd.DataFrame:
    return pd.read_sql("SELECT order_id, stage, stock_status, tracking_number, merged_into, printed FROM orders",
                       ws.db()).set_index("order_id")


def test_merged_orders_share_one_label_and_each_is_uploaded(ws):
    _setup(ws)
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("M1", "A", 1, "2026-11-01 08:00:00"),
        order_row("M2", "B", 2, "2026-11-01 09:00:00"),
        order_row("M3", "A", 1, "2026-11-01 10:00:00", name="Someone Else"),   # another buyer
    ])
    assert ws.run() == 0
    s = _state(ws)
    shared = s.loc["M1", "tracking_number"]
    assert s.loc["M2", "tracking_number"] == shared and s.loc["M2", "merged_into"] == "M1"
    assert s.loc["M3", "tracking_number"] not in ("", shared)
    out = ws.last_outbox()
    assert _barcodes(out / "labels-YW.pdf") == [shared, s.loc["M3", "tracking_number"]]   # one label per parcel
    upload = pd.read_csv(out / "upload-shop-a-batchship.csv", dtype=str)
    assert set(upload.loc[upload["tracking_number"] == shared, "order_id"]) == {"M1", "M2"}
    pick = pd.read_excel(out / "picklist.xlsx", dtype=str, engine="calamine")
    assert pick.set_index("sku").loc["B", "quantity"] == "2"

    # One scan of the shared number ships both orders, each line deducted once.
    ws.drop("scan.csv", ["tracking_or_order_id"], [[shared]])
    assert ws.run() == 0
    s = _state(ws)
    assert s.loc[["M1", "M2"], "stage"].tolist() == ["shipped", "shipped"]
    ledger = ws.db().execute("SELECT sku, SUM(delta) FROM ledger WHERE cause = 'ship' GROUP BY sku").fetchall()
    assert sorted(ledger) == [("A", -1), ("B", -2)]


def test_a_parcel_takes_stock_as_a_whole_and_only_its_leader_takes_decisions(ws):
    _setup(ws, on_hand=0)
    ws.drop("orders.csv", ORDER_HEADER, [order_row("M1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("M2", "B", 1, "2026-11-01 09:00:00")])
    assert ws.run() == 0
    s = _state(ws)
    # B is in stock, A is not: the parcel waits as a whole.
    assert s.loc[["M1", "M2"], "stock_status"].tolist() == ["out_of_stock", "out_of_stock"]
    ws.drop("actions.csv", ACTION_HEADER, [["", "M2", "cancel", ""], ["", "M1", "cancel", ""]])
    assert ws.run() == 1
    results = pd.read_excel(ws.last_outbox() / "decisions-result.xlsx", dtype=str, engine="calamine")
    assert results["reason"].tolist() == [
        "cancel 取消: merged into order M1: decide on that order, which leads the parcel",
        "cancel 取消: leads a merged parcel: its orders share one waybill, so only reprint 重新打印, "
        "mark printed 标记已打印, ignore failure 忽略失败信息 apply"]
    ws.drop("stock-2.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 5, "A-1"]])
    assert ws.run() == 0
    s = _state(ws)
    assert s.loc[["M1", "M2"], "stock_status"].tolist() == ["in_stock", "in_stock"]
    assert _barcodes(ws.last_outbox() / "labels-YW.pdf") == [s.loc["M1", "tracking_number"]]
    assert s.loc[["M1", "M2"], "printed"].tolist() == ["yes", "yes"]


def test_staff_ask_for_a_merge_on_the_decisions_sheet(ws):
    _setup(ws, rules="\n[[review_rules]]\nmissing = [\"email\"]\nhold = \"no e-mail\"\n")
    first, second = order_row("D1", "A", 1, "2026-11-01 08:00:00"), order_row("D2", "B", 1, "2026-11-01 09:00:00")
    first[ORDER_HEADER.index("email")] = second[ORDER_HEADER.index("email")] = ""
    ws.drop("orders.csv", ORDER_HEADER, [first, second])
    assert ws.run() == 0
    assert _state(ws)["stage"].tolist() == ["hold", "hold"]
    ws.drop("actions-1.csv", ACTION_HEADER, [["", "D1", "合并订单", "same buyer"]])
    ws.drop("actions-2.csv", ACTION_HEADER, [["", "D1", "approve", ""], ["", "D2", "approve", ""]])
    assert ws.run() == 0
    s = _state(ws)
    assert s.loc["D2", "merged_into"] == "D1" and s.loc["D2", "tracking_number"] == s.loc["D1", "tracking_number"]
    assert _barcodes(ws.last_outbox() / "labels-YW.pdf") == [s.loc["D1", "tracking_number"]]
