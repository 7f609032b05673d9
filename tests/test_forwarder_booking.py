"""Channels that book with a forwarder over HTTP, against the forwarder simulator on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.faults import ENV
from batchship.forwarder_sim.runner import running_simulator
from batchship.s10 import s10_problem
from batchship.countries import ISO2_CODES
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

REPO = Path(__file__).resolve().parents[1]
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
CREDENTIALS = {"SIM_CUSTOMER_CODE": "C0001", "SIM_API_SECRET": "sim-secret"}


def booking_config(url: str, *, timeout: float = 5, retries: int = 2, concurrency: int = 16) -> str:
    channel = f'''[[channels]]
name = "YUN"
source = "api"
forwarder = "yunexpress"
product_code = "S1002"
credentials = {{ customer_code = "SIM_CUSTOMER_CODE", api_secret = "SIM_API_SECRET" }}
base_url = "{url}"
timeout_seconds = {timeout}
retries = {retries}
concurrency = {concurrency}

[[channels]]
name = "YW"'''
    return (TEST_CONFIG.replace('[[channels]]\nname = "YW"', channel, 1)
            .replace('[[logistics]]\nchannel = "YW"', '[[logistics]]\nchannel = "YUN"'))


@pytest.fixture
def sim():
    with running_simulator() as simulator:
        yield simulator


@pytest.fixture
def booking_ws(ws, sim, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    (ws.root / "batchship.toml").write_text(booking_config(sim.url), encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG"), product_row("TEE", grams=150)])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 5000, "A-1"], ["SZ", "TEE", 5000, "A-2"]])
    return ws


def _orders(n: int, start: int = 1) -> list[list]:
    rows = []
    for i in range(start, start + n):
        rows.append(order_row(f"B{i:04d}", "MUG", 1 + i % 3, f"2026-11-01 {8 + i % 10:02d}:{i % 60:02d}"))
        if i % 4 == 0:
            rows.append(order_row(f"B{i:04d}", "TEE", 1, f"2026-11-01 {8 + i % 10:02d}:{i % 60:02d}"))
    return rows


def _state(ws) -> dict[str, tuple]:
    with ws.db() as db:
        return {r[0]: r[1:] for r in db.execute("SELECT order_id, stage, tracking_number, failure_reason FROM orders")}


def _decoded_pages(pdf_path: Path) -> list[list[str]]:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [[r.text for r in zxingcpp.read_barcodes(pdf[i].render(scale=2).to_pil())] for i in range(len(pdf))]
    finally:
        pdf.close()


def _creates(sim) -> list[dict]:
    return [r for r in sim.log() if r["path"] == "/api/WayBill/CreateOrder"]


def test_a_batch_is_booked_and_the_forwarders_labels_are_the_pages_of_the_channel(booking_ws, sim):
    ws = booking_ws
    rows = _orders(12)
    # B0004 (two lines, one address) goes to Thailand without a postcode: Thai addresses need none by
    # the postal data review follows, but this forwarder wants one and refuses the parcel.
    for line in rows[3], rows[4]:
        line[ORDER_HEADER.index("postcode")], line[ORDER_HEADER.index("country")] = "", "TH"
    ws.drop("orders.csv", ORDER_HEADER, rows)
    assert ws.run() == 0
    state = _state(ws)
    assert state["B0004"][0] == "waybill"
    assert state["B0004"][2].startswith("waybill failed: the forwarder refused the postcode (E1001")
    booked = {oid: s[1] for oid, s in state.items() if oid != "B0004"}
    assert all(s[0] == "print" for oid, s in state.items() if oid != "B0004")
    assert len(set(booked.values())) == 11 and not any(s10_problem(t, ISO2_CODES) for t in booked.values())
    shipments = {s["ref"]: s["tracking"] for s in sim.shipments()}
    assert shipments == {f"shop-a/{oid}": t for oid, t in booked.items()}
    # The refused order was sent once: a 4xx is final.
    assert [r["status"] for r in _creates(sim) if r["ref"] == "shop-a/B0004"] == [400]

    pages = _decoded_pages(ws.last_outbox() / "labels-YUN.pdf")
    orders = ws.orders().set_index("order_id")
    printed = orders[orders["stage"] == "print"].sort_values(["paid_at", "shop"], kind="stable")
    assert [p[0] for p in pages] == printed["tracking_number"].tolist()
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    assert "B0004" in exceptions.loc[exceptions["event"] == "waybill failed", "order_id"].tolist()


def test_5xx_and_timeouts_are_retried_and_a_forwarder_that_stays_down_leaves_orders_waiting(booking_ws, sim):
    ws = booking_ws
    (ws.root / "batchship.toml").write_text(booking_config(sim.url, timeout=0.5, retries=2), encoding="utf-8")
    sim.behave(fail_5xx=3)
    ws.drop("orders-1.csv", ORDER_HEADER, _orders(4))
    assert ws.run() == 0
    assert all(s[0] == "print" for s in _state(ws).values())
    assert sum(r["status"] == 500 for r in _creates(sim)) == 3

    sim.behave(delay_seconds=2.0)       # past the 0.5 s timeout: every try times out
    ws.drop("orders-2.csv", ORDER_HEADER, _orders(3, start=100))
    assert ws.run() == 0
    later = {oid: s for oid, s in _state(ws).items() if oid >= "B0100"}
    assert all(s[0] == "waybill" and "waybill pending" in s[2] and "did not answer" in s[2] for s in later.values())

    sim.behave()                        # back up: the next cron run, with no new file, books them
    assert ws.run() == 0
    assert all(s[0] == "print" for s in _state(ws).values())
    refs = [s["ref"] for s in sim.shipments()]
    assert len(refs) == len(set(refs)) == 7, "one shipment per parcel, however often it was asked"


def test_lost_answers_and_dropped_connections_never_book_one_parcel_twice(booking_ws, sim):
    ws = booking_ws
    sim.behave(fail_5xx_after_create=4, drop=3)
    ws.drop("orders.csv", ORDER_HEADER, _orders(10))
    assert ws.run() == 0
    state = _state(ws)
    shipments = {s["ref"]: s["tracking"] for s in sim.shipments()}
    assert len(sim.shipments()) == 10
    assert shipments == {f"shop-a/{oid}": s[1] for oid, s in state.items()}


def test_a_forwarder_label_that_cannot_be_fetched_is_a_label_problem_not_a_crash(booking_ws, sim):
    ws = booking_ws
    sim.behave(label_404=True)
    ws.drop("orders.csv", ORDER_HEADER, _orders(3))
    assert ws.run() == 1        # labels nobody can print: cron must hear of it
    assert all(s[0] == "print" for s in _state(ws).values())
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    problems = exceptions[exceptions["event"] == "label problem"]
    assert len(problems) == 3 and problems["detail"].str.contains("could not be fetched").all()
    # Not printed: each waits on the decisions sheet for a reprint.
    decisions = pd.read_excel(ws.last_outbox() / "decisions.xlsx", dtype=str, engine="calamine")
    assert decisions["needs"].tolist() == ["label not printed"] * 3


def test_cancelling_a_booked_order_cancels_its_shipment_with_the_forwarder(booking_ws, sim):
    ws = booking_ws
    ws.drop("orders.csv", ORDER_HEADER, _orders(3))
    assert ws.run() == 0
    ws.drop("actions.csv", ["shop", "order_id", "action", "note"], [["shop-a", "B0002", "cancel", "buyer asked"]])
    assert ws.run() == 0
    status = {s["ref"]: s["status"] for s in sim.shipments()}
    assert status == {"shop-a/B0001": "created", "shop-a/B0002": "cancelled", "shop-a/B0003": "created"}

    sim.reset()                         # the forwarder forgot the parcel: its cancel fails, and says so
    ws.drop("actions-2.csv", ["shop", "order_id", "action", "note"], [["shop-a", "B0003", "cancel", ""]])
    assert ws.run() == 0
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    failed = exceptions[(exceptions["order_id"] == "B0003") & (exceptions["event"] == "exception")]
    assert failed["detail"].str.contains("failed").all() and len(failed) == 1

    # The decisions sheet asks a person: try the cancellation again, or let it be.
    decisions = pd.read_excel(ws.last_outbox() / "decisions.xlsx", dtype=str, engine="calamine").fillna("")
    row = decisions[decisions["order_id"] == "B0003"]
    assert row["needs"].tolist() == ["cancel failed"] and "did not cancel" in row["reason"].iloc[0]
    ws.drop("actions-3.csv", ["shop", "order_id", "action", "note"], [["shop-a", "B0003", "cancel", "try again"]])
    assert ws.run() == 0
    paths = [r["path"] for r in sim.log()]
    assert paths.count("/api/WayBill/Delete") == 2   # since the reset: B0003 twice
    ws.drop("actions-4.csv", ["shop", "order_id", "action", "note"], [["shop-a", "B0003", "忽略失败信息", ""]])
    assert ws.run() == 0
    decisions = pd.read_excel(ws.last_outbox() / "decisions.xlsx", dtype=str, engine="calamine").fillna("")
    assert "B0003" not in set(decisions["order_id"])
    with ws.db() as db:
        assert db.execute("SELECT state FROM bookings WHERE order_id = 'B0003'").fetchone() == ("cancel_ignored",)


def test_missing_credentials_stop_the_run_before_anything_is_taken(ws, sim, monkeypatch, capsys):
    (ws.root / "batchship.toml").write_text(booking_config(sim.url), encoding="utf-8")
    monkeypatch.delenv("SIM_API_SECRET", raising=False)
    monkeypatch.setenv("SIM_CUSTOMER_CODE", "C0001")
    ws.drop("orders.csv", ORDER_HEADER, _orders(1))
    assert ws.run() == 2
    err = capsys.readouterr().err
    assert "SIM_API_SECRET" in err and "not set" in err and "sim-secret" not in err
    assert (ws.root / "inbox" / "orders.csv").exists()


def _killed_run(root: Path, point: str) -> None:
    env = {**os.environ, ENV: point, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(root)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, f"not killed at {point}: {proc.stdout}{proc.stderr[-2000:]}"


@pytest.mark.parametrize("point", ["booking-intents", "booking-results", "booked", "wrote-carrier-labels"])
def test_a_run_killed_mid_booking_is_completed_with_one_shipment_per_parcel(booking_ws, sim, point):
    ws = booking_ws
    if point == "booking-results":
        sim.behave(fail_5xx_after_create=2)   # some answers lost too, before the kill
    ws.drop("orders.csv", ORDER_HEADER, _orders(60))     # more than one transaction of results
    _killed_run(ws.root, point)
    sim.behave()
    assert ws.run() == 0
    state = _state(ws)
    assert all(s[0] == "print" and s[1] for s in state.values()), state
    shipments = sim.shipments()
    assert len(shipments) == 60 and len({s["ref"] for s in shipments}) == 60
    assert {s["ref"]: s["tracking"] for s in shipments} == {f"shop-a/{oid}": s[1] for oid, s in state.items()}
    with ws.db() as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE finished_at = ''").fetchone() == (0,)
    outbox = sorted(p for p in (ws.root / "outbox").iterdir() if p.is_dir())
    pages = [t for run in outbox for page in _decoded_pages(run / "labels-YUN.pdf") for t in page]
    assert sorted(pages) == sorted(s[1] for s in state.values())


def test_a_thousand_parcels_book_concurrently_with_distinct_numbers_and_labels_that_decode(booking_ws, sim):
    ws = booking_ws
    (ws.root / "batchship.toml").write_text(booking_config(sim.url, concurrency=64), encoding="utf-8")
    ws.drop("orders.csv", ORDER_HEADER, [order_row(f"K{i:04d}", "MUG", 1, "2026-11-01 10:00")
                                         for i in range(1000)])
    assert ws.run() == 0
    state = _state(ws)
    numbers = [s[1] for s in state.values()]
    assert len(set(numbers)) == 1000 and not any(s10_problem(t, ISO2_CODES) for t in numbers)
    pages = _decoded_pages(ws.last_outbox() / "labels-YUN.pdf")
    orders = ws.orders().sort_values(["paid_at", "shop", "order_id"], kind="stable")
    assert [p[0] for p in pages] == orders["tracking_number"].tolist()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_channel_that_starts_booking_prints_its_waiting_labels_beside_the_forwarders(ws, sim, monkeypatch,
                                                                                      workers):
    """Parcels numbered from the pool before their channel booked with a forwarder get our labels, in
    the same file as the forwarder's pages of the parcels booked since, however the labels render."""
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", workers)
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "1")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    (ws.root / "batchship.toml").write_text(
        TEST_CONFIG.replace('[[channels]]\nname = "YW"', '[[channels]]\nname = "YUN"\n\n[[channels]]\nname = "YW"', 1)
        .replace('[[logistics]]\nchannel = "YW"', '[[logistics]]\nchannel = "YUN"'), encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 0, "A-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YUN", s10(i)] for i in range(1, 5)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row(f"W{i}", "MUG", 1, f"2026-11-01 0{i}:00:00") for i in (1, 2, 3)])
    ws.run()
    waiting = _state(ws)
    assert {oid: s[1] for oid, s in waiting.items()} == {"W1": s10(1), "W2": s10(2), "W3": s10(3)}

    (ws.root / "batchship.toml").write_text(booking_config(sim.url), encoding="utf-8")
    ws.drop("stock-in.csv", STOCK_HEADER, [["SZ", "MUG", 10, "A-1"]])
    ws.drop("orders-2.csv", ORDER_HEADER, [order_row(f"N{i}", "MUG", 1, f"2026-11-02 0{i}:00:00") for i in (1, 2)])
    assert ws.run() == 0
    state = _state(ws)
    booked = {s["ref"].split("/")[1]: s["tracking"] for s in sim.shipments()}
    assert sorted(booked) == ["N1", "N2"]
    assert {oid: s[1] for oid, s in state.items()} == {"W1": s10(1), "W2": s10(2), "W3": s10(3), **booked}
    pages = _decoded_pages(ws.last_outbox() / "labels-YUN.pdf")
    assert sorted(code for page in pages for code in page) == sorted([s10(1), s10(2), s10(3), *booked.values()])
    assert len(pages) == 5
