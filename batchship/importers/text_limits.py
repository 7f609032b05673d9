"""How long each text an input file carries may be, checked at import.

A value that is accepted must fit every output that carries it, or the run that
writes it would fail or cut it after the batch is committed: an Excel cell holds
32,767 characters, a label has room for a few lines, marketplace upload columns
and carrier APIs cap identifiers far lower. The caps sit well above what real
exports hold (Amazon SKUs have at most 40 characters, order ids 19; marketplaces
cap an address line at 255) and refuse what can only be a paste gone wrong.
"""
from __future__ import annotations

import pandas as pd

from ..errors import Problem
from ..schemas import Line
from .mapping import MappedSheet, problems_where

IDENTIFIER = 100
POSTCODE = 32
CONTACT = 254            # the longest e-mail address the standards allow
ADDRESS = 300
DESCRIPTION = 1000
EXCEL_CELL = 32_767

MAX_CHARS = {
    **dict.fromkeys(("shop", "order_id", "item_id", "platform_sku", "sku", "tracking_number", "reference",
                     "warehouse", "shelf", "channel", "hs_code", "currency", "declared_currency", "country",
                     "origin_country", "action"), IDENTIFIER),
    "postcode": POSTCODE,
    **dict.fromkeys(("phone", "email"), CONTACT),
    **dict.fromkeys(("recipient_name", "address1", "address2", "city", "state"), ADDRESS),
    **dict.fromkeys(("name", "declared_name_en", "declared_name_cn", "note"), DESCRIPTION),
}
# Kept for the marketplace's own upload format, never shown in a cell.
UNCHECKED = {Line.raw}
SHOWN_CHARS = 60


def too_long(mapped: MappedSheet, frame: pd.DataFrame) -> list[Problem]:
    """A problem for each text cell over its column's cap (Excel's cell size for columns not listed)."""
    problems = []
    for column in frame.columns:
        if column in UNCHECKED or not pd.api.types.is_string_dtype(frame[column]):
            continue
        limit = MAX_CHARS.get(column, EXCEL_CELL)
        values = frame[column]
        texts = values.tolist()
        if set(map(type, texts)) <= {str} and max(map(len, texts), default=0) <= limit:
            continue        # the common column, measured in C
        lengths = pd.Series([len(v) if isinstance(v, str) else 0 for v in texts], index=values.index, dtype="int64")
        over = lengths > limit
        if not over.any():
            continue
        for length in sorted(set(lengths[over])):
            at = over & (lengths == length)
            shown = frame.loc[at, column].map(lambda v: v[:SHOWN_CHARS] + "…")
            problems += problems_where(
                mapped, frame, at, column,
                f"{column.replace('_', ' ')} is {length:,} characters long; at most {limit:,} are accepted",
                values=shown)
    return problems
