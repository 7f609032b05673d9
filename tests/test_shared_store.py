"""Several sites on one PostgreSQL store: a lost connection, two runs at the same moment."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

import batchship.pipeline as pipeline
from batchship.ledger_checks import checks
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
