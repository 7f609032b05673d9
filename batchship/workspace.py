"""The workspace folder: where inputs wait, are claimed, archived or rejected."""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import WorkspaceBusy
from .faults import checkpoint
from .inbox_files import inbox_candidates

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

    def ensure(self) -> None:
        for d in (self.inbox, self.outbox, self.archive, self.failed, self.claimed):
            d.mkdir(parents=True, exist_ok=True)

    def claim(self, extra_ignore: tuple[str, ...] = (), only: list[Path] | None = None) -> list[Path]:
        """Move inbox files into the claimed folder by atomic rename, so no other run can take them.

        Files left in the claimed folder by an interrupted run are returned too. All are
        returned in name order, as if none had been claimed before: the batch (later files
        of a kind win) must not depend on where an interrupted run stopped claiming.
        """
        waiting = sorted(p for p in self.claimed.rglob("*") if p.is_file())
        candidates = inbox_candidates(self.inbox, extra_ignore)
        if only is not None:
            wanted = {p.resolve() for p in only}
            candidates = [p for p in candidates if p.resolve() in wanted]
        for src in candidates:
            rel = src.relative_to(self.inbox)
            dest = self.claimed / rel
            if dest.exists():
                continue  # a same-named file is still being worked on: take this one next time
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(src, dest)
            except FileNotFoundError:
                continue  # another process claimed it first
            checkpoint("claimed-file")
            waiting.append(dest)
        return sorted(waiting)

    def shop_hint(self, claimed_path: Path) -> str:
        rel = claimed_path.relative_to(self.claimed)
        return rel.parts[0] if len(rel.parts) > 1 else ""

    def settle_destination(self, claimed_path: Path, outcome: str, day: str) -> Path:
        """Where a claimed file goes: archive/<day>/ (applied, duplicate) or failed/ (rejected)."""
        rel = claimed_path.relative_to(self.claimed)
        base = self.failed if outcome == "rejected" else self.archive / day
        return _free_name(base / rel)


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
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
