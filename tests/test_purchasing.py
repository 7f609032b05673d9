"""Purchase suggestions (采购建议), worked through the CLI: suggestion = shortfall + safety stock − on order,
a purchase order dropped back is on order, and receipts with its number close it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
from openpyxl import load_workbook

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
RECEIPT_HEADER = ["warehouse", "sku", "quantity", "reference", "received_on"]
PURCHASING = "\n[purchasing]\nsales_window_days = 10\nlead_time_days = 7\n"
URL = "https://detail.1688.com/offer/612345678901.html"


def _suggestions(ws) -> pd.DataFrame:
    return pd.read_excel(ws.last_outbox() / "purchase-suggestions.xlsx", sheet_name="purchase orders",
                         engine="calamine", dtype={"po_number": str})


def _open(ws) -> pd.DataFrame:
    return pd.read_excel(ws.last_outbox() / "purchase-suggestions.xlsx", sheet_name="open purchase orders",
                         engine="calamine")


def test_suggestion_is_shortfall_plus_safety_stock_minus_on_order(ws):
    (ws.root / "batchship.toml").write_text((ws.root / "batchship.toml").read_text() + PURCHASING)
    ws.drop("products.csv", PRODUCT_HEADER + ["supplier", "supplier_sku", "unit_cost", "source_url",
                                              "lead_time_days"],
            [product_row("A") + ["Yiwu Cups", "YW-88", "3.20", URL, "4"]])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 2, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(n)] for n in range(1, 5)])
    now = datetime.now(timezone.utc)
    paid = [(now - timedelta(days=3, hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in (4, 3, 2, 1)]
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 2, paid[0]), order_row("O2", "A", 5, paid[1]),
                                         order_row("O3", "A", 6, paid[2]), order_row("O4", "A", 7, paid[3])])
    ws.run()
    # 20 units sold in the 10-day window: 2 a day; A's own lead time of 4 days: safety stock 8.
    # O1 holds the 2 on hand; O2-O4 wait for 18: shortfall 18. Nothing on order: 18 + 8 - 0 = 26.
    row = _suggestions(ws).iloc[0]
    assert (row["supplier"], row["sku"], row["supplier_sku"], row["source_url"], row["unit_cost"]) == (
        "Yiwu Cups", "A", "YW-88", URL, 3.2)
    assert (row["shortfall"], row["avg_daily_sales"], row["lead_time_days"], row["safety_stock"], row["on_order"],
            row["suggested"], row["order_quantity"]) == (18, 2.0, 4, 8, 0, 26, 26)
    po = row["po_number"]

    # The buyer orders 20, not 26, and drops the sheet back: 20 on order, 18 + 8 - 20 = 6.
    book = load_workbook(ws.last_outbox() / "purchase-suggestions.xlsx")
    sheet = book["purchase orders"]
    column = [c.value for c in sheet[1]].index("order_quantity") + 1
    sheet.cell(row=2, column=column, value=20)
    book.save(ws.root / "inbox" / "purchase-order.xlsx")
    assert ws.run() == 0
    row = _suggestions(ws).iloc[0]
    assert (row["shortfall"], row["safety_stock"], row["on_order"], row["suggested"]) == (18, 8, 20, 6)
    assert _open(ws)[["po_number", "sku", "ordered", "received", "outstanding"]].values.tolist() == [
        [po, "A", 20, 0, 20]]

    # 5 arrive against it: O2 (5) takes them, 13 still wait, 15 on order: 13 + 8 - 15 = 6.
    ws.drop("receipt-1.csv", RECEIPT_HEADER, [["SZ", "A", 5, po, ""]])
    ws.run()
    row = _suggestions(ws).iloc[0]
    assert (row["shortfall"], row["on_order"], row["suggested"]) == (13, 15, 6)
    assert ws.db().execute("SELECT stock_status FROM orders WHERE order_id = 'O2'").fetchone() == ("in_stock",)

    # The other 15 close the order; 2 spare units count against the safety stock: 0 - 2 + 8 - 0 = 6.
    ws.drop("receipt-2.csv", RECEIPT_HEADER, [["SZ", "A", 15, po, ""]])
    ws.run()
    row = _suggestions(ws).iloc[0]
    assert (row["shortfall"], row["available"], row["on_order"], row["suggested"]) == (0, 2, 0, 6)
    assert _open(ws).empty
