"""Safe output file names and atomic delimited-text writes."""
from __future__ import annotations

import csv
import hashlib
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path

from ..errors import BatchshipError

# Path separators, characters Windows forbids in names, and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_DOTS = re.compile(r"\.{2,}")
_MAX_PART = 80


def safe_name_part(text: str, default: str = "shop") -> str:
    """A piece of a file name made from outside text (a shop name). Anything that
    had to change gets a short hash of the original, so two different names never
    end up as the same file."""
    part = "".join("_" if unicodedata.category(ch).startswith("C") else ch for ch in text)
    part = _UNSAFE.sub("_", part)
    part = _DOTS.sub("_", part).strip(" .")
    if not part:
        part = default
    part = part[:_MAX_PART]
    if part != text:
        part += "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return part


def inside(folder: Path, name: str) -> Path:
    """folder/name, refusing anything that would land elsewhere."""
    base = folder.resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise BatchshipError(f"refusing to write {name!r} outside {base}", code="unsafe_path")
    return target


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask (reading it means setting it: done under a lock, restored at once)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _flatten_for_tsv(value: str) -> str:
    # Amazon flat files have no quoting: a tab or line break inside a cell would
    # shift every later column, so it becomes a space.
    return value.replace("\r\n", " ").replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_delimited(path: Path, rows: list[list[str]], *, delimiter: str, encoding: str,
                    newline: str) -> None:
    """Write rows to a temporary file beside ``path`` and rename it into place."""
    if delimiter == "\t":
        rows = [[_flatten_for_tsv(c) for c in row] for row in rows]
        options = dict(quoting=csv.QUOTE_NONE, quotechar=None, escapechar=None)
    else:
        options = dict(quoting=csv.QUOTE_MINIMAL)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); an upload is an output like the others, readable
        # by whoever the workspace's umask lets read them (0644 under umask 022).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding=encoding, errors="strict", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator=newline, **options)
            for number, row in enumerate(rows, start=1):
                try:
                    writer.writerow(row)
                except UnicodeEncodeError as exc:
                    bad = exc.object[exc.start:exc.end]
                    raise BatchshipError(
                        f"{path.name}: row {number}: {bad!r} cannot be written in {encoding}, "
                        f"the encoding this marketplace requires; change the value at its source",
                        code="upload_encoding") from None
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
