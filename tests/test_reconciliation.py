"""reconciliation.xlsx and the ledger checks over several days of runs: every identity holds to the
unit, a tampered ledger is reported on the checks sheet and in the run summary, and a range of days
is the sum of its days."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from batchship.cli import main
from batchship.config import load_config
from batchship.pipeline import run_batch
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
RECEIPT_HEADER = ["warehouse", "sku", "quantity", "reference", "received_on"]
ADJUST_HEADER = ["warehouse", "sku", "quantity", "reason", "note"]
SHIP_HEADER = ["tracking_or_order_id"]
ACTION_HEADER = ["shop", "order_id", "action", "note"]
RATE_CARDS = """
[[rate_cards]]
channel = "YW"
currency = "CNY"
first_weight_g = 100
step_g = 100
per_parcel = "2.50"
zones = [{ name = "US", countries = ["US"], first = "30", additional = "10" },
         { name = "rest", first = "50", additional = "20" }]

[[rate_cards]]
channel = "SMALL"
currency = "CNY"
first_weight_g = 50
step_g = 50
zones = [{ name = "Europe", countries = ["GB", "DE"], first = "20", additional = "5" }]
"""
ALL_HOLD = "ledger checks: all 4 hold"
# Three days just past: a run's checks look at recent runs' orders (reconciliation.RECENT_DAYS).
DAYS = [(date.today() - timedelta(days=n)).isoformat() for n in (5, 4, 3)]


def _run_on(ws, day: str) -> dict:
    when = datetime.fromisoformat(f"{day} 10:00:00").astimezone()
    report = run_batch(ws.root, load_config(ws.root), now=when)
    assert report.run_id.startswith(day.replace("-", ""))
    return report.summary


def _sheet(path, name: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, engine="calamine")


@pytest.fixture
def three_days(ws):
    """Orders, a count, receipts, adjustments, a cancellation and shipments over three days."""
    (ws.root / "batchship.toml").write_text((ws.root / "batchship.toml").read_text() + RATE_CARDS)
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A", grams=200), product_row("B", grams=300)])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-1"], ["SZ", "B", 0, "B-1"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(n)] for n in range(1, 7)] + [["SMALL", s10(11)]])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("O1", "A", 2, "2026-10-31 08:00:00"), order_row("O2", "B", 1, "2026-10-31 09:00:00"),
        order_row("O3", "A", 1, "2026-10-31 10:00:00", country="GB", postcode="SW1A 1AA"),
        order_row("O4", "A", 1, "2026-10-31 11:00:00")])
    assert _run_on(ws, DAYS[0])["ledger_checks"] == ALL_HOLD

    ws.drop("receipt.csv", RECEIPT_HEADER, [["SZ", "B", 3, "PO-1", DAYS[1]]])
    ws.drop("adjust.csv", ADJUST_HEADER, [["SZ", "A", "-1", "damaged", ""]])
    ws.drop("actions.csv", ACTION_HEADER, [["shop-a", "O4", "cancel", "buyer asked"]])
    ws.drop("scan.csv", SHIP_HEADER, [["O1"], ["O3"]])
    assert _run_on(ws, DAYS[1])["ledger_checks"] == ALL_HOLD

    ws.drop("stock-2.csv", STOCK_HEADER, [["SZ", "A", 0, "A-1"]])
    ws.drop("scan-2.csv", SHIP_HEADER, [["O2"]])
    ws.drop("orders-2.csv", ORDER_HEADER, [order_row("O5", "B", 5, "2026-11-03 08:00:00")])
    assert _run_on(ws, DAYS[2])["ledger_checks"] == ALL_HOLD
    return ws


def test_every_identity_holds_to_the_unit_over_three_days(three_days):
    ws = three_days
    out = ws.root / "range.xlsx"
    assert main(["report", "-w", str(ws.root), "--from", DAYS[0], "--to", DAYS[2], "--out", str(out)]) == 0
    stock = _sheet(out, "Stock").set_index("sku")
    figures = ["opening", "received", "shipped", "adjustments", "counts", "closing"]
    assert stock.loc["A", figures].tolist() == [0, 0, 3, -1, 4, 0]
    assert stock.loc["B", figures].tolist() == [0, 3, 1, 0, 0, 2]
    checks = _sheet(out, "Checks")
    assert checks["holds"].tolist() == ["yes"] * 4

    movements = _sheet(out, "Movements")
    receipt = movements[movements["cause"] == "receipt"].iloc[0]
    assert (receipt["reference"], receipt["source_file"], receipt["source_row"], receipt["day"]) == (
        "PO-1", "receipt.csv", 2, pd.Timestamp(DAYS[1]))   # a date cell
    shipped = movements[movements["cause"] == "ship"]
    assert sorted(shipped["order"]) == ["shop-a/O1", "shop-a/O2", "shop-a/O3"]
    assert shipped["delta"].sum() == -4

    sales = _sheet(out, "Sales & shipments").set_index("order_id")
    assert sorted(sales.index) == ["O1", "O2", "O3"]        # O4 was cancelled, O5 waits for stock
    # 400 g to the US: 2.50 + 30 + 3 × 10; 300 g: 2.50 + 30 + 2 × 10; 200 g to GB by SMALL: 20 + 3 × 5.
    assert sales.loc[["O1", "O2", "O3"], "shipping_cost"].tolist() == [62.5, 52.5, 35.0]
    assert sales.loc[["O1", "O2", "O3"], "declared_value"].tolist() == [10.0, 5.0, 5.0]
    assert sales.loc[["O1", "O2", "O3"], "goods_value"].tolist() == [19.8, 9.9, 9.9]

    # The charts are native Excel charts over the Charts sheet's data.
    from openpyxl import load_workbook
    import zipfile
    names = zipfile.ZipFile(out).namelist()
    assert sum(n.startswith("xl/charts/chart") for n in names) == 2
    charts = _sheet(out, "Charts")
    assert charts["parcels YW"].dropna().tolist() == [1, 1] and charts["parcels SMALL"].dropna().tolist() == [1, 0]
    assert charts["out-of-stock orders"].dropna().astype(int).tolist() == [1, 0, 1]
    assert load_workbook(out)["Charts"]["A1"].value == "day"


def test_a_range_is_the_sum_of_its_days_figure_by_figure(three_days, tmp_path):
    ws = three_days
    days = DAYS
    paths = []
    for day in days + ["range"]:
        path = tmp_path / f"{day}.xlsx"
        first, last = (days[0], days[-1]) if day == "range" else (day, day)
        assert main(["report", "-w", str(ws.root), "--from", first, "--to", last, "--out", str(path)]) == 0
        paths.append(path)
    *daily, whole = paths
    key = ["warehouse", "sku"]
    per_day = [_sheet(p, "Stock").set_index(key) for p in daily]
    total = _sheet(whole, "Stock").set_index(key)
    flows = ["received", "shipped", "adjustments", "counts"]
    summed = sum(d[flows].reindex(total.index, fill_value=0) for d in per_day)
    assert (summed == total[flows]).all().all()
    assert (per_day[0]["opening"].reindex(total.index, fill_value=0) == total["opening"]).all()
    assert (per_day[-1]["closing"].reindex(total.index, fill_value=0) == total["closing"]).all()
    # each day opens where the one before closed
    for before, after in zip(per_day, per_day[1:]):
        assert (before["closing"].reindex(after.index, fill_value=0) == after["opening"]).all()

    for sheet, keys, sums in (("Sales totals", ["day", "shop", "currency", "declared_currency"],
                               ["orders", "goods_value", "declared_value"]),
                              ("Shipping totals", ["day", "channel", "cost_currency"],
                               ["parcels", "weight_g", "shipping_cost"])):
        # days are date cells; a day without rows reads back as an empty sheet of text columns
        stacked = pd.concat([_sheet(p, sheet) for p in daily], ignore_index=True)
        stacked["day"] = pd.to_datetime(stacked["day"])
        whole_sheet = _sheet(whole, sheet)
        whole_sheet["day"] = pd.to_datetime(whole_sheet["day"])
        assert len(whole_sheet) == len(stacked) > 0
        for column in sums:
            assert Decimal(str(round(stacked[column].sum(), 2))) == Decimal(str(round(whole_sheet[column].sum(), 2)))
        merged = stacked.merge(whole_sheet, on=keys, suffixes=("_day", "_range"))
        for column in sums:
            assert (merged[f"{column}_day"] == merged[f"{column}_range"]).all()
    assert sum(len(_sheet(p, "Movements")) for p in daily) == len(_sheet(whole, "Movements"))


def test_a_tampered_ledger_shows_on_the_checks_sheet_and_in_the_run_summary(three_days, capsys):
    ws = three_days
    db = ws.db()
    run = db.execute("SELECT MAX(run_id) FROM runs").fetchone()[0]
    # Two units of A booked by hand, a movement on a place no stock sheet knows, O2's deduction
    # deleted, and O3's tracking number changed by hand (the store refuses one number on two parcels).
    db.execute("INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference) "
               "VALUES (?, 'SZ', 'A', 2, 'manual', 'by hand')", (run,))
    db.execute("INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference) "
               "VALUES (?, 'SZ', 'GHOST', 4, 'count', 'x.csv')", (run,))
    db.execute("DELETE FROM ledger WHERE cause = 'ship' AND reference = 'shop-a/O2'")
    o3 = db.execute("SELECT tracking_number FROM orders WHERE order_id = 'O3'").fetchone()[0]
    assert o3
    db.execute("UPDATE orders SET tracking_number = 'HAND0001' WHERE order_id = 'O3'")
    db.commit()
    db.close()
    capsys.readouterr()

    ws.drop("products-2.csv", PRODUCT_HEADER, [product_row("C")])
    ws.run()
    said = capsys.readouterr().out
    assert "ledger checks: 4 of 4 DO NOT HOLD" in said
    checks = _sheet(ws.last_outbox() / "reconciliation.xlsx", "Checks")
    assert set(checks["holds"]) == {"NO"}
    identity = checks[checks["check"].str.startswith("stock identity")]
    assert identity[["sku", "difference"]].values.tolist() == [["A", 2]]
    # The kept on-hand figures moved with batchship's movements only: each edit by hand shows.
    on_hand = checks[checks["check"] == "on hand = sum of movements"]
    assert on_hand[["sku", "difference"]].values.tolist() == [["A", -2], ["B", -1], ["GHOST", -4]]
    assert on_hand.loc[on_hand["sku"] == "GHOST", ["expected", "actual"]].values.tolist() == [[4, 0]]
    shipped = checks[checks["check"] == "every shipped order deducted once"]
    assert shipped[["order", "sku", "expected", "actual"]].values.tolist() == [["shop-a/O2", "B", 1, 0]]
    tracking = checks[checks["check"] == "every issued tracking number on exactly one order"]
    assert o3 in set(tracking["tracking_number"])

    assert main(["status", "-w", str(ws.root)]) == 0
    assert "ledger checks: 4 of 4 DO NOT HOLD" in capsys.readouterr().out
    assert main(["report", "-w", str(ws.root), "--from", DAYS[0], "--to", DAYS[2]]) == 1

    # Taking the edited ledger as the record: on hand follows it, and only the place no stock
    # sheet knows is still off.
    stock_before = _sheet(ws.last_outbox() / "stock.xlsx", "stock").set_index("sku")["on_hand"]
    capsys.readouterr()
    assert main(["db", "resum", "-w", str(ws.root)]) == 0
    said = capsys.readouterr().out
    assert "on hand set to the sum of the ledger's movements at 3 places" in said
    assert [line.split()[1:] for line in said.splitlines()[2:]] == [
        ["A", str(stock_before["A"]), str(stock_before["A"] + 2)],
        ["B", str(stock_before["B"]), str(stock_before["B"] + 1)], ["GHOST", "0", "4"]]
    ws.drop("products-3.csv", PRODUCT_HEADER, [product_row("D")])
    ws.run()
    checks = _sheet(ws.last_outbox() / "reconciliation.xlsx", "Checks")
    on_hand = checks[checks["check"] == "on hand = sum of movements"]
    assert on_hand[["sku", "detail"]].values.tolist() == [["GHOST", "the ledger moves a place that is not a stock place"]]
    stock_after = _sheet(ws.last_outbox() / "stock.xlsx", "stock").set_index("sku")["on_hand"]
    assert (stock_after["A"], stock_after["B"]) == (stock_before["A"] + 2, stock_before["B"] + 1)
    assert main(["db", "resum", "-w", str(ws.root)]) == 0
    assert "already equals the sum of its movements" in capsys.readouterr().out


def test_a_rate_card_for_an_unknown_channel_or_with_a_bad_price_stops_the_run(ws, capsys):
    config = ws.root / "batchship.toml"
    base = config.read_text()
    config.write_text(base + RATE_CARDS.replace('channel = "SMALL"', 'channel = "NOPE"'))
    assert ws.run() == 2
    assert "rate card of channel 'NOPE': no such channel" in capsys.readouterr().err
    config.write_text(base + RATE_CARDS.replace('first = "30"', 'first = "thirty"'))
    assert ws.run() == 2
    assert "zone 'US': first must be an amount" in capsys.readouterr().err
