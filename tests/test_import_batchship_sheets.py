"""batchship's own input sheets (English or Chinese headers), xlsx and csv."""
import csv
from pathlib import Path

import openpyxl
import pytest

from batchship.config import Config, Shop
from batchship.errors import FileRejected
from batchship.importers import blank_headers, load_file
from batchship.schemas import KINDS, Line, Pairing, PoolNumber, Product, ShipScan, Stock


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]], encoding="utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


def load(path, shop_hint="", config=None):
    return load_file(path, shop_hint=shop_hint, config=config or Config())


def test_blank_headers_for_every_kind():
    assert blank_headers("orders") == [
        "shop", "order_id", "sku", "quantity", "unit_price", "currency", "order_total", "paid_at", "recipient_name",
        "address1", "address2", "city", "state", "postcode", "country", "phone", "email", "shipping_service", "tags"]
    assert blank_headers("stock") == ["warehouse", "sku", "on_hand", "shelf"]
    assert blank_headers("pairing") == ["shop", "platform_sku", "sku", "quantity"]
    assert blank_headers("tracking_pool") == ["channel", "tracking_number"]
    assert len(blank_headers("ship_confirm")) == 1
    assert blank_headers("products")[0] == "sku" and "weight_g" in blank_headers("products")
    with pytest.raises(KeyError):
        blank_headers("nonsense")


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_sheet_written_from_blank_headers_is_recognised(tmp_path, kind):
    path = write_xlsx(tmp_path / f"{kind}.xlsx", {"Sheet1": [blank_headers(kind)]})
    imp = load(path, shop_hint="shop1")
    assert imp.kind == kind and imp.platform == f"batchship_{kind}"
    assert list(imp.frame.columns) == KINDS[kind].columns and imp.frame.empty


def test_orders_sheet_in_xlsx_with_title_rows_and_shop_column(tmp_path):
    rows = [["Orders to ship, week 14"], [],
            ["shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "recipient_name",
             "address1", "address2", "city", "state", "postcode", "country", "phone", "email"],
            ["wholesale", "W-1", "MUG", 2, 3.5, "EUR", "2026-04-05 10:00:00", "Ola Nordmann", "Gate 1", "",
             "Oslo", "", "0150", "Norway", "+47 000", "ola@example.com"],
            ["wholesale", "W-1", "CUP", 1, 2, "EUR", "2026-04-05 10:00:00", "Ola Nordmann", "Gate 1", "",
             "Oslo", "", "0150", "Norway", "+47 000", "ola@example.com"],
            ["", "W-2", "MUG", 1, 3.5, "EUR", "", "Kari", "Vei 2", "", "Bergen", "", "5003", "NO", "", ""]]
    path = write_xlsx(tmp_path / "orders.xlsx", {"Orders": rows})
    imp = load(path, shop_hint="retail")
    f = imp.frame
    assert imp.platform == "batchship_orders"
    assert f[Line.shop].tolist() == ["wholesale", "wholesale", "retail"]   # blank cell: the inbox folder
    assert f[Line.quantity].tolist() == [2, 1, 1]
    assert f[Line.unit_price].tolist() == ["3.5", "2", "3.5"]
    assert f[Line.country].tolist() == ["NO", "NO", "NO"]
    assert f[Line.line_no].tolist() == [1, 2, 1]
    assert f[Line.row].tolist() == [4, 5, 6]
    assert f[Line.paid_at].tolist()[0] == "2026-04-05T10:00:00Z"
    assert (f[Line.platform] == "batchship").all()


def test_chinese_headers_with_stars_and_spaces(tmp_path):
    rows = [["仓库 ", "SKU*", "库存数量", "货架位"], ["深圳仓", "MUG", "12", "A-01"], ["深圳仓", "CUP", "0", ""]]
    imp = load(write_csv(tmp_path / "库存.csv", rows, encoding="gb18030"))
    assert imp.kind == "stock"
    f = imp.frame
    assert f[Stock.warehouse].tolist() == ["深圳仓", "深圳仓"]
    assert f[Stock.on_hand].tolist() == [12, 0]
    assert f[Stock.shelf].tolist() == ["A-01", ""]


def test_products_with_blank_weight(tmp_path):
    rows = [["sku", "name", "declared_name_en", "declared_name_cn", "declared_value", "declared_currency",
             "weight_g", "hs_code", "origin_country"],
            ["MUG", "Mug", "Ceramic mug", "陶瓷杯", "$3.50", "", "350", "'691200", "China"],
            ["CUP", "Cup", "Paper cup", "纸杯", "1,20", "EUR", "", "482369", "CN"]]
    imp = load(write_csv(tmp_path / "products.csv", rows))
    f = imp.frame
    assert f[Product.declared_value].tolist() == ["3.50", "1.20"]
    assert f[Product.declared_currency].tolist() == ["USD", "EUR"]
    assert f[Product.weight_g].tolist()[0] == 350 and f[Product.weight_g].isna().tolist() == [False, True]
    assert f[Product.hs_code].tolist() == ["691200", "482369"]
    assert f[Product.origin_country].tolist() == ["CN", "CN"]


def test_tracking_pool_and_pairing(tmp_path):
    pool = load(write_csv(tmp_path / "pool.csv", [["渠道", "跟踪号"], ["yanwen", "RR123456785CN"]]))
    assert pool.kind == "tracking_pool"
    assert pool.frame[[PoolNumber.channel, PoolNumber.tracking_number]].values.tolist() == [
        ["yanwen", "RR123456785CN"]]
    pairing = load(write_csv(tmp_path / "pair.csv", [["店铺", "平台SKU", "仓库SKU", "数量"],
                                                     ["", "BUNDLE-2", "MUG", "2"], ["shop1", "TEE", "TEE-M", ""]]))
    assert pairing.kind == "pairing"
    assert pairing.frame[Pairing.quantity].tolist() == [2, 1]      # blank quantity: one unit
    assert pairing.frame[Pairing.shop].tolist() == ["", "shop1"]


def test_ship_confirm_scan_sheet(tmp_path):
    imp = load(write_csv(tmp_path / "scan.csv", [["运单号"], ["RR123456785CN"], [""], ["#1058 "]]))
    assert imp.kind == "ship_confirm"
    assert imp.frame[ShipScan.reference].tolist() == ["RR123456785CN", "#1058"]
    assert imp.frame[ShipScan.row].tolist() == [2, 4]


def test_a_marketplace_file_with_a_tracking_column_is_not_a_scan_sheet(tmp_path):
    # A Walmart-like file missing its required columns must not fall back to "ship confirm".
    rows = [["PO#", "Line#", "Tracking Number", "Carrier"], ["1", "1", "1Z999", "UPS"]]
    with pytest.raises(FileRejected) as err:
        load(write_csv(tmp_path / "walmart_partial.csv", rows))
    assert "Walmart" in err.value.problems[0].problem
    assert any("missing required column 'SKU'" in p.problem for p in err.value.problems)


def test_sheets_of_one_kind_in_a_workbook_are_combined(tmp_path):
    header = ["warehouse", "sku", "on_hand"]
    path = write_xlsx(tmp_path / "stock.xlsx", {"Shenzhen": [header, ["SZ", "MUG", 5]],
                                                "Notes": [["read me"], ["counted on Monday"]],
                                                "Yiwu": [header, ["YW", "MUG", 7]]})
    imp = load(path)
    assert imp.frame[Stock.on_hand].tolist() == [5, 7]
    assert imp.frame[Stock.warehouse].tolist() == ["SZ", "YW"]


def test_sheets_of_different_kinds_are_rejected(tmp_path):
    path = write_xlsx(tmp_path / "mixed.xlsx", {"Stock": [["warehouse", "sku", "on_hand"], ["SZ", "MUG", 5]],
                                                "Pool": [["channel", "tracking_number"], ["yw", "RR1"]]})
    with pytest.raises(FileRejected, match="different kinds"):
        load(path)


def test_orders_without_a_shop_are_rejected_unless_one_shop_is_declared(tmp_path):
    rows = [["order_id", "sku", "quantity"], ["A1", "MUG", "1"]]
    path = write_csv(tmp_path / "orders.csv", rows)
    with pytest.raises(FileRejected) as err:
        load(path)
    assert err.value.problems[0].problem == (
        "cannot tell which shop this file belongs to: put it in inbox/<shop>/")
    only = Config(shops={"main": Shop("main", "shopify")})
    assert load(path, config=only).frame[Line.shop].tolist() == ["main"]


def test_hidden_sheets_are_left_out(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Stock"
    ws.append(["warehouse", "sku", "on_hand"])
    ws.append(["SZ", "MUG", 5])
    old = wb.create_sheet("Old pool")
    old.append(["channel", "tracking_number"])
    old.append(["yw", "RR123456785CN"])
    old.sheet_state = "hidden"
    wb.save(tmp_path / "stock.xlsx")
    imp = load(tmp_path / "stock.xlsx")
    assert imp.kind == "stock" and imp.frame[Stock.sku].tolist() == ["MUG"]


def test_number_formatted_postcodes_in_an_xlsx_sheet_keep_their_zeros(tmp_path):
    header = ["shop", "order_id", "sku", "quantity", "postcode", "country"]
    rows = [header, ["s1", 1001, "A-1", 1, 2134, "US"], ["s1", 1002, "A-1", 1, 1067, "Deutschland"],
            ["s1", 1003, "A-1", 1, 150, "NO"], ["s1", 1004, "A-1", 1, 2000, "United Kingdom"]]
    f = load(write_xlsx(tmp_path / "orders.xlsx", {"Orders": rows})).frame
    assert f[Line.postcode].tolist() == ["02134", "01067", "0150", "2000"]


def test_declared_values_in_yen_group_thousands_with_a_dot(tmp_path):
    rows = [["sku", "name", "declared_value", "declared_currency"],
            ["MUG", "Mug", "1.500", "JPY"], ["CUP", "Cup", "1.500", "EUR"]]
    f = load(write_csv(tmp_path / "products.csv", rows)).frame
    assert f[Product.declared_value].tolist() == ["1500", "1.500"]
