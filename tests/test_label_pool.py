"""Labels rendered in parts on worker processes are the same pages, in the same order, as from one
process: every barcode decodes to its parcel's number and every counter reads "n / total"."""
from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

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


def test_parts_are_at_least_400_labels_and_two_a_worker_beyond():
    assert parallel_parts(800, True, 2) == [(0, 400), (400, 800)]
    assert parallel_parts(1_000, True, 2) == [(0, 400), (400, 800), (800, 1_000)]
    assert parallel_parts(10_000, True, 2) == [(0, 2_500), (2_500, 5_000), (5_000, 7_500), (7_500, 10_000)]


def test_files_added_after_the_workers_started_render_as_the_first(tmp_path, monkeypatch):
    """The first file's labels reach the workers with the fork; a later file's are sent to them."""
    from batchship.writers.label_pool import LabelJobs
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "2")
    first = [label(i) for i in range(1, 6)]
    second = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(11, 15)] + [
        label(15, recipient_name="𓀀")]
    with LabelJobs() as jobs:
        render_labels(first, tmp_path / "first.pdf", workers=2, jobs=jobs)
        render_labels(second, tmp_path / "second.pdf", workers=2, jobs=jobs)
        problems = jobs.finish()
    assert list(problems) == [second[-1].tracking_number]
    for name, labels in (("first.pdf", first), ("second.pdf", second)):
        pages = _pages(tmp_path / name)
        assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in labels]
        assert all(f"{n} / {len(labels)}" in text for n, (_, text) in enumerate(pages, start=1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.pdf", "second.pdf"]
