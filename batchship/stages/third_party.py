"""Third-party (overseas) warehouses: their orders need no waybill from us.

Such a warehouse (``kind = "third_party"``) picks, packs and labels its orders itself and sends
back their tracking numbers in its shipment confirmation (stages/ship.py). Its routed orders go
straight from the waybill stage to print, where stock of that warehouse alone is allocated; in
stock, they are written to the warehouse's outbound file, never to local labels or pick lists.
"""
from __future__ import annotations

import pandas as pd

from .events import events_for

TO_THIRD_PARTY = "sent to third-party warehouse"


def skip_waybill(orders: pd.DataFrame, warehouses: frozenset[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders of third-party warehouses waiting for a waybill move on to allocation."""
    orders = orders.copy()
    theirs = (orders["stage"] == "waybill") & orders["warehouse"].isin(warehouses)
    orders.loc[theirs, ["stage", "failure_reason", "stock_status"]] = "print", "", ""
    return orders, events_for(orders[theirs], TO_THIRD_PARTY, orders.loc[theirs, "warehouse"])
