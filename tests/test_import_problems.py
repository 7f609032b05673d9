"""Rejections: every problem of a file is listed at once, located by sheet, row and column."""
import csv
from pathlib import Path

import pandas as pd
import pytest

from batchship.config import Config, Shop
from batchship.errors import ConfigError, FileRejected
from batchship.importers import import_sheets, load_file, load_templates
from batchship.importers.identify import identify
from batchship.importers.mapping import map_sheet
from batchship.importers.values import schema_problems
from batchship.io.tabular import RawSheet
from batchship.schemas import Line

ORDER_HEADER = ["order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "country"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def rejected(path: Path, **kw) -> list:
    with pytest.raises(FileRejected) as err:
        load_file(path, shop_hint=kw.pop("shop_hint", "shop1"), config=kw.pop("config", Config()))
    return err.value.problems


def test_all_value_problems_are_collected(tmp_path):
    rows = [ORDER_HEADER,
            ["A1", "MUG", "1.5", "1.00", "USD", "2026-04-05", "US"],      # fractional
            ["A2", "MUG", "-2", "1.00", "USD", "2026-04-05", "US"],       # negative
            ["A3", "MUG", "0", "1.00", "USD", "2026-04-05", "US"],        # zero
            ["A4", "#N/A", "1", "1.00", "USD", "2026-04-05", "US"],       # broken formula
            ["", "MUG", "1", "1.00", "USD", "2026-04-05", "US"],          # no order id
            ["A6", "", "1", "1.00", "USD", "2026-04-05", "US"],           # no SKU
            ["A7", "MUG", "1", "one dollar", "USD", "2026-04-05", "US"],  # not money
            ["A8", "MUG", "1", "1.00", "USD", "someday", "US"],           # not a date
            ["A9", "MUG", "1", "1.00", "USD", "2026-04-05", "Atlantis"]]  # unknown country: kept
    problems = rejected(write_csv(tmp_path / "orders.csv", rows))
    found = {(p.row, p.column, p.value, p.problem) for p in problems}
    qty = "quantity must be a whole number greater than 0"
    assert (2, "quantity", "1.5", qty) in found
    assert (3, "quantity", "-2", qty) in found
    assert (4, "quantity", "0", qty) in found
    assert any(r == 5 and c == "sku" and v == "#N/A" for r, c, v, _ in found)
    assert not any(r == 5 and c == "sku" and v == "" for r, c, v, _ in found)   # reported once, as the error
    assert (6, "order_id", "", "missing order id") in found
    assert (7, "sku", "", "missing SKU") in found
    assert any(r == 8 and c == "unit_price" and "money" in m for r, c, _, m in found)
    assert any(r == 9 and c == "paid_at" and "date" in m for r, c, _, m in found)
    assert not any(r == 10 for r, *_ in found)
    assert all(p.sheet == "" for p in problems)


def test_excel_error_in_an_optional_column_is_a_problem(tmp_path):
    rows = [ORDER_HEADER, ["A1", "MUG", "1", "#VALUE!", "USD", "", "US"]]
    (p,) = rejected(write_csv(tmp_path / "orders.csv", rows))
    assert (p.row, p.column, p.value) == (2, "unit_price", "#VALUE!")
    assert "#VALUE!" in p.problem


def test_file_matching_no_format_names_the_closest(tmp_path):
    rows = [["order_id", "quantity", "colour"], ["A1", "1", "red"]]
    problems = rejected(write_csv(tmp_path / "x.csv", rows))
    assert [p.problem for p in problems] == [
        "missing required column 'sku' (accepted headers: sku; closest format: batchship order sheet "
        "(batchship_orders); headers not understood: colour)"]
    assert problems[0].column == "sku" and problems[0].row == 1


def test_unrelated_file_is_rejected_plainly(tmp_path):
    (p,) = rejected(write_csv(tmp_path / "x.csv", [["hello", "world"], ["1", "2"]]))
    assert "no header row of a known format" in p.problem


def test_ambiguous_header_is_rejected(tmp_path):
    # A header that both the stock and the order template fully claim, equally well.
    rows = [["order_id", "sku", "quantity", "warehouse", "on_hand"], ["A1", "MUG", "1", "SZ", "3"]]
    with pytest.raises(FileRejected) as err:
        import_sheets([RawSheet("", rows)], "x.csv", shop_hint="", config=Config())
    (p,) = err.value.problems
    assert "several formats" in p.problem and "batchship_stock" in p.problem and "batchship_orders" in p.problem


def test_header_is_found_below_title_rows_but_not_after_30_rows():
    title = [["Export"], ["generated 2026-04-05"], []]
    rows = title + [ORDER_HEADER, ["A1", "MUG", "1", "", "", "", ""]]
    imp = import_sheets([RawSheet("Orders", rows)], "x.xlsx", shop_hint="s", config=Config())
    assert imp.frame[Line.row].tolist() == [5]
    late = [["note"]] * 30 + rows
    with pytest.raises(FileRejected):
        import_sheets([RawSheet("Orders", late)], "x.xlsx", shop_hint="s", config=Config())


def test_row_numbers_follow_first_row_number():
    sheet = RawSheet("Orders", [ORDER_HEADER, ["A1", "MUG", "x", "", "", "", ""]], first_row_number=7)
    with pytest.raises(FileRejected) as err:
        import_sheets([sheet], "x.xlsx", shop_hint="s", config=Config())
    (p,) = err.value.problems
    assert (p.sheet, p.row) == ("Orders", 8)


def test_shop_hint_not_declared_becomes_the_shop_with_a_note():
    sheet = RawSheet("", [["order_id", "sku", "quantity"], ["A1", "MUG", "1"]])
    imp = import_sheets([sheet], "x.csv", shop_hint="popup", config=Config())
    assert imp.frame[Line.shop].tolist() == ["popup"]
    assert "shop 'popup' is not declared in batchship.toml: treated as a batchship shop " \
           "(detected from the header)" in imp.notes


def test_shop_hint_declared_for_another_platform_is_rejected():
    header = ["order-id", "order-item-id", "sku", "quantity-purchased", "item-price"]
    sheet = RawSheet("", [header, ["1-2-3", "9", "MUG", "1", "1.00"]], delimiter="\t")
    config = Config(shops={"myshopify": Shop("myshopify", "shopify")})
    with pytest.raises(FileRejected) as err:
        import_sheets([sheet], "x.txt", shop_hint="myshopify", config=config)
    assert "declared as a shopify shop" in err.value.problems[0].problem


def test_several_shops_of_the_platform_need_a_folder():
    header = ["order-id", "order-item-id", "sku", "quantity-purchased", "item-price"]
    sheet = RawSheet("", [header, ["1-2-3", "9", "MUG", "1", "1.00"]])
    config = Config(shops={"uk": Shop("uk", "amazon"), "de": Shop("de", "amazon_order_report")})
    with pytest.raises(FileRejected, match="cannot tell which shop"):
        import_sheets([sheet], "x.txt", shop_hint="", config=config)
    imp = import_sheets([sheet], "x.txt", shop_hint="de", config=config)
    assert imp.frame[Line.shop].tolist() == ["de"] and imp.notes == []


def test_schema_failures_become_located_problems():
    sheet = RawSheet("S", [["order_id", "sku", "quantity"], ["A1", "MUG", "1"], ["A2", "CUP", "1"]])
    (match,) = identify([sheet], load_templates(), "x.xlsx")
    mapped = map_sheet(match)
    frame = pd.DataFrame({c: [""] * 2 for c in Line.columns})
    frame[Line.line_no] = [1, 1]
    frame[Line.quantity] = [1, 1]
    frame[Line.row] = [2, 3]
    frame[Line.order_id] = ["A1", ""]
    frame[Line.platform_status] = ["open", "lost"]
    problems = schema_problems(mapped, frame, "orders")
    located = {(p.row, p.column, p.value) for p in problems}
    assert (3, "order_id", "") in located and (3, Line.platform_status, "lost") in located
    assert all(p.sheet == "S" for p in problems)


def test_bad_template_is_a_config_error(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "x"\nplatform = "mercadolibre"\nkind = "orders"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="mercadolibre"):
        load_templates(tmp_path)
    (tmp_path / "bad.toml").write_text(
        'name = "x"\nplatform = "shopify"\nkind = "orders"\n[columns]\ncolour = ["Colour"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_templates(tmp_path)


def test_a_new_format_is_a_template_edit(tmp_path):
    (tmp_path / "etsy_like.toml").write_text("""
name = "my_marketplace"
platform = "woocommerce"
kind = "orders"
signature = ["Receipt ID"]
[columns]
order_id = { headers = ["Receipt ID"], required = true }
platform_sku = { headers = ["Item SKU"], required = true }
quantity = { headers = ["Qty"], required = true }
[[status]]
column = "State"
map = { "gone" = "cancelled" }
""", encoding="utf-8")
    path = write_csv(tmp_path / "export.csv", [["Receipt ID", "Item SKU", "Qty", "State"], ["R1", "S", "4", "Gone"]])
    imp = load_file(path, shop_hint="s", config=Config(), templates_dir=tmp_path)
    assert imp.platform == "my_marketplace"
    assert imp.frame[[Line.order_id, Line.quantity, Line.platform_status]].values.tolist() == [["R1", 4, "cancelled"]]


def test_marketplace_file_in_the_folder_of_a_batchship_shop_is_imported_with_a_note():
    header = ["order-id", "order-item-id", "sku", "quantity-purchased", "item-price"]
    sheet = RawSheet("", [header, ["1-2-3", "9", "MUG", "1", "1.00"]])
    config = Config(shops={"main": Shop("main", "batchship")})
    imp = import_sheets([sheet], "x.txt", shop_hint="main", config=config)
    assert imp.frame[[Line.shop, Line.platform]].values.tolist() == [["main", "amazon"]]
    assert any("declared as a batchship shop" in n for n in imp.notes)


@pytest.mark.parametrize("lines, complaint", [
    ('zero_quantity = "ignore"', "zero_quantity"),
    ('slash_dates = "year_first"', "slash_dates"),
    ('description_row = ["quantity"]', "description_row"),
    ('[[status]]\ncolumn = "State"\nmap = { "x" = "unpaid" }\nunless = { column = "Pay" }', "unless"),
])
def test_bad_new_template_keys_are_config_errors(tmp_path, lines, complaint):
    (tmp_path / "bad.toml").write_text(
        f'name = "x"\nplatform = "shopify"\nkind = "orders"\n{lines}\n'
        if not lines.startswith("[[") else
        f'name = "x"\nplatform = "shopify"\nkind = "orders"\n[columns]\norder_id = ["Id"]\n{lines}\n',
        encoding="utf-8")
    with pytest.raises(ConfigError, match=complaint):
        load_templates(tmp_path)


def test_marketplace_quantity_0_is_still_refused_without_zero_quantity_skip(tmp_path):
    # batchship's own sheets: a 0 is a typo, never a cancelled item
    rows = [ORDER_HEADER, ["A1", "MUG", "0", "1.00", "USD", "2026-04-05", "US"],
            ["A2", "MUG", "1", "1.00", "USD", "2026-04-05", "US"]]
    (p,) = rejected(write_csv(tmp_path / "orders.csv", rows))
    assert (p.row, p.column, p.value) == (2, "quantity", "0")


def test_shops_in_a_shop_column_each_bring_their_own_settings():
    header = ["shop", "order_id", "sku", "quantity", "unit_price", "paid_at", "postcode"]
    sheet = RawSheet("", [header,
                          ["jp", "A1", "MUG", "1", "1.500", "2026-04-05 09:00", "1000005"],
                          ["de", "A2", "MUG", "1", "1.500", "2026-04-05 09:00", "1067"],
                          ["", "A3", "MUG", "1", "2", "2026-04-05 09:00", ""]])
    config = Config(shops={"jp": Shop("jp", "batchship", currency="JPY", country="JP", timezone="Asia/Tokyo"),
                           "de": Shop("de", "batchship", currency="EUR", country="DE",
                                      timezone="Europe/Berlin"),
                           "us": Shop("us", "batchship")})
    f = import_sheets([sheet], "x.csv", shop_hint="us", config=config).frame
    assert f[Line.unit_price].tolist() == ["1500", "1.500", "2"]
    assert f[Line.currency].tolist() == ["JPY", "EUR", ""]
    assert f[Line.country].tolist() == ["JP", "DE", ""]
    assert f[Line.postcode].tolist() == ["1000005", "01067", ""]
    assert f[Line.paid_at].tolist() == ["2026-04-05T00:00:00Z", "2026-04-05T07:00:00Z", "2026-04-05T09:00:00Z"]
