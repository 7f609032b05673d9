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
