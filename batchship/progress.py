"""Progress of a long run: files read, stages passed, labels rendered.

The library reports through ``advance(...)``/``note(...)``, which do nothing unless the caller
installed a reporter with ``reporting(...)``. The CLI installs tqdm bars on stderr when it is a
terminal; under cron (no terminal), with --quiet or --json it installs none, so only the summary
is printed. tqdm: a maintained, dependency-free progress meter (MPL-2.0/MIT, ~80 KB wheel).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, TextIO


class Reporter:
    """Does nothing: the default, and what batch code sees outside the CLI."""

    def advance(self, what: str, done: int = 1, total: int | None = None, label: str = "") -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


_current: ContextVar[Reporter] = ContextVar("batchship_progress", default=Reporter())


def advance(what: str, done: int = 1, total: int | None = None, label: str = "") -> None:
    """``done`` more of ``what`` (e.g. "labels rendered") out of ``total``; ``label`` the current item."""
    _current.get().advance(what, done, total, label)


def note(text: str) -> None:
    """A line worth showing between bars (e.g. orders per stage)."""
    _current.get().note(text)


def silence() -> None:
    """No progress from here on in this context (a worker process: the run reports for it)."""
    _current.set(Reporter())


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)
        reporter.close()


class TerminalProgress(Reporter):
    """One tqdm bar per kind of work, on ``stream`` (stderr), cleared when done."""

    def __init__(self, stream: TextIO):
        from tqdm import tqdm
        self._tqdm = tqdm
        self.stream = stream
        self.bars: dict[str, object] = {}
        self._lock = threading.Lock()     # the label joiner's thread counts labels beside the run

    def advance(self, what: str, done: int = 1, total: int | None = None, label: str = "") -> None:
        with self._lock:
            self._advance(what, done, total, label)

    def _advance(self, what: str, done: int, total: int | None, label: str) -> None:
        bar = self.bars.get(what)
        if bar is None:
            bar = self.bars[what] = self._tqdm(total=total, desc=what, file=self.stream, leave=False,
                                               unit="", mininterval=0.2, **self._size())
        elif total is not None and bar.total != total:
            bar.total = total
        if label:
            bar.set_postfix_str(label, refresh=False)
        bar.update(done)
        if bar.total is not None and bar.n >= bar.total:
            bar.close()
            del self.bars[what]

    def _size(self) -> dict[str, int]:
        # A terminal that does not tell its size (0 x 0) still gets bars: tqdm would hide them all.
        try:
            size = os.get_terminal_size(self.stream.fileno())
            return {"ncols": size.columns or 80, "nrows": size.lines or 24}
        except (OSError, ValueError, AttributeError):
            return {"ncols": 80, "nrows": 24}

    def note(self, text: str) -> None:
        self._tqdm.write(text, file=self.stream)

    def close(self) -> None:
        with self._lock:
            for bar in self.bars.values():
                bar.close()
            self.bars.clear()
