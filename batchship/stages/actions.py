"""Staff decisions from an action sheet: approve a held order, hold one, or cancel one.

An approved order skips the rule that held it: one held by review goes on to
process; one held at process is routed again (it holds again if the product
data is still missing); one held by staff returns to where it was taken from.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..schemas import Action
from .events import concat_events, events_for

ACTIVE = ("review", "hold", "process", "waybill", "print")


@dataclass
class ActionResult:
    orders: pd.DataFrame
    voided: list[str]            # tracking numbers of orders staff cancelled
    events: pd.DataFrame
    not_applied: pd.DataFrame    # reference, source_file, source_row, problem


def apply_actions(orders: pd.DataFrame, actions: pd.DataFrame) -> ActionResult:
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
        if stage not in ACTIVE:
            problems.append((ref, r.source_file, r.source_row, f"{r.action}: order is already {stage}"))
            continue
        note = f" ({r.note})" if r.note else ""
        if r.action == Action.APPROVE:
            if stage != "hold" and stage != "review":
                problems.append((ref, r.source_file, r.source_row, f"approve: order is in {stage}, not held"))
                continue
            _approve(orders, idx)
            events.append(events_for(orders.loc[[idx]], "approved", "approved by staff" + note))
        elif r.action == Action.HOLD:
            orders.loc[idx, ["held_at", "hold_reason"]] = _staff_hold_origin(orders, idx), "held by staff" + note
            orders.at[idx, "stage"] = "hold"
            orders.at[idx, "stock_status"] = ""
            events.append(events_for(orders.loc[[idx]], "held", "held by staff" + note))
        else:
            tracking = orders.at[idx, "tracking_number"]
            if tracking:
                voided.append(tracking)
            orders.loc[idx, ["stage", "stock_status", "tracking_number"]] = "cancelled", "", ""
            orders.at[idx, "notes"] = "cancelled by staff" + note + (f"; waybill {tracking} voided" if tracking else "")
            events.append(events_for(orders.loc[[idx]], "cancelled", orders.at[idx, "notes"]))
    not_applied = pd.DataFrame(problems, columns=["reference", "source_file", "source_row", "problem"])
    return ActionResult(orders, voided, concat_events(events), not_applied)


def _only(hits: list):
    return hits[0] if len(hits) == 1 else None


def _staff_hold_origin(orders: pd.DataFrame, idx) -> str:
    """Where a staff hold returns to when approved: `staff:<stage>`."""
    stage = orders.at[idx, "stage"]
    if stage == "hold":
        return orders.at[idx, "held_at"]
    return f"staff:{stage}"


def _approve(orders: pd.DataFrame, idx) -> None:
    held_at = orders.at[idx, "held_at"]
    if held_at.startswith("staff:"):
        back = held_at.removeprefix("staff:")
        back = "process" if back == "review" else back
    elif held_at == "process":
        back = "process"
    else:
        back = "process"   # review rules are what staff overrule
    if back == "print" and not orders.at[idx, "tracking_number"]:
        back = "waybill"
    orders.loc[idx, ["stage", "held_at", "hold_reason"]] = back, "", ""
