"""What rules look at: one row of facts per order, from the order, its lines and the product list."""
from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

import pandas as pd

BLACKLIST_FIELDS = ("name", "email", "phone", "address")


ALL_FACTS = ("shop", "country", "currency", "phone", "email", "platform", "postcode", "value", "total", "address",
             "name", "shipping_service", "tags", "hours_since_paid", "weight_g", "items", "skus", "blacklisted")


def order_facts(orders: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame,
                blacklist: pd.DataFrame, now: datetime, wanted: Collection[str] = ALL_FACTS) -> pd.DataFrame:
    """Facts indexed like ``orders``: those ``wanted`` (rules/evaluate.py: what a set of rules reads),
    in the order of ALL_FACTS. ``blacklist`` has columns field (one of BLACKLIST_FIELDS) and value."""
    f = pd.DataFrame(index=orders.index)
    for col in ("shop", "country", "currency", "phone", "email"):
        if col in wanted:
            f[col] = orders[col].astype(str).str.strip()
    if "platform" in wanted:
        f["platform"] = orders["platform"].astype(str).str.lower()
    if "currency" in wanted:
        f["currency"] = f["currency"].str.upper()
    if "postcode" in wanted:
        f["postcode"] = orders["postcode"].astype(str).str.replace(r"\s+", "", regex=True).str.upper()
    if "value" in wanted or "total" in wanted:
        value = pd.to_numeric(orders["goods_value"], errors="coerce")
        if "value" in wanted:
            f["value"] = value
        if "total" in wanted:
            total = pd.to_numeric(orders["order_total"], errors="coerce")
            f["total"] = total.where(total.notna(), value)
    if "address" in wanted:
        f["address"] = (orders["address1"] + " " + orders["address2"] + " " + orders["city"] + " "
                        + orders["state"]).map(normal_text)
    if "name" in wanted:
        f["name"] = orders["recipient_name"].map(normal_text)
    if "shipping_service" in wanted:
        f["shipping_service"] = orders.get("shipping_service", pd.Series("", index=orders.index)).astype(str)
    if "tags" in wanted:
        f["tags"] = orders.get("tags", pd.Series("", index=orders.index)).map(tag_set)
    if "hours_since_paid" in wanted:
        paid = pd.to_datetime(orders["paid_at"], errors="coerce", utc=True, format="ISO8601")
        f["hours_since_paid"] = (pd.Timestamp(now).tz_convert("UTC") - paid).dt.total_seconds() / 3600
    if {"weight_g", "items", "skus"} & set(wanted):
        _line_facts(f, orders, lines, products, wanted)
    if "blacklisted" in wanted:
        f["blacklisted"] = blacklist_hits(orders, blacklist)
    return f


def _line_facts(f: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame,
                wanted: Collection[str]) -> None:
    """Weight, units and SKUs over each order's lines."""
    key = ["shop", "order_id"]
    mine = lines.merge(orders[key].reset_index(), on=key)
    per_order = None
    if "weight_g" in wanted or "items" in wanted:
        weights = products.set_index("sku")["weight_g"] if len(products) else pd.Series(dtype="int64")
        unit = mine["sku"].map(weights).fillna(0).astype("int64")
        per_order = mine.assign(_w=unit * mine["quantity"]).groupby("index")
    if "weight_g" in wanted:
        f["weight_g"] = per_order["_w"].sum().reindex(f.index).fillna(0).astype("int64")
    if "items" in wanted:
        f["items"] = per_order["quantity"].sum().reindex(f.index).fillna(0).astype("int64")
    if "skus" in wanted:
        skus: dict = {}
        for at, sku in zip(mine["index"].tolist(), mine["sku"].tolist()):
            skus.setdefault(at, set()).add(sku)
        f["skus"] = pd.Series([frozenset(skus.get(at, ())) for at in f.index], index=f.index, dtype=object)


_SPACES = re.compile(r"\s+")
_TAG_SEPARATORS = re.compile(r"[,;，；]")
_NO_TAGS: frozenset[str] = frozenset()


def normal_text(text) -> str:
    """Lower case, dots dropped, spaces collapsed: "P.O.  Box" and "po box" are one text."""
    return _SPACES.sub(" ", str(text).replace(".", "")).strip().casefold()


def tag_set(text) -> frozenset[str]:
    text = str(text)
    if not text or text.isspace():    # most orders: no tags to split
        return _NO_TAGS
    return frozenset(t.strip().casefold() for t in _TAG_SEPARATORS.split(text) if t.strip())


def _digits(text: str) -> str:
    """Digits without leading zeros: a national prefix 0 and an international 00 fall away."""
    return re.sub(r"\D", "", str(text)).lstrip("0")


def blacklist_hits(orders: pd.DataFrame, blacklist: pd.DataFrame) -> pd.Series:
    """Per order, what put it on the blacklist ("" when nothing): name, e-mail, phone or address."""
    hit = pd.Series("", index=orders.index, dtype=object)
    if blacklist is None or blacklist.empty:
        return hit
    name = orders["recipient_name"].map(normal_text)
    email = orders["email"].str.strip().str.lower()
    phone = orders["phone"].map(_digits)
    address = (orders["address1"] + " " + orders["address2"]).map(normal_text)
    for field_, value in zip(blacklist["field"], blacklist["value"]):
        if field_ == "name":
            m = name == normal_text(value)
        elif field_ == "email":
            m = email == str(value).strip().lower()
        elif field_ == "phone":
            digits = _digits(value)
            # Exports write a number with or without its country code: the shorter one ends the longer.
            m = (phone.str.len() >= 7) & (len(digits) >= 7) & (
                phone.str.endswith(digits) | phone.map(lambda p: digits.endswith(p) if p else False))
        else:
            m = address.str.contains(re.escape(normal_text(value)), regex=True) if normal_text(value) else False
        hit[m & hit.eq("")] = f"{field_} {value}"
    return hit
