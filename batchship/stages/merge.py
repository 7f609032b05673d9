"""Merge (合并订单): a buyer's orders to one address in one shop become one parcel.

An order asks to be merged (a review rule's ``merge = true`` or a staff decision). Once routed and
before any has a waybill, it and every other routed order of the same shop, buyer and address form a
parcel: the oldest paid order leads it, the others follow (``merged_into`` names the leader). The
parcel gets one waybill and one label with every line and article of its orders; it takes stock as a
whole; each order keeps its own lines, so the marketplace upload names every original order with the
shared tracking number. Orders of channels booked with a forwarder are not merged: the forwarder books
one order per parcel.
"""
from __future__ import annotations

import pandas as pd

from ..frame_records import order_keys
from ..rules.facts import normal_text
from .events import concat_events, events_for
from .priority import oldest_paid_first

REQUESTED = "requested"      # the order's ``merge`` column
_ADDRESS = ("recipient_name", "address1", "address2", "city", "postcode", "country")


def parcel_key(orders: pd.DataFrame) -> pd.Series:
    """The order's parcel: the leader's order id (its own when it leads or stands alone)."""
    return orders["merged_into"].where(orders["merged_into"] != "", orders["order_id"])


def merge_parcels(orders: pd.DataFrame, booking_channels: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    orders = orders.copy()
    ready = orders[(orders["stage"] == "waybill") & (orders["tracking_number"] == "")
                   & (orders["merged_into"] == "") & ~orders["channel"].isin(booking_channels)]
    if ready.empty or not (ready["merge"] == REQUESTED).any():
        return orders, events_for(orders.iloc[:0], "")
    same = ready["shop"] + "\x1f" + ready[list(_ADDRESS)].apply(
        lambda col: col.map(normal_text)).agg("\x1f".join, axis=1)
    leaders = set(orders.loc[orders["merged_into"] != "", "merged_into"])
    events = []
    for _, group in ready.groupby(same, sort=False):
        if len(group) < 2 or not (group["merge"] == REQUESTED).any() or group["order_id"].isin(leaders).any():
            continue
        group = oldest_paid_first(group)
        lead = group.iloc[0]
        rest = group.index[1:]
        orders.loc[rest, ["merged_into", "channel", "warehouse"]] = lead["order_id"], lead["channel"], lead["warehouse"]
        orders.loc[group.index, "merge"] = ""
        others = ", ".join(group["order_id"].iloc[1:])
        events += [events_for(orders.loc[[group.index[0]]], "merged", f"one parcel with {others}"),
                   events_for(orders.loc[rest], "merged", f"into {lead['order_id']} (one parcel, one label)")]
    # A request no parcel came of (the buyer's other orders are not routed yet) stays for the next batch.
    return orders, concat_events(events)


def follow_leaders(orders: pd.DataFrame) -> pd.DataFrame:
    """Each follower takes its leader's waybill, stage and failure: one parcel, one state."""
    followers = orders.index[orders["merged_into"] != ""]
    if not len(followers):
        return orders
    orders = orders.copy()
    lead_at = {key: i for i, key in zip(orders.index, order_keys(orders))}
    for i in followers:
        lead = lead_at.get((orders.at[i, "shop"], orders.at[i, "merged_into"]))
        if lead is None:
            continue
        for col in ("stage", "tracking_number", "failure_reason", "stock_status"):
            orders.at[i, col] = orders.at[lead, col]
    return orders
