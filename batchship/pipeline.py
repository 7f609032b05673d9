"""One batch: claim inbox files, import them, run the stages, commit once, write the outputs.

A batch commits everything in one transaction of the store. Outputs and file moves
happen after the commit and are driven by what the store holds, so a run
interrupted at any point is completed (or redone) by the next run with the
same result.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .collector import batch_collector
from .config import Config
from .countries import ISO2_CODES
from .errors import ConfigError, FileRejected, Problem
from .faults import checkpoint
from .forwarders.booking import (booking_channels, check_booking_config, has_booking_work,
                                 settle_bookings)
from .frame_records import column_rows, order_keys
from .importers import Imported, load_file, load_templates
from .importers.companions import join_companions
from .importers.normalize import clean_tracking_number
from .importers.templates import PLATFORMS
from .inbox_files import unsupported_reason
from .read_ahead import ReadAhead, file_signature, file_sizes, unchanged_since
from . import progress
from .rules.check import unknown_channels
from .rules.in_force import blacklist_in_force, rules_in_force, workbook_rows
from .s10 import s10_problem
from .schemas import Action, BookingResult, Line, PoolNumber, ShipScan
from .stages.bookings import sheet_answers
from .stages.events import concat_events
from .stages.sequence import STAGES, run_stages
from .stages.stock import adjustment_movements, below_zero, count_adjustments, receipt_movements
from .stages.sync import BATCH_FILE
from .database import database_url
from .store import Store, StoredRun
from .workspace import Workspace, WorkspaceLock
from .writers.upload_carriers import check_upload_carriers
from .writers.upload_format import load_upload_formats
from .writers.label_pool import LabelsAhead, workers_ahead

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    claimed: Path
    name: str
    outcome: str                  # applied | rejected | duplicate | changed (being written: not applied)
    detail: str = ""
    problems: list[Problem] = field(default_factory=list)
    imported: Imported | None = None
    sha256: str = ""


@dataclass
class RunReport:
    run_id: str
    outbox: Path | None
    summary: dict
    timings: dict[str, float] = field(default_factory=dict)
    recovered: dict[str, dict] = field(default_factory=dict)   # interrupted runs completed first: id -> summary
    waiting: list[tuple[str, str]] = field(default_factory=list)  # (inbox name, why) left for the next run

    @property
    def output_problems(self) -> list[str]:
        return [p for s in [self.summary, *self.recovered.values()] for p in s.get("output_problems", [])]

    @property
    def rejected(self) -> int:
        return sum(len(s.get("files", {}).get("rejected", []))
                   for s in [self.summary, *self.recovered.values()])

    @property
    def unprinted(self) -> int:
        """Labels whose text no font could print: kept out of the printed set, so cron must see them."""
        return sum(len(s.get("label_problems") or {}) for s in [self.summary, *self.recovered.values()])

    @property
    def refused(self) -> int:
        """Handover scans and staff decisions that named no order they could apply to."""
        return sum(s.get("scan_problems", 0) + s.get("action_problems", 0)
                   for s in [self.summary, *self.recovered.values()])


def run_batch(root: Path, config: Config, *, only: list[Path] | None = None, wait_seconds: float = 0.0,
              now: datetime | None = None) -> RunReport:
    """Process every ready file in ``root/inbox`` once (or just ``only``)."""
    with batch_collector():
        return _run_batch(root, config, only, wait_seconds, now)


def _run_batch(root: Path, config: Config, only: list[Path] | None, wait_seconds: float,
               now: datetime | None) -> RunReport:
    check_config_against_formats(config, root)
    check_booking_config(config, root)
    ws = Workspace(root.resolve())
    ws.ensure()
    with WorkspaceLock(ws, wait_seconds):
        checkpoint("locked")
        store = Store(database_url(ws.root, config.database), config.store.busy_timeout_seconds)
        try:
            recovered = {}
            for unfinished in store.unfinished_runs():
                _complete(ws, store, config, unfinished)
                recovered[unfinished] = store.run_summary(unfinished)
            checkpoint("unfinished-done")
            in_force = rules_in_force(store, config)
            for finding in unknown_channels(in_force.review + in_force.logistics, set(config.channels)):
                raise ConfigError(str(finding))
            if in_force.logistics != config.logistics:   # a rules workbook is in force
                check_upload_config(config, in_force.logistics, root)
            # Local time: the run id's day is the ship date in uploads and the archive folder, which
            # must be the seller's day, not UTC's.
            report = _run(ws, store, config, only, now or datetime.now().astimezone())
            report.recovered = recovered
            return report
        finally:
            store.close()


def _run(ws: Workspace, store: Store, config: Config, only: list[Path] | None, now: datetime) -> RunReport:
    started = time.perf_counter()
    claimed, waiting = ws.claim(config.watch, only)
    checkpoint("claimed")
    shutil.rmtree(ws.labels_ahead, ignore_errors=True)     # what a killed run rendered ahead
    # Forked while the run is small, before it loads the batch (writers/label_pool.py).
    label_workers = workers_ahead(sum(file_sizes(claimed).values()), ws.labels_ahead)
    try:
        return _run_claimed(ws, store, config, claimed, waiting, now, started, label_workers)
    finally:
        if label_workers is not None:     # the outputs shut them down, unless the run never got there
            label_workers.shutdown(wait=True, cancel_futures=True)


def _run_claimed(ws: Workspace, store: Store, config: Config, claimed: list[Path],
                 waiting: list[tuple[str, str]], now: datetime, started: float,
                 label_workers: LabelsAhead | None) -> RunReport:
    timings: dict[str, float] = {}
    clock = started

    def lap(name: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + t - clock
        clock = t

    so_far = BatchSoFar()
    outcomes = []

    def read(path: Path) -> tuple[Imported, list[Problem]]:
        imported = load_file(path, shop_hint=ws.shop_hint(path), config=config, workspace=ws.root)
        return imported, _pool_file_problems(config, imported)

    with ReadAhead([p for p in claimed if not unsupported_reason(p.name)], read) as ahead:
        for path in claimed:
            outcomes.append(_import(ws, store, config, path, so_far, ahead.load))
            log.info("read %s: %s %s", path.relative_to(ws.claimed), outcomes[-1].outcome, outcomes[-1].detail)
            progress.advance("files read", total=len(claimed), label=path.name)
    for o in outcomes:
        if o.outcome == "changed":
            where = "inbox" if ws.unclaim(o.claimed) else ".batchship/claimed"
            waiting.append((o.claimed.relative_to(ws.claimed).as_posix(),
                            f"it changed while it was being read (still being written?); it waits in {where}/"))
    outcomes = [o for o in outcomes if o.outcome != "changed"]
    # Exports that split one order over two files (Etsy's orders and order items) are joined.
    join_companions([o.imported for o in outcomes if o.imported], load_templates(workspace=ws.root))
    checkpoint("imported")
    lap("import")
    # Cron calls often find nothing: no run, no empty outbox folder, unless parcels wait for a forwarder.
    if not outcomes and not has_booking_work(store, config):
        return RunReport("", None, {}, waiting=waiting)
    with store.batch():
        # Inside the batch: another site sharing the store may have taken this second's id.
        run_id = _new_run_id(store, now)
        _applied_meanwhile(store, outcomes)
        store.start_run(run_id, now.isoformat(timespec="seconds"))
        checkpoint("run-started")
        from .outputs import render_labels_ahead
        ahead = (functools.partial(render_labels_ahead, label_workers, ws.outbox / run_id, store, config, run_id)
                 if label_workers is not None else None)
        summary, stored = _apply(store, config, run_id, now, outcomes, lap, ahead)
        for o in outcomes:
            store.record_file(run_id, str(o.claimed.relative_to(ws.claimed)), o.name, o.outcome, o.detail,
                              [p.__dict__ for p in o.problems], o.sha256,
                              o.imported.kind if o.imported else "", o.imported.platform if o.imported else "")
        # Paths inside the inbox, so a report can point at failed/<shop>/<name>.errors.xlsx.
        summary["files"] = {k: [str(o.claimed.relative_to(ws.claimed)) for o in outcomes if o.outcome == k]
                            for k in ("applied", "rejected", "duplicate")}
        summary["notes"] = sorted({n for o in outcomes if o.imported for n in o.imported.notes})
        checkpoint("files-recorded")
        store.commit_run(run_id, datetime.now(timezone.utc).isoformat(timespec="seconds"), summary)
    lap("commit")
    for o in outcomes:     # the outputs take what was committed, never the files' frames: free them
        o.imported = None
    store.copy_wal_meanwhile()
    log.info("run %s committed: %d file(s) applied", run_id, sum(o.outcome == "applied" for o in outcomes))
    outbox = _complete(ws, store, config, run_id, lap, timings, label_workers, stored)
    log.info("run %s finished, outputs in %s; seconds per step: %s", run_id, outbox,
             ", ".join(f"{k} {v:.2f}" for k, v in timings.items()))
    return RunReport(run_id, outbox, store.run_summary(run_id), timings, waiting=waiting)


def _applied_meanwhile(store: Store, outcomes: list[FileOutcome]) -> None:
    """Files another site sharing the store applied while this one read them: checked again inside
    the batch's transaction, where no other batch can commit, they become duplicates here."""
    for o in outcomes:
        earlier = store.applied_file(o.sha256) if o.outcome == "applied" else None
        if earlier:
            o.outcome, o.detail, o.imported = "duplicate", f"same content already applied in run {earlier}", None


def _complete(ws: Workspace, store: Store, config: Config, run_id: str, lap=None,
              timings: dict[str, float] | None = None, label_workers: LabelsAhead | None = None,
              stored: StoredRun | None = None) -> Path:
    """What follows a batch's commit, redone in full by the next run if this one is killed:
    bookings with forwarders, then the outputs and the file moves. ``stored``: what the batch
    stored, as reading it back gives it (Store.run_frames)."""
    booked = settle_bookings(ws, store, config, run_id)
    if booked:
        summary = store.run_summary(run_id)
        summary["bookings"] = booked
        store.update_summary(run_id, summary)
        stored = None       # bookings changed orders and added events since: the outputs read them all
    if lap:
        lap("bookings")
    # Imported when there are outputs to write: a cron call that finds nothing does without the
    # writers (fpdf2, xlsxwriter, pdfium), a second of its start.
    from .outputs import write_run_outputs
    outbox, _ = write_run_outputs(ws, store, config, run_id, timings=timings, label_workers=label_workers,
                                  stored=stored)
    if lap:
        lap("outputs")
    return outbox


def check_config_against_formats(config: Config, root: Path | None = None) -> None:
    """What batchship.toml names must exist: shop platforms, carrier-map platforms, the CJK font.
    A shop may name a column map of the workspace's own (``root/templates/formats``)."""
    templates = load_templates(workspace=root)
    known = {t.name for t in templates} | {t.platform for t in templates}
    for shop in config.shops.values():
        if shop.platform not in known:
            raise ConfigError(f"batchship.toml: shop {shop.name!r}: platform {shop.platform!r} is not known "
                              f"(platforms: {', '.join(PLATFORMS)})")
    for channel in config.channels.values():
        for platform in channel.carriers:
            if platform not in PLATFORMS:
                raise ConfigError(f"batchship.toml: channel {channel.name!r}: carriers names {platform!r}, "
                                  f"which is not a platform ({', '.join(PLATFORMS)})")
    for finding in unknown_channels(config.logistics + config.review_rules, set(config.channels)):
        raise ConfigError(str(finding))
    check_upload_config(config, config.logistics, root, templates)
    if config.cjk_font and not Path(config.cjk_font).expanduser().is_file():
        raise ConfigError(f"batchship.toml: labels.cjk_font {config.cjk_font!r} is not a file")


def check_upload_config(config: Config, rules, root: Path | None = None, templates=None) -> None:
    """Each channel the logistics rules route a shop's orders to names the carrier that shop's
    tracking upload needs (writers/upload_carriers.py)."""
    templates = templates if templates is not None else load_templates(workspace=root)
    check_upload_carriers(config, tuple(rules), load_upload_formats(),
                          {t.name: t.platform for t in templates})


def _new_run_id(store: Store, now: datetime) -> str:
    base = now.strftime("%Y%m%d-%H%M%S")
    taken = {r[0] for r in store.db.execute("SELECT run_id FROM runs WHERE run_id LIKE ?", (base + "%",))}
    n = 1
    run_id = base
    while run_id in taken:
        n += 1
        run_id = f"{base}-{n}"
    return run_id


@dataclass
class BatchSoFar:
    """What the files read so far in this batch hold, for checks that span files."""
    applied: dict[str, str] = field(default_factory=dict)   # sha256 -> file name
    pool: dict[str, str] = field(default_factory=dict)      # tracking number -> channel


def _import(ws: Workspace, store: Store, config: Config, path: Path, so_far: BatchSoFar, read) -> FileOutcome:
    """One claimed file's outcome; ``read(path)`` reads it (importers.load_file, maybe read ahead) and
    gives what the file alone tells against it as a pool file (``_pool_file_problems``)."""
    name = path.name
    unsupported = unsupported_reason(name)
    if unsupported:
        return FileOutcome(path, name, "rejected", problems=[Problem(unsupported)])
    try:
        before = file_signature(path)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return FileOutcome(path, name, "rejected", problems=[Problem(f"could not read the file: {exc.strerror}")])
    earlier = store.applied_file(sha)
    if earlier:
        return FileOutcome(path, name, "duplicate", f"same content already applied in run {earlier}", sha256=sha)
    if sha in so_far.applied:   # the same file saved twice while a run was busy: both land in one batch
        return FileOutcome(path, name, "duplicate", f"same content as {so_far.applied[sha]} in this batch",
                           sha256=sha)
    try:
        imported, pool_problems = read(path)
        _check_pool(store, imported, name, so_far.pool, pool_problems)
        _check_booking_results(store, imported, name)
        _check_rules(config, imported, name)
        _check_adjustments(store, imported, name)
        outcome = FileOutcome(path, name, "applied",
                              f"{imported.kind} ({imported.platform}), {len(imported.frame)} rows",
                              imported=imported, sha256=sha)
    except FileRejected as exc:
        outcome = FileOutcome(path, name, "rejected", exc.message, exc.problems, sha256=sha)
    except Exception as exc:  # a reader bug must not stop the other files of the batch
        log.exception("unexpected error reading %s", path)
        outcome = FileOutcome(path, name, "rejected", problems=[Problem(
            f"could not be read ({exc.__class__.__name__}: {exc}); please report this file")], sha256=sha)
    # A copier may still hold the file open after the claim renamed it: what was read must be
    # all there is, or the file waits (neither applied nor rejected) for the next run.
    if not unchanged_since(path, before):
        return FileOutcome(path, name, "changed")
    if outcome.imported is not None:
        so_far.applied[sha] = name
        if outcome.imported.kind == "tracking_pool":
            frame = outcome.imported.frame
            so_far.pool.update(column_rows(frame, [PoolNumber.tracking_number, PoolNumber.channel]))
    return outcome


def _check_rules(config: Config, imported: Imported, name: str) -> None:
    """A rules workbook names only declared channels: a rule routing to none would hold every order it takes."""
    if imported.kind != "rules":
        return
    frame = imported.frame
    unknown = frame[(frame["channel"] != "") & ~frame["channel"].isin(set(config.channels))]
    if len(unknown):
        raise FileRejected(name, [Problem(f"channel {c!r} is not declared under [[channels]] in batchship.toml "
                                          f"(channels: {', '.join(sorted(config.channels)) or 'none'})",
                                          row=int(r), column="channel", value=c)
                                  for c, r in zip(unknown["channel"], unknown["source_row"])])


def _check_adjustments(store: Store, imported: Imported, name: str) -> None:
    """An adjustment may not take a place below nothing: more lost than is there is a miscount."""
    if imported.kind != "adjustments":
        return
    bad = below_zero(imported.frame, store.on_hand())
    if len(bad):
        raise FileRejected(name, [Problem(f"{sku} in {wh} would go below zero ({left}): more taken out than "
                                          "the ledger holds; count it instead", row=int(row), column="quantity",
                                          value=str(q))
                                  for wh, sku, q, row, left in zip(bad["warehouse"], bad["sku"], bad["quantity"],
                                                                   bad["source_row"], bad["left"])])


def _pool_file_problems(config: Config, imported: Imported) -> list[Problem]:
    """What a tracking-pool file alone tells against it: S10 numbers must pass their check digit; a
    channel must be declared, or its numbers would wait in a pool nothing draws from. Worked out
    where the file is read, beside the run when it is read ahead."""
    if imported.kind != "tracking_pool":
        return []
    f = imported.frame
    problems = []
    declared = ", ".join(config.channels) or "none"
    for channel, row in column_rows(f, [PoolNumber.channel, PoolNumber.row]):
        if channel not in config.channels:
            problems.append(Problem(f"channel {channel!r} is not declared in batchship.toml (declared: {declared})",
                                    row=int(row), column="channel", value=channel))
    for number, row in column_rows(f, [PoolNumber.tracking_number, PoolNumber.row]):
        why = s10_problem(number, ISO2_CODES)
        if why:
            problems.append(Problem(why, row=int(row), column="tracking_number", value=number))
    return problems


def _check_pool(store: Store, imported: Imported, name: str, earlier_in_batch: dict[str, str],
                file_problems: list[Problem]) -> None:
    """Tracking-pool files: the file's own problems (``_pool_file_problems``), and a number cannot
    change channel, in the store or in the batch."""
    if imported.kind != "tracking_pool":
        return
    f = imported.frame
    problems = list(file_problems)
    known = {**earlier_in_batch, **store.known_pool_numbers(f[PoolNumber.tracking_number].tolist())}
    for number, channel, row in column_rows(f, [PoolNumber.tracking_number, PoolNumber.channel, PoolNumber.row]):
        if number in known and known[number] != channel:
            problems.append(Problem(f"already in the pool of channel {known[number]}", row=int(row),
                                    column="channel", value=channel))
    dup = f[f.duplicated(PoolNumber.tracking_number, keep=False)]
    for number, group in dup.groupby(PoolNumber.tracking_number):
        if group[PoolNumber.channel].nunique() > 1:
            problems.append(Problem("the same number is listed for two channels", row=int(group[PoolNumber.row].iloc[1]),
                                    column="tracking_number", value=number))
    if problems:
        raise FileRejected(name, problems)


def _check_booking_results(store: Store, imported: Imported, name: str) -> None:
    """A forwarder's result sheet answers only for parcels a booking sheet listed and that still
    wait, gives each a number no other parcel has, or a reason; otherwise nothing of it applies."""
    if imported.kind != "booking_result":
        return
    f = imported.frame
    known = store.sheet_bookings(f[BookingResult.reference])
    numbers = f[BookingResult.tracking_number]
    used = store.tracking_numbers_in_use(numbers[numbers != ""])
    problems = []
    for ref, number, error, row in zip(f[BookingResult.reference], numbers, f[BookingResult.error],
                                       f[BookingResult.row]):
        booking = known.get(ref)
        if booking is None:
            problems.append(Problem("no booking sheet listed this reference", row=int(row), column="reference",
                                    value=ref))
        elif booking["state"] == "booked":
            problems.append(Problem(f"this parcel is already booked, with {booking['tracking_number']}",
                                    row=int(row), column="reference", value=ref))
        elif booking["state"] != "sheet":
            problems.append(Problem(f"this parcel is not waiting for a result (its booking is {booking['state']})",
                                    row=int(row), column="reference", value=ref))
        if not number and not error:
            problems.append(Problem("neither a tracking number nor the forwarder's reason", row=int(row),
                                    column="tracking_number"))
        elif number:
            why = used.get(number) or s10_problem(number, ISO2_CODES)
            if why:
                problems.append(Problem(f"tracking number already used by {why}" if number in used else why,
                                        row=int(row), column="tracking_number", value=number))
    repeated = f[(numbers != "") & numbers.duplicated(keep="first")]
    for number, row in zip(repeated[BookingResult.tracking_number], repeated[BookingResult.row]):
        problems.append(Problem("the same tracking number is given to two parcels", row=int(row),
                                column="tracking_number", value=number))
    if problems:
        raise FileRejected(name, problems)


def _frames(outcomes: list[FileOutcome], kind: str) -> pd.DataFrame | None:
    """The batch's rows of one kind, each tagged with its file's place in the batch."""
    frames = [o.imported.frame.assign(**{BATCH_FILE: i}) for i, o in enumerate(outcomes)
              if o.imported and o.imported.kind == kind]
    return pd.concat(frames, ignore_index=True) if frames else None


def _apply(store: Store, config: Config, run_id: str, now: datetime, outcomes: list[FileOutcome], lap,
           labels_ahead: Callable[[StoredRun], None] | None = None) -> tuple[dict, StoredRun]:
    """The batch's files applied and its stages run, all stored: the summary's counts, and what was
    stored as reading it back gives it, which ``labels_ahead`` (outputs.render_labels_ahead) is
    handed before it is stored."""
    products = _frames(outcomes, "products")
    if products is not None:
        store.upsert_products(products.drop_duplicates("sku", keep="last"))
        checkpoint("applied-products")
    pairing = _frames(outcomes, "pairing")
    if pairing is not None:
        store.replace_pairing(pairing)
        checkpoint("applied-pairing")
    # Counts, receipts and adjustments in the order their files came: a count states what the shelf
    # held after whatever came before it.
    stock_moves = {"stock": lambda f: count_adjustments(f, store.on_hand()), "receipts": receipt_movements,
                   "adjustments": adjustment_movements}
    for o in outcomes:
        if o.imported and o.imported.kind in stock_moves:
            moves, places = stock_moves[o.imported.kind](o.imported.frame)
            store.set_shelves(places, run_id)
            store.add_movements(run_id, moves)
            checkpoint("applied-stock")
    purchase_orders = _frames(outcomes, "purchase_orders")
    if purchase_orders is not None:
        store.record_purchase_orders(run_id, purchase_orders.drop_duplicates(
            ["po_number", "warehouse", "sku"], keep="last"))
    blacklist = _frames(outcomes, "blacklist")
    if blacklist is not None:
        store.replace_blacklist(blacklist)
    for o in outcomes:
        if o.imported and o.imported.kind == "rules":
            for kind, rows in workbook_rows(o.imported.frame).items():
                store.replace_rules(kind, run_id, o.name, rows)
    pool = _frames(outcomes, "tracking_pool")
    if pool is not None:
        store.add_pool_numbers(pool)
        checkpoint("applied-pool")
    lap("apply inputs")

    def after(stage) -> None:
        if stage.checkpoint:
            checkpoint(stage.checkpoint)
        lap(stage.name)
        progress.advance("stages", total=len(STAGES), label=stage.name)

    state = run_stages(_batch_state(store, config, run_id, now, outcomes, pairing), after_each=after)
    orders, lines = state["orders"], state["lines"]
    per_stage = orders["stage"].value_counts()
    progress.note("orders of this batch per stage: " + ", ".join(f"{st} {n}" for st, n in per_stage.items()))
    if state["movements"]:
        store.add_movements(run_id, pd.concat(state["movements"], ignore_index=True))
    if state["booking_results"] is not None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        answers = sheet_answers(state["booking_results"])
        store.set_booking_results([(ref, st, now, number, "", "", "", reason) for ref, st, number, reason in zip(
            answers["reference"], answers["state"], answers["tracking_number"], answers["reason"])], run_id)

    if state["decision_results"] is not None:
        store.record_decisions(run_id, state["decision_results"])
        store.set_booking_states(state["cancel_again"], "booked")
        store.set_booking_states(state["cancel_ignored"], "cancel_ignored")
    events = concat_events(state["events"])
    refused = concat_events(state["refused"])
    touched = events[["shop", "order_id"]].drop_duplicates()
    key = ["shop", "order_id"]
    changed = orders.merge(touched, on=key)
    changed["updated_run"] = run_id
    changed = _with_import_notes(changed, outcomes, run_id)
    lines = lines.merge(touched, on=key)
    stored = StoredRun.of([events, refused], changed, lines)
    if labels_ahead is not None:
        labels_ahead(stored)
    store.upsert_orders(changed)
    store.replace_lines(lines)
    checkpoint("stored-orders")
    store.mark_pool(run_id, pd.concat(state["issued"], ignore_index=True), state["voided"])
    checkpoint("stored-pool")
    store.record_events(run_id, events)
    store.record_events(run_id, refused)
    checkpoint("stored-events")
    lap("store")
    return {"touched_orders": len(touched), "scan_problems": int((refused["event"] == "scan not applied").sum()),
            "action_problems": int((refused["event"] == "action not applied").sum())}, stored


def _with_import_notes(orders: pd.DataFrame, outcomes: list[FileOutcome], run_id: str) -> pd.DataFrame:
    """Orders that enter with this batch carry what their import noted about them
    (e.g. garbled text repaired), after whatever the stages noted."""
    said: dict[tuple[str, str], str] = {}
    for o in outcomes:
        if o.imported is not None:
            for key, note in o.imported.order_notes.items():
                said.setdefault(key, note)
    if not said or orders.empty:
        return orders
    orders = orders.copy()
    new = orders["created_run"] == run_id
    keys = pd.Series(order_keys(orders), index=orders.index)
    notes = keys.map(said)
    hit = new & notes.notna()
    for idx in orders.index[hit]:
        before = str(orders.at[idx, "notes"] or "")
        orders.at[idx, "notes"] = f"{before}; {notes[idx]}" if before else notes[idx]
    return orders


def _batch_state(store: Store, config: Config, run_id: str, now: datetime, outcomes: list[FileOutcome],
                 pairing_file: pd.DataFrame | None) -> dict:
    """Everything the stages read, loaded once (see batchship/stages/sequence.py for the names)."""
    incoming = _frames(outcomes, "orders")
    incoming = incoming if incoming is not None else pd.DataFrame(columns=Line.columns + [BATCH_FILE])
    decisions = _frames(outcomes, "actions")
    scans = _frames(outcomes, "ship_confirm")
    refs = set(decisions[Action.order_id]) if decisions is not None else set()
    scan_refs = set(scans[ShipScan.reference]) if scans is not None else set()
    scan_refs |= {clean_tracking_number(r) for r in scan_refs}
    named = set(column_rows(incoming, [Line.shop, Line.order_id])) | store.keys_referenced(refs | scan_refs)
    orders = store.active_orders(named)
    on_hand = store.on_hand()
    decided = (orders[orders["order_id"].isin(refs)] if refs else orders.iloc[:0])
    products = store.products()
    waiting = orders[orders["stage"] == "waybill"]
    in_force = rules_in_force(store, config)
    return {
        "orders": orders, "lines": store.lines_of(orders), "incoming": incoming,
        "pairing": store.pairing(), "pairing_file": pairing_file,
        "products": products, "on_hand": on_hand,
        "known_skus": set(products["sku"]) | set(on_hand["sku"]),
        "decisions": decisions, "scans": scans, "decision_results": None, "cancel_again": [], "cancel_ignored": [],
        "cancel_failed": {(s, o): ref for ref, s, o in store.cancel_failures(
            order_keys(decided))[["reference", "shop", "order_id"]].itertuples(index=False)},
        "applied_decisions": store.applied_decisions(order_keys(decided)),
        "channels": frozenset(config.channels), "booking_results": _frames(outcomes, "booking_result"),
        # Orders routed in this batch have no booking yet: only those already waiting can have one.
        "bookings": store.bookings_of(order_keys(waiting)),
        "free_pool": store.free_pool(), "voided_numbers": store.voided_numbers(scan_refs),
        "booking_channels": set(booking_channels(config)), "sheet_channels": set(booking_channels(config, "sheet")),
        "logistics": in_force.logistics, "review_rules": in_force.review, "review_checks": config.review_checks,
        "blacklist": blacklist_in_force(store, config),
        "now": now, "known_countries": ISO2_CODES, "run_id": run_id,
        "third_party_warehouses": frozenset(config.third_party_warehouses()),
    }
