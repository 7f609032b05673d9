"""The order's path through one batch: the stages, in the order they run.

Each stage is a pure function. It declares what it reads (names in the batch
state) and what it writes; the runner passes it exactly what it reads and
takes back only what it declared. Everything a stage reads from the store is
loaded before the first stage, and everything they produced is stored after
the last (see ``batchship.pipeline``), so a new stage is one function and one
line in ``STAGES``.

Batch state names:
  orders, lines          every order in progress (plus finished ones the batch's
                         scans or decisions name) and their lines
  incoming               this batch's order lines (all order files)
  pairing, pairing_file  the pairing in force; this batch's pairing rows (or None)
  products, on_hand      the product list and stock on hand, after this batch's sheets
  known_skus             SKUs the product list or a stock count knows
  decisions, scans       this batch's decision rows and handover scans (or None)
  applied_decisions      keys (stages/actions.decision_key) of decisions applied in earlier runs
  decision_results       output: one result row per decision (or None)
  cancel_failed          (shop, order id) -> booking reference a forwarder would not cancel
  cancel_again, cancel_ignored   output: those bookings to cancel again, or to let be
  channels               channels declared in batchship.toml
  booking_results        this batch's forwarder result-sheet rows (or None)
  bookings               live bookings of the state's orders
  free_pool              free pre-issued tracking numbers per channel
  voided_numbers         tracking numbers voided earlier that a scan names
  booking_channels       channels that book with a forwarder; sheet_channels: by sheet
  logistics, review_rules   the rules in force (rules/model.py); review_checks: built-in checks switched on
  blacklist              field, value rows (rules/facts.py)
  now                    the run's time (aware): rules on hours since payment
  known_countries, run_id
  third_party_warehouses names of the warehouses that ship their orders themselves
Outputs, accumulated: events, refused (rows no order could take), voided
(tracking numbers to void), issued (pool numbers drawn), movements (ledger rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..rules.evaluate import facts_read
from ..rules.facts import order_facts
from .actions import apply_actions
from .allocate import allocate
from .bookings import apply_booking_results, with_sheet_results
from .events import concat_events, events_for
from .merge import follow_leaders, merge_parcels
from .process import process
from .split import split_orders
from .repair import repair_orders
from .review import review
from .ship import ship
from .sync import sync_orders
from .third_party import skip_waybill
from .waybill import assign_waybills

# Outputs that every stage may add to rather than replace.
ACCUMULATED = ("events", "refused", "voided", "issued", "movements")


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[..., dict]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    checkpoint: str = ""        # crash-test kill point reached after the stage


def _sync_stage(orders, lines, incoming, pairing, known_skus, run_id):
    synced = sync_orders(orders, incoming, pairing, known_skus, run_id)
    if len(synced.new_lines):
        lines = pd.concat([lines, synced.new_lines], ignore_index=True)
    return {"orders": synced.orders, "lines": lines, "voided": list(synced.voided), "events": synced.events}


def _repair_stage(orders, lines, pairing, pairing_file):
    """A new pairing sheet re-pairs the orders that still wait for one."""
    if pairing_file is None:
        return {}
    orders, lines, events = repair_orders(orders, lines, pairing)
    return {"orders": orders, "lines": lines, "events": events}


def _decisions_stage(orders, decisions, known_countries, channels, on_hand, applied_decisions, cancel_failed):
    if decisions is None:
        return {}
    acted = apply_actions(orders, decisions, known_countries, channels, frozenset(on_hand["warehouse"]),
                          applied_decisions, cancel_failed)
    return {"orders": acted.orders, "events": acted.events, "voided": acted.voided,
            "refused": not_applied_events(acted.not_applied, "action not applied"),
            "decision_results": acted.results, "cancel_again": acted.cancel_again,
            "cancel_ignored": acted.cancel_ignored}


def _facts(lines, products, blacklist, now, rules):
    """The facts ``rules`` read of some orders."""
    wanted = facts_read(rules)
    return lambda some: order_facts(some, lines, products, blacklist, now, wanted)


def _review_stage(orders, lines, products, known_countries, review_checks, review_rules, blacklist, now):
    orders, events = review(orders, lines, known_countries, review_checks, review_rules,
                            _facts(lines, products, blacklist, now, review_rules))
    return {"orders": orders, "events": events}


def _process_stage(orders, lines, products, logistics, blacklist, now):
    orders, lines, events = process(orders, lines, products, logistics,
                                    _facts(lines, products, blacklist, now, logistics))
    return {"orders": orders, "lines": lines, "events": events}


def _booking_results_stage(orders, bookings, booking_results, sheet_channels):
    if booking_results is None:
        return {}
    orders, events = apply_booking_results(orders, with_sheet_results(bookings, booking_results), sheet_channels)
    return {"orders": orders, "events": events}


def _merge_stage(orders, booking_channels):
    orders, events = merge_parcels(orders, booking_channels)
    return {"orders": orders, "events": events}


def _split_stage(orders, lines, on_hand, run_id):
    orders, lines, events = split_orders(orders, lines, on_hand, run_id)
    return {"orders": orders, "lines": lines, "events": events}


def _third_party_stage(orders, third_party_warehouses):
    orders, events = skip_waybill(orders, third_party_warehouses)
    return {"orders": orders, "events": events}


def _waybill_stage(orders, free_pool, booking_channels):
    orders, issued, events = assign_waybills(orders, free_pool, booking_channels)
    had = orders["tracking_number"] != ""
    orders = follow_leaders(orders)
    got = (orders["tracking_number"] != "") & ~had
    return {"orders": orders, "issued": issued,
            "events": concat_events([events, events_for(orders[got], "waybill issued",
                                                        orders.loc[got, "tracking_number"])])}


def _allocate_stage(orders, lines, on_hand):
    orders, events = allocate(orders, lines, on_hand)
    return {"orders": orders, "events": events}



def _ship_stage(orders, lines, scans, on_hand, voided_numbers):
    if scans is None:
        return {}
    shipped = ship(scans, orders, lines, set(zip(on_hand["warehouse"], on_hand["sku"])), voided_numbers)
    return {"orders": shipped.orders, "events": shipped.events, "movements": shipped.movements,
            "refused": not_applied_events(shipped.not_applied, "scan not applied")}


STAGES: tuple[Stage, ...] = (
    Stage("sync", _sync_stage, ("orders", "lines", "incoming", "pairing", "known_skus", "run_id"),
          ("orders", "lines", "voided", "events")),
    Stage("repair", _repair_stage, ("orders", "lines", "pairing", "pairing_file"), ("orders", "lines", "events"),
          checkpoint="synced"),
    Stage("decisions", _decisions_stage, ("orders", "decisions", "known_countries", "channels", "on_hand",
                                          "applied_decisions", "cancel_failed"),
          ("orders", "events", "voided", "refused", "decision_results", "cancel_again", "cancel_ignored")),
    Stage("review", _review_stage, ("orders", "lines", "products", "known_countries", "review_checks",
                                    "review_rules", "blacklist", "now"), ("orders", "events"),
          checkpoint="reviewed"),
    Stage("process", _process_stage, ("orders", "lines", "products", "logistics", "blacklist", "now"),
          ("orders", "lines", "events"),
          checkpoint="processed"),
    Stage("merge", _merge_stage, ("orders", "booking_channels"), ("orders", "events")),
    Stage("booking results", _booking_results_stage, ("orders", "bookings", "booking_results", "sheet_channels"),
          ("orders", "events")),
    Stage("split", _split_stage, ("orders", "lines", "on_hand", "run_id"), ("orders", "lines", "events")),
    Stage("third-party warehouses", _third_party_stage, ("orders", "third_party_warehouses"), ("orders", "events")),
    Stage("waybill", _waybill_stage, ("orders", "free_pool", "booking_channels"), ("orders", "issued", "events"),
          checkpoint="waybilled"),
    Stage("allocate", _allocate_stage, ("orders", "lines", "on_hand"), ("orders", "events"), checkpoint="allocated"),
    Stage("ship", _ship_stage, ("orders", "lines", "scans", "on_hand", "voided_numbers"),
          ("orders", "events", "movements", "refused"), checkpoint="shipped"),
)


def run_stages(state: dict, stages: tuple[Stage, ...] = STAGES, after_each: Callable[[Stage], None] = lambda s: None
               ) -> dict:
    """Runs ``stages`` over ``state`` (a dict of the names above); returns the final state, with
    the accumulated outputs as lists of what each stage added."""
    state = {**state, **{name: [] for name in ACCUMULATED}}
    for stage in stages:
        out = stage.run(**{name: state[name] for name in stage.reads})
        undeclared = set(out) - set(stage.writes)
        if undeclared:
            raise RuntimeError(f"stage {stage.name} wrote {sorted(undeclared)}, which it does not declare")
        for name, value in out.items():
            if name == "voided":
                state[name].extend(value)
            elif name in ACCUMULATED:
                state[name].append(value)
            else:
                state[name] = value
        after_each(stage)
    return state


def not_applied_events(refused: pd.DataFrame, event: str) -> pd.DataFrame:
    """Scans and decisions that named no order they could apply to, for the exceptions sheet."""
    return pd.DataFrame({
        "shop": "", "order_id": refused["reference"], "event": event,
        "detail": refused["problem"] + " (" + refused["source_file"] + " row "
        + refused["source_row"].astype(str) + ")"})
