"""Turn shipped order lines into the rows of one marketplace upload (pure functions)."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pandas as pd

from ..config import Config
from ..schemas import Line
from .safe_text import csv_safe
from .upload_format import UploadFormat

TRACKING = "tracking_number"
CHANNEL = "channel"
CARRIER = "carrier"
CARRIER_MAPPED = "carrier_mapped"   # True when the channel names a carrier for this platform
_POS = "_first_position"
_EBAY_ITEM_TRANSACTION = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def add_carriers(lines: pd.DataFrame, platform: str, config: Config) -> pd.DataFrame:
    """Adds the carrier as this platform knows it: the channel's mapping for the
    platform (by upload platform, then by the line's own platform name), else
    the channel name itself."""
    def lookup(channel: str, line_platform: str) -> tuple[str, bool]:
        ch = config.channels.get(channel)
        carriers = ch.carriers if ch else {}
        name = carriers.get(platform) or carriers.get(line_platform)
        return (name, True) if name else (channel, False)

    found = [lookup(str(c), str(p)) for c, p in zip(lines[CHANNEL], lines[Line.platform])]
    out = lines.copy()
    out[CARRIER] = [name for name, _ in found]
    out[CARRIER_MAPPED] = [mapped for _, mapped in found]
    return out


def amazon_carrier(carrier: str, mapped: bool, codes: tuple[str, ...]) -> tuple[str, str]:
    """(carrier-code, carrier-name): a mapped carrier Amazon lists goes in
    carrier-code alone; anything else is "Other" with the name beside it.
    An unmapped channel is always "Other": channel names are our own labels."""
    if mapped:
        wanted = _carrier_key(carrier)
        for code in codes:
            if _carrier_key(code) == wanted:
                return code, ""
    return "Other", carrier


def _carrier_key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


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


def _ebay_item(line: dict) -> tuple[str, str]:
    """(Item Number, Transaction ID): from the original cells when kept, else from
    the line id, which eBay importers write as "item" or "item-transaction"."""
    raw = raw_cells(line.get(Line.raw, ""))
    if isinstance(raw, dict) and raw.get("Item Number", "").strip():
        return raw["Item Number"].strip(), raw.get("Transaction ID", "").strip()
    item_id = str(line.get(Line.item_id, ""))
    both = _EBAY_ITEM_TRANSACTION.match(item_id)
    if both:
        return both.group(1), both.group(2)
    return item_id.strip(), ""


def _tracking_url(fmt: UploadFormat, carrier: str, tracking: str) -> str:
    pattern = fmt.tracking_urls.get(carrier) or fmt.tracking_urls.get("*", "")
    return pattern.replace("{tracking_number}", quote(tracking, safe="")) if pattern else ""


def field_values(line: dict, fmt: UploadFormat, config: Config, ship_date: str) -> dict[str, object]:
    """Every field a column can name, for one output row. Quantity stays an int
    (or None = blank); everything else is text."""
    carrier = str(line[CARRIER])
    code, name = amazon_carrier(carrier, bool(line[CARRIER_MAPPED]), fmt.carrier_codes)
    item_number, transaction_id = _ebay_item(line)
    raw = raw_cells(line.get(Line.raw, ""))
    shop = config.shops.get(str(line[Line.shop]))
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
        "tracking_url": _tracking_url(fmt, carrier, str(line[TRACKING])),
        "ship_date": ship_date,
        "notify_customer": "true" if notify in (True, "true", "True", 1) else "false",
    }


def cell(value: object) -> str:
    """A written cell: numbers as digits, text made inert for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return csv_safe(str(value))


def mapped_row(header: tuple[str, ...], columns: dict[str, str], constants: dict[str, str],
               values: dict[str, object]) -> list[str]:
    return [cell(values[columns[h]]) if h in columns else cell(constants.get(h, "")) for h in header]
