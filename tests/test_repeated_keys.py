"""A stock count or product list that names one key twice is rejected naming both rows; nothing of it counts."""
from __future__ import annotations

import pytest

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


@pytest.mark.parametrize("repeat", [["SZ", "A", 5, "A-1"], ["SZ", "A", 7, "A-1"], ["SZ", "A", 5, "B-9"],
                                    [" sz ", " A ", 5, "A-1"]],
                         ids=["same row", "other quantity", "other shelf", "padded and lower case"])
def test_a_count_naming_one_warehouse_and_sku_twice_is_rejected_whole(ws, repeat):
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-1"]])
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    assert ws.run() == 0
    ws.drop("recount.csv", STOCK_HEADER, [["SZ", "A", 5, "A-1"], ["SZ", "B", 3, "A-2"], repeat])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    assert ws.run() == 1
    report = ws.errors_report("recount.csv")
    assert report["row"].tolist() == ["4"] and "repeats row 2" in report["problem"].iloc[0]
    stock = ws.stock()
    assert ("SZ", "B") not in stock.index and stock.loc[("SZ", "A"), "on_hand"] == 5
    assert list((ws.root / "archive").rglob("orders.csv"))


def test_a_product_list_naming_one_sku_twice_is_rejected(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B"), product_row("A", grams=900)])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-1"]])
    assert ws.run() == 1
    report = ws.errors_report("products.csv")
    assert report["row"].tolist() == ["4"] and "repeats row 2" in report["problem"].iloc[0]
    assert ws.stock().loc[("SZ", "A"), "on_hand"] == 5


def test_different_keys_in_one_count_all_apply(ws):
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-1"], ["YW", "A", 2, "A-1"], ["SZ", "B", 1, ""]])
    assert ws.run() == 0
    stock = ws.stock()
    assert (stock.loc[("SZ", "A"), "on_hand"], stock.loc[("YW", "A"), "on_hand"], stock.loc[("SZ", "B"), "on_hand"]) \
        == (5, 2, 1)


PAIRING_HEADER = ["shop", "platform_sku", "sku", "quantity"]
ACTION_HEADER = ["shop", "order_id", "action", "note"]


@pytest.mark.parametrize("rows, repeated_row", [
    ([["shop-a", "SET", "MUG", 1], ["shop-a", "SET", "MUG", 2]], 3),
    ([["", "SET", "MUG", 1], ["", "set", "mug", 1]], 3),
    ([["shop-a", "SET", "MUG", 1], ["shop-a", "SET", "CUP", 1], ["Shop-A", " SET", "MUG", 3]], 4),
], ids=["two-quantities", "any-shop-case-folded", "third-row"])
def test_a_pairing_naming_one_bundle_component_twice_is_rejected_naming_both_rows(ws, rows, repeated_row):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("CUP")])
    ws.drop("pairing.csv", PAIRING_HEADER, rows)
    assert ws.run() == 1
    report = ws.errors_report("pairing.csv")
    assert report["row"].tolist() == [str(repeated_row)]
    assert report["problem"].iloc[0].startswith("repeats row ")
    with ws.db() as db:
        assert db.execute("SELECT COUNT(*) FROM pairing").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM products").fetchone() == (2,)


@pytest.mark.parametrize("rows", [
    [["shop-a", "A1", "approve", ""], ["shop-a", "A1", "cancel", "buyer asked"]],
    [["", "A1", "hold", ""], ["", "A1", "cancel", ""]],
], ids=["with-shop", "without-shop"])
def test_a_decision_sheet_naming_one_order_twice_is_rejected_and_the_order_keeps_its_state(ws, rows):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 5, "A-1"]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("A1", "MUG", 1, "2026-11-01 10:00")])
    assert ws.run() == 0
    ws.drop("actions.csv", ACTION_HEADER, rows)
    assert ws.run() == 1
    assert ws.errors_report("actions.csv")["row"].tolist() == ["3"]
    with ws.db() as db:
        assert db.execute("SELECT stage FROM orders WHERE order_id = 'A1'").fetchone()[0] != "cancelled"
    ws.drop("actions-fixed.csv", ACTION_HEADER, rows[1:])
    assert ws.run() == 0
