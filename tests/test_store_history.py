"""What a batch reads from the store costs what the batch holds, not what the history holds: counted
in SQLite's virtual-machine steps (never in seconds) on stores whose history differs fourfold."""
from __future__ import annotations

import pandas as pd
import pytest

from batchship.store import Store

SKUS = [f"SKU-{i:03d}" for i in range(50)]
RUN = "20250301-020000"


def _history(n: int):
    """n shipped orders of one past run, with their lines, ship movements, events and used numbers."""
    ids = range(n)
    orders = pd.DataFrame({
        "shop": "shop-a", "order_id": [f"H{i:07d}" for i in ids], "platform": "batchship", "stage": "shipped",
        "channel": "YW", "warehouse": "SZ", "tracking_number": [f"LH{i:09d}CN" for i in ids],
        "stock_status": "in_stock", "paid_at": "2025-03-01 10:00:00", "recipient_name": "Jane Doe",
        "address1": "1 Main St", "city": "Springfield", "postcode": "62704", "country": "US", "currency": "USD",
        "order_total": "12.90", "goods_value": "12.90", "printed": "yes", "printed_run": RUN,
        "source_file": "history.xlsx", "source_row": [2 + i for i in ids], "created_run": RUN, "updated_run": RUN})
    sku = [SKUS[i % len(SKUS)] for i in ids]
    lines = pd.DataFrame({"shop": "shop-a", "order_id": orders["order_id"], "line_no": 1, "item_id": "1",
                          "platform_sku": sku, "sku": sku, "quantity": 1, "platform_line": 1, "platform_quantity": 1,
                          "unit_price": "12.90", "source_file": "history.xlsx", "source_row": orders["source_row"]})
    ledger = pd.DataFrame({"run_id": RUN, "warehouse": "SZ", "sku": sku, "delta": -1, "cause": "ship",
                           "reference": orders["order_id"]})
    events = pd.DataFrame({"run_id": RUN, "shop": "shop-a", "order_id": orders["order_id"], "event": "shipped",
                           "detail": ""})
    pool = pd.DataFrame({"tracking_number": orders["tracking_number"], "channel": "YW", "status": "issued",
                         "shop": "shop-a", "order_id": orders["order_id"], "issued_run": RUN})
    yield orders, lines, ledger, events, pool


def _store(path, history: int) -> Store:
    store = Store(path)
    store.load_history(_history(history))
    with store.batch():
        store.add_pool_numbers(pd.DataFrame({"channel": "YW", "tracking_number": [f"LN{i:09d}CN" for i in range(20)],
                                             "source_file": "pool.csv", "source_row": range(2, 22)}))
    return store


def _steps(store: Store, read) -> int:
    """SQLite virtual-machine steps (in hundreds) that ``read()`` takes."""
    raw = store.db.sa.connection.dbapi_connection
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0
    raw.set_progress_handler(count, 100)
    try:
        read()
    finally:
        raw.set_progress_handler(None, 100)
    return steps


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    made = {n: _store(folder / f"{n}.sqlite", n) for n in (5_000, 20_000)}
    yield made
    for store in made.values():
        store.close()


def test_a_batchs_lines_and_the_free_numbers_are_read_without_passing_the_history(stores):
    wanted = pd.DataFrame({"shop": "shop-a", "order_id": [f"H{i:07d}" for i in range(0, 4_000, 200)]})
    cost = {}
    for n, store in stores.items():
        lines = store.lines_of(wanted)
        assert lines["order_id"].tolist() == wanted["order_id"].tolist()
        assert len(store.free_pool()) == 20
        cost[n] = (_steps(store, lambda: store.lines_of(wanted)), _steps(store, store.free_pool))
    (lines_small, pool_small), (lines_large, pool_large) = cost[5_000], cost[20_000]
    # Four times the history: the same work, give or take the depth of an index.
    assert lines_large <= lines_small * 1.3 + 5, cost
    assert pool_large <= pool_small * 1.3 + 5, cost


def test_stock_sums_read_once_are_shared_until_stock_moves(tmp_path):
    store = _store(tmp_path / "state.sqlite", 2_000)
    try:
        with store.batch():
            store.set_shelves(pd.DataFrame({"warehouse": "SZ", "sku": SKUS, "shelf": "A-01"}))
        with store.stock_read_once():
            first = _steps(store, store.on_hand)
            assert _steps(store, store.on_hand) == 0 < first          # shared, not summed again
            on_hand = store.on_hand().set_index("sku")["on_hand"]
            assert on_hand["SKU-000"] == -40                           # 2,000 ship movements over 50 SKUs
            mine = store.on_hand()
            mine.loc[mine["sku"] == "SKU-000", "on_hand"] = 999        # a reader's copy, not the shared one
            assert store.on_hand().set_index("sku")["on_hand"]["SKU-000"] == -40
            with store.batch():
                store.add_movements(RUN, pd.DataFrame({"warehouse": "SZ", "sku": ["SKU-000"], "delta": [100],
                                                       "cause": "count", "reference": "recount", "source_file": "",
                                                       "source_row": [None]}))
            assert store.on_hand().set_index("sku")["on_hand"]["SKU-000"] == 60
            assert store.ledger_place_totals().set_index("sku")["total"]["SKU-000"] == 60
        assert _steps(store, store.on_hand) > 0                        # outside, every read sums
    finally:
        store.close()
