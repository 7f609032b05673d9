"""Waybill results from forwarders applied to their orders (pure: the booking itself is I/O,
see batchship/forwarders/booking.py)."""
from __future__ import annotations

import pandas as pd

from .events import concat_events, events_for


def apply_booking_results(orders: pd.DataFrame, bookings: pd.DataFrame, channels: set[str]
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders of booking channels in the waybill stage take their booking's outcome: a tracking
    number moves them to print; a refusal or a forwarder that did not answer is their reason."""
    orders = orders.copy()
    waiting = orders[(orders["stage"] == "waybill") & orders["channel"].isin(channels)]
    if waiting.empty or bookings.empty:
        return orders, events_for(waiting.iloc[:0], "")
    by_key = {(b["shop"], b["order_id"]): b for b in bookings.to_dict("records")}
    issued, failed, reasons = [], [], []
    for index, key in zip(waiting.index, zip(waiting["shop"], waiting["order_id"])):
        booking = by_key.get(key)
        if booking is None:
            continue
        if booking["state"] == "booked":
            orders.loc[index, ["tracking_number", "stage", "failure_reason", "stock_status"]] = (
                booking["tracking_number"], "print", "", "")
            issued.append(index)
            continue
        if booking["state"] == "refused":
            reason = f"waybill failed: {booking['reason']}"
        elif booking["reason"]:
            reason = f"waybill pending: {booking['reason']}; tried again by the next run"
        else:
            continue
        if orders.at[index, "failure_reason"] != reason:
            orders.at[index, "failure_reason"] = reason
            failed.append(index)
            reasons.append(reason)
    events = [events_for(orders.loc[issued], "waybill issued", orders.loc[issued, "tracking_number"]),
              events_for(orders.loc[failed], "waybill failed", pd.Series(reasons, index=failed, dtype=object))]
    return orders, concat_events(events)
