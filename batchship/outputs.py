"""A committed run's outputs, rendered from the store: safe to redo after a crash.

Everything here is derived from the store and the run's events, so writing the
outputs twice gives the same files, and a run interrupted after its commit is
completed by the next run. The one thing here that runs before the commit,
``render_labels_ahead``, only gives the label workers a head start: a label file
takes what it rendered only when the store's labels prove the same.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .config import Config
from .environment import environment_problem
from .faults import checkpoint
from .store import Store, StoredRun
from .file_names import fitting_name
from .manifests import write_manifests
from .purchase_sheets import write_purchase_suggestions
from .reconciliation import write_run_reconciliation
from .outbound import write_outbound
from .print_order import in_print_order, natural_ranks, shelf_walk_key, sort_ranks
from .workspace import Workspace
from .forwarders.mapping import load_mapping
from .forwarders.sheet import sheet_rows
from .label_sources import label_files
from .writers.label_merge import concatenated_zpl, merged_labels
from .writers.label_pool import LabelJobs, LabelsAhead
from .writers.labels import label_parts, render_labels
from .writers.packing_slips import PackingSlip, render_packing_slips
from .writers.picklist_pdf import PickRow, render_picklist
from .writers.upload_files import safe_name_part
from .writers.zpl import render_zpl
from .writers.uploads import write_uploads
from .decisions import write_decision_results, write_decisions
from .writers.columns import WorkbookStyle
from .writers.xlsx import write_workbook
from .frame_records import order_keys, records

ORDER_SHEET_COLUMNS = [
    "shop", "order_id", "stage", "stock_status", "hold_reason", "failure_reason", "notes", "channel",
    "warehouse", "tracking_number", "tags", "shipping_service", "paid_at", "recipient_name", "address1",
    "address2", "city", "state", "postcode", "country", "phone", "email", "currency", "goods_value", "order_total", "platform_status",
    "source_file", "source_row",
]
LINE_SHEET_COLUMNS = ["shop", "order_id", "line_no", "item_id", "platform_sku", "sku", "quantity", "unit_price",
                      "declared_name_en", "declared_name_cn", "declared_value", "declared_currency", "weight_g",
                      "hs_code", "origin_country", "source_file", "source_row"]
UPLOAD_OUTDATED = "upload outdated"   # a number a marketplace was sent has been voided since
EXCEPTION_EVENTS = ("held", "cancelled", "exception", "waybill failed", "scan not applied", "action not applied",
                    "out of stock", "label problem", "upload problem", UPLOAD_OUTDATED)
PRINTABLE_EVENTS = ("waybill issued", "allocated")
MONEY_COLUMNS = ("goods_value", "order_total", "unit_price", "declared_value")
log = logging.getLogger(__name__)
UNFINISHED_SUFFIXES = (".partial", ".tmp")   # writers/xlsx.py; labels, pick list and upload writers


def write_run_outputs(ws: Workspace, store: Store, config: Config, run_id: str,
                      timings: dict[str, float] | None = None,
                      label_workers: LabelsAhead | None = None,
                      stored: StoredRun | None = None) -> tuple[Path, list[Path]]:
    """The run's outputs; ``label_workers``: forked ahead for its labels (writers/label_pool.py),
    shut down here; ``stored``: what the run stored, as Store.run_frames takes it."""
    out = ws.outbox / run_id
    out.mkdir(parents=True, exist_ok=True)
    _remove_unfinished_writes(out)
    run = store.run_frames(run_id, stored)
    events, orders, lines = run.events, run.orders, run.lines
    written: list[Path] = []
    failed: list[str] = []

    def step(name: str, fn, *args, default=None, **kwargs):
        """One output; a bug in it is reported and the others are still written, so no run can
        wedge every later one. The environment failing (disk full ...) stops the run instead:
        it stays unfinished and the next run redoes its outputs."""
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if environment_problem(exc):
                raise
            log.exception("run %s: %s failed", run_id, name)
            failed.append(f"{name}: {exc.__class__.__name__}: {exc}")
            return default
        finally:
            if timings is not None:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t

    checkpoint("outputs-started")
    ready, ready_lines, parcel_lines = _printable(orders, lines, events, store.shelves(), config, run_id)
    # Labels and uploads come first so that text they could not carry is reported on its order. Labels
    # render on worker processes while the outputs that do not wait on them are written; then the
    # orders printed are marked and the outputs that show it (orders, decisions) follow.
    carrier = store.carrier_labels(ready["tracking_number"])
    label_problems: dict[str, list[str]] = {}
    # Nothing below moves stock: the stock, reconciliation and purchase workbooks share one reading
    # of the ledger's sums.
    with LabelJobs(label_workers) as label_jobs, store.stock_read_once():
        by_wave = _waves(ready)
        for tail, batch in by_wave:
            own, merged_next = _own_labels(batch, carrier)
            label_problems.update(step("labels", _labels, out, own, parcel_lines.merge(own[["shop", "order_id"]]),
                                       config, _run_day(run_id), written, tail=tail, jobs=label_jobs,
                                       whole_now=merged_next, default={}))
        # Every label file of the run goes to the workers with their fork: none is pickled to them.
        step("labels", label_jobs.start)
        for tail, batch in by_wave:
            if carrier:
                label_problems.update(step("carrier labels", _carrier_labels, out, batch[batch["merged_into"] == ""],
                                           carrier, config, written, tail=tail, default={}))
            step("packing slips", _packing_slips, out, batch[batch["merged_into"] == ""], parcel_lines, store,
                 config, written, tail)
        step("outbound files", _outbound_files, out, orders[_overseas(orders, config) & _unprinted(orders, run_id)],
             lines, store, config, run_id, written, ws.root)
        step("reprints", _reprints, out, store, orders, lines, events, config, run_id, written)
        step("booking sheets", _booking_sheets, out, store, config, run_id, written, ws.root)
        upload_problems = step("uploads", _uploads, out, store, orders, lines, events, config, run_id, written,
                               default={})
        style = config.workbook_style
        # The pick lists before the stock workbooks: the stock they show is meanwhile read beside the run.
        for tail, batch in by_wave:
            written += step("pick list", _picklist, out, ready_lines.merge(batch[["shop", "order_id"]]), store,
                            run_id, tail, config.print_order.zone_order, style, default=[])
        written += [p for p in [step("stock.xlsx", _stock_workbook, out, store, run_id, style)] if p]
        written += [p for p in [step("reconciliation.xlsx", write_run_reconciliation, out, store, config,
                                     run_id)] if p]
        written += [p for p in [step("purchase-suggestions.xlsx", write_purchase_suggestions, out, store, config,
                                     run_id)] if p]
        outdated = step("outdated uploads", _outdated_uploads, events, store, run_id, default=events.iloc[:0])

        def with_problems(labels: dict) -> pd.DataFrame:
            found = _with_problems(_with_problems(events, ready, "label problem", labels, "tracking_number"),
                                   orders, "upload problem", upload_problems, ("shop", "order_id"))
            return pd.concat([found, outdated], ignore_index=True) if len(outdated) else found

        def orders_workbook(with_events: pd.DataFrame) -> Path | None:
            return step("orders.xlsx", _orders_workbook, out, orders, lines, with_events, store.run_files(run_id),
                        style)

        def decisions_workbook(printing=frozenset()) -> Path | None:
            return step("decisions.xlsx", write_decisions, out, store, style, printing)

        # Written while the labels render: a label rarely has a problem, and when one does these
        # workbooks are written again below with it.
        known = {k: list(v) for k, v in label_problems.items()}
        books = [orders_workbook(with_problems(known)),
                 decisions_workbook(set(order_keys(ready[~ready["tracking_number"].isin(known)])))]
        label_problems.update(step("labels", label_jobs.finish, default={}))
    written = [p for p in written if p.exists()]    # a label file a failed part kept from being joined is none
    printed = ready[~ready["tracking_number"].isin(label_problems)]
    store.mark_printed(run_id, order_keys(printed))
    reported = with_problems(label_problems)
    if label_problems != known:
        for i, fresh in enumerate([orders_workbook(reported), decisions_workbook()]):
            if fresh is None and books[i] is not None:
                books[i].unlink(missing_ok=True)    # no workbook rather than one without the label problems
            books[i] = fresh
    written += [p for p in books if p]
    written += [p for p in [step("decisions-result.xlsx", write_decision_results, out, store, run_id, style)] if p]
    step("manifests", write_manifests, out, orders, lines, reported, config, run_id, _run_day(run_id), written)

    _flush_to_disk(written, out)
    reports = _settle_files(ws, store, run_id, failed, style)
    checkpoint("settled")
    summary = store.run_summary(run_id)
    summary.update({
        # A label whose text could not all be printed is not one written: it waits on the decisions sheet.
        "labels": int(len(printed[printed["merged_into"] == ""])), "label_problems": label_problems,
        "upload_problems": {f"{shop}/{order}": why for (shop, order), why in upload_problems.items()},
        "outputs": [str(p.relative_to(ws.root)) for p in written],
        "error_reports": {**summary.get("error_reports", {}), **reports},
        "output_problems": failed,
    })
    store.update_summary(run_id, summary)
    checkpoint("before-finish")
    store.finish_run(run_id, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    checkpoint("finished")
    return out, written


def _as_marketplace_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per marketplace line with the marketplace's units: a bundle is confirmed as the one
    line the buyer ordered, not as the warehouse SKUs it was paired to."""
    lines = lines.drop_duplicates(["shop", "order_id", "platform_line"]).copy()
    lines["quantity"] = lines["platform_quantity"]
    lines["sku"] = lines["platform_sku"]
    return lines


UPLOAD_MOMENTS = {"on_waybill": "waybill issued", "on_handover": "shipped"}   # Shop.upload_tracking -> event
_VOIDED = re.compile(r"waybill (\S+) voided")


def _uploads(out: Path, store: Store, orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame,
             config: Config, run_id: str, written: list[Path]) -> dict[tuple[str, str], str]:
    """upload-<shop>-<platform>.*: the orders whose tracking goes up in this run: at the waybill for
    shops uploading on_waybill (virtual shipping), at the handover scan for shops uploading on_handover.
    A number an earlier run already uploaded for the order is not sent again."""
    moment = orders["shop"].map(lambda s: UPLOAD_MOMENTS[getattr(config.shops.get(s), "upload_tracking",
                                                                 "on_waybill")])
    due = pd.Series(False, index=orders.index)
    for event in UPLOAD_MOMENTS.values():
        due |= (moment == event) & _named_in(orders, events, (event,))
    shipments = orders[due & (orders["tracking_number"] != "")]
    if len(shipments):
        sent = store.uploaded_before(run_id, zip(shipments["shop"], shipments["order_id"],
                                                 shipments["tracking_number"]))
        shipments = shipments[[k not in sent for k in zip(shipments["shop"], shipments["order_id"],
                                                          shipments["tracking_number"])]]
    if not len(shipments):
        return {}
    ship_lines = lines.merge(shipments[["shop", "order_id", "platform", "tracking_number", "channel", "split_of"]],
                             on=["shop", "order_id"])
    # A split part is the marketplace's original order, shipped in two parcels.
    ship_lines["order_id"] = ship_lines["split_of"].where(ship_lines["split_of"] != "", ship_lines["order_id"])
    ship_lines = ship_lines.drop(columns="split_of")
    # The run's own day, not today: outputs finished after a crash must not change.
    paths, left_out = write_uploads(_as_marketplace_lines(ship_lines), config, out, ship_date=_run_day(run_id))
    written += paths
    store.mark_uploaded(run_id, [k for k in zip(shipments["shop"], shipments["order_id"], shipments["tracking_number"])
                                 if k[:2] not in left_out])
    checkpoint("wrote-uploads")
    return left_out


def _outdated_uploads(events: pd.DataFrame, store: Store, run_id: str) -> pd.DataFrame:
    """One "upload outdated" event per tracking number this run voided (order cancelled, channel
    changed) that an earlier run had already sent to the marketplace: staff must update it there."""
    voided = []
    changed = events[events["event"].isin(("cancelled", "channel changed"))]
    for shop, order_id, event, detail in zip(*(changed[c].tolist() for c in ("shop", "order_id", "event", "detail"))):
        voided += [(shop, order_id, number, event) for number in _VOIDED.findall(str(detail))]
    sent = store.uploaded_before(run_id, [(s, o, t) for s, o, t, _ in voided]) if voided else {}
    rows = [{"shop": s, "order_id": o, "event": UPLOAD_OUTDATED,
             "detail": (f"update the tracking number on the marketplace: {t} went up in run {sent[(s, o, t)]} and "
                        + ("is void, the order was cancelled" if why == "cancelled" else
                           "is void, the order changed channel (its new number goes up with its new waybill)"))}
            for s, o, t, why in voided if (s, o, t) in sent]
    return pd.DataFrame(rows, columns=events.columns)


def _with_problems(events: pd.DataFrame, orders: pd.DataFrame, event: str, problems: dict, key) -> pd.DataFrame:
    """Events plus one ``event`` row per order an output had to leave something out of;
    ``problems`` is keyed by ``key`` (a column, or a tuple of columns) of ``orders``."""
    if not problems:
        return events
    keys = list(zip(*(orders[k] for k in key))) if isinstance(key, tuple) else orders[key].tolist()
    hit = orders[[k in problems for k in keys]]
    hit_keys = [k for k in keys if k in problems]
    extra = pd.DataFrame({"shop": hit["shop"].values, "order_id": hit["order_id"].values, "event": event,
                          "detail": ["; ".join(v) if isinstance(v, list) else v
                                     for v in (problems[k] for k in hit_keys)]})
    return pd.concat([events, extra], ignore_index=True)


def _flush_to_disk(paths: list[Path], folder: Path) -> None:
    """Outputs reach the disk before the run is marked finished, so a power cut cannot leave a
    finished run with empty files."""
    for path in paths:
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _named_in(orders: pd.DataFrame, events: pd.DataFrame, kinds: tuple[str, ...]) -> pd.Series:
    """Orders that had one of these events in the run."""
    named = set(order_keys(events[events["event"].isin(kinds)]))
    return pd.Series([key in named for key in order_keys(orders)], index=orders.index, dtype=bool)


def _orders_workbook(out: Path, orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame,
                     files: pd.DataFrame, style: WorkbookStyle | None = None) -> Path:
    sheet = orders[ORDER_SHEET_COLUMNS].sort_values(["shop", "order_id"], kind="stable").copy()
    sheet.insert(3, "this run", _events_per_order(events, sheet))
    exceptions = events[events["event"].isin(EXCEPTION_EVENTS)].sort_values(["event", "shop", "order_id"],
                                                                           kind="stable")
    files_sheet = files[["name", "outcome", "detail"]]
    line_sheet = lines[LINE_SHEET_COLUMNS].sort_values(["shop", "order_id", "line_no"], kind="stable")
    # A line's price is in its order's currency: the column beside it says which.
    currency = dict(zip(order_keys(orders), orders["currency"].tolist()))
    line_sheet.insert(line_sheet.columns.get_loc("unit_price") + 1, "currency",
                      [currency.get(key, "") for key in order_keys(line_sheet)])
    path = write_workbook(out / "orders.xlsx", [
        ("orders", _as_numbers(sheet, MONEY_COLUMNS) if style is None else sheet),
        ("lines", _as_numbers(line_sheet, MONEY_COLUMNS) if style is None else line_sheet),
        ("exceptions", exceptions),
        ("files", files_sheet),
    ], style=style, totals=("orders",))
    checkpoint("wrote-orders")
    return path


def _events_per_order(events: pd.DataFrame, orders: pd.DataFrame) -> list[str]:
    """Each order's events of the run, each named once in the order they happened ("" for none).
    Plain dicts: a pandas groupby with a Python join per order took 2 s at 60,000 orders."""
    seen: dict[tuple[str, str], dict[str, None]] = {}
    for shop, order_id, event in zip(events["shop"].tolist(), events["order_id"].tolist(), events["event"].tolist()):
        seen.setdefault((shop, order_id), {})[event] = None
    return [", ".join(seen.get(key, ())) for key in zip(orders["shop"].tolist(), orders["order_id"].tolist())]


def _as_numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Money columns as numbers, so SUM works in Excel; the store keeps them as exact decimals."""
    frame = frame.copy()
    for c in columns:
        if c in frame:
            frame[c] = pd.to_numeric(frame[c].replace("", None), errors="coerce")
    return frame


def _stock_workbook(out: Path, store: Store, run_id: str, style: WorkbookStyle | None = None) -> Path:
    """Stock per place, what waiting orders lack (to buy), and this run's ledger movements."""
    on_hand = store.on_hand()
    alloc = store.allocated()
    stock = on_hand.merge(alloc, on=["warehouse", "sku"], how="left")
    stock["allocated"] = stock["allocated"].fillna(0).astype("int64")
    stock["available"] = stock["on_hand"] - stock["allocated"]
    stock = stock[["warehouse", "sku", "on_hand", "allocated", "available", "shelf"]]
    waiting = store.waiting_for_stock()
    to_buy = waiting.merge(stock[["warehouse", "sku", "available"]], on=["warehouse", "sku"], how="left")
    to_buy["available"] = to_buy["available"].fillna(0).astype("int64").clip(lower=0)
    to_buy["to_buy"] = to_buy["waiting"] - to_buy["available"]
    to_buy = to_buy[to_buy["to_buy"] > 0][["warehouse", "sku", "waiting", "available", "to_buy", "orders"]]
    path = write_workbook(out / "stock.xlsx", [("stock", stock), ("to buy", to_buy),
                                               ("movements", store.movements(run_id))],
                          style=style, totals=("stock", "to buy", "movements"))
    checkpoint("wrote-stock")
    return path


def _reprints(out: Path, store: Store, orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame,
              config: Config, run_id: str, written: list[Path]) -> None:
    """reprint-<channel>.pdf: the labels staff asked to print (again), with the tracking number they
    were first printed with; a forwarder's own label is merged in again."""
    again = orders[_named_in(orders, events, ("reprint",)) & (orders["tracking_number"] != "")]
    if again.empty:
        return
    carrier = store.carrier_labels(again["tracking_number"])
    own = again[~again["tracking_number"].isin(carrier)]
    problems = _labels(out, own, lines.merge(own[["shop", "order_id"]]), config, _run_day(run_id), written,
                       stem="reprint")
    if carrier:
        problems.update(_carrier_labels(out, again, carrier, config, written, stem="reprint"))
    done = again[~again["tracking_number"].isin(problems)]
    store.mark_printed(run_id, order_keys(done))


def _printable(orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame, shelves: pd.DataFrame,
               config: Config, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(ready, ready_lines, parcel_lines): the run's orders whose labels it prints, in print order
    with their wave; their lines; the lines by parcel (a merged parcel's under its leading order)."""
    ready = orders[(orders["stage"] == "print") & (orders["stock_status"] == "in_stock") & _unprinted(orders, run_id)
                   & (orders["tracking_number"] != "") & _named_in(orders, events, PRINTABLE_EVENTS)
                   & ~_overseas(orders, config)]
    ready_lines = lines.merge(ready[["shop", "order_id", "warehouse", "channel", "tracking_number"]],
                              on=["shop", "order_id"])
    # A merged parcel has one label, its leader's, with the lines of all its orders.
    lead = dict(zip(order_keys(ready), ready["merged_into"].tolist()))
    parcel_lines = ready_lines.assign(order_id=[lead[key] or key[1] for key in order_keys(ready_lines)])
    return in_print_order(ready, ready_lines, shelves, config.print_order), ready_lines, parcel_lines


def _unprinted(orders: pd.DataFrame, run_id: str) -> pd.Series:
    """A label is printed once: orders this run made printable, unless printed since (or by this very
    run, when its outputs are redone after a crash)."""
    return (orders["printed"] == "") | (orders["printed_run"] == run_id)


def _overseas(orders: pd.DataFrame, config: Config) -> pd.Series:
    """A third-party warehouse's orders go to its outbound file, never to local labels or pick lists."""
    return orders["warehouse"].isin(config.third_party_warehouses())


def _waves(ready: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(file name tail, orders) of each wave."""
    waves = int(ready["wave"].max()) if len(ready) else 1
    return [(f"-wave{wave}" if waves > 1 else "", batch) for wave, batch in ready.groupby("wave", sort=True)]


def _own_labels(batch: pd.DataFrame, carrier: dict) -> tuple[pd.DataFrame, set[str]]:
    """The parcels we print labels for (not a forwarder, not a merged parcel's follower), and the
    channels whose own labels forwarders' pages are merged into next: those must be whole by then."""
    own = batch[~batch["tracking_number"].isin(carrier) & (batch["merged_into"] == "")]
    return own, set(batch.loc[batch["tracking_number"].isin(carrier), "channel"])


def render_labels_ahead(ahead: LabelsAhead, out: Path, store: Store, config: Config, run_id: str,
                        stored: StoredRun) -> None:
    """Before the run commits, its label files set rendering on the workers forked ahead, from the
    orders, lines and events it is about to store (as the store gives them back). The outputs
    still make each label file after the commit; one made of the same labels takes what was
    rendered here (writers/label_pool.py). Rendering ahead is only a head start: it never fails
    the run."""
    try:
        ready, _, parcel_lines = _printable(stored.orders, stored.lines, stored.events, store.shelves(), config,
                                            run_id)
        carrier = store.carrier_labels(ready["tracking_number"])
        for tail, batch in _waves(ready):
            own, merged_next = _own_labels(batch, carrier)
            for channel, settings, name, labels in label_files(own, parcel_lines.merge(own[["shop", "order_id"]]),
                                                                config, _run_day(run_id), tail=tail):
                parts = label_parts(len(labels), settings.label_size)
                if settings.label_format != "zpl" and channel not in merged_next and parts:
                    ahead.add(labels, out / f"{name}.pdf", parts, size=settings.label_size, cjk_font=config.cjk_font,
                              cut_marks=settings.label_cut_marks)
    except Exception:
        log.warning("run %s: labels not rendered ahead; the outputs render them", run_id, exc_info=True)


def _labels(out: Path, orders: pd.DataFrame, lines: pd.DataFrame, config: Config, day: str,
            written: list[Path], stem: str = "labels", tail: str = "",
            jobs: LabelJobs | None = None, whole_now: set[str] = frozenset()) -> dict[str, list[str]]:
    """labels-<channel>.pdf/.zpl; with ``jobs``, a file large enough for parts renders on its workers
    (made and written there, from ``jobs.start()``) and its problems come from ``jobs.finish()``;
    the channels in ``whole_now`` are written here in any case."""
    problems: dict[str, list[str]] = {}
    for channel, settings, name, labels in label_files(orders, lines, config, day, stem, tail):
        if settings.label_format == "zpl":
            path = out / f"{name}.zpl"
            found = render_zpl(list(labels), path, size=settings.label_size, dpi=settings.zpl_dpi,
                               cjk_font=config.cjk_font)
        else:
            path = out / f"{name}.pdf"
            found = render_labels(labels, path, size=settings.label_size, cjk_font=config.cjk_font,
                                  cut_marks=settings.label_cut_marks,
                                  jobs=None if channel in whole_now else jobs)
        problems.update(found)
        if path not in written:
            written.append(path)
        checkpoint("wrote-labels")
    return problems


def _outbound_files(out: Path, orders: pd.DataFrame, lines: pd.DataFrame, store: Store, config: Config,
                    run_id: str, written: list[Path], root: Path) -> None:
    """outbound-<warehouse>.xlsx/.csv: each third-party warehouse's in-stock orders, listed once
    (an order listed is marked like a printed label, and listed again only by a redo of this run)."""
    due = orders[(orders["stage"] == "print") & (orders["stock_status"] == "in_stock") & (orders["merged_into"] == "")]
    for name, group in due.groupby("warehouse", sort=True):
        path = write_outbound(out, config.warehouses[name], group, lines.merge(group[["shop", "order_id"]]),
                              config, root)
        written.append(path)
        store.mark_printed(run_id, order_keys(group))


def _booking_sheets(out: Path, store: Store, config: Config, run_id: str, written: list[Path], root: Path) -> None:
    """booking-<channel>.xlsx: the parcels this run lists for forwarders booked through their web site."""
    listed = store.listed_in_sheet(run_id)
    if listed.empty:
        return
    orders = store.orders_by_keys(order_keys(listed))
    lines = store.lines_of(orders)
    for channel, group in listed.groupby("channel", sort=True):
        booking = config.channels[channel].booking if channel in config.channels else None
        if booking is None:
            continue
        mapping = load_mapping(booking.forwarder, root)
        mine = orders.merge(group[["shop", "order_id", "reference"]], on=["shop", "order_id"])
        mine = mine.sort_values(["paid_at", "shop", "order_id"], kind="stable")
        rows = sheet_rows(mapping, mine, lines, booking.product_code,
                          lambda o: config.sender_for(o["shop"], o["warehouse"]).fields())
        path = out / f"booking-{safe_name_part(channel, 'channel')}.xlsx"
        write_workbook(path, [("orders", pd.DataFrame(rows, columns=[h for h, _ in mapping.sheet_columns]))])
        written.append(path)


def _carrier_labels(out: Path, ready: pd.DataFrame, carrier: dict[str, tuple[str, str]], config: Config,
                    written: list[Path], stem: str = "labels", tail: str = "") -> dict[str, list[str]]:
    """Each channel's file with the forwarders' own label pages in their parcels' places."""
    problems: dict[str, list[str]] = {}
    for channel, group in ready.groupby("channel", sort=True):
        numbers = group["tracking_number"].tolist()
        theirs = {t: carrier[t] for t in numbers if t in carrier}
        if not theirs:
            continue
        for t, (path, problem) in theirs.items():
            if problem or not path:
                problems[t] = [problem or "the forwarder gave no label: print it from the forwarder's site"]
        name = safe_name_part(channel, "channel") + tail
        zpl = [Path(p) for p, _ in theirs.values() if p.endswith(".zpl")]
        if zpl:
            target = out / f"{stem}-{name}.zpl"
            own_zpl = [target] if target.exists() else []    # our own ZPL labels of the channel first
            concatenated_zpl(target, own_zpl + zpl)
            if target not in written:
                written.append(target)
        pdf_path = out / f"{stem}-{name}.pdf"
        parcels = [(t, theirs[t][0] if t in theirs and theirs[t][0].endswith(".pdf") else "") for t in numbers
                   if t not in theirs or theirs[t][0].endswith(".pdf")]
        if any(path for _, path in parcels) or pdf_path.exists():
            size = config.channels[channel].label_size if channel in config.channels else "100x150"
            for t, why in merged_labels(pdf_path, parcels, pdf_path if pdf_path.exists() else None,
                                        one_per_page=not size.upper().startswith("A4")).items():
                problems.setdefault(t, []).append(why)
            if pdf_path not in written:
                written.append(pdf_path)
        checkpoint("wrote-carrier-labels")
    return problems


def _packing_slips(out: Path, parcels: pd.DataFrame, lines: pd.DataFrame, store: Store, config: Config,
                   written: list[Path], tail: str = "") -> None:
    """packing-slips.pdf: one slip per parcel of the shops that ask for them (Shop.packing_slips), in
    label order: the label files' channels in turn, each in print order."""
    wanted = parcels[parcels["shop"].map(lambda s: getattr(config.shops.get(s), "packing_slips", False))]
    if wanted.empty:
        return
    wanted = wanted.assign(_n=range(len(wanted))).sort_values(["channel", "_n"], kind="stable")
    names = dict(zip(*(store.products()[c] for c in ("sku", "name"))))
    by_parcel: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for r in records(lines):
        name = names.get(r["sku"]) or r.get("declared_name_cn") or r.get("declared_name_en") or ""
        by_parcel.setdefault((r["shop"], r["order_id"]), []).append((r["sku"], name, int(r["quantity"])))
    slips = [PackingSlip(order_ref=f"{o['shop']} / {o['order_id']}", order_id=o["order_id"],
                         tracking_number=o["tracking_number"],
                         recipient=", ".join(x for x in (o["recipient_name"], o["country"]) if x),
                         items=tuple(by_parcel.get((o["shop"], o["order_id"]), ())))
             for o in records(wanted)]
    path = out / f"packing-slips{tail}.pdf"
    render_packing_slips(slips, path, cjk_font=config.cjk_font)
    if path not in written:
        written.append(path)
    checkpoint("wrote-packing-slips")


PICK_LINE_COLUMNS = ["warehouse", "shelf", "sku", "name", "quantity", "shop", "order_id", "tracking_number"]
XLSX_CELL_CHARS = 32_000      # Excel keeps at most 32,767 characters in a cell


def _picklist(out: Path, lines: pd.DataFrame, store: Store, run_id: str, tail: str = "",
              zone_order: tuple[str, ...] = (), style: WorkbookStyle | None = None) -> list[Path]:
    """picklist.xlsx (per SKU, and one row per order line) and picklist.pdf (per SKU), in walk order."""
    shelves = store.shelves()
    names = store.products()[["sku", "name"]]
    m = lines.merge(shelves, on=["warehouse", "sku"], how="left").merge(names, on="sku", how="left")
    m[["shelf", "name"]] = m[["shelf", "name"]].fillna("")
    if "tracking_number" not in m:
        m["tracking_number"] = ""
    m["tracking_number"] = m["tracking_number"].fillna("")
    m["ref"] = m["shop"] + "/" + m["order_id"]
    m = _in_walk_order(m, zone_order, ["shop", "order_id"])
    pick = m.groupby(["warehouse", "shelf", "sku", "name"], as_index=False, sort=False).agg(
        quantity=("quantity", "sum"), order_count=("ref", "nunique"),
        orders=("ref", lambda s: _capped_refs(list(dict.fromkeys(s)))))
    pick = _in_walk_order(pick, zone_order)
    per_line = m[PICK_LINE_COLUMNS]
    xlsx = write_workbook(out / f"picklist{tail}.xlsx", [("picklist", pick), ("lines", per_line)],
                          style=style)
    checkpoint("wrote-picklist-xlsx")
    rows = [PickRow(warehouse=r.warehouse, shelf=r.shelf, sku=r.sku, name=r.name, quantity=int(r.quantity),
                    orders=tuple(o for o in r.orders.split(", ") if o), order_count=int(r.order_count))
            for r in pick.itertuples(index=False)]
    pdf = out / f"picklist{tail}.pdf"
    render_picklist(rows, pdf, title=f"Pick list {run_id}" + (f" wave {tail.removeprefix('-wave')}" if tail else ""))
    checkpoint("wrote-picklist")
    return [pdf, xlsx]


def _in_walk_order(frame: pd.DataFrame, zone_order: tuple[str, ...], then: list[str] = ()) -> pd.DataFrame:
    """Rows by warehouse (natural order), shelf in walk order (unshelved last), SKU, then ``then``."""
    frame = frame.assign(_walk=sort_ranks(frame["shelf"], shelf_walk_key(zone_order)))
    return frame.sort_values(["warehouse", "_walk", "sku", *then],
                             key=lambda c: c if c.name == "_walk" else natural_ranks(c),
                             kind="stable", ignore_index=True).drop(columns="_walk")


def _capped_refs(refs: list[str]) -> str:
    """The orders a SKU serves, as one cell that Excel can hold; the lines sheet has them all."""
    text = ", ".join(refs)
    if len(text) <= XLSX_CELL_CHARS:
        return text
    kept, size = [], 0
    for ref in refs:
        if size + len(ref) + 2 > XLSX_CELL_CHARS - 40:
            break
        kept.append(ref)
        size += len(ref) + 2
    return ", ".join(kept) + f", +{len(refs) - len(kept)} more (lines sheet)"


def _run_day(run_id: str) -> str:
    return run_id[:4] + "-" + run_id[4:6] + "-" + run_id[6:8]


def _remove_unfinished_writes(out: Path) -> None:
    """Temporary files of a run killed while writing (written, never renamed into place).

    Writers use fixed temporary names except the upload files (random ones), so a
    rewrite alone would leave those behind.
    """
    for path in out.iterdir():
        if path.is_file() and path.name.endswith(UNFINISHED_SUFFIXES):
            path.unlink(missing_ok=True)


def _settle_files(ws: Workspace, store: Store, run_id: str, failed: list[str],
                  style: WorkbookStyle | None = None) -> dict[str, str]:
    """Move each claimed file to archive/<day>/ or failed/ (with its errors report beside it).
    Returns the reports written: inbox name -> path under the workspace. A file that cannot be
    moved for a reason other than the environment is named in ``failed`` and the others still move."""
    reports = {}
    for r in store.run_files(run_id).itertuples(index=False):
        claimed = ws.claimed / r.claimed_path
        if not claimed.exists():
            continue  # settled before an interruption
        try:
            report = _settle_file(ws, claimed, r, run_id, failed, style)
        except Exception as exc:
            if environment_problem(exc):
                raise
            log.exception("run %s: could not move %s", run_id, r.claimed_path)
            failed.append(f"moving {r.claimed_path}: {exc.__class__.__name__}: {exc}")
            continue
        if report:
            reports[r.claimed_path] = report
    return reports


def _settle_file(ws: Workspace, claimed: Path, r, run_id: str, failed: list[str],
                 style: WorkbookStyle | None = None) -> str:
    """Move one claimed file; returns its errors report's path under the workspace, or ""."""
    outcome, problems = r.outcome, json.loads(r.problems)
    if outcome != "rejected" and r.sha256 and _sha256(claimed) != r.sha256:
        # The archive holds exactly what was applied; a writer that kept the file open
        # after it was read must not put other bytes there.
        outcome, problems = "rejected", [{"problem": (
            f"this file changed after run {run_id} had read it (was it still being copied?): what was "
            "read then is applied, this version is not; drop it again if it holds more")}]
    dest = ws.settle_destination(claimed, outcome, _run_day(run_id))
    dest.parent.mkdir(parents=True, exist_ok=True)
    report = ""
    if outcome == "rejected":
        frame = pd.DataFrame([{"sheet": "", "row": None, "column": "", "value": "", **p} for p in problems],
                             columns=["sheet", "row", "column", "value", "problem"])
        frame["row"] = frame["row"].astype("Int64")
        path = dest.with_name(fitting_name(dest.name, tail=".errors.xlsx"))
        try:
            write_workbook(path, [("errors", frame)], style=style)
            report = path.relative_to(ws.root).as_posix()
            checkpoint("wrote-errors-report")
        except Exception as exc:   # the file still goes to failed/; its problems stay in orders.xlsx
            if environment_problem(exc):
                raise
            log.exception("run %s: could not write %s", run_id, path.name)
            failed.append(f"errors report for {r.claimed_path}: {exc.__class__.__name__}: {exc}")
    os.replace(claimed, dest)
    checkpoint("settled-file")
    return report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
