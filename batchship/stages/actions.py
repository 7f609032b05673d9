"""Staff decisions (an action sheet, or decisions.xlsx dropped back): one verb per order.

Each row is applied or refused, and either way gets a result row. A refused row changes nothing. A
row identical to one applied in an earlier run (same order, verb, argument and note) is refused as
already applied, so a decisions sheet dropped twice changes nothing the second time.

An approved order skips the rule that held it and goes on to process (where it is routed again, and
holds again if its product data is still missing); one that already had its waybill returns to print
and takes stock again. A staff hold stays until staff approve or release it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import verbs as v
from ..frame_records import column_rows, order_keys
from ..schemas import ACTIVE_STAGES
from .events import concat_events, events_for
from .merge import REQUESTED
from .split import REQUESTED as SPLIT_REQUESTED

STAFF = "staff"   # held_at of a staff hold
RESULT_COLUMNS = ["source_file", "source_row", "shop", "order_id", "action", "argument", "note", "result",
                  "reason", "decision_key"]
# What staff may still do to the order leading a merged parcel: the parcel's state is one.
ON_A_PARCEL = (v.REPRINT, v.MARK_PRINTED, v.IGNORE_FAILURE)


@dataclass
class ActionResult:
    orders: pd.DataFrame
    voided: list[str]            # tracking numbers of orders staff cancelled or moved to another channel
    events: pd.DataFrame
    not_applied: pd.DataFrame    # reference, source_file, source_row, problem
    results: pd.DataFrame        # RESULT_COLUMNS, one row per decision
    cancel_again: list[str] = field(default_factory=list)    # bookings whose cancellation is tried again
    cancel_ignored: list[str] = field(default_factory=list)  # bookings whose failed cancellation is let be


def decision_key(shop: str, order_id: str, action: str, argument: str, note: str) -> str:
    return "\x1f".join((shop, order_id, action, argument.strip(), note.strip()))


def apply_actions(orders: pd.DataFrame, actions: pd.DataFrame, known_countries: frozenset[str],
                  channels: frozenset[str] = frozenset(), warehouses: frozenset[str] = frozenset(),
                  applied_before: frozenset[str] = frozenset(), cancel_failed: dict | None = None) -> ActionResult:
    """``cancel_failed``: (shop, order id) -> booking reference, for cancelled orders whose forwarder
    refused to cancel the booking: ``cancel`` tries again, ``ignore failure`` lets it be."""
    cancel_failed = cancel_failed or {}
    again, ignored = [], []
    orders = orders.copy()
    where = {key: i for i, key in zip(orders.index, order_keys(orders))}
    by_id: dict[str, list] = {}
    for i, oid in zip(orders.index, orders["order_id"]):
        by_id.setdefault(oid, []).append(i)
    voided, results, events = [], [], []
    leaders = set(column_rows(orders, ["shop", "merged_into"]))
    for r in actions.itertuples(index=False):
        argument = str(getattr(r, "argument", "") or "").strip()
        idx = where.get((r.shop, r.order_id)) if r.shop else _only(by_id.get(r.order_id, []))
        shop = orders.at[idx, "shop"] if idx is not None else r.shop
        row = [r.source_file, r.source_row, shop, r.order_id, v.shown(r.action), argument, r.note]
        key = decision_key(shop, r.order_id, r.action, argument, r.note)
        if idx is None:
            why = ("order id is used by several shops: add the shop" if len(by_id.get(r.order_id, [])) > 1
                   else "unknown order")
        elif key in applied_before:
            why = "this decision was already applied in an earlier run (change the note to apply it again)"
        elif (shop, r.order_id) in cancel_failed and r.action in (v.CANCEL, v.IGNORE_FAILURE):
            (again if r.action == v.CANCEL else ignored).append(cancel_failed[(shop, r.order_id)])
            what = "cancelling the booking again" if r.action == v.CANCEL else "failed cancellation let be"
            events.append(events_for(orders.loc[[idx]], "cancel retried" if r.action == v.CANCEL else "failure ignored",
                                     what + (f" ({r.note})" if r.note else "")))
            why = ""
        else:
            why = (_parcel_refusal(orders, idx, r.action, leaders)
                   or _apply_one(orders, idx, r.action, argument, r.note, known_countries, channels, warehouses,
                                 voided, events))
        results.append(row + (["refused", f"{v.shown(r.action)}: {why}"] if why else ["applied", ""]) + [key])
    results_frame = pd.DataFrame(results, columns=RESULT_COLUMNS)
    refused = results_frame[results_frame["result"] == "refused"]
    not_applied = pd.DataFrame({
        "reference": [f"{s}/{o}" if s else o for s, o in zip(refused["shop"], refused["order_id"])],
        "source_file": refused["source_file"].values, "source_row": refused["source_row"].values,
        "problem": refused["reason"].values})
    return ActionResult(orders, voided, concat_events(events), not_applied, results_frame, again, ignored)


def _parcel_refusal(orders: pd.DataFrame, idx, action: str, leaders: set) -> str:
    lead = orders.at[idx, "merged_into"]
    if lead:
        return f"merged into order {lead}: decide on that order, which leads the parcel"
    if (orders.at[idx, "shop"], orders.at[idx, "order_id"]) in leaders and action not in ON_A_PARCEL:
        return ("leads a merged parcel: its orders share one waybill, so only "
                + ", ".join(v.shown(a) for a in ON_A_PARCEL) + " apply")
    return ""


def _apply_one(orders: pd.DataFrame, idx, action: str, argument: str, note: str, known_countries,
               channels, warehouses, voided: list, events: list) -> str:
    """Applies one decision to ``orders`` in place; returns why it was refused ("" when applied)."""
    o = orders.loc[idx]
    stage, said = o["stage"], f" ({note})" if note else ""
    if stage not in ACTIVE_STAGES:
        return f"order is already {stage}"
    if action == v.APPROVE:
        if stage not in ("hold", "review"):
            return f"order is in {stage}, not held"
        unshippable = _unshippable(o, known_countries)
        if unshippable:
            return (f"{unshippable}: no parcel can go out so; correct the order on the platform and export "
                    "it again")
        back = "print" if o["tracking_number"] else "process"
        orders.loc[idx, ["stage", "held_at", "hold_reason"]] = back, "", ""
        events.append(events_for(orders.loc[[idx]], "approved", "approved by staff" + said))
    elif action == v.RELEASE:
        if stage != "hold":
            return f"order is in {stage}, not held"
        back = "print" if o["tracking_number"] else ("process" if o["held_at"] == "process" else "review")
        orders.loc[idx, ["stage", "held_at", "hold_reason"]] = back, "", ""
        events.append(events_for(orders.loc[[idx]], "released", f"released by staff to {back}" + said))
    elif action == v.HOLD:
        if stage == "hold" and o["held_at"] == STAFF:
            return "order is already held by staff"
        orders.loc[idx, ["stage", "held_at", "hold_reason", "stock_status"]] = "hold", STAFF, "held by staff" + said, ""
        events.append(events_for(orders.loc[[idx]], "held", "held by staff" + said))
    elif action == v.CANCEL:
        tracking = o["tracking_number"]
        if tracking:
            voided.append(tracking)
        released = o["stock_status"] == "in_stock"
        orders.loc[idx, ["stage", "stock_status", "tracking_number", "held_at", "hold_reason",
                         "failure_reason"]] = "cancelled", "", "", "", "", ""
        orders.at[idx, "notes"] = ("cancelled by staff" + said + (f"; waybill {tracking} voided" if tracking else "")
                                   + ("; allocation released" if released else ""))
        events.append(events_for(orders.loc[[idx]], "cancelled", orders.at[idx, "notes"]))
    elif action == v.CHANGE_CHANNEL:
        if argument not in channels:
            return (f"channel {argument!r} is not declared under [[channels]] (channels: "
                    f"{', '.join(sorted(channels)) or 'none'}); write it in the argument column")
        if argument == o["channel"]:
            return f"order already ships with {argument}"
        tracking = o["tracking_number"]
        if tracking:
            voided.append(tracking)
        # Back to process: customs are filled again and the waybill comes from the new channel.
        orders.loc[idx, ["stage", "channel", "tracking_number", "stock_status", "held_at", "hold_reason",
                         "failure_reason", "printed", "printed_run"]] = (
            "process", argument, "", "", "", "", "", "", "")
        events.append(events_for(orders.loc[[idx]], "channel changed", f"channel {argument} by staff"
                                 + (f"; waybill {tracking} voided" if tracking else "") + said))
    elif action == v.CHANGE_WAREHOUSE:
        if argument not in warehouses:
            return (f"warehouse {argument!r} has no stock counted (warehouses: "
                    f"{', '.join(sorted(warehouses)) or 'none'}); write it in the argument column")
        if argument == o["warehouse"]:
            return f"order already ships from {argument}"
        # An allocation belongs to the old warehouse: the order takes stock again from the new one.
        orders.loc[idx, ["warehouse", "stock_status"]] = argument, ""
        events.append(events_for(orders.loc[[idx]], "warehouse changed", f"warehouse {argument} by staff" + said))
    elif action == v.FORCE_IN_STOCK:
        if stage != "print" or o["stock_status"] != "out_of_stock":
            return f"order is not waiting for stock (it is in {stage}{', ' + o['stock_status'] if o['stock_status'] else ''})"
        orders.at[idx, "stock_status"] = "in_stock"
        events.append(events_for(orders.loc[[idx]], "allocated",
                                 "forced in stock by staff (移入有货): stock may go below zero" + said))
    elif action == v.REPRINT:
        if stage != "print" or not o["tracking_number"] or (o["printed"] != "yes" and o["stock_status"] != "in_stock"):
            return "only the label of an order in print that is printed or in stock can be printed"
        events.append(events_for(orders.loc[[idx]], "reprint", o["tracking_number"] + said))
    elif action == v.MARK_PRINTED:
        if stage != "print" or not o["tracking_number"]:
            return f"order has no label to print (it is in {stage})"
        if o["printed"] == "yes":
            return "order is already printed"
        orders.loc[idx, ["printed", "printed_run"]] = "yes", ""
        events.append(events_for(orders.loc[[idx]], "marked printed", "marked printed by staff" + said))
    elif action == v.MERGE:
        if stage not in ("review", "hold", "process", "waybill") or o["tracking_number"]:
            return "only orders without a waybill can be merged"
        if o["merge"] == REQUESTED:
            return "a merge is already asked for"
        # The merge stage joins it with the buyer's other routed orders to the same address.
        orders.at[idx, "merge"] = REQUESTED
        events.append(events_for(orders.loc[[idx]], "merge requested", "merge asked for by staff" + said))
    elif action == v.SPLIT:
        if stage != "print" or o["stock_status"] != "out_of_stock":
            return "only an order in print that waits for stock can be split"
        # The split stage moves the lines out of stock to a new part (stages/split.py).
        orders.at[idx, "split"] = SPLIT_REQUESTED
        events.append(events_for(orders.loc[[idx]], "split requested", "split asked for by staff" + said))
    elif action == v.IGNORE_FAILURE:
        if not o["failure_reason"]:
            return "order has no failure to ignore"
        orders.at[idx, "ignored_failure"] = o["failure_reason"]
        events.append(events_for(orders.loc[[idx]], "failure ignored", o["failure_reason"] + said))
    return ""


def _unshippable(order: pd.Series, known_countries: frozenset[str]) -> str:
    """What no approval can make up for: a label needs a name, a street, a city and a country."""
    for column, words in (("recipient_name", "recipient name"), ("address1", "address"), ("city", "city"),
                          ("country", "country")):
        if not str(order[column]).strip():
            return f"{words} missing"
    if order["country"] not in known_countries:
        return f"unknown country {order['country']}"
    return ""


def _only(hits: list):
    return hits[0] if len(hits) == 1 else None
