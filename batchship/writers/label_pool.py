"""Labels rendered on every core: the labels are cut into parts of consecutive labels, each part
rendered to its own PDF by a worker process, and the parts joined in order into the channel's file.

Only one-label-a-page sizes are split (on A4 sheets a continuation page takes the next place on the
sheet, so where a part starts would move labels). Counters still read "n / total". A file too small to
split (or of A4 sheets) still renders on a worker, whole, as one part renamed into place.

Where the workers come from: a large batch forks them ahead (``workers_ahead``), before the run
loads its data, and sends each part its labels (or what makes them) pickled. Forked from the run's
later, larger and fragmented heap, a worker copied some 100 MiB of pages it allocated into or read
from; forked ahead, it shares only the run's modules. Otherwise ``LabelJobs.start`` forks them with
every label file queued so far, and each worker slices its parts out of its own copy of the run.

A large batch's labels start before the run commits: ``LabelsAhead.add`` sets its workers rendering
the label files the run is about to make printable, from the frames it is about to store, into a
scratch folder. The outputs still make every label file from the store; a file whose labels prove
the same (``fingerprint``) takes the parts rendered ahead, and the others are rendered as before.
The workers run at a lower priority (``NICE``), forked ahead or not, so they take the core the run
leaves idle and not the run's own: the run's own outputs go on at full speed, and it waits for the
labels only at the end.

Crash safety: the workers are forked from the run and die with it (batchship/forked.py). Parts are
written as ``.<file>.partN.partial`` beside the file (parts rendered ahead: in the scratch folder)
and the join goes to a temporary name renamed into place, so a killed run leaves only temporary
files, which the rerun removes before rewriting the outputs (the scratch folder as it starts).

pypdfium2 joins the parts, on a thread of the run while the run writes its other outputs: a
maintained PDF library we already depend on, copying pages in C without holding Python's lock.

BATCHSHIP_LABEL_WORKERS (processes; 1 renders in the run's own process), BATCHSHIP_LABEL_PART
(labels per part) and BATCHSHIP_LABEL_AHEAD_BYTES (inbox bytes from which they are forked ahead)
override the defaults.
"""
from __future__ import annotations

import contextvars
import logging
import math
import os
import queue
import threading
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .. import progress
from ..faults import checkpoint, worker_checkpoint
from ..forked import can_fork, cores, forked_pool
from .pdfium_lock import PDFIUM

log = logging.getLogger(__name__)
# The labels of the files the workers were forked with: each worker slices its parts out of its own
# copy instead of unpickling them from a pipe (unpickling took a tenth of a label's rendering).
_FORKED_WITH: list[Sequence] = []

# A part's own PDF embeds its fonts again (about 0.1 CPU s), and in a run the workers share the core
# the run leaves them until its other outputs are written: more parts pay only when the labels outlast
# those. With 1,000 years-of-history orders plus 1,591 labels: 2.58-2.60 s a batch in four parts of
# 400, 2.33-2.35 s whole on one worker; 4,032 labels: 4.46-4.53 s in four parts, 4.10-4.20 s in two.
MIN_PART = 2_000
PARTS_PER_WORKER = 2     # two parts each, so a slow part (a busy core) does not leave the other idle long
# A part's pages stay in its worker's memory until its file is written: 7,000 labels held about 110 MiB
# per worker, 2,500 about 40 MiB, for 3-7% more time a label (its fonts embedded in more files).
MAX_PART = 2_500
# Inbox files from which a batch's label workers are forked before the run loads them: some 5,000
# order lines, where a batch's labels render in parts. A batch that proves to print fewer labels
# leaves two idle workers, forked when the run was small: a few MiB and milliseconds.
AHEAD_BYTES = 1 << 20
# Label workers yield the cores to the run: rendering must not slow the run's own steps.
NICE = 10


def label_workers() -> int:
    """Processes to render labels on: BATCHSHIP_LABEL_WORKERS, else the cores this process may use."""
    wanted = os.environ.get("BATCHSHIP_LABEL_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return cores()


def workers_ahead(batch_bytes: int, scratch: Path | None = None) -> LabelsAhead | None:
    """Label workers forked now, for a batch of ``batch_bytes`` of inbox files large enough that its
    labels will likely render in parts; None for a smaller one, or where there is one core. The
    caller hands them to ``LabelJobs`` or shuts them down. ``scratch``: where they may render label
    files ahead (``LabelsAhead.add``)."""
    workers = label_workers()
    wanted = os.environ.get("BATCHSHIP_LABEL_AHEAD_BYTES", "")
    if batch_bytes < (int(wanted) if wanted.isdigit() else AHEAD_BYTES) or workers < 2 or not can_fork():
        return None
    from . import labels  # noqa: F401  what the workers render with, imported once here and not by each
    return LabelsAhead(forked_pool(workers, nice=NICE), scratch)


class LabelsAhead:
    """Label workers forked ahead, and the label files they were set rendering before the run's
    outputs asked for them: ``LabelJobs`` takes those whose labels prove the same."""

    def __init__(self, pool: ProcessPoolExecutor, scratch: Path | None) -> None:
        self.pool = pool
        self._scratch = scratch
        self._files: dict[Path, tuple[tuple, bytes, list, list[Path]]] = {}
        self._left: list[Path] = []         # part files of files no one took, removed by shutdown

    def add(self, labels, path: Path, parts: list[tuple[int, int]], *, size: str, cjk_font: str,
            cut_marks: bool) -> None:
        """Set the workers rendering the file ``path`` will be if it is made of the same ``labels``
        (a sequence with a ``fingerprint``)."""
        if self._scratch is None or path in self._files:
            return
        self._scratch.mkdir(parents=True, exist_ok=True)
        job = _File(labels, path, parts, size, cjk_font, cut_marks)
        files = [self._scratch / f"{len(self._files)}.part{k}.partial" for k in range(len(parts))]
        futures = _submit_parts(self.pool, job, None, files)     # rendering starts before the fingerprint is taken
        self._files[path] = (_settings(job), labels.fingerprint(), futures, files)

    def take(self, job: _File) -> tuple[list, list[Path]] | None:
        """(futures, part files) of ``job`` if it was set rendering ahead from the same labels."""
        found = self._files.pop(job.path, None)
        if found is None:
            return None
        settings, fingerprint, futures, files = found
        same = getattr(job.labels, "fingerprint", None)
        if settings == _settings(job) and same is not None and same() == fingerprint:
            return futures, files
        self._drop(futures, files)
        return None

    def drop_rest(self) -> None:
        """Stop what no file took: its parts still waiting are never rendered."""
        for _, _, futures, files in self._files.values():
            self._drop(futures, files)
        self._files = {}

    def _drop(self, futures: list, files: list[Path]) -> None:
        for future in futures:
            future.cancel()
        self._left += files

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop the workers, then remove the parts rendered ahead that no file took."""
        self.drop_rest()
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        for file in self._left:
            file.unlink(missing_ok=True)
        self._left = []


def _settings(job: _File) -> tuple:
    return len(job.labels), tuple(job.parts), job.size, job.cjk_font, job.cut_marks


def _submit_parts(pool: ProcessPoolExecutor, job: _File, forked: int | None, files: list[Path]) -> list:
    """A file's parts to the workers: as its place among the files they were forked with, or as a
    slice of its labels, pickled (of a sequence that makes them when read, a slice that still does)."""
    from .labels import render_part
    return [pool.submit(_render_part, render_part,
                        _Forked(forked, a, b) if forked is not None else job.labels[a:b], file,
                        job.size, job.cjk_font, job.cut_marks, a + 1, len(job.labels))
            for (a, b), file in zip(job.parts, files)]


def parallel_parts(n: int, one_per_page: bool, workers: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each part when ``n`` labels are worth rendering in parallel, else []."""
    workers = label_workers() if workers is None else workers
    if workers < 2 or not one_per_page or not can_fork():
        return []
    size = os.environ.get("BATCHSHIP_LABEL_PART", "")
    if size.isdigit() and int(size) > 0:
        part = int(size)
    else:
        # Parts of at most MAX_PART labels, and of MIN_PART at least where that allows, as near to
        # PARTS_PER_WORKER a worker as those give; all of one size, where a last small part would
        # embed its fonts for a few labels.
        part = min(MAX_PART, max(MIN_PART, math.ceil(n / (workers * PARTS_PER_WORKER))))
        count = max(n // part, math.ceil(n / MAX_PART))
        part = math.ceil(n / count) if count > 1 else n
    if n <= part:
        return []
    return [(start, min(n, start + part)) for start in range(0, n, part)]


def whole_file_on_worker(workers: int | None = None) -> bool:
    """Whether a label file too small to split is worth rendering whole on a worker beside the run:
    wherever there are two cores. Its one PDF costs what it would in the run, and the run meanwhile
    writes its other outputs."""
    workers = label_workers() if workers is None else workers
    return workers >= 2 and can_fork()


class LabelJobs:
    """Label files rendering on worker processes while the run goes on with its other outputs.

    ``add`` queues a file's parts and ``start`` forks the workers with every file queued so far, so
    each worker takes its labels from its own copy of the run's memory; a sequence that makes its
    labels when read (label_sources.py) then makes them on the workers. Given workers forked ahead,
    ``start`` sends them the queued parts instead, or, for a file they rendered ahead from the same
    labels, hands the joiner those parts (``LabelsAhead``). A file added after ``start`` is sent to the
    running workers. From ``start`` on a thread of the run joins each file's parts in
    order as they are rendered: on a core the workers have left, while the run writes its other
    outputs. ``finish`` starts them if need be, waits for every file to be joined and returns the
    labels' problems, files in the order they were added. Leaving the ``with`` block stops the
    workers and the joiner and removes the parts of any file not joined.
    """

    def __init__(self, ahead: LabelsAhead | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        # Workers forked ahead (``workers_ahead``): this takes the files they rendered ahead, and
        # shuts them down.
        self._ahead = ahead
        self._queued: list[_File] = []
        self._joiner: _Joiner | None = None

    def __enter__(self) -> LabelJobs:
        return self

    def __exit__(self, *exc) -> None:
        for pool in (self._pool, self._ahead):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._ahead = None
        if self._joiner is not None:
            self._joiner.stop()         # every part is done or cancelled: it ends, removing the parts
            self._joiner = None
        self._queued = []

    def add(self, labels: Sequence, path: Path, parts: list[tuple[int, int]], *, size: str, cjk_font: str,
            cut_marks: bool) -> None:
        job = _File(labels, path, parts, size, cjk_font, cut_marks)
        if self._pool is None:
            self._queued.append(job)
        else:
            self._submit(job, None)

    def start(self) -> None:
        """Fork the workers with the files queued so far (or take those forked ahead) and set them
        rendering; returns at once. A file rendered ahead that none of them is stops here."""
        if self._pool is not None:
            return
        queued, self._queued = self._queued, []
        # Taken before anything is sent: the parts no file takes leave the workers' queue first.
        taken = [self._ahead.take(job) if self._ahead is not None else None for job in queued]
        if self._ahead is not None:
            self._ahead.drop_rest()
        if not queued:
            return
        if self._ahead is not None:
            self._pool = self._ahead.pool
            forked_with: list[int | None] = [None] * len(queued)
        else:
            from .fonts import font_set
            for cjk_font in dict.fromkeys(job.cjk_font for job in queued):
                font_set(cjk_font)     # read the fonts' character maps once, here, for every worker to inherit
            _FORKED_WITH[:] = [job.labels for job in queued]
            try:
                self._pool = forked_pool(min(label_workers(), sum(len(job.parts) for job in queued)), nice=NICE)
            finally:
                _FORKED_WITH.clear()   # the workers have their copies; this process has no more use for it
            forked_with = list(range(len(queued)))
        self._joiner = _Joiner()
        for k, job, ahead in zip(forked_with, queued, taken):
            self._submit(job, k, ahead)

    def _submit(self, job: _File, forked: int | None, ahead: tuple[list, list[Path]] | None = None) -> None:
        """Hand a file's parts to the workers, or to the joiner the parts ``ahead`` rendered ahead."""
        if ahead is not None:
            futures, files = ahead
            log.info("%s: its %d labels were rendered ahead, before the run committed", job.path.name,
                     len(job.labels))
        else:
            files = [job.path.with_name(f".{job.path.name}.part{k}.partial") for k in range(len(job.parts))]
            futures = _submit_parts(self._pool, job, forked, files)
        self._joiner.put(job.path, list(zip(futures, job.parts)), files, len(job.labels))

    def finish(self) -> dict[str, list[str]]:
        """Wait for every file to be joined; a file whose part failed is left out and the first
        such failure raised once the others are joined."""
        self.start()
        if self._joiner is None:
            return {}
        joiner, self._joiner = self._joiner, None
        return joiner.finish()


class _Joiner:
    """A thread of the run joining label files as their parts are rendered, in the order given.
    pdfium copies the pages without Python's lock, so the thread takes little from the run."""

    def __init__(self) -> None:
        self._files: queue.SimpleQueue = queue.SimpleQueue()
        self._problems: dict[str, list[str]] = {}
        self._failure: BaseException | None = None
        # In the run's context: its progress reporter counts the labels as they are joined.
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._join_all,),
                                        name="label-joiner", daemon=True)
        self._thread.start()

    def put(self, path: Path, futures: list, files: list[Path], total: int) -> None:
        self._files.put((path, futures, files, total))

    def stop(self) -> None:
        """Wait for the files put so far."""
        self._files.put(None)
        self._thread.join()

    def finish(self) -> dict[str, list[str]]:
        """Wait for the files put so far; raise the first failure."""
        self.stop()
        if self._failure is not None:
            raise self._failure
        return self._problems

    def _join_all(self) -> None:
        while (item := self._files.get()) is not None:
            path, futures, files, total = item
            try:
                self._problems.update(_join_as_rendered(futures, files, path, total))
            except BaseException as exc:    # raised in the run by finish
                self._failure = self._failure or exc
                wait([future for future, _ in futures])   # the file's other parts may still be writing
            finally:
                for file in files:
                    file.unlink(missing_ok=True)


@dataclass(frozen=True)
class _File:
    """A label file waiting for the workers."""
    labels: Sequence
    path: Path
    parts: list[tuple[int, int]]
    size: str
    cjk_font: str
    cut_marks: bool


@dataclass(frozen=True)
class _Forked:
    """Labels [start, end) of the ``file``-th file the worker was forked with."""
    file: int
    start: int
    end: int


def _render_part(render_part, labels, file: Path, size: str, cjk_font: str, cut_marks: bool, first: int,
                 total: int) -> dict[str, list[str]]:
    labels = list(_FORKED_WITH[labels.file][labels.start:labels.end] if isinstance(labels, _Forked) else labels)
    found = render_part(labels, file, size=size, cjk_font=cjk_font, cut_marks=cut_marks, first=first, total=total)
    worker_checkpoint("label-part-rendered")
    return found


def _join_as_rendered(futures: list, files: list[Path], path: Path, total: int) -> dict[str, list[str]]:
    """Each part's pages appended to the file as soon as that part is rendered (while later parts
    still render), in order, so problems keep the labels' order; the file saved once all are in."""
    if len(files) == 1:         # a file rendered whole: its one part is the file
        (future, (a, b)), = futures
        problems = future.result()
        progress.advance("labels rendered", b - a, total=total)
        checkpoint("label-parts-joined")
        os.replace(files[0], path)
        return problems
    import pypdfium2 as pdfium
    problems: dict[str, list[str]] = {}
    with PDFIUM:
        joined = pdfium.PdfDocument.new()
    try:
        for (future, (a, b)), file in zip(futures, files):
            problems.update(future.result())
            progress.advance("labels rendered", b - a, total=total)
            with PDFIUM:
                part = pdfium.PdfDocument(file)
                try:
                    joined.import_pages(part)
                finally:
                    part.close()
        tmp = path.with_suffix(".tmp")
        with PDFIUM:
            joined.save(tmp)
    finally:
        with PDFIUM:
            joined.close()
    checkpoint("label-parts-joined")
    os.replace(tmp, path)
    return problems
