"""The reconciliation's stock figures per place, read from the store in pieces (place totals, what
later runs moved, the period's movements per cause), equal their definition over the raw ledger for
any period: opening is every movement before the period, closing every one before its end, and a
movement of no known cause shows as a gap in the identity, never disappears. Read once for a run's
outputs, on hand and the ledger's sums are what reading them each time gives, both of one moment.
On SQLite and, when a server is there, PostgreSQL."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from batchship.store import END_OF_TIME, Store
from postgres_fixture import create_database, drop_database

CAUSES = ["receipt", "ship", "adjustment", "count", "manual", "allocate?"]   # the last two: of no known cause
DAYS = [f"202611{d:02d}" for d in range(1, 11)]


def _ledger(seed: int = 5) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(1500):
        day = rng.choice(DAYS)
        cause = rng.choices(CAUSES, weights=[5, 8, 2, 2, 1, 1])[0]
        delta = rng.randint(1, 20) * (-1 if cause == "ship" else rng.choice((1, 1, -1)))
        rows.append((f"{day}-{rng.randint(0, 23):02d}0000", rng.choice(["SZ", "YW"]), f"S{rng.randint(1, 30)}",
                     delta, cause, f"ref-{i}"))
    # A place whose movements cancel out inside one day, and one moved only after every period here.
    rows += [("20261103-010000", "SZ", "ZERO", 5, "receipt", "z1"), ("20261103-020000", "SZ", "ZERO", -5, "adjustment", "z2"),
             ("20261215-010000", "SZ", "LATE", 7, "receipt", "late")]
    return pd.DataFrame(rows, columns=["run_id", "warehouse", "sku", "delta", "cause", "reference"])


def _expected(ledger: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    before_end = ledger[ledger["run_id"] < end]
    period = before_end[before_end["run_id"] >= start]
    places = before_end.groupby(["warehouse", "sku"])["delta"].sum().rename("closing").to_frame()
    places["opening"] = before_end[before_end["run_id"] < start].groupby(["warehouse", "sku"])["delta"].sum()
    for name, cause, sign in (("received", "receipt", 1), ("shipped", "ship", -1), ("adjustments", "adjustment", 1),
                              ("counts", "count", 1)):
        places[name] = period[period["cause"] == cause].groupby(["warehouse", "sku"])["delta"].sum() * sign
    places = places.fillna(0).astype("int64").reset_index()
    figures = ["opening", "received", "shipped", "adjustments", "counts", "closing"]
    moved = period.groupby(["warehouse", "sku"])["delta"].apply(lambda d: (d != 0).any())
    keep = (places[figures] != 0).any(axis=1) | places.set_index(["warehouse", "sku"]).index.isin(
        moved[moved].index)
    return places[keep][["warehouse", "sku", *figures]].sort_values(["warehouse", "sku"]).reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = create_database(server)
        request.addfinalizer(lambda: drop_database(server, url))
    store = Store(url)
    ledger = _ledger()
    with store.batch() as db:
        db.executemany("INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference) VALUES (?, ?, ?, ?, ?, ?)",
                       list(ledger.itertuples(index=False, name=None)))
    yield store, ledger
    store.close()


PERIODS = [("", END_OF_TIME), ("20261101", "20261102"), ("20261103", "20261104"), ("20261105", "20261108"),
           ("20261110", END_OF_TIME), ("", "20261106"), ("20261201", END_OF_TIME), ("20261101", "20261101")]


@pytest.mark.parametrize("start,end", PERIODS)
def test_stock_figures_are_their_definition_over_the_ledger(store, start, end):
    store, ledger = store
    got = store.stock_figures(start, end)
    want = _expected(ledger, start, end)
    assert got[["warehouse", "sku"]].astype(str).values.tolist() == want[["warehouse", "sku"]].values.tolist()
    for column in ["opening", "received", "shipped", "adjustments", "counts", "closing"]:
        assert got[column].tolist() == want[column].tolist(), column
    # Movements of no known cause in the period are exactly the identity's gap.
    unknown = ledger[(ledger["run_id"] >= start) & (ledger["run_id"] < end) & ~ledger["cause"].isin(CAUSES[:4])]
    gap = got["closing"] - (got["opening"] + got["received"] - got["shipped"] + got["adjustments"] + got["counts"])
    assert int(gap.sum()) == int(unknown["delta"].sum())
    if start <= "20261103" < end:
        assert "ZERO" in set(got["sku"])            # moved in the period though it ends where it began
    assert "LATE" not in set(got["sku"]) or end > "20261215"


def _receipt(sku: str, delta: int) -> pd.DataFrame:
    return pd.DataFrame({"warehouse": ["SZ"], "sku": [sku], "delta": [delta], "cause": ["receipt"],
                         "reference": [f"po-{sku}"], "source_file": ["receipts.xlsx"], "source_row": [2]})


def test_on_hand_and_the_ledger_sums_are_read_for_the_outputs_at_one_moment(store):
    """The ledger check compares each place's kept sum with its sum over the ledger. Read once for a
    run's outputs, both come from one moment, though another site's batch commits in between."""
    store, _ = store
    other = Store(store.url)
    try:
        with store.stock_read_once():
            sums = store.ledger_place_totals()
            with other.batch():
                other.set_shelves(pd.DataFrame({"warehouse": ["SZ"], "sku": ["NEW"], "shelf": ["N-01"]}))
                other.add_movements("20261130-000000", _receipt("NEW", 9))
            on_hand = store.on_hand()
            assert "NEW" not in set(on_hand["sku"]) and "NEW" not in set(sums["sku"])
            assert store.on_hand().equals(on_hand)           # and shared, not read again
        on_hand, sums = store.on_hand(), store.ledger_place_totals()
        assert on_hand.loc[on_hand["sku"] == "NEW", "on_hand"].tolist() == [9]
        assert sums.loc[sums["sku"] == "NEW", "total"].tolist() == [9]
    finally:
        other.close()


def test_stock_read_once_reads_what_reading_each_time_does(store):
    store, _ = store
    skus = ["S1", "S2", "Z9", "a1", "Ä1", "山田", "S10", "s1"]
    with store.batch():
        store.set_shelves(pd.DataFrame({"warehouse": ["YW", "SZ"] * 4, "sku": skus, "shelf": ["A-1", ""] * 4}))
        store.add_movements("20261130-000000", _receipt("山田", 3))
    with store.stock_read_once():
        once = store.on_hand(), store.ledger_place_totals()
    each = store.on_hand(), store.ledger_place_totals()
    assert once[0].equals(each[0])
    if not store.postgresql:     # SQLite orders text by code point, as Python does (a server's collation may not)
        assert list(zip(once[0]["warehouse"], once[0]["sku"])) == sorted(zip(["YW", "SZ"] * 4, skus))
    assert sorted(map(tuple, once[1].values.tolist())) == sorted(map(tuple, each[1].values.tolist()))
    assert once[1]["total"].dtype == each[1]["total"].dtype == "int64"


def test_stock_read_once_reads_on_the_stores_own_connection_when_its_own_fails(store, monkeypatch, caplog):
    store, ledger = store
    want = ledger.groupby(["warehouse", "sku"])["delta"].sum()

    def refuse(*args, **kwargs):
        raise OSError("no second connection to be had")

    monkeypatch.setattr("batchship.store.Connection", refuse)
    with store.stock_read_once():
        sums = store.ledger_place_totals()
        with store.batch():
            store.add_movements("20261130-000000", _receipt("S1", 4))
        after = store.ledger_place_totals()      # stock moved: read afresh
    assert dict(zip(zip(sums["warehouse"], sums["sku"]), sums["total"])) == want.to_dict()
    assert int(after.loc[(after["warehouse"] == "SZ") & (after["sku"] == "S1"), "total"].iloc[0]) == \
        int(want.get(("SZ", "S1"), 0)) + 4
    assert "reading ledger_place_totals beside the run failed" in caplog.text
