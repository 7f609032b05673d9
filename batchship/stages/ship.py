"""Ship (已发货): a handover scan ships an order and deducts its stock exactly once.

A warehouse's shipment confirmation is a scan that also gives the parcel's tracking number (a
third-party warehouse labels its parcels itself): the order takes that number, then ships as a
scanned one does, deducting its own warehouse's stock."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..frame_records import order_keys
from ..importers.normalize import clean_tracking_number
from ..schemas import ShipScan
from .events import concat_events, events_for

MOVE_COLUMNS = ["warehouse", "sku", "delta", "cause", "reference", "source_file", "source_row"]


@dataclass
class ShipResult:
    orders: pd.DataFrame
    movements: pd.DataFrame     # ledger rows to add
    events: pd.DataFrame
    not_applied: pd.DataFrame   # reference, source_file, source_row, problem


def ship(scans: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame, counted: set[tuple[str, str]],
         voided: set[str] = frozenset()) -> ShipResult:
    """`orders` must hold every order a scan could name (by tracking number or order id).

    Stock is deducted only where a stock sheet has counted the SKU in the order's warehouse
    (``counted``: (warehouse, sku) places); elsewhere it is not tracked and nothing is owed."""
    orders = orders.copy()
    by_tracking = {t: i for i, t, lead in zip(orders.index, orders["tracking_number"], orders["merged_into"])
                   if t and not lead}
    # A merged parcel ships as one: scanning it (or its leader) ships every order in it.
    followers: dict = {}
    lead_at = {key: i for i, key in zip(orders.index, order_keys(orders))}
    for i, shop, lead in zip(orders.index, orders["shop"], orders["merged_into"]):
        if lead and (shop, lead) in lead_at:
            followers.setdefault(lead_at[(shop, lead)], []).append(i)
    by_order: dict[str, list] = {}
    for i, oid in zip(orders.index, orders["order_id"]):
        by_order.setdefault(oid, []).append(i)

    shipped_now: dict = {}
    given: dict = {}          # order index -> (tracking number, carrier, date) from a confirmation
    problems = []
    blank = pd.Series("", index=scans.index, dtype="str")
    confirmed = zip(*(scans[c] if c in scans else blank for c in (ShipScan.tracking_number, ShipScan.carrier,
                                                                 ShipScan.shipped_at, ShipScan.warehouse)))
    for ref, file, row, (tracking, carrier, shipped_at, place) in zip(
            scans[ShipScan.reference], scans[ShipScan.file], scans[ShipScan.row], confirmed):
        number = clean_tracking_number(ref)   # a scanner or a typist may add spaces or lower case
        tracking = clean_tracking_number(tracking or "")
        # A confirmation names the order by its id first: its reference is the order, not a parcel.
        idx = None if tracking else by_tracking.get(number)
        if tracking and len(by_order.get(ref, [])) == 1:
            idx = by_order[ref][0]
        if idx is None and tracking:
            idx = by_tracking.get(number)
        if idx is None:
            hits = by_order.get(ref, [])
            if len(hits) > 1:
                problems.append((ref, file, row, "order id is used by several shops: scan the tracking number"))
                continue
            idx = hits[0] if hits else None
        if idx is None:
            why = ("tracking number was voided when its order was cancelled" if number in voided
                   else "unknown tracking number or order id")
            problems.append((ref, file, row, why))
            continue
        stage, stock = orders.at[idx, "stage"], orders.at[idx, "stock_status"]
        if tracking:
            own, holder = orders.at[idx, "tracking_number"], by_tracking.get(tracking)
            if place and place != orders.at[idx, "warehouse"]:
                problems.append((ref, file, row, f"the order ships from warehouse {orders.at[idx, 'warehouse']}, "
                                                 f"not {place}"))
                continue
            if own and own != tracking:
                problems.append((ref, file, row, f"the order's tracking number is {own}, not {tracking}"))
                continue
            if holder is not None and holder != idx:
                problems.append((ref, file, row, f"tracking number {tracking} is already on order "
                                                 f"{orders.at[holder, 'shop']}/{orders.at[holder, 'order_id']}"))
                continue
        if idx in shipped_now:
            problems.append((ref, file, row, "scanned twice: shipped once"))
        elif stage == "shipped":
            problems.append((ref, file, row, "already shipped"))
        elif stage != "print":
            problems.append((ref, file, row, f"not ready to ship: order is in {stage}"))
        elif stock != "in_stock":
            problems.append((ref, file, row, "not ready to ship: order is out of stock"))
        elif orders.at[idx, "merged_into"]:
            problems.append((ref, file, row, f"merged into order {orders.at[idx, 'merged_into']}: "
                                             "scan its tracking number"))
        else:
            shipped_now[idx] = (file, row)
            for follower in followers.get(idx, []):
                shipped_now[follower] = (file, row)
            if tracking:
                given[idx] = (tracking, carrier, shipped_at)
                by_tracking[tracking] = idx

    numbered = [i for i in given if not orders.at[i, "tracking_number"]]
    for i in numbered:
        orders.at[i, "tracking_number"] = given[i][0]
    done = list(shipped_now)
    orders.loc[done, "stage"] = "shipped"
    moves = _movements(orders.loc[done], lines, counted, shipped_now)
    not_applied = pd.DataFrame(problems, columns=["reference", "source_file", "source_row", "problem"])
    how = pd.Series("handover scanned", index=orders.index, dtype="str")
    for i, (tracking, carrier, shipped_at) in given.items():
        how[i] = (f"shipped by warehouse {orders.at[i, 'warehouse']}: {tracking}"
                  + (f", {carrier}" if carrier else "") + (f", {shipped_at}" if shipped_at else ""))
    # A number the warehouse gave is the order's waybill: it goes up like one we issued.
    return ShipResult(orders, moves, concat_events([
        events_for(orders.loc[numbered], "waybill issued", orders.loc[numbered, "tracking_number"]),
        events_for(orders.loc[done], "shipped", how[done])]), not_applied)


def _movements(shipped: pd.DataFrame, lines: pd.DataFrame, counted: set[tuple[str, str]], sources: dict
               ) -> pd.DataFrame:
    if shipped.empty:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    src = pd.DataFrame([(orders_key[0], orders_key[1], f, r) for orders_key, (f, r) in
                        zip(order_keys(shipped), [sources[i] for i in shipped.index])],
                       columns=["shop", "order_id", "source_file", "source_row"])
    m = lines.merge(shipped[["shop", "order_id", "warehouse"]], on=["shop", "order_id"])
    m = m[pd.Series([place in counted for place in zip(m["warehouse"], m["sku"])], index=m.index, dtype=bool)]
    m = m.groupby(["shop", "order_id", "warehouse", "sku"], as_index=False)["quantity"].sum()
    m = m.merge(src, on=["shop", "order_id"])
    return pd.DataFrame({
        "warehouse": m["warehouse"], "sku": m["sku"], "delta": -m["quantity"], "cause": "ship",
        "reference": m["shop"] + "/" + m["order_id"], "source_file": m["source_file"],
        "source_row": m["source_row"]})[MOVE_COLUMNS]
