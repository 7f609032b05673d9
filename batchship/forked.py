"""Worker processes forked from the run, for work that can go on beside it (label parts, inbox
files read ahead).

Crash safety: the workers are forked, so they share the run's open workspace lock, and each asks
Linux to SIGKILL it when the run dies (PR_SET_PDEATHSIG): no worker outlives a killed run to race
its rerun. What they write goes to temporary names the run renames into place, or back to the run.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

from . import progress

_PR_SET_PDEATHSIG = 1


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def can_fork() -> bool:
    # A daemonic process (a multiprocessing pool's worker) may not start processes of its own.
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def forked_pool(workers: int, nice: int = 0) -> ProcessPoolExecutor:
    """``workers`` processes forked now, each dying with the run and reporting no progress;
    ``nice``: how much lower their priority is than the run's."""
    # Forked workers share the run's memory until they write to it; a garbage collection in a
    # worker would touch every object of the run (the order frames) and so copy it. Frozen
    # objects are left alone by the collector. A fork start method forks every worker at the
    # first submit, so the run's objects are frozen only while that happens.
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_start, initargs=(os.getpid(), nice))
        pool.submit(int).result()
    finally:
        gc.unfreeze()
    return pool


def _worker_start(parent: int, nice: int = 0) -> None:
    """In each worker: die with the run, leave progress to the run, and yield to it if asked."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:   # the run died before the line above took effect
        os._exit(1)
    progress.silence()
    if nice:
        os.nice(nice)
