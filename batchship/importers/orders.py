"""Order files: continuation rows, per-order fields, values, status → Line rows.

Marketplaces spread an order over several rows: Shopify repeats ``Name`` with
the order-level fields blank, eBay writes an order summary row and then one
row per item, Amazon repeats every order field on each item row. Whatever the
layout, each line leaves here carrying its order's recipient, address, paid
time, currency and total.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..countries import to_iso2
from ..errors import Problem
from ..schemas import Line, PLATFORM_STATUSES, Source
from .mapping import (FALLBACK_PREFIX, GROUP, RAW, STATUS_PREFIX, SUMMARY, MappedSheet, apply_fallbacks,
                      distinct_map, header_of, problems_where)
from .normalize import header_key, parse_datetime
from .values import currencies, money, parse_distinct, per_unit, report, whole_numbers

# Fields that belong to the order, not the line: blank on continuation rows.
ORDER_FIELDS = (Line.order_id, Line.shop, Line.currency, Line.order_total, Line.paid_at,
                Line.recipient_name, Line.address1, Line.address2, Line.city, Line.state,
                Line.postcode, Line.country, Line.phone, Line.email)
# One order ships to one address: rows of an order must not disagree on these.
ADDRESS_FIELDS = (Line.recipient_name, Line.address1, Line.address2, Line.city, Line.state,
                  Line.postcode, Line.country)
# When one line has several status sources, the strongest wins.
_STATUS_RANK = {"open": 0, "shipped": 1, "cancelled": 2, "refunded": 3}
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


def build_lines(mapped: MappedSheet) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """The sheet's Line rows (without shop and source file), problems and notes.
    ``shop`` is left as mapped ("" when the file has no shop column)."""
    t = mapped.template
    frame = mapped.frame.copy()
    for column in Line.columns:
        if column not in frame and column not in (Source.row,):
            frame[column] = pd.Series("", index=frame.index, dtype="str")
    problems: list[Problem] = []
    notes: list[str] = []

    groups = _group_keys(frame)
    problems += _address_conflicts(mapped, frame, groups)
    fields = [f for f in (t.order_fields if t.order_fields is not None else ORDER_FIELDS) if f in frame]
    fields += [FALLBACK_PREFIX + f for f in fields if FALLBACK_PREFIX + f in frame]
    fields += [c for c in frame.columns if c.startswith(STATUS_PREFIX)]
    frame = _fill_order_fields(frame, groups, fields)
    if t.summary_when_blank:
        frame = _apply_summary_rows(frame, _group_keys(frame), fields)
    frame = apply_fallbacks(mapped, frame)
    frame = _drop_extra_info_rows(frame)

    required = {Line.order_id: "order id", Line.platform_sku: "SKU"}
    required.update({c: c.replace("_", " ") for c in t.required_values})
    for column, label in required.items():
        problems += problems_where(mapped, frame, frame[column] == "", column, f"missing {label}")
    if Line.platform_sku in mapped.fallback_used:
        notes.append(f"{mapped.fallback_used[Line.platform_sku]} line(s) have no SKU: "
                     f"'{mapped.fallback_headers[Line.platform_sku]}' is used as the platform SKU "
                     f"(pair it to a warehouse SKU in a pairing sheet)")

    quantity, qty_problems = whole_numbers(mapped, frame, Line.quantity, minimum=1, what="quantity")
    problems += qty_problems
    frame[Line.quantity] = quantity

    price, price_marker, p1 = money(mapped, frame, Line.unit_price)
    total, total_marker, p2 = money(mapped, frame, Line.order_total)
    problems += p1 + p2
    spec = t.columns.get(Line.unit_price)
    if spec is not None and spec.line_total:
        price = per_unit(price, frame[Line.quantity])
    currency_column = frame[Line.currency] if Line.currency in t.columns else None
    frame[Line.currency] = currencies([price_marker, total_marker], currency_column, t.currency, frame.index)
    frame[Line.unit_price] = price
    frame[Line.order_total] = total

    paid, bad, messages = parse_distinct(frame[Line.paid_at],
                                         lambda v: parse_datetime(v, t.date_formats, t.timezone))
    problems += report(mapped, frame, Line.paid_at, bad, messages)
    frame[Line.paid_at] = paid.fillna("").astype("str")

    frame[Line.country] = distinct_map(frame[Line.country], to_iso2)
    frame[Line.platform_status] = _status(mapped, frame)
    frame[Line.sku] = frame[Line.platform_sku]
    frame[Line.platform] = t.platform
    frame[Line.raw] = frame[RAW] if RAW in frame else ""

    frame, dup_problems, dup_notes = _duplicates(mapped, frame)
    problems += dup_problems
    notes += dup_notes
    return frame, problems, notes


def number_lines(lines: pd.DataFrame) -> pd.Series:
    """line_no: 1.. within each (shop, order), in file order."""
    return (lines.groupby([Line.shop, Line.order_id], sort=False).cumcount() + 1).astype("int64")
