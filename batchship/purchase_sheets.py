"""purchase-suggestions.xlsx: what to buy (editable quantities, one purchase order number per supplier)
and the purchase orders still open. Dropped back into the inbox, its first sheet is a purchase order."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .config import Config
from .purchasing import on_order, open_orders, suggestions, window_start
from .store import Store
from .writers.columns import CURRENCY, NUMBER, QUANTITY, Money
from .writers.xlsx import write_workbook


def purchase_suggestion_frames(store: Store, config: Config, run_id: str):
    started = store.run_started(run_id)
    now = datetime.fromisoformat(started) if started else datetime.now().astimezone()
    products = store.products()
    windows = [int(v) for v in products["sales_window_days"] if str(v).strip()]
    longest = max([config.purchasing.sales_window_days, *windows])
    po_lines = store.purchase_order_lines()
    stock = store.on_hand().merge(store.allocated(), on=["warehouse", "sku"], how="left")
    stock["allocated"] = stock["allocated"].fillna(0).astype("int64")
    suggested = suggestions(stock, store.waiting_for_stock(), store.sales_since(window_start(now, longest + 1)),
                            on_order(po_lines), products, config.purchasing, now, f"PO-{run_id}")
    return suggested, open_orders(po_lines)


def write_purchase_suggestions(out: Path, store: Store, config: Config, run_id: str) -> Path:
    suggested, still_open = purchase_suggestion_frames(store, config, run_id)
    # In Chinese its headers are the purchase order sheet's own, so the sheet still reads back.
    return write_workbook(out / "purchase-suggestions.xlsx", [("purchase orders", suggested),
                                                               ("open purchase orders", still_open)],
                          style=config.workbook_style, kinds={"purchase orders": PURCHASE_KINDS})


PURCHASE_KINDS = {"unit_cost": Money("cost_currency"), "cost_currency": CURRENCY,
                  **{c: QUANTITY for c in ("waiting", "available", "shortfall", "units_sold", "safety_stock",
                                           "on_order", "suggested", "order_quantity")},
                  **{c: NUMBER for c in ("sales_window_days", "lead_time_days", "avg_daily_sales")}}
