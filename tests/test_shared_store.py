"""Several sites on one PostgreSQL store: a lost connection, two runs at the same moment."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

import batchship.pipeline as pipeline
from batchship.store import Store
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10, write_csv

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
REPO = Path(__file__).resolve().parents[1]


def _terminate_other_sessions(url: str) -> None:
    """What a server restart or a dropped network does to a site: its session ends."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        engine.dispose()


def test_a_connection_lost_mid_batch_changes_nothing_and_the_next_run_applies_it(tmp_path, postgres_db, monkeypatch,
                                                                                 capsys):
    ws = Workspace(tmp_path / "ws", postgres_db)
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-01"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(1)], ["YW", s10(2)]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("O2", "A", 1, "2026-11-01 09:00:00")])
    real = pipeline.checkpoint

    def drop_connection_at(name: str) -> None:
        if name == "stored-orders":        # orders written, pool and events not yet, nothing committed
            _terminate_other_sessions(postgres_db)
        real(name)

    monkeypatch.setattr(pipeline, "checkpoint", drop_connection_at)
    assert ws.run() == 5
    err = capsys.readouterr().err
    assert "database connection lost, nothing changed; the next run retries" in err
    db = ws.db()
    for table in ("orders", "lines", "ledger", "files", "runs", "events"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table
    assert db.execute("SELECT COUNT(*) FROM pool WHERE status = 'free'").fetchone() == (0,)
    db.close()
    assert sorted(p.name for p in (ws.root / ".batchship" / "claimed").rglob("*.csv")) == [
        "orders.csv", "pool.csv", "products.csv", "stock.csv"]

    monkeypatch.setattr(pipeline, "checkpoint", real)
    assert ws.run() == 0
    db = ws.db()
    assert dict(db.execute("SELECT order_id, tracking_number FROM orders").fetchall()) == {"O1": s10(1), "O2": s10(2)}
    assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (4,)
    db.close()


def test_a_server_that_cannot_be_reached_is_said_plainly(tmp_path, capsys):
    ws = Workspace(tmp_path / "ws", "postgresql://nobody@127.0.0.1:1/none")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    assert ws.run() == 5
    assert "nothing changed; the next run retries" in capsys.readouterr().err
    assert (ws.root / "inbox" / "products.csv").exists() or any((ws.root / ".batchship" / "claimed").rglob("*.csv"))


def test_two_sites_running_at_once_share_one_pool_and_one_stock(tmp_path, postgres_db):
    """Two `batchship run` processes, two workspaces, one PostgreSQL database, started together.
    Orders want more units than are on hand and more numbers than the pool holds, so both sites
    draw on the same scarce numbers and stock. benchmarks/two_sites.py runs this scenario with
    10,000 orders per site (several minutes here, mostly label rendering); this test uses 150."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import two_sites
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    orders = 150
    sites = two_sites.prepare(tmp_path, postgres_db, orders)
    codes, _, errs = two_sites.run_both(sites)
    assert codes == [0, 0], errs
    results = two_sites.verify(postgres_db, orders)
    for name in ("on hand = sum of movements", "every issued tracking number on exactly one order",
                 "every shipped order deducted once", "no SKU allocated beyond its stock",
                 "every order in exactly one state", "each order's number issued to it in the pool"):
        assert results[name] is True, f"{name}:\n{results[name]}"
    # The pool (0.8 numbers per order) ran out and stock (3/4 of demand) ran short: both were contended.
    assert results["orders with a number"] == int(2 * orders * 0.8)
    assert 0 < results["orders in stock"] < results["orders with a number"]
    # Each site's run applied its own orders file once.
    store = Store(postgres_db)
    try:
        files = store.frame("SELECT name, COUNT(*) AS n FROM files GROUP BY name")
    finally:
        store.close()
    assert dict(zip(files["name"], files["n"])) == {"products.csv": 1, "stock.csv": 1, "pool.csv": 1,
                                                    "orders.csv": 2}


def test_the_same_file_at_two_sites_is_applied_once(tmp_path, postgres_db):
    """Both sites find the same stock count: the batch that commits second sees it applied and skips it."""
    sites = []
    for name in ("a", "b"):
        ws = Workspace(tmp_path / name, postgres_db)
        write_csv(ws.root / "inbox" / "stock.csv", STOCK_HEADER, [["SZ", "A", 7, "A-01"]])
        sites.append(ws)
    procs = [subprocess.Popen([sys.executable, "-m", "batchship.cli", "run", "-w", str(ws.root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for ws in sites]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    db = sites[0].db()
    assert db.execute("SELECT COUNT(*), SUM(delta) FROM ledger").fetchone() == (1, 7)
    assert db.execute("SELECT COUNT(*) FROM files").fetchone() == (1,)
    outcomes = sorted(r[0] for r in db.execute("SELECT outcome FROM run_files"))
    db.close()
    assert outcomes == ["applied", "duplicate"]
    assert sum("skipped as already applied" in out and "1 skipped" in out for out, _ in outs) == 1
