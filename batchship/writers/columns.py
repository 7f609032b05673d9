"""What each column of an output workbook holds, so every writer engine lays it out the same way.

A workbook writer is told, per column, one of these kinds; it turns the values into the cells an
accountant expects (Excel dates in the seller's timezone, money with its currency's decimals) and
adds the totals rows. The kinds say nothing about the engine: another writer behind
``write_workbook`` reads the same metadata.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

import pandas as pd
import tomllib
import yaml

from ..paths import SCHEMAS_DIR, TEMPLATES_DIR

TEXT = "text"
DATE = "date"            # a calendar day: "2026-12-06"
DATETIME = "datetime"    # a moment: ISO 8601, UTC unless it carries its offset; shown in the seller's timezone
CURRENCY = "currency"    # ISO 4217 code
QUANTITY = "quantity"    # a whole number a totals row adds up (units, grams, parcels)
NUMBER = "number"        # a number that is no amount (row numbers, line numbers): never summed


@dataclass(frozen=True)
class Money:
    """An amount: in the currency named by the same row's ``currency_column``, or in ``currency``."""
    currency_column: str = ""
    currency: str = ""


Kind = str | Money

# ISO 4217 currencies without minor units: their amounts show no decimals. (HUF, TWD and IDR
# keep two decimals in ISO 4217 even where cash has none.)
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"})

# The kinds of the column names batchship's own outputs use; a writer's own kinds win.
KNOWN_KINDS: dict[str, Kind] = {
    "paid_at": DATETIME, "held_at": DATETIME, "shipped_at": DATETIME, "date": DATE,
    "currency": CURRENCY, "declared_currency": CURRENCY,
    "goods_value": Money("currency"), "order_total": Money("currency"), "unit_price": Money("currency"),
    "declared_value": Money("declared_currency"),
    "quantity": QUANTITY, "on_hand": QUANTITY, "allocated": QUANTITY, "available": QUANTITY,
    "waiting": QUANTITY, "to_buy": QUANTITY, "delta": QUANTITY, "weight_g": QUANTITY, "items": QUANTITY,
    "parcels": QUANTITY, "order_count": QUANTITY,
    "source_row": NUMBER, "line_no": NUMBER, "row": NUMBER,
}


@dataclass(frozen=True)
class WorkbookStyle:
    """How outputs are written for this seller: its timezone and the language of headers."""
    timezone: str = "Asia/Shanghai"
    language: str = "en"
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))

    def header(self, name: str) -> str:
        return translated(name, self.language)

    def sheet_name(self, name: str) -> str:
        if self.language == "en":
            return name
        return _translations(self.language)["sheets"].get(name, translated(name, self.language))


def kind_of(column: str, own: dict[str, Kind] | None = None) -> Kind:
    if own and column in own:
        return own[column]
    return KNOWN_KINDS.get(column, TEXT)


def decimals(currency: str) -> int:
    return 0 if str(currency).strip().upper() in ZERO_DECIMAL_CURRENCIES else 2


def missing(value) -> bool:
    """None, NaN, NaT or pandas' NA: a cell with nothing in it."""
    if value is None or isinstance(value, str):
        return value is None
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_moment(value, zone: ZoneInfo) -> datetime | None:
    """A stored moment (ISO text, UTC unless it has an offset) as the seller's wall-clock time."""
    if missing(value):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).replace(tzinfo=None)


def as_day(value) -> date | None:
    if missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def as_amount(value) -> Decimal | None:
    """The number a workbook cell can hold, or None: text like "1e400" is no such number (a cell
    holds a double), and is written as the text it is."""
    if missing(value):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and math.isfinite(float(amount)) else None


_HAN = re.compile(r"[\u3400-\u9fff]")


def translated(name: str, language: str) -> str:
    """A column header in ``language``; a header ending in a currency code ("declared_value USD")
    keeps the code. Names without a translation stay as they are."""
    if language == "en":
        return name
    words = _translations(language)["columns"]
    if name in words:
        return words[name]
    head, _, tail = name.rpartition(" ")
    if head in words and tail.isupper():
        return f"{words[head]} {tail}"
    return name


@lru_cache(maxsize=None)
def _translations(language: str) -> dict[str, dict[str, str]]:
    """Headers from templates/outputs/<language>.toml (the outputs' own columns, and names whose
    meaning differs in an output), then the input templates' Chinese headers (schemas/*.headers.yaml),
    so a sheet written in Chinese and dropped back reads as an input."""
    columns: dict[str, str] = {}
    path = TEMPLATES_DIR / "outputs" / f"{language}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    columns.update(data.get("columns", {}))
    if language == "zh":
        for headers in sorted(SCHEMAS_DIR.glob("*.headers.yaml")):
            for row in yaml.safe_load(headers.read_text(encoding="utf-8")).get("columns", []):
                if row.get("zh") and _HAN.search(row["zh"]):
                    columns.setdefault(row["column"], row["zh"])
                    columns.setdefault(row["en"], row["zh"])
    return {"columns": columns, "sheets": dict(data.get("sheets", {}))}


LANGUAGES = ("en", "zh")
