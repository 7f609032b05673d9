"""Inbox files read ahead: when a batch brings several, the largest are read on a worker forked
from the run while the run reads the others, and the batch still takes them in name order.

Reading a file (importers.load_file: parse, map, validate; for a pool file, what it alone tells
against it) touches nothing but the file; what the store must say of it (a duplicate, pool numbers,
booking results) the run still asks, file by file.
A file read ahead is taken only if it is unchanged since (size and times): otherwise, and when
reading it failed for a reason other than the file being rejected, the run reads it again itself
when its turn comes, so what a file yields never depends on where it was read.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .errors import FileRejected
from .forked import can_fork, cores, forked_pool

# Below this, reading beside the run gains less than forking and sending the frames back cost.
MIN_BYTES = 1 << 20
log = logging.getLogger(__name__)
_FORKED_WITH: list[Callable[[Path], Any]] = []     # the reader, for the worker to call


def file_signature(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def file_sizes(paths: list[Path]) -> dict[Path, int]:
    """Each file's size; a file gone or unreadable is left out (the run reports it when its turn comes)."""
    sizes = {}
    for path in paths:
        try:
            sizes[path] = os.path.getsize(path)
        except OSError:
            continue
    return sizes


def unchanged_since(path: Path, signature: tuple[int, int, int]) -> bool:
    try:
        return file_signature(path) == signature
    except OSError:
        return False


class ReadAhead:
    """``load(path)`` gives what ``read(path)`` would, read ahead when it was worth it."""

    def __init__(self, paths: list[Path], read: Callable[[Path], Any]):
        self._read = read
        self._pool: ProcessPoolExecutor | None = None
        self._ahead: dict[Path, tuple[tuple[int, int, int], Future | tuple | None]] = {}
        self._paths = paths

    def __enter__(self) -> ReadAhead:
        theirs, ours = _shares(self._paths)
        if not theirs or cores() < 2 or not can_fork():
            return self
        _FORKED_WITH[:] = [self._read]
        try:
            self._pool = forked_pool(1)
        finally:
            _FORKED_WITH.clear()
        for path in theirs:
            self._ahead[path] = (file_signature(path), self._pool.submit(_read_in_worker, path))
        for path in ours:
            self._ahead[path] = (file_signature(path), _read_here(self._read, path))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._ahead = {}

    def load(self, path: Path) -> Any:
        signature, result = self._ahead.pop(path, (None, None))
        if isinstance(result, Future):
            try:
                result = result.result()
            except Exception:   # the worker died or could not send it: read here, as if never ahead
                log.warning("reading %s ahead failed; reading it again", path.name, exc_info=True)
                result = None
        if result is None or not unchanged_since(path, signature):
            return self._read(path)
        kind, value = result
        if kind == "rejected":
            raise FileRejected(*value)
        return value


def _shares(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(the worker's files, the run's): the largest first to the worker, then each to the side with
    fewer bytes so far; nothing for the worker unless it gets MIN_BYTES and the run has files too."""
    sizes = file_sizes(paths)
    theirs, ours, their_bytes, our_bytes = [], [], 0, 0
    for path in sorted(sizes, key=lambda p: -sizes[p]):
        if their_bytes <= our_bytes:
            theirs.append(path)
            their_bytes += sizes[path]
        else:
            ours.append(path)
            our_bytes += sizes[path]
    return (theirs, ours) if ours and their_bytes >= MIN_BYTES else ([], list(sizes))


def _read_here(read: Callable[[Path], Any], path: Path) -> tuple | None:
    """("imported", what ``read`` gave) or ("rejected", FileRejected's arguments); None for any other
    failure, which the run meets again when it reads the file itself."""
    try:
        return "imported", read(path)
    except FileRejected as exc:
        return "rejected", (exc.file, exc.problems, exc.code)
    except Exception:
        return None


def _read_in_worker(path: Path) -> tuple | None:
    return _read_here(_FORKED_WITH[0], path)
