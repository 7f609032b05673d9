"""A forwarder's bulk-order sheet filled from orders (pure)."""
from __future__ import annotations

from typing import Callable

import pandas as pd

from .mapping import Mapping
from .render import order_context, render
from ..frame_records import records


def sheet_rows(mapping: Mapping, orders: pd.DataFrame, lines: pd.DataFrame, product_code: str,
               sender_of: Callable[[dict], dict[str, str]]) -> list[list]:
    """One row per order line (or per order) in the mapping's column order. ``orders`` carries
    each parcel's ``reference``; ``sender_of`` gives an order's sender fields."""
    by_order: dict[tuple[str, str], list[dict]] = {}
    for line in records(lines):
        by_order.setdefault((line["shop"], line["order_id"]), []).append(line)
    templates = [t for _, t in mapping.sheet_columns]
    rows = []
    for order in records(orders):
        ctx, per_line = order_context(order, by_order.get((order["shop"], order["order_id"]), []),
                                      reference=order["reference"], product_code=product_code,
                                      sender=sender_of(order),
                                      credentials={})
        for line in (per_line if mapping.sheet_rows == "lines" else [{}]) or [{}]:
            rows.append([render(t, {**ctx, **line}, per_line) for t in templates])
    return rows
