"""Each marketplace export, written as the marketplace writes it, imports into Line rows.

Fixtures are made up here from the published header of each format (column
names and their order) with invented orders; quirks are reproduced on purpose.
"""
import csv
import json
from pathlib import Path

import pytest

from batchship.config import Config, Shop
from batchship.errors import FileRejected
from batchship.importers import load_file
from batchship.schemas import Line

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,"
    "Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,"
    "Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,"
    "Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,"
    "Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,"
    "Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,"
    "Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,"
    "Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
).split(",")

EBAY_HEADER = (
    "Sales Record Number,Order Number,Buyer Username,Buyer Name,Buyer Email,Buyer Note,Buyer Address 1,"
    "Buyer Address 2,Buyer City,Buyer State,Buyer Zip,Buyer Country,Buyer Tax Identifier Name,"
    "Buyer Tax Identifier Value,Ship To Name,Ship To Phone,Ship To Address 1,Ship To Address 2,"
    "Ship To City,Ship To State,Ship To Zip,Ship To Country,Item Number,Item Title,Custom Label,"
    "Sold Via Promoted Listings,Quantity,Sold For,Shipping And Handling,Item Location,Item Zip Code,"
    "Item Country,eBay Collect And Remit Tax Rate,eBay Collect And Remit Tax Type,eBay Reference Name,"
    "eBay Reference Value,Tax Status,Seller Collected Tax,eBay Collected Tax,"
    "Electronic Waste Recycling Fee,Mattress Recycling Fee,Battery Recycling Fee,"
    "White Goods Disposal Tax,Tire Recycling Fee,Additional Fee,Lumber Fee,Prepaid Wireless Fee,"
    "Road Improvement And Food Delivery Fee,eBay Collected Charges,Total Price,"
    "eBay Collected Tax and Fees Included in Total,Payment Method,Sale Date,Paid On Date,Ship By Date,"
    "Minimum Estimated Delivery Date,Maximum Estimated Delivery Date,Shipped On Date,Feedback Left,"
    "Feedback Received,My Item Note,PayPal Transaction ID,Shipping Service,Tracking Number,"
    "Transaction ID,Variation Details,Global Shipping Program,Global Shipping Reference ID,"
    "Click And Collect,Click And Collect Reference Number,eBay Plus,Authenticity Verification Program,"
    "Authenticity Verification Status,Authenticity Verification Outcome Reason,PSA Vault Program,"
    "Vault Fulfillment Type,eBay Fulfillment Program,Tax City,Tax State,Tax Zip,Tax Country,"
    "eBay International Shipping"
).split(",")

AMAZON_ORDER_REPORT_HEADER = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\t"
    "buyer-phone-number\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\titem-tax\t"
    "shipping-price\tshipping-tax\tship-service-level\trecipient-name\tship-address-1\t"
    "ship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\tship-country\t"
    "ship-phone-number\tdelivery-start-date\tdelivery-end-date\tdelivery-time-zone\tdelivery-Instructions"
).split("\t")

AMAZON_UNSHIPPED_HEADER = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\treporting-date\tpromise-date\t"
    "days-past-promise\tbuyer-email\tbuyer-name\tbuyer-phone-number\tsku\tproduct-name\t"
    "quantity-purchased\tquantity-shipped\tquantity-to-ship\tship-service-level\trecipient-name\t"
    "ship-address-1\tship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\t"
    "ship-country\tis-business-order\tpurchase-order-number\tprice-designation\tis-iba\t"
    "verge-of-cancellation\tverge-of-lateShipment"
).split("\t")

AMAZON_ALL_ORDERS_HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
    "fulfillment-channel\tsales-channel\torder-channel\turl\tship-service-level\tproduct-name\tsku\t"
    "asin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\t"
    "gift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\t"
    "ship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\t"
    "purchase-order-number\tprice-designation"
).split("\t")

TIKTOK_HEADER = (
    "Order ID,Order Status,Order Substatus,Cancelation/Return Type,Normal or Pre-order,SKU ID,"
    "Seller SKU,Product Name,Variation,Quantity,Sku Quantity of return,SKU Unit Original Price,"
    "SKU Subtotal Before Discount,SKU Platform Discount,SKU Seller Discount,SKU Subtotal After Discount,"
    "Shipping Fee After Discount,Original Shipping Fee,Shipping Fee Seller Discount,"
    "Shipping Fee Platform Discount,Payment platform discount,Taxes,Order Amount,Order Refund Amount,"
    "Created Time,Paid Time,RTS Time,Shipped Time,Delivered Time,Cancelled Time,Cancel By,"
    "Cancel Reason,Fulfillment Type,Warehouse Name,Tracking ID,Delivery Option,Shipping Provider Name,"
    "Buyer Message,Buyer Username,Recipient,Phone #,Country,Province,District,Commune,Detail Address,"
    "Additional address information,Payment Method,Weight(kg),Product Category,Package ID,Seller Note,"
    "Checked Status,Checked Marked by"
).split(",")

SHOPEE_HEADER = (
    "Order ID,Order Status,Return / Refund Status,Tracking Number*,Shipping Option,Shipment Method,"
    "Estimated Ship Out Date,Ship Time,Order Creation Date,Order Paid Time,Parent SKU Reference No.,"
    "Product Name,SKU Reference No.,Variation Name,Original Price,Deal Price,Quantity,Product Subtotal,"
    "Total Discount(PHP),Price Discount(from Seller)(PHP),Shopee Rebate(PHP),SKU Total Weight,"
    "Number of Items in Order,Order Total Weight,Seller Voucher(PHP),Seller Absorbed Coin Cashback,"
    "Shopee Voucher(PHP),Bundle Deals Indicator(Y/N),Shopee Bundle Discount(PHP),"
    "Seller Bundle Discount(PHP),Shopee Coins Offset(PHP),Credit Card Discount Total(PHP),"
    "Products' Price Paid by Buyer (PHP),Buyer Paid Shipping Fee,Shipping Rebate Estimate,"
    "Reverse Shipping Fee,Service Fee,Grand Total,Estimated Shipping Fee,Username (Buyer),"
    "Receiver Name,Phone Number,Delivery Address,Town,District,Province,Region,Country,Zip Code,"
    "Remark from buyer,Order Complete Time,Note"
).split(",")

LAZADA_HEADER = (
    "orderItemId,orderNumber,lazadaId,sellerSku,lazadaSku,wareHouse,createTime,updateTime,"
    "deliveredDate,customerName,customerEmail,shippingName,shippingAddress,shippingAddress2,"
    "shippingAddress3,shippingAddress4,shippingAddress5,shippingPhone,shippingCity,shippingPostCode,"
    "shippingRegion,payMethod,paidPrice,unitPrice,sellerDiscountTotal,shippingFee,walletCredit,"
    "itemName,variation,shippingProvider,trackingCode,status,refundAmount,bundleDiscount,sellerNote"
).split(",")

WALMART_HEADER = (
    "PO#,Order#,Order Date,Ship By,Delivery Date,Customer Name,Customer Shipping Address,"
    "Customer Phone Number,Ship to Address 1,Ship to Address 2,City,State,Zip,Segment,FLIDS,Line#,UPC,"
    "Status,Item Description,Shipping Method,Shipping Tier,Shipping SLA,Shipping Config SOurce,Qty,SKU,"
    "Item Cost,Shipping Cost,Tax,Update Status,Update Qty,Carrier,Tracking Number,Tracking Url,"
    "Seller Order NO,Fulfillment Entity,Replacement Order,Original Customer Order Id"
).split(",")

WOO_HEADER = (
    "Order Number,Order Status,Order Date,Customer Note,First Name (Billing),Last Name (Billing),"
    "Company (Billing),Address 1&2 (Billing),City (Billing),State Code (Billing),Postcode (Billing),"
    "Country Code (Billing),Email (Billing),Phone (Billing),First Name (Shipping),Last Name (Shipping),"
    "Address 1&2 (Shipping),City (Shipping),State Code (Shipping),Postcode (Shipping),"
    "Country Code (Shipping),Payment Method Title,Cart Discount Amount,Order Subtotal Amount,"
    "Shipping Method Title,Order Shipping Amount,Order Refund Amount,Order Total Amount,"
    "Order Total Tax Amount,SKU,Item #,Item Name,Quantity (- Refund),Item Cost,Coupon Code,"
    "Discount Amount,Discount Amount Tax"
).split(",")


def write_table(path: Path, header: list[str], rows: list[dict], *, delimiter=",", encoding="utf-8",
                before: list[list[str]] = (), after_header: list[list[str]] = (),
                after: list[list[str]] = (), newline="\n") -> Path:
    """A text table as an export writes it: optional lines before the header, a
    padding row after it, footer lines; unknown columns left blank."""
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"fixture names columns the format does not have: {unknown}"
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
        w.writerows(before)
        w.writerow(header)
        w.writerows(after_header)
        for row in rows:
            w.writerow([row.get(h, "") for h in header])
        w.writerows(after)
    return path


def load(path: Path, shop_hint="shop1", config=None):
    return load_file(path, shop_hint=shop_hint, config=config or Config())


def lines_of(imported, order_id):
    f = imported.frame
    return f[f[Line.order_id] == order_id].reset_index(drop=True)


# --- Shopify ----------------------------------------------------------------

def shopify_rows():
    first = {"Email": "ann@example.com", "Financial Status": "paid", "Paid at": "2026-04-05 21:06:21 +0400",
             "Fulfillment Status": "unfulfilled", "Currency": "USD", "Subtotal": "25.50", "Total": "28.50",
             "Created at": "2026-04-05 21:06:20 +0400", "Shipping Name": "Ann Lee",
             "Shipping Street": "1 Main St", "Shipping Address1": "1 Main St", "Shipping City": "Ogden",
             "Shipping Zip": "'84403", "Shipping Province": "UT", "Shipping Country": "US",
             "Shipping Phone": "+1 801 555 0100", "Billing Country": "CA", "Billing Zip": "K1A 0B1"}
    return [
        {"Name": "#1001", **first, "Lineitem quantity": "2", "Lineitem name": "Red mug",
         "Lineitem price": "10.00", "Lineitem sku": "MUG-RED"},
        # continuation row: Name, Email and Created at repeated, order fields blank
        {"Name": "#1001", "Email": "ann@example.com", "Created at": "2026-04-05 21:06:20 +0400",
         "Lineitem quantity": "1", "Lineitem name": "Blue mug", "Lineitem price": "5.50",
         "Lineitem sku": "MUG-BLUE"},
        {"Name": "#1002", "Email": "bo@example.com", "Financial Status": "voided", "Currency": "USD",
         "Total": "10.00", "Created at": "2026-04-06 08:00:00 -0700", "Lineitem quantity": "1",
         "Lineitem name": "Red mug", "Lineitem price": "10.00", "Lineitem sku": "MUG-RED",
         "Shipping Name": "Bo Chan", "Shipping Address1": "2 High St", "Shipping City": "Leeds",
         "Shipping Zip": "LS1 1AA", "Shipping Country": "GB", "Cancelled at": "2026-04-06 09:00:00 -0700"},
        {"Name": "#1003", "Email": "cy@example.com", "Financial Status": "refunded", "Currency": "USD",
         "Paid at": "2026-04-07 10:00:00 +0000", "Fulfillment Status": "fulfilled", "Total": "5.50",
         "Lineitem quantity": "1", "Lineitem name": "Blue mug", "Lineitem price": "5.50",
         "Lineitem sku": "MUG-BLUE", "Shipping Name": "Cy Diaz", "Shipping Address1": "3 Rue X",
         "Shipping City": "Paris", "Shipping Zip": "75001", "Shipping Country": "FR"},
        {"Name": "#1004", "Email": "di@example.com", "Financial Status": "paid", "Currency": "USD",
         "Paid at": "2026-04-08 10:00:00 +0000", "Fulfillment Status": "fulfilled", "Total": "12.00",
         "Lineitem quantity": "3", "Lineitem name": "Sticker pack", "Lineitem price": "4.00",
         "Lineitem sku": "", "Shipping Name": "Di Eve", "Shipping Address1": "4 Elm St",
         "Shipping City": "Austin", "Shipping Zip": "78701", "Shipping Country": "US"},
    ]


def test_shopify_export(tmp_path):
    path = write_table(tmp_path / "orders_export.csv", SHOPIFY_HEADER, shopify_rows())
    imp = load(path, config=Config(shops={"shop1": Shop("shop1", "shopify")}))
    assert (imp.kind, imp.platform) == ("orders", "shopify_orders")
    f = imp.frame
    assert list(f.columns) == Line.columns
    assert f[Line.order_id].nunique() == 4 and len(f) == 5
    first = lines_of(imp, "#1001")
    assert first[Line.platform_sku].tolist() == ["MUG-RED", "MUG-BLUE"]
    assert first[Line.sku].tolist() == ["MUG-RED", "MUG-BLUE"]
    assert first[Line.quantity].tolist() == [2, 1]
    assert first[Line.line_no].tolist() == [1, 2]
    # the continuation row carries its order's fields
    for col, value in [(Line.recipient_name, "Ann Lee"), (Line.postcode, "84403"), (Line.country, "US"),
                       (Line.currency, "USD"), (Line.order_total, "28.50"),
                       (Line.paid_at, "2026-04-05T17:06:21Z"), (Line.city, "Ogden"), (Line.shop, "shop1")]:
        assert first[col].tolist() == [value, value], col
    assert first[Line.unit_price].tolist() == ["10.00", "5.50"]
    assert first[Line.row].tolist() == [2, 3]
    assert (f[Line.file] == "orders_export.csv").all()
    status = dict(zip(f[Line.order_id], f[Line.platform_status]))
    assert status == {"#1001": "open", "#1002": "cancelled", "#1003": "refunded", "#1004": "shipped"}
    # no paid time: the creation time stands in
    assert lines_of(imp, "#1002")[Line.paid_at][0] == "2026-04-06T15:00:00Z"
    # no SKU: the item name is used and the user is told
    assert lines_of(imp, "#1004")[Line.platform_sku][0] == "Sticker pack"
    assert any("no SKU" in n for n in imp.notes)
    assert (f[Line.platform] == "shopify").all() and (f[Line.raw] == "").all()


def test_shopify_missing_required_column_is_named(tmp_path):
    header = [h for h in SHOPIFY_HEADER if h != "Lineitem sku"]
    rows = [{k: v for k, v in r.items() if k != "Lineitem sku"} for r in shopify_rows()]
    path = write_table(tmp_path / "broken.csv", header, rows)
    with pytest.raises(FileRejected) as err:
        load(path)
    messages = [p.problem for p in err.value.problems]
    assert any("missing required column 'Lineitem sku'" in m for m in messages)
    assert "Shopify" in messages[0]
    assert err.value.problems[0].row == 1


def test_shopify_conflicting_address_within_an_order_is_a_problem(tmp_path):
    rows = shopify_rows()
    rows[1]["Shipping City"] = "Provo"      # continuation row disagrees with its order
    path = write_table(tmp_path / "conflict.csv", SHOPIFY_HEADER, rows)
    with pytest.raises(FileRejected) as err:
        load(path)
    (p,) = err.value.problems
    assert p.row == 3 and p.column == "Shipping City" and p.value == "Provo"
    assert "#1001" in p.problem and "conflicting" in p.problem


# --- Amazon -----------------------------------------------------------------

def amazon_row(order, item, sku, qty, price, **extra):
    row = {"order-id": order, "order-item-id": item, "purchase-date": "2026-04-01T10:50:49-08:00",
           "payments-date": "2026-04-01T11:00:00-08:00", "buyer-email": "x@marketplace.amazon.com",
           "buyer-name": "Jo Bloggs", "sku": sku, "product-name": "Thing", "quantity-purchased": qty,
           "currency": "GBP", "item-price": price, "item-tax": "0.00", "shipping-price": "1.99",
           "ship-service-level": "Standard", "recipient-name": "Jo Bloggs", "ship-address-1": "5 Kings Rd",
           "ship-address-2": "Flat 2", "ship-city": "London", "ship-postal-code": "SW3 4UD",
           "ship-country": "GB", "ship-phone-number": "020 7946 0000"}
    row.update(extra)
    return row


def test_amazon_order_report(tmp_path):
    rows = [amazon_row("202-1111111-1111111", "11111111111111", "SKU-1", "1", "9.99"),
            amazon_row("202-2222222-2222222", "22222222222222", "SKU-1", "2", "19.98"),
            amazon_row("202-2222222-2222222", "33333333333333", "SKU-2", "3", "10.00")]
    # Amazon rows end in empty tabs
    path = write_table(tmp_path / "orders.txt", AMAZON_ORDER_REPORT_HEADER, rows, delimiter="\t")
    imp = load(path, config=Config(shops={"amz-uk": Shop("amz-uk", "amazon_order_report")}), shop_hint="")
    assert imp.platform == "amazon_order_report"
    f = imp.frame
    assert f[Line.order_id].nunique() == 2 and len(f) == 3
    assert (f[Line.shop] == "amz-uk").all()       # the single declared Amazon shop
    multi = lines_of(imp, "202-2222222-2222222")
    assert multi[Line.item_id].tolist() == ["22222222222222", "33333333333333"]
    assert multi[Line.quantity].tolist() == [2, 3]
    # item-price is the line total: the unit price is derived exactly or to 4 places
    assert multi[Line.unit_price].tolist() == ["9.99", "3.3333"]
    assert (f[Line.order_total] == "").all()      # Amazon has no order total column
    assert (f[Line.currency] == "GBP").all()
    assert (f[Line.paid_at] == "2026-04-01T19:00:00Z").all()
    assert multi[Line.address2].tolist() == ["Flat 2", "Flat 2"]
    assert multi[Line.line_no].tolist() == [1, 2]


def test_amazon_unshipped_orders_report(tmp_path):
    row = {"order-id": "111-0000000-0000001", "order-item-id": "44444444444444",
           "purchase-date": "2026-04-02T08:00:00+00:00", "sku": "SKU-9", "quantity-purchased": "3",
           "quantity-shipped": "1", "quantity-to-ship": "2", "recipient-name": "Al", "ship-address-1": "1 A St",
           "ship-city": "Reno", "ship-state": "NV", "ship-postal-code": "89501", "ship-country": "US"}
    path = write_table(tmp_path / "unshipped.txt", AMAZON_UNSHIPPED_HEADER, [row], delimiter="\t")
    imp = load(path)
    assert imp.platform == "amazon_unshipped_orders"
    line = imp.frame.iloc[0]
    assert line[Line.quantity] == 2 and line[Line.unit_price] == "" and line[Line.currency] == ""
    assert line[Line.paid_at] == "2026-04-02T08:00:00Z"


def test_amazon_all_orders_report_status(tmp_path):
    base = {"purchase-date": "2026-04-02T08:00:00+00:00", "quantity": "1", "currency": "USD",
            "item-price": "5.00", "ship-country": "US"}
    rows = [{**base, "amazon-order-id": "111-1", "order-status": "Shipped", "item-status": "Shipped", "sku": "A"},
            {**base, "amazon-order-id": "111-2", "order-status": "Cancelled", "item-status": "Cancelled", "sku": "B"},
            {**base, "amazon-order-id": "111-3", "order-status": "Unshipped", "item-status": "Unshipped", "sku": "C"}]
    path = write_table(tmp_path / "all.txt", AMAZON_ALL_ORDERS_HEADER, rows, delimiter="\t")
    imp = load(path)
    assert imp.platform == "amazon_all_orders"
    assert imp.frame[Line.platform_status].tolist() == ["shipped", "cancelled", "open"]


def test_amazon_duplicate_line_with_different_sku_is_a_problem(tmp_path):
    rows = [amazon_row("202-1", "111", "SKU-1", "1", "9.99"),
            amazon_row("202-1", "111", "SKU-2", "1", "9.99"),
            amazon_row("202-1", "222", "SKU-3", "1", "9.99"),
            amazon_row("202-1", "222", "SKU-3", "1", "9.99")]     # exact repeat: ignored
    path = write_table(tmp_path / "dup.txt", AMAZON_ORDER_REPORT_HEADER, rows, delimiter="\t")
    with pytest.raises(FileRejected) as err:
        load(path)
    (p,) = err.value.problems
    assert p.row == 3 and p.column == "sku" and p.value == "SKU-2"
    assert "appears twice" in p.problem


# --- eBay -------------------------------------------------------------------

def test_ebay_orders_report(tmp_path):
    address = {"Buyer Name": "Sam Roe", "Buyer Email": "sam@example.com", "Ship To Name": "Sam Roe",
               "Ship To Phone": "555 0101", "Ship To Address 1": "9 Oak Ave", "Ship To City": "Dayton",
               "Ship To State": "OH", "Ship To Zip": "45402", "Ship To Country": "United States"}
    rows = [
        # multi-item order: summary row (no Item Number) then one row per item
        {"Sales Record Number": "101", "Order Number": "12-34567-89012", **address, "Quantity": "3",
         "Total Price": "$1,045.99", "Sale Date": "Sep-08-26", "Paid On Date": "Sep-09-26"},
        {"Sales Record Number": "101", "Order Number": "12-34567-89012", "Item Number": "123456789012",
         "Item Title": "Lamp", "Custom Label": "LAMP-1", "Quantity": "1", "Sold For": "$1,000.00",
         "Transaction ID": "2000001"},
        {"Sales Record Number": "101", "Order Number": "12-34567-89012", "Item Number": "123456789013",
         "Item Title": "Bulb", "Custom Label": "BULB-1", "Quantity": "2", "Sold For": "$22.99",
         "Transaction ID": "2000002"},
        # single-item order on one row, already shipped
        {"Sales Record Number": "102", "Order Number": "12-34567-89013", **address, "Ship To Name": "Lu Wei",
         "Item Number": "123456789014", "Custom Label": "LAMP-1", "Quantity": "1", "Sold For": "$45.99",
         "Total Price": "$45.99", "Sale Date": "Sep-10-26", "Paid On Date": "Sep-10-26",
         "Shipped On Date": "Sep-11-26", "Transaction ID": "2000003"},
    ]
    path = write_table(tmp_path / "ebay.csv", EBAY_HEADER, rows,
                       before=[[""] * 5],                      # comma-only first line
                       after_header=[[""] * len(EBAY_HEADER)],  # padding row
                       after=[["2", "record(s) downloaded", "from Sep-01-26 to Sep-30-26"],
                              ["Seller ID : some_seller"]])
    imp = load(path)
    assert imp.platform == "ebay_orders"
    f = imp.frame
    assert f[Line.order_id].nunique() == 2 and len(f) == 3
    multi = lines_of(imp, "12-34567-89012")
    assert multi[Line.platform_sku].tolist() == ["LAMP-1", "BULB-1"]
    assert multi[Line.quantity].tolist() == [1, 2]
    assert multi[Line.item_id].tolist() == ["123456789012-2000001", "123456789013-2000002"]
    assert multi[Line.unit_price].tolist() == ["1000.00", "22.99"]
    assert multi[Line.order_total].tolist() == ["1045.99", "1045.99"]      # from the summary row
    assert multi[Line.recipient_name].tolist() == ["Sam Roe", "Sam Roe"]
    assert multi[Line.country].tolist() == ["US", "US"]
    assert multi[Line.currency].tolist() == ["USD", "USD"]
    assert multi[Line.paid_at].tolist() == ["2026-09-09T00:00:00Z"] * 2
    assert multi[Line.row].tolist() == [5, 6]    # blank line, header, padding, summary come first
    single = lines_of(imp, "12-34567-89013")
    assert single[Line.platform_status][0] == "shipped" and single[Line.recipient_name][0] == "Lu Wei"


def test_ebay_australia_post_to_variant(tmp_path):
    header = [h.replace("Ship To", "Post To").replace("Shipping And Handling", "Postage And Handling")
              for h in EBAY_HEADER]
    header[header.index("Post To Zip")] = "Post To Postcode"
    row = {"Sales Record Number": "7", "Order Number": "21-00000-00001", "Post To Name": "Kim Ng",
           "Post To Address 1": "1 Beach Rd", "Post To City": "Bondi", "Post To State": "NSW",
           "Post To Postcode": "2026", "Post To Country": "Australia", "Item Number": "1",
           "Custom Label": "SURF-1", "Quantity": "1", "Sold For": "AU $3,000.00", "Total Price": "AU $3,000.00",
           "Sale Date": "26-May-26", "Paid On Date": "26-May-26", "Transaction ID": "9"}
    imp = load(write_table(tmp_path / "au.csv", header, [row]))
    line = imp.frame.iloc[0]
    assert (line[Line.postcode], line[Line.country], line[Line.state]) == ("2026", "AU", "NSW")
    assert (line[Line.unit_price], line[Line.currency]) == ("3000.00", "AUD")
    assert line[Line.paid_at] == "2026-05-26T00:00:00Z"


# --- TikTok Shop ------------------------------------------------------------

def test_tiktok_export_with_bom_tabs_and_localised_status(tmp_path):
    base = {"Seller SKU": "TEE-M", "Quantity": "1", "SKU Unit Original Price": "199000",
            "Order Amount": "229000", "Recipient": "Nguyen Van A", "Phone #": "(+84)900000001",
            "Country": "Vietnam", "Province": "Ho Chi Minh", "District": "Quan 1",
            "Detail Address": "12 Le Loi", "Order Substatus": "Awaiting shipment"}
    rows = [
        {**base, "Order ID": "583870900000000001\t", "Order Status": "To ship",
         "Created Time": "05/04/2026 21:06:21\t", "Paid Time": "05/04/2026 21:07:00\t"},
        {**base, "Order ID": "583870900000000001\t", "Order Status": "To ship", "Seller SKU": "TEE-L",
         "Quantity": "2", "Created Time": "05/04/2026 21:06:21\t", "Paid Time": "05/04/2026 21:07:00\t"},
        {**base, "Order ID": "583870900000000002\t", "Order Status": "已取消",
         "Created Time": "04/06/2026 09:15:00 AM\t", "Paid Time": ""},
        {**base, "Order ID": "583870900000000003\t", "Order Status": "จัดส่งแล้ว",
         "Created Time": "06/04/2026 10:00:00", "Paid Time": "06/04/2026 10:01:00"},
    ]
    path = write_table(tmp_path / "tiktok.csv", TIKTOK_HEADER, rows, encoding="utf-8-sig")
    imp = load(path)
    assert imp.platform == "tiktok_orders"
    f = imp.frame
    assert f[Line.order_id].nunique() == 3 and len(f) == 4
    first = lines_of(imp, "583870900000000001")
    assert first[Line.platform_sku].tolist() == ["TEE-M", "TEE-L"]
    assert first[Line.quantity].tolist() == [1, 2]
    assert first[Line.paid_at].tolist() == ["2026-04-05T21:07:00Z"] * 2
    assert first[Line.country].tolist() == ["VN", "VN"]
    assert first[Line.order_total].tolist() == ["229000", "229000"]
    status = dict(zip(f[Line.order_id], f[Line.platform_status]))
    assert status == {"583870900000000001": "open", "583870900000000002": "cancelled",
                      "583870900000000003": "shipped"}
    assert lines_of(imp, "583870900000000002")[Line.paid_at][0] == "2026-04-06T09:15:00Z"


# --- Shopee -----------------------------------------------------------------

def test_shopee_export_currency_from_header_suffix(tmp_path):
    base = {"Order Creation Date": "2026-04-05 21:06", "Order Paid Time": "2026-04-05 21:10",
            "Receiver Name": "Maria Santos", "Phone Number": "639170000000",
            "Delivery Address": "Unit 5, 10 Ayala Ave", "Town": "Bel-Air", "District": "Makati City",
            "Province": "Metro Manila", "Country": "PH", "Zip Code": "1209", "Grand Total": "1,250.00"}
    rows = [
        {**base, "Order ID": "2604050001ABCD", "Order Status": "To ship", "SKU Reference No.": "BAG-BLK",
         "Deal Price": "500.00", "Quantity": "2"},
        {**base, "Order ID": "2604050001ABCD", "Order Status": "To ship", "SKU Reference No.": "",
         "Parent SKU Reference No.": "STRAP", "Deal Price": "250.00", "Quantity": "1"},
        {**base, "Order ID": "2604050002EFGH", "Order Status": "Cancelled", "SKU Reference No.": "BAG-RED",
         "Deal Price": "600.00", "Quantity": "1", "Grand Total": "600.00"},
    ]
    imp = load(write_table(tmp_path / "shopee.csv", SHOPEE_HEADER, rows))
    assert imp.platform == "shopee_orders"
    first = lines_of(imp, "2604050001ABCD")
    assert first[Line.platform_sku].tolist() == ["BAG-BLK", "STRAP"]
    assert first[Line.quantity].tolist() == [2, 1]
    assert first[Line.currency].tolist() == ["PHP", "PHP"]
    assert first[Line.order_total].tolist() == ["1250.00", "1250.00"]
    assert first[Line.paid_at].tolist() == ["2026-04-05T21:10:00Z"] * 2
    assert first[Line.city].tolist() == ["Makati City"] * 2
    assert lines_of(imp, "2604050002EFGH")[Line.platform_status][0] == "cancelled"


# --- Lazada -----------------------------------------------------------------

def test_lazada_export_one_row_per_item(tmp_path):
    base = {"orderNumber": "330000001", "createTime": "05 Apr 2026 14:30", "shippingName": "Tan Ah Kow",
            "shippingAddress": "1 Orchard Rd", "shippingAddress2": "#05-01", "shippingCity": "Singapore",
            "shippingPostCode": "238801", "shippingPhone": "6590000000", "status": "pending",
            "customerEmail": "tan@example.com"}
    rows = [{**base, "orderItemId": "1", "sellerSku": "CUP", "unitPrice": "12.90", "paidPrice": "12.90"},
            {**base, "orderItemId": "2", "sellerSku": "CUP", "unitPrice": "12.90", "paidPrice": "12.90"},
            {**base, "orderNumber": "330000002", "orderItemId": "3", "sellerSku": "",
             "lazadaSku": "LZ-777", "unitPrice": "5", "status": "canceled"}]
    imp = load(write_table(tmp_path / "lazada.csv", LAZADA_HEADER, rows))
    assert imp.platform == "lazada_orders"
    first = lines_of(imp, "330000001")
    assert first[Line.item_id].tolist() == ["1", "2"] and first[Line.quantity].tolist() == [1, 1]
    assert first[Line.paid_at].tolist() == ["2026-04-05T14:30:00Z"] * 2
    second = lines_of(imp, "330000002")
    assert second[Line.platform_sku][0] == "LZ-777" and second[Line.platform_status][0] == "cancelled"


# --- Walmart ----------------------------------------------------------------

def test_walmart_export_keeps_the_original_row(tmp_path):
    base = {"PO#": "1234567890123", "Order#": "200001234567890", "Order Date": "2026-04-05",
            "Customer Name": "Pat Doe", "Customer Shipping Address": "7 Pine St, Tulsa, OK 74103",
            "Customer Phone Number": "9185550100", "Ship to Address 1": "7 Pine St", "City": "Tulsa",
            "State": "OK", "Zip": "74103", "Status": "Acknowledged", "Shipping Config SOurce": "SellerFulfilled"}
    rows = [{**base, "Line#": "1", "SKU": "W-1", "Qty": "1", "Item Cost": "19.99"},
            {**base, "Line#": "2", "SKU": "W-2", "Qty": "2", "Item Cost": "5.00"}]
    imp = load(write_table(tmp_path / "walmart.csv", WALMART_HEADER, rows))
    assert imp.platform == "walmart_orders"
    f = imp.frame
    assert len(f) == 2 and f[Line.item_id].tolist() == ["1", "2"]
    assert (f[Line.country] == "US").all() and (f[Line.currency] == "USD").all()
    raw = json.loads(f[Line.raw][1])
    assert list(raw) == WALMART_HEADER
    assert raw["SKU"] == "W-2" and raw["Shipping Config SOurce"] == "SellerFulfilled"


# --- WooCommerce ------------------------------------------------------------

def test_woocommerce_advanced_order_export(tmp_path):
    base = {"Order Number": "5001", "Order Status": "Processing", "Order Date": "2026-04-05 10:00:00",
            "First Name (Shipping)": "Eva", "Last Name (Shipping)": "Klein",
            "Address 1&2 (Shipping)": "Hauptstr. 1", "City (Shipping)": "Berlin",
            "Postcode (Shipping)": "10115", "Country Code (Shipping)": "DE",
            "Email (Billing)": "eva@example.com", "Order Total Amount": "42.00"}
    rows = [{**base, "SKU": "PEN", "Item #": "1", "Quantity (- Refund)": "2", "Item Cost": "11.00"},
            {**base, "SKU": "INK", "Item #": "2", "Quantity (- Refund)": "1", "Item Cost": "20,00"},
            {**base, "Order Number": "5002", "Order Status": "Completed", "SKU": "PEN", "Item #": "1",
             "Quantity (- Refund)": "1", "Item Cost": "11.00", "Order Total Amount": "11.00"}]
    imp = load(write_table(tmp_path / "woo.csv", WOO_HEADER, rows))
    assert imp.platform == "woocommerce_orders"
    first = lines_of(imp, "5001")
    assert first[Line.recipient_name].tolist() == ["Eva Klein"] * 2
    assert first[Line.unit_price].tolist() == ["11.00", "20.00"]
    assert first[Line.country].tolist() == ["DE", "DE"]
    assert lines_of(imp, "5002")[Line.platform_status][0] == "shipped"


# --- Dianxiaomi (GBK, Chinese headers) ----------------------------------------

def test_dianxiaomi_gbk_export(tmp_path):
    header = ["订单号", "店铺", "买家姓名", "国家", "省/州", "城市", "地址1", "邮编", "电话", "SKU", "数量",
              "单价", "币种", "付款时间", "运单号"]
    rows = [{"订单号": "DXM001", "店铺": "ebay-us", "买家姓名": "John Smith", "国家": "美国", "省/州": "CA",
             "城市": "San Jose", "地址1": "1 First St", "邮编": "95113", "电话": "4085550100", "SKU": "CN-1",
             "数量": "2", "单价": "3.50", "币种": "USD", "付款时间": "2026-04-05 08:00:00", "运单号": ""},
            {"订单号": "DXM001", "店铺": "ebay-us", "买家姓名": "John Smith", "国家": "美国", "SKU": "CN-2",
             "数量": "1", "单价": "1.00", "币种": "USD", "付款时间": "2026-04-05 08:00:00"},
            {"订单号": "DXM002", "店铺": "amazon-uk", "买家姓名": "李雷", "国家": "英国", "SKU": "CN-1",
             "数量": "1", "单价": "GBP 3.50", "付款时间": "2026-04-06 09:30:00", "运单号": "LP000000001CN"}]
    path = write_table(tmp_path / "店小秘订单.csv", header, rows, encoding="gbk")
    imp = load(path, shop_hint="")
    assert imp.platform == "dianxiaomi_orders"
    f = imp.frame
    assert f[Line.order_id].nunique() == 2 and len(f) == 3
    assert dict(zip(f[Line.order_id], f[Line.country])) == {"DXM001": "US", "DXM002": "GB"}
    assert dict(zip(f[Line.order_id], f[Line.shop])) == {"DXM001": "ebay-us", "DXM002": "amazon-uk"}
    second = lines_of(imp, "DXM002")
    assert second[Line.recipient_name][0] == "李雷"
    assert (second[Line.unit_price][0], second[Line.currency][0]) == ("3.50", "GBP")
    assert f[Line.quantity].tolist() == [2, 1, 1]


# --- TikTok description row -------------------------------------------------

TIKTOK_DESCRIPTIONS = {"Order ID": "Platform unique order ID.", "Quantity": "The quantity of SKU",
                       "Seller SKU": "Seller SKU", "SKU Unit Original Price": "Description of price",
                       "Order Amount": "Description of amount", "Paid Time": "Description of Paid Time",
                       "Created Time": "Description of Created Time"}
TIKTOK_THAI_DESCRIPTIONS = {"Order ID": "รหัสคำสั่งซื้อเฉพาะของแพลตฟอร์ม", "Quantity": "จำนวนของ SKU",
                            "Paid Time": "เวลาที่ชำระเงิน"}


def tiktok_order(order_id, **extra):
    row = {"Order ID": f"{order_id}\t", "Order Status": "To ship", "Seller SKU": "TEE-M", "Quantity": "1",
           "SKU Unit Original Price": "$12.99", "Order Amount": "$12.99",
           "Created Time": "04/05/2026 09:06:21 PM\t", "Paid Time": "04/05/2026 09:07:21 PM\t",
           "Recipient": "Al Bo", "Country": "United States", "Province": "MA", "District": "Boston",
           "Detail Address": "1 Elm St"}
    row.update(extra)
    return row


@pytest.mark.parametrize("descriptions", [TIKTOK_DESCRIPTIONS, TIKTOK_THAI_DESCRIPTIONS])
def test_tiktok_row_of_column_descriptions_is_not_an_order(tmp_path, descriptions):
    rows = [descriptions, tiktok_order("576000000000000001"), tiktok_order("576000000000000002")]
    imp = load(write_table(tmp_path / "tiktok.csv", TIKTOK_HEADER, rows, encoding="utf-8-sig"))
    f = imp.frame
    assert f[Line.order_id].tolist() == ["576000000000000001", "576000000000000002"]
    assert f[Line.row].tolist() == [3, 4]
    assert f[Line.paid_at].tolist() == ["2026-04-05T21:07:21Z"] * 2


def test_tiktok_first_order_is_kept_when_there_is_no_description_row(tmp_path):
    # a first row with a blank quantity is a broken order, not a description: reported
    rows = [tiktok_order("576000000000000001", Quantity=""), tiktok_order("576000000000000002")]
    with pytest.raises(FileRejected) as err:
        load(write_table(tmp_path / "tiktok.csv", TIKTOK_HEADER, rows, encoding="utf-8-sig"))
    (p,) = err.value.problems
    assert (p.row, p.column) == (2, "Quantity")
    imp = load(write_table(tmp_path / "ok.csv", TIKTOK_HEADER, rows[1:], encoding="utf-8-sig"))
    assert imp.frame[Line.order_id].tolist() == ["576000000000000002"]


def test_tiktok_vietnam_ward_is_part_of_the_address(tmp_path):
    row = tiktok_order("583870900000000001", **{"Commune": "Phường Bến Nghé", "Country": "Vietnam",
                                                "Additional address information": "Tầng 3"})
    line = load(write_table(tmp_path / "vn.csv", TIKTOK_HEADER, [row], encoding="utf-8-sig")).frame.iloc[0]
    assert line[Line.address1] == "1 Elm St"
    assert line[Line.address2] == "Tầng 3, Phường Bến Nghé"


# --- quantity 0: cancelled and refunded items ----------------------------------

def test_amazon_all_orders_cancelled_items_with_quantity_0_are_skipped(tmp_path):
    base = {"purchase-date": "2026-04-02T08:00:00+00:00", "currency": "USD", "ship-country": "US",
            "ship-city": "Boston", "ship-postal-code": "02134"}
    rows = [{**base, "amazon-order-id": "111-1", "order-status": "Shipped", "item-status": "Shipped",
             "sku": "A", "quantity": "1", "item-price": "5.00"},
            # a cancelled order: its only line has quantity 0 and no price
            {"amazon-order-id": "111-2", "purchase-date": "2026-04-02T09:00:00+00:00",
             "order-status": "Cancelled", "item-status": "Cancelled", "sku": "B", "quantity": "0"},
            # an order with one item cancelled
            {**base, "amazon-order-id": "111-3", "order-status": "Unshipped", "item-status": "Unshipped",
             "sku": "C", "quantity": "2", "item-price": "20.00"},
            {**base, "amazon-order-id": "111-3", "order-status": "Unshipped", "item-status": "Cancelled",
             "sku": "D", "quantity": "0", "item-price": "0.00"}]
    imp = load(write_table(tmp_path / "all.txt", AMAZON_ALL_ORDERS_HEADER, rows, delimiter="\t"))
    f = imp.frame
    assert list(zip(f[Line.order_id], f[Line.platform_sku], f[Line.quantity])) == [
        ("111-1", "A", 1), ("111-3", "C", 2)]
    assert ("2 line(s) with quantity 0 (cancelled or refunded items) skipped; "
            "order(s) with no other line left out: 111-2") in imp.notes


def test_woocommerce_fully_refunded_line_is_skipped(tmp_path):
    base = {"Order Status": "Processing", "Order Date": "2026-04-05 10:00:00", "First Name (Shipping)": "Eva",
            "Last Name (Shipping)": "Klein", "Address 1&2 (Shipping)": "Hauptstr. 1",
            "City (Shipping)": "Berlin", "Postcode (Shipping)": "10115", "Country Code (Shipping)": "DE",
            "Order Total Amount": "42.00"}
    rows = [{**base, "Order Number": "5001", "SKU": "PEN", "Item #": "1", "Quantity (- Refund)": "2",
             "Item Cost": "11.00"},
            {**base, "Order Number": "5001", "SKU": "INK", "Item #": "2", "Quantity (- Refund)": "0",
             "Item Cost": "20.00"}]
    imp = load(write_table(tmp_path / "woo.csv", WOO_HEADER, rows))
    assert imp.frame[Line.platform_sku].tolist() == ["PEN"]
    assert "1 line(s) with quantity 0 (cancelled or refunded items) skipped" in imp.notes


# --- postcodes that lost their leading zeros -------------------------------------

def test_number_formatted_zips_get_their_leading_zeros_back(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(WALMART_HEADER)
    row = {"PO#": 1234567890123, "Order Date": "2026-04-05", "Customer Name": "Al Bo",
           "Ship to Address 1": "1 Elm St", "City": "Boston", "State": "MA", "Zip": 2134, "Line#": 1,
           "Status": "Acknowledged", "Qty": 1, "SKU": "W-1", "Item Cost": 19.99}
    ws.append([row.get(h, "") for h in WALMART_HEADER])
    wb.save(tmp_path / "walmart.xlsx")
    assert load(tmp_path / "walmart.xlsx").frame[Line.postcode].tolist() == ["02134"]


def test_amazon_zip_plus_4_gets_its_leading_zero_back(tmp_path):
    rows = [amazon_row("111-1111111-1111111", "11111111111111", "SKU-1", "1", "9.99",
                       **{"ship-postal-code": "2134-1234", "ship-country": "US"}),
            amazon_row("111-1111111-2222222", "22222222222222", "SKU-1", "1", "9.99",
                       **{"ship-postal-code": "1067", "ship-country": "DE"}),
            amazon_row("111-1111111-3333333", "33333333333333", "SKU-1", "1", "9.99")]   # GB: untouched
    f = load(write_table(tmp_path / "orders.txt", AMAZON_ORDER_REPORT_HEADER, rows, delimiter="\t")).frame
    assert f[Line.postcode].tolist() == ["02134-1234", "01067", "SW3 4UD"]


# --- listings without a SKU ------------------------------------------------------

def test_ebay_listing_without_custom_label_uses_the_item_number(tmp_path):
    row = {"Sales Record Number": "7", "Order Number": "12-00000-00001", "Ship To Name": "Kim Ng",
           "Ship To Address 1": "1 Oak St", "Ship To City": "Dayton", "Ship To Zip": "45402",
           "Ship To Country": "United States", "Item Number": "123456789012", "Custom Label": "",
           "Quantity": "1", "Sold For": "$5.00", "Total Price": "$5.00", "Sale Date": "Sep-08-26",
           "Transaction ID": "9"}
    imp = load(write_table(tmp_path / "ebay.csv", EBAY_HEADER, [row]))
    assert imp.frame[Line.platform_sku].tolist() == ["123456789012"]
    assert any("'Item Number' is used as the platform SKU" in n for n in imp.notes)


def test_woocommerce_product_without_sku_uses_the_item_name(tmp_path):
    row = {"Order Number": "5001", "Order Status": "Processing", "Order Date": "2026-04-05 10:00:00",
           "First Name (Shipping)": "Eva", "Address 1&2 (Shipping)": "Hauptstr. 1", "City (Shipping)": "Berlin",
           "Country Code (Shipping)": "DE", "Order Total Amount": "11.00", "SKU": "", "Item #": "1",
           "Item Name": "Fountain pen", "Quantity (- Refund)": "1", "Item Cost": "11.00"}
    imp = load(write_table(tmp_path / "woo.csv", WOO_HEADER, [row]))
    assert imp.frame[Line.platform_sku].tolist() == ["Fountain pen"]
    assert any("'Item Name' is used as the platform SKU" in n for n in imp.notes)


# --- money in currencies without minor units ----------------------------------------

def test_shopee_indonesia_prices_group_thousands_with_a_dot(tmp_path):
    header = [h.replace("(PHP)", "(IDR)") for h in SHOPEE_HEADER]
    row = {"Order ID": "2604050001ABCD", "Order Status": "To ship", "SKU Reference No.": "BAG",
           "Deal Price": "150.000", "Quantity": "1", "Grand Total": "1.150.000",
           "Order Paid Time": "2026-04-05 21:10", "Receiver Name": "Budi", "Delivery Address": "Jl. Sudirman 1",
           "Country": "ID", "Zip Code": "10220"}
    line = load(write_table(tmp_path / "shopee.csv", header, [row])).frame.iloc[0]
    assert (line[Line.unit_price], line[Line.order_total], line[Line.currency]) == ("150000", "1150000", "IDR")


# --- slash dates: one order per column -----------------------------------------------

def walmart_row(po, date, **extra):
    row = {"PO#": po, "Order Date": date, "Customer Name": "Pat Doe", "Ship to Address 1": "7 Pine St",
           "City": "Tulsa", "State": "OK", "Zip": "74103", "Line#": "1", "Status": "Acknowledged",
           "Qty": "1", "SKU": "W-1", "Item Cost": "19.99"}
    row.update(extra)
    return row


def test_us_slash_dates_are_read_month_first(tmp_path):
    rows = [walmart_row("1", "4/5/2026 21:06"), walmart_row("2", "4/25/2026")]
    f = load(write_table(tmp_path / "walmart.csv", WALMART_HEADER, rows)).frame
    assert f[Line.paid_at].tolist() == ["2026-04-05T21:06:00Z", "2026-04-25T00:00:00Z"]


def test_a_column_that_proves_day_first_is_read_day_first(tmp_path):
    # the template expects month first, but 25/4 can only be day first: so is 4/5
    rows = [walmart_row("1", "4/5/2026 21:06"), walmart_row("2", "25/4/2026")]
    f = load(write_table(tmp_path / "walmart.csv", WALMART_HEADER, rows)).frame
    assert f[Line.paid_at].tolist() == ["2026-05-04T21:06:00Z", "2026-04-25T00:00:00Z"]


def test_a_column_with_both_date_orders_is_rejected(tmp_path):
    rows = [walmart_row("1", "25/4/2026"), walmart_row("2", "4/5/2026"), walmart_row("3", "4/26/2026")]
    with pytest.raises(FileRejected) as err:
        load(write_table(tmp_path / "walmart.csv", WALMART_HEADER, rows))
    (p,) = err.value.problems
    assert p.column == "Order Date" and p.row == 4 and p.value == "4/26/2026"
    assert "day first (25/4/2026) and month first (4/26/2026)" in p.problem


# --- shop settings from batchship.toml --------------------------------------------------

def test_shop_currency_country_and_timezone_fill_what_the_export_leaves_out(tmp_path):
    rows = [{"orderNumber": "330000001", "orderItemId": "1", "sellerSku": "CUP", "unitPrice": "12.90",
             "createTime": "05 Apr 2026 14:30", "shippingName": "Siti", "shippingAddress": "Jalan 1",
             "shippingCity": "Kuala Lumpur", "shippingPostCode": "5000", "status": "pending"},
            {"orderNumber": "330000002", "orderItemId": "2", "sellerSku": "CUP", "unitPrice": "SGD 9.90",
             "createTime": "2026-04-05T15:00:00+00:00", "shippingName": "Tan", "shippingAddress": "1 Orchard Rd",
             "shippingCity": "Singapore", "shippingPostCode": "238801", "status": "pending"}]
    config = Config(shops={"lz-my": Shop("lz-my", "lazada", currency="MYR", country="MY",
                                         timezone="Asia/Kuala_Lumpur")})
    imp = load(write_table(tmp_path / "lazada.csv", LAZADA_HEADER, rows), shop_hint="lz-my", config=config)
    f = imp.frame
    assert f[Line.country].tolist() == ["MY", "MY"]
    assert f[Line.currency].tolist() == ["MYR", "SGD"]            # a currency in the cell wins
    assert f[Line.paid_at].tolist() == ["2026-04-05T06:30:00Z", "2026-04-05T15:00:00Z"]  # an offset wins
    assert f[Line.postcode].tolist() == ["05000", "238801"]       # padded once the country is known


def test_shop_currency_without_minor_units_reads_the_prices(tmp_path):
    row = tiktok_order("583870900000000001", **{"SKU Unit Original Price": "120.000",
                                                "Order Amount": "1.240.000", "Country": "Vietnam",
                                                "Paid Time": "05/04/2026 21:07:00\t"})
    config = Config(shops={"tt-vn": Shop("tt-vn", "tiktok", currency="VND", timezone="Asia/Ho_Chi_Minh")})
    line = load(write_table(tmp_path / "vn.csv", TIKTOK_HEADER, [row], encoding="utf-8-sig"),
                shop_hint="tt-vn", config=config).frame.iloc[0]
    assert (line[Line.unit_price], line[Line.order_total], line[Line.currency]) == ("120000", "1240000", "VND")
    assert line[Line.paid_at] == "2026-04-05T14:07:00Z"


# --- unpaid orders ------------------------------------------------------------------------

def test_unpaid_orders_are_told_apart(tmp_path):
    shopee = [{"Order ID": f"26040500{i}", "Order Status": status, "SKU Reference No.": "BAG",
               "Deal Price": "500.00", "Quantity": "1"}
              for i, status in enumerate(["Unpaid", "To ship"])]
    f = load(write_table(tmp_path / "shopee.csv", SHOPEE_HEADER, shopee)).frame
    assert f[Line.platform_status].tolist() == ["unpaid", "open"]

    tiktok = [tiktok_order(f"57600000000000000{i}", **{"Order Status": s})
              for i, s in enumerate(["Unpaid", "Awaiting payment", "待付款", "Chờ thanh toán", "To ship"])]
    f = load(write_table(tmp_path / "tiktok.csv", TIKTOK_HEADER, tiktok, encoding="utf-8-sig")).frame
    assert f[Line.platform_status].tolist() == ["unpaid"] * 4 + ["open"]

    amazon = [{"amazon-order-id": f"111-{i}", "order-status": s, "item-status": "Unshipped", "sku": "A",
               "quantity": "1", "purchase-date": "2026-04-02T08:00:00+00:00"}
              for i, s in enumerate(["Pending", "Unshipped"])]
    f = load(write_table(tmp_path / "all.txt", AMAZON_ALL_ORDERS_HEADER, amazon, delimiter="\t")).frame
    assert f[Line.platform_status].tolist() == ["unpaid", "open"]

    woo = [{"Order Number": str(i), "Order Status": s, "SKU": "PEN", "Item #": "1", "Quantity (- Refund)": "1",
            "Order Total Amount": "1.00"} for i, s in enumerate(["pending", "on-hold", "Processing"])]
    f = load(write_table(tmp_path / "woo.csv", WOO_HEADER, woo)).frame
    assert f[Line.platform_status].tolist() == ["unpaid", "unpaid", "open"]

    lazada = [{"orderNumber": str(i), "orderItemId": str(i), "sellerSku": "CUP", "status": s}
              for i, s in enumerate(["unpaid", "pending"])]
    f = load(write_table(tmp_path / "lazada.csv", LAZADA_HEADER, lazada)).frame
    assert f[Line.platform_status].tolist() == ["unpaid", "open"]


def test_shopify_pending_is_unpaid_except_cash_on_delivery(tmp_path):
    rows = shopify_rows()[2:]
    rows[0].update({"Financial Status": "pending", "Cancelled at": "", "Payment Method": "Bank Deposit"})
    rows[1].update({"Financial Status": "pending", "Fulfillment Status": "unfulfilled",
                    "Payment Method": "Cash on Delivery (COD)"})
    rows[2].update({"Financial Status": "pending", "Payment Method": "Bank Deposit"})   # fulfilled
    f = load(write_table(tmp_path / "orders_export.csv", SHOPIFY_HEADER, rows)).frame
    assert f[Line.platform_status].tolist() == ["unpaid", "open", "shipped"]


# --- small things -------------------------------------------------------------------------

def test_header_only_walmart_file_imports_no_lines(tmp_path):
    imp = load(write_table(tmp_path / "walmart.csv", WALMART_HEADER, []))
    assert imp.platform == "walmart_orders" and imp.frame.empty
    assert list(imp.frame.columns) == Line.columns


def test_ids_shortened_by_excel_are_rejected_plainly(tmp_path):
    rows = [tiktok_order("5.8387E+17"), tiktok_order("5.8387E+17", **{"Seller SKU": "TEE-L"})]
    with pytest.raises(FileRejected) as err:
        load(write_table(tmp_path / "tiktok.csv", TIKTOK_HEADER, rows, encoding="utf-8-sig"))
    problems = err.value.problems
    assert [(p.row, p.column, p.value) for p in problems] == [(2, "Order ID", "5.8387E+17"),
                                                              (3, "Order ID", "5.8387E+17")]
    assert problems[0].problem == ("order id 5.8387E+17 was shortened by Excel: export the file again "
                                   "without opening it in Excel")


def test_french_ebay_country_names(tmp_path):
    rows = [{"Sales Record Number": str(i), "Order Number": f"33-1111{i}-22222", "Ship To Name": "Luc",
             "Ship To Address 1": "1 rue X", "Ship To City": "Paris", "Ship To Country": country,
             "Item Number": f"12345678901{i}", "Custom Label": "FR1", "Quantity": "1", "Sold For": "EUR 9,00",
             "Transaction ID": "0"}
            for i, country in enumerate(["Royaume-Uni", "États-Unis", "Allemagne", "Pays-Bas"])]
    f = load(write_table(tmp_path / "ebay.csv", EBAY_HEADER, rows, delimiter=";")).frame
    assert f[Line.country].tolist() == ["GB", "US", "DE", "NL"]
