"""A new pairing sheet re-pairs the orders that have not reached print yet.

Orders held because a platform SKU was unknown are released by the pairing
that names it, and a changed bundle changes the orders still waiting.
Orders from print on keep their lines: stock and labels were decided on them.
"""
from __future__ import annotations

import pandas as pd

from ..store import LINE_COLUMNS
from .events import events_for
from .sync import pair_lines, platform_lines

REPAIRABLE = ("review", "hold", "process", "waybill")


def repair_orders(orders: pd.DataFrame, lines: pd.DataFrame, pairing: pd.DataFrame
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    orders = orders.copy()
    key = ["shop", "order_id"]
    todo = orders.loc[orders["stage"].isin(REPAIRABLE), key]
    in_todo = lines.set_index(key).index.isin(todo.set_index(key).index)
    before = lines[in_todo]
    after = pair_lines(platform_lines(before), pairing)[LINE_COLUMNS]
    changed_keys = _changed(before, after, key)
    if not changed_keys:
        return orders, lines, events_for(orders.iloc[:0], "")
    after_keys = after.set_index(key).index.isin(list(changed_keys))
    before_keys = lines.set_index(key).index.isin(list(changed_keys))
    lines = pd.concat([lines[~before_keys], after[after_keys]], ignore_index=True)

    hit = pd.Series(orders.set_index(key).index.isin(list(changed_keys)), index=orders.index)
    reroute = hit & (orders["stage"].isin(("process", "waybill"))
                     | ((orders["stage"] == "hold") & (orders["held_at"] == "process")))
    orders.loc[reroute, ["stage", "held_at", "hold_reason", "channel", "warehouse", "failure_reason"]] = (
        "process", "", "", "", "", "")
    summary = after[after_keys].groupby(key)[["sku", "quantity"]].apply(
        lambda g: "now " + ", ".join(f"{s} × {q}" for s, q in zip(g["sku"], g["quantity"])))
    detail = pd.Series(orders[hit].set_index(key).index.map(summary), index=orders[hit].index)
    return orders, lines, events_for(orders[hit], "re-paired", detail)


def _changed(before: pd.DataFrame, after: pd.DataFrame, key: list[str]) -> set[tuple[str, str]]:
    def content(frame: pd.DataFrame) -> dict:
        return {k: sorted(zip(g["sku"], g["quantity"])) for k, g in frame.groupby(key)}
    old, new = content(before), content(after)
    return {k for k in new if new[k] != old.get(k)}
