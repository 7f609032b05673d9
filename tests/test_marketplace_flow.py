"""Marketplace files through the whole batch: import, waybill, tracking upload, re-sync."""
from __future__ import annotations

import csv
import sqlite3

import pandas as pd

from conftest import PRODUCT_HEADER, product_row, s10

AMAZON_HEADER = ["order-id", "order-item-id", "purchase-date", "payments-date", "buyer-email", "buyer-name",
                 "buyer-phone-number", "sku", "product-name", "quantity-purchased", "currency", "item-price",
                 "item-tax", "shipping-price", "shipping-tax", "ship-service-level", "recipient-name",
                 "ship-address-1", "ship-address-2", "ship-address-3", "ship-city", "ship-state",
                 "ship-postal-code", "ship-country", "ship-phone-number"]
SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Total",
                  "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
                  "Shipping Name", "Shipping Address1", "Shipping Address2", "Shipping City", "Shipping Zip",
                  "Shipping Province", "Shipping Country", "Shipping Phone", "Cancelled at"]


def _declare(ws, block: str) -> None:
    with (ws.root / "batchship.toml").open("a", encoding="utf-8") as f:
        f.write(block)


def _amazon_row(order_id, item_id, sku, qty, price, name="Bob Smith"):
    return [order_id, item_id, "2026-11-01T10:50:49-08:00", "2026-11-01T11:50:49-08:00", "b@example.net", name,
            "555-123-4567", sku, f"item {sku}", qty, "USD", price, "0.00", "1.99", "0.00", "Standard", name,
            "123 Main St", "", "", "Nowhere", "FL", "55443-3221", "US", "555-123-4567\t"]


def _drop_amazon_report(ws, shop: str, rows: list[list]) -> None:
    report = ws.root / "inbox" / shop / "orders.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    with report.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(AMAZON_HEADER)
        w.writerows(rows)


def test_amazon_report_to_shipping_confirmation_round_trip(ws):
    _declare(ws, '\n[[shops]]\nname = "amz-us"\nplatform = "amazon"\n')
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 4)])
    _drop_amazon_report(ws, "amz-us", [
        _amazon_row("114-1111111-1111111", "11111111111111", "MUG", 2, "25.80"),
        _amazon_row("114-2222222-2222222", "22222222222222", "MUG", 1, "12.90", "Ann Lee"),
        _amazon_row("114-2222222-2222222", "33333333333333", "TEE", 1, "9.99", "Ann Lee"),
    ])
    assert ws.run() == 0

    orders = ws.orders().set_index("order_id")
    assert float(orders.loc["114-1111111-1111111", "goods_value"]) == 25.80     # a number in Excel
    tracking = orders["tracking_number"].to_dict()
    upload = ws.last_outbox() / "upload-amz-us-amazon.txt"
    rows = list(csv.DictReader(upload.open(encoding="utf-8"), delimiter="\t"))
    got = {(r["order-id"], r["order-item-id"], r["tracking-number"], r["carrier-code"]) for r in rows}
    assert got == {
        ("114-1111111-1111111", "11111111111111", tracking["114-1111111-1111111"], "Yanwen"),
        ("114-2222222-2222222", "22222222222222", tracking["114-2222222-2222222"], "Yanwen"),
        ("114-2222222-2222222", "33333333333333", tracking["114-2222222-2222222"], "Yanwen"),
    }


def _shopify_rows(status="paid", cancelled=""):
    common = ["b@example.com", status, "2026-11-01 09:00:00 +0800", "unfulfilled", "CAD", "39.80",
              "2026-11-01 08:59:00 +0800"]
    return [
        ["#1001", *common, "2", "Mug", "9.90", "MUG", "Olivia Tremblay", "45 Rue Sainte-Catherine", "",
         "Montréal", "'H2X 1K4", "QC", "CA", "+1 514 555 0199", cancelled],
        ["#1001", "b@example.com", "", "", "", "", "", "2026-11-01 08:59:00 +0800", "1", "Tee", "20.00", "TEE",
         "", "", "", "", "", "", "", "", ""],
    ]


def test_shopify_cancellation_releases_stock_and_voids_the_waybill(ws):
    _declare(ws, '\n[[shops]]\nname = "shopA"\nplatform = "shopify"\n')
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", 5, ""], ["SZ", "TEE", 5, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)], ["YW", s10(2)]])
    ws.drop("export.csv", SHOPIFY_HEADER, _shopify_rows(), shop="shopA")
    assert ws.run() == 0
    order = ws.orders().set_index("order_id").loc["#1001"]
    assert (order["stage"], order["stock_status"], order["postcode"]) == ("print", "in_stock", "H2X 1K4")
    assert order["paid_at"] == "2026-11-01 09:00:00"   # 01:00 UTC, as an Excel date in the seller's Shanghai time
    assert ws.stock().loc[("SZ", "MUG"), "allocated"] == 2

    ws.drop("export-2.csv", SHOPIFY_HEADER, _shopify_rows("refunded", "2026-11-02 10:00:00 +0800"), shop="shopA")
    assert ws.run() == 0
    order = ws.orders().set_index("order_id").loc["#1001"]
    assert order["stage"] == "cancelled" and order["tracking_number"] == ""
    assert ws.stock().loc[("SZ", "MUG"), ["on_hand", "allocated", "available"]].tolist() == [5, 0, 5]
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    # Its number went up to Shopify with the first run's upload: staff are told to update it there.
    assert exceptions[exceptions["order_id"] == "#1001"]["event"].tolist() == ["cancelled", "upload outdated"]
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert db.execute("SELECT status FROM pool WHERE tracking_number = ?", (s10(1),)).fetchone() == ("void",)
    assert db.execute("SELECT COUNT(*) FROM lines WHERE order_id = '#1001'").fetchone() == (2,)


def test_pairing_bundle_allocates_its_components_and_reports_unpaired(ws):
    _declare(ws, '\n[[shops]]\nname = "amz-us"\nplatform = "amazon"\n')
    ws.drop("pairing.csv", ["shop", "platform_sku", "sku", "quantity"],
            [["amz-us", "GIFT-SET", "MUG", 2], ["amz-us", "GIFT-SET", "TEE", 1], ["", "MUG-RED", "MUG", 1]])
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", 10, ""], ["SZ", "TEE", 10, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 4)])
    _drop_amazon_report(ws, "amz-us", [
        _amazon_row("114-1111111-1111111", "11111111111111", "GIFT-SET", 3, "90.00"),
        _amazon_row("114-2222222-2222222", "22222222222222", "MUG-RED", 1, "12.90"),
        _amazon_row("114-3333333-3333333", "33333333333333", "ODD-THING", 1, "5.00"),
    ])
    assert ws.run() == 0
    lines = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="lines", dtype=str, engine="calamine")
    bundle = lines[lines["order_id"] == "114-1111111-1111111"]
    assert sorted(zip(bundle["sku"], bundle["quantity"])) == [("MUG", "6"), ("TEE", "3")]
    assert ws.stock().loc[("SZ", "MUG"), "allocated"] == 7
    orders = ws.orders().set_index("order_id")
    assert float(orders.loc["114-1111111-1111111", "goods_value"]) == 90.00
    assert orders.loc["114-3333333-3333333", "notes"] == "unpaired SKU ODD-THING"
    # The marketplace is told about the line the buyer ordered: 3 gift sets, not 6 mugs and 3 tees.
    upload = ws.last_outbox() / "upload-amz-us-amazon.txt"
    rows = list(csv.DictReader(upload.open(encoding="utf-8"), delimiter="\t"))
    bundle_rows = [r for r in rows if r["order-id"] == "114-1111111-1111111"]
    assert [(r["order-item-id"], r["quantity"]) for r in bundle_rows] == [("11111111111111", "3")]


def test_unpaid_order_waits_on_hold_until_the_platform_says_paid(ws):
    _declare(ws, '\n[[shops]]\nname = "shopA"\nplatform = "shopify"\n')
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)]])
    ws.drop("export.csv", SHOPIFY_HEADER, _shopify_rows(status="pending"), shop="shopA")
    ws.run()
    order = ws.orders().set_index("order_id").loc["#1001"]
    assert (order["stage"], order["hold_reason"], order["tracking_number"]) == (
        "hold", "not paid yet on the platform", "")
    ws.drop("export-2.csv", SHOPIFY_HEADER, _shopify_rows(status="paid"), shop="shopA")
    ws.run()
    order = ws.orders().set_index("order_id").loc["#1001"]
    assert (order["stage"], order["tracking_number"]) == ("print", s10(1))
