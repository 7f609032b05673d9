"""Python's cyclic garbage collector set for the length of a batch.

A batch builds millions of small objects that live until its outputs are written: rows as tuples,
order keys, texts. At CPython's default thresholds (700, 10, 10) a collection starts every 700
allocations, and a full one, every few thousand collections, walks every object alive: on the
100,000-line benchmark, 11 full collections of 0.1-0.2 s each in the run's process, and as many in
each label worker. Here young objects are collected every 50,000 allocations (most reference cycles
die young, and each young object is still looked at once), and old ones almost never during the run.
Objects without cycles are freed by reference counting as they go, as always; the settings return
when the batch ends, so a long-lived watcher collects what one batch left.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLDS = (50_000, 20, 20)


@contextmanager
def batch_collector() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(*BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
