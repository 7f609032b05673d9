"""The fonts a PDF embeds come from a cache folder the second time: the same pages come out, a damaged
cached font is made again, and a cache folder that cannot be written only costs time. A document
makes a temporary folder of its own only for fonts the cache cannot hold, and leaves none behind."""
from __future__ import annotations

import subprocess
import sys
import tempfile

import pypdfium2 as pdfium
import pytest

from batchship.writers.labels import render_labels
from batchship.writers.zpl import render_zpl
from test_labels import RECIPIENTS, decode, label, page_text


def _pages(path) -> list[tuple[list[str], str]]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [(decode(page), page_text(page)) for page in pdf]
    finally:
        pdf.close()


def _fonts(folder) -> dict[str, bytes]:
    """The cached fonts (not the kept character coverages, *.cover)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".") and p.suffix != ".cover"}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "font-cache"
    monkeypatch.setenv("BATCHSHIP_FONT_CACHE", str(folder))
    return folder


def test_second_document_takes_its_fonts_from_the_cache_and_reads_the_same(tmp_path, cache):
    labels = [label(i, recipient=RECIPIENTS[i % len(RECIPIENTS)]) for i in range(1, 4)]
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    render_labels(labels, first, workers=1)
    made = _fonts(cache)
    assert len(made) >= 2                       # Noto Sans regular and bold at least
    render_labels(labels, second, workers=1)
    assert _fonts(cache) == made                # nothing made again
    pages = _pages(second)
    assert pages == _pages(first)
    assert [codes for codes, _ in pages] == [[lb.tracking_number] for lb in labels]


def test_other_names_in_the_same_scripts_share_the_cached_fonts(tmp_path, cache):
    render_labels([label(1, recipient_name="Jürgen Müller")], tmp_path / "a.pdf", workers=1)
    made = set(_fonts(cache))
    render_labels([label(2, recipient_name="Émile Zoë Ñúñez")], tmp_path / "b.pdf", workers=1)
    assert set(_fonts(cache)) == made
    assert "Émile Zoë Ñúñez" in page_text(pdfium.PdfDocument(tmp_path / "b.pdf")[0])


def test_a_damaged_cached_font_is_made_again(tmp_path, cache):
    labels = [label(1), label(2)]
    render_labels(labels, tmp_path / "good.pdf", workers=1)
    for name in _fonts(cache):
        (cache / name).write_bytes(b"not a font at all")
    render_labels(labels, tmp_path / "again.pdf", workers=1)
    assert _pages(tmp_path / "again.pdf") == _pages(tmp_path / "good.pdf")
    render_labels(labels, tmp_path / "third.pdf", workers=1)         # made afresh into the cache
    assert all(data != b"not a font at all" for data in _fonts(cache).values())
    assert _pages(tmp_path / "third.pdf") == _pages(tmp_path / "good.pdf")


@pytest.fixture
def temporary_folders(tmp_path, monkeypatch):
    """Where the documents' temporary folders go, and the list of those made."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    made = []
    real = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    return root, made


def test_a_cache_folder_that_cannot_be_made_still_gives_labels(tmp_path, monkeypatch, temporary_folders):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    monkeypatch.setenv("BATCHSHIP_FONT_CACHE", str(blocker / "fonts"))
    labels = [label(1), label(2)]
    render_labels(labels, tmp_path / "labels.pdf", workers=1)
    assert [codes for codes, _ in _pages(tmp_path / "labels.pdf")] == [[lb.tracking_number] for lb in labels]
    assert blocker.read_text() == "in the way"
    root, made = temporary_folders
    assert made and list(root.iterdir()) == []       # the fonts were made in a folder of its own, since removed


@pytest.mark.parametrize("fmt", ["pdf", "zpl"])
def test_fonts_the_cache_holds_need_no_temporary_folder(tmp_path, cache, temporary_folders, fmt):
    labels = [label(1, recipient_name="Jürgen Müller"), label(2, recipient_name="山田 太郎")]
    for name in ("first", "second"):      # the first makes the cached fonts, the second takes them
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "pdf":
            render_labels(labels, path, workers=1)
            assert [codes for codes, _ in _pages(path)] == [[lb.tracking_number] for lb in labels]
        else:
            render_zpl(labels, path)
            assert all(lb.tracking_number in path.read_text(encoding="utf-8") for lb in labels)
    root, made = temporary_folders
    assert _fonts(cache) and made == [] and list(root.iterdir()) == []


# In a process of its own: the coverage of each font is read once per process.
COVERAGE = """
import sys
from batchship.writers import fonts
if sys.argv[1] == "no-font-files":     # the kept coverage must do without reading any font
    def refuse(*args, **kwargs):
        raise AssertionError("a font was read")
    fonts._open = refuse
fs = fonts.font_set("")
print(sum(map(len, fs.covers)), fs.unshowable("Łukasz 山田 Nguyễn") == "", fs.unshowable("\U0001D11E") == "")
"""


def test_a_fonts_coverage_is_read_once_then_kept_in_the_cache(cache):
    def coverage(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", COVERAGE, mode], capture_output=True, text=True,
                              check=True).stdout.split()
    first = coverage("read")
    kept = sorted(cache.glob("*.cover"))
    # Every script the labels print, and not a musical symbol no bundled font has.
    assert kept and int(first[0]) > 40_000 and first[1:] == ["True", "False"]
    assert coverage("no-font-files") == first
    kept[0].write_bytes(b"damaged")          # not whole 4-byte integers: read from the font again
    assert coverage("read") == first
    assert kept[0].stat().st_size % 4 == 0 and kept[0].stat().st_size > 7
