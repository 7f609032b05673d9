"""`batchship run` takes only files that have finished being written, and archives exactly
what it applied; files it cannot read are refused plainly instead of lying in the inbox."""
from __future__ import annotations

import hashlib
import os
import time

import pytest

import batchship.pipeline as pipeline
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, settled

# The shipped defaults: a file must be unchanged for 5 s and at least 2 s old.
DEFAULT_READINESS = TEST_CONFIG.replace("settle_seconds = 0\nmin_age_seconds = 0\n",
                                        "settle_seconds = 5\nmin_age_seconds = 2\n")
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


@pytest.fixture
def ready_ws(ws):
    (ws.root / "batchship.toml").write_text(DEFAULT_READINESS, encoding="utf-8")
    return ws


def _healthy(ws, tag: str = "1") -> None:
    ws.drop(f"products-{tag}.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop(f"stock-{tag}.csv", STOCK_HEADER, [["SZ", "MUG", 50, "A-1"]])
    ws.drop(f"orders-{tag}.csv", ORDER_HEADER, [order_row(f"H{tag}", "MUG", 1, "2026-11-01 10:00")])


def _order_ids(ws) -> set[str]:
    with ws.db() as db:
        return {r[0] for r in db.execute("SELECT order_id FROM orders")}


def _run(ws, capsys) -> tuple[int, str]:
    code = ws.run()
    return code, capsys.readouterr().out


def _fresh(path):
    now = time.time()
    os.utime(path, (now, now))


def _open_in_excel(path):
    path.with_name("~$" + path.name).write_bytes(b"lock")


def _open_in_libreoffice(path):
    path.with_name(".~lock." + path.name + "#").write_text("x,host,user;")


def _from_the_future(path):
    later = time.time() + 3600
    os.utime(path, (later, later))


def _unlock(path):
    for lock in (path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")):
        lock.unlink(missing_ok=True)


@pytest.mark.parametrize("make_unready, reason", [
    (_fresh, "may still be being copied"),
    (_open_in_excel, "open in Excel"),
    (_open_in_libreoffice, "open in Excel or LibreOffice"),
    (_from_the_future, "in the future"),
], ids=["just-written", "excel-lock", "libreoffice-lock", "future-mtime"])
def test_a_file_not_ready_is_left_for_the_next_run_and_named_in_the_summary(ready_ws, capsys, make_unready,
                                                                               reason):
    ws = ready_ws
    _healthy(ws)
    settled(ws.root / "inbox")
    late = ws.drop("late.csv", ORDER_HEADER, [order_row("LATE-1", "MUG", 2, "2026-11-01 11:00")])
    settled(late)
    make_unready(late)

    code, out = _run(ws, capsys)
    assert code == 0
    assert "left in inbox/ for the next run: late.csv" in out and reason in out
    assert late.exists(), "an unready file must stay where the user put it"
    assert _order_ids(ws) == {"H1"}
    assert not list((ws.root / "archive").rglob("late.csv"))

    # Still not ready: the next run again leaves it, and says so without an empty run.
    code, out = _run(ws, capsys)
    assert code == 0 and "nothing to do yet" in out and "late.csv" in out

    _unlock(late)
    settled(late)
    code, out = _run(ws, capsys)
    assert code == 0 and "left in inbox" not in out
    assert _order_ids(ws) == {"H1", "LATE-1"}
    assert list((ws.root / "archive").rglob("late.csv"))


def test_an_empty_file_waits_a_minute_before_it_is_refused(ready_ws, capsys):
    ws = ready_ws
    _healthy(ws)
    settled(ws.root / "inbox")
    empty = ws.root / "inbox" / "copying.xlsx"
    empty.write_bytes(b"")
    past = time.time() - 30      # older than the settle time, but a stalled copy may look like this
    os.utime(empty, (past, past))
    code, out = _run(ws, capsys)
    assert code == 0 and "copying.xlsx (it is empty" in out and empty.exists()

    settled(empty)
    code, out = _run(ws, capsys)
    assert code == 1 and "rejected: copying.xlsx" in out
    assert ws.errors_report("copying.xlsx")["problem"].tolist() == ["the file is empty"]


def test_a_file_that_grows_while_it_is_read_is_not_applied_and_waits(ws, capsys, monkeypatch):
    _healthy(ws)
    growing = ws.drop("growing.csv", ORDER_HEADER, [order_row("G-1", "MUG", 1, "2026-11-01 11:00")])
    real_load = pipeline.load_file

    def copier_still_writing(path, **kwargs):
        imported = real_load(path, **kwargs)
        if path.name == "growing.csv":   # the copier appends the rest after the claim renamed the file
            with open(path, "a", encoding="utf-8", newline="") as f:
                f.write(",".join(map(str, order_row("G-2", "MUG", 1, "2026-11-01 11:05"))) + "\r\n")
        return imported
    monkeypatch.setattr(pipeline, "load_file", copier_still_writing)
    code, out = _run(ws, capsys)
    assert code == 0
    assert "growing.csv (it changed while it was being read" in out
    assert growing.exists(), "the file goes back to the inbox"
    assert _order_ids(ws) == {"H1"}, "nothing of a file read while it changed is applied"

    monkeypatch.setattr(pipeline, "load_file", real_load)
    complete = growing.read_bytes()
    code, out = _run(ws, capsys)
    assert code == 0
    assert _order_ids(ws) == {"H1", "G-1", "G-2"}
    (archived,) = (ws.root / "archive").rglob("growing.csv")
    assert archived.read_bytes() == complete


def test_every_archived_file_is_byte_for_byte_what_was_applied(ws):
    _healthy(ws)
    _healthy(ws, "2")
    assert ws.run() == 0
    with ws.db() as db:
        applied = {r[0] for r in db.execute("SELECT sha256 FROM files")}
    archived = [p for p in (ws.root / "archive").rglob("*") if p.is_file()]
    assert len(archived) == 6
    assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in archived} == applied


def test_a_file_rewritten_after_its_batch_committed_goes_to_failed_not_to_the_archive(ws, capsys, monkeypatch):
    _healthy(ws)
    monkeypatch.setenv("BATCHSHIP_FAIL_AT", "after-commit:ENOSPC")
    assert ws.run() == 4
    capsys.readouterr()
    claimed = ws.root / ".batchship" / "claimed" / "orders-1.csv"
    with open(claimed, "a", encoding="utf-8", newline="") as f:   # a writer that still held it open
        f.write(",".join(map(str, order_row("LATE", "MUG", 1, "2026-11-01 11:05"))) + "\r\n")
    monkeypatch.delenv("BATCHSHIP_FAIL_AT")

    code, out = _run(ws, capsys)
    assert code == 0 and "completed run" in out
    assert "changed after it was read, not archived: orders-1.csv" in out
    assert _order_ids(ws) == {"H1"}, "what was read before the commit is applied, the later rows are not"
    assert not list((ws.root / "archive").rglob("orders-1.csv"))
    assert b"LATE" in (ws.root / "failed" / "orders-1.csv").read_bytes(), "the rewritten version is kept"
    problem = ws.errors_report("orders-1.csv")["problem"].iloc[0]
    assert "changed after run" in problem and "drop it again" in problem


# ---- files batchship does not read -----------------------------------------------------------------

UNSUPPORTED = {
    "orders.ods": (b"PK\x03\x04" + b"\0" * 40, "save it from its spreadsheet program"),
    "Stock.numbers": (b"PK\x03\x04" + b"\0" * 40, "save it from its spreadsheet program"),
    "exports.zip": (b"PK\x03\x04" + b"\0" * 40, "unpack the archive"),
    "scan.pdf": (b"%PDF-1.7\n", "reads sheets only"),
    "orders.json": (b'[{"order_id": "1"}]', "export the data"),
    "orders.xlsb": (b"PK\x03\x04" + b"\0" * 40, "save it from its spreadsheet program"),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_a_file_of_a_type_batchship_cannot_read_goes_to_failed_with_what_to_do(ws, capsys, name):
    content, advice = UNSUPPORTED[name]
    _healthy(ws)
    (ws.root / "inbox" / "shop-a").mkdir()
    (ws.root / "inbox" / "shop-a" / name).write_bytes(content)
    clutter = ["README", "8A3B2C00", "orders.csv~", "orders.xlsx.bak", "Thumbs.db"]
    for junk in clutter:
        (ws.root / "inbox" / junk).write_bytes(b"x")

    code, out = _run(ws, capsys)
    assert code == 1
    assert f"rejected: shop-a/{name}" in out
    assert (ws.root / "failed" / "shop-a" / name).read_bytes() == content
    problem = ws.errors_report(name)["problem"].tolist()
    assert len(problem) == 1 and advice in problem[0] and ".xlsx" in problem[0]
    assert _order_ids(ws) == {"H1"}
    assert sorted(p.name for p in (ws.root / "inbox").iterdir() if p.is_file()) == sorted(clutter)

    ws.drop("orders-next.csv", ORDER_HEADER, [order_row("N-1", "MUG", 1, "2026-11-02 10:00")])
    code, out = _run(ws, capsys)
    assert code == 0 and _order_ids(ws) == {"H1", "N-1"}
