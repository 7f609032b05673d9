"""Booking after the batch's commit: every parcel of a booking channel waiting in the waybill
stage is sent to its forwarder; then one transaction gives the orders their numbers.

Crash rules (DESIGN.md: a batch commits whole, outputs are redone from the store):
- the batch commits first with those orders in ``waybill``;
- a ``bookings`` row is committed for each parcel before its request is sent (state
  ``sending``), and its result (``booked`` with number and label, or ``refused``) as answers
  come in, fifty per transaction;
- a run killed anywhere in between is completed by the next run: a ``sending`` row means
  "the forwarder may have this parcel", so the forwarder is asked about the reference before
  booking again, and one parcel never becomes two shipments;
- the orders take their results in one transaction under the run's id, and the run's outputs
  (labels with the forwarders' pages) are written after it, as for any run.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import queue
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..config import Booking, Config
from ..errors import ConfigError
from ..faults import checkpoint
from ..stages.allocate import allocate
from ..stages.bookings import apply_booking_results
from ..stages.events import concat_events, events_for
from ..store import Store
from ..workspace import Workspace
from .client import Answer, Booked, Forwarder
from .mapping import Mapping, load_mapping
from .render import order_context
from ..frame_records import order_keys, records

FLUSH_EVERY = 50           # booking results per transaction
FLUSH_SECONDS = 0.5
PARCELS_PER_PROCESS = 500    # below this a second process costs more than it saves
_SAFE_REFERENCE = re.compile(r"[A-Za-z0-9._/-]{1,40}")


def booking_channels(config: Config, source: str = "") -> dict[str, Booking]:
    """Channels whose numbers come from a forwarder ("api", "sheet", or both when ``source`` is "")."""
    return {name: ch.booking for name, ch in config.channels.items()
            if ch.booking and (not source or ch.booking.source == source)}


def check_booking_config(config: Config, workspace: Path | None) -> None:
    """Every booking channel's mapping exists and its credentials are set, before anything is claimed."""
    for name, booking in booking_channels(config, "sheet").items():
        if not load_mapping(booking.forwarder, workspace).sheet_columns:
            raise ConfigError(f"batchship.toml: channel {name!r}: the {booking.forwarder} mapping has no [sheet] "
                              "table, so it cannot be booked through a booking sheet")
    for name, booking in booking_channels(config, "api").items():
        mapping = load_mapping(booking.forwarder, workspace)
        if mapping.create is None:
            raise ConfigError(f"batchship.toml: channel {name!r}: the {mapping.name} mapping has no [create] "
                              "call, so it cannot be booked over its API (use source = \"sheet\")")
        missing = [c for c in mapping.credentials if c not in booking.credentials]
        if missing:
            raise ConfigError(f"batchship.toml: channel {name!r}: the {mapping.name} mapping needs credentials "
                              f"{', '.join(missing)} (each the name of an environment variable)")
        unset = [v for v in booking.credentials.values() if not os.environ.get(v)]
        if unset:
            raise ConfigError(f"batchship.toml: channel {name!r}: environment variable(s) {', '.join(unset)} "
                              "are not set")
        if not (booking.base_url or mapping.base_url):
            raise ConfigError(f"batchship.toml: channel {name!r}: no base_url (the {mapping.name} mapping has "
                              "none either)")


def reference_of(shop: str, order_id: str) -> str:
    """What the forwarder knows the parcel by (its customer order number): readable when it can be."""
    plain = f"{shop}/{order_id}"
    if _SAFE_REFERENCE.fullmatch(plain):
        return plain
    return "BS" + hashlib.sha256(plain.encode("utf-8")).hexdigest()[:20].upper()


def has_booking_work(store: Store, config: Config) -> bool:
    channels = list(booking_channels(config))
    return bool(channels) and (len(store.orders_to_book(channels)) > 0 or len(store.bookings_to_cancel()) > 0
                               or bool(store.booked_in_waybill(channels)))


def settle_bookings(ws: Workspace, store: Store, config: Config, run_id: str) -> dict:
    """Book what waits, cancel what was cancelled, list what goes into booking sheets, and give
    the orders their results."""
    listed = _list_for_sheets(ws, store, config, run_id)
    channels = booking_channels(config, "api")
    if not channels:
        return _apply(store, run_id, set(booking_channels(config)), listed, _no_events()) if listed else {}
    todo = store.orders_to_book(list(channels))
    cancels = store.bookings_to_cancel()
    unapplied = store.booked_in_waybill(list(channels))
    if todo.empty and cancels.empty and not unapplied and not listed:
        return {}
    lines = store.lines_of(todo)
    mappings = {name: load_mapping(b.forwarder, ws.root) for name, b in channels.items()}
    intents = [{"reference": reference_of(o["shop"], o["order_id"]), "shop": o["shop"], "order_id": o["order_id"],
                "channel": o["channel"], "forwarder": mappings[o["channel"]].name}
               for o in records(todo)]
    store.record_booking_intents(intents, run_id, _now())
    checkpoint("booking-intents")
    cancel_events = _exchange(ws, store, config, channels, mappings, todo, lines, cancels)
    checkpoint("booked")
    return _apply(store, run_id, set(booking_channels(config)),
                  order_keys(todo) + unapplied + listed, cancel_events)


def _list_for_sheets(ws: Workspace, store: Store, config: Config, run_id: str) -> list[tuple[str, str]]:
    """Orders of sheet channels not yet in a booking sheet go into this run's (outputs write it)."""
    channels = booking_channels(config, "sheet")
    todo = store.orders_to_book(list(channels))
    if todo.empty:
        return []
    store.record_booking_intents(
        [{"reference": reference_of(o["shop"], o["order_id"]), "shop": o["shop"], "order_id": o["order_id"],
          "channel": o["channel"], "forwarder": channels[o["channel"]].forwarder} for o in records(todo)],
        run_id, _now(), state="sheet")
    return order_keys(todo)


def _no_events() -> pd.DataFrame:
    return events_for(pd.DataFrame(columns=["shop", "order_id"]), "")


def _exchange(ws, store, config, channels, mappings, todo, lines, cancels) -> pd.DataFrame:
    """Book every parcel of ``todo``; this thread records the results as they come, fifty per
    transaction. Large batches are split over one process per core: an HTTP client's CPU per
    request, not the forwarder, is what limits a batch's rate."""
    # Each parcel is booked with its own sender: its shop's, its warehouse's or the global one.
    sender = {(o["shop"], o["order_id"]): config.sender_for(o["shop"], o["warehouse"]).fields()
              for o in records(todo[["shop", "order_id", "warehouse"]])}
    lines_by_order: dict[tuple[str, str], list[dict]] = {}
    for line in records(lines):
        lines_by_order.setdefault((line["shop"], line["order_id"]), []).append(line)
    label_dir = ws.state_dir / "labels"
    label_dir.mkdir(parents=True, exist_ok=True)
    forwarders = {name: Forwarder(mappings[name], b.base_url, _credentials(b), timeout_seconds=b.timeout_seconds,
                                  retries=b.retries) for name, b in channels.items()}
    orders = records(todo)
    job = (orders, forwarders, channels, lines_by_order, sender, label_dir)
    processes = min(os.cpu_count() or 1, len(orders) // PARCELS_PER_PROCESS)
    children = []
    if processes > 1:
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        for part in range(processes):
            child = context.Process(target=_book_part, args=(job, part, processes, results.put), daemon=True)
            child.start()
            children.append(child)
    else:
        results = queue.SimpleQueue()
        threading.Thread(target=_book_part, args=(job, 0, 1, results.put), daemon=True).start()
    pending: list[tuple] = []
    last_flush = time.monotonic()
    for _ in range(len(orders)):
        row = results.get()
        if isinstance(row, BookingFailure):
            raise RuntimeError(f"booking failed unexpectedly: {row.text}")
        pending.append(row)
        if len(pending) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS:
            store.record_booking_results(pending)
            pending.clear()
            last_flush = time.monotonic()
            checkpoint("booking-results")
    if pending:
        store.record_booking_results(pending)
        checkpoint("booking-results")
    for child in children:
        child.join()
    return _cancel_all(store, forwarders, cancels)


class BookingFailure:
    """An unexpected error of a booking worker, handed to the recording thread (it may be in another process)."""

    def __init__(self, text: str):
        self.text = text


def _book_part(job: tuple, part: int, parts: int, put) -> None:
    """Book every ``parts``-th parcel starting at ``part`` on worker threads (``concurrency`` per
    channel, each with its own connection); every result goes to ``put``."""
    orders, forwarders, channels, lines_by_order, sender, label_dir = job
    work: dict[str, queue.SimpleQueue] = {name: queue.SimpleQueue() for name in channels}
    for order in orders[part::parts]:
        work[order["channel"]].put(order)

    def worker(channel: str) -> None:
        fw = forwarders[channel]
        with fw.connection() as client:
            while True:
                try:
                    order = work[channel].get_nowait()
                except queue.Empty:
                    return
                try:
                    put(_book_one(fw, client, order, channels[channel], lines_by_order, sender, label_dir))
                except BaseException as exc:
                    put(BookingFailure(f"{exc.__class__.__name__}: {exc}"))

    threads = [threading.Thread(target=worker, args=(name,), daemon=True, name=f"booking-{name}")
               for name, b in channels.items()
               for _ in range(min(max(1, b.concurrency // parts), work[name].qsize()))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _book_one(fw: Forwarder, client, order: dict, booking: Booking, lines_by_order: dict, sender: dict,
              label_dir: Path) -> tuple:
    ref = reference_of(order["shop"], order["order_id"])
    ctx, per_line = order_context(order, lines_by_order.get((order["shop"], order["order_id"]), []),
                                  reference=ref, product_code=booking.product_code,
                                  sender=sender[(order["shop"], order["order_id"])],
                                  credentials=fw.credentials, options={**fw.mapping.options, **booking.options})
    resume = order["booking_state"] == "sending"
    if resume:
        _wait_for_requests_in_flight(order["booking_updated_at"], fw.timeout.read)
    return _result_row(ref, fw.mapping, fw.book(client, ctx, per_line, resume=resume), label_dir)


def _wait_for_requests_in_flight(sent_at: str, timeout: float) -> None:
    """A request sent by a run that was killed may still be carried out by the forwarder for as long
    as a request may take: asking about the parcel before then could miss the shipment it makes."""
    try:
        sent = datetime.fromisoformat(sent_at)
    except ValueError:
        return
    left = timeout - (datetime.now(timezone.utc) - sent).total_seconds()
    if left > 0:
        time.sleep(min(left, timeout))


def _result_row(ref: str, mapping: Mapping, result, label_dir: Path) -> tuple:
    now = _now()
    if isinstance(result, Booked):
        path = ""
        if result.label:
            target = label_dir / f"{hashlib.sha256(ref.encode()).hexdigest()[:24]}.{mapping.label_format}"
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(result.label)
            os.replace(tmp, target)
            path = str(target)
        return (ref, "booked", now, result.tracking_number, result.shipment_id, path, result.label_problem, "")
    assert isinstance(result, Answer)
    state = "refused" if result.kind in ("refused", "not_found") else "sending"
    return (ref, state, now, "", "", "", "", result.reason)


def _cancel_all(store: Store, forwarders: dict, cancels: pd.DataFrame) -> pd.DataFrame:
    if cancels.empty:
        return _no_events()

    def cancel_one(b: dict):
        fw = forwarders.get(b["channel"])
        if fw is None:
            return b, Answer("refused", reason=f"channel {b['channel']} no longer books with a forwarder")
        ctx = {"reference": b["reference"], "shipment_id": b["shipment_id"],
               **{f"credentials.{k}": v for k, v in fw.credentials.items()}}
        ctx.update({f"options.{k}": v for k, v in fw.mapping.options.items()})
        with fw.connection() as client:
            return b, fw.cancel(client, ctx)

    rows = []
    for b, answer in map(cancel_one, records(cancels)):
        ok = answer.kind == "ok"
        store.record_booking_results([(b["reference"], "cancelled" if ok else "cancel_failed", _now(),
                                       b["tracking_number"], b["shipment_id"], b["label_path"], b["label_problem"],
                                       "" if ok else answer.reason)])
        rows.append({"shop": b["shop"], "order_id": b["order_id"],
                     "event": "waybill cancelled" if ok else "exception",
                     "detail": (f"{b['tracking_number']} cancelled with {b['forwarder']}" if ok else
                                f"cancelling {b['tracking_number']} with {b['forwarder']} failed: {answer.reason}")})
    return pd.DataFrame(rows, columns=["shop", "order_id", "event", "detail"])


def _apply(store: Store, run_id: str, channels: set[str], keys: list[tuple[str, str]], cancel_events) -> dict:
    with store.batch():
        orders = store.active_orders()
        lines = store.lines_of(orders)
        orders, ev_booked = apply_booking_results(orders, store.bookings_of(keys), channels)
        orders, ev_alloc = allocate(orders, lines, store.on_hand())
        events = concat_events([ev_booked, ev_alloc, cancel_events])
        touched = events[["shop", "order_id"]].drop_duplicates()
        changed = orders.merge(touched, on=["shop", "order_id"])
        changed["updated_run"] = run_id
        store.upsert_orders(changed)
        store.record_events(run_id, events)
    counts = events["event"].value_counts()
    return {"booked": int(counts.get("waybill issued", 0)), "booking_failed": int(counts.get("waybill failed", 0)),
            "cancelled_with_forwarder": int(counts.get("waybill cancelled", 0))}


def _credentials(booking: Booking) -> dict[str, str]:
    return {name: os.environ.get(var, "") for name, var in booking.credentials.items()}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
