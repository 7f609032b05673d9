"""A run killed after its commit is completed by the next run, which says so and keeps its exit code."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import PRODUCT_HEADER, product_row


def _cli(ws, kill_at: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BATCHSHIP_KILL_AT"}
    if kill_at:
        env["BATCHSHIP_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(ws.root)],
                          env=env, capture_output=True, text=True, timeout=120)


def test_rerun_reports_the_interrupted_run_it_completed(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", "many", ""]])
    killed = _cli(ws, kill_at="after-commit")
    assert killed.returncode == -9
    assert not (ws.root / "failed" / "stock.csv").exists()          # outputs and moves were pending
    rerun = _cli(ws)
    assert rerun.returncode == 1                                     # the completed run had a rejected file
    assert "which had been interrupted: 1 applied, 1 rejected" in rerun.stdout
    assert (ws.root / "failed" / "stock.csv.errors.xlsx").exists()
    assert _cli(ws).returncode == 0                                  # reported once, not again
