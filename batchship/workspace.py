"""The workspace folder: where inputs wait, are claimed, archived or rejected."""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .config import WatchSettings
from .errors import WorkspaceBusy
from .faults import checkpoint
from .file_names import fitting_name
from .inbox_files import inbox_candidates, waiting_reason


STATE_DIR = ".batchship"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def database(self) -> Path:
        return self.state_dir / "state.sqlite"

    @property
    def claimed(self) -> Path:
        return self.state_dir / "claimed"

    @property
    def labels_ahead(self) -> Path:
        """Label parts a run renders before it commits (writers/label_pool.py)."""
        return self.state_dir / "labels-ahead"

    def ensure(self) -> None:
        for d in (self.inbox, self.outbox, self.archive, self.failed, self.claimed):
            d.mkdir(parents=True, exist_ok=True)

    def claim(self, settings: WatchSettings, only: list[Path] | None = None
              ) -> tuple[list[Path], list[tuple[str, str]]]:
        """Move complete inbox files into the claimed folder by atomic rename, so no other run
        can take them. Returns (claimed files, [(inbox name, why it waits)] for the others).

        ``only`` names files the watcher has already seen settle: they are taken as they are.
        Files left in the claimed folder by an interrupted run are returned too. All are
        returned in name order, as if none had been claimed before: the batch (later files
        of a kind win) must not depend on where an interrupted run stopped claiming.
        """
        taken = sorted(p for p in self.claimed.rglob("*") if p.is_file())
        waiting: list[tuple[str, str]] = []
        candidates = inbox_candidates(self.inbox, settings.ignore)
        if only is not None:
            wanted = {p.resolve() for p in only}
            candidates = [p for p in candidates if p.resolve() in wanted]
        now = time.time()
        for src in candidates:
            rel = src.relative_to(self.inbox)
            if only is None:
                try:
                    why = waiting_reason(src, src.stat(), settings, now)
                except FileNotFoundError:
                    continue  # another process claimed it first
                if why:
                    waiting.append((rel.as_posix(), why))
                    continue
            dest = self.claimed / rel
            if dest.exists():
                waiting.append((rel.as_posix(), "a file of the same name from an interrupted run is "
                                                "processed first"))
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(src, dest)
            except FileNotFoundError:
                continue  # another process claimed it first
            checkpoint("claimed-file")
            taken.append(dest)
        return sorted(taken), waiting

    def unclaim(self, claimed_path: Path) -> bool:
        """Put a claimed file back into the inbox (it changed while it was read). False when a
        new file of that name is already there: then it stays claimed for the next run."""
        dest = self.inbox / claimed_path.relative_to(self.claimed)
        if dest.exists():
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(claimed_path, dest)
        return True

    def shop_hint(self, claimed_path: Path) -> str:
        rel = claimed_path.relative_to(self.claimed)
        return rel.parts[0] if len(rel.parts) > 1 else ""

    def settle_destination(self, claimed_path: Path, outcome: str, day: str) -> Path:
        """Where a claimed file goes: archive/<day>/ (applied, duplicate) or failed/ (rejected)."""
        rel = claimed_path.relative_to(self.claimed)
        base = self.failed if outcome == "rejected" else self.archive / day
        return _free_name(base / rel)


def _free_name(path: Path) -> Path:
    """``path``, or "name (2).ext", "name (3).ext" ... when taken, each short enough for the disk."""
    path = path.with_name(fitting_name(path.name))
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(fitting_name(path.name, f" ({n})"))
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)


class WorkspaceLock:
    """One batch at a time per workspace (cron and watch may both try)."""

    def __init__(self, workspace: Workspace, wait_seconds: float = 0.0):
        self.path = workspace.state_dir / "lock"
        self.wait_seconds = wait_seconds
        self._fd: int | None = None

    def __enter__(self) -> "WorkspaceLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise WorkspaceBusy("another batchship run is working on this workspace; "
                                        "try again when it has finished (or use --wait SECONDS)")
                time.sleep(0.2)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
