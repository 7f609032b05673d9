"""Which files in ``inbox/`` are inputs, and which are editor, copy or OS leftovers.

Staff save from Excel straight into the inbox and copy over network shares, so the
folder routinely holds lock files, half-copied downloads and OS thumbnails beside
the real exports. Three questions are answered here, for ``run`` and ``watch`` alike:
- by name: is a file clutter that is never an input (lock files, partial
  downloads, OS files), or a file a person dropped that batchship cannot read
  (``unsupported_reason``: it goes to failed/ with advice, never sits unmentioned);
- by its stat: has it finished being written (``waiting_reason``).
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path, PurePath
from typing import Sequence

from .config import WatchSettings

KNOWN_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt"})

# Names written by copiers, browsers and editors while a file is still incomplete.
PARTIAL_SUFFIXES = (".tmp", ".part", ".filepart", ".crdownload", ".partial", ".swp")

# Files the OS drops into any folder a person opens in a file browser (compared lower-cased).
OS_CLUTTER = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})

# Excel writes "~$<name>" beside a workbook it has open; LibreOffice ".~lock.<name>#".
LOCK_PREFIXES = ("~$", ".~lock")

# Editors' backups. Files without any extension are left alone too: Excel saves
# through temporary files named like "8A3B2C00".
BACKUP_SUFFIXES = ("~", ".bak", ".backup", ".old")

# What to tell a person who dropped a file batchship does not read, by extension.
_SAVE_AS_XLSX = "save it from its spreadsheet program as Excel (.xlsx) or CSV and drop that file"
UNSUPPORTED_ADVICE = {
    **dict.fromkeys((".ods", ".fods", ".numbers", ".et", ".ett", ".xlsb", ".xltx", ".xltm", ".gsheet",
                     ".wps", ".dbf"), _SAVE_AS_XLSX),
    **dict.fromkeys((".zip", ".rar", ".7z", ".gz", ".tar", ".tgz", ".bz2", ".xz"),
                    "unpack the archive and drop the files inside it"),
    **dict.fromkeys((".json", ".xml", ".html", ".htm"),
                    "export the data from the marketplace or ERP as CSV or Excel (.xlsx) instead"),
    **dict.fromkeys((".pdf", ".doc", ".docx", ".rtf", ".odt", ".pages", ".png", ".jpg", ".jpeg", ".gif",
                     ".webp", ".heic", ".bmp", ".tif", ".tiff"),
                    "batchship reads sheets only (orders, stock, products, tracking numbers, decisions): "
                    "type or export the data into one of the blank templates"),
}
EMPTY_FILE_SETTLE_SECONDS = 60.0


def _base_name(name: str) -> str:
    # Accept a bare name or a relative path written with either separator.
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def matches_user_pattern(name: str, patterns: Sequence[str]) -> bool:
    """True when a glob from ``[watch] ignore`` matches the name (or the relative
    path, for patterns that contain a slash), ignoring case."""
    full = name.replace("\\", "/").lower()
    base = _base_name(full)
    for pattern in patterns:
        pattern = pattern.replace("\\", "/").lower()
        target = full if "/" in pattern else base
        if fnmatch.fnmatchcase(target, pattern):
            return True
    return False


def is_ignored(name: str, extra_patterns: Sequence[str] = ()) -> bool:
    """True for names that are never an input and never reported: lock files,
    partial/temporary files, backups, hidden files, OS clutter, names without an
    extension and user globs.

    ``name`` is a file name or an inbox-relative path such as ``shopA/orders.csv``.
    """
    base = _base_name(name)
    lower = base.lower()
    if not lower or lower.startswith(LOCK_PREFIXES) or lower.startswith("."):
        return True
    if lower in OS_CLUTTER or lower.endswith(PARTIAL_SUFFIXES + BACKUP_SUFFIXES):
        return True
    if not PurePath(lower).suffix:
        return True
    return matches_user_pattern(name, extra_patterns)


def unsupported_reason(name: str) -> str:
    """"" for a file type batchship reads, else what to tell the person who dropped it."""
    suffix = PurePath(_base_name(name).lower()).suffix
    if suffix in KNOWN_EXTENSIONS:
        return ""
    advice = UNSUPPORTED_ADVICE.get(suffix, _SAVE_AS_XLSX)
    return (f"batchship cannot read {suffix} files (it reads {', '.join(sorted(KNOWN_EXTENSIONS))}): "
            f"{advice}")


def waiting_reason(path: Path, st: os.stat_result, settings: WatchSettings, wall_now: float,
                   unchanged_for: float | None = None) -> str:
    """"" when ``path`` has finished being written, else why it must wait.

    Complete means: size and mtime unchanged for ``settle_seconds`` (an empty file,
    which is what a stalled copy looks like, for far longer), mtime at least
    ``min_age_seconds`` old, and no editor holding it open. ``watch`` knows how long
    it has seen the file unchanged (``unchanged_for``); ``run`` looks once, and then
    the mtime is all it knows.
    """
    age = wall_now - st.st_mtime
    if unchanged_for is None:
        if age < 0:
            return (f"its modification time is {-age:.0f} s in the future: it is taken once that time "
                    "has passed (is the clock of this computer or of the share wrong?)")
        unchanged_for = age
    settle = settings.settle_seconds if st.st_size else max(settings.settle_seconds, EMPTY_FILE_SETTLE_SECONDS)
    if unchanged_for < settle:
        what = "it is empty" if not st.st_size else "it changed"
        return (f"{what} {unchanged_for:.0f} s ago and may still be being copied: it is taken once it has "
                f"been unchanged for {settle:g} s")
    # A share whose clock runs ahead gives mtimes in the future; having watched
    # the file unchanged for settle + min_age ourselves proves the same thing.
    if age < settings.min_age_seconds and unchanged_for < settle + settings.min_age_seconds:
        return f"it is younger than {settings.min_age_seconds:g} s"
    if is_open_in_editor(path):
        return "it is open in Excel or LibreOffice (its lock file is beside it): close it to have it taken"
    return ""


def lock_files_for(path: Path) -> tuple[Path, Path]:
    """Where Excel and LibreOffice put their "this file is open" marker for ``path``."""
    return path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")


def is_open_in_editor(path: Path) -> bool:
    """True while Excel or LibreOffice holds ``path`` open (its lock file exists).

    A workbook that is still open will usually be saved again; taking it now would
    process a version the user has not finished with.
    """
    # lexists, not Path.exists: a lock name over the length limit (a long input name plus
    # ".~lock." and "#") raises there, and can never exist anyway.
    return any(os.path.lexists(lock) for lock in lock_files_for(path))


def inbox_relative(inbox: Path, path: Path) -> str | None:
    """``file`` or ``shop/file`` for a path one or two levels below ``inbox``;
    None for anything else (deeper, outside, or inside a hidden folder such as
    batchship's own dot-named working folders)."""
    try:
        parts = Path(path).relative_to(inbox).parts
    except ValueError:
        return None
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and not parts[0].startswith("."):
        return "/".join(parts)
    return None


def is_inbox_candidate(inbox: Path, path: Path, extra_patterns: Sequence[str] = ()) -> bool:
    """True when ``path`` sits where inputs go and its name is not ignored
    (unsupported types included: they are claimed to be refused plainly).
    Does not touch the disk."""
    relative = inbox_relative(inbox, path)
    return relative is not None and not is_ignored(relative, extra_patterns)


def inbox_candidates(inbox: Path, extra_patterns: Sequence[str] = ()) -> list[Path]:
    """Non-ignored regular files in ``inbox/`` and ``inbox/<shop>/``, sorted."""
    found: list[Path] = []
    try:
        top = list(inbox.iterdir())
    except FileNotFoundError:
        return []
    for entry in top:
        if entry.is_dir():
            if entry.name.startswith("."):
                continue
            try:
                found.extend(child for child in entry.iterdir() if child.is_file())
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue   # renamed or removed while we looked; the next scan sees it
        elif entry.is_file():
            found.append(entry)
    return sorted(p for p in found if is_inbox_candidate(inbox, p, extra_patterns))
