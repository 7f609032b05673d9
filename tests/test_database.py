"""The store's database: versioned migrations, `batchship db upgrade`, `batchship db copy` onto PostgreSQL."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from batchship.cli import main
from batchship.ledger_checks import allocated_within
from batchship.schema_version import HEAD, known_revisions
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
OLD_SCHEMA = Path(__file__).parent / "data" / "schema-before-migrations.sql"


def _day_one(ws: Workspace) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-01"], ["SZ", "B", 1, "B-01"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 6)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 3, "2026-11-01 08:00:00"),
                                         order_row("O2", "B", 2, "2026-11-01 09:00:00"),
                                         order_row("O3", "A", 1, "2026-11-01 10:00:00")])


def test_head_is_the_newest_migration():
    assert HEAD in known_revisions()
    assert max(known_revisions()) == HEAD


def test_copy_moves_a_workspace_onto_postgresql_and_work_goes_on_there(tmp_path, postgres_db, capsys):
    ws = Workspace(tmp_path / "ws")
    _day_one(ws)
    assert ws.run() == 0
    capsys.readouterr()
    assert main(["db", "copy", "--to", postgres_db, "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    counts = {line.split()[0]: line.split()[1:3] for line in out.splitlines() if line.startswith("  ")
              and len(line.split()) == 3 and line.split()[1].isdigit()}
    assert counts["orders"] == ["3", "3"] and counts["pool"] == ["5", "5"] and counts["ledger"] == ["2", "2"]
    assert "holds: on hand = sum of movements" in out
    assert "holds: every issued tracking number on exactly one order" in out
    assert "holds: stock identity" in out
    assert "holds: no SKU allocated beyond its stock" in out
    # A second copy onto the same database is refused: it is not empty any more.
    assert main(["db", "copy", "--to", postgres_db, "-w", str(ws.root)]) == 2
    assert "already holds data" in capsys.readouterr().err

    pg = Workspace(tmp_path / "site", postgres_db)   # the same store, from a workspace on the server
    o1 = ws.db().execute("SELECT tracking_number FROM orders WHERE order_id = 'O1'").fetchone()[0]
    pg.drop("scan.csv", ["tracking_number"], [[o1]])
    pg.drop("stock-2.csv", STOCK_HEADER, [["SZ", "B", 2, ""]])
    assert pg.run() == 0
    db = pg.db()
    assert db.execute("SELECT stage FROM orders WHERE order_id = 'O1'").fetchone() == ("shipped",)
    assert db.execute("SELECT stock_status FROM orders WHERE order_id = 'O2'").fetchone() == ("in_stock",)
    assert dict(db.execute("SELECT sku, SUM(delta) FROM ledger GROUP BY sku").fetchall()) == {"A": 2, "B": 2}
    # New movements follow the copied ones.
    assert [r[0] for r in db.execute("SELECT id FROM ledger ORDER BY id")] == [1, 2, 3, 4]
    assert pg.stock().loc[("SZ", "A"), ["on_hand", "allocated"]].tolist() == [2, 1]


def test_upgrade_adopts_a_workspace_made_before_versioned_migrations(tmp_path, capsys):
    ws = Workspace(tmp_path / "ws")
    path = ws.root / ".batchship" / "state.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA.read_text(encoding="utf-8"))
    # Numbers arrived Z first, then A: they are issued in that order, not alphabetically.
    db.executemany("INSERT INTO pool (tracking_number, channel) VALUES (?, 'YW')", [(s10(9),), (s10(3),)])
    # Stock counted and moved before: the upgrade sums each place's movements once.
    db.executemany("INSERT INTO stock_places (warehouse, sku, shelf) VALUES ('SZ', ?, ?)", [("A", "A-01"), ("B", "")])
    db.executemany("INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference) VALUES (?, 'SZ', ?, ?, ?, ?)",
                   [("20261001-080000", "A", 7, "count", "stock.csv"), ("20261002-080000", "A", -1, "adjustment", "adjust.csv"),
                    ("20261002-080000", "B", 3, "count", "stock.csv"), ("20261003-080000", "A", -2, "adjustment", "adjust-2.csv")])
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["db", "upgrade", "-w", str(ws.root)]) == 0
    assert f"schema none -> {HEAD}" in capsys.readouterr().out
    assert main(["db", "upgrade", "-w", str(ws.root)]) == 0
    assert "already at the current schema" in capsys.readouterr().out
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("O2", "A", 1, "2026-11-01 09:00:00")])
    assert ws.run() == 0
    issued = dict(ws.db().execute("SELECT order_id, tracking_number FROM orders").fetchall())
    assert issued == {"O1": s10(9), "O2": s10(3)}
    assert ws.stock()[["on_hand", "allocated"]].to_dict("index") == {
        ("SZ", "A"): {"on_hand": 4, "allocated": 2}, ("SZ", "B"): {"on_hand": 3, "allocated": 0}}
    assert "ledger checks: all 4 hold" in capsys.readouterr().out


def test_allocation_beyond_stock_is_named_with_its_place():
    on_hand = pd.DataFrame({"warehouse": ["SZ", "SZ"], "sku": ["A", "B"], "on_hand": [5, 2]})
    allocated = pd.DataFrame({"warehouse": ["SZ", "SZ", "SZ"], "sku": ["A", "B", "X"], "allocated": [6, 2, 9]})
    check = allocated_within(allocated, on_hand)
    assert not check.holds
    # X is not counted in stock, so not limited; B holds exactly what is there.
    assert [(d["sku"], d["expected"], d["actual"]) for d in check.differences] == [("A", 5, 6)]
    assert allocated_within(allocated.iloc[1:2], on_hand).holds


def test_large_upserts_on_postgresql_keep_the_last_row_of_each_key(postgres_db):
    """Batches of 1,000 rows and more go through COPY and one upsert: the result is the row-by-row one."""
    from batchship.schemas import Product
    from batchship.store import Store

    def products(n: int, name: str) -> pd.DataFrame:
        frame = pd.DataFrame({c: [""] * n for c in Product.columns})
        frame["sku"] = [f"P{i:04d}" for i in range(n)]
        frame["name"] = name
        frame["weight_g"] = range(n)
        frame["source_row"] = range(2, n + 2)
        return frame

    store = Store(postgres_db)
    try:
        first = products(1200, "first")
        again = pd.concat([first.iloc[:1].assign(name="repeated, later row wins"), products(2200, "second")
                           .iloc[1000:]], ignore_index=True)   # 1,201 rows: through COPY too
        with store.batch():
            store.upsert_products(first)
        with store.batch():
            store.upsert_products(pd.concat([again, again.iloc[:1].assign(name="last")], ignore_index=True))
        got = store.products().set_index("sku")
    finally:
        store.close()
    assert len(got) == 2200
    assert got.loc["P0000", "name"] == "last" and got.loc["P0999", "name"] == "first"
    assert got.loc["P1000", "name"] == "second" and got.loc["P2199", "weight_g"] == 2199


def test_committed_pages_reach_the_database_file_on_a_thread_before_the_store_closes(tmp_path):
    """copy_wal_meanwhile: the database file alone (without its write-ahead log) holds a committed
    batch once the thread is done, while the store is still open."""
    import shutil

    from batchship.store import Store
    path = tmp_path / "state.sqlite"
    store = Store(path)
    try:
        def places_in_the_file_alone() -> int:
            copy = tmp_path / f"alone-{len(list(tmp_path.iterdir()))}.sqlite"
            shutil.copyfile(path, copy)         # the file only: what the log holds is left behind
            db = sqlite3.connect(copy)
            try:
                return db.execute("SELECT COUNT(*) FROM stock_places").fetchone()[0]
            finally:
                db.close()
        with store.batch():
            store.set_shelves(pd.DataFrame({"warehouse": "SZ", "sku": [f"SKU-{i}" for i in range(50)], "shelf": "A-1"}))
        assert places_in_the_file_alone() == 0      # committed, but only in the log so far
        store.copy_wal_meanwhile()
        store._wal_copy.join(timeout=30)
        assert places_in_the_file_alone() == 50
    finally:
        store.close()
    assert not store._wal_copy.is_alive()


def _indexes(db, table: str) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                           "AND tbl_name = ? AND sql IS NOT NULL", (table,))}


def test_the_pool_and_events_read_by_index_and_keep_no_index_they_are_not_read_by(tmp_path):
    """Adding numbers finds the last arrival, drawing finds each channel's free numbers in arrival
    order, a batch's numbers are looked up by number and shipments by recent run: each through an
    index, whatever the history holds; and no other index is written for every number added or
    issued and every event recorded."""
    ws = Workspace(tmp_path / "ws")
    _day_one(ws)
    assert ws.run() == 0
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert _indexes(db, "pool") == {"pool_seq", "pool_free_arrival", "pool_issued_run"}
    assert _indexes(db, "events") == {"events_run"}

    def plan(sql: str) -> str:
        return " ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql))
    assert "INDEX pool_seq" in plan("SELECT COALESCE(MAX(seq), 0) FROM pool")
    assert "INDEX pool_free_arrival" in plan("SELECT channel, tracking_number FROM pool WHERE status = 'free' "
                                             "ORDER BY channel, seq")
    assert "TEMP B-TREE" not in plan("SELECT channel, tracking_number FROM pool WHERE status = 'free' "
                                     "ORDER BY channel, seq")
    assert "sqlite_autoindex_pool_1" in plan("SELECT tracking_number FROM pool WHERE tracking_number IN ('a', 'b')")
    assert "INDEX events_run" in plan("SELECT shop, order_id FROM events WHERE event || '' = 'shipped' AND run_id >= '2'")
    db.close()
    # Down to the revision before and up again: the indexes it had come back, then go again.
    from alembic import command
    from sqlalchemy import create_engine
    from batchship.schema_version import alembic_config
    engine = create_engine(f"sqlite:///{ws.root / '.batchship' / 'state.sqlite'}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        command.downgrade(alembic_config(connection), "0007")
        before = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
        assert _indexes(before, "pool") == {"pool_free", "pool_arrival", "pool_free_arrival", "pool_issued_run"}
        assert _indexes(before, "events") == {"events_run", "events_event"}
        before.close()
        command.upgrade(alembic_config(connection), "head")
    engine.dispose()
    assert ws.run() == 0
