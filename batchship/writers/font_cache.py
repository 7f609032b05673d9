"""Static font instances kept between documents and runs.

Pinning a variable font's axes and cutting a font down to the characters a document uses costs
0.1–0.5 s a font, and every PDF we write (each part of a channel's labels on each worker, pick
lists, packing slips, manifests) needs two to five of them. The result depends only on the font
file, the axes and the characters, so it is kept in a cache folder under a name made from those.
Fonts that cover few characters a page (Latin, Greek, Arabic ...) are cut to whole 256-character
pages of what the document uses, so the next document with other names still finds its fonts;
fpdf2 embeds only the glyphs a document draws either way. Each font's coverage (the code points it
has glyphs for, which every document's font choice needs) is kept there too, as a ``.cover`` file.

The folder is BATCHSHIP_FONT_CACHE, else batchship/fonts under XDG_CACHE_HOME (~/.cache). A file
appears under its final name only whole (written beside it, then renamed), and one that cannot be
read is made again. When the folder cannot be written the fonts are made in the document's own
temporary folder, as without a cache.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from array import array
from pathlib import Path
from typing import Callable

import fontTools

from ..paths import cache_home

FORMAT = "1"            # raise when what a cached file holds changes
KEEP = 200              # files kept; the oldest beyond go


def cache_dir() -> Path:
    named = os.environ.get("BATCHSHIP_FONT_CACHE", "")
    if named:
        return Path(named)
    return cache_home() / "fonts"


def whole_pages(chars: set[int], cover: frozenset[int]) -> set[int]:
    """``chars`` with every character of ``cover`` on the same 256-character pages."""
    pages = {c >> 8 for c in chars}
    return {c for c in cover if c >> 8 in pages}


def instance_name(source: Path, number: int, axes: dict[str, float], layout: bool, chars: set[int],
                  suffix: str) -> str:
    stat = source.stat()
    key = "\n".join([FORMAT, fontTools.version, str(source.resolve()), str(stat.st_size), str(stat.st_mtime_ns),
                     str(number), repr(sorted(axes.items())), str(layout), ",".join(map(str, sorted(chars)))])
    return hashlib.sha256(key.encode()).hexdigest()[:32] + suffix


class SpareFolder:
    """A document's own temporary folder, for the fonts the cache cannot hold: made only when one
    needs it (``folder / name``), removed with everything in it when the ``with`` block ends.

    Most documents never need it. Made and removed for each, removing it waited 0.9 s in a run
    while the store's file was being flushed to the same disk (a fresh copy of a workspace with a
    year of history): a folder's removal waits on the file system's journal."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def __truediv__(self, name: str) -> Path:
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="batchship-fonts-"))
        return self._path / name

    def __enter__(self) -> SpareFolder:
        return self

    def __exit__(self, *exc) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


def cached(name: str, make, spare: SpareFolder | Path) -> Path:
    """The cache's file ``name``, made by ``make(path)`` when missing; made as ``spare / name`` (the
    document's own temporary folder) when the cache folder cannot be written."""
    folder = cache_dir()
    path = folder / name
    if path.is_file() and path.stat().st_size > 0:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".partial", dir=folder)
        os.close(fd)
    except OSError:
        fallback = spare / name
        make(fallback)
        return fallback
    try:
        make(Path(tmp))
        os.chmod(tmp, 0o644)        # a cache folder shared by the users of one machine
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _prune(folder)
    return path


def kept_coverage(source: Path, number: int, read: Callable[[], frozenset[int]]) -> frozenset[int]:
    """The code points a font has glyphs for, kept in the cache folder (as 4-byte integers) after
    ``read()`` found them once: reading a CJK font's character map costs 0.1 s, every run with labels."""
    name = instance_name(source, number, {}, False, set(), ".cover")
    path = cache_dir() / name
    try:
        codes = array("I", path.read_bytes())
        if codes:
            return frozenset(codes)
    except OSError:
        pass
    except ValueError:          # not whole integers: damaged
        forget(path)
    cover = read()
    with SpareFolder() as spare:
        cached(name, lambda target: target.write_bytes(array("I", sorted(cover)).tobytes()), spare)
    return cover


def forget(path: Path) -> None:
    """Remove a cached file that turned out unreadable, so the next call makes it again."""
    if path.parent == cache_dir():
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass            # another user's file: this document uses its own copy


def _prune(folder: Path) -> None:
    try:
        entries = [(p, p.stat().st_mtime) for p in folder.iterdir()]
        # A ".partial" an hour old is left from a process that was killed while writing it.
        stale = [p for p, mtime in entries if p.name.startswith(".") and mtime < time.time() - 3600]
        files = sorted(((p, m) for p, m in entries if not p.name.startswith(".")), key=lambda e: e[1])
        for old in stale + [p for p, _ in files[:-KEEP]]:
            old.unlink(missing_ok=True)
    except OSError:
        pass                # another process pruned first
