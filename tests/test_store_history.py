"""What a batch reads from the store costs what the batch holds, not what the history holds: counted
in SQLite's virtual-machine steps (never in seconds) on stores whose history differs fourfold."""
from __future__ import annotations

import pandas as pd
import pytest

from batchship.store import Store

SKUS = [f"SKU-{i:03d}" for i in range(50)]
RUN = "20250301-020000"


def _history(n: int):
    """n orders of one past run, one in ten cancelled and the others shipped, with their lines, ship
    movements, events and used numbers."""
    ids = range(n)
    shipped = pd.Series([i % 10 != 5 for i in ids])
    orders = pd.DataFrame({
        "shop": "shop-a", "order_id": [f"H{i:07d}" for i in ids], "platform": "batchship",
        "stage": shipped.map({True: "shipped", False: "cancelled"}), "channel": "YW", "warehouse": "SZ",
        "tracking_number": [f"LH{i:09d}CN" if s else "" for i, s in zip(ids, shipped)],
        "stock_status": "in_stock", "paid_at": "2025-03-01 10:00:00", "recipient_name": "Jane Doe",
        "address1": "1 Main St", "city": "Springfield", "postcode": "62704", "country": "US", "currency": "USD",
        "order_total": "12.90", "goods_value": "12.90", "printed": "yes", "printed_run": RUN,
        "source_file": "history.xlsx", "source_row": [2 + i for i in ids], "created_run": RUN, "updated_run": RUN})
    sku = [SKUS[i % len(SKUS)] for i in ids]
    lines = pd.DataFrame({"shop": "shop-a", "order_id": orders["order_id"], "line_no": 1, "item_id": "1",
                          "platform_sku": sku, "sku": sku, "quantity": 1, "platform_line": 1, "platform_quantity": 1,
                          "unit_price": "12.90", "source_file": "history.xlsx", "source_row": orders["source_row"]})
    ledger = pd.DataFrame({"run_id": RUN, "warehouse": "SZ", "sku": pd.Series(sku)[shipped], "delta": -1,
                           "cause": "ship", "reference": orders["order_id"][shipped]})
    events = pd.DataFrame({"run_id": RUN, "shop": "shop-a", "order_id": orders["order_id"],
                           "event": orders["stage"], "detail": ""})
    pool = pd.DataFrame({"tracking_number": orders["tracking_number"][shipped], "channel": "YW", "status": "issued",
                         "shop": "shop-a", "order_id": orders["order_id"][shipped], "issued_run": RUN})
    yield orders, lines, ledger, events, pool


def _store(path, history: int) -> Store:
    store = Store(path)
    store.load_history(_history(history))
    with store.batch():
        store.set_shelves(pd.DataFrame({"warehouse": "SZ", "sku": SKUS, "shelf": "A-01"}))
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


def test_what_a_run_reads_is_read_without_passing_the_history(stores):
    """A batch's lines, stock on hand, the free numbers, the ledger check's numbers of recent runs and
    the bookings a forwarder would not cancel."""
    wanted = pd.DataFrame({"shop": "shop-a", "order_id": [f"H{i:07d}" for i in range(0, 4_000, 200)]})
    reads = {"lines": lambda store: store.lines_of(wanted), "on hand": lambda store: store.on_hand(),
             "free numbers": lambda store: store.free_pool(),
             "numbers of recent runs": lambda store: store.tracking_differences(since="20261201-000000"),
             "failed cancellations": lambda store: store.cancel_failures()}
    cost = {}
    for n, store in stores.items():
        assert store.lines_of(wanted)["order_id"].tolist() == wanted["order_id"].tolist()
        assert len(store.free_pool()) == 20
        # Each SKU ships in n / 50 orders, but those whose orders are all cancelled (SKU-005 ...).
        on_hand = store.on_hand().set_index("sku")["on_hand"]
        assert (on_hand["SKU-000"], on_hand["SKU-005"], len(on_hand)) == (-n // 50, 0, 50)
        assert store.tracking_differences(since="20261201-000000").empty and store.cancel_failures().empty
        cost[n] = {name: _steps(store, lambda: read(store)) for name, read in reads.items()}
    for name in reads:
        # Four times the history: the same work, give or take the depth of an index.
        assert cost[20_000][name] <= cost[5_000][name] * 1.3 + 5, (name, cost)


def test_stock_sums_read_once_are_shared_until_stock_moves(tmp_path):
    store = _store(tmp_path / "state.sqlite", 2_000)
    try:
        with store.stock_read_once():
            # Read once beside the caller, on a connection of their own: the store's own sums nothing.
            assert _steps(store, store.on_hand) == _steps(store, store.ledger_place_totals) == 0
            on_hand = store.on_hand().set_index("sku")["on_hand"]
            assert on_hand["SKU-000"] == -40      # 2,000 orders over 50 SKUs; the cancelled ones are of others
            mine = store.on_hand()
            mine.loc[mine["sku"] == "SKU-000", "on_hand"] = 999        # a reader's copy, not the shared one
            assert store.on_hand().set_index("sku")["on_hand"]["SKU-000"] == -40
            with store.batch():
                store.add_movements(RUN, pd.DataFrame({"warehouse": "SZ", "sku": ["SKU-000"], "delta": [100],
                                                       "cause": "count", "reference": "recount", "source_file": "",
                                                       "source_row": [None]}))
            assert _steps(store, store.on_hand) > 0                    # stock moved: read again
            assert store.on_hand().set_index("sku")["on_hand"]["SKU-000"] == 60
            assert store.ledger_place_totals().set_index("sku")["total"]["SKU-000"] == 60
        assert _steps(store, store.on_hand) > 0                        # outside, every read sums
    finally:
        store.close()
