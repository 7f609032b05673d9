"""What `batchship` says and exits with: help for every option, --version, run --json/--quiet/--log-file,
one exit code per kind of outcome, progress on a terminal and nothing but the summary under cron."""
from __future__ import annotations

import argparse
import json
import os
import pty
import select
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pytest

from batchship.cli import build_parser, main
from batchship.workspace import Workspace as Folder, WorkspaceLock
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10, without_totals

REPO = Path(__file__).resolve().parents[1]


def _day(ws: Workspace, bad_orders: bool = False) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 5, "A-01"], ["SZ", "B", 0, "B-01"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    rows = [order_row("O1", "A", 1, "2026-11-01 08:00:00"), order_row("O2", "A", 2, "2026-11-01 09:00:00"),
            order_row("O3", "B", 1, "2026-11-01 10:00:00")]
    if bad_orders:
        rows[1][3] = "two"   # quantity: not a number, so the whole file is rejected
    ws.drop("orders.csv", ORDER_HEADER, rows)


def _cli(root: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """`batchship run` as cron starts it: no terminal on either stream."""
    return subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(root), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, **kwargs)


def _walk(parser: argparse.ArgumentParser, path: str = "batchship"):
    """(command path, action) of every argument of every command and sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", helps.get(name)
                yield from _walk(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_command_and_option_has_help():
    seen = list(_walk(build_parser()))
    commands = [(path, h) for path, h in seen if not isinstance(h, argparse.Action)]
    options = [(path, a) for path, a in seen if isinstance(a, argparse.Action)]
    assert {"batchship run", "batchship watch", "batchship rules check", "batchship forwarder-sim"} <= \
        {p for p, _ in commands}
    assert [p for p, h in commands if not (h or "").strip()] == []
    assert [f"{p} {a.option_strings or a.dest}" for p, a in options if not (a.help or "").strip()] == []
    assert len(options) > 30


def test_help_lists_every_exit_code(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for code in (0, 1, 2, 3, 4, 75, 130):
        assert f"\n  {code:>3}  " in out
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in (0, 1, 2, 3, 4, 75, 130):
        assert f"\n| {code} |" in readme


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"batchship {version('batchship')}"


# Which of the run's heavy libraries a command loaded, in a fresh interpreter.
LOADED = """
import sys
from batchship.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(code, sorted(m for m in ("pandas", "sqlalchemy", "fpdf", "xlsxwriter", "pypdfium2") if m in sys.modules))
"""


def _loaded(*args: str) -> tuple[int, list[str]]:
    out = subprocess.run([sys.executable, "-c", LOADED, *args], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True).stdout.strip().splitlines()[-1]
    code, _, modules = out.partition(" ")
    return int(code), eval(modules)


def test_version_help_and_usage_errors_start_without_the_runs_libraries():
    assert _loaded("--version") == (0, [])
    assert _loaded("run", "--help") == (0, [])
    assert _loaded("run", "--no-such-option") == (2, [])


def test_a_run_that_finds_nothing_does_without_the_writers(ws):
    assert _loaded("run", "-w", str(ws.root)) == (0, ["pandas", "sqlalchemy"])
    _day(ws)
    code, modules = _loaded("run", "-w", str(ws.root))
    assert code == 0 and {"fpdf", "xlsxwriter"} <= set(modules)
    assert any(ws.root.glob("outbox/*/labels-*.pdf"))


def test_run_json_counts_match_the_outputs(ws):
    _day(ws)
    proc = _cli(ws.root, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    assert report["exit_code"] == 0
    assert sorted(report["files"]["applied"]) == ["orders.csv", "pool.csv", "products.csv", "stock.csv"]
    assert report["files"]["rejected"] == [] and report["files"]["waiting"] == []
    outbox = ws.last_outbox()
    assert report["run_id"] == outbox.name
    orders = without_totals(pd.read_excel(outbox / "orders.xlsx", sheet_name="orders", dtype=str, engine="calamine"))
    assert report["orders_touched"] == len(orders) == 3
    per_stage = orders["stage"].value_counts().to_dict()
    assert {k: v for k, v in report["workspace_orders_per_stage"].items() if v} == per_stage
    # Labels: O1 and O2 are in stock (5 of A), O3 waits for B.
    in_stock = orders[(orders["stage"] == "print") & (orders["stock_status"] == "in_stock")]
    pages = len(pdfium.PdfDocument(outbox / "labels-YW.pdf"))
    assert report["labels"] == len(in_stock) == pages == 2
    assert report["exceptions"]["events"].get("out of stock") == 1
    assert {Path(p).name for p in report["outputs"]} >= {"orders.xlsx", "stock.xlsx", "labels-YW.pdf"}
    assert all((ws.root / p).is_file() for p in report["outputs"])
    assert report["output_problems"] == []
    checks = report["ledger_checks"]
    assert checks["holds"] and len(checks["checks"]) == 4 and all(c["differences"] == 0 for c in checks["checks"])
    assert {"import", "commit", "labels", "orders.xlsx"} <= set(report["timings"])
    assert all(isinstance(v, float) and v >= 0 for v in report["timings"].values())


def test_run_json_of_a_rejected_file_and_of_nothing_to_do(ws):
    _day(ws, bad_orders=True)
    report = json.loads(_cli(ws.root, "--json").stdout)
    assert report["exit_code"] == 1 and report["files"]["rejected"] == ["orders.csv"]
    assert report["error_reports"]["orders.csv"].endswith("orders.csv.errors.xlsx")
    again = _cli(ws.root, "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["run_id"] is None


def test_quiet_prints_nothing_and_still_runs(ws):
    _day(ws)
    proc = _cli(ws.root, "--quiet")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert len(ws.orders()) == 3


def test_log_file_records_the_steps_and_the_summary(ws, tmp_path):
    _day(ws)
    log = tmp_path / "logs" / "batchship.log"
    proc = _cli(ws.root, "--log-file", str(log))
    assert proc.returncode == 0
    text = log.read_text(encoding="utf-8")
    run_id = ws.last_outbox().name
    assert "read orders.csv: applied" in text and f"run {run_id} committed: 4 file(s) applied" in text
    assert "summary (exit 0)" in text and "labels written: 2" in text
    # The log grows: a second run appends.
    _cli(ws.root, "--log-file", str(log))
    assert log.read_text(encoding="utf-8").startswith(text) and "nothing to do" in log.read_text(encoding="utf-8")


def test_without_a_terminal_only_the_summary_is_printed(ws):
    _day(ws)
    proc = _cli(ws.root)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith(f"run {ws.last_outbox().name}\n")
    assert "labels written: 2" in proc.stdout and "\r" not in proc.stdout + proc.stderr


def test_on_a_terminal_progress_is_shown(ws):
    _day(ws)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "batchship.cli", "run", "-w", str(ws.root)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:   # the terminal closes with the process
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    shown = seen.decode("utf-8", "replace")
    assert "files read" in shown and "stages" in shown and "labels rendered" in shown
    assert "orders of this batch per stage:" in shown
    assert out.startswith("run ") and "labels written: 2" in out


def test_exit_code_per_kind_of_outcome(ws, tmp_path, capsys):
    _day(ws, bad_orders=True)
    assert ws.run() == 1                                   # a file rejected
    _day(ws)
    with WorkspaceLock(Folder(ws.root.resolve()), 0):
        assert ws.run() == 75                              # another run holds the workspace
    assert "another batchship run is working on this workspace" in capsys.readouterr().err
    assert ws.run() == 0                                   # the same files, once it is free
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "batchship.toml").write_text("[[shops]]\nname = 3\n", encoding="utf-8")
    assert main(["run", "-w", str(tmp_path / "bad")]) == 2   # configuration
    with pytest.raises(SystemExit) as stop:
        main(["run", "--no-such-option"])
    assert stop.value.code == 2                             # usage
    _day(ws)
    (ws.root / "inbox" / "orders.csv").unlink()
    proc = _cli(ws.root, env={**os.environ, "BATCHSHIP_FAIL_AT": "claimed:bug"})
    assert proc.returncode == 3 and "unexpected error" in proc.stderr   # a bug
    proc = _cli(ws.root, env={**os.environ, "BATCHSHIP_FAIL_AT": "claimed:ENOSPC"})
    assert proc.returncode == 4 and "the disk is full" in proc.stderr


def test_interrupted_run_exits_130_and_the_next_finishes_it(ws):
    _day(ws)
    for signal_name in ("SIGINT", "SIGTERM"):
        proc = _cli(ws.root, env={**os.environ, "BATCHSHIP_FAIL_AT": f"imported:{signal_name}"})
        assert proc.returncode == 130, proc.stderr
        assert "interrupted" in proc.stderr and "the next `batchship run` finishes" in proc.stderr
        assert not list((ws.root / "outbox").iterdir())
    proc = _cli(ws.root)
    assert proc.returncode == 0 and "files: 4 applied" in proc.stdout
