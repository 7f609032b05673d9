"""A channel booked through a real Karrio server (see .ci/karrio-server); skipped without one."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.faults import ENV
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row
from karrio_fixture import karrio  # noqa: F401  (the fixture)

REPO = Path(__file__).resolve().parents[1]
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


@pytest.fixture
def karrio_ws(ws, karrio, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TEST_KARRIO_TOKEN", karrio.token)
    channel = f'''[[channels]]
name = "KAR"
source = "api"
forwarder = "karrio"
product_code = "standard_service"
credentials = {{ token = "TEST_KARRIO_TOKEN" }}
base_url = "{karrio.url}"
timeout_seconds = 10
concurrency = 4

[sender]
name = "Shenzhen Warehouse"
address = "1 Keji Road, Shenzhen 518000"
country = "CN"

[[channels]]
name = "YW"'''
    (ws.root / "batchship.toml").write_text(
        TEST_CONFIG.replace('[[channels]]\nname = "YW"', channel, 1)
        .replace('[[logistics]]\nchannel = "YW"', '[[logistics]]\nchannel = "KAR"'), encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 500, "A-1"]])
    ws.tag = uuid.uuid4().hex[:8]     # one Karrio server serves every test: references stay fresh
    return ws


def _api(karrio) -> httpx.Client:  # noqa: F811
    return httpx.Client(base_url=karrio.url, headers={"Authorization": f"Token {karrio.token}"}, timeout=30)


def _shipments_of(api: httpx.Client, reference: str) -> list[dict]:
    answer = api.get("/v1/shipments", params={"metadata_key": "batchship_reference", "metadata_value": reference})
    return answer.json()["results"]


def _state(ws) -> dict[str, tuple]:
    with ws.db() as db:
        return {r[0]: r[1:] for r in db.execute("SELECT order_id, stage, tracking_number FROM orders")}


def test_a_batch_books_its_karrio_channel_and_karrios_labels_are_its_pages(karrio_ws, karrio):  # noqa: F811
    ws = karrio_ws
    ids = [f"K{ws.tag}-{i}" for i in range(3)]
    ws.drop("orders.csv", ORDER_HEADER, [order_row(o, "MUG", 1, f"2026-11-01 0{i}:00") for i, o in enumerate(ids)])
    assert ws.run() == 0
    state = _state(ws)
    with _api(karrio) as api:
        for order_id in ids:
            (shipment,) = _shipments_of(api, f"shop-a/{order_id}")
            assert state[order_id] == ("print", shipment["tracking_number"].upper())
            assert shipment["status"] == "created"
    pdf = pdfium.PdfDocument(str(ws.last_outbox() / "labels-KAR.pdf"))
    assert len(pdf) == 3
    for page, order_id in zip(pdf, ids):    # packing order: oldest paid first
        codes = {r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())}
        # Karrio's generic carrier prints a ship-to postcode code and one from the tracking number's tail.
        assert "(421) 84062704" in codes and any(state[order_id][1][-6:].lower() in c.lower() for c in codes), codes


def test_a_cancelled_order_is_cancelled_in_karrio(karrio_ws, karrio):  # noqa: F811
    ws = karrio_ws
    order_id = f"C{ws.tag}"
    ws.drop("orders.csv", ORDER_HEADER, [order_row(order_id, "MUG", 1, "2026-11-01 08:00")])
    assert ws.run() == 0
    ws.drop("actions.csv", ["shop", "order_id", "action", "note"], [["shop-a", order_id, "cancel", "buyer asked"]])
    assert ws.run() == 0
    with _api(karrio) as api:
        assert [s["status"] for s in _shipments_of(api, f"shop-a/{order_id}")] == ["cancelled"]


@pytest.mark.parametrize("point", ["booking-intents", "booking-results"])
def test_a_run_killed_mid_booking_leaves_one_karrio_shipment_per_order(karrio_ws, karrio, point):  # noqa: F811
    ws = karrio_ws
    ids = [f"R{ws.tag}-{i:02d}" for i in range(55)]     # past the first transaction of fifty results
    ws.drop("orders.csv", ORDER_HEADER, [order_row(o, "MUG", 1, "2026-11-01 08:00") for o in ids])
    env = {**os.environ, ENV: point, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(ws.root)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert ws.run() == 0
    state = _state(ws)
    with _api(karrio) as api:
        for order_id in ids:
            shipments = _shipments_of(api, f"shop-a/{order_id}")
            assert len(shipments) == 1, (order_id, shipments)
            assert state[order_id] == ("print", shipments[0]["tracking_number"].upper())
