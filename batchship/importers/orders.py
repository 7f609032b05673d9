"""Order files: continuation rows, per-order fields, values, status → Line rows.

Marketplaces spread an order over several rows: Shopify repeats ``Name`` with
the order-level fields blank, eBay writes an order summary row and then one
row per item, Amazon repeats every order field on each item row. Whatever the
layout, each line leaves here carrying its order's recipient, address, paid
time, currency and total.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..config import Shop
from ..countries import to_iso2
from ..errors import Problem
from ..schemas import Line, PLATFORM_STATUSES, Source
from .mapping import (FALLBACK_PREFIX, GROUP, RAW, STATUS_PREFIX, SUMMARY, UNLESS_SUFFIX, MappedSheet,
                      apply_fallbacks, distinct_map, header_of, problems_where)
from .limits import QUANTITY
from .normalize import header_key, pad_postcode, parse_whole
from .values import currencies, datetimes, money, per_unit, report, whole_numbers

# Fields that belong to the order, not the line: blank on continuation rows.
ORDER_FIELDS = (Line.order_id, Line.shop, Line.currency, Line.order_total, Line.paid_at,
                Line.recipient_name, Line.address1, Line.address2, Line.city, Line.state,
                Line.postcode, Line.country, Line.phone, Line.email, Line.shipping_service, Line.tags)
# One order ships to one address: rows of an order must not disagree on these.
ADDRESS_FIELDS = (Line.recipient_name, Line.address1, Line.address2, Line.city, Line.state,
                  Line.postcode, Line.country)
# When one line has several status sources, the strongest wins: a shipped line
# was paid whatever a payment column still says; cancelling beats both.
_STATUS_RANK = {"open": 0, "unpaid": 1, "shipped": 2, "cancelled": 3, "refunded": 4}
assert set(_STATUS_RANK) == set(PLATFORM_STATUSES)


def _group_keys(frame: pd.DataFrame) -> pd.Series:
    order = frame[Line.order_id]
    if GROUP in frame:
        return frame[GROUP].where(frame[GROUP] != "", order)
    return order


def _address_conflicts(mapped: MappedSheet, frame: pd.DataFrame, groups: pd.Series) -> list[Problem]:
    problems = []
    group_codes = pd.factorize(groups)[0].astype("int64")
    for field in ADDRESS_FIELDS:
        if field not in mapped.headers:
            continue
        value_codes, uniques = pd.factorize(frame[field])
        filled = value_codes != (uniques.get_loc("") if "" in uniques else -2)
        pairs = pd.unique(group_codes[filled] * (len(uniques) + 1) + value_codes[filled])
        conflicted = pd.unique(pairs // (len(uniques) + 1))
        if len(conflicted) == len(pairs):
            continue                      # every order has at most one value: the usual case
        counts = pd.Series(pairs // (len(uniques) + 1)).value_counts()
        for code in counts[counts > 1].index:
            rows = frame[filled & (group_codes == code)]
            group = groups[filled & (group_codes == code)].iloc[0]
            first = rows[field].iloc[0]
            for value, row in zip(rows[field], rows[Source.row]):
                if value != first:
                    problems.append(Problem(
                        f"order {group} has conflicting rows: {field.replace('_', ' ')} "
                        f"is '{first}' on one row and '{value}' on another",
                        sheet=mapped.sheet_name, row=int(row), column=header_of(mapped, field), value=value))
    return problems


def _fill_order_fields(frame: pd.DataFrame, groups: pd.Series, fields: list[str]) -> pd.DataFrame:
    """Blank order-level cells take the first non-blank value of their order."""
    if not fields:
        return frame
    blanked = frame[fields].where(frame[fields] != "")
    firsts = blanked.groupby(pd.factorize(groups)[0]).transform("first")
    out = frame.copy()
    for f in fields:
        out[f] = frame[f].where(frame[f] != "", firsts[f].fillna("")).astype("str")
    return out


def _apply_summary_rows(frame: pd.DataFrame, groups: pd.Series, fields: list[str]) -> pd.DataFrame:
    """eBay: in a multi-row order the row without an item number is the order
    summary. Its order-level values (address, total ...) win over what the item
    rows say, then it is dropped."""
    if SUMMARY not in frame:
        return frame
    sizes = groups.map(groups.value_counts())
    summary = (sizes > 1) & (frame[SUMMARY] == "")
    if not summary.any():
        return frame
    from_summary = frame.loc[summary, fields].where(frame.loc[summary, fields] != "")
    firsts = from_summary.groupby(groups[summary].to_numpy()).first()
    out = frame[~summary].copy()
    keys = groups[~summary]
    for f in fields:
        values = keys.map(firsts[f]) if f in firsts else None
        if values is not None:
            out[f] = values.where(values.notna(), out[f]).astype("str")
    return out


def _drop_extra_info_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A row that repeats an order line's id but has neither SKU nor quantity only
    carries extra order information (Amazon splits promotions over such rows)."""
    if not (frame[Line.item_id] != "").any():
        return frame
    empty = (frame[Line.platform_sku] == "") & (frame[Line.quantity] == "") & (frame[Line.item_id] != "")
    if not empty.any():
        return frame
    real = frame.loc[~empty, [Line.order_id, Line.item_id]]
    known = pd.MultiIndex.from_frame(real)
    here = pd.MultiIndex.from_frame(frame[[Line.order_id, Line.item_id]])
    return frame[~(empty & here.isin(known))]


def _status(mapped: MappedSheet, frame: pd.DataFrame) -> pd.Series:
    rank = pd.Series(0, index=frame.index)
    for i, rule in enumerate(mapped.template.status):
        cells = frame[f"{STATUS_PREFIX}{i}"]
        if rule.nonblank:
            hit = pd.Series(_STATUS_RANK[rule.nonblank], index=frame.index).where(cells != "", 0)
        else:
            codes, uniques = pd.factorize(np.asarray(cells, dtype=object))
            ranks = np.array([_STATUS_RANK[rule.values.get(header_key(v), "open")] for v in uniques.tolist()]
                             + [0], dtype="int64")
            hit = pd.Series(ranks[codes], index=frame.index)
        if rule.unless is not None:
            exempt = frame[f"{STATUS_PREFIX}{i}{UNLESS_SUFFIX}"]
            exempt = distinct_map(exempt, lambda v: "1" if rule.unless.search(v) else "") == "1"
            hit = hit.where(~exempt, 0)
        rank = rank.where(rank >= hit, hit)
    names = np.array(sorted(_STATUS_RANK, key=_STATUS_RANK.get), dtype=object)
    return pd.Series(names[rank.to_numpy()], index=frame.index, dtype="str")


def _duplicates(mapped: MappedSheet, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Rows for the same marketplace line: identical ones are dropped (the export
    repeated them), different ones are a conflict to be resolved by a person."""
    with_item = frame[frame[Line.item_id] != ""]
    key = [Line.order_id, Line.item_id]
    dup = with_item[with_item.duplicated(key, keep=False)]
    if dup.empty:
        return frame, [], []
    compare = [Line.platform_sku, Line.quantity, *ADDRESS_FIELDS]
    problems, drop = [], []
    for (order, item), rows in dup.groupby(key, sort=False):
        first = rows.iloc[0]
        for index, row in rows.iloc[1:].iterrows():
            differs = [c for c in compare if row[c] != first[c]]
            if not differs:
                drop.append(index)
                continue
            field = differs[0]
            problems.append(Problem(
                f"order {order} line {item} appears twice with different {field.replace('_', ' ')} "
                f"('{first[field]}' on row {first[Source.row]}, '{row[field]}' here)",
                sheet=mapped.sheet_name, row=int(row[Source.row]), column=header_of(mapped, field),
                value=str(row[field])))
    notes = [f"{len(drop)} repeated row(s) for the same order line were ignored"] if drop else []
    return frame.drop(index=drop), problems, notes


def needs_file_shop(mapped: MappedSheet) -> bool:
    """Whether some order of the sheet names no shop of its own, so that the
    file's shop (its inbox folder, or the platform's single shop) is needed."""
    frame = mapped.frame
    if frame.empty:
        return False
    if Line.shop not in frame:
        return True
    named = (frame[Line.shop] != "").groupby(pd.factorize(_group_keys(frame))[0]).transform("any")
    return not bool(named.all())


def _shop_setting(shops: dict[str, Shop], names: pd.Series, attribute: str) -> pd.Series:
    """Per row: what the row's shop declares in batchship.toml ("" if nothing)."""
    return distinct_map(names, lambda name: getattr(shops.get(name), attribute, "") or "")


_SHORTENED_ID = re.compile(r"^\d(?:[.,]\d+)?E\+\d+$", re.IGNORECASE)


def _shortened_ids(mapped: MappedSheet, frame: pd.DataFrame) -> list[Problem]:
    """Ids that Excel turned into a rounded number (5.8387E+17): distinct orders
    now share one id, so nothing in the file can be trusted to belong together."""
    problems = []
    for column, label in ((Line.order_id, "order id"), (Line.item_id, "line id")):
        messages = distinct_map(frame[column], lambda v, label=label: (
            f"{label} {v} was shortened by Excel: export the file again without opening it in Excel"
            if _SHORTENED_ID.match(v) else ""))
        problems += report(mapped, frame, column, messages != "", messages)
    return problems


def _is_zero(text: str) -> bool:
    try:
        return parse_whole(text, minimum=0, what="quantity") == 0
    except ValueError:
        return False


def _drop_zero_quantity(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Lines with quantity 0 are items the buyer no longer gets (cancelled, fully
    refunded): dropped, and with them an order that has no other line."""
    zero = distinct_map(frame[Line.quantity], lambda v: "0" if _is_zero(v) else "") == "0"
    if not zero.any():
        return frame, []
    kept = frame[~zero]
    gone = pd.unique(frame.loc[zero & ~frame[Line.order_id].isin(kept[Line.order_id]), Line.order_id])
    note = f"{int(zero.sum())} line(s) with quantity 0 (cancelled or refunded items) skipped"
    if len(gone):
        shown = ", ".join(gone[:10].tolist()) + (f" and {len(gone) - 10} more" if len(gone) > 10 else "")
        note += f"; order(s) with no other line left out: {shown}"
    return kept, [note]


def _padded_postcodes(frame: pd.DataFrame) -> pd.Series:
    pairs = frame[Line.postcode] + "\x1f" + frame[Line.country]
    return distinct_map(pairs, lambda pair: pad_postcode(*pair.split("\x1f", 1)))


def build_lines(mapped: MappedSheet, file_shop: str = "", shops: dict[str, Shop] | None = None
                ) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """The sheet's Line rows (without source file), problems and notes. A row
    whose order names no shop gets ``file_shop``; each row's shop settings in
    ``shops`` (currency, country, time zone) fill what the export leaves out."""
    t = mapped.template
    shops = shops or {}
    frame = mapped.frame.copy()
    for column in Line.columns:
        if column not in frame and column not in (Source.row,):
            frame[column] = pd.Series("", index=frame.index, dtype="str")
    problems: list[Problem] = _shortened_ids(mapped, frame)
    if problems:
        return frame, problems, []
    notes: list[str] = []

    groups = _group_keys(frame)
    problems += _address_conflicts(mapped, frame, groups)
    fields = [f for f in (t.order_fields if t.order_fields is not None else ORDER_FIELDS) if f in frame]
    fields += [FALLBACK_PREFIX + f for f in fields if FALLBACK_PREFIX + f in frame]
    fields += [c for c in frame.columns if c.startswith(STATUS_PREFIX)]
    frame = _fill_order_fields(frame, groups, fields)
    if t.summary_when_blank:
        frame = _apply_summary_rows(frame, _group_keys(frame), fields)
    frame[Line.shop] = frame[Line.shop].where(frame[Line.shop] != "", file_shop)
    frame = apply_fallbacks(mapped, frame, {Line.country: _shop_setting(shops, frame[Line.shop], "country")})
    frame = _drop_extra_info_rows(frame)
    if t.zero_quantity == "skip":
        frame, told = _drop_zero_quantity(frame)
        notes += told

    required = {Line.order_id: "order id", Line.platform_sku: "SKU"}
    required.update({c: c.replace("_", " ") for c in t.required_values})
    for column, label in required.items():
        problems += problems_where(mapped, frame, frame[column] == "", column, f"missing {label}")
    if Line.platform_sku in mapped.fallback_used:
        notes.append(f"{mapped.fallback_used[Line.platform_sku]} line(s) have no SKU: "
                     f"'{mapped.fallback_headers[Line.platform_sku]}' is used as the platform SKU "
                     f"(pair it to a warehouse SKU in a pairing sheet)")

    quantity, qty_problems = whole_numbers(mapped, frame, Line.quantity, QUANTITY)
    problems += qty_problems
    frame[Line.quantity] = quantity

    # The currency an amount is in when its cell does not say: the currency
    # column (or header suffix), else the shop's, else the template's.
    stated = (frame[Line.currency].str.strip().str.upper() if Line.currency in t.columns
              else pd.Series("", index=frame.index, dtype="str"))
    stated = stated.where(stated != "", _shop_setting(shops, frame[Line.shop], "currency").str.upper())
    known = stated.where(stated != "", t.currency)
    spec = t.columns.get(Line.unit_price)
    line_total = spec is not None and spec.line_total
    price, price_marker, p1 = money(mapped, frame, Line.unit_price, known,
                                    what="line total" if line_total else "unit price")
    total, total_marker, p2 = money(mapped, frame, Line.order_total, known)
    problems += p1 + p2
    if line_total:
        price = per_unit(price, frame[Line.quantity])
    frame[Line.currency] = currencies([price_marker, total_marker], stated, t.currency, frame.index)
    frame[Line.unit_price] = price
    frame[Line.order_total] = total

    zones = _shop_setting(shops, frame[Line.shop], "timezone")
    paid, date_problems = datetimes(mapped, frame, Line.paid_at, zones.where(zones != "", t.timezone))
    problems += date_problems
    frame[Line.paid_at] = paid

    frame[Line.country] = distinct_map(frame[Line.country], to_iso2)
    frame[Line.postcode] = _padded_postcodes(frame)
    frame[Line.platform_status] = _status(mapped, frame)
    frame[Line.sku] = frame[Line.platform_sku]
    frame[Line.platform] = t.platform
    frame[Line.raw] = frame[RAW] if RAW in frame else ""

    frame, dup_problems, dup_notes = _duplicates(mapped, frame)
    problems += dup_problems
    notes += dup_notes
    return frame, problems, notes


# What one order is known by: its lines are numbered within it, and it is on one sheet of a workbook.
ORDER_KEY = [Line.shop, Line.order_id]


def number_lines(lines: pd.DataFrame) -> pd.Series:
    """line_no: 1.. within each (shop, order), in file order."""
    return (lines.groupby(ORDER_KEY, sort=False).cumcount() + 1).astype("int64")
