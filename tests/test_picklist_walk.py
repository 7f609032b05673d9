"""Pick lists a picker can walk: zones in the configured order, unshelved stock last, one workbook row
per order line, and a PDF whose length follows the SKUs, not the orders."""
from __future__ import annotations

import time

import pandas as pd
import pypdfium2 as pdfium

from batchship.config import parse_config
from batchship.outputs import _picklist
from batchship.print_order import shelf_walk_key


class _Stock:
    """What _picklist reads from the store: shelves and product names."""

    def __init__(self, shelves: dict[str, str]):
        self.places = shelves

    def shelves(self) -> pd.DataFrame:
        return pd.DataFrame({"warehouse": "SZ", "sku": list(self.places), "shelf": list(self.places.values())})

    def products(self) -> pd.DataFrame:
        return pd.DataFrame({"sku": list(self.places), "name": [f"Product {s}" for s in self.places]})


def test_walk_key_puts_listed_zones_first_and_unshelved_last():
    shelves = ["A-10", "", "C-1", "b-2", "A-2", "D-1", "B-10", "Z9"]
    assert sorted(shelves, key=shelf_walk_key(("B", "A"))) == ["b-2", "B-10", "A-2", "A-10", "C-1", "D-1", "Z9", ""]
    assert sorted(shelves, key=shelf_walk_key()) == ["A-2", "A-10", "b-2", "B-10", "C-1", "D-1", "Z9", ""]


def test_zone_order_is_a_labels_setting():
    config = parse_config({"labels": {"zone_order": ["B", "A"]}, "shops": [{"name": "s", "platform": "x",
                                                                             "packing_slips": True}]})
    assert config.print_order.zone_order == ("B", "A")
    assert config.shops["s"].packing_slips is True
    assert parse_config({}).print_order.zone_order == ()


def test_twenty_thousand_lines_walk_in_zone_order_with_a_bounded_pdf(tmp_path):
    zones = ["A", "B", "C", "D"]
    skus = {f"SKU-{n:03d}": (f"{zones[n % 4]}-{n % 7 + 1}-{n // 28 + 1}" if n % 50 else "") for n in range(200)}
    stock = _Stock({s: shelf for s, shelf in skus.items() if shelf})
    rows = []
    for n in range(20_000):
        order = n // 2
        rows.append({"shop": "amazon-us" if order % 3 else "ebay", "order_id": f"113-{order:08d}",
                     "warehouse": "SZ", "sku": f"SKU-{(n * 37) % 200:03d}", "quantity": 1 + n % 3,
                     "tracking_number": f"LX{order:09d}CN"})
    lines = pd.DataFrame(rows)
    start = time.perf_counter()
    pdf, xlsx = _picklist(tmp_path, lines, stock, "20261101-120000", zone_order=("C", "A"))
    assert time.perf_counter() - start < 60

    pick = pd.read_excel(xlsx, sheet_name="picklist", dtype=str, engine="calamine").fillna("")
    assert len(pick) == 200 and set(pick["sku"]) == set(skus)
    walk = shelf_walk_key(("C", "A"))
    assert [walk(s) for s in pick["shelf"]] == sorted(walk(s) for s in pick["shelf"])
    seen = list(dict.fromkeys(s.split("-")[0] for s in pick["shelf"] if s))
    assert seen == ["C", "A", "B", "D"]
    assert (pick["shelf"].iloc[-4:] == "").all()          # the 4 unshelved SKUs come last
    assert pick["quantity"].astype(int).sum() == lines["quantity"].sum()

    per_line = pd.read_excel(xlsx, sheet_name="lines", dtype=str, engine="calamine").fillna("")
    assert list(per_line.columns) == ["warehouse", "shelf", "sku", "name", "quantity", "shop", "order_id",
                                      "tracking_number"]
    assert len(per_line) == 20_000
    assert [walk(s) for s in per_line["shelf"]] == sorted(walk(s) for s in per_line["shelf"])
    one = per_line[per_line["order_id"] == "113-00000007"]
    assert set(one["tracking_number"]) == {"LX000000007CN"} and len(one) == 2

    doc = pdfium.PdfDocument(pdf)
    # Each SKU serves about 100 orders; rows stay a few lines high, so pages follow the 200 SKUs.
    assert len(doc) <= 200 // 15 + 1
    text = "\n".join(page.get_textpage().get_text_range() for page in doc)
    for sku in skus:
        assert sku in text
    assert "more" in text and f"Page {len(doc)} of {len(doc)}" in text
