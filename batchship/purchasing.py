"""Purchase suggestions (采购建议): what to buy, per warehouse and SKU, grouped by supplier.

    shortfall     = waiting − available          (units out-of-stock orders lack; 0 when stock suffices)
    safety stock  = ⌈average daily sales over the sales window × lead time days⌉
    suggested     = shortfall + safety stock − on order   (never below 0)

where available = on hand − allocated, average daily sales = units paid for in the
last ``sales_window_days`` days ÷ those days, and on order = what purchase orders
dropped back into the inbox ordered and receipts with their number have not yet
brought in. Stock beyond what waiting orders need counts against the safety stock.
The window and lead time come from the product list, else from ``[purchasing]``.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from .config import Purchasing

SUGGESTION_COLUMNS = ["supplier", "warehouse", "sku", "name", "supplier_sku", "source_url", "unit_cost",
                      "cost_currency", "waiting", "available", "shortfall", "sales_window_days", "units_sold",
                      "avg_daily_sales", "lead_time_days", "safety_stock", "on_order", "suggested",
                      "order_quantity", "po_number"]
OPEN_PO_COLUMNS = ["po_number", "supplier", "warehouse", "sku", "ordered", "received", "outstanding",
                   "source_file", "source_row"]
KEY = ["warehouse", "sku"]


def window_start(now: datetime, days: int) -> str:
    """UTC "YYYY-MM-DDTHH:MM:SSZ" ``days`` before ``now``."""
    return (now.astimezone(timezone.utc) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def on_order(po_lines: pd.DataFrame) -> pd.DataFrame:
    """warehouse, sku, on_order: per line what is ordered and not yet received (never below 0)."""
    outstanding = (po_lines["ordered"] - po_lines["received"]).clip(lower=0)
    frame = po_lines[KEY].assign(on_order=outstanding.astype("int64"))
    return frame.groupby(KEY, as_index=False)["on_order"].sum()


def open_orders(po_lines: pd.DataFrame) -> pd.DataFrame:
    lines = po_lines.assign(outstanding=(po_lines["ordered"] - po_lines["received"]).clip(lower=0))
    return lines[lines["outstanding"] > 0].reindex(columns=OPEN_PO_COLUMNS)


def suggestions(stock: pd.DataFrame, waiting: pd.DataFrame, sales: pd.DataFrame, ordered: pd.DataFrame,
                products: pd.DataFrame, settings: Purchasing, now: datetime, po_prefix: str) -> pd.DataFrame:
    """``stock``: warehouse, sku, on_hand, allocated; ``waiting``: warehouse, sku, waiting; ``sales``:
    warehouse, sku, day (UTC date), units; ``ordered``: warehouse, sku, on_order; ``products``: the
    product list. One row per place with something to buy, sorted by supplier; ``order_quantity`` starts
    as the suggestion and ``po_number`` as one number per supplier (``po_prefix``-1, -2 ...)."""
    places = pd.concat([stock[KEY], waiting[KEY], ordered[KEY], sales[KEY]]).drop_duplicates()
    rows = places.merge(stock[KEY + ["on_hand", "allocated"]], on=KEY, how="left")
    rows = rows.merge(waiting[KEY + ["waiting"]], on=KEY, how="left").merge(ordered, on=KEY, how="left")
    for column in ("on_hand", "allocated", "waiting", "on_order"):
        rows[column] = rows[column].fillna(0).astype("int64")
    info = products.drop_duplicates("sku").set_index("sku")
    rows = rows.join(info[["name", "supplier", "supplier_sku", "source_url", "unit_cost", "cost_currency",
                           "lead_time_days", "sales_window_days"]], on="sku").fillna("")
    rows["sales_window_days"] = [int(v) if str(v).strip() else settings.sales_window_days
                                 for v in rows["sales_window_days"]]
    rows["lead_time_days"] = [int(v) if str(v).strip() else settings.lead_time_days for v in rows["lead_time_days"]]
    today = now.astimezone(timezone.utc).date()
    sold = {}
    for (w, s), group in sales.groupby(KEY):
        sold[(w, s)] = group
    units = []
    for w, s, window in zip(rows["warehouse"], rows["sku"], rows["sales_window_days"]):
        group = sold.get((w, s))
        first = (today - timedelta(days=int(window))).isoformat()
        units.append(int(group.loc[group["day"] > first, "units"].sum()) if group is not None else 0)
    rows["units_sold"] = units
    daily = [Decimal(u) / Decimal(w) for u, w in zip(rows["units_sold"], rows["sales_window_days"])]
    rows["avg_daily_sales"] = [float(d.quantize(Decimal("0.01"), ROUND_HALF_UP)) for d in daily]
    rows["safety_stock"] = [math.ceil(d * lead) for d, lead in zip(daily, rows["lead_time_days"])]
    rows["available"] = rows["on_hand"] - rows["allocated"]
    rows["shortfall"] = (rows["waiting"] - rows["available"]).clip(lower=0)
    need = rows["waiting"] - rows["available"] + rows["safety_stock"] - rows["on_order"]
    rows["suggested"] = need.clip(lower=0).astype("int64")
    rows = rows[rows["suggested"] > 0].sort_values(["supplier", "warehouse", "sku"]).reset_index(drop=True)
    rows["order_quantity"] = rows["suggested"]
    numbers = {supplier: f"{po_prefix}-{i}" for i, supplier in enumerate(dict.fromkeys(rows["supplier"]), start=1)}
    rows["po_number"] = rows["supplier"].map(numbers)
    rows["unit_cost"] = pd.array([float(v) if str(v).strip() else None for v in rows["unit_cost"]], dtype="Float64")
    return rows.reindex(columns=SUGGESTION_COLUMNS)
