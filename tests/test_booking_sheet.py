"""Forwarders used through their web site: batchship writes their bulk booking sheet, and their
result sheet dropped into the inbox completes the waybill stage."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pypdfium2 as pdfium
import pytest
import zxingcpp

from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
SHEET_CHANNEL = '''[[channels]]
name = "WEB"
source = "sheet"
forwarder = "yunexpress"
product_code = "S1002"

[[channels]]
name = "YW"'''


@pytest.fixture
def sheet_ws(ws):
    (ws.root / "batchship.toml").write_text(
        TEST_CONFIG.replace('[[channels]]\nname = "YW"', SHEET_CHANNEL, 1)
        .replace('[[logistics]]\nchannel = "YW"', '[[logistics]]\nchannel = "WEB"'), encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE", grams=150)])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 50, "A-1"], ["SZ", "TEE", 50, "A-2"]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "MUG", 2, "2026-11-01 08:00"),
                                         order_row("O1", "TEE", 1, "2026-11-01 08:00"),
                                         order_row("O2", "MUG", 1, "2026-11-01 09:00"),
                                         order_row("O3", "TEE", 1, "2026-11-01 10:00")])
    assert ws.run() == 0
    return ws


def _result_sheet(ws, name: str, rows: list[list]) -> None:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["客户订单号", "跟踪号", "失败原因"])
    for row in rows:
        sheet.append(row)
    wb.save(ws.root / "inbox" / name)


def _state(ws) -> dict[str, tuple]:
    with ws.db() as db:
        return {r[0]: r[1:] for r in db.execute(
            "SELECT order_id, stage, stock_status, tracking_number, failure_reason FROM orders")}


def test_waiting_parcels_are_written_into_the_forwarders_booking_sheet(sheet_ws):
    sheet = pd.read_excel(sheet_ws.last_outbox() / "booking-WEB.xlsx", dtype=str, engine="calamine").fillna("")
    assert sheet["客户订单号"].tolist() == ["shop-a/O1", "shop-a/O1", "shop-a/O2", "shop-a/O3"]
    assert sheet["运输方式代码"].unique().tolist() == ["S1002"]
    assert sheet["SKU"].tolist() == ["MUG", "TEE", "MUG", "TEE"]
    assert sheet["申报数量"].tolist() == ["2", "1", "1", "1"]
    assert sheet.loc[0, "包裹重量(KG)"] == "0.55"          # 2 x 200 g + 150 g
    state = _state(sheet_ws)
    assert {s[0] for s in state.values()} == {"waybill"}
    assert all("waiting for the forwarder's result sheet" in s[3] for s in state.values())


def test_the_result_sheet_completes_the_waybill_stage_and_refusals_become_reasons(sheet_ws):
    _result_sheet(sheet_ws, "result.xlsx", [["shop-a/O1", s10(11), ""], ["shop-a/O2", s10(12), ""],
                                            ["shop-a/O3", "", "收件人地址不详"]])
    assert sheet_ws.run() == 0
    state = _state(sheet_ws)
    assert state["O1"][:3] == ("print", "in_stock", s10(11))
    assert state["O2"][:3] == ("print", "in_stock", s10(12))
    assert state["O3"][0] == "waybill" and state["O3"][3] == "waybill failed: 收件人地址不详"
    pdf = pdfium.PdfDocument(str(sheet_ws.last_outbox() / "labels-WEB.pdf"))
    decoded = [r.text for i in range(len(pdf)) for r in zxingcpp.read_barcodes(pdf[i].render(scale=2).to_pil())]
    assert decoded == [s10(11), s10(12)]
    assert not (sheet_ws.last_outbox() / "booking-WEB.xlsx").exists(), "nothing new to book in this run"


@pytest.mark.parametrize("bad_row, column, words", [
    (["shop-a/NOPE", s10(21), ""], "reference", "no booking sheet listed this reference"),
    (["shop-a/O2", s10(1), ""], "tracking_number", "already used by order shop-a/X1"),
    (["shop-a/O2", s10(11), ""], "tracking_number", "the same tracking number is given to two parcels"),
    (["shop-a/O2", "", ""], "tracking_number", "neither a tracking number nor the forwarder's reason"),
    (["shop-a/O2", "RR123456789CN", ""], "tracking_number", "S10 check digit"),
], ids=["unknown-reference", "number-in-use", "number-twice", "empty-answer", "bad-check-digit"])
def test_a_bad_result_sheet_is_rejected_whole(sheet_ws, bad_row, column, words):
    ws = sheet_ws
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)]])
    ws.drop("other.csv", ORDER_HEADER, [order_row("X1", "MUG", 1, "2026-11-01 07:00", country="GB",
                                                  postcode="SW1A 1AA")])
    with (ws.root / "batchship.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[logistics]]\ncountries = ["GB"]\nchannel = "YW"\nwarehouse = "SZ"\n')
    config = (ws.root / "batchship.toml").read_text()
    # GB orders go to the pool channel YW: the first matching rule wins, so put this rule first.
    (ws.root / "batchship.toml").write_text(
        config.replace('[[logistics]]\ncountries = ["GB"]\nchannel = "SMALL"', '[[logistics]]\ncountries = ["GB"]\nchannel = "YW"'),
        encoding="utf-8")
    assert ws.run() == 0
    assert _state(ws)["X1"][2] == s10(1)
    _result_sheet(ws, "result.xlsx", [["shop-a/O1", s10(11), ""], bad_row])
    assert ws.run() == 1
    report = ws.errors_report("result.xlsx")
    assert words in " ".join(report["problem"]) and column in report["column"].tolist()
    state = _state(ws)
    assert state["O1"][0] == "waybill" and state["O1"][2] == "", "nothing of a bad result sheet applies"

    _result_sheet(ws, "result-fixed.xlsx", [["shop-a/O1", s10(11), ""]])
    assert ws.run() == 0
    assert _state(ws)["O1"][:3] == ("print", "in_stock", s10(11))


def test_a_parcel_already_booked_cannot_be_booked_again_by_a_second_result_sheet(sheet_ws):
    _result_sheet(sheet_ws, "result.xlsx", [["shop-a/O1", s10(11), ""]])
    assert sheet_ws.run() == 0
    _result_sheet(sheet_ws, "result-again.xlsx", [["shop-a/O1", s10(31), ""]])
    assert sheet_ws.run() == 1
    assert "already booked, with " + s10(11) in sheet_ws.errors_report("result-again.xlsx")["problem"].iloc[0]
    assert _state(sheet_ws)["O1"][2] == s10(11)


def test_each_run_lists_only_the_parcels_not_yet_in_a_booking_sheet(sheet_ws):
    sheet_ws.drop("orders-2.csv", ORDER_HEADER, [order_row("O4", "MUG", 1, "2026-11-02 08:00")])
    assert sheet_ws.run() == 0
    sheet = pd.read_excel(sheet_ws.last_outbox() / "booking-WEB.xlsx", dtype=str, engine="calamine")
    assert sheet["客户订单号"].tolist() == ["shop-a/O4"]
