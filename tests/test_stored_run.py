"""What a run just stored, taken as reading it back gives it (StoredRun.of), equals what reading it
back gives (Store.run_frames without it): the outputs of a run and of its rerun after a kill are
made from the same frames, on SQLite and PostgreSQL."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from batchship.store import LINE_COLUMNS, ORDER_COLUMNS, Store, StoredRun

RUN = "20261207-010000"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = request.getfixturevalue("postgres_db") if request.param == "postgresql" else tmp_path / "state.sqlite"
    opened = Store(url)
    yield opened
    opened.close()


def _orders(keys: list[tuple[str, str]], **columns) -> pd.DataFrame:
    frame = pd.DataFrame({c: "" for c in ORDER_COLUMNS}, index=range(len(keys)))
    frame["shop"], frame["order_id"] = [k[0] for k in keys], [k[1] for k in keys]
    frame["stage"], frame["source_row"] = "print", range(2, 2 + len(keys))
    for name, values in columns.items():
        frame[name] = values
    return frame


def _lines(keys: list[tuple[str, str, int]], **columns) -> pd.DataFrame:
    frame = pd.DataFrame({c: "" for c in LINE_COLUMNS}, index=range(len(keys)))
    frame["shop"], frame["order_id"], frame["line_no"] = ([k[i] for k in keys] for i in range(3))
    frame["sku"], frame["quantity"], frame["source_row"] = "A", 1, 2
    frame["platform_line"], frame["platform_quantity"], frame["weight_g"] = 1, 1, 0
    for name, values in columns.items():
        frame[name] = values
    return frame


def _events(keys: list[tuple[str, str]], event: str, detail=None) -> pd.DataFrame:
    return pd.DataFrame({"shop": [k[0] for k in keys], "order_id": [k[1] for k in keys], "event": event,
                         "detail": detail if detail is not None else [f"{event} {k[1]}" for k in keys]})


def _same(ours: pd.DataFrame, read: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(ours, read, check_dtype=True, obj=what)
    for column in read.columns:     # 1 == 1.0 == True: the cells' types must agree too
        assert ours[column].map(type).tolist() == read[column].map(type).tolist(), (what, column)


def test_what_a_run_stored_equals_what_reading_it_back_gives(store):
    with store.batch():     # an earlier run: an order this run only refuses a scan of, and one it changes
        store.start_run("20261206-010000", "2026-12-06T01:00:00")
        store.upsert_orders(_orders([("shop-b", "Z9"), ("shop-a", "K1")], recipient_name="Before"))
        store.replace_lines(_lines([("shop-b", "Z9", 1), ("shop-b", "Z9", 2), ("shop-a", "K1", 1)]))
    # Keys out of order, some not ASCII (code point order: "B1" < "a1" < "Ä1" < "ß"); a key twice, the
    # last row winning; text columns holding numbers, decimals, None and NaN; integer columns holding
    # floats, numpy integers and gaps.
    keys = [("shop-a", "ß"), ("shop-a", "a1"), ("shop-a", "Ä1"), ("shop-a", "B1"), ("shop-a", "K1"),
            ("shop-a", "a1")]
    changed = _orders(keys, recipient_name=["Zoë", 7, None, np.nan, "Kai", "last a1"],
                      order_total=[Decimal("9.90"), 12.5, "3", np.int64(4), "", "1"],
                      source_row=[2.0, np.int64(3), None, np.nan, 6, 7])
    # K1 keeps the lines the earlier run stored; a line of an order the store does not hold is left out.
    lines = _lines([("shop-a", "ß", 1), ("shop-a", "a1", 2), ("shop-a", "a1", 1), ("shop-a", "Ä1", 1),
                    ("shop-a", "B1", 1), ("shop-a", "a1", 1), ("shop-x", "nobody", 1)],
                   quantity=[1, 2.0, 3, np.int64(4), 5, 6, 1], unit_price=[1.5, "2", None, Decimal("0.10"), "", "x", ""],
                   weight_g=[None, 20, 30.0, np.nan, 50, 60, 1])
    events = pd.concat([_events(keys[:5], "stage changed"), _events([("shop-x", "nobody")], "line dropped")])
    refused = pd.concat([_events([("shop-b", "Z9"), ("shop-c", "unknown")], "scan not applied", detail=["", 5])])
    stored = StoredRun.of([events, refused], changed, lines)
    with store.batch():
        store.start_run(RUN, "2026-12-07T01:00:00")
        store.upsert_orders(changed)
        store.replace_lines(lines[lines["shop"] != "shop-x"])
        store.record_events(RUN, events)
        store.record_events(RUN, refused.astype({"detail": str}))
    ours, read = store.run_frames(RUN, stored), store.run_frames(RUN)
    _same(ours.events, read.events, "events")
    _same(ours.orders, read.orders, "orders")
    _same(ours.lines, read.lines, "lines")
    # What the frames hold, not only that both ways agree.
    assert [(s, o) for s, o in zip(read.orders["shop"], read.orders["order_id"])] == [
        ("shop-a", "B1"), ("shop-a", "K1"), ("shop-a", "a1"), ("shop-a", "Ä1"), ("shop-a", "ß"), ("shop-b", "Z9")]
    by_order = read.orders.set_index("order_id")
    assert by_order.loc["a1", "recipient_name"] == "last a1" and by_order.loc["Z9", "recipient_name"] == "Before"
    assert by_order.loc["ß", "order_total"] == "9.90" and by_order.loc["Ä1", "source_row"] == 0
    assert list(zip(read.lines["order_id"], read.lines["line_no"], read.lines["quantity"])) == [
        ("B1", 1, 5), ("K1", 1, 1), ("a1", 1, 6), ("a1", 2, 2), ("Ä1", 1, 4), ("ß", 1, 1), ("Z9", 1, 1), ("Z9", 2, 1)]
    assert read.events["event"].tolist() == ["stage changed"] * 5 + ["line dropped"] + ["scan not applied"] * 2


def test_pool_numbers_keep_their_file_row_or_none_and_are_drawn_in_arrival_order(store):
    with store.batch():
        store.add_pool_numbers(pd.DataFrame({"channel": "YW", "tracking_number": ["LA1CN", "LA2CN"],
                                             "source_file": "a.csv", "source_row": [2, 3]}))
    with store.batch():
        # A number already known is kept as it was; a row number may be missing (NaN or None).
        store.add_pool_numbers(pd.DataFrame({"channel": ["YW", "EU", "EU", "EU"],
                                             "tracking_number": ["LA2CN", "LB1CN", "LB2CN", "LB3CN"],
                                             "source_file": "b.csv", "source_row": [7, np.nan, 9, None]}))
    rows = store.db.execute("SELECT tracking_number, channel, source_file, source_row, seq FROM pool "
                            "ORDER BY seq").fetchall()
    assert [tuple(r) for r in rows] == [("LA1CN", "YW", "a.csv", 2, 1), ("LA2CN", "YW", "a.csv", 3, 2),
                                        ("LB1CN", "EU", "b.csv", None, 4), ("LB2CN", "EU", "b.csv", 9, 5),
                                        ("LB3CN", "EU", "b.csv", None, 6)]
