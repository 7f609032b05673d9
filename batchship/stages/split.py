"""Split (拆分订单): an order waiting for stock ships what is in stock now, the rest later.

Staff ask for it on an order in print that is out of stock. The lines whose stock is free stay on the
order, which takes that stock at once and is printed with its waybill; the others move to a new part,
``<order id>-<n>``, which gets its own waybill and waits for stock like any order. Every line is on
exactly one part, so each unit is deducted once when its part ships; the marketplace upload names the
original order for both parts (``split_of``).
"""
from __future__ import annotations

import pandas as pd

from ..frame_records import order_keys
from .allocate import free_stock
from .events import concat_events, events_for
from .priority import oldest_paid_first

REQUESTED = "requested"      # the order's ``split`` column


def split_orders(orders: pd.DataFrame, lines: pd.DataFrame, on_hand: pd.DataFrame, run_id: str
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    asked = orders[orders["split"] == REQUESTED]
    if asked.empty:
        return orders, lines, events_for(orders.iloc[:0], "")
    orders, lines = orders.copy(), lines.copy()
    free = free_stock(orders, lines, on_hand)
    tracked = set(on_hand["sku"])
    taken = set(order_keys(orders))
    new_orders, events = [], []
    for idx, o in oldest_paid_first(asked).iterrows():
        orders.at[idx, "split"] = ""
        mine = lines[(lines["shop"] == o["shop"]) & (lines["order_id"] == o["order_id"])]
        now, later = [], []
        for i, line in mine.iterrows():
            place = (o["warehouse"], line["sku"])
            if line["sku"] not in tracked or free.get(place, 0) >= int(line["quantity"]):
                if line["sku"] in tracked:
                    free[place] -= int(line["quantity"])
                now.append(i)
            else:
                later.append(i)
        if o["stage"] != "print" or o["stock_status"] != "out_of_stock" or not now or not later:
            why = ("nothing of it is in stock" if not now else "all of it is in stock now"
                   if not later else f"it is in {o['stage']}, not waiting for stock")
            events.append(events_for(orders.loc[[idx]], "exception", f"split 拆分订单 not done: {why}"))
            continue
        n = 2
        while (o["shop"], f"{o['order_id']}-{n}") in taken:
            n += 1
        part_id = f"{o['order_id']}-{n}"
        taken.add((o["shop"], part_id))
        part = o.copy()
        part["order_id"], part["split_of"] = part_id, o["split_of"] or o["order_id"]
        part[["stage", "tracking_number", "stock_status", "printed", "printed_run", "failure_reason",
              "created_run", "updated_run"]] = "waybill", "", "", "", "", "", run_id, run_id
        part["notes"] = f"split from {o['order_id']}: lines waiting for stock"
        new_orders.append(part)
        lines.loc[later, "order_id"] = part_id
        orders.at[idx, "stock_status"] = "in_stock"
        orders.at[idx, "notes"] = "; ".join(x for x in (o["notes"], f"split: lines waiting for stock moved to {part_id}")
                                            if x)
        moved = ", ".join(f"{lines.at[i, 'sku']} × {lines.at[i, 'quantity']}" for i in later)
        events.append(events_for(orders.loc[[idx]], "allocated", f"split: ships what is in stock; {moved} "
                                 f"moved to {part_id}"))
    if new_orders:
        added = pd.DataFrame(new_orders)
        orders = pd.concat([orders, added], ignore_index=True)
        events.append(events_for(added, "split", "part of " + added["split_of"] + ": waits for its stock"))
    return orders, lines, concat_events(events)
