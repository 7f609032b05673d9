"""Packing slips (配货单): a page per order, in label order, that scans to the parcel's number."""
from __future__ import annotations

import pypdfium2 as pdfium

from batchship.writers.packing_slips import PackingSlip, render_packing_slips
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10
from test_labels import decode


def _pages(path) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path)]


def test_slips_for_the_shops_that_ask_in_label_order_per_wave(ws):
    config = TEST_CONFIG.replace('name = "shop-a"\nplatform = "batchship"\n',
                                 'name = "shop-a"\nplatform = "batchship"\npacking_slips = true\n', 1)
    assert "packing_slips = true" in config
    (ws.root / "batchship.toml").write_text(
        config + '\n[labels]\nsort = "shelf"\nmax_orders_per_wave = 2\nzone_order = ["B", "A"]\n', encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(s) for s in ("S1", "S2", "S3")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"],
            [["SZ", "S1", 50, "A-1"], ["SZ", "S2", 50, "B-2"], ["SZ", "S3", 50, "A-3"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("O1", "S1", 2, "2026-11-01 08:00:00"),
        order_row("O1", "S3", 1, "2026-11-01 08:00:00"),
        order_row("O2", "S2", 1, "2026-11-01 09:00:00"),
        order_row("O3", "S2", 4, "2026-11-01 07:00:00", shop="shop-b"),
        order_row("O4", "S3", 1, "2026-11-01 06:00:00"),
    ])
    assert ws.run() == 0
    out = ws.last_outbox()
    tracking = ws.orders().set_index("order_id")["tracking_number"]
    # Shelf walk with zone B first: O2 and O3 (B-2), then O1, then O4; two orders a wave.
    slips1, slips2 = out / "packing-slips-wave1.pdf", out / "packing-slips-wave2.pdf"
    assert not (out / "packing-slips.pdf").exists()
    first = pdfium.PdfDocument(slips1)
    assert len(first) == 1 and decode(first[0]) == [tracking["O2"]]       # shop-b's O3 has no slip
    second = pdfium.PdfDocument(slips2)
    assert [decode(page) for page in second] == [[tracking["O1"]], [tracking["O4"]]]
    text = _pages(slips2)[0]
    assert "shop-a / O1" in text and tracking["O1"] in text
    lines = text.splitlines()
    assert any("S1" in line and "Product S1" in line and line.rstrip().endswith("2") for line in lines)
    assert any("S3" in line and "Product S3" in line and line.rstrip().endswith("1") for line in lines)
    assert "Total: 2 SKUs, 3 pcs" in text and "Emily Carter, US" in text
    pick = __import__("pandas").read_excel(out / "picklist-wave2.xlsx", dtype=str, engine="calamine")
    assert pick["shelf"].tolist() == ["A-1", "A-3"]


def test_a_long_order_flows_over_pages_and_one_without_tracking_scans_to_its_order_id(tmp_path):
    many = PackingSlip("shop / BIG-1", "BIG-1", "LX123456789CN", "Ann Lee, DE",
                       tuple((f"SKU-{n:03d}", f"Item number {n}", 1 + n % 4) for n in range(60)))
    bare = PackingSlip("shop / 4711-0815", "4711-0815", "", "Bo, SE", (("MUG", "Mug", 1),))
    path = tmp_path / "slips.pdf"
    assert render_packing_slips([many, bare], path) == {}
    doc = pdfium.PdfDocument(path)
    pages = _pages(path)
    assert len(pages) >= 3
    assert decode(doc[0]) == ["LX123456789CN"] and decode(doc[len(doc) - 1]) == ["4711-0815"]
    big = pages[:-1]
    assert all("shop / BIG-1" in p and f"Page {i} of {len(big)}" in p for i, p in enumerate(big, start=1))
    everything = "\n".join(big)
    assert all(f"SKU-{n:03d}" in everything for n in range(60))
    assert f"Total: 60 SKUs, {sum(1 + n % 4 for n in range(60))} pcs" in big[-1]
    assert all(decode(doc[i]) == [] for i in range(1, len(big)))
