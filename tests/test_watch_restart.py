"""`batchship watch` started after a kill finishes the interrupted work before it waits for events."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from batchship.faults import ENV
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10

REPO = Path(__file__).resolve().parents[1]
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


def _batch(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "MUG", 20, "A-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 4)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("W1", "MUG", 2, "2026-11-01 10:00")])


def _env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra}


def _killed_run(root: Path, point: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(root)], cwd=REPO,
                          env=_env(**{ENV: point}), capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]


def _watch_until(root: Path, done, seconds: float = 90) -> list[str]:
    """Start `batchship watch`, create no file, and stop it once ``done()`` holds (or time runs out)."""
    proc = subprocess.Popen([sys.executable, "-m", "batchship.cli", "watch", "-w", str(root)], cwd=REPO,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + seconds
        # Done once the state holds and the batch has said so: a new run's summary ends with its
        # outputs line, a completed one's with "which had been interrupted".
        while time.monotonic() < deadline and not (done() and any(
                "outputs:" in line or "which had been interrupted" in line for line in seen)):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        reader.join(timeout=5)
    return seen


def _claimed(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".batchship" / "claimed").rglob("*") if p.is_file())


def _archived(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "archive").rglob("*") if p.is_file())


def _finished_runs(ws) -> list[tuple]:
    with ws.db() as db:
        return db.execute("SELECT finished_at != '' FROM runs").fetchall()


@pytest.mark.parametrize("point", ["claimed", "imported", "before-commit"])
def test_files_claimed_by_a_killed_run_are_processed_when_watch_starts(ws, point):
    _batch(ws)
    _killed_run(ws.root, point)
    assert _claimed(ws.root) == ["orders.csv", "pool.csv", "products.csv", "stock.csv"]

    output = _watch_until(ws.root, lambda: len(_archived(ws.root)) == 4)
    assert _archived(ws.root) == ["orders.csv", "pool.csv", "products.csv", "stock.csv"], "".join(output)
    assert _claimed(ws.root) == []
    assert any("files: 4 applied" in line for line in output), "".join(output)
    with ws.db() as db:
        assert db.execute("SELECT stage, stock_status FROM orders WHERE order_id = 'W1'").fetchone() == (
            "print", "in_stock")


@pytest.mark.parametrize("point", ["after-commit", "wrote-labels", "settled-file"])
def test_a_committed_run_a_kill_left_unfinished_is_completed_when_watch_starts(ws, point):
    _batch(ws)
    _killed_run(ws.root, point)
    assert _finished_runs(ws) == [(0,)]

    output = _watch_until(ws.root, lambda: _finished_runs(ws) == [(1,)])
    assert _finished_runs(ws) == [(1,)], "".join(output)
    assert any("which had been interrupted" in line for line in output), "".join(output)
    assert _claimed(ws.root) == [] and len(_archived(ws.root)) == 4
    out = next(p for p in (ws.root / "outbox").iterdir() if p.is_dir())
    assert {"orders.xlsx", "stock.xlsx", "picklist.pdf", "labels-YW.pdf"} <= {p.name for p in out.iterdir()}


def test_files_already_waiting_in_the_inbox_are_processed_when_watch_starts(ws):
    _batch(ws)
    old = time.time() - 3600         # dropped long before watch was started
    for path in (ws.root / "inbox").iterdir():
        os.utime(path, (old, old))
    output = _watch_until(ws.root, lambda: len(_archived(ws.root)) == 4)
    assert len(_archived(ws.root)) == 4, "".join(output)
