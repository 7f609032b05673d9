"""Pick-list PDF as a picker reads it: every SKU, its quantity, totals per warehouse, page numbers."""
from __future__ import annotations

import re

import pandas as pd
import pypdfium2 as pdfium
import pytest

from batchship.writers.picklist_pdf import PickRow, render_picklist
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

A4 = (595.28, 841.89)


def texts(path) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path)]


def test_rows_grouped_by_warehouse_with_totals(tmp_path):
    rows = [
        PickRow("Shenzhen", "A-01-02", "TS-RED-M", "Cotton T-shirt red M", 3, ("amazon-de/305-111", "ebay/12-3456")),
        PickRow("Shenzhen", "A-01-03", "TS-RED-L", "Cotton T-shirt red L", 1, ("amazon-de/305-222",)),
        PickRow("Shenzhen", "B-07-01", "MUG-WHITE", "Ceramic mug, white", 12, ("shopify/#1001",)),
        PickRow("Łódź 3PL", "Z-9", "SOCK-Ł-01", "Skarpetki wełniane — Шерстяные носки", 5, ("allegro/9001",)),
    ]
    path = tmp_path / "picklist.pdf"
    assert render_picklist(rows, path, title="Pick list 2024-05-01 wave 2") == {}
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == 1
    assert pdf[0].get_size() == pytest.approx(A4, abs=0.1)
    text = texts(path)[0]
    for row in rows:
        assert row.sku in text and row.shelf in text and row.orders[0] in text
    for word in "Skarpetki wełniane — Шерстяные носки".split():   # wrapped in its column
        assert word in text
    assert "Warehouse Shenzhen" in text and "Warehouse Łódź 3PL" in text
    assert "Total warehouse Shenzhen: 3 SKUs, 16 pcs" in text
    assert "Total warehouse Łódź 3PL: 1 SKUs, 5 pcs" in text
    assert "Page 1 of 1" in text and "Pick list 2024-05-01 wave 2" in text
    # Quantities sit in their rows: the line of each SKU carries its quantity.
    line = next(line for line in text.splitlines() if "MUG-WHITE" in line)
    assert re.search(r"\b12\b", line)
    assert not path.with_suffix(".tmp").exists()


def test_long_lists_flow_over_pages_with_numbers_and_continued_headings(tmp_path):
    rows = [PickRow("WH1" if i < 90 else "WH2", f"S-{i:03d}", f"SKU-{i:04d}",
                    "A product name long enough to wrap onto a second line in its column", 2,
                    tuple(f"amazon-us/113-{n:07d}" for n in range(40 if i % 25 == 0 else 1)))
            for i in range(120)]
    path = tmp_path / "picklist.pdf"
    render_picklist(rows, path, title="Big wave")
    pages = texts(path)
    assert len(pages) > 2
    everything = "\n".join(pages)
    for row in rows:
        assert len(re.findall(rf"\b{row.sku}\b", everything)) == 1
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    assert "Warehouse WH1 (continued)" in everything
    assert "Total warehouse WH1: 90 SKUs, 180 pcs" in everything
    assert "Total warehouse WH2: 30 SKUs, 60 pcs" in everything
    for page in pdfium.PdfDocument(path):
        width, height = page.get_size()
        for obj in page.get_objects():
            left, bottom, right, top = obj.get_bounds()
            assert left >= 0 and bottom >= 0 and right <= width and top <= height


def test_orders_that_cannot_fit_a_page_end_in_a_count(tmp_path):
    orders = tuple(f"walmart/{n:012d}" for n in range(600))
    path = tmp_path / "picklist.pdf"
    render_picklist([PickRow("WH", "A1", "BULK-1", "Bulk item", 600, orders)], path, title="t")
    pages = texts(path)
    assert len(pages) == 1
    match = re.search(r"\+(\d+) more", pages[0])
    assert match
    shown = len(re.findall(r"walmart/\d{12}", pages[0]))
    assert shown + int(match.group(1)) == 600


def test_unprintable_name_is_reported_by_sku(tmp_path):
    path = tmp_path / "picklist.pdf"
    # Chinese prints with the bundled CJK font now: a hieroglyph is what no font has.
    problems = render_picklist([PickRow("WH", "A1", "TEA-1", "𓆣𓆤 Green tea", 1, ("o1",))], path, title="t")
    assert problems == {"TEA-1": ["name: cannot print '𓆣', '𓆤' with the configured fonts "
                                  "(no bundled font has it; labels.cjk_font can add one)"]}
    assert "Green tea" in texts(path)[0]


def test_the_pick_list_walks_shelves_in_natural_order(ws):
    shelves = {"S1": "A-10", "S2": "A-2", "S3": "a-3", "S4": "B-1-10", "S5": "B-1-9", "S6": "A-1"}
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(sku) for sku in shelves])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", sku, 5, shelf] for sku, shelf in shelves.items()])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 8)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row(f"O{i}", sku, 1, "2026-11-01 10:00") for i, sku in enumerate(shelves)])
    assert ws.run() == 0
    pick = pd.read_excel(ws.last_outbox() / "picklist.xlsx", dtype=str, engine="calamine")
    assert pick["shelf"].tolist() == ["A-1", "A-2", "a-3", "A-10", "B-1-9", "B-1-10"]
