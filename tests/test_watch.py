"""The inbox watcher: real files, real watchdog observers, short settle times."""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from batchship.config import WatchSettings
from batchship.inbox_files import inbox_candidates, is_ignored, unsupported_reason
from batchship.inbox_files import EMPTY_FILE_SETTLE_SECONDS
from batchship.watch import InboxWatcher

SETTLE = 0.4
WAIT = 3.0   # upper bound for anything expected to happen; tests stay under 5 s


def settings(polling: bool = False, **overrides) -> WatchSettings:
    values = dict(settle_seconds=SETTLE, min_age_seconds=0.2, polling=polling,
                  poll_interval_seconds=0.1, rescan_seconds=60.0)
    values.update(overrides)
    return WatchSettings(**values)


def wait_until(condition, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class Pipeline:
    """Stands in for the real batch: records what it saw, then claims each file by
    moving it out of the inbox, as the pipeline does."""

    def __init__(self, tmp_path: Path, fail_first: int = 0):
        self.done = tmp_path / "processed"
        self.done.mkdir()
        self.calls: list[list[tuple[str, int, bytes]]] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def __call__(self, ready: list[Path]) -> None:
        with self._lock:
            if self.fail_first:
                self.fail_first -= 1
                self.calls.append([])
                raise RuntimeError("database is locked")
            seen = []
            for path in ready:
                if not path.exists():
                    continue
                data = path.read_bytes()
                seen.append((path.name, path.stat().st_size, data))
                shutil.move(path, self.done / f"{len(self.calls)}-{path.name}")
            self.calls.append(seen)

    def names(self) -> list[str]:
        with self._lock:
            return [name for call in self.calls for name, _, _ in call]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def running(inbox: Path, tmp_path: Path):
    """Starts a watcher thread for a test; always stops it, within the test's time."""
    started = []

    def start(watch_settings: WatchSettings, pipeline: Pipeline) -> InboxWatcher:
        watcher = InboxWatcher(inbox, watch_settings, pipeline)
        stop = threading.Event()
        thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
        thread.start()
        started.append((stop, thread))
        # Let the initial scan and the observer settle so events are not missed.
        time.sleep(0.3 if watch_settings.polling else 0.15)
        return watcher

    yield start
    for stop, thread in started:
        stop.set()
        thread.join(timeout=5)
        assert not thread.is_alive(), "watcher did not stop"


modes = pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])


# --- with real observers -------------------------------------------------------


@modes
def test_slowly_written_file_is_passed_once_after_its_last_chunk(inbox, tmp_path, running, polling):
    pipeline = Pipeline(tmp_path)
    # Chunks come 0.15 s apart: a settle time eight times that keeps a pause the machine's load
    # adds between two chunks (the suite runs on every core) from passing for the end of the copy.
    settle = 1.2
    running(settings(polling, settle_seconds=settle), pipeline)
    target = inbox / "orders.csv"
    chunk = b"order_id,sku,qty\n" + b"A-1,SKU-1,1\n" * 200
    with open(target, "wb") as out:
        for _ in range(5):
            out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            time.sleep(0.15)
    final_size = target.stat().st_size if target.exists() else None

    assert final_size == 5 * len(chunk), "the watcher took the file while it was still being written"
    assert wait_until(lambda: pipeline.names() == ["orders.csv"])
    time.sleep(settle * 1.5)   # no second call for the same file
    assert pipeline.names() == ["orders.csv"]
    [(_, size_seen, data_seen)] = [item for call in pipeline.calls for item in call]
    assert size_seen == final_size and data_seen == chunk * 5


@modes
@pytest.mark.parametrize("temp_name", ["~$tmp123", "A1B2C3D4.tmp", "8A3B2C00"])
def test_excel_save_by_rename_is_picked_up(inbox, tmp_path, running, polling, temp_name):
    pipeline = Pipeline(tmp_path)
    running(settings(polling), pipeline)
    temp = inbox / temp_name
    temp.write_bytes(b"PK\x03\x04 saved workbook")
    time.sleep(SETTLE + 0.3)          # long enough for the temp file to be "ready" if it were not ignored
    assert pipeline.names() == []
    os.replace(temp, inbox / "orders.xlsx")

    assert wait_until(lambda: pipeline.names() == ["orders.xlsx"])
    [(_, _, data)] = [item for call in pipeline.calls for item in call]
    assert data == b"PK\x03\x04 saved workbook"


@modes
def test_lock_temp_hidden_and_backup_files_are_never_passed(inbox, tmp_path, running, polling):
    pipeline = Pipeline(tmp_path)
    running(settings(polling), pipeline)
    noise = ["~$orders.xlsx.bak", ".~lock.stock.xlsx#", "orders.xlsx.part", "report.crdownload",
             "stock.csv.filepart", ".hidden.csv", "Thumbs.db", "desktop.ini", ".DS_Store",
             "README", "orders.csv.swp", "orders.csv~", "stock.xlsx.bak"]
    for name in noise:
        (inbox / name).write_bytes(b"x")
    (inbox / "stock.csv").write_bytes(b"sku,qty\nSKU-1,3\n")

    assert wait_until(lambda: pipeline.names() == ["stock.csv"])
    time.sleep(SETTLE * 1.5)
    assert pipeline.names() == ["stock.csv"]
    assert sorted(p.name for p in inbox.iterdir()) == sorted(noise)


@modes
def test_files_dropped_together_each_arrive_exactly_once(inbox, tmp_path, running, polling):
    pipeline = Pipeline(tmp_path)
    running(settings(polling), pipeline)
    (inbox / "shopA").mkdir()
    (inbox / "orders.csv").write_bytes(b"order_id\nA-1\n")
    (inbox / "shopA" / "orders.xlsx").write_bytes(b"PK workbook")

    assert wait_until(lambda: sorted(pipeline.names()) == ["orders.csv", "orders.xlsx"])
    time.sleep(SETTLE * 1.5)
    assert sorted(pipeline.names()) == ["orders.csv", "orders.xlsx"]
    assert 1 <= len([c for c in pipeline.calls if c]) <= 2


@modes
def test_shop_folder_moved_in_whole_is_picked_up(inbox, tmp_path, running, polling):
    # Moving a folder in raises one event for the folder, none for the files inside.
    pipeline = Pipeline(tmp_path)
    running(settings(polling), pipeline)
    staging = tmp_path / "staging" / "shopB"
    staging.mkdir(parents=True)
    old_file(staging / "orders.csv")
    old_file(staging / "stock.xlsx")
    os.rename(staging, inbox / "shopB")
    assert wait_until(lambda: sorted(pipeline.names()) == ["orders.csv", "stock.xlsx"])


@modes
def test_same_file_dropped_again_after_processing_is_passed_again(inbox, tmp_path, running, polling):
    # The watcher must not remember a name forever: a re-drop is new input for the
    # pipeline (which itself recognises duplicates by content hash).
    pipeline = Pipeline(tmp_path)
    running(settings(polling), pipeline)
    source = tmp_path / "orders.csv"
    source.write_bytes(b"order_id\nA-1\n")
    shutil.copy2(source, inbox / "orders.csv")     # like Explorer: keeps the original mtime
    assert wait_until(lambda: pipeline.names() == ["orders.csv"])
    shutil.copy2(source, inbox / "orders.csv")
    assert wait_until(lambda: pipeline.names() == ["orders.csv", "orders.csv"])


@modes
def test_a_failing_batch_does_not_stop_the_watcher(inbox, tmp_path, running, polling, caplog):
    pipeline = Pipeline(tmp_path, fail_first=1)
    running(settings(polling, rescan_seconds=1.0), pipeline)
    with caplog.at_level(logging.ERROR, logger="batchship.watch"):
        (inbox / "first.csv").write_bytes(b"a\n1\n")
        assert wait_until(lambda: len(pipeline.calls) == 1)      # raised
        (inbox / "second.csv").write_bytes(b"a\n2\n")
        # The new file is handled, and the one whose batch failed is retried at the rescan.
        assert wait_until(lambda: sorted(pipeline.names()) == ["first.csv", "second.csv"])
    assert "database is locked" in caplog.text


# --- deterministic: poll_once driven by the test's clock -------------------------


def old_file(path: Path, data: bytes = b"a,b\n1,2\n") -> Path:
    path.write_bytes(data)
    past = time.time() - 3600
    os.utime(path, (past, past))
    return path


def watcher_without_observer(inbox: Path, **overrides) -> tuple[InboxWatcher, list[list[Path]]]:
    calls: list[list[Path]] = []
    values = dict(settle_seconds=5.0, min_age_seconds=2.0, rescan_seconds=60.0)
    values.update(overrides)
    watcher = InboxWatcher(inbox, WatchSettings(**values), calls.append, clock=lambda: 0.0)
    return watcher, calls


def test_rescan_finds_a_file_that_raised_no_event(inbox):
    watcher, calls = watcher_without_observer(inbox)
    assert watcher.poll_once(0.0) == []            # initial scan: empty inbox
    old_file(inbox / "orders.csv")                 # no observer running: no event at all
    assert watcher.poll_once(30.0) == []           # not seen yet: no rescan due
    assert watcher.poll_once(60.0) == []           # rescan finds it; settling starts now
    assert watcher.poll_once(64.0) == []
    assert watcher.poll_once(65.0) == [inbox / "orders.csv"]
    assert calls == [[inbox / "orders.csv"]]


def test_file_left_in_the_inbox_is_offered_again_only_at_each_rescan(inbox):
    # The pipeline claims files by moving them out; one it did not take must not be
    # resent on every tick, nor be stuck until the watcher restarts.
    watcher, calls = watcher_without_observer(inbox)
    path = old_file(inbox / "orders.csv")
    watcher.poll_once(0.0)
    assert watcher.poll_once(5.0) == [path]
    for t in (6.0, 10.0, 30.0, 59.0):
        assert watcher.poll_once(t) == []
    assert watcher.poll_once(60.0) == [path]       # rescan
    assert watcher.poll_once(61.0) == []
    assert len(calls) == 2


def test_edited_file_is_offered_again_once_it_settles(inbox):
    watcher, calls = watcher_without_observer(inbox)
    path = old_file(inbox / "orders.csv")
    watcher.poll_once(0.0)
    assert watcher.poll_once(5.0) == [path]
    assert watcher.poll_once(10.0) == []
    old_file(path, b"a,b\n1,2\n3,4\n")             # edited: different size
    assert watcher.poll_once(11.0) == []
    assert watcher.poll_once(15.0) == []
    assert watcher.poll_once(16.0) == [path]
    assert len(calls) == 2


def test_recent_mtime_waits_for_min_age(inbox):
    watcher, calls = watcher_without_observer(inbox, settle_seconds=1.0, min_age_seconds=3600.0)
    path = inbox / "orders.csv"
    path.write_bytes(b"a\n1\n")                    # mtime: now, by the real wall clock
    watcher.poll_once(0.0)
    assert watcher.poll_once(1.0) == []            # stable, but modified moments ago
    # Watching it unchanged for settle + min_age proves the same (covers clock skew on shares).
    assert watcher.poll_once(3601.0) == [path]


def test_mtime_in_the_future_from_a_skewed_share_clock_still_gets_through(inbox):
    watcher, calls = watcher_without_observer(inbox)
    path = inbox / "orders.csv"
    path.write_bytes(b"a\n1\n")
    future = time.time() + 600
    os.utime(path, (future, future))
    watcher.poll_once(0.0)
    assert watcher.poll_once(5.0) == []
    assert watcher.poll_once(7.0) == [path]


def test_workbook_open_in_excel_is_held_back_until_closed(inbox):
    watcher, calls = watcher_without_observer(inbox)
    path = old_file(inbox / "orders.xlsx")
    lock = inbox / "~$orders.xlsx"
    lock.write_bytes(b"user")
    watcher.poll_once(0.0)
    assert watcher.poll_once(30.0) == []
    lock.unlink()
    assert watcher.poll_once(31.0) == [path]


def test_empty_file_is_given_time_for_a_stalled_copy(inbox):
    watcher, calls = watcher_without_observer(inbox)
    path = old_file(inbox / "orders.csv", b"")
    watcher.poll_once(0.0)
    assert watcher.poll_once(10.0) == []
    assert watcher.poll_once(EMPTY_FILE_SETTLE_SECONDS) == [path]


def test_change_during_settling_restarts_the_wait(inbox):
    watcher, calls = watcher_without_observer(inbox)
    path = old_file(inbox / "orders.csv", b"a\n")
    watcher.poll_once(0.0)
    assert watcher.poll_once(4.0) == []
    old_file(path, b"a\n1\n")
    assert watcher.poll_once(5.0) == []            # would have been ready without the change
    assert watcher.poll_once(9.0) == []
    assert watcher.poll_once(10.0) == [path]


def test_failed_batch_is_retried_at_the_next_rescan_only(inbox):
    attempts = []

    def flaky(ready):
        attempts.append(ready)
        if len(attempts) == 1:
            raise OSError("share unavailable")

    watcher = InboxWatcher(inbox, WatchSettings(settle_seconds=5.0, min_age_seconds=2.0,
                                                rescan_seconds=60.0), flaky)
    path = old_file(inbox / "orders.csv")
    watcher.poll_once(0.0)
    assert watcher.poll_once(5.0) == [path]        # raised; the watcher carries on
    assert watcher.poll_once(6.0) == []            # no hot retry loop
    assert watcher.poll_once(30.0) == []
    assert watcher.poll_once(60.0) == [path]
    assert attempts == [[path], [path]]


def test_missing_inbox_is_reported_plainly(tmp_path):
    from batchship.errors import ConfigError
    watcher = InboxWatcher(tmp_path / "nope", WatchSettings(), lambda ready: None)
    with pytest.raises(ConfigError, match="does not exist"):
        watcher.start()


# --- the ignore rules -------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "~$orders.xlsx", ".~lock.orders.xlsx#", "orders.xlsx.tmp", "orders.csv.part", "x.filepart",
    "orders.csv.crdownload", "orders.partial", ".orders.csv.swp", ".hidden.xlsx", "Thumbs.db",
    "THUMBS.DB", "desktop.ini", ".DS_Store", "README", "8A3B2C00", "orders.csv~", "orders.xlsx.bak",
    "orders.XLSX.TMP", "", "shopA/~$orders.xlsx",
])
def test_is_ignored(name):
    assert is_ignored(name)


@pytest.mark.parametrize("name", [
    "orders.xlsx", "ORDERS.XLSX", "stock.xlsm", "old.xls", "amazon.txt", "ebay.tsv", "shopify.csv",
    "shopA/orders.csv", "注文 2024-05-01.csv",
])
def test_is_not_ignored(name):
    assert not is_ignored(name) and not unsupported_reason(name)


@pytest.mark.parametrize("name, advice", [
    ("orders.ods", "save it"), ("Stock.NUMBERS", "save it"), ("shopA/orders.xlsb", "save it"),
    ("exports.zip", "unpack"), ("orders.json", "export"), ("scan.pdf", "sheets only"),
    ("notes.docx", "sheets only"), ("orders.weird", "save it"),
])
def test_files_of_other_types_are_inputs_to_refuse_with_advice(name, advice):
    assert not is_ignored(name)
    assert advice in unsupported_reason(name)


def test_user_patterns_are_case_insensitive_globs():
    assert is_ignored("Backup of orders.xlsx", ["backup*"])
    assert is_ignored("shopA/draft.csv", ["SHOPA/*"])
    assert not is_ignored("shopB/draft.csv", ["shopA/*"])
    assert not is_ignored("orders.xlsx", ["backup*"])


def test_inbox_candidates_lists_inbox_and_shop_folders_only(inbox):
    for rel in ["b.csv", "a.xlsx", "~$a.xlsx", "shopA/orders.txt", "shopA/.hidden.csv",
                ".work/claimed.csv", "shopA/deeper/x.csv", "draft-1.csv"]:
        path = inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert inbox_candidates(inbox, ["draft-*"]) == [
        inbox / "a.xlsx", inbox / "b.csv", inbox / "shopA" / "orders.txt"]
    assert inbox_candidates(inbox / "missing") == []
