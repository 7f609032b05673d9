"""A batch runs with the cyclic garbage collector set for it, and gives the settings back when it ends,
also when it fails: a watcher's process goes on collecting as Python does."""
from __future__ import annotations

import gc

import pytest

from batchship import pipeline
from batchship.collector import BATCH_THRESHOLDS
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row


@pytest.fixture
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*saved)


def _seen_during_the_batch(monkeypatch) -> list[tuple[int, int, int]]:
    seen = []
    checkpoint = pipeline.checkpoint

    def record(name: str) -> None:
        seen.append(gc.get_threshold())
        checkpoint(name)
    monkeypatch.setattr(pipeline, "checkpoint", record)
    return seen


def test_a_batch_collects_rarely_and_gives_the_settings_back(ws, monkeypatch, default_thresholds):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    seen = _seen_during_the_batch(monkeypatch)
    assert ws.run() == 0
    assert len(ws.orders()) == 1
    assert seen and set(seen) == {BATCH_THRESHOLDS}
    assert gc.get_threshold() == default_thresholds


def test_a_failed_batch_gives_the_settings_back(ws, monkeypatch, default_thresholds):
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    seen = _seen_during_the_batch(monkeypatch)

    def broken(*args, **kwargs):
        raise RuntimeError("a stage broke")
    monkeypatch.setattr(pipeline, "run_stages", broken)
    assert ws.run() != 0
    assert seen and set(seen) == {BATCH_THRESHOLDS}
    assert gc.get_threshold() == default_thresholds
