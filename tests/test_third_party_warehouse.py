"""A third-party (overseas) warehouse: its orders go to its outbound file, never to local labels or
pick lists; its shipment confirmation ships them with its tracking numbers and deducts its stock
alone; its inventory snapshot is a count for that warehouse."""
from __future__ import annotations

import csv
import sqlite3

import pandas as pd
import pypdfium2 as pdfium

from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10, write_csv

OVERSEAS = '''
[[warehouses]]
name = "US-LA"
kind = "third_party"
outbound_format = "generic"
sender = { name = "LA Fulfilment", company = "West Coast 3PL Inc.", address = "100 Harbor Blvd, Los Angeles, CA 90731", country = "US", phone = "+1 310 555 0100" }
'''
ROUTE = '''
[[logistics]]
shops = ["shop-b"]
channel = "YW"
warehouse = "US-LA"
'''
CONFIRM_HEADER = ["Order Reference", "Tracking Number", "Carrier", "Ship Date"]


def _setup(ws, outbound_file: str = "xlsx") -> None:
    config = TEST_CONFIG.replace("[[logistics]]", ROUTE + "\n[[logistics]]", 1) + OVERSEAS
    if outbound_file != "xlsx":
        config = config.replace('outbound_format = "generic"', f'outbound_format = "generic"\noutbound_file = "{outbound_file}"')
    (ws.root / "batchship.toml").write_text(config, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"],
            [["SZ", "MUG", 10, "A-1"], ["SZ", "TEE", 10, "A-2"], ["US-LA", "MUG", 4, ""], ["US-LA", "TEE", 1, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 6)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("L1", "MUG", 1, "2026-11-01 08:00:00", shop="shop-a"),                # local
        order_row("O1", "MUG", 2, "2026-11-01 08:01:00", shop="shop-b", name="Olivia Overseas"),
        order_row("O2", "TEE", 1, "2026-11-01 08:02:00", shop="shop-b", name="Oscar Overseas"),
        order_row("O3", "TEE", 1, "2026-11-01 08:03:00", shop="shop-b", name="Otto Overseas"),   # none left
    ])


def _on_hand(ws) -> dict[tuple[str, str], int]:
    with sqlite3.connect(ws.root / ".batchship" / "state.sqlite") as db:
        return {(w, s): q for w, s, q in db.execute("SELECT warehouse, sku, SUM(delta) FROM ledger GROUP BY 1, 2")}


def _pdf_text(out) -> str:
    text = ""
    for path in out.glob("labels-*.pdf"):
        pdf = pdfium.PdfDocument(str(path))
        try:
            text += "".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    return text


def test_overseas_orders_go_to_the_outbound_file_and_never_on_local_labels_or_pick_lists(ws):
    _setup(ws)
    assert ws.run() == 0
    out = ws.last_outbox()
    orders = ws.orders().set_index("order_id")
    assert orders.loc["L1", "warehouse"] == "SZ" and orders.loc["L1", "tracking_number"] == s10(1)
    assert (orders.loc[["O1", "O2", "O3"], "warehouse"] == "US-LA").all()
    assert (orders.loc[["O1", "O2", "O3"], "tracking_number"] == "").all()      # the warehouse gives them
    assert orders.loc[["O1", "O2", "O3"], "stock_status"].tolist() == ["in_stock", "in_stock", "out_of_stock"]

    outbound = pd.read_excel(out / "outbound-US-LA.xlsx", dtype=str, engine="calamine").fillna("")
    assert outbound["Order Reference"].tolist() == ["O1", "O2"]
    assert outbound[["SKU", "Quantity"]].values.tolist() == [["MUG", "2"], ["TEE", "1"]]
    assert outbound.loc[0, "Recipient"] == "Olivia Overseas" and outbound.loc[0, "Country"] == "US"
    assert outbound.loc[0, "Sender Company"] == "West Coast 3PL Inc."

    labels = _pdf_text(out)
    assert "shop-a / L1" in labels and "Overseas" not in labels and "shop-b" not in labels
    for pick in out.glob("picklist*.xlsx"):
        for sheet in pd.read_excel(pick, sheet_name=None, dtype=str, engine="calamine").values():
            assert not sheet.astype(str).apply(lambda c: c.str.contains("O1|O2|O3|US-LA")).any().any(), pick.name

    # Listed once: the next run (a stock receipt lets O3 go) lists O3 alone.
    ws.drop("stock-2.csv", ["warehouse", "sku", "on_hand", "shelf"], [["US-LA", "TEE", 3, ""]])
    assert ws.run() == 0
    again = pd.read_excel(ws.last_outbox() / "outbound-US-LA.xlsx", dtype=str, engine="calamine")
    assert again["Order Reference"].tolist() == ["O3"]


def test_the_warehouses_confirmation_ships_its_orders_and_deducts_its_stock_alone(ws, capsys):
    _setup(ws)
    assert ws.run() == 0
    before = _on_hand(ws)
    assert before[("US-LA", "MUG")] == 4 and before[("SZ", "MUG")] == 10
    ws.drop("us-la-shipped.csv", CONFIRM_HEADER, [["O1", "9400 1000 0000 0000 0000 01", "USPS", "2026-11-03"],
                                                  ["O2", "9400100000000000000002", "USPS", "2026-11-03"],
                                                  ["NOPE", "9400100000000000000009", "USPS", "2026-11-03"]])
    capsys.readouterr()
    assert ws.run() == 1           # the unknown order is reported; the others are applied
    said = capsys.readouterr().out
    orders = ws.orders().set_index("order_id")
    assert orders.loc[["O1", "O2"], "stage"].tolist() == ["shipped", "shipped"]
    assert orders.loc["O1", "tracking_number"] == "9400100000000000000001"
    after = _on_hand(ws)
    assert after[("US-LA", "MUG")] == 2 and after[("US-LA", "TEE")] == 0
    assert {k: v for k, v in after.items() if k[0] == "SZ"} == {k: v for k, v in before.items() if k[0] == "SZ"}

    upload = next(ws.last_outbox().glob("upload-shop-b-*"))
    with upload.open(encoding="utf-8-sig") as f:
        text = f.read()
    assert "9400100000000000000001" in text and "9400100000000000000002" in text
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    assert "NOPE" in set(exceptions["order_id"])
    # The books balance with the overseas warehouse's shipments in them, identity by identity.
    checks = pd.read_excel(ws.last_outbox() / "reconciliation.xlsx", sheet_name="Checks", engine="calamine")
    assert checks["holds"].tolist() == ["yes"] * 4
    assert "ledger checks: all 4 hold" in said

    # Confirmed twice: refused, nothing deducted again.
    ws.drop("us-la-shipped-again.csv", CONFIRM_HEADER, [["O1", "9400100000000000000001", "USPS", "2026-11-03"]])
    ws.run()
    assert _on_hand(ws) == after


def test_the_inventory_snapshot_counts_that_warehouse_alone(ws):
    _setup(ws)
    assert ws.run() == 0
    before = _on_hand(ws)
    write_csv(ws.root / "inbox" / "us-la-inventory.csv", ["warehouse", "sku", "on_hand"],
              [["US-LA", "MUG", 7], ["US-LA", "TEE", 0]])
    assert ws.run() == 0
    after = _on_hand(ws)
    assert after[("US-LA", "MUG")] == 7 and after[("US-LA", "TEE")] == 0
    assert {k: v for k, v in after.items() if k[0] == "SZ"} == {k: v for k, v in before.items() if k[0] == "SZ"}


def test_a_csv_outbound_file_on_request(ws):
    _setup(ws, outbound_file="csv")
    assert ws.run() == 0
    with (ws.last_outbox() / "outbound-US-LA.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Order Reference"] for r in rows] == ["O1", "O2"]
    assert not (ws.last_outbox() / "outbound-US-LA.xlsx").exists()
