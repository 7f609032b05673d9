"""Output workbooks an accountant can use: Excel dates in the seller's timezone, money with its
currency's decimals beside its currency, totals rows that add up; and Chinese headers on request."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import PRODUCT_HEADER, TEST_CONFIG, Workspace, product_row, s10

ORDER_HEADER = ["shop", "order_id", "sku", "quantity", "unit_price", "currency", "order_total", "paid_at",
                "recipient_name", "address1", "address2", "city", "state", "postcode", "country", "phone", "email"]
ADDRESS = ["742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US", "+1 217 555 0134", "b@example.com"]
DATE_TEXT = re.compile(r"^\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d)?)?(Z|[+-]\d\d:?\d\d)?$")
DATE_HEADERS = {"paid_at", "date", "付款时间", "日期"}
TOTAL = re.compile(r"^(Total|合计)( [A-Z]{3})?$")


def _orders() -> list[list]:
    return [
        ["shop-a", "U1", "A", 2, "9.90", "USD", "24.80", "2026-11-01 01:00:00", "Emily Carter", *ADDRESS],
        ["shop-a", "U2", "B", 1, "12.35", "USD", "", "2026-11-01 23:30:00", "Emily Carter", *ADDRESS],
        ["shop-b", "J1", "A", 3, "1500", "JPY", "4800", "2026-11-02 02:00:00", "Emily Carter", *ADDRESS],
        ["shop-b", "H1", "NOPE", 1, "5", "JPY", "", "2026-11-02 03:00:00", "Emily Carter", *ADDRESS],
    ]


def _full_run(ws: Workspace, extra_config: str = "") -> list[Path]:
    """Two runs (labels, then a handover scan) plus a rejected file: every kind of output workbook."""
    (ws.root / "batchship.toml").write_text(TEST_CONFIG + extra_config, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 20, "A-1"], ["SZ", "B", 7, "B-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, _orders())
    ws.drop("bad.csv", ["warehouse", "sku", "on_hand"], [["SZ", "A", "many"]])
    ws.run()
    first = ws.last_outbox()
    ws.drop("handover.csv", ["tracking_number"], [[s10(1)], [s10(2)]])
    ws.run()
    books = sorted(first.glob("*.xlsx")) + sorted(ws.last_outbox().glob("*.xlsx"))
    books += sorted((ws.root / "failed").rglob("*.errors.xlsx"))
    names = {p.name for p in books}
    assert {"orders.xlsx", "stock.xlsx", "decisions.xlsx", "picklist.xlsx", "manifest-YW.xlsx",
            "bad.csv.errors.xlsx"} <= names, names
    return books


def _sheets(path: Path):
    for sheet in openpyxl.load_workbook(path).worksheets:
        rows = list(sheet.iter_rows())
        yield sheet, [c.value for c in rows[0]] if rows else [], rows[1:]


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("conventions") / "ws")
    return ws, _full_run(ws, '\n[outputs]\ntimezone = "Asia/Tokyo"\n')


def test_every_date_in_every_output_workbook_is_an_excel_date_in_the_sellers_timezone(english):
    ws, books = english
    dates = 0
    for path in books:
        for sheet, header, rows in _sheets(path):
            for row in rows:
                for title, cell in zip(header, row):
                    if cell.value is None:
                        continue
                    where = f"{path.name}!{sheet.title}!{cell.coordinate}"
                    assert not (isinstance(cell.value, str) and DATE_TEXT.match(cell.value)), f"{where}: date as text"
                    if title in DATE_HEADERS:
                        assert cell.is_date, f"{where} ({title}) is not a date cell: {cell.value!r}"
                        assert "yy" in cell.number_format and "mm" in cell.number_format
                        dates += 1
    assert dates >= 6
    paid = _by_order(ws, "orders.xlsx", "orders", "paid_at")
    # Stored in UTC (the sheet's naive times are UTC for a batchship shop), shown in Tokyo time.
    assert paid["U1"].value == datetime(2026, 11, 1, 10, 0)
    assert paid["U2"].value == datetime(2026, 11, 2, 8, 30)
    assert paid["U1"].number_format == "yyyy-mm-dd hh:mm:ss"


def _by_order(ws, book: str, sheet: str, column: str, outbox: Path | None = None) -> dict:
    wb = openpyxl.load_workbook((outbox or sorted((ws.root / "outbox").iterdir())[0]) / book)[sheet]
    header = [c.value for c in wb[1]]
    ids = header.index("order_id")
    return {row[ids].value: row[header.index(column)] for row in wb.iter_rows(min_row=2) if row[ids].value}


def test_money_has_its_currencys_decimals_and_sits_beside_its_currency(english):
    ws, books = english
    goods = _by_order(ws, "orders.xlsx", "orders", "goods_value")
    total = _by_order(ws, "orders.xlsx", "orders", "order_total")
    assert goods["U1"].value == pytest.approx(19.8) and goods["U1"].number_format == "#,##0.00"
    assert goods["J1"].value == 4500 and goods["J1"].number_format == "#,##0"
    assert total["U1"].value == pytest.approx(24.8) and total["J1"].value == 4800   # from the order sheet
    assert total["U2"].value is None
    money_columns = 0
    for path in books:
        for sheet, header, _ in _sheets(path):
            for i, title in enumerate(header):
                if title in ("goods_value", "order_total", "unit_price", "declared_value"):
                    beside = set(header[max(i - 2, 0):i + 3])
                    assert beside & {"currency", "declared_currency"}, f"{path.name}!{sheet.title}: {title}"
                    money_columns += 1
                elif title and str(title).startswith("declared_value "):
                    assert re.fullmatch(r"declared_value [A-Z]{3}", title)   # one currency, named in the header
    assert money_columns >= 5


def _totals(path: Path, sheet_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    sheet = pd.read_excel(path, sheet_name=sheet_name, dtype=object, engine="calamine")
    is_total = sheet.iloc[:, 0].astype(str).str.match(TOTAL.pattern)
    assert is_total.any(), f"{path.name}!{sheet_name} has no totals row"
    assert is_total[is_total].index.min() > is_total[~is_total].index.max()   # under the data
    return sheet[~is_total], sheet[is_total].set_index(sheet.columns[0])


def test_totals_rows_add_up_per_currency(english):
    ws, _ = english
    first = sorted((ws.root / "outbox").iterdir())[0]
    rows, totals = _totals(first / "orders.xlsx", "orders")
    assert sorted(totals.index) == ["Total JPY", "Total USD"]
    for currency in ("JPY", "USD"):
        mine = rows[rows["currency"] == currency]
        expected = sum((Decimal(str(v)) for v in mine["goods_value"].dropna()), Decimal(0))
        assert Decimal(str(totals.loc[f"Total {currency}", "goods_value"])) == expected
        assert totals.loc[f"Total {currency}", "currency"] == currency
    assert Decimal(str(totals.loc["Total USD", "goods_value"])) == Decimal("32.15")
    assert Decimal(str(totals.loc["Total JPY", "order_total"])) == Decimal("4800")
    stock, stock_totals = _totals(first / "stock.xlsx", "stock")
    assert stock_totals.loc["Total", "on_hand"] == stock["on_hand"].sum() == 27
    assert stock_totals.loc["Total", "allocated"] == stock["allocated"].sum()
    moves, move_totals = _totals(ws.last_outbox() / "stock.xlsx", "movements")
    assert move_totals.loc["Total", "delta"] == moves["delta"].sum() == -3     # U1 (2) and U2 (1) shipped


def test_chinese_headers_and_sheet_names_on_request(tmp_path):
    ws = Workspace(tmp_path / "ws")
    books = _full_run(ws, '\n[outputs]\nlanguage = "zh"\n')
    first = sorted((ws.root / "outbox").iterdir())[0]
    orders = openpyxl.load_workbook(first / "orders.xlsx")
    assert orders.sheetnames == ["订单", "订单明细", "异常", "文件"]
    header = [c.value for c in orders["订单"][1]]
    for chinese in ("店铺", "订单号", "付款时间", "币种", "货值", "订单金额", "跟踪号", "收件人"):
        assert chinese in header, header
    assert not [h for h in header if re.fullmatch(r"[a-z_ ]+", str(h))], header   # nothing left in English
    assert openpyxl.load_workbook(first / "stock.xlsx").sheetnames == ["库存", "待采购", "库存流水"]
    for path in books:
        for sheet, header, rows in _sheets(path):
            assert not re.fullmatch(r"[a-z _]+", sheet.title), f"{path.name}: sheet {sheet.title!r}"
            if rows and not path.name.startswith("booking-"):
                assert any(re.search(r"[\u4e00-\u9fff]", str(h)) for h in header), f"{path.name}!{sheet.title}"
    totals = [row[0].value for row in openpyxl.load_workbook(first / "orders.xlsx")["订单"].iter_rows(min_row=2)]
    assert "合计 USD" in totals
    # The decisions sheet in Chinese reads back as an action sheet: staff approve the held order.
    decisions = pd.read_excel(first / "decisions.xlsx", sheet_name="待处理决定", dtype=str,
                              engine="calamine").fillna("")
    decisions.loc[decisions["订单号"] == "H1", "操作"] = "cancel"
    decisions.to_excel(ws.root / "inbox" / "decisions.xlsx", index=False)
    ws.run()
    stage = ws.db().execute("SELECT stage FROM orders WHERE order_id = 'H1'").fetchone()[0]
    assert stage == "cancelled"


def test_english_stays_the_default(english):
    ws, _ = english
    first = sorted((ws.root / "outbox").iterdir())[0]
    assert openpyxl.load_workbook(first / "orders.xlsx").sheetnames == ["orders", "lines", "exceptions", "files"]
    assert openpyxl.load_workbook(first / "stock.xlsx").sheetnames == ["stock", "to buy", "movements"]


def test_a_totals_row_never_adds_amounts_of_different_currencies(tmp_path):
    from batchship.writers.columns import WorkbookStyle
    from batchship.writers.xlsx import write_workbook
    frame = pd.DataFrame({"order_id": ["A", "B", "C"], "quantity": [1, 2, 3],
                          "unit_price": ["1.10", "300", "2.25"], "currency": ["USD", "JPY", "USD"],
                          "declared_value": ["5", "6", "7"], "declared_currency": ["EUR", "USD", "USD"],
                          "paid_at": ["2026-11-01T16:30:00Z", "", "not a date"]})
    path = write_workbook(tmp_path / "t.xlsx", [("lines", frame)], style=WorkbookStyle(timezone="UTC"),
                          totals=("lines",))
    sheet = openpyxl.load_workbook(path)["lines"]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows["Total USD"][2].value == pytest.approx(3.35) and rows["Total USD"][1].value == 4
    assert rows["Total JPY"][2].value == 300 and rows["Total JPY"][2].number_format == "#,##0"
    assert rows["Total USD"][4].value is None                  # declared values are in other currencies
    assert rows["B"][2].number_format == "#,##0" and rows["A"][2].number_format == "#,##0.00"
    assert rows["A"][6].value == datetime(2026, 11, 1, 16, 30) and rows["A"][6].is_date
    assert rows["B"][6].value is None and rows["C"][6].value == "not a date"   # kept as text, never dropped


def test_quantities_and_numbers_held_as_text_are_written_as_numbers_and_blanks_as_empty_cells(tmp_path):
    """What the store keeps as text ("12", "12.50", "") is a number in the cell, or nothing; what is
    no number stays text."""
    from batchship.writers.columns import WorkbookStyle
    from batchship.writers.xlsx import write_workbook
    given = ["12", "12.50", "25.00", "", "-3", "007", "1,250", " 4 ", "many", None, 7]
    frame = pd.DataFrame({"order_id": [f"O{i}" for i in range(len(given))], "weight_g": given, "line_no": given,
                          "unit_price": given, "currency": ["USD"] * len(given)})
    path = write_workbook(tmp_path / "n.xlsx", [("lines", frame)], style=WorkbookStyle(timezone="UTC"))
    rows = list(openpyxl.load_workbook(path)["lines"].iter_rows(min_row=2, values_only=True))
    expected = [12, 12.5, 25, None, -3, 7, 1250, 4, "many", None, 7]
    for column in (1, 2, 3):        # a quantity, a number, an amount
        assert [r[column] for r in rows] == expected, column
    assert [type(r[1]) for r in rows[:3]] == [int, float, int]


@pytest.mark.parametrize("huge", ["1e400", "-2E+309", "1e999999999", "9" * 400])
def test_text_holding_a_number_no_cell_can_hold_is_written_as_text(tmp_path, huge):
    """A cell holds a double: an amount, quantity or number beyond it stays the text it is, and the
    workbook (and its totals row) is still written."""
    from batchship.writers.columns import WorkbookStyle
    from batchship.writers.xlsx import write_workbook
    frame = pd.DataFrame({"order_id": ["A", "B"], "weight_g": [huge, "200"], "line_no": [huge, "2"],
                          "unit_price": [huge, "1.50"], "currency": ["USD", "USD"]})
    path = write_workbook(tmp_path / "h.xlsx", [("lines", frame)], style=WorkbookStyle(timezone="UTC"),
                          totals=("lines",))
    rows = {r[0]: r for r in openpyxl.load_workbook(path)["lines"].iter_rows(min_row=2, values_only=True)}
    assert rows["A"][1:4] == (huge, huge, huge)
    assert rows["B"][1:4] == (200, 2, 1.5)
    assert rows["Total USD"][1] == 200 and rows["Total USD"][3] == 1.5
