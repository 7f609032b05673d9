"""Turn the data rows under a claimed header into canonical text columns.

Column-wise (vectorised) work only: the rows are transposed once, each
canonical column is picked, joined, back-filled and cleaned as a pandas Series.
The kind-specific meaning of the values (money, dates, quantities) is applied
afterwards by ``values``/``orders``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import zip_longest

import numpy as np
import pandas as pd

from ..errors import Problem
from ..schemas import BookingResult, Line, Pairing, PoolNumber, Product, ShipScan, Source, Stock
from .identify import SheetMatch
from .normalize import clean_id, clean_text, clean_tracking_number, header_key, is_excel_error, repair_mojibake
from .templates import ColumnSpec, SkipRule, Template

GROUP = "_group"          # continuation-row group key (orders)
RAW = "_raw"              # JSON of the original row (keep_raw templates)
SUMMARY = "_summary"      # the cell that is blank on an order summary row (eBay)
STATUS_PREFIX = "_status_"
UNLESS_SUFFIX = "_unless"  # STATUS_PREFIX + rule number + this: the rule's exemption column
FALLBACK_PREFIX = "_fallback_"
REPAIRED = "_repaired"    # True on rows where double-decoded text was repaired

# Columns whose cells are identifiers: a leading apostrophe is Excel's text marker
# (Shopify writes zips as '84403 so that Excel keeps the leading zeros).
ID_COLUMNS = {Line.order_id, Line.item_id, Line.platform_sku, Line.sku, Line.postcode, Line.phone,
              Stock.sku, Product.hs_code, PoolNumber.tracking_number, ShipScan.reference,
              Pairing.platform_sku, BookingResult.reference}
_CURRENCY_SUFFIX = re.compile(r"\(\s*([A-Za-z]{3})\s*\)\s*\*?\s*$")


@dataclass
class MappedSheet:
    """Canonical columns as cleaned text, one row per kept data row."""
    match: SheetMatch
    frame: pd.DataFrame
    headers: dict[str, str] = field(default_factory=dict)   # canonical column -> header text in the file
    problems: list[Problem] = field(default_factory=list)
    fallback_headers: dict[str, str] = field(default_factory=dict)  # column -> first fallback header found
    fallback_used: dict[str, int] = field(default_factory=dict)     # column -> cells filled from fallbacks
    skipped: list[tuple[str, list[int]]] = field(default_factory=list)  # (why, row numbers): not order lines
    repaired: list[tuple[str, str]] = field(default_factory=list)  # (as read, repaired): distinct values
    repaired_cells: int = 0

    @property
    def template(self) -> Template:
        return self.match.template

    @property
    def sheet_name(self) -> str:
        return self.match.sheet.name


def _kept_rows(match: SheetMatch) -> tuple[list[list[str]], list[int], list[tuple[str, list[int]]]]:
    """Data rows below the header that carry data: blank rows (eBay's padding row)
    and rows matching the template's skip patterns (report footers) are dropped,
    rows its ``[[skip]]`` rules describe too, and those are returned by reason."""
    first = match.header_index + 1
    start_number = match.sheet.first_row_number + first
    patterns = match.template.skip_rows
    rules = [(rule, _rule_columns(match, rule)) for rule in match.template.skip]
    skipped: dict[str, list[int]] = {}
    rows, numbers = [], []
    for offset, cells in enumerate(match.sheet.rows[first:]):
        if not any(c and c.strip() for c in cells):
            continue
        if patterns or rules:
            text = ",".join(cells).strip()
            if any(p.search(text) for p in patterns):
                continue
            why = next((rule.why for rule, columns in rules if _rule_holds(rule, columns, cells, text)), None)
            if why is not None:
                skipped.setdefault(why, []).append(start_number + offset)
                continue
        rows.append(cells)
        numbers.append(start_number + offset)
    if rows and _is_description_row(match, rows[0]):
        return rows[1:], numbers[1:], list(skipped.items())
    return rows, numbers, list(skipped.items())


def _rule_columns(match: SheetMatch, rule: SkipRule) -> tuple[list[int | None], list[tuple[int | None, frozenset]]]:
    suffix = match.template.suffix_match
    blank = [match.header.find(h, suffix) for h in rule.blank]
    equals = [(match.header.find(h, suffix), values) for h, values in rule.equals]
    return blank, equals


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _rule_holds(rule: SkipRule, columns, cells: list[str], text: str) -> bool:
    blank, equals = columns
    if rule.equals and any(index is None for index, _ in equals):
        return False           # the column the rule looks at is not in this file
    if rule.pattern is not None and not rule.pattern.search(text):
        return False
    if any(_cell(cells, index) for index in blank):
        return False
    return all(header_key(_cell(cells, index)) in values for index, values in equals)


_DIGIT = re.compile(r"\d")


def _is_description_row(match: SheetMatch, cells: list[str]) -> bool:
    """The template's ``description_row`` columns are numbers in every real row
    (order id, quantity); a row with text but no digit in all of them is a row
    of column descriptions ("Platform unique order ID."), not an order."""
    t = match.template
    if not t.description_row:
        return False
    for target in t.description_row:
        index = match.header.find_any(t.columns[target].headers, t.suffix_match)
        cell = cells[index].strip() if index is not None and index < len(cells) else ""
        if not cell or _DIGIT.search(cell):
            return False
    return True


def distinct_map(series: pd.Series, func) -> pd.Series:
    """``func`` applied once per distinct value (exports repeat values a lot)."""
    codes, uniques = pd.factorize(np.asarray(series, dtype=object))
    if len(uniques) == 0:
        return pd.Series([], index=series.index, dtype="str")
    mapped = np.array([func(u) for u in uniques.tolist()], dtype=object)
    return pd.Series(mapped[codes], index=series.index, dtype="str")


def _clean(series: pd.Series, identifier: bool) -> pd.Series:
    return distinct_map(series, clean_id if identifier else clean_text)


def _clean_column(series: pd.Series, target: str) -> pd.Series:
    if target == PoolNumber.tracking_number:
        return distinct_map(series, clean_tracking_number)
    return _clean(series, target in ID_COLUMNS)


def _clean_and_repair(series: pd.Series, mapped_repairs: dict[str, str]) -> tuple[pd.Series, np.ndarray]:
    """Text cleaned, then double-decoded text repaired, once per distinct value; the rows the repair
    changed. ``mapped_repairs`` gets each repaired value's text before and after, first seen first."""
    codes, uniques = pd.factorize(np.asarray(series, dtype=object))
    if not len(uniques):
        return pd.Series([], index=series.index, dtype="str"), np.zeros(len(series), dtype=bool)
    clean = [clean_text(u) for u in uniques.tolist()]
    fixed = [repair_mojibake(text) for text in clean]
    repaired = np.array([a != b for a, b in zip(clean, fixed)], dtype=bool)
    for at in np.flatnonzero(repaired):
        mapped_repairs.setdefault(clean[at], fixed[at])
    return (pd.Series(np.array(fixed, dtype=object)[codes], index=series.index, dtype="str"),
            repaired[codes])


def _column_text(columns: list[tuple[str, ...]], index: int | None, n: int) -> pd.Series | None:
    if index is None:
        return None
    values = columns[index] if index < len(columns) else ("",) * n
    return pd.Series(values, dtype=object)


def _join(parts: list[pd.Series], sep: str) -> pd.Series:
    stripped = [p.str.strip() for p in parts]
    out = stripped[0]
    for part in stripped[1:]:
        both = (out != "") & (part != "")
        out = out.where(~both, out + sep + part)
        out = out.where(out != "", part)
    return out


def _source(spec: ColumnSpec, match: SheetMatch, columns, n: int) -> tuple[pd.Series | None, str]:
    t, header = match.template, match.header
    index = header.find_any(spec.headers, t.suffix_match) if spec.headers else None
    if index is not None:
        return _column_text(columns, index, n), header.cells[index]
    if spec.join:
        found = [header.find(a, t.suffix_match) for a in spec.join]
        found = [i for i in found if i is not None]
        if found:
            parts = [_column_text(columns, i, n) for i in found]
            return _join(parts, spec.join_with), " + ".join(header.cells[i] for i in found)
    return None, ""


def map_sheet(match: SheetMatch) -> MappedSheet:
    t = match.template
    rows, numbers, skipped = _kept_rows(match)
    n = len(rows)
    width = len(match.header.cells)
    columns = list(zip_longest(*rows, fillvalue="")) if rows else []
    out: dict[str, pd.Series] = {}
    headers: dict[str, str] = {}
    fallback_headers: dict[str, str] = {}
    repairs: dict[str, str] = {}
    repaired_rows = pd.Series(False, index=pd.RangeIndex(n))
    repaired_cells = 0

    def cleaned(series: pd.Series, target: str) -> pd.Series:
        nonlocal repaired_rows, repaired_cells
        if target in ID_COLUMNS or target == PoolNumber.tracking_number:
            return _clean_column(series, target)
        series, changed = _clean_and_repair(series, repairs)
        repaired_cells += int(changed.sum())
        repaired_rows = repaired_rows | changed
        return series

    for target, spec in t.columns.items():
        series, header_text = _source(spec, match, columns, n)
        if spec.currency_from_header:
            m = _CURRENCY_SUFFIX.search(header_text)
            series = pd.Series([m.group(1).upper() if m else ""] * n, dtype="str")
        elif series is not None:
            series = cleaned(series, target)
            headers[target] = header_text
        backup = None
        for alias in spec.fallback:
            index = match.header.find(alias, t.suffix_match)
            if index is None:
                continue
            cells = cleaned(_column_text(columns, index, n), target)
            backup = cells if backup is None else backup.where(backup != "", cells)
            headers.setdefault(target, match.header.cells[index])
            fallback_headers.setdefault(target, match.header.cells[index])
        if series is None:
            series = pd.Series([""] * n, dtype="str")
        if backup is not None and target == Line.order_id:
            # Rows are grouped into orders by their id: its fallback (eBay's Sales Record
            # Number where Order ID is blank) must be in place before anything else.
            series = series.where(series != "", backup)
        elif backup is not None:
            out[FALLBACK_PREFIX + target] = backup
        out[target] = series
    for i, rule in enumerate(t.status):
        index = match.header.find_any(rule.headers, t.suffix_match)
        status = _column_text(columns, index, n)
        out[f"{STATUS_PREFIX}{i}"] = (_clean(status, False) if status is not None
                                      else pd.Series([""] * n, dtype="str"))
        if rule.unless is not None:
            index = match.header.find_any(rule.unless_headers, t.suffix_match)
            exempt = _column_text(columns, index, n)
            out[f"{STATUS_PREFIX}{i}{UNLESS_SUFFIX}"] = (_clean(exempt, False) if exempt is not None
                                                        else pd.Series([""] * n, dtype="str"))
    if t.group_key:
        index = match.header.find_any(t.group_key, t.suffix_match)
        if index is not None:
            out[GROUP] = _clean(_column_text(columns, index, n), True)
    if t.summary_when_blank:
        index = match.header.find_any(t.summary_when_blank, t.suffix_match)
        if index is not None:
            out[SUMMARY] = _clean(_column_text(columns, index, n), True)
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    frame[Source.row] = pd.Series(numbers, dtype="int64")
    if repairs:
        frame[REPAIRED] = repaired_rows
    if t.keep_raw:
        names = [c if c.strip() else f"Column {i + 1}" for i, c in enumerate(match.header.cells)]
        frame[RAW] = pd.Series([json.dumps(dict(zip(names, (list(r) + [""] * width)[:width])),
                                           ensure_ascii=False) for r in rows], index=frame.index, dtype="str")
    mapped = MappedSheet(match, frame, headers, fallback_headers=fallback_headers, skipped=skipped,
                         repaired=list(repairs.items()), repaired_cells=repaired_cells)
    mapped.problems += excel_errors(mapped)
    return mapped


def apply_fallbacks(mapped: MappedSheet, frame: pd.DataFrame,
                    defaults: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Blank cells take the template's fallback column, then ``defaults`` (per
    row, e.g. the shop's country), then the template's default. Orders call this
    after continuation rows got their order's values, so that e.g. a blank
    "Paid at" on an item row is the order's, not the item row's "Created at"."""
    out = frame.copy()
    defaults = defaults or {}
    for target, spec in mapped.template.columns.items():
        backup = out.pop(FALLBACK_PREFIX + target) if FALLBACK_PREFIX + target in out else None
        if backup is not None:
            filled = (out[target] == "") & (backup != "")
            if filled.any():
                mapped.fallback_used[target] = int(filled.sum())
                out[target] = out[target].where(~filled, backup)
    for target, values in defaults.items():
        if target in out:
            out[target] = out[target].where(out[target] != "", values)
    for target, spec in mapped.template.columns.items():
        if spec.default:
            out[target] = out[target].where(out[target] != "", spec.default)
    return out


def excel_errors(mapped: MappedSheet) -> list[Problem]:
    """Excel error literals (#N/A, #REF! ...) in a mapped column: the sheet was
    exported with broken formulas. The cells are blanked so they are reported once."""
    problems = []
    checked = dict(mapped.headers)
    checked.update({FALLBACK_PREFIX + t: h for t, h in mapped.fallback_headers.items()
                    if FALLBACK_PREFIX + t in mapped.frame})   # the order id's is merged at once
    for target, header in checked.items():
        s = mapped.frame[target]
        codes, uniques = pd.factorize(np.asarray(s, dtype=object))
        errors = [i for i, u in enumerate(uniques.tolist()) if is_excel_error(u)]
        if not errors:
            continue
        bad = pd.Series(np.isin(codes, errors), index=s.index)
        if not bad.any():
            continue
        for value, row in zip(s[bad], mapped.frame.loc[bad, Source.row]):
            problems.append(Problem(
                f"the cell holds the spreadsheet error {value}: fix the formula or type the value",
                sheet=mapped.sheet_name, row=int(row), column=header, value=value))
        mapped.frame.loc[bad, target] = ""
    return problems


def header_of(mapped: MappedSheet, target: str) -> str:
    """Header text to name in a problem about ``target``."""
    if target in mapped.headers:
        return mapped.headers[target]
    spec = mapped.template.columns.get(target)
    return spec.aliases()[0] if spec and spec.aliases() else target


def problems_where(mapped: MappedSheet, frame: pd.DataFrame, mask: pd.Series, target: str,
                   message: str, values: pd.Series | None = None) -> list[Problem]:
    """One Problem per row where ``mask`` holds, naming the row, column and value."""
    if not mask.any():
        return []
    column = header_of(mapped, target)
    vals = (values if values is not None else frame[target])[mask]
    return [Problem(message, sheet=mapped.sheet_name, row=int(row), column=column, value=str(v))
            for v, row in zip(vals, frame.loc[mask, Source.row])]

