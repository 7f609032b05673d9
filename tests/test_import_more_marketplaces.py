"""Etsy, TikTok Shop (Japanese headers), WooCommerce field-key exports and eBay's
Selling Manager sales history, each dropped into a workspace inbox and run.

Fixtures are written here from each format's published column names with
invented orders; the quirks (footers, a description row, money with its
currency, double-decoded names) are reproduced on purpose.
"""
import csv
import sqlite3
from pathlib import Path

import pytest

from batchship.cli import main

from conftest import TEST_CONFIG, Workspace

SHOPS = TEST_CONFIG + """
[[shops]]
name = "etsy-us"
platform = "etsy"

[[shops]]
name = "tt-jp"
platform = "tiktok"
country = "JP"

[[shops]]
name = "woo"
platform = "woocommerce"

[[shops]]
name = "ebay-uk"
platform = "ebay"
"""

ETSY_ORDERS_HEADER = (
    "Sale Date,Order ID,Buyer User ID,Full Name,First Name,Last Name,Number of Items,Payment Method,"
    "Date Shipped,Street 1,Street 2,Ship City,Ship State,Ship Zipcode,Ship Country,Currency,Order Value,"
    "Coupon Code,Coupon Details,Discount Amount,Shipping Discount,Shipping,Sales Tax,Order Total,Status,"
    "Card Processing Fees,Order Net,Adjusted Order Total,Adjusted Card Processing Fees,"
    "Adjusted Net Order Amount,Buyer,Order Type,Payment Type,InPerson Discount,InPerson Location,SKU"
).split(",")

ETSY_ITEMS_HEADER = (
    "Sale Date,Item Name,Buyer,Quantity,Price,Coupon Code,Coupon Details,Discount Amount,Shipping Discount,"
    "Order Shipping,Order Sales Tax,Item Total,Currency,Transaction ID,Listing ID,Date Paid,Date Shipped,"
    "Ship Name,Ship Address1,Ship Address2,Ship City,Ship State,Ship Zipcode,Ship Country,Order ID,"
    "Variations,Order Type,Listings Type,Payment Type,InPerson Discount,InPerson Location,"
    "VAT Paid by Buyer,SKU"
).split(",")

TIKTOK_JA_HEADER = [
    "注文ID", "注文ステータス", "注文サブステータス", "キャンセル/返品タイプ", "SKU ID", "セラーSKU", "商品名",
    "バリエーション", "数量", "SKU単価", "注文金額", "作成日時", "支払日時", "受取人", "電話番号", "国",
    "都道府県", "市区町村", "郵便番号", "住所", "追加の住所情報",
]

WOO_KEYS_HEADER = (
    "order_number,order_date,status,billing_first_name,billing_last_name,billing_email,billing_phone,"
    "shipping_first_name,shipping_last_name,shipping_address_1,shipping_address_2,shipping_city,"
    "shipping_state,shipping_postcode,shipping_country,order_total,order_currency,sku,item_name,qty,"
    "item_price"
).split(",")

# The header row starts with a blank cell, as Selling Manager writes it.
EBAY_HISTORY_HEADER = [""] + (
    "Sales Record Number,User Id,Buyer Fullname,Buyer Phone Number,Buyer Email,Buyer Address 1,"
    "Buyer Address 2,Buyer City,Buyer State,Buyer Zip,Buyer Country,Order ID,Item ID,Transaction ID,"
    "Item Title,Quantity,Sale Price,Shipping and Handling,Total Price,Payment Method,Sale Date,"
    "Paid on Date,Shipped on Date,Custom Label"
).split(",")


@pytest.fixture
def shops(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    (ws.root / "batchship.toml").write_text(SHOPS, encoding="utf-8")
    return ws


def drop(ws: Workspace, shop: str, name: str, header: list[str], rows: list[dict], *,
         after_header=(), after=(), encoding="utf-8") -> Path:
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"fixture names columns the format does not have: {unknown}"
    path = ws.root / "inbox" / shop / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(after_header)
        w.writerows([[row.get(h, "") for h in header] for row in rows])
        w.writerows(after)
    return path


def run(ws: Workspace, capsys) -> tuple[int, str]:
    code = ws.run()
    return code, capsys.readouterr().out


def orders_by_id(ws: Workspace) -> dict:
    """The orders in the store; the run's orders.xlsx lists the same ones."""
    with ws.db() as db:
        db.row_factory = sqlite3.Row
        rows = {r["order_id"]: dict(r) for r in db.execute("SELECT * FROM orders")}
    assert set(ws.orders()["order_id"]) == set(rows)
    return rows


def lines_of(ws: Workspace, shop: str) -> list[tuple]:
    with ws.db() as db:
        return db.execute("SELECT order_id, line_no, platform_sku, quantity, unit_price FROM lines "
                          "WHERE shop = ? ORDER BY order_id, line_no", (shop,)).fetchall()


# --- Etsy -------------------------------------------------------------------

def etsy_items():
    montreal = {"Ship Name": "Ã‰lodie Tremblay", "Ship Address1": "12 Rue Saint-Denis", "Ship City": "MontrÃ©al",
                "Ship State": "QC", "Ship Zipcode": "H2X 3K8", "Ship Country": "Canada", "Buyer": "elodiet"}
    austin = {"Ship Name": "Sam Ortiz", "Ship Address1": "4 Elm St", "Ship City": "Austin", "Ship State": "TX",
              "Ship Zipcode": "78701", "Ship Country": "United States", "Buyer": "samo"}
    return [
        {"Sale Date": "04/05/26", "Item Name": "Linen apron", "Quantity": "1", "Price": "24.00", "Currency": "USD",
         "Transaction ID": "3001", "Listing ID": "9001", "Date Paid": "04/05/26", "Order ID": "2001",
         "Item Total": "24.00", "Order Shipping": "6.00", "SKU": "APRON-L", **montreal},
        {"Sale Date": "04/05/26", "Item Name": "Tea towel", "Quantity": "2", "Price": "8.50", "Currency": "USD",
         "Transaction ID": "3002", "Listing ID": "9002", "Date Paid": "04/05/26", "Order ID": "2001",
         "Item Total": "17.00", "SKU": "", **montreal},
        {"Sale Date": "04/06/26", "Item Name": "Linen apron", "Quantity": "1", "Price": "24.00", "Currency": "USD",
         "Transaction ID": "3003", "Listing ID": "9001", "Date Paid": "04/06/26", "Date Shipped": "04/07/26",
         "Order ID": "2002", "SKU": "APRON-L", **austin},
    ]


def etsy_orders():
    return [
        {"Sale Date": "04/05/26", "Order ID": "2001", "Buyer User ID": "111", "Full Name": "Ã‰lodie Tremblay",
         "Number of Items": "3", "Street 1": "12 Rue Saint-Denis", "Ship City": "MontrÃ©al", "Ship State": "QC",
         "Ship Zipcode": "H2X 3K8", "Ship Country": "Canada", "Currency": "USD", "Order Value": "41.00",
         "Shipping": "6.00", "Order Total": "47.00", "Order Net": "45.10", "Buyer": "elodiet",
         "SKU": "APRON-L,"},
        {"Sale Date": "04/06/26", "Order ID": "2002", "Buyer User ID": "112", "Full Name": "Sam Ortiz",
         "Number of Items": "1", "Date Shipped": "04/07/26", "Street 1": "4 Elm St", "Ship City": "Austin",
         "Ship State": "TX", "Ship Zipcode": "78701", "Ship Country": "United States", "Currency": "USD",
         "Order Total": "29.99", "Status": "Completed", "Buyer": "samo", "SKU": "APRON-L"},
        {"Sale Date": "04/07/26", "Order ID": "2003", "Buyer User ID": "113", "Full Name": "Kim Lee",
         "Number of Items": "2", "Street 1": "9 Oak Ave", "Ship City": "Dayton", "Ship State": "OH",
         "Ship Zipcode": "45402", "Ship Country": "United States", "Currency": "USD", "Order Total": "19.00",
         "Buyer": "kiml", "SKU": ""},
    ]


def test_etsy_order_items_alone(shops, capsys):
    drop(shops, "etsy-us", "EtsySoldOrderItems2026-4.csv", ETSY_ITEMS_HEADER, etsy_items(),
         after=[["Totals", "", "", "4"]])
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    assert set(orders) == {"2001", "2002"}
    first = orders["2001"]
    assert (first["recipient_name"], first["city"], first["country"]) == ("Élodie Tremblay", "Montréal", "CA")
    assert first["order_total"] == "" and first["paid_at"] == "2026-04-05T00:00:00Z"
    assert "garbled text" in first["notes"]
    assert orders["2002"]["platform_status"] == "shipped"
    assert lines_of(shops, "etsy-us") == [("2001", 1, "APRON-L", 1, "24.00"), ("2001", 2, "9002", 2, "8.50"),
                                         ("2002", 1, "APRON-L", 1, "24.00")]
    assert "EtsySoldOrderItems2026-4.csv: row 5 skipped, not order lines (a totals line, not an order item)" in out
    assert "EtsySoldOrderItems2026-4.csv: 4 value(s) with garbled text (UTF-8 decoded twice) repaired" in out
    assert "'MontrÃ©al' -> 'Montréal'" in out


def test_etsy_sold_orders_alone(shops, capsys):
    drop(shops, "etsy-us", "EtsySoldOrders2026-4.csv", ETSY_ORDERS_HEADER, etsy_orders())
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    assert {k: v["order_total"] for k, v in orders.items()} == {"2001": "47.00", "2002": "29.99", "2003": "19.00"}
    assert orders["2001"]["city"] == "Montréal"
    assert orders["2002"]["platform_status"] == "shipped"
    # one line per order: the item count under the SKU text Etsy gives (or a stand-in)
    assert lines_of(shops, "etsy-us") == [("2001", 1, "APRON-L,", 3, ""), ("2002", 1, "APRON-L", 1, ""),
                                         ("2003", 1, "etsy-order", 2, "")]


def test_etsy_both_files_in_one_run_are_joined(shops, capsys):
    drop(shops, "etsy-us", "EtsySoldOrders2026-4.csv", ETSY_ORDERS_HEADER, etsy_orders())
    drop(shops, "etsy-us", "EtsySoldOrderItems2026-4.csv", ETSY_ITEMS_HEADER, etsy_items())
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    # the items file gives the lines, the orders file the order totals of the same orders
    assert lines_of(shops, "etsy-us") == [("2001", 1, "APRON-L", 1, "24.00"), ("2001", 2, "9002", 2, "8.50"),
                                         ("2002", 1, "APRON-L", 1, "24.00"), ("2003", 1, "etsy-order", 2, "")]
    assert {k: v["order_total"] for k, v in orders.items()} == {"2001": "47.00", "2002": "29.99", "2003": "19.00"}
    assert orders["2001"]["source_file"] == "EtsySoldOrderItems2026-4.csv"
    assert orders["2003"]["source_file"] == "EtsySoldOrders2026-4.csv"
    assert not any(v["stage"] == "hold" and "conflict" in v["hold_reason"] for v in orders.values())
    assert ("EtsySoldOrders2026-4.csv: 2 order(s) also listed item by item in EtsySoldOrderItems2026-4.csv"
            in out)


# --- TikTok Shop, Japanese headers -------------------------------------------

def test_tiktok_japanese_headers(shops, capsys):
    rows = [
        {"注文ID": "576000000000000001\t", "注文ステータス": "発送待ち", "SKU ID": "1729000000000001",
         "セラーSKU": "MUG-WHT", "数量": "2", "SKU単価": "5,500 JPY", "注文金額": "11,000 JPY",
         "作成日時": "2026/04/05 10:20:30\t", "支払日時": "2026/04/05 10:21:00\t", "受取人": "山田 太郎",
         "電話番号": "(+81)9012345678", "国": "日本", "都道府県": "東京都", "市区町村": "渋谷区",
         "郵便番号": "150-0001", "住所": "神宮前1-2-3", "追加の住所情報": "メゾン101"},
        {"注文ID": "576000000000000002\t", "注文ステータス": "キャンセル済み", "SKU ID": "1729000000000002",
         "セラーSKU": "", "数量": "1", "SKU単価": "3,300 JPY", "注文金額": "3,300 JPY",
         "作成日時": "2026/04/06 09:00:00", "受取人": "佐藤 花子", "都道府県": "大阪府", "市区町村": "大阪市北区",
         "郵便番号": "530-0001", "住所": "梅田1-1-1"},
    ]
    description = [["プラットフォームの一意の注文ID。", "現在の注文ステータス。", "", "", "", "", "", "",
                    "注文内のSKUの販売数量。"]]
    drop(shops, "tt-jp", "注文.csv", TIKTOK_JA_HEADER, rows, after_header=description, encoding="utf-8-sig")
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    first = orders["576000000000000001"]
    assert (first["order_total"], first["currency"]) == ("11000", "JPY")
    assert first["paid_at"] == "2026-04-05T01:21:00Z"          # Japan time
    assert (first["state"], first["city"], first["postcode"], first["country"]) == ("東京都", "渋谷区", "150-0001", "JP")
    assert (first["address1"], first["address2"]) == ("神宮前1-2-3", "メゾン101")
    assert first["platform_status"] == "open"
    second = orders["576000000000000002"]
    assert second["platform_status"] == "cancelled" and second["stage"] == "cancelled"
    assert lines_of(shops, "tt-jp") == [("576000000000000001", 1, "MUG-WHT", 2, "5500"),
                                       ("576000000000000002", 1, "1729000000000002", 1, "3300")]


# --- WooCommerce, field keys as headers --------------------------------------

def test_woocommerce_field_key_export(shops, capsys):
    rows = [
        {"order_number": "1201", "order_date": "2026-04-05 14:03:00", "status": "processing",
         "billing_first_name": "Nguyá»…n", "billing_last_name": "XuÃ¢n", "billing_email": "xuan@example.com",
         "billing_phone": "+84 90 123 4567", "shipping_first_name": "Nguyá»…n", "shipping_last_name": "XuÃ¢n",
         "shipping_address_1": "12 Lý Thường Kiệt", "shipping_city": "Hà Nội", "shipping_postcode": "100000",
         "shipping_country": "VN", "order_total": "39.00", "order_currency": "USD", "sku": "APRON-L",
         "item_name": "Linen apron", "qty": "1", "item_price": "24.00"},
        # the order's fields are on its first row only
        {"order_number": "1201", "sku": "TOWEL", "item_name": "Tea towel", "qty": "2", "item_price": "7.50"},
        {"order_number": "1202", "order_date": "2026-04-06 08:00:00", "status": "wc-cancelled",
         "shipping_first_name": "Ann", "shipping_last_name": "Lee", "shipping_address_1": "1 Main St",
         "shipping_city": "Ogden", "shipping_state": "UT", "shipping_postcode": "84403", "shipping_country": "US",
         "order_total": "24.00", "order_currency": "USD", "sku": "APRON-L", "qty": "1", "item_price": "24.00"},
    ]
    drop(shops, "woo", "orders-2026-04-06.csv", WOO_KEYS_HEADER, rows, after=[["Total", "", "", "", "", "", "",
                                                                              "", "", "", "", "", "", "", "",
                                                                              "63.00"]])
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    first = orders["1201"]
    assert (first["recipient_name"], first["order_total"], first["phone"]) == ("Nguyễn Xuân", "39.00",
                                                                            "+84 90 123 4567")
    assert first["country"] == "VN" and first["email"] == "xuan@example.com"
    assert "garbled text" in first["notes"]
    assert orders["1202"]["platform_status"] == "cancelled"
    assert lines_of(shops, "woo") == [("1201", 1, "APRON-L", 1, "24.00"), ("1201", 2, "TOWEL", 2, "7.50"),
                                     ("1202", 1, "APRON-L", 1, "24.00")]
    assert "orders-2026-04-06.csv: row 5 skipped, not order lines (a totals line, not an order item)" in out


# --- eBay Selling Manager sales history ---------------------------------------

def ebay_history_rows():
    buyer = {"User Id": "jo_b", "Buyer Fullname": "Jo Bloggs", "Buyer Phone Number": "020 7946 0000",
             "Buyer Email": "jo@example.com", "Buyer Address 1": "5 Kings Rd", "Buyer City": "London",
             "Buyer Zip": "SW3 4UD", "Buyer Country": "United Kingdom"}
    return [
        # a single-item sale: no Order ID, the Sales Record Number is the order id
        {"Sales Record Number": "1041", **buyer, "Item ID": "110000000001", "Transaction ID": "0",
         "Item Title": "Brass hook", "Quantity": "2", "Sale Price": "£4.50", "Total Price": "£11.99",
         "Sale Date": "Apr-05-26", "Paid on Date": "Apr-05-26", "Custom Label": "HOOK-B"},
        # a combined order: its summary row (no Item ID), then its items
        {"Sales Record Number": "1044", "User Id": "ann_l", "Buyer Fullname": "Anne-HÃ©lÃ¨ne Roux",
         "Buyer Address 1": "3 Rue X", "Buyer City": "Paris", "Buyer Zip": "75001", "Buyer Country": "France",
         "Order ID": "220000000009", "Total Price": "£20.00", "Sale Date": "Apr-06-26",
         "Paid on Date": "Apr-06-26", "Shipped on Date": "Apr-07-26"},
        {"Sales Record Number": "1042", "User Id": "ann_l", "Order ID": "220000000009", "Item ID": "110000000002",
         "Transaction ID": "2001", "Item Title": "Iron hook", "Quantity": "1", "Sale Price": "£6.00",
         "Sale Date": "Apr-06-26", "Custom Label": "HOOK-I"},
        {"Sales Record Number": "1043", "User Id": "ann_l", "Order ID": "220000000009", "Item ID": "110000000001",
         "Transaction ID": "2002", "Item Title": "Brass hook", "Quantity": "3", "Sale Price": "£4.50",
         "Sale Date": "Apr-06-26", "Custom Label": "HOOK-B"},
        # a record eBay keeps without an order: no Order ID, buyer "--"
        {"Sales Record Number": "1045", "User Id": "--", "Quantity": "1"},
    ]


def test_ebay_sales_history(shops, capsys):
    footer = [["", "5", "record(s) downloaded", "from Apr-01-26 to Apr-07-26"], [""], ["", "Seller ID : "]]
    drop(shops, "ebay-uk", "SalesHistory.csv", EBAY_HISTORY_HEADER, ebay_history_rows(), after_header=[[""]],
         after=footer)
    code, out = run(shops, capsys)
    assert code == 0, out
    orders = orders_by_id(shops)
    assert set(orders) == {"1041", "220000000009"}
    single = orders["1041"]
    assert (single["recipient_name"], single["postcode"], single["country"], single["order_total"]) == (
        "Jo Bloggs", "SW3 4UD", "GB", "11.99")
    combined = orders["220000000009"]
    assert (combined["recipient_name"], combined["city"], combined["order_total"]) == ("Anne-Hélène Roux",
                                                                                       "Paris", "20.00")
    assert combined["platform_status"] == "shipped"
    assert lines_of(shops, "ebay-uk") == [("1041", 1, "HOOK-B", 2, "4.50"),
                                         ("220000000009", 1, "HOOK-I", 1, "6.00"),
                                         ("220000000009", 2, "HOOK-B", 3, "4.50")]
    assert ("SalesHistory.csv: row 7 skipped, not order lines (an eBay record with no order number and no "
            "buyer ('--'))") in out
    assert "SalesHistory.csv: row 8 skipped, not order lines (the report's footer)" in out
    assert "SalesHistory.csv: row 10 skipped, not order lines (the report's seller line)" in out


def test_ebay_sales_history_broken_order_row_still_rejects_the_file(shops, capsys):
    rows = ebay_history_rows()
    rows[0]["Quantity"] = "two"
    drop(shops, "ebay-uk", "SalesHistory.csv", EBAY_HISTORY_HEADER, rows)
    code, out = run(shops, capsys)
    assert code == 1
    report = shops.errors_report("SalesHistory.csv")
    assert "two" in report["value"].tolist()


# --- the workspace's own column maps and files no map reads ---------------------

CUSTOM_MAP = """
# A reseller's own export
name = "acme_dropship"
title = "Acme dropship export"
platform = "batchship"
kind = "orders"
signature = ["Acme Ref"]

[columns]
order_id = { headers = ["Acme Ref"], required = true }
platform_sku = { headers = ["Article"], required = true }
quantity = { headers = ["Pieces"], required = true }
recipient_name = ["Consignee"]
country = ["Dest"]
"""


def test_a_workspace_column_map_claims_a_file(shops, capsys):
    formats = shops.root / "templates" / "formats"
    formats.mkdir(parents=True)
    (formats / "acme_dropship.toml").write_text(CUSTOM_MAP, encoding="utf-8")
    drop(shops, "shop-a", "acme.csv", ["Acme Ref", "Article", "Pieces", "Consignee", "Dest"],
         [{"Acme Ref": "AC-1", "Article": "MUG", "Pieces": "2", "Consignee": "Bo Chan", "Dest": "GB"}])
    code, out = run(shops, capsys)
    assert code == 0, out
    assert orders_by_id(shops)["AC-1"]["recipient_name"] == "Bo Chan"
    with shops.db() as db:
        assert db.execute("SELECT kind, platform FROM files WHERE name = 'acme.csv'").fetchone() == (
            "orders", "acme_dropship")
    assert main(["formats", "-w", str(shops.root)]) == 0
    listing = capsys.readouterr().out
    assert any(line.split()[:4] == ["acme_dropship", "batchship", "orders", "workspace"]
               for line in listing.splitlines())
    assert any(line.split()[:4] == ["etsy_sold_orders", "etsy", "orders", "bundled"]
               for line in listing.splitlines())
    assert "  shop-a/acme.csv: read by acme_dropship (orders)" in listing


def test_a_workspace_column_map_replaces_the_bundled_one_of_its_name(shops, capsys):
    formats = shops.root / "templates" / "formats"
    formats.mkdir(parents=True)
    (formats / "mine.toml").write_text(CUSTOM_MAP.replace('"acme_dropship"', '"batchship_orders"'),
                                       encoding="utf-8")
    assert main(["formats", "-w", str(shops.root)]) == 0
    listing = capsys.readouterr().out
    assert "workspace, replaces the bundled one" in listing
    assert sum(line.split()[:1] == ["batchship_orders"] for line in listing.splitlines()) == 1


def test_a_file_no_column_map_reads_is_reported_with_its_headers(shops, capsys):
    drop(shops, "shop-a", "mystery.csv", ["Kundennummer", "Artikel", "Menge"],
         [{"Kundennummer": "K1", "Artikel": "MUG", "Menge": "1"}])
    code, out = run(shops, capsys)
    assert code == 1
    (problem,) = shops.errors_report("mystery.csv")["problem"].tolist()
    assert "the headers here are: Kundennummer, Artikel, Menge" in problem
    assert "add a column map" in problem and str(shops.root.resolve() / "templates" / "formats") in problem
    assert main(["formats", "-w", str(shops.root)]) == 0
    assert "  shop-a/mystery.csv: rejected" in capsys.readouterr().out
