"""Two runs on one workspace at once (cron and watch, or two cron entries): one waits or leaves.

Runs are real ``python -m batchship.cli run`` processes; a lock holder process
stands in for a long run where the test needs it to last.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from batchship.cli import main
from conftest import ORDER_HEADER, Workspace, order_row
from test_crash_safety import REPO, STOCK_HEADER, build_batch_workspace, snapshot

HOLD_LOCK = """
import sys
from pathlib import Path
from batchship.workspace import Workspace, WorkspaceLock
with WorkspaceLock(Workspace(Path(sys.argv[1]))):
    print("locked", flush=True)
    sys.stdin.read()
"""


def _start_run(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "batchship.cli", "run", "-w", str(root), *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def _lock_held(root: Path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(root)], cwd=REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def _until_waiting_for_lock(run: subprocess.Popen, root: Path) -> None:
    """Until the run has opened the lock file (it then retries flock until it gets it)."""
    if not Path("/proc/self/fd").is_dir():     # no procfs: give the run time to get there
        time.sleep(3)
        return
    lock = str(root / ".batchship" / "lock")
    fds = Path(f"/proc/{run.pid}/fd")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == lock for fd in fds.iterdir()):
                return
        time.sleep(0.02)
    raise AssertionError("the second run never reached the lock")


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _quiet_run(root: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return main(["run", "-w", str(root)])


def test_second_run_while_one_works_exits_busy_and_changes_nothing(tmp_path):
    root = tmp_path / "ws"
    build_batch_workspace(root)
    before = _files(root)
    with _lock_held(root):
        second = _start_run(root)
        out, err = second.communicate(timeout=60)
        # Busy is its own exit code (75, try again later), not a usage error: cron can tell them apart.
        assert second.returncode == 75
        assert "another batchship run is working on this workspace" in err and "--wait" in err
        assert _files(root) == before


def test_waiting_run_starts_when_the_other_finishes(tmp_path):
    root = tmp_path / "ws"
    build_batch_workspace(root)
    reference = tmp_path / "reference"
    shutil.copytree(root, reference)
    _quiet_run(reference)
    before = _files(root)
    with _lock_held(root):
        waiting = _start_run(root, "--wait", "60")
        _until_waiting_for_lock(waiting, root)
        time.sleep(0.5)
        assert waiting.poll() is None, waiting.communicate()
        assert _files(root) == before
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 1, err           # the batch's malformed file is rejected: exit 1
    assert "rejected: bad-stock.csv" in out
    assert snapshot(root) == snapshot(reference)


def test_two_runs_started_together_are_serialised(tmp_path):
    root = tmp_path / "ws"
    build_batch_workspace(root)
    reference = tmp_path / "reference"
    shutil.copytree(root, reference)
    _quiet_run(reference)
    runs = [_start_run(root, "--wait", "60") for _ in range(2)]
    for run in runs:
        run.communicate(timeout=120)
    assert sorted(run.returncode for run in runs) == [0, 1]     # one took the batch, one found nothing
    assert snapshot(root) == snapshot(reference)
    db = sqlite3.connect(root / ".batchship" / "state.sqlite")
    spans = db.execute("SELECT started_at, finished_at FROM runs ORDER BY started_at, run_id").fetchall()
    db.close()
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), spans


def test_file_dropped_again_while_a_run_works_is_applied_once(tmp_path):
    """While a run works on orders.csv the same export is saved into the inbox again (same name)
    and downloaded a second time (another name); a new stock count arrives twice too."""
    root = tmp_path / "ws"
    ws = Workspace(root)
    orders = [order_row("O1", "A", 2, "2026-11-01 08:00:00"), order_row("O1", "B", 1, "2026-11-01 08:00:00"),
              order_row("O2", "A", 1, "2026-11-01 09:00:00")]
    count = [["SZ", "A", 7, "A-01"]]
    ws.drop("orders.csv", ORDER_HEADER, orders)
    first = _start_run(root)
    claimed = root / ".batchship" / "claimed" / "orders.csv"
    deadline = time.monotonic() + 60
    while not claimed.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert first.poll() is None, "the first run ended before the test could drop files"
    ws.drop("orders.csv", ORDER_HEADER, orders)
    ws.drop("orders (1).csv", ORDER_HEADER, orders)
    ws.drop("stock.csv", STOCK_HEADER, count)
    ws.drop("stock (1).csv", STOCK_HEADER, count)
    second = _start_run(root, "--wait", "60")
    first.communicate(timeout=60)
    out, err = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0), err

    db = sqlite3.connect(root / ".batchship" / "state.sqlite")
    try:
        assert db.execute("SELECT order_id, COUNT(*) FROM lines GROUP BY 1 ORDER BY 1").fetchall() == [
            ("O1", 2), ("O2", 1)]
        assert db.execute("SELECT COUNT(*), SUM(delta) FROM ledger").fetchone() == (1, 7)
        assert sorted(r[0] for r in db.execute("SELECT name FROM files")) == ["orders.csv", "stock (1).csv"]
        outcomes = dict(db.execute("SELECT name, outcome FROM run_files WHERE name != 'orders.csv' "
                                   "OR run_id = (SELECT MAX(run_id) FROM runs)"))
    finally:
        db.close()
    assert outcomes == {"orders.csv": "duplicate", "orders (1).csv": "duplicate",
                        "stock (1).csv": "applied", "stock.csv": "duplicate"}   # the first by name applies
    archived = sorted(p.name for p in (root / "archive").rglob("*.csv"))
    assert archived == ["orders (1).csv", "orders (2).csv", "orders.csv", "stock (1).csv", "stock.csv"]
    assert "2 skipped as already applied" not in out and "3 skipped as already applied" in out
    files_sheet = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="files", dtype=str, engine="calamine")
    assert sorted(files_sheet["outcome"]) == ["applied", "duplicate", "duplicate", "duplicate"]
