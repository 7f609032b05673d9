"""Allocate (待打单): in stock or out of stock, oldest paid first, all lines of an order or none.

SKUs that no stock sheet has ever counted are not tracked and count as in
stock, as Dianxiaomi does. Allocations already made are kept; waiting
out-of-stock orders take what is left.
"""
from __future__ import annotations

import pandas as pd

from ..frame_records import column_rows
from .events import concat_events, events_for
from .merge import parcel_key
from .priority import oldest_paid_first


def free_stock(orders: pd.DataFrame, lines: pd.DataFrame, on_hand: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(warehouse, sku) -> units on hand that no in-stock order in print holds."""
    free = {(w, s): int(q) for w, s, q in column_rows(on_hand, ["warehouse", "sku", "on_hand"])}
    holding = orders[(orders["stage"] == "print") & (orders["stock_status"] == "in_stock")]
    held = lines.merge(holding[["shop", "order_id", "warehouse"]], on=["shop", "order_id"])
    # as_index=False and plain rows: walking a grouped sum's MultiIndex builds a tuple per row in pandas.
    for w, s, q in column_rows(held.groupby(["warehouse", "sku"], as_index=False)["quantity"].sum(),
                               ["warehouse", "sku", "quantity"]):
        free[(w, s)] = free.get((w, s), 0) - int(q)
    return free


def allocate(orders: pd.DataFrame, lines: pd.DataFrame, on_hand: pd.DataFrame
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`orders` holds every unshipped order, so what they hold is computed here, after this
    batch's cancellations and holds released their stock."""
    orders = orders.copy()
    waiting = orders[(orders["stage"] == "print") & (orders["stock_status"] != "in_stock")]
    if waiting.empty:
        return orders, events_for(waiting, "")
    waiting = oldest_paid_first(waiting)
    tracked = set(on_hand["sku"])
    free = free_stock(orders, lines, on_hand)

    # A merged parcel takes stock as a whole: all lines of all its orders, or none.
    waiting = waiting.assign(parcel=parcel_key(waiting))
    mine = lines.merge(waiting[["shop", "order_id", "warehouse", "parcel"]], on=["shop", "order_id"])
    mine = mine[mine["sku"].isin(tracked)]
    needs = mine.groupby(["shop", "parcel", "warehouse", "sku"], sort=False, as_index=False)["quantity"].sum()
    need_by_parcel: dict[tuple[str, str], list[tuple[tuple[str, str], int]]] = {}
    for shop, parcel, wh, sku, qty in column_rows(needs, ["shop", "parcel", "warehouse", "sku", "quantity"]):
        need_by_parcel.setdefault((shop, parcel), []).append(((wh, sku), int(qty)))

    parcels = list(column_rows(waiting, ["shop", "parcel"]))
    decided: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys(parcels):
        need = need_by_parcel.get(key, [])
        if all(free.get(place, 0) >= qty for place, qty in need):
            for place, qty in need:
                free[place] = free.get(place, 0) - qty
            decided[key] = "in_stock"
        else:
            decided[key] = "out_of_stock"
    status_s = pd.Series([decided[k] for k in parcels], index=waiting.index)
    changed = status_s.index[status_s.values != waiting["stock_status"].values]
    orders.loc[waiting.index, "stock_status"] = status_s
    turned_in = changed[status_s[changed] == "in_stock"]
    turned_out = changed[status_s[changed] == "out_of_stock"]
    return orders, concat_events([events_for(orders.loc[turned_in], "allocated", "in stock"),
                                  events_for(orders.loc[turned_out], "out of stock", "waiting for stock")])
