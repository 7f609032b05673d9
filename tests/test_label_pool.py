"""Labels rendered in parts on worker processes are the same pages, in the same order, as from one
process: every barcode decodes to its parcel's number and every counter reads "n / total"."""
from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship import progress
from batchship.writers.label_pool import parallel_parts
from batchship.writers.labels import render_labels
from test_labels import RECIPIENTS, label


def _pages(path) -> list[tuple[list[str], str]]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [([b.text for b in zxingcpp.read_barcodes(page.render(scale=2).to_pil())],
                 page.get_textpage().get_text_range()) for page in pdf]
    finally:
        pdf.close()


def test_parts_on_workers_give_the_same_pages_as_one_process(tmp_path, monkeypatch):
    labels = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(1, 8)]
    one = tmp_path / "one.pdf"
    assert render_labels(labels, one, workers=1) == {}
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "3")
    assert parallel_parts(len(labels), True, 2) == [(0, 3), (3, 6), (6, 7)]
    parallel = tmp_path / "parallel.pdf"
    assert render_labels(labels, parallel, workers=2) == {}
    pages = _pages(parallel)
    assert pages == _pages(one)
    assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in labels]
    assert all(f"{n} / 7" in text for n, (_, text) in enumerate(pages, start=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.pdf", "parallel.pdf"]   # no parts left


def test_problems_of_every_part_are_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "2")
    labels = [label(i) for i in range(1, 6)] + [label(6, recipient_name="𓀀")]
    problems = render_labels(labels, tmp_path / "labels.pdf", workers=2)
    assert list(problems) == [labels[-1].tracking_number]
    assert len(pdfium.PdfDocument(tmp_path / "labels.pdf")) == 6


@pytest.mark.parametrize("n, one_per_page, workers", [(10_000, False, 2), (10_000, True, 1), (100, True, 2),
                                                      (400, True, 2)])
def test_small_batches_sheets_and_one_core_stay_in_one_process(n, one_per_page, workers):
    assert parallel_parts(n, one_per_page, workers) == []


def test_parts_are_2000_to_2500_labels_of_one_size_and_two_a_worker_between():
    assert parallel_parts(1_000, True, 2) == []
    assert parallel_parts(2_500, True, 2) == []         # one worker renders it whole beside the run
    assert parallel_parts(2_501, True, 2) == [(0, 1_251), (1_251, 2_501)]
    assert parallel_parts(4_000, True, 2) == [(0, 2_000), (2_000, 4_000)]
    assert parallel_parts(4_032, True, 2) == [(0, 2_016), (2_016, 4_032)]
    assert parallel_parts(5_000, True, 2) == [(0, 2_500), (2_500, 5_000)]
    assert parallel_parts(10_000, True, 2) == [(0, 2_500), (2_500, 5_000), (5_000, 7_500), (7_500, 10_000)]
    # Larger files are cut into parts of at most 2,500 labels, so a worker holds no more pages than that.
    assert parallel_parts(12_000, True, 2) == [(0, 2_400), (2_400, 4_800), (4_800, 7_200), (7_200, 9_600),
                                               (9_600, 12_000)]
    assert parallel_parts(50_001, True, 2)[-1] == (47_620, 50_001)
    assert len(parallel_parts(50_001, True, 2)) == 21
    assert parallel_parts(40_000, True, 8) == [(n, n + 2_500) for n in range(0, 40_000, 2_500)]


def test_files_queued_before_the_start_and_added_after_it_all_render(tmp_path, monkeypatch):
    """Files queued before ``start`` reach the workers with the fork; one added after is sent to them."""
    from batchship.writers.label_pool import LabelJobs
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "2")
    first = [label(i) for i in range(1, 6)]
    second = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(11, 15)] + [
        label(15, recipient_name="𓀀")]
    third = [label(i) for i in range(21, 24)] + [label(24, recipient_name="𓀀")]
    with LabelJobs() as jobs:
        render_labels(first, tmp_path / "first.pdf", workers=2, jobs=jobs)
        render_labels(second, tmp_path / "second.pdf", workers=2, jobs=jobs)
        assert sorted(p.name for p in tmp_path.iterdir()) == []      # queued: nothing renders before start
        jobs.start()
        render_labels(third, tmp_path / "third.pdf", workers=2, jobs=jobs)
        problems = jobs.finish()
    assert list(problems) == [second[-1].tracking_number, third[-1].tracking_number]
    for name, labels in (("first.pdf", first), ("second.pdf", second), ("third.pdf", third)):
        pages = _pages(tmp_path / name)
        assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in labels]
        assert all(f"{n} / {len(labels)}" in text for n, (_, text) in enumerate(pages, start=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.pdf", "second.pdf", "third.pdf"]


class _MadeWhenRead(Sequence):
    """Labels made when read, each read leaving a note of the process that made it."""

    def __init__(self, n: int, notes: Path):
        self.n, self.notes = n, notes

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, at):
        if not isinstance(at, slice):
            return self[at:at + 1][0]
        made = [label(i + 1) for i in range(self.n)[at]]
        (self.notes / f"{os.getpid()}-{made[0].tracking_number}").write_text(str(len(made)))
        return made


def test_labels_made_when_read_are_made_on_the_workers(tmp_path, monkeypatch):
    from batchship.writers.label_pool import LabelJobs
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "3")
    notes = tmp_path / "made"
    notes.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    with LabelJobs() as jobs:
        render_labels(_MadeWhenRead(8, notes), out / "labels.pdf", workers=2, jobs=jobs)
        assert jobs.finish() == {}
    made = {}
    for note in notes.iterdir():
        pid, _, first = note.name.partition("-")
        made[first] = (int(pid), int(note.read_text()))
    assert sorted(n for _, n in made.values()) == [2, 3, 3]        # one read a part: each label made once
    assert os.getpid() not in {pid for pid, _ in made.values()}     # and none by the run itself
    pages = _pages(out / "labels.pdf")
    assert [codes for codes, _ in pages] == [[label(i).tracking_number] for i in range(1, 9)]


@pytest.mark.parametrize("size", ["100x150", "A4x4"])
@pytest.mark.parametrize("n", [1, 5, 400])
def test_a_file_too_small_to_split_renders_whole_on_a_worker(tmp_path, n, size):
    """Given jobs, a file of too few labels to split (or of four labels a sheet) is still rendered
    beside the run, as one part: the run goes on with its other outputs meanwhile."""
    from batchship.writers.label_pool import LabelJobs
    assert parallel_parts(n, size == "100x150", 2) == []
    notes = tmp_path / "made"
    notes.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    with LabelJobs() as jobs:
        assert render_labels(_MadeWhenRead(n, notes), out / "labels.pdf", size=size, workers=2, jobs=jobs) == {}
        assert list(out.iterdir()) == []           # not rendered by the call itself
        assert jobs.finish() == {}
    made = [note.name.partition("-") for note in notes.iterdir()]
    assert len(made) == 1 and int(made[0][0]) != os.getpid()      # all made by one worker
    pages = _pages(out / "labels.pdf")
    codes = [code for page_codes, _ in pages for code in page_codes]
    assert sorted(codes) == sorted(label(i).tracking_number for i in range(1, n + 1))
    assert len(pages) == (n if size == "100x150" else -(-n // 4))
    assert sorted(p.name for p in out.iterdir()) == ["labels.pdf"]    # its part renamed into place


def test_on_one_core_a_small_file_renders_in_the_call(tmp_path):
    from batchship.writers.label_pool import LabelJobs
    labels = [label(1), label(2, recipient_name="𓀀")]
    with LabelJobs() as jobs:
        problems = render_labels(labels, tmp_path / "labels.pdf", workers=1, jobs=jobs)
        assert list(problems) == [labels[1].tracking_number]        # told at once: rendered here
        assert [codes for codes, _ in _pages(tmp_path / "labels.pdf")] == [[lb.tracking_number] for lb in labels]
        assert jobs.finish() == {}


class _MadeWhenReadSliced(_MadeWhenRead):
    """Labels made when read whose slices still make them when read, as the run's own do: what
    workers forked ahead are sent."""

    def __init__(self, labels: range, notes: Path):
        super().__init__(len(labels), notes)
        self.labels = labels

    def __getitem__(self, at):
        if isinstance(at, slice):
            return _MadeWhenReadSliced(self.labels[at], self.notes)
        return label(self.labels[at] + 1)

    def __iter__(self):
        made = [label(i + 1) for i in self.labels]
        (self.notes / f"{os.getpid()}-{made[0].tracking_number}").write_text(str(len(made)))
        return iter(made)


def test_workers_forked_ahead_are_sent_each_part_and_make_its_labels(tmp_path, monkeypatch):
    """Workers forked before the labels exist (as a large batch starts) render the same pages; each
    part is sent to them as a slice that makes its labels there."""
    from batchship.writers.label_pool import LabelJobs, workers_ahead
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "3")
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", "2")
    notes = tmp_path / "made"
    notes.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    ahead = workers_ahead(1 << 30)
    assert ahead is not None
    second = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(11, 15)] + [
        label(15, recipient_name="𓀀")]
    with LabelJobs(ahead) as jobs:
        render_labels(_MadeWhenReadSliced(range(8), notes), out / "labels.pdf", workers=2, jobs=jobs)
        render_labels(second, out / "second.pdf", workers=2, jobs=jobs)
        jobs.start()
        assert list(jobs.finish()) == [second[-1].tracking_number]
    assert multiprocessing.active_children() == []                # leaving the block shut the workers down
    made = {}
    for note in notes.iterdir():
        pid, _, first = note.name.partition("-")
        made[first] = (int(pid), int(note.read_text()))
    assert sorted(n for _, n in made.values()) == [2, 3, 3]        # one read a part: each label made once
    assert os.getpid() not in {pid for pid, _ in made.values()}     # none by the run itself
    assert [codes for codes, _ in _pages(out / "labels.pdf")] == [[label(i).tracking_number] for i in range(1, 9)]
    assert [codes for codes, _ in _pages(out / "second.pdf")] == [[lb.tracking_number] for lb in second]
    assert sorted(p.name for p in out.iterdir()) == ["labels.pdf", "second.pdf"]


@pytest.mark.parametrize("batch_bytes, workers, forked", [(1 << 20, "2", True), ((1 << 20) - 1, "2", False),
                                                          (1 << 30, "1", False)])
def test_workers_are_forked_ahead_for_a_large_batch_on_several_cores(monkeypatch, batch_bytes, workers, forked):
    from batchship.writers.label_pool import workers_ahead
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", workers)
    pool = workers_ahead(batch_bytes)
    try:
        assert (pool is not None) == forked
    finally:
        if pool is not None:
            pool.shutdown()


class _Counted(progress.Reporter):
    def __init__(self):
        self.done: dict[str, int] = {}

    def advance(self, what, done=1, total=None, label=""):
        self.done[what] = self.done.get(what, 0) + done


def test_files_are_joined_while_the_run_goes_on_and_counted_in_its_progress(tmp_path, monkeypatch):
    """The joiner thread writes each file once its parts are rendered, before the run asks for it."""
    from batchship.writers.label_pool import LabelJobs
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "2")
    labels = [label(i) for i in range(1, 6)]
    with progress.reporting(_Counted()) as counted, LabelJobs() as jobs:
        render_labels(labels, tmp_path / "labels.pdf", workers=2, jobs=jobs)
        jobs.start()
        deadline = time.monotonic() + 60
        while not (tmp_path / "labels.pdf").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "labels.pdf").exists()
        assert jobs.finish() == {}
        assert counted.done == {"labels rendered": 5}
    pages = _pages(tmp_path / "labels.pdf")
    assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in labels]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.pdf"]


class _Sources(Sequence):
    """Labels with a fingerprint, as the run's label sources have; counts the labels its pickled
    slices make on the workers (each slice is sent to one worker)."""

    def __init__(self, labels: list, notes: Path, run: int | None = None):
        self.labels, self.notes, self.run = labels, notes, os.getpid() if run is None else run

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, at):
        if isinstance(at, slice):
            return _Sources(self.labels[at], self.notes, self.run)
        return self.labels[at]

    def __iter__(self):
        if os.getpid() != self.run:
            with open(self.notes / self.labels[0].tracking_number, "a") as note:
                note.write(f"{len(self.labels)}\n")
        return iter(self.labels)

    def fingerprint(self) -> bytes:
        return repr(self.labels).encode()



@pytest.mark.parametrize("case", ["same labels", "other labels", "not asked for"])
def test_files_rendered_ahead_are_taken_only_when_made_of_the_same_labels(tmp_path, monkeypatch, case):
    """Parts rendered before the run asks for a file are joined into it when its labels are the same;
    otherwise the file is rendered from its own labels, and nothing rendered ahead is left behind."""
    from batchship.writers.label_pool import LabelJobs, workers_ahead
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "2")
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", "2")
    notes, out, scratch = tmp_path / "made", tmp_path / "out", tmp_path / "scratch"
    notes.mkdir()
    out.mkdir()
    early = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(1, 6)]
    late = {"same labels": early, "other labels": early[:4] + [label(9, recipient_name="𓀀")],
            "not asked for": None}[case]
    ahead = workers_ahead(1 << 30, scratch)
    ahead.add(_Sources(early, notes), out / "labels.pdf", parallel_parts(5, True, 2), size="100x150",
              cjk_font="", cut_marks=False)
    deadline = time.monotonic() + 60                          # the three parts rendered ahead
    while len([p for p in scratch.iterdir() if p.stat().st_size]) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in scratch.iterdir()) == [f"0.part{k}.partial" for k in range(3)]
    with LabelJobs(ahead) as jobs:
        if late is not None:
            render_labels(_Sources(late, notes), out / "labels.pdf", workers=2, jobs=jobs)
        jobs.start()
        problems = jobs.finish()
    assert multiprocessing.active_children() == []
    assert list(scratch.iterdir()) == []                      # taken and joined, or removed
    if late is None:
        assert list(out.iterdir()) == []
        return
    assert list(problems) == ([] if late is early else [late[-1].tracking_number])
    pages = _pages(out / "labels.pdf")
    assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in late]
    assert all(f"{n} / 5" in text for n, (_, text) in enumerate(pages, start=1))
    made = {p.name: p.read_text().split() for p in notes.iterdir()}
    if late is early:                                         # each part rendered once, ahead
        assert made == {early[0].tracking_number: ["2"], early[2].tracking_number: ["2"],
                        early[4].tracking_number: ["1"]}
    else:                                                     # the file's own parts were rendered
        assert made[late[4].tracking_number] == ["1"]
    assert sorted(p.name for p in out.iterdir()) == ["labels.pdf"]


def test_a_large_label_file_leaves_no_document_behind(tmp_path, monkeypatch):
    """fpdf2 leaves a written document in reference cycles; under a batch's collector settings it
    would stay until the run ends, some 10 KiB a label. A file of COLLECT_FROM labels or more is
    collected once written: a part on a worker, or a whole file in the run's process."""
    import gc
    import weakref

    from fpdf import FPDF

    from batchship.collector import batch_collector
    from batchship.writers import labels as label_writer
    from batchship.writers.label_pool import _render_part

    documents = []

    class Watched(FPDF):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            documents.append(weakref.ref(self))

    monkeypatch.setattr(label_writer, "FPDF", Watched)
    monkeypatch.setattr(label_writer, "COLLECT_FROM", 3)
    three = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(1, 4)]
    gc.collect()
    with batch_collector():
        for n in range(2):
            assert _render_part(label_writer.render_part, three, tmp_path / f"part{n}.pdf", "100x150", "", False,
                                1, 3) == {}
        assert render_labels(three, tmp_path / "whole.pdf", workers=1) == {}
        assert len(documents) == 3 and [ref() for ref in documents] == [None] * 3
        # Below COLLECT_FROM the run's process does not walk all its objects for a small file.
        assert render_labels(three[:2], tmp_path / "small.pdf", workers=1) == {}
        assert len(documents) == 4 and documents[-1]() is not None
    assert all(len(_pages(tmp_path / name)) == 3 for name in ("part0.pdf", "part1.pdf", "whole.pdf"))
