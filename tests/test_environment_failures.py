"""The machine failing under a run (disk full, read-only folder, database held by another
program): a plain message, exit code 4, nothing lost, and the next run finishes the work."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
BEFORE_COMMIT = ["claimed", "imported", "applied-stock", "stored-orders", "before-commit"]
AFTER_COMMIT = ["after-commit", "wrote-labels", "xlsx-written", "wrote-stock", "wrote-picklist",
                "wrote-errors-report", "settled-file", "before-finish"]


def _batch(ws, tag: str = "1") -> None:
    ws.drop(f"products-{tag}.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop(f"stock-{tag}.csv", STOCK_HEADER, [["SZ", "MUG", 50, "A-1"]])
    ws.drop(f"pool-{tag}.csv", ["channel", "tracking_number"], [["YW", s10(int(tag) * 10 + i)] for i in range(3)])
    ws.drop(f"orders-{tag}.csv", ORDER_HEADER, [order_row(f"A{tag}", "MUG", 2, "2026-11-01 10:00")])
    ws.drop(f"broken-{tag}.csv", ORDER_HEADER, [order_row(f"B{tag}", "MUG", -1, "2026-11-01 10:00")])


def _state(ws) -> dict:
    with ws.db() as db:
        return {
            "orders": sorted(db.execute("SELECT order_id, stage, tracking_number != '' FROM orders")),
            "ledger": sorted(db.execute("SELECT sku, SUM(delta) FROM ledger GROUP BY sku")),
            "unfinished": db.execute("SELECT COUNT(*) FROM runs WHERE finished_at = ''").fetchone()[0],
            "issued": db.execute("SELECT COUNT(*) FROM pool WHERE order_id != ''").fetchone()[0],
        }


def _settled_names(ws) -> dict:
    return {folder: sorted(p.name for p in (ws.root / folder).rglob("*") if p.is_file())
            for folder in ("inbox", "archive", "failed", ".batchship/claimed")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same batch with nothing going wrong."""
    from conftest import Workspace
    ws = Workspace(tmp_path_factory.mktemp("reference") / "ws")
    _batch(ws)
    assert ws.run() == 1
    return _state(ws), _settled_names(ws)


CASES = ([(p, "ENOSPC", "the disk is full") for p in BEFORE_COMMIT + AFTER_COMMIT]
         + [(p, "EROFS", "read-only") for p in ("claimed", "after-commit", "xlsx-written")]
         + [(p, "EACCES", "permission denied") for p in ("stored-orders", "wrote-labels")]
         + [("settled-file", "EIO", "input/output error")])


@pytest.mark.parametrize("point, errno_name, words", CASES, ids=[f"{c[1]}@{c[0]}" for c in CASES])
def test_a_machine_failure_exits_4_plainly_and_the_next_run_finishes_the_batch(ws, capsys, monkeypatch,
                                                                                 reference, point, errno_name,
                                                                                 words):
    _batch(ws)
    monkeypatch.setenv("BATCHSHIP_FAIL_AT", f"{point}:{errno_name}")
    assert ws.run() == 4
    err = capsys.readouterr().err
    assert words in err and "Nothing is lost" in err
    assert "Traceback" not in err
    # Nothing half-applied: either the batch is committed whole (and waits for its outputs) or not at all.
    with ws.db() as db:
        applied = db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    assert applied in (0, 1)

    monkeypatch.delenv("BATCHSHIP_FAIL_AT")
    assert ws.run() == 1, "the batch's rejected file is told by the run that finishes it"
    assert (_state(ws), _settled_names(ws)) == reference
    assert (ws.last_outbox() / "orders.xlsx").exists()


def test_a_database_held_by_another_program_exits_4_and_the_files_wait(ws, capsys):
    (ws.root / "batchship.toml").write_text(TEST_CONFIG + "\n[store]\nbusy_timeout_seconds = 0.3\n",
                                            encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    assert ws.run() == 0
    capsys.readouterr()
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 9, "A-1"]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("L-1", "MUG", 1, "2026-11-01 10:00")])
    holder = sqlite3.connect(ws.root / ".batchship" / "state.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")     # e.g. a database browser with an open write
    try:
        assert ws.run() == 4
        err = capsys.readouterr().err
        assert "locked by another program" in err and "Traceback" not in err
        assert sorted(p.name for p in (ws.root / ".batchship" / "claimed").iterdir()) == ["orders.csv", "stock.csv"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ws.run() == 0
    with ws.db() as db:
        assert db.execute("SELECT order_id FROM orders").fetchall() == [("L-1",)]
        assert db.execute("SELECT SUM(delta) FROM ledger WHERE sku = 'MUG'").fetchone() == (9,)
