"""Orders over several runs: status changes, staff holds, pairing changes, stock places, priorities."""
from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import create_engine

from batchship.schema_version import alembic_config
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
ACTION_HEADER = ["shop", "order_id", "action", "note"]
SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Total",
                  "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
                  "Shipping Name", "Shipping Address1", "Shipping City", "Shipping Zip", "Shipping Country"]


def _shopify(order: str, financial: str = "paid", fulfillment: str = "unfulfilled", sku: str = "A") -> list:
    return [order, "b@example.com", financial, "2026-11-01 09:00:00 +0000", fulfillment, "USD", "9.90",
            "2026-11-01 09:00:00 +0000", "1", "Thing", "9.90", sku, "Emily Carter", "742 Evergreen Terrace",
            "Springfield", "62704", "US"]


def _declare_shopify(ws) -> None:
    with (ws.root / "batchship.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[shops]]\nname = "shopA"\nplatform = "shopify"\n')


def _db(ws):
    return ws.db()


def _order(ws, order_id: str) -> pd.Series:
    row = _db(ws).execute("SELECT stage, hold_reason, tracking_number, stock_status, notes, goods_value "
                          "FROM orders WHERE order_id = ?", (order_id,)).fetchone()
    return pd.Series(row, index=["stage", "hold_reason", "tracking_number", "stock_status", "notes", "goods_value"])


def test_a_staff_hold_survives_the_fix_of_the_rule_that_held_it(any_ws):
    ws = any_ws
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A", hs="")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    assert _order(ws, "O1")["hold_reason"] == "customs: SKU A has no hs_code"
    ws.drop("actions.csv", ACTION_HEADER, [["", "O1", "hold", "fraud check"]])
    ws.run()
    ws.drop("products-2.csv", PRODUCT_HEADER, [product_row("A")])
    ws.run()
    o1 = _order(ws, "O1")
    assert (o1["stage"], o1["hold_reason"], o1["tracking_number"]) == ("hold", "held by staff (fraud check)", "")


def test_a_refund_in_a_later_file_of_the_same_batch_cancels_the_order(any_ws):
    ws = any_ws
    _declare_shopify(ws)
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("export-1.csv", SHOPIFY_HEADER, [_shopify("#1")], shop="shopA")
    ws.drop("export-2.csv", SHOPIFY_HEADER, [_shopify("#1", financial="refunded")], shop="shopA")
    ws.run()
    assert _order(ws, "#1")["stage"] == "cancelled"
    assert _db(ws).execute("SELECT status FROM pool").fetchone() == ("free",)


def test_shipped_on_the_platform_without_our_waybill_is_recorded_as_an_exception(ws):
    _declare_shopify(ws)
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("export-1.csv", SHOPIFY_HEADER, [_shopify("#1"), _shopify("#2", sku="NOPE")], shop="shopA")
    ws.run()
    assert (_order(ws, "#1")["stage"], _order(ws, "#2")["stage"]) == ("print", "hold")
    ws.drop("export-2.csv", SHOPIFY_HEADER, [_shopify("#1", fulfillment="fulfilled"),
                                             _shopify("#2", fulfillment="fulfilled", sku="NOPE")], shop="shopA")
    ws.run()
    # #1 carries our tracking number: the platform shows the virtual shipment; the parcel still waits.
    assert _order(ws, "#1")["stage"] == "print"
    assert _order(ws, "#2")["stage"] == "shipped"
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    assert exceptions[exceptions["order_id"] == "#2"]["detail"].str.contains("without a batchship waybill").all()


def test_shipping_deducts_only_where_the_sku_is_counted(any_ws):
    ws = any_ws
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    assert _order(ws, "O1")["stock_status"] == "in_stock"         # A not counted anywhere yet
    ws.drop("stock-us.csv", STOCK_HEADER, [["US", "A", 10, ""]])
    ws.drop("scan.csv", ["tracking_number"], [[s10(1)]])
    ws.run()
    ws.drop("stock-sz.csv", STOCK_HEADER, [["SZ", "A", 5, ""]])
    ws.run()
    assert ws.stock().loc[("SZ", "A"), "on_hand"] == 5
    assert ws.stock().loc[("US", "A"), "on_hand"] == 10


def test_the_same_file_name_in_two_shop_folders_is_two_files(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 2, "2026-11-01 08:00:00", price="9.90")])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 2, "2026-11-01 08:00:00", price="9.91")],
            shop="shop-a")
    ws.run()
    assert _order(ws, "O1")["goods_value"] == "19.80"
    assert _db(ws).execute("SELECT COUNT(*), SUM(quantity) FROM lines WHERE order_id = 'O1'").fetchone() == (1, 2)


def test_orders_without_a_paid_time_wait_behind_paid_ones(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 1, ""]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)], ["YW", s10(2)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("LATE", "A", 1, ""),
                                         order_row("PAID", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    assert (_order(ws, "PAID")["stock_status"], _order(ws, "LATE")["stock_status"]) == ("in_stock", "out_of_stock")
    assert _order(ws, "PAID")["tracking_number"] == s10(1)


def test_a_pairing_sheet_releases_and_changes_orders_still_waiting(any_ws):
    ws = any_ws
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE")])
    ws.drop("pairing.csv", ["shop", "platform_sku", "sku", "quantity"],
            [["", "GIFT", "MUG", 2], ["", "GIFT", "TEE", 1]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "MUG-RED", 1, "2026-11-01 08:00:00"),
                                         order_row("O2", "GIFT", 1, "2026-11-01 09:00:00")])
    ws.run()       # no pool: O2 waits in waybill
    assert _order(ws, "O1")["hold_reason"] == "customs: SKU MUG-RED is not in the product list"
    ws.drop("pairing-2.csv", ["shop", "platform_sku", "sku", "quantity"],
            [["", "MUG-RED", "MUG", 1], ["", "GIFT", "MUG", 3]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)], ["YW", s10(2)]])
    ws.run()
    assert _order(ws, "O1")["stage"] == "print"
    lines = _db(ws).execute("SELECT order_id, sku, quantity FROM lines ORDER BY order_id, sku").fetchall()
    assert lines == [("O1", "MUG", 1), ("O2", "MUG", 3)]


def test_a_held_order_shows_its_current_reason(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [["A", "A", "", "", "5.00", "USD", 200, "", "CN"]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    assert _order(ws, "O1")["hold_reason"] == "customs: SKU A has no declared_name_en, declared_name_cn, hs_code"
    ws.drop("products-2.csv", PRODUCT_HEADER, [["A", "A", "Mug", "杯子", "5.00", "USD", 200, "", "CN"]])
    ws.run()
    assert _order(ws, "O1")["hold_reason"] == "customs: SKU A has no hs_code"


def test_one_number_for_two_channels_in_one_batch_rejects_the_second_file(ws):
    ws.drop("pool-1.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("pool-2.csv", POOL_HEADER, [["SMALL", s10(1)]])
    assert ws.run() == 1
    report = pd.read_excel(ws.root / "failed" / "pool-2.csv.errors.xlsx", dtype=str, engine="calamine")
    assert report["problem"].tolist() == ["already in the pool of channel YW"]


def test_a_cancelled_order_keeps_no_stale_reasons_and_its_number_scans_as_voided(any_ws):
    ws = any_ws
    _declare_shopify(ws)
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("export-1.csv", SHOPIFY_HEADER, [_shopify("#1")], shop="shopA")
    ws.run()
    ws.drop("export-2.csv", SHOPIFY_HEADER, [_shopify("#1", financial="voided")], shop="shopA")
    ws.run()
    ws.drop("scan.csv", ["tracking_number"], [[s10(1)]])
    ws.run()
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    assert "tracking number was voided when its order was cancelled" in exceptions["detail"].iloc[0]


def test_a_workspace_from_an_earlier_version_gets_the_new_columns(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    ws.run()
    # As made before versioned migrations: back to the first revision, without its version table,
    # and without a column added before then.
    engine = create_engine(f"sqlite:///{ws.root / '.batchship' / 'state.sqlite'}")
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
        connection.commit()
    engine.dispose()
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    db.execute("DROP TABLE alembic_version")
    db.execute("ALTER TABLE lines DROP COLUMN platform_quantity")
    db.commit()
    db.close()
    ws.drop("orders-2.csv", ORDER_HEADER, [order_row("O2", "A", 1, "2026-11-01 08:00:00")])
    assert ws.run() == 0
    assert _order(ws, "O2")["stage"] == "waybill"


def test_a_corrected_re_export_releases_an_order_held_for_its_address(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00", postcode="")])
    ws.run()
    assert _order(ws, "O1")["hold_reason"] == "postcode missing"
    ws.drop("orders-fixed.csv", ORDER_HEADER, [order_row("O1", "A", 5, "2026-11-01 08:00:00", postcode="62704")])
    ws.run()
    o1 = _order(ws, "O1")
    assert (o1["stage"], o1["tracking_number"]) == ("print", s10(1))
    # Only the recipient details change: the lines stay as first imported.
    assert _db(ws).execute("SELECT quantity FROM lines WHERE order_id = 'O1'").fetchone() == (1,)
    events = pd.read_excel(ws.last_outbox() / "orders.xlsx", dtype=str, engine="calamine")
    assert "corrected" in events.set_index("order_id").loc["O1", "this run"]


def test_each_line_names_every_customs_field_it_lacks_in_order(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [["A", "A", "Mug", "杯子", "5.00", "USD", 200, "691200", "CN"],
                                             ["B", "B", "Cup", "", "", "USD", 0, "691200", ""]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("O2", "A", 1, "2026-11-01 09:00:00"),
                                         order_row("O2", "B", 1, "2026-11-01 09:00:00"),
                                         order_row("O3", "C", 1, "2026-11-01 10:00:00")])
    ws.run()
    assert (_order(ws, "O1")["stage"], _order(ws, "O1")["hold_reason"]) == ("waybill", "")   # no numbers yet
    assert _order(ws, "O2")["hold_reason"] == (
        "customs: SKU B has no declared_name_cn, declared_value, weight_g, origin_country")
    assert _order(ws, "O3")["hold_reason"] == "customs: SKU C is not in the product list"


@pytest.mark.parametrize("read_ahead", [False, True])
def test_a_pool_file_lists_all_its_problems_at_once_read_ahead_or_not(ws, monkeypatch, read_ahead):
    """An undeclared channel and a wrong check digit (what the file alone tells, worked out where it is
    read), a number the store holds for another channel and one listed for two: all in one report."""
    ws.drop("pool-1.csv", POOL_HEADER, [["YW", s10(1)]])
    assert ws.run() == 0
    if read_ahead:      # the pool file, the batch's largest, is read on a worker beside the run
        monkeypatch.setattr("batchship.read_ahead.MIN_BYTES", 0)
    ws.drop("pool-2.csv", POOL_HEADER, [["NOPE", s10(2)], ["YW", "RR123456786CN"], ["SMALL", s10(1)],
                                        ["YW", s10(3)], ["SMALL", s10(3)]] + [["YW", s10(n)] for n in range(4, 40)])
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    assert ws.run() == 1
    report = ws.errors_report("pool-2.csv")
    assert list(zip(report["row"], report["problem"])) == [
        ("2", "channel 'NOPE' is not declared in batchship.toml (declared: YW, SMALL)"),
        ("3", "S10 check digit is 6, expected 5"),
        ("4", "already in the pool of channel YW"),
        ("6", "the same number is listed for two channels")]
    assert _db(ws).execute("SELECT COUNT(*) FROM pool").fetchone()[0] == 1
