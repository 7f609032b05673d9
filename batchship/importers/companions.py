"""Two exports of one marketplace that describe the same orders, joined once a batch is read.

Etsy writes its sold orders as two files: "Sold Orders" (one row per order, with
the order total but the items only as a count and a list of SKUs) and "Sold
Order Items" (one row per item, without the order total). Either alone is read
as it is. When both are in one batch, an order found in both takes its lines
from the items file and the blank order-level fields of those lines (order
total, address ...) from the orders file; the orders file's own line for it is
dropped, so the order is not imported twice with different lines.

A template names its companion (``companion = "etsy_sold_order_items"``);
orders are matched on (shop, order id).
"""
from __future__ import annotations

import pandas as pd

from ..schemas import Line
from .orders import ORDER_FIELDS, ORDER_KEY
from .templates import Template

# When the two files disagree on status, the one further along wins (as in sync).
_STATUS_RANK = {"unpaid": 0, "open": 1, "shipped": 2, "cancelled": 3, "refunded": 4}
_FILLED = [f for f in ORDER_FIELDS if f not in ORDER_KEY]


def join_companions(imported: list, templates: tuple[Template, ...]) -> None:
    """Joins, in place, every order file whose template names a companion with the
    companion's files of the same batch. ``imported``: the batch's Imported results."""
    companion_of = {t.name: t.companion for t in templates if t.companion}
    for summary in imported:
        partner_name = companion_of.get(summary.platform)
        if summary.kind != "orders" or not partner_name:
            continue
        partners = [i for i in imported if i.kind == "orders" and i.platform == partner_name]
        if not partners or summary.frame.empty:
            continue
        joined: list[str] = []
        for partner in partners:
            joined += _join(summary, partner)
        if joined:
            files = ", ".join(dict.fromkeys(f for p in partners for f in p.frame[Line.file].unique()))
            shown = ", ".join(joined[:10]) + (f" and {len(joined) - 10} more" if len(joined) > 10 else "")
            name = summary.frame[Line.file].iloc[0] if not summary.frame.empty else "the orders file"
            summary.notes.append(
                f"{name}: {len(joined)} order(s) also listed item by item in {files}: their lines come "
                f"from there, their order total and other order fields from here ({shown})")


def _join(summary, partner) -> list[str]:
    """Moves ``summary``'s order-level values onto ``partner``'s lines of the same
    orders and drops ``summary``'s lines of those orders; the orders joined."""
    heads = summary.frame.drop_duplicates(ORDER_KEY).set_index(ORDER_KEY)
    lines = partner.frame
    keys = pd.MultiIndex.from_frame(lines[ORDER_KEY])
    shared = keys.isin(heads.index)
    if not shared.any():
        return []
    out = lines.copy()
    for field in _FILLED:
        theirs = pd.Series(keys.map(heads[field]), index=lines.index)
        blank = shared & (out[field].astype(str) == "") & theirs.notna()
        out.loc[blank, field] = theirs[blank].astype(str)
    status = pd.Series(keys.map(heads[Line.platform_status]), index=lines.index)
    stronger = shared & status.notna() & (
        status.map(_STATUS_RANK).fillna(-1) > out[Line.platform_status].map(_STATUS_RANK).fillna(-1))
    out.loc[stronger, Line.platform_status] = status[stronger]
    partner.frame = out
    joined = pd.MultiIndex.from_frame(lines.loc[shared, ORDER_KEY]).unique()
    mine = pd.MultiIndex.from_frame(summary.frame[ORDER_KEY])
    summary.frame = summary.frame[~mine.isin(joined)].reset_index(drop=True)
    for key in joined:
        if key in summary.order_notes:
            partner.order_notes.setdefault(key, summary.order_notes.pop(key))
    return [order for _, order in joined]
