"""Typed canonical values from cleaned text columns, with every bad cell reported.

Parsers run once per distinct value (``parse_distinct``) so a 100,000-line file
with a few hundred prices and dates costs a few hundred parser calls.
"""
from __future__ import annotations

from decimal import Decimal, ROUND_HALF_UP
from typing import Callable

import numpy as np
import pandas as pd
import pandera.errors as pa_errors

from ..errors import Problem
from ..schemas import Source, frame_schema
from .limits import MONEY_MAX, MONEY_WHY, WholeLimit, bound_words, check_money, odd_number
from .mapping import MappedSheet, header_of, problems_where
from .normalize import (DAY_FIRST, MONTH_FIRST, money_text, parse_datetime, parse_money, parse_whole,
                        resolve_currency, slash_date_order)


def parse_distinct(series: pd.Series, parse: Callable[[str], object]
                   ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(parsed values, error mask, error messages) for the non-blank cells of ``series``;
    blank cells give None and no error."""
    codes, uniques = pd.factorize(np.asarray(series, dtype=object))
    results: list[object] = []
    messages: list[str] = []
    for value in uniques.tolist():
        if value == "":
            results.append(None)
            messages.append("")
            continue
        try:
            results.append(parse(value))
            messages.append("")
        except ValueError as exc:
            results.append(None)
            messages.append(str(exc))
    if not results:
        empty = pd.Series([], index=series.index, dtype=object)
        return empty, pd.Series(False, index=series.index), empty.astype("str")
    parsed = pd.Series(np.array(results + [None], dtype=object)[codes], index=series.index, dtype=object)
    message = pd.Series(np.array(messages + [""], dtype=object)[codes], index=series.index, dtype="str")
    return parsed, message != "", message


def report(mapped: MappedSheet, frame: pd.DataFrame, target: str, bad: pd.Series,
           messages: pd.Series) -> list[Problem]:
    """Problems for the bad cells of one column; each message names what is wrong."""
    problems = []
    for message in pd.unique(messages[bad]):
        problems += problems_where(mapped, frame, bad & (messages == message), target, message)
    return problems


def whole_numbers(mapped: MappedSheet, frame: pd.DataFrame, target: str, limit: WholeLimit, *,
                  blank_ok: bool = False) -> tuple[pd.Series, list[Problem]]:
    """Integer column (nullable Int64 when ``blank_ok``) within ``limit``; bad and blank cells reported."""
    text = frame[target]
    parsed, bad, messages = parse_distinct(text, lambda v: parse_whole(
        v, minimum=limit.minimum, what=limit.what, maximum=limit.maximum, why=limit.why))
    problems = report(mapped, frame, target, bad, messages)
    if not blank_ok:
        blank = text == ""
        problems += problems_where(mapped, frame, blank, target,
                                   f"{limit.what} must be a whole number {bound_words(limit.minimum)}")
    values = pd.array(parsed.where(~bad, None).tolist(), dtype="Int64")
    if blank_ok:
        return pd.Series(values, index=frame.index), problems
    return pd.Series(values, index=frame.index).fillna(0).astype("int64"), problems


# Joins a cell to its row's context (currency, time zone) so that distinct
# pairs are parsed once; cells never hold this control character.
_PAIR = "\x1f"


def _with_context(series: pd.Series, context: pd.Series | None) -> pd.Series:
    """``cell<US>context`` for non-blank cells, "" for blank ones."""
    if context is None:
        return series
    return series.where(series == "", series + _PAIR + context.astype("str"))


NOT_MONEY = "not a money amount (expected e.g. 12.50 or EUR 12,50)"


def money(mapped: MappedSheet, frame: pd.DataFrame, target: str, known: pd.Series | None = None,
          what: str = "") -> tuple[pd.Series, pd.Series, list[Problem]]:
    """(canonical decimal text per row, currency marker per row, problems) of a
    money column; ``known`` is each row's currency where the cell does not say.
    Amounts outside the money range of ``limits`` are problems; ``what`` names
    the column in their messages (default: the canonical name in words)."""
    what = what or target.replace("_", " ")

    def parse(pair: str) -> tuple:
        cell, _, currency = pair.partition(_PAIR)
        return parse_money(cell, currency)       # cached: the second pass below is free

    def amount_text(pair: str) -> str:
        cell = pair.partition(_PAIR)[0]
        odd = odd_number(cell, what, MONEY_MAX, MONEY_WHY)
        if odd:
            raise ValueError(odd)
        try:
            amount = parse(pair)[0]
        except ValueError:
            raise ValueError(NOT_MONEY) from None
        return money_text(check_money(amount, cell, what))
    cells = _with_context(frame[target], known)
    text, bad, messages = parse_distinct(cells, amount_text)
    markers, _, _ = parse_distinct(cells, lambda v: parse(v)[1])
    problems = report(mapped, frame, target, bad, messages)
    return text.fillna("").astype("str"), markers.fillna("").astype("str"), problems


def datetimes(mapped: MappedSheet, frame: pd.DataFrame, target: str, zones: pd.Series
              ) -> tuple[pd.Series, list[Problem]]:
    """UTC text of a date/time column; naive times are read in each row's zone.
    Slash dates are read in one order for the whole column: the order its
    values prove (25/04 is day first, 04/25 month first), else the template's."""
    t = mapped.template
    order, problems = _slash_order(mapped, frame, target)
    if not problems:
        order = order or t.slash_dates

    def parse(pair: str) -> str:
        cell, _, zone = pair.partition(_PAIR)
        return parse_datetime(cell, t.date_formats, zone, order)
    parsed, bad, messages = parse_distinct(_with_context(frame[target], zones), parse)
    problems += report(mapped, frame, target, bad, messages)
    return parsed.fillna("").astype("str"), problems


def _slash_order(mapped: MappedSheet, frame: pd.DataFrame, target: str) -> tuple[str, list[Problem]]:
    """(DAY_FIRST, MONTH_FIRST or "" when no value tells, problems): a column
    whose values prove both orders cannot be read safely."""
    values = pd.unique(np.asarray(frame[target], dtype=object))
    seen: dict[str, str] = {}
    for value in values.tolist():
        order = slash_date_order(value)
        if order:
            seen.setdefault(order, value)
    if len(seen) < 2:
        return next(iter(seen), ""), []
    day, month = seen[DAY_FIRST], seen[MONTH_FIRST]
    row = int(frame.loc[frame[target] == month, Source.row].iloc[0])
    return "", [Problem(
        f"dates in this column are written day first ({day}) and month first ({month}): "
        f"write them all in one order", sheet=mapped.sheet_name, row=row,
        column=header_of(mapped, target), value=month)]


def currencies(markers: list[pd.Series], column: pd.Series | None, default: str, index) -> pd.Series:
    """Per row: the first unambiguous money marker, else the currency column, else
    the template default, else what an ambiguous symbol usually means."""
    marker = pd.Series("", index=index, dtype="str")
    for m in markers:
        marker = marker.where(marker != "", m)
    fallback = column if column is not None else pd.Series("", index=index, dtype="str")
    pairs = pd.DataFrame({"m": marker, "f": fallback.str.upper()})
    distinct = pairs.drop_duplicates()
    table = {(m, f): resolve_currency(m, f, default) for m, f in zip(distinct["m"].tolist(), distinct["f"].tolist())}
    return pd.Series([table[(m, f)] for m, f in zip(pairs["m"].tolist(), pairs["f"].tolist())], index=index,
                     dtype="str")


def per_unit(amounts: pd.Series, quantities: pd.Series) -> pd.Series:
    """Unit price text from line-total text; inexact divisions are rounded to 4 places."""
    def divide(a: str, q) -> str:
        if not a or not q:
            return a
        unit = Decimal(a) / Decimal(int(q))
        exact = unit.normalize()
        if exact.as_tuple().exponent < -4:
            exact = unit.quantize(Decimal("0.0001"), ROUND_HALF_UP)
        # keep at least the scale the total was written with ("12.50" / 2 -> "6.25")
        scale = -Decimal(a).as_tuple().exponent
        if -exact.as_tuple().exponent < scale:
            exact = exact.quantize(Decimal(1).scaleb(-scale))
        return money_text(exact)
    return pd.Series([divide(a, q) for a, q in zip(amounts, quantities)], index=amounts.index, dtype="str")


def schema_problems(mapped: MappedSheet, frame: pd.DataFrame, kind: str) -> list[Problem]:
    """Lazy pandera validation of the finished frame, failures as located Problems."""
    try:
        frame_schema(kind).validate(frame, lazy=True)
    except pa_errors.SchemaErrors as exc:
        problems = []
        for case in exc.failure_cases.to_dict("records"):
            column = str(case.get("column") or "")
            index = case.get("index")
            row = None
            if index is not None and not pd.isna(index) and index in frame.index:
                row = int(frame.at[index, Source.row])
            value = case.get("failure_case")
            problems.append(Problem(
                f"{column or 'the sheet'} fails the check {case.get('check')}",
                sheet=mapped.sheet_name, row=row, column=header_of(mapped, column) if column else "",
                value="" if value is None else str(value)))
        return problems
    return []
