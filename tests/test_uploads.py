"""Tracking-upload files: written to disk, read back the way a marketplace would."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from batchship.config import parse_config
from batchship.errors import BatchshipError
from batchship.schemas import Line
from batchship.writers.upload_format import UPLOAD_TEMPLATES
from batchship.writers.uploads import write_uploads

SHARED = Path(__file__).resolve().parents[2] / "shared" / "formats"
SHIP_DATE = "2026-05-31"
FORMULA = '=HYPERLINK("http://x","y")'

CONFIG = parse_config({
    "shops": [
        {"name": "AmzUS", "platform": "amazon"},
        {"name": "AmzJP", "platform": "amazon", "marketplace": "JP"},
        {"name": "Ebay1", "platform": "ebay"},
        {"name": "Walmart1", "platform": "walmart"},
        {"name": "Shop1", "platform": "shopify"},
    ],
    "channels": [
        {"name": "YW-Economy", "carriers": {"amazon": "Yanwen", "ebay": "Yanwen", "shopify": "Yanwen",
                                            "walmart": "Yanwen", "tiktok": "YANWEN",
                                            "lazada": "Yanwen", "woocommerce": "Yanwen"}},
        {"name": "WB-Line", "carriers": {"amazon": "Wanb Express"}},
        {"name": "4px-std", "carriers": {"amazon": "4px"}},
        {"name": "CNE-Local", "carriers": {"amazon": "Other:CNE Express", "ebay": "CNE Express",
                                           "shopify": "CNE Express", "walmart": "cne"}},
        {"name": "JP-Yamato", "carriers": {"amazon": "Other:ヤマト便"}},
        {"name": "JP-Truck", "carriers": {"amazon": "Other:Truck 🚚"}},
        {"name": "Own-Van"},
        {"name": "Bare-Other", "carriers": {"amazon": "Other"}},
        {"name": "Walmart-Own", "carriers": {"walmart": "Speedy Parcels"}},
        {"name": "Walmart-Own-URL", "carriers": {"walmart": "Speedy Parcels"},
         "tracking_url": "https://speedy.example/t/{tracking_number}"},
    ],
})


def shipped(shop: str, platform: str, order_id: str, item_id: str, sku: str, quantity: int,
            tracking: str, channel: str = "YW-Economy", raw: str = "") -> dict:
    row = {c: "" for c in Line.columns}
    row.update({Line.shop: shop, Line.platform: platform, Line.order_id: order_id,
                Line.item_id: item_id, Line.platform_sku: sku, Line.sku: sku,
                Line.quantity: quantity, Line.line_no: 1, Line.row: 2,
                Line.raw: raw, "tracking_number": tracking, "channel": channel})
    return row


def write(rows: list[dict], tmp_path: Path, **kw) -> list[Path]:
    """The files written; every order must have fitted in them."""
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE, **kw)
    assert left_out == {}
    return paths


def only(paths: list[Path]) -> Path:
    assert len(paths) == 1, paths
    return paths[0]


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def read_tsv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE))


def template_header(name: str) -> list[str]:
    return tomllib.loads((UPLOAD_TEMPLATES / f"{name}.toml").read_text(encoding="utf-8"))["header"]


def shared_header(relative: str, delimiter: str) -> list[str]:
    path = SHARED / relative
    if not path.exists():
        pytest.skip("reference formats (../shared/formats) not present")
    return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter=delimiter))


def as_dicts(table: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(table[0], r)) for r in table[1:]]


# ---------------------------------------------------------------- Amazon

AMAZON_ROWS = [
    # multi-line order, item ids known, one parcel
    shipped("AmzUS", "amazon", "111-0000001-0000001", "10000000000001", "MUG-1", 1, "YT2600000000001"),
    shipped("AmzUS", "amazon", "111-0000001-0000001", "10000000000002", "CAP-2", 2, "YT2600000000001"),
    # a bundle expanded into two warehouse SKUs: still one marketplace line
    shipped("AmzUS", "amazon", "111-0000002-0000002", "20000000000001", "SET-1", 1, "UJ000000001CN",
            channel="WB-Line") | {Line.sku: "PART-A"},
    shipped("AmzUS", "amazon", "111-0000002-0000002", "20000000000001", "SET-1", 1, "UJ000000001CN",
            channel="WB-Line") | {Line.sku: "PART-B"},
    # no item ids: one row for the whole order
    shipped("AmzUS", "amazon", "111-0000003-0000003", "", "PEN-1", 1, "LP0001", channel="CNE-Local"),
    shipped("AmzUS", "amazon", "111-0000003-0000003", "", "PEN-2", 3, "LP0001", channel="CNE-Local"),
    shipped("AmzUS", "amazon", "111-0000004-0000004", "40000000000001", "BAG", 1, "4PX0001", channel="4px-std"),
]


def test_amazon_header_matches_the_real_upload(tmp_path):
    table = read_tsv(only(write(AMAZON_ROWS, tmp_path)))
    assert table[0] == template_header("amazon")
    assert table[0] == shared_header("amazon/shipping_confirmation_header.txt", "\t")


def test_amazon_one_row_per_order_item_and_carrier_rules(tmp_path):
    path = only(write(AMAZON_ROWS, tmp_path))
    assert path.name == "upload-AmzUS-amazon.txt"
    rows = as_dicts(read_tsv(path))
    got = [(r["order-id"], r["order-item-id"], r["quantity"], r["carrier-code"], r["carrier-name"],
            r["tracking-number"], r["ship-date"]) for r in rows]
    assert got == [
        ("111-0000001-0000001", "10000000000001", "1", "Yanwen", "", "YT2600000000001", SHIP_DATE),
        ("111-0000001-0000001", "10000000000002", "2", "Yanwen", "", "YT2600000000001", SHIP_DATE),
        # mapped carrier Amazon does not list: Other + its name
        ("111-0000002-0000002", "20000000000001", "1", "Other", "Wanb Express", "UJ000000001CN", SHIP_DATE),
        # "Other:<name>": Other + that name; whole order, no quantity
        ("111-0000003-0000003", "", "", "Other", "CNE Express", "LP0001", SHIP_DATE),
        # carrier code matched regardless of case, written as Amazon spells it
        ("111-0000004-0000004", "40000000000001", "1", "4PX", "", "4PX0001", SHIP_DATE),
    ]
    assert path.read_bytes().decode("utf-8").count("\r") == 0


def test_amazon_japan_variant_is_shift_jis_with_three_header_rows(tmp_path):
    rows = [
        shipped("AmzJP", "amazon", "250-0000001-0000001", "30000000000001", "MUG-1", 1, "JP00001"),
        shipped("AmzJP", "amazon", "250-0000001-0000001", "30000000000002", "MUG-2", 1, "JP00001"),
        shipped("AmzJP", "amazon", "250-0000002-0000002", "30000000000003", "MUG-3", 2, "JP00002",
                channel="JP-Yamato"),
    ]
    path = only(write(rows, tmp_path))
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp932")
    assert text.count("\r\n") == text.count("\n") == 6
    table = read_tsv(path, "cp932")
    assert table[0][0] == "TemplateType=OrderFulfillment"
    assert table[1][0] == "注文番号"
    assert table[2] == template_header("amazon_jp")
    assert table[2][:8] == template_header("amazon")
    body = [dict(zip(table[2], r)) for r in table[3:]]
    assert [(r["order-id"], r["order-item-id"], r["carrier-code"], r["carrier-name"]) for r in body] == [
        ("250-0000001-0000001", "30000000000001", "Yanwen", ""),
        ("250-0000001-0000001", "30000000000002", "Yanwen", ""),
        ("250-0000002-0000002", "30000000000003", "Other", "ヤマト便"),
    ]
    real = SHARED / "amazon/shipping_confirmation_jp_template.txt"
    if not real.exists():
        pytest.skip("reference formats (../shared/formats) not present")
    real_rows = list(csv.reader(io.StringIO(real.read_text(encoding="utf-8"), newline=""),
                                delimiter="\t", quoting=csv.QUOTE_NONE))
    assert table[:3] == real_rows[:3]


def test_japan_value_that_shift_jis_cannot_hold_is_refused_without_a_file(tmp_path):
    rows = [shipped("AmzJP", "amazon", "250-0000009-0000009", "1", "X", 1, "JP9", channel="JP-Truck")]
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE)
    assert paths == [] and list((tmp_path / "out").iterdir()) == []
    assert "cp932" in left_out[("AmzJP", "250-0000009-0000009")]


def test_only_the_order_shift_jis_cannot_hold_is_left_out_of_the_japan_upload(tmp_path):
    rows = [shipped("AmzJP", "amazon", "250-0000009-0000009", "1", "X", 1, "JP9", channel="JP-Truck"),
            shipped("AmzJP", "amazon", "250-0000008-0000008", "2", "Y", 1, "JP8"),
            shipped("AmzJP", "amazon", "250-0000007-0000007", "3", "Z", 2, "JP7", channel="JP-Yamato")]
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE)
    assert list(left_out) == [("AmzJP", "250-0000009-0000009")]
    text = only(paths).read_bytes().decode("cp932")
    assert "250-0000008-0000008" in text and "250-0000007-0000007" in text and "ヤマト便" in text
    assert "250-0000009-0000009" not in text


# ---------------------------------------------------------------- eBay

def test_ebay_one_row_per_line_item(tmp_path):
    raw = json.dumps({"Item Number": "285500000001", "Transaction ID": "2900000000001",
                      "Item Title": "Ceramic mug"})
    rows = [
        shipped("Ebay1", "ebay", "12-11111-11111", "285500000001-2900000000001", "MUG", 1, "RR123456785CN",
                raw=raw),
        shipped("Ebay1", "ebay", "12-11111-11111", "285500000002-2900000000002", "CAP", 2, "RR123456785CN"),
        shipped("Ebay1", "ebay", "12-22222-22222", "285500000003", FORMULA, 1, "RB123456785GB",
                channel="CNE-Local"),
    ]
    table = read_csv(only(write(rows, tmp_path)))
    assert table[0] == template_header("ebay")
    got = [(r["Shipping Status"], r["Order Number"], r["Item Number"], r["Transaction ID"], r["Item Title"],
            r["Custom Label"], r["Shipping Carrier Used"], r["Tracking Number"]) for r in as_dicts(table)]
    assert got == [
        ("Shipped", "12-11111-11111", "285500000001", "2900000000001", "Ceramic mug", "MUG", "Yanwen",
         "RR123456785CN"),
        ("Shipped", "12-11111-11111", "285500000002", "2900000000002", "", "CAP", "Yanwen", "RR123456785CN"),
        ("Shipped", "12-22222-22222", "285500000003", "", "", "'" + FORMULA, "CNE Express", "RB123456785GB"),
    ]
    assert table[0] == shared_header("ebay/tracking_upload_header.csv", ",")


# ---------------------------------------------------------------- Walmart

def walmart_order_row(header: list[str], po: str, line_no: str, sku: str, qty: str, name: str) -> dict:
    cells = {h: "" for h in header}
    cells.update({"PO#": po, "Order#": "2000" + po, "Order Date": "2026-05-30", "Customer Name": name,
                  "Customer Shipping Address": "1 Main St\nApt 2, Springfield", "Line#": line_no,
                  "SKU": sku, "Qty": qty, "Status": "Acknowledged", "Item Cost": "12.50",
                  "Shipping Config SOurce": "SKU", "Customer Phone Number": "+1 555 0100"})
    return cells


def test_walmart_keeps_the_original_rows_and_fills_the_update_columns(tmp_path):
    header = template_header("walmart")
    originals = [
        walmart_order_row(header, "1001", "1", "MUG", "1", "Ann Lee"),
        walmart_order_row(header, "1001", "2", "CAP", "2", FORMULA),
        walmart_order_row(header, "1002", "1", "PEN", "1", "@SUM(1)"),
    ]
    rows = [
        shipped("Walmart1", "walmart", "1001", "1", "MUG", 1, "9400100000000000000001", raw=json.dumps(originals[0])),
        shipped("Walmart1", "walmart", "1001", "2", "CAP", 2, "9400100000000000000001", raw=json.dumps(originals[1])),
        shipped("Walmart1", "walmart", "1002", "1", "PEN", 1, "LP0002", channel="CNE-Local",
                raw=json.dumps(originals[2])),
    ]
    table = read_csv(only(write(rows, tmp_path)))
    assert table[0] == header
    updates = {"Update Status", "Update Qty", "Carrier", "Tracking Number", "Tracking Url"}
    for original, got in zip(originals, as_dicts(table)):
        for col in header:
            if col in updates:
                continue
            expected = original[col]
            if expected[:1] in ("=", "@", "+", "-"):
                expected = "'" + expected
            assert got[col] == expected, col
    got = [(r["Update Status"], r["Update Qty"], r["Carrier"], r["Tracking Number"], r["Tracking Url"])
           for r in as_dicts(table)]
    assert got == [("Ship", "1", "Yanwen", "9400100000000000000001", ""),
                   ("Ship", "2", "Yanwen", "9400100000000000000001", ""),
                   ("Ship", "1", "CNE", "LP0002", "")]     # Walmart's own spelling
    assert as_dicts(table)[1]["Customer Name"] == "'" + FORMULA
    assert table[0] == shared_header("other/walmart_orders_header.csv", ",")


def test_walmart_tracking_url_from_a_template_pattern(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(UPLOAD_TEMPLATES, templates)
    with (templates / "walmart.toml").open("a", encoding="utf-8") as fh:
        fh.write('"Yanwen" = "https://track.example/?n={tracking_number}"\n')
    raw = json.dumps(walmart_order_row(template_header("walmart"), "1003", "1", "MUG", "1", "Bo"))
    rows = [shipped("Walmart1", "walmart", "1003", "1", "MUG", 1, "YT0001", raw=raw)]
    got = as_dicts(read_csv(only(write(rows, tmp_path, templates_dir=templates))))
    assert got[0]["Tracking Url"] == "https://track.example/?n=YT0001"


def test_walmart_line_without_original_cells_uses_the_known_columns(tmp_path):
    rows = [shipped("Walmart1", "walmart", "1004", "3", "MUG", 2, "YT0002")]
    table = read_csv(only(write(rows, tmp_path)))
    assert table[0] == template_header("walmart")
    got = as_dicts(table)[0]
    assert (got["PO#"], got["Line#"], got["SKU"], got["Qty"], got["Update Qty"], got["Tracking Number"]) == \
        ("1004", "3", "MUG", "2", "2", "YT0002")


# ---------------------------------------------------------------- the others

def test_shopify_one_row_per_order_and_tracking_number(tmp_path):
    rows = [
        shipped("Shop1", "shopify", "#1058", "", "MUG", 1, "YT0000000001"),
        shipped("Shop1", "shopify", "#1058", "", "CAP", 1, "YT0000000001"),
        shipped("Shop1", "shopify", "#1059", "", "PEN", 1, "YT0000000002"),
        shipped("Shop1", "shopify", "#1059", "", "BAG", 1, "YT0000000003", channel="CNE-Local"),
        shipped("Shop1", "shopify", "@SUM(1)", "", "BAG", 1, "-1+2"),
    ]
    path = only(write(rows, tmp_path))
    assert path.name == "upload-Shop1-shopify.csv"
    table = read_csv(path)
    assert table[0] == template_header("shopify")
    assert table[1:] == [["#1058", "YT0000000001", "Yanwen", "true"],
                         ["#1059", "YT0000000002", "Yanwen", "true"],
                         ["#1059", "YT0000000003", "CNE Express", "true"],
                         ["'@SUM(1)", "'-1+2", "Yanwen", "true"]]


def test_tiktok_shopee_lazada(tmp_path):
    rows = [
        shipped("TT VN", "tiktok", "583870900000000001", "", "MUG", 1, "SPXVN0001"),
        shipped("TT VN", "tiktok", "583870900000000001", "", "CAP", 1, "SPXVN0001"),
        shipped("Shopee PH", "shopee", "240530ABCDEF12", "", "MUG", 1, "PH0001", channel="CNE-Local"),
        shipped("Shopee PH", "shopee", "240530ABCDEF13", "", FORMULA, 1, "PH0002"),
        shipped("Lazada MY", "lazada", "300000000000001", "400000000000001", "MUG", 1, "LZ0001"),
        shipped("Lazada MY", "lazada", "300000000000001", "400000000000002", "CAP", 1, "LZ0001"),
    ]
    paths = {p.name: p for p in write(rows, tmp_path)}
    assert set(paths) == {"upload-TT VN-tiktok.csv", "upload-Shopee PH-shopee.csv", "upload-Lazada MY-lazada.csv"}
    tiktok = read_csv(paths["upload-TT VN-tiktok.csv"])
    assert tiktok == [template_header("tiktok"), ["583870900000000001", "SPXVN0001", "YANWEN"]]
    assert tiktok[0] == ["Order ID", "Tracking ID", "Shipping Provider Name"]
    shopee = read_csv(paths["upload-Shopee PH-shopee.csv"])
    assert shopee == [template_header("shopee"), ["240530ABCDEF12", "PH0001"], ["240530ABCDEF13", "PH0002"]]
    lazada = read_csv(paths["upload-Lazada MY-lazada.csv"])
    assert lazada == [template_header("lazada"),
                      ["300000000000001", "400000000000001", "Yanwen", "LZ0001"],
                      ["300000000000001", "400000000000002", "Yanwen", "LZ0001"]]


def test_shopee_and_tiktok_headers_use_the_names_of_their_own_exports():
    for name, relative in (("shopee", "other/shopee_orders_header.csv"),
                           ("tiktok", "other/tiktok_shop_orders_header.csv")):
        real = shared_header(relative, ",")
        assert set(template_header(name)) <= set(real), name


@pytest.mark.parametrize("platform", ["woocommerce", "dianxiaomi", "batchship", "mercadolibre"])
def test_generic_tracking_list(tmp_path, platform):
    rows = [
        shipped("Own", platform, "5001", "1", "MUG", 1, "YT1", channel="CNE-Local"),
        shipped("Own", platform, "5001", "2", "+CAP", 3, "YT1", channel="CNE-Local"),
        shipped("Own", platform, "5002", "", "PEN", 2, "YT2", channel="YW-Economy"),
    ]
    path = only(write(rows, tmp_path))
    assert path.name == f"upload-Own-{platform}.csv"
    table = read_csv(path)
    assert table[0] == ["shop", "order_id", "item_id", "sku", "quantity", "carrier", "tracking_number",
                        "ship_date", "channel"] == template_header("generic")
    # Our own list: a channel naming no carrier for the platform leaves the carrier blank (never our
    # channel name in its place); the channel has its own column.
    carrier = "Yanwen" if platform == "woocommerce" else ""
    assert table[1:] == [["Own", "5001", "1", "MUG", "1", "", "YT1", SHIP_DATE, "CNE-Local"],
                         ["Own", "5001", "2", "'+CAP", "3", "", "YT1", SHIP_DATE, "CNE-Local"],
                         ["Own", "5002", "", "PEN", "2", carrier, "YT2", SHIP_DATE, "YW-Economy"]]


def test_importer_template_names_map_to_their_marketplace(tmp_path):
    rows = [shipped("AmzUS", "amazon_order_report", "111-0000009-0000009", "9", "MUG", 1, "YT9")]
    path = only(write(rows, tmp_path))
    assert path.name == "upload-AmzUS-amazon.txt"
    assert as_dicts(read_tsv(path))[0]["carrier-code"] == "Yanwen"


# ---------------------------------------------------------------- files

def test_shop_names_cannot_leave_the_output_folder(tmp_path):
    out = tmp_path / "out"
    rows = [
        shipped("../../etc/x", "shopify", "#1", "", "MUG", 1, "YT1"),
        shipped("..", "shopify", "#2", "", "MUG", 1, "YT2"),
        shipped("a\nb\x00c", "shopify", "#3", "", "MUG", 1, "YT3"),
        shipped("a/b", "shopify", "#4", "", "MUG", 1, "YT4"),
        shipped("a_b", "shopify", "#5", "", "MUG", 1, "YT5"),
    ]
    paths = write(rows, tmp_path)
    assert len(paths) == 5 and len({p.name for p in paths}) == 5
    for p in paths:
        assert p.parent == out.resolve()
        assert ".." not in p.name and "/" not in p.name
        assert all(ch.isprintable() for ch in p.name)
    assert sorted(f.name for f in out.iterdir()) == sorted(p.name for p in paths)
    assert not (tmp_path / "etc").exists()
    found = {read_csv(p)[1][0]: p.name for p in paths}
    assert found["#5"] == "upload-a_b-shopify.csv"


def test_rewrite_is_identical_and_leaves_no_temporary_files(tmp_path):
    first = {p.name: p.read_bytes() for p in write(AMAZON_ROWS, tmp_path)}
    second = {p.name: p.read_bytes() for p in write(AMAZON_ROWS, tmp_path)}
    assert first == second
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == sorted(first)


def test_nothing_shipped_writes_nothing(tmp_path):
    rows = [shipped("Shop1", "shopify", "#1", "", "MUG", 1, "")]
    assert write(rows, tmp_path) == []
    assert write_uploads(pd.DataFrame(columns=list(rows[0])), CONFIG, tmp_path / "o2",
                         ship_date=SHIP_DATE) == ([], {})


def test_bad_ship_date_is_refused(tmp_path):
    with pytest.raises(BatchshipError):
        write_uploads(pd.DataFrame([shipped("Shop1", "shopify", "#1", "", "M", 1, "Y")]), CONFIG,
                      tmp_path, ship_date="31/05/2026")


# ---------------------------------------------------------------- carriers the configuration must name

def test_a_channel_naming_no_carrier_for_the_platform_leaves_its_orders_out(tmp_path):
    rows = [shipped("Shop1", "shopify", "#2001", "", "MUG", 1, "YT2001"),
            shipped("Shop1", "shopify", "#2002", "", "MUG", 1, "YT2002", channel="Own-Van")]
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE)
    assert read_csv(only(paths))[1:] == [["#2001", "YT2001", "Yanwen", "true"]]
    assert list(left_out) == [("Shop1", "#2002")]
    assert "channel 'Own-Van' names no carrier for shopify" in left_out[("Shop1", "#2002")]
    assert "Own-Van" not in only(paths).read_text(encoding="utf-8")     # never our label in its place


def test_amazon_other_without_a_carrier_name_is_left_out(tmp_path):
    rows = [shipped("AmzUS", "amazon", "111-0000005-0000005", "5", "MUG", 1, "OT1", channel="Bare-Other")]
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE)
    assert paths == []
    assert "Other needs the carrier's name" in left_out[("AmzUS", "111-0000005-0000005")]


def test_walmart_carrier_it_does_not_list_needs_the_channels_tracking_url(tmp_path):
    rows = [shipped("Walmart1", "walmart", "1101", "1", "MUG", 1, "SP 1/1", channel="Walmart-Own"),
            shipped("Walmart1", "walmart", "1102", "1", "MUG", 1, "SP2", channel="Walmart-Own-URL")]
    paths, left_out = write_uploads(pd.DataFrame(rows), CONFIG, tmp_path / "out", ship_date=SHIP_DATE)
    assert list(left_out) == [("Walmart1", "1101")]
    assert "'Speedy Parcels' is not a carrier walmart lists" in left_out[("Walmart1", "1101")]
    assert "tracking_url" in left_out[("Walmart1", "1101")]
    got = as_dicts(read_csv(only(paths)))
    assert [(r["PO#"], r["Carrier"], r["Tracking Url"]) for r in got] == [
        ("1102", "Speedy Parcels", "https://speedy.example/t/SP2")]


# ---------------------------------------------------------------- what reaches the marketplace unaltered

def test_tab_delimited_amazon_file_keeps_values_that_look_like_formulas(tmp_path):
    rows = [shipped("AmzUS", "amazon", "=1+1", "-5", "MUG", 1, "-YT0001"),
            shipped("AmzUS", "amazon", "@SUM(1)", "", "MUG", 1, "+44123", channel="WB-Line")]
    table = as_dicts(read_tsv(only(write(rows, tmp_path))))
    assert [(r["order-id"], r["order-item-id"], r["tracking-number"]) for r in table] == [
        ("=1+1", "-5", "-YT0001"), ("@SUM(1)", "", "+44123")]
    assert "'" not in (tmp_path / "out" / "upload-AmzUS-amazon.txt").read_text(encoding="utf-8")


def test_csv_people_open_keeps_the_spreadsheet_guard(tmp_path):
    rows = [shipped("Ebay1", "ebay", "=1+1", "285500000009", "-SKU", 1, "-YT0002")]
    got = as_dicts(read_csv(only(write(rows, tmp_path))))[0]
    assert (got["Order Number"], got["Custom Label"], got["Tracking Number"]) == ("'=1+1", "'-SKU", "'-YT0002")


@pytest.mark.parametrize("sku, written", [("+SKU", "'+SKU"), ("@SKU", "'@SKU"), ("\tSKU", "'\tSKU"),
                                          ("\rSKU", "'\rSKU"), ("\nSKU", "'\nSKU"), ("=SKU", "'=SKU"),
                                          ("SKU=1", "SKU=1"), ("'SKU", "'SKU"), ("SKU-1", "SKU-1")])
def test_only_text_that_starts_like_a_formula_is_guarded(tmp_path, sku, written):
    rows = [shipped("Ebay1", "ebay", "1001", "285500000009", sku, 1, "YT0003")]
    got = as_dicts(read_csv(only(write(rows, tmp_path))))[0]
    assert (got["Order Number"], got["Custom Label"], got["Tracking Number"]) == ("1001", written, "YT0003")


def test_which_templates_guard_against_formulas():
    guarded = {p.stem: tomllib.loads(p.read_text(encoding="utf-8")).get("formula_guard", True)
               for p in UPLOAD_TEMPLATES.glob("*.toml")}
    assert {name for name, on in guarded.items() if not on} == {"amazon", "amazon_jp"}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_upload_files_follow_the_umask(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        path = only(write([shipped("Shop1", "shopify", "#1", "", "MUG", 1, "YT1")], tmp_path))
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.stat().st_mode) == mode
