"""Ship (已发货): a handover scan ships an order and deducts its stock exactly once."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
    lead_at = {(s, o): i for i, s, o in zip(orders.index, orders["shop"], orders["order_id"])}
    for i, shop, lead in zip(orders.index, orders["shop"], orders["merged_into"]):
        if lead and (shop, lead) in lead_at:
            followers.setdefault(lead_at[(shop, lead)], []).append(i)
    by_order: dict[str, list] = {}
    for i, oid in zip(orders.index, orders["order_id"]):
        by_order.setdefault(oid, []).append(i)

    shipped_now: dict = {}
    problems = []
    for ref, file, row in zip(scans[ShipScan.reference], scans[ShipScan.file], scans[ShipScan.row]):
        number = clean_tracking_number(ref)   # a scanner or a typist may add spaces or lower case
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

    done = list(shipped_now)
    orders.loc[done, "stage"] = "shipped"
    moves = _movements(orders.loc[done], lines, counted, shipped_now)
    not_applied = pd.DataFrame(problems, columns=["reference", "source_file", "source_row", "problem"])
    return ShipResult(orders, moves, concat_events([events_for(orders.loc[done], "shipped", "handover scanned")]),
                      not_applied)


def _movements(shipped: pd.DataFrame, lines: pd.DataFrame, counted: set[tuple[str, str]], sources: dict
               ) -> pd.DataFrame:
    if shipped.empty:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    src = pd.DataFrame([(orders_key[0], orders_key[1], f, r) for orders_key, (f, r) in
                        zip(zip(shipped["shop"], shipped["order_id"]), [sources[i] for i in shipped.index])],
                       columns=["shop", "order_id", "source_file", "source_row"])
    m = lines.merge(shipped[["shop", "order_id", "warehouse"]], on=["shop", "order_id"])
    m = m[pd.Series([place in counted for place in zip(m["warehouse"], m["sku"])], index=m.index, dtype=bool)]
    m = m.groupby(["shop", "order_id", "warehouse", "sku"], as_index=False)["quantity"].sum()
    m = m.merge(src, on=["shop", "order_id"])
    return pd.DataFrame({
        "warehouse": m["warehouse"], "sku": m["sku"], "delta": -m["quantity"], "cause": "ship",
        "reference": m["shop"] + "/" + m["order_id"], "source_file": m["source_file"],
        "source_row": m["source_row"]})[MOVE_COLUMNS]
