"""decisions.xlsx: the orders that wait for a person, with dropdowns; dropped back, each row applied once;
print state, reprint and mark printed."""
from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pypdfium2 as pdfium
import zxingcpp

from batchship.cli import main
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10
from test_actions import ACTION_HEADER


def _day_one(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 2, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("P1", "A", 2, "2026-11-01 08:00:00"),
        order_row("P2", "A", 2, "2026-11-01 09:00:00"),
        order_row("H1", "A", 1, "2026-11-01 10:00:00", postcode=""),
        order_row("H2", "A", 1, "2026-11-01 11:00:00", country="Atlantis"),
    ])
    assert ws.run() == 0


def _dropdown_of(sheet, cell: str) -> list[str]:
    """The choices of the list validation covering ``cell`` ([] when none does)."""
    for dv in sheet.data_validations.dataValidation:
        if dv.type == "list" and cell in dv.sqref:
            return dv.formula1.strip('"').split(",")
    return []


def _decisions(ws):
    path = ws.last_outbox() / "decisions.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["decisions"]
    header = [c.value for c in sheet[1]]
    rows = {sheet.cell(r, 2).value: r for r in range(2, sheet.max_row + 1)}
    return path, book, sheet, header, rows


def _barcodes(pdf_path) -> list[str]:
    found = []
    for page in pdfium.PdfDocument(str(pdf_path)):
        image = page.render(scale=203 / 72).to_pil()
        found += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]
    return found


def test_the_sheet_lists_who_waits_with_the_actions_allowed_and_applies_each_once(ws):
    _day_one(ws)
    path, book, sheet, header, rows = _decisions(ws)
    assert sorted(rows) == ["H1", "H2", "P2"]      # P1 printed: nobody needs to look at it
    needs = {oid: sheet.cell(r, header.index("needs") + 1).value for oid, r in rows.items()}
    assert needs == {"H1": "held", "H2": "held", "P2": "out of stock"}
    col = openpyxl.utils.get_column_letter(header.index("action") + 1)
    held_choices = _dropdown_of(sheet, f"{col}{rows['H1']}")
    assert held_choices[:2] == ["approve 审核通过", "release 释放"] and "cancel 取消" in held_choices
    assert "force in stock 移入有货" not in held_choices
    assert "force in stock 移入有货" in _dropdown_of(sheet, f"{col}{rows['P2']}")
    assert _dropdown_of(sheet, f"{col}1") == []    # not the header

    action = header.index("action") + 1
    sheet.cell(rows["H1"], action, "approve 审核通过")
    sheet.cell(rows["P2"], action, "移入有货")
    sheet.cell(rows["H2"], action, "approve")
    back = ws.root / "inbox" / "decisions.xlsx"
    book.save(back)
    assert ws.run() == 1      # H2's approval is refused: cron must see it
    results = pd.read_excel(ws.last_outbox() / "decisions-result.xlsx", dtype=str, engine="calamine").fillna("")
    assert results[["order_id", "action", "result"]].values.tolist() == [
        ["P2", "force in stock 移入有货", "applied"], ["H1", "approve 审核通过", "applied"],
        ["H2", "approve 审核通过", "refused"]]
    assert results.loc[2, "reason"].startswith("approve 审核通过: unknown country Atlantis")
    orders = ws.orders().set_index("order_id")
    assert (orders.loc["P2", "stage"], orders.loc["P2", "stock_status"]) == ("print", "in_stock")
    assert orders.loc["H1", "stage"] == "print" and orders.loc["H1", "stock_status"] == "out_of_stock"
    assert ws.db().execute("SELECT stage FROM orders WHERE order_id = 'H2'").fetchone() == ("hold",)
    # Forced in stock: the stock workbook shows what is promised beyond what is there.
    assert ws.stock().loc[("SZ", "A"), ["on_hand", "allocated", "available"]].tolist() == [2, 4, -2]
    assert _barcodes(ws.last_outbox() / "labels-YW.pdf") == [orders.loc["P2", "tracking_number"]]
    # The next sheet: H1 now waits for stock, H2 still held, P2 printed and gone from it.
    _, _, sheet2, header2, rows2 = _decisions(ws)
    assert sorted(rows2) == ["H1", "H2"]
    assert sheet2.cell(rows2["H1"], header2.index("needs") + 1).value == "out of stock"

    # The same sheet dropped again (saved anew, so not the same bytes): nothing changes.
    before = ws.db().execute("SELECT shop, order_id, stage, stock_status, tracking_number, printed "
                             "FROM orders ORDER BY order_id").fetchall()
    book.save(ws.root / "inbox" / "decisions-again.xlsx")
    assert ws.run() == 1
    results = pd.read_excel(ws.last_outbox() / "decisions-result.xlsx", dtype=str, engine="calamine").fillna("")
    assert results["result"].tolist() == ["refused", "refused", "refused"]
    assert "already applied" in results.loc[0, "reason"] and "已" not in results.loc[0, "action"]
    after = ws.db().execute("SELECT shop, order_id, stage, stock_status, tracking_number, printed "
                            "FROM orders ORDER BY order_id").fetchall()
    assert after == before


def test_each_waiting_order_lists_its_own_lines_in_order(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(s) for s in ("A", "B", "C")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 1, ""], ["SZ", "B", 0, ""], ["SZ", "C", 0, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("W1", "C", 3, "2026-11-01 08:00:00"), order_row("W1", "A", 2, "2026-11-01 08:00:00"),
        order_row("W2", "B", 1, "2026-11-01 09:00:00"),
        order_row("W2", "B", 1, "2026-11-01 09:00:00", shop="shop-b"),
        order_row("H1", "A", 1, "2026-11-01 10:00:00", postcode=""), order_row("H1", "B", 4, "2026-11-01 10:00:00",
                                                                           postcode=""),
    ])
    ws.run()
    _, _, sheet, header, _ = _decisions(ws)
    listed = {(sheet.cell(r, 1).value, sheet.cell(r, 2).value): sheet.cell(r, header.index("items") + 1).value
              for r in range(2, sheet.max_row + 1)}
    assert listed == {("shop-a", "W1"): "C × 3, A × 2", ("shop-a", "W2"): "B × 1", ("shop-b", "W2"): "B × 1",
                      ("shop-a", "H1"): "A × 1, B × 4"}


def test_a_refused_action_leaves_the_order_as_it_was(ws):
    _day_one(ws)
    before = ws.db().execute("SELECT * FROM orders WHERE order_id = 'P1'").fetchall()
    ws.drop("actions.csv", ACTION_HEADER + ["argument"], [
        ["shop-a", "P1", "change channel", "", "NOPE"],  # not a channel
        ["", "P1", "force in stock", "", ""],            # it is in stock already
    ])
    assert ws.run() == 1
    results = pd.read_excel(ws.last_outbox() / "decisions-result.xlsx", dtype=str, engine="calamine").fillna("")
    assert results["result"].tolist() == ["refused", "refused"]
    assert results.loc[0, "reason"].startswith("change channel 更换渠道: channel 'NOPE' is not declared")
    assert ws.db().execute("SELECT * FROM orders WHERE order_id = 'P1'").fetchall() == before


def test_reprint_gives_the_same_barcode_and_printed_state_survives_runs(ws, capsys):
    _day_one(ws)
    first = ws.last_outbox()
    p1 = ws.orders().set_index("order_id").loc["P1", "tracking_number"]
    assert _barcodes(first / "labels-YW.pdf") == [p1]
    assert ws.db().execute("SELECT printed FROM orders WHERE order_id = 'P1'").fetchone() == ("yes",)
    capsys.readouterr()
    main(["status", "-w", str(ws.root)])
    assert "in print: 1 printed (已打印), 1 not printed (未打印)" in capsys.readouterr().out

    ws.drop("actions.csv", ACTION_HEADER, [["", "P1", "重新打印", "label torn"]])
    ws.drop("orders-2.csv", ORDER_HEADER, [order_row("N1", "A", 1, "2026-11-02 08:00:00")])
    ws.drop("stock-2.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 10, ""]])
    assert ws.run() == 0
    out = ws.last_outbox()
    assert _barcodes(out / "reprint-YW.pdf") == _barcodes(first / "labels-YW.pdf") == [p1]
    # The normal labels of this run hold the newly printable orders only: P1 is not printed twice.
    orders = ws.orders().set_index("order_id")
    assert sorted(_barcodes(out / "labels-YW.pdf")) == sorted(orders.loc[["P2", "N1"], "tracking_number"])

    # Staff printed N2's label by hand: marked printed, it never comes out of the normal flow.
    ws.drop("orders-3.csv", ORDER_HEADER, [order_row("N2", "A", 1, "2026-11-03 08:00:00", postcode="")])
    assert ws.run() == 0
    ws.drop("actions-2.csv", ACTION_HEADER, [["", "N2", "approve", ""]])
    assert ws.run() == 0
    n2 = ws.db().execute("SELECT printed, tracking_number FROM orders WHERE order_id = 'N2'").fetchone()
    assert n2[0] == "yes" and _barcodes(ws.last_outbox() / "labels-YW.pdf") == [n2[1]]
    capsys.readouterr()
    main(["status", "-w", str(ws.root)])
    assert "in print: 4 printed (已打印), 0 not printed (未打印)" in capsys.readouterr().out
    shutil.rmtree(ws.root / "outbox")       # outputs are derived: the state is in the store
    ws.drop("actions-3.csv", ACTION_HEADER, [["", "N2", "mark printed", ""]])
    assert ws.run() == 1
    results = pd.read_excel(ws.last_outbox() / "decisions-result.xlsx", dtype=str, engine="calamine").fillna("")
    assert results.loc[0, "reason"] == "mark printed 标记已打印: order is already printed"


def test_the_orders_printing_now_are_left_off_and_an_older_unprinted_label_stays(any_ws):
    """The sheet is written while the run's labels print: the orders printing are left off it; an
    order whose label an earlier run could not print, a held one and one short of stock stay."""
    ws = any_ws
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 9, ""], ["SZ", "B", 0, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 12)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("X1", "A", 1, "2026-11-01 08:00:00", name="𓀀𓁐"),
                                         order_row("P1", "A", 1, "2026-11-01 09:00:00")])
    assert ws.run() == 1      # X1's label could not be printed: cron must see it
    ws.drop("orders-2.csv", ORDER_HEADER, [order_row(f"N{i}", "A", 1, f"2026-11-02 0{i}:00:00") for i in range(1, 4)]
            + [order_row("H1", "A", 1, "2026-11-02 05:00:00", postcode=""),
               order_row("S1", "B", 1, "2026-11-02 06:00:00")])
    assert ws.run() == 0
    decisions = pd.read_excel(ws.last_outbox() / "decisions.xlsx", dtype=str, engine="calamine")
    assert dict(zip(decisions["order_id"], decisions["needs"])) == {
        "X1": "label not printed", "H1": "held", "S1": "out of stock"}
    labels = ws.last_outbox() / "labels-YW.pdf"
    assert len(_barcodes(labels)) == 3      # N1 to N3 printed in this run, and none of them waits
