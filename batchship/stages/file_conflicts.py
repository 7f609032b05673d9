"""Copies of one order in two files of a batch that disagree: a person decides which is right.

Overlapping exports repeat orders; identical copies, and copies that differ only
in the marketplace status, are the same order. Copies that differ in where the
parcel goes or in what is in it cannot both be right, and neither may win
silently. Spacing and letter case are not a difference ("us " is "US").
"""
from __future__ import annotations

from collections import Counter

import pandas as pd

from ..schemas import Line

CONFLICT = "conflict"   # held_at of an order whose files disagree
RECIPIENT_FIELDS = (Line.recipient_name, Line.address1, Line.address2, Line.city, Line.state, Line.postcode,
                    Line.country, Line.phone, Line.email)


def _same_text(value) -> str:
    return " ".join(str(value).split()).casefold()


def _line_counts(rows: pd.DataFrame) -> tuple[Counter, Counter]:
    """Quantity and unit prices per platform SKU of one file's copy of an order."""
    quantity, prices = Counter(), Counter()
    for sku, qty, price in zip(rows[Line.platform_sku], rows[Line.quantity], rows[Line.unit_price]):
        quantity[_same_text(sku)] += int(qty)
        prices[(_same_text(sku), str(price).strip())] += 1
    return quantity, prices


def _differences(first: pd.DataFrame, other: pd.DataFrame) -> list[str]:
    head, head_other = first.iloc[0], other.iloc[0]
    fields = [f for f in RECIPIENT_FIELDS if _same_text(head[f]) != _same_text(head_other[f])]
    (qty, prices), (qty_other, prices_other) = _line_counts(first), _line_counts(other)
    if set(qty) != set(qty_other):
        fields.append("SKU")
    else:
        if qty != qty_other:
            fields.append(Line.quantity)
        if prices != prices_other:
            fields.append(Line.unit_price)
    return fields


def file_conflicts(incoming: pd.DataFrame, key: list[str], batch_file: str) -> pd.Series:
    """Per disputed order (indexed by ``key``): the hold reason, naming the fields that differ and
    the file and first row of every copy. Orders whose copies agree are not listed."""
    several = incoming.groupby(key, sort=False)[batch_file].transform("nunique") > 1
    reasons = {}
    for order, rows in incoming[several].groupby(key, sort=False):
        copies = [copy for _, copy in rows.groupby(batch_file, sort=False)]
        fields: list[str] = []
        disputed = [copies[0]]
        for other in copies[1:]:
            differs = _differences(copies[0], other)
            if differs:
                disputed.append(other)
                fields += [f for f in differs if f not in fields]
        if len(disputed) > 1:
            where = ", ".join(f"{c[Line.file].iloc[0]} row {c[Line.row].iloc[0]}" for c in disputed)
            count = "two" if len(disputed) == 2 else str(len(disputed))
            reasons[order] = f"{count} files of this batch disagree on: {', '.join(fields)} ({where})"
    index = (pd.MultiIndex.from_tuples(list(reasons), names=key) if reasons
             else pd.MultiIndex.from_arrays([[]] * len(key), names=key))
    return pd.Series(list(reasons.values()), index=index, dtype=object)
