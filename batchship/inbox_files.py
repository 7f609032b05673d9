"""Which files in ``inbox/`` are inputs, and which are editor, copy or OS leftovers.

Staff save from Excel straight into the inbox and copy over network shares, so the
folder routinely holds lock files, half-copied downloads and OS thumbnails beside
the real exports. The rules here decide by name only; whether a file has finished
being written is the watcher's business (batchship/watch.py).
"""
from __future__ import annotations

import fnmatch
from pathlib import Path, PurePath
from typing import Sequence

KNOWN_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt"})

# Names written by copiers, browsers and editors while a file is still incomplete.
PARTIAL_SUFFIXES = (".tmp", ".part", ".filepart", ".crdownload", ".partial", ".swp")

# Files the OS drops into any folder a person opens in a file browser (compared lower-cased).
OS_CLUTTER = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})

# Excel writes "~$<name>" beside a workbook it has open; LibreOffice ".~lock.<name>#".
LOCK_PREFIXES = ("~$", ".~lock")


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
    """True for names that are never an input: lock files, partial/temporary
    files, hidden files, OS clutter, unknown extensions and user globs.

    ``name`` is a file name or an inbox-relative path such as ``shopA/orders.csv``.
    """
    base = _base_name(name)
    lower = base.lower()
    if not lower or lower.startswith(LOCK_PREFIXES) or lower.startswith("."):
        return True
    if lower in OS_CLUTTER or lower.endswith(PARTIAL_SUFFIXES):
        return True
    if PurePath(lower).suffix not in KNOWN_EXTENSIONS:
        return True
    return matches_user_pattern(name, extra_patterns)


def lock_files_for(path: Path) -> tuple[Path, Path]:
    """Where Excel and LibreOffice put their "this file is open" marker for ``path``."""
    return path.with_name("~$" + path.name), path.with_name(".~lock." + path.name + "#")


def is_open_in_editor(path: Path) -> bool:
    """True while Excel or LibreOffice holds ``path`` open (its lock file exists).

    A workbook that is still open will usually be saved again; taking it now would
    process a version the user has not finished with.
    """
    return any(lock.exists() for lock in lock_files_for(path))


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
    """True when ``path`` sits where inputs go and its name is not ignored.
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
