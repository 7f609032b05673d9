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
    joined = waiting[["shop", "order_id", "failure_reason"]].reset_index().merge(
        bookings[["shop", "order_id", "channel", "state", "tracking_number", "reason"]], on=["shop", "order_id"])
    joined = joined.set_index("index")

    booked = joined[joined["state"] == "booked"]
    orders.loc[booked.index, "tracking_number"] = booked["tracking_number"]
    orders.loc[booked.index, ["stage", "failure_reason", "stock_status"]] = "print", "", ""

    refused = joined["state"] == "refused"
    unanswered = (joined["state"] == "sending") & (joined["reason"] != "")
    in_sheet = joined["state"] == "sheet"
    reason = pd.Series("", index=joined.index, dtype=object)
    reason[refused] = "waybill failed: " + joined.loc[refused, "reason"]
    reason[unanswered] = ("waybill pending: " + joined.loc[unanswered, "reason"]
                          + "; tried again by the next run")
    reason[in_sheet] = ("in the booking sheet for " + joined.loc[in_sheet, "channel"]
                        + ": waiting for the forwarder's result sheet")
    changed = (refused | unanswered | in_sheet) & (reason != joined["failure_reason"])
    orders.loc[changed[changed].index, "failure_reason"] = reason[changed]
    failed = changed & ~in_sheet
    sent = changed & in_sheet
    events = [events_for(orders.loc[booked.index], "waybill issued", orders.loc[booked.index, "tracking_number"]),
              events_for(orders.loc[failed[failed].index], "waybill failed", reason[failed]),
              events_for(orders.loc[sent[sent].index], "in booking sheet", reason[sent])]
    return orders, concat_events(events)


def sheet_answers(results: pd.DataFrame) -> pd.DataFrame:
    """What a forwarder's result sheet says of each parcel (reference, state, tracking_number,
    reason): a number books it, no number refuses it with the forwarder's reason."""
    booked = results["tracking_number"].ne("")
    return pd.DataFrame({"reference": results["reference"].values,
                         "state": booked.map({True: "booked", False: "refused"}).values,
                         "tracking_number": results["tracking_number"].values,
                         "reason": results["error"].where(~booked, "").values})


def with_sheet_results(bookings: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Bookings as a forwarder's result sheet leaves them."""
    answer = sheet_answers(results).drop_duplicates("reference", keep="last").set_index("reference")
    out = bookings.copy()
    hit = out["reference"].isin(answer.index)
    refs = out.loc[hit, "reference"]
    for column in ("state", "tracking_number", "reason"):
        out.loc[hit, column] = refs.map(answer[column])
    return out
