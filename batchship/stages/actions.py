"""Staff decisions from an action sheet: approve a held order, hold one, or cancel one.

An approved order skips the rule that held it and goes on to process (where it
is routed again, and holds again if its product data is still missing); one
that already had its waybill returns to print and takes stock again. A staff
hold stays until staff approve it: nothing automatic releases it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..schemas import ACTIVE_STAGES, Action
from .events import concat_events, events_for

STAFF = "staff"   # held_at of a staff hold


@dataclass
class ActionResult:
    orders: pd.DataFrame
    voided: list[str]            # tracking numbers of orders staff cancelled
    events: pd.DataFrame
    not_applied: pd.DataFrame    # reference, source_file, source_row, problem


def apply_actions(orders: pd.DataFrame, actions: pd.DataFrame, known_countries: frozenset[str]) -> ActionResult:
    orders = orders.copy()
    where = {key: i for i, key in zip(orders.index, zip(orders["shop"], orders["order_id"]))}
    by_id: dict[str, list] = {}
    for i, oid in zip(orders.index, orders["order_id"]):
        by_id.setdefault(oid, []).append(i)
    voided, problems, events = [], [], []
    for r in actions.itertuples(index=False):
        idx = where.get((r.shop, r.order_id)) if r.shop else _only(by_id.get(r.order_id, []))
        ref = f"{r.shop}/{r.order_id}" if r.shop else r.order_id
        if idx is None:
            why = ("order id is used by several shops: add the shop" if len(by_id.get(r.order_id, [])) > 1
                   else "unknown order")
            problems.append((ref, r.source_file, r.source_row, why))
            continue
        stage = orders.at[idx, "stage"]
        if stage not in ACTIVE_STAGES:
            problems.append((ref, r.source_file, r.source_row, f"{r.action}: order is already {stage}"))
            continue
        note = f" ({r.note})" if r.note else ""
        if r.action == Action.APPROVE:
            if stage != "hold" and stage != "review":
                problems.append((ref, r.source_file, r.source_row, f"approve: order is in {stage}, not held"))
                continue
            unshippable = _unshippable(orders.loc[idx], known_countries)
            if unshippable:
                problems.append((ref, r.source_file, r.source_row,
                                 f"approve: {unshippable}: no parcel can go out so; correct the order on the "
                                 "platform and export it again"))
                continue
            _approve(orders, idx)
            events.append(events_for(orders.loc[[idx]], "approved", "approved by staff" + note))
        elif r.action == Action.HOLD:
            orders.loc[idx, ["stage", "held_at", "hold_reason", "stock_status"]] = (
                "hold", STAFF, "held by staff" + note, "")
            events.append(events_for(orders.loc[[idx]], "held", "held by staff" + note))
        else:
            tracking = orders.at[idx, "tracking_number"]
            if tracking:
                voided.append(tracking)
            released = orders.at[idx, "stock_status"] == "in_stock"
            orders.loc[idx, ["stage", "stock_status", "tracking_number", "held_at", "hold_reason",
                             "failure_reason"]] = "cancelled", "", "", "", "", ""
            orders.at[idx, "notes"] = ("cancelled by staff" + note
                                       + (f"; waybill {tracking} voided" if tracking else "")
                                       + ("; allocation released" if released else ""))
            events.append(events_for(orders.loc[[idx]], "cancelled", orders.at[idx, "notes"]))
    not_applied = pd.DataFrame(problems, columns=["reference", "source_file", "source_row", "problem"])
    return ActionResult(orders, voided, concat_events(events), not_applied)


def _unshippable(order: pd.Series, known_countries: frozenset[str]) -> str:
    """What no approval can make up for: a label needs a name, a street, a city and a country."""
    for field, words in (("recipient_name", "recipient name"), ("address1", "address"), ("city", "city"),
                         ("country", "country")):
        if not str(order[field]).strip():
            return f"{words} missing"
    if order["country"] not in known_countries:
        return f"unknown country {order['country']}"
    return ""


def _only(hits: list):
    return hits[0] if len(hits) == 1 else None


def _approve(orders: pd.DataFrame, idx) -> None:
    back = "print" if orders.at[idx, "tracking_number"] else "process"
    orders.loc[idx, ["stage", "held_at", "hold_reason"]] = back, "", ""
