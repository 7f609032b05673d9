"""Whether the books balance: each identity an accountant would check, with every difference.

Pure: the store's figures come in as frames (``Store.ledger_check_frames``), a list
of ``Check`` goes out. The store sends only what can differ (per place totals,
and the orders and tracking numbers whose figures disagree), so the checks stay
cheap enough to run after every batch.

* stock identity: per warehouse and SKU, opening + received − shipped
  ± adjustments ± count differences = closing, where closing is the sum of every
  movement up to the end of the period: a movement of any other cause (or a row
  written outside batchship) shows as a difference;
* on hand = sum of movements: the on-hand figure stock.xlsx reports for each
  place equals its ledger sum, and every place the ledger moves is a stock place;
* every shipped order deducted once: each order a handover shipped has exactly its
  lines' units deducted for every place whose stock was kept when it shipped, and
  no ship movement names anything else;
* every issued tracking number on exactly one order: no number on two parcels,
  and every number drawn from a pool or booked with a forwarder is on the order it
  went to (unless that order was cancelled since).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

STOCK_IDENTITY = "stock identity (opening + received - shipped ± adjustments ± counts = closing)"
ON_HAND = "on hand = sum of movements"
SHIPPED_ONCE = "every shipped order deducted once"
TRACKING_ONCE = "every issued tracking number on exactly one order"
STOCK_FIGURES = ["warehouse", "sku", "opening", "received", "shipped", "adjustments", "counts", "closing"]


@dataclass
class Check:
    name: str
    holds: bool
    differences: list[dict] = field(default_factory=list)   # one per difference, each a row of the checks sheet


def checks(stock: pd.DataFrame, on_hand: pd.DataFrame, ledger_places: pd.DataFrame, deductions: pd.DataFrame,
           tracking: pd.DataFrame) -> list[Check]:
    """``stock``: STOCK_FIGURES per place for the period; ``on_hand``: warehouse, sku, on_hand as reported;
    ``ledger_places``: warehouse, sku, total (sum of all movements); ``deductions``: reference, warehouse,
    sku, expected, deducted (at least the rows that differ); ``tracking``: tracking_number, orders (how
    many parcels carry it), issued_to (the order it went to, "" if none), carried_by."""
    return [stock_identity(stock), on_hand_is_sum(on_hand, ledger_places), shipped_once(deductions),
            tracking_once(tracking)]


def stock_identity(stock: pd.DataFrame) -> Check:
    expected = stock["opening"] + stock["received"] - stock["shipped"] + stock["adjustments"] + stock["counts"]
    off = stock[expected != stock["closing"]]
    return Check(STOCK_IDENTITY, off.empty, [
        {"warehouse": w, "sku": s, "expected": int(e), "actual": int(c),
         "difference": int(c - e), "detail": "closing is the sum of every movement; the difference is movements "
                                             "of no known cause"}
        for w, s, e, c in zip(off["warehouse"], off["sku"], expected[off.index], off["closing"])])


def on_hand_is_sum(on_hand: pd.DataFrame, ledger_places: pd.DataFrame) -> Check:
    both = on_hand.merge(ledger_places, on=["warehouse", "sku"], how="outer", indicator=True)
    reported = both["on_hand"].fillna(0).astype("int64")
    total = both["total"].fillna(0).astype("int64")
    off = both[(reported != total) | (both["_merge"] == "right_only")]
    rows = []
    for i in off.index:
        missing = both.at[i, "_merge"] == "right_only"
        rows.append({"warehouse": both.at[i, "warehouse"], "sku": both.at[i, "sku"], "expected": int(total[i]),
                     "actual": int(reported[i]), "difference": int(reported[i] - total[i]),
                     "detail": "the ledger moves a place that is not a stock place" if missing
                     else "reported on hand differs from the ledger"})
    return Check(ON_HAND, not rows, rows)


def shipped_once(deductions: pd.DataFrame) -> Check:
    off = deductions[deductions["expected"] != deductions["deducted"]]
    rows = [{"order": ref, "warehouse": w, "sku": s, "expected": int(e), "actual": int(d),
             "difference": int(d - e),
             "detail": ("no ship movement" if d == 0 else "ship movement without a shipped order" if e == 0
                        else "deducted more than shipped" if d > e else "deducted less than shipped")}
            for ref, w, s, e, d in zip(off["reference"], off["warehouse"], off["sku"], off["expected"],
                                       off["deducted"])]
    return Check(SHIPPED_ONCE, not rows, rows)


def tracking_once(tracking: pd.DataFrame) -> Check:
    rows = []
    for number, orders, issued_to, carried_by in zip(tracking["tracking_number"], tracking["orders"],
                                                     tracking["issued_to"], tracking["carried_by"]):
        if int(orders) > 1:
            rows.append({"tracking_number": number, "expected": 1, "actual": int(orders),
                         "difference": int(orders) - 1, "detail": f"on {int(orders)} parcels: {carried_by}"})
        elif issued_to and issued_to != carried_by:
            rows.append({"tracking_number": number, "order": issued_to, "expected": 1, "actual": int(orders),
                         "difference": int(orders) - 1,
                         "detail": f"issued to {issued_to}, on " + (carried_by or "no order")})
    return Check(TRACKING_ONCE, not rows, rows)


def summary_line(results: list[Check]) -> str:
    """One line for the run summary and `batchship status`."""
    failing = [c for c in results if not c.holds]
    if not failing:
        return f"ledger checks: all {len(results)} hold"
    said = "; ".join(f"{c.name}: {len(c.differences)} difference{'s' if len(c.differences) != 1 else ''}"
                     for c in failing)
    return f"ledger checks: {len(failing)} of {len(results)} DO NOT HOLD ({said}; see reconciliation.xlsx)"


ALLOCATED_WITHIN = "no SKU allocated beyond its stock"


def allocated_within(allocated: pd.DataFrame, on_hand: pd.DataFrame) -> Check:
    """``allocated``: warehouse, sku, allocated (units held by in-stock orders not yet shipped), against
    ``on_hand`` at the places it lists: a SKU not counted in stock is not limited."""
    both = allocated[["warehouse", "sku", "allocated"]].merge(on_hand[["warehouse", "sku", "on_hand"]],
                                                               on=["warehouse", "sku"], how="inner")
    off = both[both["allocated"].astype("int64") > both["on_hand"].astype("int64")]
    return Check(ALLOCATED_WITHIN, off.empty, [
        {"warehouse": w, "sku": s, "expected": int(h), "actual": int(a), "difference": int(a - h),
         "detail": "in-stock orders hold more units than are on hand"}
        for w, s, a, h in zip(off["warehouse"], off["sku"], off["allocated"], off["on_hand"])])
