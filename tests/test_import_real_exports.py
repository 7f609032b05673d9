"""The real (anonymised) exports in ../shared/formats import with the right figures.

Expected figures were counted once by reading the files with Python's csv
module, independently of batchship: data rows = lines, distinct ``Name`` (or
``order-id``) = orders, the sum of ``Total`` over each order's first row =
order totals, the sum of ``Lineitem quantity`` = units, and for status each
order's first row: Financial Status refunded -> refunded, voided or a
Cancelled at -> cancelled, else Fulfillment Status fulfilled -> shipped.
"""
from decimal import Decimal
from pathlib import Path

import pytest

from batchship.config import Config
from batchship.importers import load_file
from batchship.io.tabular import read_sheets
from batchship.importers.identify import identify
from batchship.importers.templates import load_templates
from batchship.schemas import Line

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"
pytestmark = pytest.mark.skipif(not FORMATS.is_dir(), reason="../shared/formats is not present")


def _import(name: str):
    return load_file(FORMATS / name, shop_hint="shop1", config=Config())


def _order_totals(frame) -> Decimal:
    firsts = frame.drop_duplicates(Line.order_id)
    return sum((Decimal(t) for t in firsts[Line.order_total]), Decimal(0))


def _order_statuses(frame) -> dict[str, int]:
    return frame.drop_duplicates(Line.order_id)[Line.platform_status].value_counts().to_dict()


@pytest.mark.parametrize("name, orders, lines, total, units, statuses", [
    ("shopify/orders_export_bdt_cod.csv", 5, 6, "7700.00", 6, {"open": 5}),
    ("shopify/orders_export_cad_multiline.csv", 20, 64, "2238.95", 176, {"open": 20}),
    ("shopify/orders_export_crlf_bengali.csv", 50, 58, "78510.00", 64, {"shipped": 43, "cancelled": 7}),
    ("shopify/orders_export_tiktok_via_shopify_gb.csv", 60, 61, "2327.46", 61,
     {"shipped": 46, "refunded": 8, "open": 6}),
])
def test_real_shopify_exports(name, orders, lines, total, units, statuses):
    imp = _import(name)
    f = imp.frame
    assert imp.platform == "shopify_orders"
    assert f[Line.order_id].nunique() == orders
    assert len(f) == lines
    assert _order_totals(f) == Decimal(total)
    assert int(f[Line.quantity].sum()) == units
    assert _order_statuses(f) == statuses
    # every line carries its order's total and address, whatever row it came from
    per_order = f.groupby(Line.order_id)
    assert (per_order[Line.order_total].nunique() == 1).all()
    assert (per_order[Line.recipient_name].nunique() == 1).all()
    assert f[Line.paid_at].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()


def test_real_shopify_details():
    cad = _import("shopify/orders_export_cad_multiline.csv").frame
    first = cad[cad[Line.order_id] == "#1058"]
    assert first[Line.line_no].tolist() == [1, 2, 3, 4, 5, 6]
    assert set(first[Line.paid_at]) == {"2025-04-02T00:18:52Z"}     # "2025-04-01 17:18:52 -0700"
    assert set(first[Line.country]) == {"CA"} and set(first[Line.currency]) == {"CAD"}
    gb = _import("shopify/orders_export_tiktok_via_shopify_gb.csv").frame
    assert set(gb[Line.country]) == {"GB"}
    assert gb.loc[gb[Line.order_id] == "#1060", Line.platform_sku].tolist() == ["86719035-white-s"]
    # trailing spaces in names are not part of them
    assert not gb[Line.recipient_name].str.endswith(" ").any()


def test_real_amazon_order_report():
    imp = _import("amazon/order_report_sample.txt")
    f = imp.frame
    assert imp.platform == "amazon_order_report"
    # 6 data rows, 4 distinct order-id; quantity-purchased sums to 10
    assert f[Line.order_id].nunique() == 4 and len(f) == 6
    assert int(f[Line.quantity].sum()) == 10
    assert (f[Line.order_total] == "").all()
    assert set(f[Line.currency]) == {"USD"} and set(f[Line.country]) == {"US"}
    two = f[f[Line.order_id] == "234-5678901-2345678"]
    assert two[Line.item_id].tolist() == ["22222222222222", "33333333333333"]
    assert two[Line.line_no].tolist() == [1, 2]
    assert set(f[Line.paid_at]) == {"2009-01-05T18:50:49Z"}


@pytest.mark.parametrize("name, template", [
    ("amazon/all_orders_header.txt", "amazon_all_orders"),
    ("amazon/unshipped_orders_header.txt", "amazon_unshipped_orders"),
    ("amazon/order_report_extended_header.txt", "amazon_order_report"),
    ("ebay/orders_report_header.csv", "ebay_orders"),
    ("other/tiktok_shop_orders_header.csv", "tiktok_orders"),
    ("other/shopee_orders_header.csv", "shopee_orders"),
    ("other/walmart_orders_header.csv", "walmart_orders"),
    ("other/woocommerce_orders_header.csv", "woocommerce_orders"),
    ("other/lazada_orders_known_columns.csv", "lazada_orders"),
])
def test_real_headers_are_claimed_by_exactly_their_template(name, template):
    sheets = read_sheets(FORMATS / name, Config().limits)
    (match,) = identify(sheets, load_templates(), name)
    assert match.template.name == template
