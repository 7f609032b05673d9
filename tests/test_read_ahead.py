"""Inbox files read ahead on a worker forked from the run give the batch exactly what reading them
in the run gives: the same orders, the same rejections, and nothing stale when a file changed."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import batchship.pipeline as pipeline
import batchship.read_ahead as read_ahead
from batchship.errors import FileRejected, Problem
from batchship.importers import Imported
from batchship.read_ahead import ReadAhead
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10, without_totals

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]


def _batch(ws: Workspace) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 40, "A-01"], ["SZ", "B", 3, "B-01"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 60)])
    ws.drop("orders-a.csv", ORDER_HEADER, [order_row(f"A{i}", "A" if i % 3 else "B", 1 + i % 2,
                                                     f"2026-11-01 {8 + i % 9:02d}:{i:02d}:00") for i in range(30)])
    ws.drop("orders-b.csv", ORDER_HEADER, [order_row(f"B{i}", "A", 1, f"2026-11-02 08:{i:02d}:00", shop="shop-b")
                                           for i in range(20)])
    bad = [order_row("X1", "A", 1, "2026-11-01 08:00:00"), order_row("X2", "A", 1, "not a date")]
    ws.drop("orders-bad.csv", ORDER_HEADER, bad)


def _what_a_user_sees(ws: Workspace) -> dict:
    out = ws.last_outbox()
    orders = ws.orders().drop(columns=["source_file"], errors="ignore").sort_values(["shop", "order_id"])
    stock = without_totals(pd.read_excel(out / "stock.xlsx", sheet_name="stock", dtype=str, engine="calamine"))
    errors = sorted(p for p in (ws.root / "failed").rglob("*.errors.xlsx"))
    return {"orders": orders[["shop", "order_id", "stage", "stock_status", "tracking_number", "hold_reason"]]
            .values.tolist(),
            "stock": stock.values.tolist(),
            "rejected": [(p.name, pd.read_excel(p, dtype=str, engine="calamine").fillna("").values.tolist())
                         for p in errors]}


def test_a_batch_read_ahead_gives_what_reading_it_in_the_run_gives(tmp_path, monkeypatch):
    readers: list[tuple[int, str]] = []
    load_file = pipeline.load_file

    def noting_load_file(path, **kwargs):
        (tmp_path / "read-by").mkdir(exist_ok=True)
        (tmp_path / "read-by" / f"{os.getpid()}-{Path(path).name}").touch()
        return load_file(path, **kwargs)

    monkeypatch.setattr(pipeline, "load_file", noting_load_file)
    seen = {}
    for ahead, min_bytes in (("here", 1 << 40), ("ahead", 0)):
        monkeypatch.setattr(read_ahead, "MIN_BYTES", min_bytes)
        ws = Workspace(tmp_path / ahead)
        _batch(ws)
        assert ws.run() == 1           # orders-bad.csv is rejected
        seen[ahead] = _what_a_user_sees(ws)
        readers = [n.name.split("-", 1) for n in (tmp_path / "read-by").iterdir()]
        for note in (tmp_path / "read-by").iterdir():
            note.unlink()
        assert sorted(name for _, name in readers) == ["orders-a.csv", "orders-b.csv", "orders-bad.csv", "pool.csv",
                                                       "products.csv", "stock.csv"]     # each read once
        by_worker = [name for pid, name in readers if int(pid) != os.getpid()]
        assert bool(by_worker) == (ahead == "ahead")
    assert seen["ahead"] == seen["here"]
    assert len(seen["here"]["orders"]) == 50 and seen["here"]["rejected"][0][0] == "orders-bad.csv.errors.xlsx"
    assert "not a date" in str(seen["here"]["rejected"][0][1])


def _read_text(path: Path) -> Imported:
    text = path.read_text(encoding="utf-8")
    if text.startswith("bad"):
        raise FileRejected(path.name, [Problem("bad first word", row=1, column="text", value="bad")], "odd")
    if text.startswith("crash") and os.environ.get("READ_AHEAD_TEST_PARENT") != str(os.getpid()):
        raise RuntimeError("only the worker fails")
    return Imported("products", "text", pd.DataFrame({"text": [text], "pid": [os.getpid()]}))


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(read_ahead, "MIN_BYTES", 0)
    monkeypatch.setenv("READ_AHEAD_TEST_PARENT", str(os.getpid()))

    def make(**texts: str) -> list[Path]:
        paths = []
        for name, text in texts.items():
            paths.append(tmp_path / f"{name}.txt")
            paths[-1].write_text(text, encoding="utf-8")
        return paths
    return make


def test_a_file_changed_after_it_was_read_ahead_is_read_again(files):
    big, small = files(big="first version " * 100, small="small")
    with ReadAhead([big, small], _read_text) as ahead:
        big.write_text("second version", encoding="utf-8")
        os.utime(big, ns=(1, 1))
        assert ahead.load(big).frame["text"].tolist() == ["second version"]
        assert ahead.load(big).frame["pid"].tolist() == [os.getpid()]
        assert ahead.load(small).frame["text"].tolist() == ["small"]


def test_a_file_read_ahead_on_the_worker_comes_back_as_read_there(files):
    big, small = files(big="x" * 1000, small="small")
    with ReadAhead([big, small], _read_text) as ahead:
        imported = ahead.load(big)
    assert imported.frame["text"].tolist() == ["x" * 1000] and imported.frame["pid"].tolist() != [os.getpid()]


def test_a_rejection_read_ahead_is_the_same_rejection(files):
    big, small = files(big="bad " * 300, small="fine")
    with ReadAhead([big, small], _read_text) as ahead:
        with pytest.raises(FileRejected) as caught:
            ahead.load(big)
    assert caught.value.file == big.name and caught.value.code == "odd"
    assert [(p.problem, p.row, p.column, p.value) for p in caught.value.problems] == [
        ("bad first word", 1, "text", "bad")]


def test_a_worker_failure_other_than_a_rejection_means_reading_it_here(files):
    big, small = files(big="crash " * 300, small="fine")
    with ReadAhead([big, small], _read_text) as ahead:
        imported = ahead.load(big)
    assert imported.frame["pid"].tolist() == [os.getpid()]


@pytest.mark.parametrize("sizes, theirs", [((5_000_000, 3_000_000, 2_000_000), [0]),
                                            ((5_000_000, 1_000, 2_000_000, 4_000_000), [0, 1]),
                                            ((300_000, 200_000), []),
                                            ((9_000_000,), [])])
def test_the_worker_takes_the_largest_file_and_as_many_bytes_as_the_run(tmp_path, sizes, theirs):
    paths = []
    for n, size in enumerate(sizes):
        paths.append(tmp_path / f"f{n}.csv")
        with open(paths[-1], "wb") as f:
            f.truncate(size)
    worker, run = read_ahead._shares(paths)
    assert worker == [paths[i] for i in sorted(theirs, key=lambda i: -sizes[i])]
    if worker:
        assert sorted(worker + run) == sorted(paths)
