"""Two files of one batch that disagree about one order: the order is held for a person, never resolved silently."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

POOL_HEADER = ["channel", "tracking_number"]
ACTION_HEADER = ["shop", "order_id", "action", "note"]


def _stage(ws, order_id: str) -> tuple[str, str]:
    return ws.db().execute("SELECT stage, hold_reason FROM orders WHERE order_id = ?", (order_id,)).fetchone()


def _exceptions(ws) -> pd.DataFrame:
    return pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                         engine="calamine").fillna("")


def _base(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(n)] for n in range(1, 6)])


def _changed(field: str) -> list[list]:
    row = order_row("O1", "A", 1, "2026-11-01 08:00:00")
    if field == "address1":
        row[8] = "1 Other Street"
    elif field == "postcode":
        row[12] = "62705"
    elif field == "phone":
        row[14] = "+1 217 555 9999"
    elif field == "quantity":
        row[3] = 2
    elif field == "SKU":
        row[2] = "B"
    return [row]


@pytest.mark.parametrize("field", ["address1", "postcode", "phone", "quantity", "SKU"])
def test_an_order_two_files_disagree_on_is_held_naming_both_files(ws, field):
    _base(ws)
    ws.drop("a.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00"),
                                    order_row("O2", "A", 1, "2026-11-01 09:00:00")])
    ws.drop("b.csv", ORDER_HEADER, [order_row("O3", "B", 1, "2026-11-01 10:00:00"), *_changed(field)])
    assert ws.run() == 0
    stage, reason = _stage(ws, "O1")
    assert stage == "hold"
    assert field in reason and "a.csv row 2" in reason and "b.csv row 3" in reason
    assert _stage(ws, "O2")[0] == "print" and _stage(ws, "O3")[0] == "print"
    held = _exceptions(ws)
    assert held["detail"].str.contains("a.csv row 2").any() and held["detail"].str.contains("b.csv row 3").any()


@pytest.mark.parametrize("variant", ["identical", "country case and spacing"])
def test_copies_that_agree_are_one_order(ws, variant):
    _base(ws)
    copy = order_row("O1", "A", 1, "2026-11-01 08:00:00")
    if variant != "identical":
        copy[13] = " us "
    ws.drop("a.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.drop("b.csv", ORDER_HEADER, [copy])
    assert ws.run() == 0
    assert _stage(ws, "O1") == ("print", "")
    assert len(ws.orders().query("order_id == 'O1'")) == 1


def test_staff_approval_releases_a_disputed_order_and_stock_is_allocated_once(ws):
    _base(ws)
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 5, "A-1"]])
    ws.drop("a.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.drop("b.csv", ORDER_HEADER, _changed("postcode"))
    ws.run()
    assert _stage(ws, "O1")[0] == "hold"
    assert ws.stock().loc[("SZ", "A"), "allocated"] == 0
    ws.drop("actions.csv", ACTION_HEADER, [["shop-a", "O1", "approve", "address checked with buyer"]])
    assert ws.run() == 0
    assert _stage(ws, "O1")[0] == "print"
    stock = ws.stock().loc[("SZ", "A")]
    assert (stock["on_hand"], stock["allocated"]) == (5, 1)
