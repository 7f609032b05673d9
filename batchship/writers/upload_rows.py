"""Turn shipped order lines into the rows of one marketplace upload (pure functions)."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from urllib.parse import quote

import pandas as pd

from ..config import Config
from ..frame_records import column_rows
from ..schemas import Line
from .safe_text import FORMULA_TRIGGERS, csv_safe
from .upload_carriers import amazon_carrier, carrier_value, listed_carrier, tracking_url_pattern
from .upload_format import UploadFormat

TRACKING = "tracking_number"
CHANNEL = "channel"
CARRIER = "carrier"
_POS = "_first_position"
_EBAY_ITEM_TRANSACTION = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def add_carriers(lines: pd.DataFrame, platform: str, config: Config) -> pd.DataFrame:
    """Adds the carrier as this platform knows it: the channel's mapping for the platform (by upload
    platform, then by the line's own platform name); "" when the channel names none (such a line
    is kept out of the upload by ``carrier_problem`` first)."""
    out = lines.copy()
    out[CARRIER] = [carrier_value(config.channels.get(str(c)), platform, str(p))
                    for c, p in column_rows(lines, [CHANNEL, Line.platform])]
    return out


def _group_first(df: pd.DataFrame, keys: list[str], *, blank_item: bool = False) -> pd.DataFrame:
    """One row per key, in order of first appearance; quantities summed."""
    firsts = df.drop_duplicates(keys).copy()
    sums = df.groupby(keys, sort=False)[Line.quantity].sum()
    firsts[Line.quantity] = [int(q) for q in sums.to_numpy()]
    if blank_item:
        # The order-level row confirms the whole order: no item id, no quantity.
        firsts[Line.item_id] = ""
        firsts[Line.quantity] = None
    return firsts


def collapse_lines(lines: pd.DataFrame, mode: str) -> pd.DataFrame:
    """The lines behind each output row, in the order the orders came in.

    Rows with the same marketplace line id, platform SKU and tracking number are
    one marketplace line seen twice (e.g. a bundle expanded into warehouse SKUs)
    and are written once, with the first row's quantity.
    """
    df = lines.copy()
    df[_POS] = range(len(df))
    df[Line.quantity] = pd.to_numeric(df[Line.quantity]).astype("int64")
    has_item = df[Line.item_id].astype(str).str.strip() != ""
    line_key = [Line.order_id, Line.item_id, Line.platform_sku, TRACKING]
    df = pd.concat([df[has_item].drop_duplicates(line_key), df[~has_item]]).sort_values(_POS)
    if mode in ("line", "source_rows"):
        return df
    if mode == "order":
        return _group_first(df, [Line.order_id, TRACKING])
    if mode == "item":
        has_item = df[Line.item_id].astype(str).str.strip() != ""
        per_item = _group_first(df[has_item], [Line.order_id, Line.item_id, TRACKING])
        per_order = _group_first(df[~has_item], [Line.order_id, TRACKING], blank_item=True)
        return pd.concat([per_item, per_order]).sort_values(_POS)
    raise ValueError(f"unknown row mode {mode!r}")


def raw_cells(raw: str) -> dict[str, str] | list[str]:
    """The original row kept by the importer: a JSON object (header -> cell) or list."""
    if not raw or not str(raw).strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        return ["" if v is None else str(v) for v in value]
    return {}


def _ebay_item(line: dict, raw: dict[str, str] | list[str]) -> tuple[str, str]:
    """(Item Number, Transaction ID): from the original cells (``raw``) when kept, else from
    the line id, which eBay importers write as "item" or "item-transaction"."""
    if isinstance(raw, dict) and raw.get("Item Number", "").strip():
        return raw["Item Number"].strip(), raw.get("Transaction ID", "").strip()
    item_id = str(line.get(Line.item_id, ""))
    both = _EBAY_ITEM_TRANSACTION.match(item_id)
    if both:
        return both.group(1), both.group(2)
    return item_id.strip(), ""


def _tracking_url(pattern: str, tracking: str) -> str:
    return pattern.replace("{tracking_number}", quote(tracking, safe="")) if pattern else ""


# Fields read from the original row the importer kept (JSON): parsed only for formats naming one.
_FROM_RAW = {"item_number", "transaction_id", "item_title"}


class FieldValues:
    """Every field a column can name, for each output row of one upload: ``values(line)``. Quantity
    stays an int (or None = blank); everything else is text. What follows from the channel and its
    carrier alone (the marketplace's spelling and code, the tracking page) is worked out once per
    channel and carrier; the original row is parsed only when the format names a field from it.
    ``line`` needs no more than the columns in ``READS``."""
    READS = (Line.shop, Line.order_id, Line.item_id, Line.sku, Line.platform_sku, Line.quantity, Line.raw,
             TRACKING, CHANNEL, CARRIER)

    def __init__(self, fmt: UploadFormat, config: Config, ship_date: str):
        self.fmt, self.config, self.ship_date = fmt, config, ship_date
        self._reads_raw = bool(_FROM_RAW & {*fmt.columns.values(), *fmt.fallback_columns.values()})
        self._carriers: dict[tuple[str, str], tuple[str, str, str, str]] = {}

    def _carrier(self, channel: str, configured: str) -> tuple[str, str, str, str]:
        """(carrier, carrier code, carrier name, tracking page pattern)."""
        known = self._carriers.get((channel, configured))
        if known is None:
            fmt = self.fmt
            code, name = amazon_carrier(configured, fmt.carrier_codes)
            # A carrier the marketplace lists is written as the marketplace spells it.
            carrier = (listed_carrier(configured, fmt.listed_carriers) if fmt.listed_carriers else "") or configured
            pattern = tracking_url_pattern(self.config.channels.get(channel), fmt, carrier)
            known = self._carriers[(channel, configured)] = (carrier, code, name, pattern)
        return known

    def __call__(self, line: dict) -> dict[str, object]:
        channel = str(line[CHANNEL])
        carrier, code, name, pattern = self._carrier(channel, str(line[CARRIER]))
        raw = raw_cells(line.get(Line.raw, "")) if self._reads_raw else {}
        item_number, transaction_id = _ebay_item(line, raw) if self._reads_raw else ("", "")
        shop = self.config.shops.get(str(line[Line.shop]))
        notify = getattr(shop, "notify_customer", True)
        quantity = line[Line.quantity]
        return {
            "shop": str(line[Line.shop]),
            "order_id": str(line[Line.order_id]),
            "item_id": str(line[Line.item_id]),
            "item_number": item_number,
            "transaction_id": transaction_id,
            "item_title": raw.get("Item Title", "") if isinstance(raw, dict) else "",
            "sku": str(line[Line.sku]),
            "platform_sku": str(line[Line.platform_sku]),
            "quantity": None if quantity is None or pd.isna(quantity) else int(quantity),
            "carrier": carrier,
            "carrier_code": code,
            "carrier_name": name,
            "tracking_number": str(line[TRACKING]),
            "tracking_url": _tracking_url(pattern, str(line[TRACKING])),
            "ship_date": self.ship_date,
            "notify_customer": "true" if notify in (True, "true", "True", 1) else "false",
            "channel": channel,
        }


def cell(value: object, guard: bool = True) -> str:
    """A written cell: numbers as digits; text made inert for spreadsheets when ``guard`` (the
    format is opened by people in a spreadsheet), else exactly as it is (read by the marketplace
    as plain text, where an added apostrophe would change the value)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return csv_safe(str(value)) if guard else str(value)


def rows_maker(header: tuple[str, ...], columns: dict[str, str], constants: dict[str, str],
               guard: bool = True) -> Callable[[list[dict[str, object]]], list[tuple[str, ...]]]:
    """The upload rows' cells from their field values: a column's field, or its constant, written
    as ``cell`` writes it. Which it is and each constant's cell are settled once per format, and a
    column all of text that needs no guard is taken as it is, checked in C: a column at a time,
    not a cell at a time (row by row, the cells were most of a 90,000-row upload)."""
    plan = [(columns[h], "") if h in columns else (None, cell(constants.get(h, ""), guard)) for h in header]

    def rows(values: list[dict[str, object]]) -> list[tuple[str, ...]]:
        cells = []
        for name, fixed in plan:
            if name is None:
                cells.append(repeat(fixed, len(values)))
                continue
            column = [v[name] for v in values]
            if not (set(map(type, column)) <= {str} and _GUARDED.isdisjoint(map(_FIRST, column))):
                column = [v if type(v) is str and v[:1] not in _GUARDED else cell(v, guard) for v in column]
            cells.append(column)
        return list(zip(*cells))
    return rows


_GUARDED = frozenset(FORMULA_TRIGGERS)    # first characters cell() may change
_FIRST = itemgetter(slice(0, 1))
