"""Text longer than any output can carry is refused at import, naming file, row and column;
the longest accepted texts go through every output whole."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


def _healthy(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 50, "A-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders-ok.csv", ORDER_HEADER, [order_row("OK-1", "MUG", 1, "2026-11-01 10:00")])


def _long_order_field(column: str, text: str):
    def drop(ws):
        row = order_row("LONG-1", "MUG", 1, "2026-11-01 10:00")
        if column == "order_id":
            row[1] = text
        else:
            row[ORDER_HEADER.index(column)] = text
        ws.drop("hostile.csv", ORDER_HEADER, [order_row("SAME-FILE", "MUG", 1, "2026-11-01 10:00"), row])
    return drop


def _long_stock_field(column: str, text: str):
    def drop(ws):
        row = ["SZ", "CUP", 5, "B-1"]
        row[STOCK_HEADER.index(column)] = text
        ws.drop("hostile.csv", STOCK_HEADER, [["SZ", "PLATE", 7, "C-1"], row])
    return drop


def _long_product_field(column: str, text: str):
    def drop(ws):
        row = product_row("CUP")
        row[PRODUCT_HEADER.index(column)] = text
        ws.drop("hostile.csv", PRODUCT_HEADER, [product_row("PLATE"), row])
    return drop


CASES = {
    "order id": (_long_order_field("order_id", "1" * 5000), "order_id", "order id is 5,000 characters"),
    "address": (_long_order_field("address1", "x" * 40_000), "address1", "at most 300"),
    "name": (_long_order_field("recipient_name", "名" * 20_000), "recipient_name", "20,000 characters"),
    "postcode": (_long_order_field("postcode", "9" * 33), "postcode", "at most 32"),
    "email": (_long_order_field("email", "a" * 300 + "@example.com"), "email", "at most 254"),
    "stock sku": (_long_stock_field("sku", "S" * 101), "sku", "at most 100"),
    "shelf": (_long_stock_field("shelf", "B" * 2000), "shelf", "2,000 characters"),
    "product name": (_long_product_field("name", "n" * 1001), "name", "at most 1,000"),
    "declared name": (_long_product_field("declared_name_cn", "品" * 5000), "declared_name_cn", "at most 1,000"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_text_too_long_for_the_outputs_rejects_its_file_naming_row_and_column(ws, case):
    drop, column, words = CASES[case]
    _healthy(ws)
    drop(ws)
    assert ws.run() == 1
    report = ws.errors_report("hostile.csv")
    assert report["row"].tolist() == ["3"] and report["column"].tolist() == [column]
    assert words in report["problem"].iloc[0]
    assert len(report["value"].iloc[0]) < 100, "the report shows the start of the text, not all of it"
    with ws.db() as db:
        assert {r[0] for r in db.execute("SELECT order_id FROM orders")} == {"OK-1"}
        assert {r[0] for r in db.execute("SELECT sku FROM products")} == {"MUG"}
        assert {r[0] for r in db.execute("SELECT sku FROM ledger")} == {"MUG"}

    ws.drop("orders-next.csv", ORDER_HEADER, [order_row("NEXT-1", "MUG", 1, "2026-11-02 10:00")])
    assert ws.run() == 0


def test_the_longest_accepted_texts_reach_every_output_whole(ws):
    sku = "S" * 100
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(sku)[:1] + ["n" * 1000] + product_row(sku)[2:]])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", sku, 50, "B" * 100]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)]])
    row = order_row("O" * 100, sku, 1, "2026-11-01 10:00")
    row[ORDER_HEADER.index("address1")] = "A" * 300
    ws.drop("orders.csv", ORDER_HEADER, [row])
    assert ws.run() == 0
    orders = ws.orders()
    assert orders["order_id"].tolist() == ["O" * 100] and orders["address1"].tolist() == ["A" * 300]
    pick = pd.read_excel(ws.last_outbox() / "picklist.xlsx", dtype=str, engine="calamine")
    assert pick["sku"].tolist() == [sku] and pick["name"].tolist() == ["n" * 1000]
    assert (ws.last_outbox() / "labels-YW.pdf").stat().st_size > 0
