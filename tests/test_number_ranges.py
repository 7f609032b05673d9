"""Every number a person can type in an input file is range-checked at import.

Each hostile file sits in a batch beside healthy ones: the healthy files apply,
the hostile file is rejected whole with a report naming its row and column,
nothing of it reaches the database, and a later run with a new good file works.
The largest values allowed (importers/limits.py) still go through to labels.
"""
from __future__ import annotations

import re
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from batchship.importers.limits import MONEY_MAX, ON_HAND, QUANTITY, WEIGHT_G
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
PAIRING_HEADER = ["shop", "platform_sku", "sku", "quantity"]
POOL_HEADER = ["channel", "tracking_number"]
PAID = "2026-11-01 08:00:00"

# Words that only a programmer would understand; none belongs in a report for staff.
_JARGON = re.compile(r"Traceback|Exception|Error\b|overflow|int64|uint64|C long|errno|\bNone\b|"
                     r"please report this file|could not be read|InvalidOperation|\bcast\b", re.I)

TOO_MANY = "is larger than 1,000,000 (the most one order line can hold)"
TOO_MUCH = "is larger than 1,000,000,000 (the largest amount batchship accepts)"
NOT_A_NUMBER = "is not a number"
EXPONENT = "is written with an exponent"


# ---- the batch around each hostile file ------------------------------------------------------------

def _good_batch(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 50, "A-1"], ["SZ", "B", 50, "B-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("GOOD1", "A", 1, PAID), order_row("GOOD2", "B", 2, PAID)])


def _assert_good_batch_applied(ws) -> None:
    orders = ws.orders().set_index("order_id")
    assert {"GOOD1", "GOOD2"} <= set(orders.index)
    assert (orders.loc[["GOOD1", "GOOD2"], "stage"] == "print").all()
    with ws.db() as db:
        assert {r[0] for r in db.execute("SELECT sku FROM products")} >= {"A", "B"}
    for name in ("products.csv", "stock.csv", "pool.csv", "orders.csv"):
        assert list((ws.root / "archive").rglob(name)), f"{name} was not archived"


def _report(ws, name: str) -> pd.DataFrame:
    """The rejected file's report; keep_default_na=False: "NaN" in a cell is the cell's text."""
    assert (ws.root / "failed" / name).exists(), f"{name} is not in failed/"
    assert not (ws.root / "inbox" / name).exists()
    path = ws.root / "failed" / f"{name}.errors.xlsx"
    report = pd.read_excel(path, dtype=str, engine="calamine", keep_default_na=False)
    for problem in report["problem"]:
        assert not _JARGON.search(problem), f"not plain language: {problem!r}"
    return report


def _one_problem(ws, name: str, row: int, column: str, value: str) -> str:
    report = _report(ws, name)
    assert len(report) == 1, report.to_dict("records")
    found = report.iloc[0]
    assert (found["row"], found["column"], found["value"]) == (str(row), column, value)
    return found["problem"]


def _later_run_works(ws) -> None:
    ws.drop("later.csv", ORDER_HEADER, [order_row("LATER1", "A", 2, PAID)])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert orders.loc["LATER1", "stage"] == "print"


def _order_ids(ws) -> set[str]:
    with ws.db() as db:
        return {r[0] for r in db.execute("SELECT order_id FROM orders")}


# ---- order lines -----------------------------------------------------------------------------------

@pytest.mark.parametrize("quantity, expected", [
    ("100000000000000000000", "quantity 100000000000000000000 " + TOO_MANY),
    ("9223372036854775808", "quantity 9223372036854775808 " + TOO_MANY),     # 2^63: past SQLite INTEGER
    ("1000001", "quantity 1000001 " + TOO_MANY),
    ("1E+20", "quantity 1E+20 " + TOO_MANY),                                  # Excel's CSV of a long number
    ("1e400", "quantity 1e400 " + TOO_MANY),
    ("9" * 5000, TOO_MANY),                                                    # past Python's int() limit
    ("inf", "quantity inf " + NOT_A_NUMBER),
    ("NaN", "quantity NaN " + NOT_A_NUMBER),
    ("2e3", "quantity 2e3 " + EXPONENT),
], ids=["20 digits", "2^63", "one more than allowed", "Excel exponent", "1e400", "5000 digits", "inf", "NaN",
        "small exponent"])
def test_an_order_file_with_an_impossible_quantity_is_rejected_whole(ws, quantity, expected):
    _good_batch(ws)
    ws.drop("bad.csv", ORDER_HEADER, [order_row("BAD1", "A", 1, PAID), order_row("BAD2", "B", quantity, PAID),
                                      order_row("BAD3", "B", 1, PAID)])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    problem = _one_problem(ws, "bad.csv", 3, "quantity", quantity)
    assert expected in problem
    assert not any(o.startswith("BAD") for o in _order_ids(ws))
    _later_run_works(ws)


@pytest.mark.parametrize("price, expected", [
    ("1e30", "unit price 1e30 " + TOO_MUCH),
    ("1e400", "unit price 1e400 " + TOO_MUCH),
    ("1" + "0" * 30, TOO_MUCH),
    ("$1,000,000,000,000", "unit price $1,000,000,000,000 " + TOO_MUCH),
    ("1000000000.01", TOO_MUCH),
    ("-1e30", TOO_MUCH),
    ("inf", "unit price inf " + NOT_A_NUMBER),
    ("-Infinity", NOT_A_NUMBER),
    ("NaN", "unit price NaN " + NOT_A_NUMBER),
    ("9.123456789", "unit price 9.123456789 has 9 decimal places; at most 4 are kept: round it (e.g. 9.1235)"),
    ("1.00000000000000000000000000000001", "has 32 decimal places"),
], ids=["1e30", "1e400", "31 digits", "grouped trillion", "a cent too much", "negative 1e30", "inf", "-Infinity",
        "NaN", "9 decimals", "32 decimals"])
def test_an_order_file_with_an_impossible_price_is_rejected_whole(ws, price, expected):
    _good_batch(ws)
    ws.drop("bad.csv", ORDER_HEADER, [order_row("BAD1", "A", 1, PAID), order_row("BAD2", "B", 1, PAID, price=price)])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    assert expected in _one_problem(ws, "bad.csv", 3, "unit_price", price)
    assert not any(o.startswith("BAD") for o in _order_ids(ws))
    _later_run_works(ws)


def test_every_impossible_number_of_a_file_is_listed_with_its_row(ws):
    _good_batch(ws)
    ws.drop("bad.csv", ORDER_HEADER, [order_row("BAD1", "A", "1E+20", PAID),
                                      order_row("BAD2", "A", 1, PAID, price="1e400"),
                                      order_row("BAD3", "A", 1, PAID),
                                      order_row("BAD4", "A", "1E+20", PAID, price="0.000001")])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _report(ws, "bad.csv")
    found = sorted(zip(report["row"].astype(int), report["column"]))
    assert found == [(2, "quantity"), (3, "unit_price"), (5, "quantity"), (5, "unit_price")]


def _orders_xlsx(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Orders"
    sheet.append(ORDER_HEADER)
    for row in rows:
        sheet.append(row)
    wb.save(path)


def test_numbers_typed_into_a_workbook_are_checked_too(ws):
    """Excel keeps a 20-digit quantity as the float 1e20 and a price as 1e30: both read as long digits."""
    _good_batch(ws)
    _orders_xlsx(ws.root / "inbox" / "bad.xlsx", [order_row("BAD1", "A", 1e20, PAID),
                                                  order_row("BAD2", "A", 1, PAID, price=1e30),
                                                  order_row("BAD3", "A", 1, PAID, price=float("1.5e308"))])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _report(ws, "bad.xlsx")
    assert report[["sheet", "row", "column"]].values.tolist() == [
        ["Orders", "2", "quantity"], ["Orders", "3", "unit_price"], ["Orders", "4", "unit_price"]]
    assert report["problem"].iloc[0] == "quantity 100000000000000000000 " + TOO_MANY
    assert TOO_MUCH in report["problem"].iloc[1] and TOO_MUCH in report["problem"].iloc[2]
    assert "characters)" in report["problem"].iloc[2]       # a 309-digit number is shortened in the message
    assert not any(o.startswith("BAD") for o in _order_ids(ws))
    _later_run_works(ws)


AMAZON_HEADER = ["order-id", "order-item-id", "purchase-date", "payments-date", "sku", "quantity-purchased",
                 "currency", "item-price", "recipient-name", "ship-address-1", "ship-city", "ship-postal-code",
                 "ship-country"]


def _amazon_row(order: str, item: str, qty, price: str) -> list:
    return [order, item, "2026-11-01T08:00:00+00:00", "2026-11-01T08:00:00+00:00", "A", qty, "GBP", price,
            "Jo Bloggs", "5 Kings Rd", "London", "SW3 4UD", "GB"]


def test_a_line_total_out_of_range_is_named_as_a_line_total(ws):
    """Amazon's item-price is price x quantity: its message says line total, under the file's own header."""
    with (ws.root / "batchship.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[shops]]\nname = "amz"\nplatform = "amazon_order_report"\n')
    _good_batch(ws)
    path = ws.drop("amazon.txt", AMAZON_HEADER, [_amazon_row("202-1", "11", 2, "19.80"),
                                                _amazon_row("202-2", "22", 1, "1e30"),
                                                _amazon_row("202-3", "33", 3, "1.123456789")])
    path.write_text(path.read_text(encoding="utf-8").replace(",", "\t"), encoding="utf-8")
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    report = _report(ws, "amazon.txt")
    assert report[["row", "column"]].values.tolist() == [["3", "item-price"], ["4", "item-price"]]
    assert report["problem"].tolist() == ["line total 1e30 " + TOO_MUCH,
                                          "line total 1.123456789 has 9 decimal places; at most 4 are kept: "
                                          "round it (e.g. 1.1235)"]
    assert not {"202-1", "202-2", "202-3"} & _order_ids(ws)


def test_an_order_total_out_of_range_is_reported_on_its_row(tmp_path):
    """Shopify's Total column is the order total: checked like every amount."""
    from batchship.errors import FileRejected
    from test_import_marketplaces import SHOPIFY_HEADER, load, shopify_rows, write_table
    rows = shopify_rows()
    rows[0]["Total"] = "1E+30"
    rows[2]["Total"] = "Infinity"
    with pytest.raises(FileRejected) as err:
        load(write_table(tmp_path / "shopify.csv", SHOPIFY_HEADER, rows))
    found = sorted((p.row, p.column, p.value, p.problem) for p in err.value.problems)
    # row 3 continues order #1001: it carries the order's total and is named with it
    assert found == [(2, "Total", "1E+30", "order total 1E+30 " + TOO_MUCH),
                     (3, "Total", "1E+30", "order total 1E+30 " + TOO_MUCH),
                     (4, "Total", "Infinity", "order total Infinity is not a number: write the number itself")]


@pytest.mark.parametrize("text, problem", [
    ("1000000", None), ("+1000000", None), ("1000000.0", None), ("0001000000", None),
    ("1000001", TOO_MANY), ("١٠٠٠٠٠٠٠", TOO_MANY),             # Arabic-Indic digits are digits too
    ("-1E+30", "quantity -1E+30 " + EXPONENT), ("1.5E+03", EXPONENT), ("∞", NOT_A_NUMBER),
    ("1" * 100_000, TOO_MANY),
])
def test_whole_numbers_at_and_beyond_the_cap(text, problem):
    from batchship.importers.normalize import parse_whole
    if problem is None:
        assert parse_whole(text, minimum=1, what="quantity", maximum=QUANTITY.maximum, why=QUANTITY.why) == 1_000_000
        return
    with pytest.raises(ValueError) as err:
        parse_whole(text, minimum=1, what="quantity", maximum=QUANTITY.maximum, why=QUANTITY.why)
    assert problem in str(err.value) and len(str(err.value)) < 200


# ---- stock counts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("count, expected", [
    ("1" + "0" * 24, "on hand 1000000000000000000000000 is larger than 1,000,000,000 "
                     "(the most one stock count can hold)"),
    ("9223372036854775808", "is larger than 1,000,000,000"),
    ("1000000001", "is larger than 1,000,000,000"),
    ("1E+24", "is larger than 1,000,000,000"),
    ("inf", "on hand inf " + NOT_A_NUMBER),
    ("nan", "on hand nan " + NOT_A_NUMBER),
], ids=["25 digits", "2^63", "one more than allowed", "Excel exponent", "inf", "nan"])
def test_a_stock_count_with_an_impossible_number_is_rejected_whole(ws, count, expected):
    _good_batch(ws)
    ws.drop("recount.csv", STOCK_HEADER, [["SZ", "A", 7, "A-1"], ["SZ", "C", count, "C-1"], ["SZ", "D", 3, "D-1"]])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    assert expected in _one_problem(ws, "recount.csv", 3, "on_hand", count)
    stock = ws.stock()
    assert stock.loc[("SZ", "A"), "on_hand"] == 50          # the first count, not the recount's 7
    assert ("SZ", "C") not in stock.index and ("SZ", "D") not in stock.index
    with ws.db() as db:
        assert not db.execute("SELECT 1 FROM ledger WHERE source_file = 'recount.csv'").fetchall()
    ws.drop("recount2.csv", STOCK_HEADER, [["SZ", "C", 4, "C-1"]])
    _later_run_works(ws)
    assert ws.stock().loc[("SZ", "C"), "on_hand"] == 4


# ---- product lists ---------------------------------------------------------------------------------

def _product(sku: str, *, grams="200", value="5.00") -> list:
    row = product_row(sku)
    row[PRODUCT_HEADER.index("weight_g")] = grams
    row[PRODUCT_HEADER.index("declared_value")] = value
    return row


@pytest.mark.parametrize("column, cell, expected", [
    ("weight_g", str(10 ** 12), "weight in grams 1000000000000 is larger than 1,000,000 "
                                "(one tonne, the heaviest product batchship accepts)"),
    ("weight_g", str(10 ** 25), "is larger than 1,000,000"),
    ("weight_g", "1000001", "is larger than 1,000,000"),
    ("weight_g", "1e400", "is larger than 1,000,000"),
    ("weight_g", "inf", "weight in grams inf " + NOT_A_NUMBER),
    ("declared_value", "1e30", "declared value 1e30 " + TOO_MUCH),
    ("declared_value", "NaN", "declared value NaN " + NOT_A_NUMBER),
    ("declared_value", "0.123456789", "declared value 0.123456789 has 9 decimal places"),
], ids=["weight 10^12", "weight 10^25", "weight one gram too much", "weight 1e400", "weight inf",
        "value 1e30", "value NaN", "value 9 decimals"])
def test_a_product_list_with_an_impossible_number_is_rejected_whole(ws, column, cell, expected):
    _good_batch(ws)
    hostile = _product("X", grams=cell) if column == "weight_g" else _product("X", value=cell)
    ws.drop("more_products.csv", PRODUCT_HEADER, [_product("W"), hostile, _product("A", grams="999")])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    assert expected in _one_problem(ws, "more_products.csv", 3, column, cell)
    with ws.db() as db:
        assert {r[0] for r in db.execute("SELECT sku FROM products")} == {"A", "B"}
        assert db.execute("SELECT weight_g FROM products WHERE sku = 'A'").fetchone() == (200,)
    _later_run_works(ws)


# ---- pairing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("units", ["100000000000000000000", "1000001", "inf", "1E+15"])
def test_a_pairing_with_an_impossible_bundle_size_is_rejected_whole(ws, units):
    _good_batch(ws)
    ws.drop("pairing.csv", PAIRING_HEADER, [["shop-a", "BUNDLE", "A", 2], ["shop-a", "BUNDLE", "B", units]])
    assert ws.run() == 1
    _assert_good_batch_applied(ws)
    problem = _one_problem(ws, "pairing.csv", 3, "quantity", units)
    assert "the most warehouse units one platform unit can stand for" in problem or NOT_A_NUMBER in problem
    with ws.db() as db:
        assert not db.execute("SELECT * FROM pairing").fetchall()
    _later_run_works(ws)


# ---- the largest values allowed go all the way through -----------------------------------------------

def test_the_largest_allowed_values_go_through_to_labels_and_pick_lists(ws):
    top_money = f"{MONEY_MAX}.0000"
    ws.drop("products.csv", PRODUCT_HEADER, [_product("A", grams=str(WEIGHT_G.maximum), value=top_money),
                                             _product("B", grams="1", value="0.0001")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", ON_HAND.maximum, "A-1"], ["SZ", "B", ON_HAND.maximum, "B-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("BIG1", "A", QUANTITY.maximum, PAID, price=top_money),
        order_row("BIG1", "B", QUANTITY.maximum, PAID, price=top_money),
        order_row("BIG2", "A", QUANTITY.maximum, PAID, price="-" + top_money),
        order_row("SMALL", "B", 1, PAID, price="0.0001")])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert set(orders.index) == {"BIG1", "BIG2", "SMALL"}
    assert (orders["stage"] == "print").all() and (orders["tracking_number"] != "").all()
    stock = ws.stock()
    assert stock.loc[("SZ", "A"), "on_hand"] == ON_HAND.maximum
    assert stock.loc[("SZ", "A"), "allocated"] == 2 * QUANTITY.maximum
    assert orders.loc["BIG1", "goods_value"].startswith("2000000000000000")      # 2 x 10^15, exact
    with ws.db() as db:
        quantities = dict(db.execute("SELECT order_id || '/' || sku, quantity FROM lines"))
        prices = {r[0] for r in db.execute("SELECT unit_price FROM lines")}
    assert quantities["BIG1/A"] == QUANTITY.maximum and quantities["SMALL/B"] == 1
    assert Decimal(top_money) in {Decimal(p) for p in prices}
    outbox = ws.last_outbox()
    labels = _pdf_pages(outbox / "labels-YW.pdf")
    assert len(labels) == 3
    assert "A × 1000000" in labels[0] and "1000000 g" in labels[0]      # B: a million units of 1 g
    assert "…" in labels[0]           # 10^12 g and 10^15 USD are cut to their columns, not printed over others
    assert "2000000" in _pdf_pages(outbox / "picklist.pdf")[0]


def _pdf_pages(path) -> list[str]:
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()
