"""``batchship watch``: hand inbox files to the pipeline once they are complete.

When a file is complete is decided by ``inbox_files.waiting_reason``, the rule
``run`` applies too; here the watcher's own observation of how long the file
has stayed unchanged feeds it. Events
(watchdog's Observer, or PollingObserver for SMB/CIFS/NFS shares, which deliver
no inotify events) only tell us *where* to look; readiness is always decided by
stat-ing the file on our own clock, and a periodic full rescan finds anything the
events missed. All decisions happen in ``poll_once``, on the caller's thread, so
tests can drive it with their own clock.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from .config import WatchSettings
from .errors import ConfigError
from .inbox_files import inbox_candidates, is_inbox_candidate, waiting_reason

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class _Signature:
    # No inode: CIFS mounts without serverino make them up and may change them.
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> "_Signature":
        return cls(st.st_size, st.st_mtime_ns)


@dataclass
class _Seen:
    signature: _Signature
    stable_since: float  # watcher clock when this signature was first seen
    offered: bool = False  # handed to run_batch in this form; not again until the next rescan


class _EventCollector(FileSystemEventHandler):
    """Runs on the observer thread: only records which paths to look at."""

    def __init__(self, watcher: "InboxWatcher"):
        self._watcher = watcher

    def on_created(self, event: FileSystemEvent) -> None:
        self._watcher._note(event, event.src_path, new_file=True)

    def on_moved(self, event: FileSystemEvent) -> None:
        # Excel saves by renaming a temp file over the workbook: the dest is what matters.
        self._watcher._note(event, event.dest_path, new_file=True)

    def on_modified(self, event: FileSystemEvent) -> None:
        self._watcher._note(event, event.src_path, new_file=False)

    def on_closed(self, event: FileSystemEvent) -> None:
        self._watcher._note(event, event.src_path, new_file=False)


class InboxWatcher:
    """Watches ``inbox`` and calls ``run_batch(ready_paths)`` when files are complete.

    Each ready file is passed once. It is passed again only if its size or mtime
    changes, a new file appears under the same name (a created/moved event), or
    it is still in the inbox at the next full rescan (the batch did not claim it).
    """

    def __init__(self, inbox: Path, settings: WatchSettings,
                 run_batch: Callable[[list[Path]], object],
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time):
        self.inbox = Path(inbox).absolute()
        self.settings = settings
        self._run_batch = run_batch
        self._clock = clock
        self._wall_clock = wall_clock
        self._seen: dict[Path, _Seen] = {}
        self._lock = threading.Lock()            # guards the two fields below
        self._pending: dict[Path, bool] = {}     # path -> a new file appeared there
        self._rescan_requested = True            # first poll scans what is already there
        self._next_rescan = 0.0
        self._observer = None
        self._scan_failing = False

    # --- observer thread ---------------------------------------------------

    def _note(self, event: FileSystemEvent, raw_path, new_file: bool) -> None:
        if not raw_path:
            return
        path = Path(os.fsdecode(raw_path))
        with self._lock:
            if event.is_directory:
                # A shop folder moved or copied in brings files that raise no events of their own.
                self._rescan_requested = self._rescan_requested or new_file
            elif is_inbox_candidate(self.inbox, path, self.settings.ignore):
                self._pending[path] = self._pending.get(path, False) or new_file

    # --- observer lifecycle ------------------------------------------------

    def start(self) -> None:
        """Start the filesystem observer (events only speed things up; polls decide)."""
        if not self.inbox.is_dir():
            raise ConfigError(f"inbox folder {self.inbox} does not exist")
        self._observer = self._start_observer(self.settings.polling)

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    def _start_observer(self, polling: bool):
        if polling:
            observer = PollingObserver(timeout=self.settings.poll_interval_seconds)
        else:
            observer = Observer()
        observer.schedule(_EventCollector(self), str(self.inbox), recursive=True)
        try:
            observer.start()
        except OSError as exc:
            if polling:
                raise
            # e.g. the inotify watch/instance limit is reached: polling still works.
            log.warning("filesystem events unavailable for %s (%s); polling instead", self.inbox, exc)
            return self._start_observer(polling=True)
        return observer

    def _observer_alive(self) -> bool:
        observer = self._observer
        return (observer is not None and observer.is_alive()
                and all(emitter.is_alive() for emitter in observer.emitters))

    def _revive_observer(self) -> None:
        # The polling emitter stops for good if the inbox vanishes (share dropped).
        if self._observer is None or self._observer_alive() or not self.inbox.is_dir():
            return
        log.warning("file watcher for %s stopped; restarting it", self.inbox)
        self.stop()
        try:
            self._observer = self._start_observer(self.settings.polling)
        except OSError as exc:
            log.warning("cannot restart the file watcher for %s: %s", self.inbox, exc)

    # --- decisions -----------------------------------------------------------

    def poll_once(self, now: float | None = None) -> list[Path]:
        """Look at every path we know of (plus the whole inbox if a rescan is due),
        and call ``run_batch`` once with the files that became ready. Returns them."""
        now = self._clock() if now is None else now
        with self._lock:
            pending, self._pending = self._pending, {}
            periodic = now >= self._next_rescan
            rescan = self._rescan_requested or periodic
            self._rescan_requested = False
        if rescan:
            self._rescan(pending)
        if periodic:
            self._next_rescan = now + self.settings.rescan_seconds
            self._revive_observer()
            # The pipeline claims what it takes by moving it out of the inbox. A file
            # still here after its batch (the batch raised, or a same-named file was
            # still being worked on) is offered once more per rescan period: never
            # in a hot loop, never stuck until a restart.
            for seen in self._seen.values():
                seen.offered = False
        for path, new_file in pending.items():
            seen = self._seen.get(path)
            if seen is None or new_file:
                self._seen[path] = _Seen(_Signature(-1, -1), now)  # replaced by the stat below
        ready = [path for path in sorted(self._seen) if self._is_ready(path, now)]
        if ready:
            self._dispatch(ready)
        return ready

    def _rescan(self, pending: dict[Path, bool]) -> None:
        try:
            found = inbox_candidates(self.inbox, self.settings.ignore)
        except OSError as exc:
            if not self._scan_failing:
                log.warning("cannot read inbox %s, will retry: %s", self.inbox, exc)
            self._scan_failing = True
            return
        self._scan_failing = False
        for path in found:
            pending.setdefault(path, False)

    def _is_ready(self, path: Path, now: float) -> bool:
        """Update what we know about ``path`` and say whether to hand it over now."""
        try:
            st = path.stat()
        except FileNotFoundError:
            del self._seen[path]            # claimed by the pipeline, or deleted
            return False
        except OSError as exc:
            log.debug("cannot stat %s, will retry: %s", path, exc)  # share hiccup
            return False
        seen = self._seen[path]
        signature = _Signature.of(st)
        if signature != seen.signature:
            self._seen[path] = _Seen(signature, now)
            return False
        if seen.offered:
            return False
        why = waiting_reason(path, st, self.settings, self._wall_clock(), unchanged_for=now - seen.stable_since)
        return not why

    def _dispatch(self, ready: list[Path]) -> None:
        for path in ready:
            self._seen[path].offered = True
        log.info("handing %d file(s) to the batch: %s", len(ready), ", ".join(p.name for p in ready))
        try:
            self._run_batch(list(ready))
        except Exception:
            log.exception("batch failed; the watcher keeps running and offers these files again at the next rescan")

    # --- loop ----------------------------------------------------------------

    def tick_seconds(self) -> float:
        """How often poll_once runs: often enough that settling is noticed promptly."""
        return min(1.0, max(0.05, self.settings.settle_seconds / 4))

    def run_forever(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set. Exceptions from run_batch never end the loop."""
        self.start()
        try:
            while not stop.is_set():
                self.poll_once()
                stop.wait(self.tick_seconds())
        finally:
            self.stop()
