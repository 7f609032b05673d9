"""One physical identifier written several ways is one identifier: pool numbers, scans, SKUs."""
from __future__ import annotations

import pytest

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

POOL_HEADER = ["channel", "tracking_number"]
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
NUMBER = s10(12345678)
FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in NUMBER)
VARIANTS = [NUMBER.lower(), f"  {NUMBER[:2]} {NUMBER[2:6]} {NUMBER[6:11]} {NUMBER[11:]} ", NUMBER + "\u200b",
            "\ufeff" + NUMBER, NUMBER + "\u00a0", NUMBER[:6] + "\u2060" + NUMBER[6:], FULL_WIDTH]


@pytest.mark.parametrize("variant", VARIANTS, ids=["lower", "spaced", "zwsp", "bom", "nbsp", "word-joiner",
                                                   "full-width"])
def test_a_number_written_two_ways_is_one_pool_entry(ws, variant):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", NUMBER], ["YW", variant]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("O2", "A", 1, "2026-11-01 09:00:00")])
    assert ws.run() == 0
    db = ws.db()
    assert db.execute("SELECT tracking_number FROM pool").fetchall() == [(NUMBER,)]
    issued = db.execute("SELECT order_id, tracking_number FROM orders ORDER BY order_id").fetchall()
    assert issued == [("O1", NUMBER), ("O2", "")]


def test_a_variant_in_a_later_pool_file_adds_no_number(ws):
    ws.drop("pool.csv", POOL_HEADER, [["YW", NUMBER]])
    ws.run()
    ws.drop("pool-2.csv", POOL_HEADER, [["YW", v] for v in VARIANTS] + [["YW", s10(2)]])
    assert ws.run() == 0
    numbers = sorted(r[0] for r in ws.db().execute("SELECT tracking_number FROM pool"))
    assert numbers == sorted([NUMBER, s10(2)])


def test_the_check_digit_is_checked_on_the_cleaned_number(ws):
    bad = NUMBER[:10] + str((int(NUMBER[10]) + 1) % 10) + NUMBER[11:]
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(3)], ["YW", " " + bad.lower() + "\u200b"]])
    assert ws.run() == 1
    report = ws.errors_report("pool.csv")
    assert report["row"].tolist() == ["3"] and report["column"].tolist() == ["tracking_number"]
    assert (ws.root / "archive").rglob("products.csv")
    assert ws.db().execute("SELECT count(*) FROM pool").fetchone() == (0,)


@pytest.mark.parametrize("written", [lambda n: n.lower(), lambda n: f" {n[:2]} {n[2:]} ", lambda n: n + "\u200b"])
def test_a_scan_written_another_way_ships_the_order_once(ws, written):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 3, "A-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", NUMBER]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    ws.drop("scan.csv", ["tracking_number"], [[written(NUMBER)], [NUMBER]])
    ws.run()
    assert ws.db().execute("SELECT stage FROM orders WHERE order_id = 'O1'").fetchone() == ("shipped",)
    assert ws.stock().loc[("SZ", "A"), "on_hand"] == 2


@pytest.mark.parametrize("sku", ["MUG\u200b", "\u00a0MUG", "ＭＵＧ", "MU\u00adG"])
def test_a_sku_with_invisible_or_full_width_characters_is_the_same_sku(ws, sku):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", sku, 4, "A-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", NUMBER]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", sku, 1, "2026-11-01 08:00:00")])
    assert ws.run() == 0
    assert ws.db().execute("SELECT stage, stock_status FROM orders").fetchone() == ("print", "in_stock")
    stock = ws.stock()
    assert list(stock.index) == [("SZ", "MUG")] and stock.loc[("SZ", "MUG"), "allocated"] == 1
