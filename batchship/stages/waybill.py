"""Waybill (运单号申请): numbers from each channel's pre-issued pool, oldest paid order first."""
from __future__ import annotations

import pandas as pd

from .events import concat_events, events_for
from .priority import oldest_paid_first


def assign_waybills(orders: pd.DataFrame, free_pool: pd.DataFrame, booked_channels: set[str] = frozenset()
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Returns (orders, issued[tracking_number, shop, order_id], events). Orders of channels that
    book with a forwarder stay in waybill: they are booked after the batch commits."""
    orders = orders.copy()
    # A merged parcel's followers take their leader's number afterwards (stages/merge.py).
    todo = oldest_paid_first(orders[(orders["stage"] == "waybill") & ~orders["channel"].isin(booked_channels)
                                    & (orders["merged_into"] == "")])
    issued_parts, events = [], []
    for channel, group in todo.groupby("channel", sort=True):
        numbers = free_pool.loc[free_pool["channel"] == channel, "tracking_number"].tolist()
        got = group.iloc[:len(numbers)]
        starved = group.iloc[len(numbers):]
        orders.loc[got.index, "tracking_number"] = numbers[:len(got)]
        orders.loc[got.index, ["stage", "failure_reason", "stock_status"]] = "print", "", ""
        issued_parts.append(pd.DataFrame({"tracking_number": numbers[:len(got)], "shop": got["shop"].values,
                                          "order_id": got["order_id"].values}))
        reason = f"no tracking numbers left for channel {channel}"
        fresh = starved[starved["failure_reason"] != reason]
        orders.loc[starved.index, "failure_reason"] = reason
        events += [events_for(orders.loc[got.index], "waybill issued", orders.loc[got.index, "tracking_number"]),
                   events_for(fresh, "waybill failed", reason)]
    issued = (pd.concat(issued_parts, ignore_index=True) if issued_parts
              else pd.DataFrame(columns=["tracking_number", "shop", "order_id"]))
    return orders, issued, concat_events(events)
