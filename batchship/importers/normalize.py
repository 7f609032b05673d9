"""Cell-level cleaning and parsing: pure functions on one text value.

Every function takes the cell text as read from the file and either returns the
canonical value or raises ``ValueError`` with a sentence a person can act on.
The mapping layer applies them once per distinct value, so they may be slow-ish.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ftfy import fix_encoding as _fix_encoding

from .limits import bound_words, larger_than, odd_number, whole_too_large

# --- text, ids, headers -----------------------------------------------------

EXCEL_ERRORS = frozenset({
    "#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!",
    "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
})


def is_excel_error(text: str) -> bool:
    return text.strip().upper() in EXCEL_ERRORS


def clean_text(text: str) -> str:
    """Free text (names, addresses): surrounding whitespace and a BOM removed."""
    return text.replace("\ufeff", "").strip()


def repair_mojibake(text: str) -> str:
    """Text that was decoded twice (UTF-8 bytes read as Latin-1 or cp1252 and saved
    again: ``MontrÃ©al``, ``XuÃ¢n``) put back as it was written (``Montréal``).
    Only the encoding is repaired (ftfy's fix_encoding): quotes, widths and
    ligatures stay as they are; plain ASCII cannot be double-decoded."""
    if text.isascii():
        return text
    return _fix_encoding(text)


def clean_id(text: str) -> str:
    """The one rule for identifiers (order ids, SKUs, postcodes, references): compatibility forms
    folded (NFKC: full-width ``ＡＢ１`` and no-break spaces typed by input methods are ``AB1`` and
    spaces), invisible format characters dropped (zero-width space and joiners, word joiner, BOM,
    soft hyphen), surrounding whitespace and Excel's leading "keep as text" apostrophe removed.
    Case and inner spaces are kept: they can be part of an order id or a SKU."""
    if text.isascii():      # no format character is ASCII, and NFKC leaves ASCII as it is
        text = text.strip()
    else:
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        text = unicodedata.normalize("NFKC", text).strip()
    while text.startswith("'"):
        text = text[1:].lstrip()
    return text


def clean_tracking_number(text: str) -> str:
    """Tracking numbers are letters and digits only, printed in capitals: on top of ``clean_id``,
    every space and the letter case go, so ``rr 1234 5678 5cn`` and ``RR123456785CN`` are one number."""
    return "".join(clean_id(text).split()).upper()


_SPACE_IN_HANZI = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


def header_key(text: str) -> str:
    """Comparison key of a header cell: case, surrounding spaces, BOM, a trailing
    "required" asterisk, full-width forms and runs of whitespace do not matter."""
    text = unicodedata.normalize("NFKC", text.replace("\ufeff", ""))
    text = re.sub(r"\s+", " ", text).strip()
    text = _SPACE_IN_HANZI.sub("", text)   # "数 量" is 数量 typed with a stray space
    text = text.rstrip("*").rstrip()
    return text.casefold()


# --- whole numbers ----------------------------------------------------------

_WHOLE = re.compile(r"^\+?(\d+)(?:\.0*)?$")


def parse_whole(text: str, *, minimum: int, what: str, maximum: int | None = None, why: str = "") -> int:
    """A count such as a quantity. "3" and "3.0" (spreadsheet numbers) are 3;
    "1.5", "-2" and "" are refused with ``what`` named in the message. With
    ``maximum``, larger numbers, infinity and exponent forms ("1E+20") are refused
    saying so (``why`` tells the reader where the maximum comes from)."""
    s = text.strip()
    m = _WHOLE.match(s)
    if maximum is not None:
        if not m and (odd := odd_number(s, what, maximum, why)):
            raise ValueError(odd)
        if m and whole_too_large(m.group(1), maximum):
            raise ValueError(larger_than(what, s, maximum, why))
    if not m or len(m.group(1)) > 4000 or int(m.group(1)) < minimum:   # int() refuses 4300+ digits
        raise ValueError(f"{what} must be a whole number {bound_words(minimum)}")
    return int(m.group(1))


# --- money ------------------------------------------------------------------

# Currency markers that name one currency. "$" and "¥" are left out on purpose:
# they depend on the marketplace and are resolved by the caller.
_CURRENCY_MARKERS = {
    "€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₱": "PHP", "₫": "VND", "฿": "THB",
    "₺": "TRY", "₽": "RUB", "₪": "ILS", "₦": "NGN", "円": "JPY", "元": "CNY", "RMB": "CNY",
    "US$": "USD", "USD$": "USD", "AU$": "AUD", "A$": "AUD", "AUD$": "AUD", "C$": "CAD",
    "CA$": "CAD", "CAD$": "CAD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "SG$": "SGD",
    "R$": "BRL", "MX$": "MXN", "NT$": "TWD", "RP": "IDR", "RM": "MYR", "ZŁ": "PLN",
    "KČ": "CZK", "FT": "HUF", "LEI": "RON", "CHF": "CHF", "₴": "UAH", "DH": "AED",
}
AMBIGUOUS_MARKERS = {"$": "USD", "¥": "JPY", "￥": "JPY", "KR": ""}

_NUMBER = re.compile(r"\d(?:[\d.,'\s\u00a0\u202f\u2009]*\d)?")
_SPACES = re.compile(r"[\s'\u00a0\u202f\u2009]")


# ISO 4217 currencies with no minor unit, plus IDR and TWD, which marketplaces
# print without decimals: "IDR 150.000" is a hundred and fifty thousand.
ZERO_DECIMAL_CURRENCIES = frozenset({
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF", "IDR", "TWD",
})
_ONE_GROUP = re.compile(r"^\d+[.,]\d{3}$")


def _amount(number: str, whole_units: bool = False) -> Decimal:
    """Digits with thousands and decimal separators in either convention.
    ``whole_units``: the currency has no minor unit, so "150.000" groups thousands."""
    digits = _SPACES.sub("", number)
    if whole_units and _ONE_GROUP.match(digits):
        return Decimal(digits.replace(",", "").replace(".", ""))
    comma, dot = digits.rfind(","), digits.rfind(".")
    if comma >= 0 and dot >= 0:
        decimal_sep = "," if comma > dot else "."
    elif comma >= 0:
        # "90,00" is a decimal comma; "1,200" and "1,234,567" group thousands.
        groups = digits.split(",")
        thousands = (all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
                     and groups[0] != "0")
        decimal_sep = "" if thousands else ","
    elif digits.count(".") != 1:
        # "1.234.567" groups thousands; no separator at all is a whole amount
        decimal_sep = ""
    else:
        decimal_sep = "."
    if decimal_sep:
        whole, _, frac = digits.rpartition(decimal_sep)
        whole = whole.replace(",", "").replace(".", "")
        if not whole:
            whole = "0"
        if not frac.isdigit() or not whole.isdigit():
            raise ValueError
        return Decimal(f"{whole}.{frac}")
    whole = digits.replace(",", "").replace(".", "")
    if not whole.isdigit():
        raise ValueError
    return Decimal(whole)


@lru_cache(maxsize=65536)
def parse_money(text: str, known: str = "") -> tuple[Decimal, str]:
    """(amount, currency marker as ISO code or one of AMBIGUOUS_MARKERS or "").

    Accepts "$45.99", "EUR 90,00", "1 234,50 €", "AU $3,000.00", "¥1,200",
    "R$ 10,50", "-12.5", "(3.00)". The amount is exact (Decimal, never float).
    ``known`` is the amount's currency when the cell does not say (the
    order's currency column, a header suffix, the shop): in a currency without
    minor units a single separator before three digits groups thousands.
    """
    s = clean_id(text)
    found = _NUMBER.findall(s)
    if len(found) != 1:
        raise ValueError("not a money amount")
    number = found[0]
    before, _, after = s.partition(number)
    negative = "-" in before or "-" in after or (before.strip().startswith("(") and after.strip().endswith(")"))
    marker = re.sub(r"[\s()+\-]", "", before + after).upper()
    if marker in _CURRENCY_MARKERS:
        currency = _CURRENCY_MARKERS[marker]
    elif marker in AMBIGUOUS_MARKERS or marker == "":
        currency = marker
    elif re.fullmatch(r"[A-Z]{3}", marker):
        currency = marker
    elif re.fullmatch(r"[A-Z]{3}\$", marker):
        currency = marker[:3]
    else:
        raise ValueError("not a money amount")
    whole_units = resolve_currency(currency, known, "") in ZERO_DECIMAL_CURRENCIES
    try:
        amount = _amount(number, whole_units)
    except (ValueError, InvalidOperation):
        raise ValueError("not a money amount") from None
    return (-amount if negative else amount), currency


def resolve_currency(marker: str, fallback: str, default: str) -> str:
    """The ISO currency of a parsed amount: its own unambiguous marker, else the
    order's currency column (``fallback``), else the template default, else what
    an ambiguous symbol usually means ($ → USD, ¥ → JPY)."""
    if marker and marker not in AMBIGUOUS_MARKERS:
        return marker
    if fallback:
        return fallback.strip().upper()
    if default:
        return default
    return AMBIGUOUS_MARKERS.get(marker, "")


def money_text(amount: Decimal) -> str:
    """Canonical decimal string: no exponent, scale as written ("12.50")."""
    text = format(amount, "f")
    return "0" if text in ("-0", "-0.0", "-0.00") else text


# --- postcodes --------------------------------------------------------------

# Countries whose postcodes are a fixed number of digits, so a postcode that a
# spreadsheet stored as a number (US 02134 -> 2134) can get its zeros back.
POSTCODE_DIGITS = {
    **dict.fromkeys(("US", "DE", "FR", "IT", "ES", "FI", "MX", "MY", "TH", "ID", "KR", "SA"), 5),
    **dict.fromkeys(("AT", "AU", "BE", "CH", "DK", "NO", "NZ", "PH", "ZA", "HU"), 4),
    **dict.fromkeys(("IN", "CN", "RU", "SG", "VN", "KZ"), 6),
    "JP": 7, "BR": 8,
}
_ZIP_PLUS_4 = re.compile(r"^(\d{1,5})-(\d{4})$")


def pad_postcode(postcode: str, country: str) -> str:
    """``postcode`` with the leading zeros a number-formatted cell dropped, for
    countries with fixed-length numeric postcodes ("2134", US -> "02134";
    "2134-1234", US -> "02134-1234"). Anything else is returned as it is."""
    digits = POSTCODE_DIGITS.get(country)
    if digits is None:
        return postcode
    if postcode.isdigit() and len(postcode) < digits:
        return postcode.zfill(digits)
    m = _ZIP_PLUS_4.match(postcode) if country == "US" else None
    if m:
        return f"{m.group(1).zfill(5)}-{m.group(2)}"
    return postcode


# --- dates ------------------------------------------------------------------

# Formats seen in marketplace exports, tried after the template's own formats.
DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",     # Shopify: 2026-04-05 21:06:21 +0400
    "%Y-%m-%d %H:%M:%S",        # Excel cells, Amazon all-orders
    "%Y-%m-%d %H:%M",           # Shopee
    "%Y-%m-%d",
    "%b-%d-%y",                 # eBay US: Sep-08-26
    "%d-%b-%y",                 # eBay AU: 26-May-26
    "%b-%d-%y %H:%M:%S",
    "%d-%b-%y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",     # TikTok US: 04/05/2026 09:06:21 PM
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y %H:%M:%S",        # TikTok and others, day first
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%Y %I:%M:%S %p",     # the other order of each: tried when a column settles it
    "%d/%m/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",           # Lazada: 05 Apr 2026 14:30
    "%d %b %Y",
)

# Zone abbreviations printed after eBay/Amazon times. "CST" is left out: it
# means both US Central and China Standard Time.
_ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "EST": -5,
    "EDT": -4, "BST": 1, "CET": 1, "CEST": 2, "AEST": 10, "AEDT": 11, "JST": 9, "KST": 9,
}
_TRAILING_ZONE = re.compile(r"\s+([A-Z]{1,4})$")


def _zone(name: str):
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _parse_datetime(s: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        return None


DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
_SLASH_DATE = re.compile(r"^\s*'?(\d{1,2})/(\d{1,2})/\d{2,4}(?!\d)")


def slash_date_order(text: str) -> str:
    """DAY_FIRST for "25/04/2026", MONTH_FIRST for "04/25/2026", "" when the
    value does not tell (04/05/2026) or is not a slash date."""
    m = _SLASH_DATE.match(text)
    if not m:
        return ""
    first, second = int(m.group(1)), int(m.group(2))
    if first > 12 >= second:
        return DAY_FIRST
    if second > 12 >= first:
        return MONTH_FIRST
    return ""


def _slash_formats(formats: tuple[str, ...], order: str) -> tuple[str, ...]:
    """``formats`` without those that read slash dates in the other order."""
    if not order:
        return formats
    other = "%m/%d" if order == DAY_FIRST else "%d/%m"
    return tuple(f for f in formats if other not in f)


@lru_cache(maxsize=65536)
def parse_datetime(text: str, formats: tuple[str, ...] = (), tz: str = "", slash_order: str = "") -> str:
    """UTC "YYYY-MM-DDTHH:MM:SSZ" for a date/time in any format seen in exports
    ("" for blank). Times without an offset are in ``tz`` (a zone name, UTC if "").
    ``formats`` are tried first. ``slash_order`` (DAY_FIRST or MONTH_FIRST) fixes
    how 04/05/2026 is read; "" reads it month first with a 12-hour time (US
    style), else day first."""
    s = clean_id(text)
    if not s:
        return ""
    offset = None
    m = _TRAILING_ZONE.search(s)
    if m and m.group(1) in _ZONE_ABBREVIATIONS:
        offset = timezone(timedelta(hours=_ZONE_ABBREVIATIONS[m.group(1)]))
        s = s[: m.start()]
    when = _parse_datetime(s, _slash_formats(tuple(formats) + DEFAULT_DATE_FORMATS, slash_order))
    if when is None:
        raise ValueError("not a date/time in a known format")
    if when.tzinfo is None:
        when = when.replace(tzinfo=offset or _zone(tz))
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
