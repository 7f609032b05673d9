"""End-of-day handover manifests, as the carrier's driver and the warehouse check them."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pypdfium2 as pdfium
import zxingcpp

from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, s10, without_totals

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
SCAN_HEADER = ["tracking_number"]
# sku: (declared value, currency, grams)
PRODUCTS = {"A": ("5.10", "USD", 250), "B": ("12.35", "EUR", 1205), "C": ("0.99", "USD", 37),
            "D": ("7.00", "EUR", 480)}


def _products(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [
        [sku, f"Product {sku}", f"Goods {sku}", "商品", value, currency, grams, "691200", "CN"]
        for sku, (value, currency, grams) in PRODUCTS.items()])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", sku, 10_000, f"S-{sku}"] for sku in PRODUCTS])


POSTCODES = {"US": "62704", "DE": "10115", "FR": "75001", "GB": "SW1A 1AA"}   # each in its country's format
# order id: (country, [(sku, quantity)])
ORDERS = {
    "Y1": ("US", [("A", 2), ("B", 1)]),
    "Y2": ("DE", [("C", 3)]),
    "Y3": ("FR", [("B", 2), ("D", 1), ("A", 1)]),
    "Y4": ("US", [("D", 4)]),                       # not scanned
    "S1": ("GB", [("A", 1), ("C", 5)]),
    "S2": ("GB", [("B", 3)]),
}


def _day_one(ws) -> pd.DataFrame:
    _products(ws)
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)]
            + [["SMALL", f"SM{i:04d}"] for i in range(1, 5)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row(oid, sku, qty, f"2026-11-01 0{n}:00:00", country=country, postcode=POSTCODES[country])
        for n, (oid, (country, lines)) in enumerate(ORDERS.items()) for sku, qty in lines])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert (orders.loc[list(ORDERS), "stage"] == "print").all()
    return orders


def _expected(order_ids) -> tuple[int, int, dict[str, Decimal]]:
    items, grams, values = 0, 0, {}
    for oid in order_ids:
        for sku, qty in ORDERS[oid][1]:
            value, currency, weight = PRODUCTS[sku]
            items += qty
            grams += weight * qty
            values[currency] = values.get(currency, Decimal(0)) + Decimal(value) * qty
    return items, grams, values


def _sheet(path, name) -> pd.DataFrame:
    """The sheet's parcel rows, without the totals row under them."""
    return without_totals(pd.read_excel(path, sheet_name=name, engine="calamine"))


def _exact(x) -> Decimal:
    return Decimal(str(x))


def _texts(path) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path)]


def _words(text: str) -> str:
    return " ".join(text.split())


def _barcodes(path, page: int = 0) -> list[str]:
    image = pdfium.PdfDocument(path)[page].render(scale=203 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]


def test_manifest_per_channel_lists_exactly_the_parcels_handed_over(ws):
    orders = _day_one(ws)
    scanned = ["Y1", "Y2", "Y3", "S1"]
    ws.drop("handover.csv", SCAN_HEADER, [[orders.loc[o, "tracking_number"]] for o in scanned]
            + [["RR999999999CN"]])                  # unknown: not applied, not on any manifest
    assert ws.run() == 1
    out = ws.last_outbox()
    run_id = out.name
    assert sorted(p.name for p in out.glob("manifest-*")) == [
        "manifest-SMALL.pdf", "manifest-SMALL.xlsx", "manifest-YW.pdf", "manifest-YW.xlsx"]

    parcels = _sheet(out / "manifest-YW.xlsx", "parcels")
    head = _sheet(out / "manifest-YW.xlsx", "manifest")
    yw = ["Y1", "Y2", "Y3"]
    assert sorted(parcels["tracking_number"]) == sorted(orders.loc[yw, "tracking_number"])
    assert sorted(parcels["order_id"]) == yw
    assert "RR999999999CN" not in set(parcels["tracking_number"])
    by_order = parcels.set_index("order_id")
    for oid in yw:
        items, grams, values = _expected([oid])
        assert by_order.loc[oid, "items"] == items and by_order.loc[oid, "weight_g"] == grams
        assert by_order.loc[oid, "country"] == ORDERS[oid][0]
        for currency in ("USD", "EUR"):
            assert _exact(by_order.loc[oid, f"declared_value {currency}"]) == values.get(currency, Decimal(0))

    # Totals are numbers and equal the sum of the rows, and the parcels' true totals.
    items, grams, values = _expected(yw)
    total = head.iloc[0]
    assert (total["manifest_id"], total["channel"], total["warehouses"]) == (f"M-{run_id}-YW", "YW", "SZ")
    assert total["date"] == pd.Timestamp(f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}")   # an Excel date
    assert total["parcels"] == len(parcels) == 3
    assert total["items"] == parcels["items"].sum() == items
    assert total["weight_g"] == parcels["weight_g"].sum() == grams
    assert _exact(total["weight_kg"]) == Decimal(grams) / 1000
    for currency, value in values.items():
        column = f"declared_value {currency}"
        assert isinstance(total[column], float)
        assert _exact(total[column]) == sum(map(_exact, parcels[column])) == value
    assert values == {"USD": Decimal("18.27"), "EUR": Decimal("44.05")}
    # The parcels sheet ends with a totals row of the same figures.
    last = pd.read_excel(out / "manifest-YW.xlsx", sheet_name="parcels", engine="calamine").iloc[-1]
    assert last["tracking_number"] == "Total"
    assert (last["items"], last["weight_g"]) == (items, grams)
    assert all(_exact(last[f"declared_value {c}"]) == v for c, v in values.items())

    # What the ledger deducted for these parcels is what the manifest says went out.
    refs = [f"shop-a/{o}" for o in yw]
    deducted = ws.db().execute(
        f"SELECT -SUM(delta) FROM ledger WHERE cause = 'ship' AND reference IN ({', '.join('?' * len(refs))})",
        refs).fetchone()[0]
    assert deducted == total["items"]

    small = _sheet(out / "manifest-SMALL.xlsx", "parcels")
    assert small["order_id"].tolist() == ["S1"]
    assert _sheet(out / "manifest-SMALL.xlsx", "manifest").iloc[0]["items"] == _expected(["S1"])[0]

    pdf = out / "manifest-YW.pdf"
    assert _barcodes(pdf) == [f"M-{run_id}-YW"]
    text = "\n".join(_texts(pdf))
    for tracking in parcels["tracking_number"]:
        assert tracking in text
    assert "RR999999999CN" not in text
    assert f"Parcels: 3 Items: {items} Total weight: {Decimal(grams) / 1000:.3f} kg" in _words(text)
    assert "Declared value: 44.05 EUR, 18.27 USD" in text
    assert "44.05 EUR" in text and "18.27 USD" in text
    for words in ("Handed over by", "Received by", "Time", "Page 1 of 1", "Channel", "YW", "shop-a / Y3"):
        assert words in text
    assert _barcodes(out / "manifest-SMALL.pdf") == [f"M-{run_id}-SMALL"]


def test_a_parcel_is_on_the_manifest_of_the_run_that_shipped_it_only(ws):
    orders = _day_one(ws)
    ws.drop("handover.csv", SCAN_HEADER, [[orders.loc["Y1", "tracking_number"]]])
    ws.run()
    ws.drop("handover-2.csv", SCAN_HEADER, [[orders.loc["Y1", "tracking_number"]], ["Y4"]])   # again; by id
    assert ws.run() == 1   # the repeated scan is refused
    parcels = _sheet(ws.last_outbox() / "manifest-YW.xlsx", "parcels")
    assert parcels["order_id"].tolist() == ["Y4"]
    assert not (ws.last_outbox() / "manifest-SMALL.xlsx").exists()


def test_a_run_without_handover_scans_writes_no_manifest(ws):
    _day_one(ws)
    assert not list(ws.last_outbox().glob("manifest-*"))
    ws.drop("handover.csv", SCAN_HEADER, [["RR999999999CN"], ["NOPE-1"]])   # nothing it names exists
    assert ws.run() == 1
    assert not list(ws.last_outbox().glob("manifest-*"))


def test_long_manifests_paginate_with_the_head_on_every_page(ws):
    _products(ws)
    n = 120
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, n + 1)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row(f"L{i:03d}", "C", 1 + i % 3, "2026-11-01 08:00:00")
                                         for i in range(n)])
    ws.run()
    ws.drop("handover.csv", SCAN_HEADER, [[s10(i)] for i in range(1, n + 1)])
    assert ws.run() == 0
    out = ws.last_outbox()
    run_id = out.name
    parcels = _sheet(out / "manifest-YW.xlsx", "parcels")
    assert len(parcels) == n and parcels["tracking_number"].is_unique
    pdf = out / "manifest-YW.pdf"
    pages = _texts(pdf)
    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Tracking number" in text and f"M-{run_id}-YW" in text
    assert _barcodes(pdf, len(pages) - 1) == [f"M-{run_id}-YW"]
    everything = "\n".join(pages)
    assert all(s10(i) in everything for i in range(1, n + 1))
    items = sum(1 + i % 3 for i in range(n))
    assert f"Parcels: {n} Items: {items} Total weight: {Decimal(items * 37) / 1000:.3f} kg" in _words(pages[-1])
    assert "Handed over by" in pages[-1] and "Handed over by" not in pages[0]
