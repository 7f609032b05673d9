"""The range of every number a person can type in an input file, and the words that explain it.

Each number is checked here at import, once per distinct cell value, so that a
slip (a barcode pasted into the quantity column, ``1E+20`` from a CSV saved by
Excel, ``inf`` from a formula) is reported naming its file, row and column
instead of breaking a later step:

* SQLite stores integers up to 2^63 - 1 and pandas counts in int64; a larger
  quantity or count cannot even be stored.
* Sums stay exact: goods values are ``price × quantity`` summed in Decimal,
  which keeps 28 significant digits; weights are ``grams × quantity`` in int64.
* Labels, pick lists and workbooks must be able to print every number.

The caps are far above any real order and far below those technical limits::

    quantity of one order line                  1 .. 1,000,000
    warehouse units per platform unit (pairing) 1 .. 1,000,000
    stock count of one warehouse and SKU        0 .. 1,000,000,000
    received or adjusted units (either sign)    1 .. 1,000,000,000
    product weight                              0 .. 1,000,000 g (one tonne)
    money (price, line total, order total,      at most 1,000,000,000 either side of 0,
           declared value)                      at most 4 decimal places

so the largest line is worth 10^15 (19 digits with the decimals), an order of
a million such lines still sums exactly, and the heaviest line weighs 10^12 g.

Forms that are not plain numbers are refused with their own message:
infinity and not-a-number (``inf``, ``NaN``), and exponents (``1e400``,
``1.23457E+11``): Excel writes long numbers that way after dropping their
last digits, so the number the file meant cannot be known.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class WholeLimit:
    """The range of a whole-number column and how messages name it."""
    what: str        # "quantity": the column in plain words
    minimum: int
    maximum: int
    why: str         # why the maximum, shown after it in parentheses


QUANTITY = WholeLimit("quantity", 1, 1_000_000, "the most one order line can hold")
PAIRED_UNITS = WholeLimit("quantity", 1, 1_000_000, "the most warehouse units one platform unit can stand for")
ON_HAND = WholeLimit("on hand", 0, 1_000_000_000, "the most one stock count can hold")
RECEIVED = WholeLimit("quantity", 1, 1_000_000_000, "the most one stock count can hold")
ADJUSTED = WholeLimit("quantity", 1, 1_000_000_000, "the most one stock count can hold")
LEAD_DAYS = WholeLimit("lead time days", 0, 3650, "ten years")
WINDOW_DAYS = WholeLimit("sales window days", 1, 3650, "ten years")
WEIGHT_G = WholeLimit("weight in grams", 0, 1_000_000, "one tonne, the heaviest product batchship accepts")

MONEY_MAX = Decimal(1_000_000_000)
MONEY_PLACES = 4
MONEY_WHY = "the largest amount batchship accepts"

_NOT_NUMBERS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞",
                          "nan", "+nan", "-nan", "#num!"})
_EXPONENT = re.compile(r"^([+-]?)(\d+(?:[.,]\d*)?|[.,]\d+)[eE]([+-]?)(\d+)$")
_SHOWN = 40    # longer values are shortened in messages (the report's value column has them whole)


def shown(text: str) -> str:
    """``text`` as a message quotes it: stripped, and shortened when very long."""
    text = text.strip()
    if len(text) <= _SHOWN:
        return text
    return f"{text[:20]}… ({len(text)} characters)"


def bound_words(minimum: int) -> str:
    return "greater than 0" if minimum == 1 else f"of at least {minimum}"


def larger_than(what: str, text: str, maximum: int | Decimal, why: str) -> str:
    return f"{what} {shown(text)} is larger than {maximum:,} ({why})"


def odd_number(text: str, what: str, maximum: int | Decimal, why: str) -> str:
    """The message for a cell that is infinity, not-a-number or written with an
    exponent; "" for anything else (left to the column's own parser)."""
    s = text.strip()
    if s.casefold() in _NOT_NUMBERS:
        return f"{what} {s} is not a number: write the number itself"
    m = _EXPONENT.match(s)
    if not m:
        return ""
    sign, mantissa, exp_sign, exp = m.groups()
    mantissa = mantissa.replace(",", ".")
    if len(exp.lstrip("0")) > 4:          # 10^10000 and beyond: no Decimal needed to know
        huge = exp_sign != "-" and Decimal(mantissa) != 0
    else:
        huge = abs(Decimal(f"{mantissa}e{exp_sign}{exp}")) > maximum
    if huge and not (sign == "-" and isinstance(maximum, int)):   # a negative count is refused as such
        return larger_than(what, s, maximum, why)
    return (f"{what} {shown(s)} is written with an exponent, the way Excel shortens long numbers: "
            f"write the whole number out")


def whole_too_large(digits: str, maximum: int) -> bool:
    """Whether the digit string is above ``maximum``, without converting huge strings to int."""
    digits = digits.lstrip("0")
    return len(digits) > len(str(maximum)) or (len(digits) == len(str(maximum)) and int(digits) > maximum)


def _decimal_places(amount: Decimal) -> int:
    """Decimal places that matter: trailing zeros ("12.50000") do not count. Exact for any length."""
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    places = -exponent
    i = len(digits) - 1
    while places > 0 and i >= 0 and digits[i] == 0:
        places -= 1
        i -= 1
    return places


def check_money(amount: Decimal, text: str, what: str) -> Decimal:
    """``amount`` if it is within the money range, else ValueError in plain words."""
    if not amount.is_finite():
        raise ValueError(f"{what} {shown(text)} is not a number: write the amount itself")
    if abs(amount) > MONEY_MAX:
        raise ValueError(larger_than(what, text, MONEY_MAX, MONEY_WHY))
    places = _decimal_places(amount)
    if places > MONEY_PLACES:
        rounded = amount.quantize(Decimal(1).scaleb(-MONEY_PLACES), ROUND_HALF_UP)
        raise ValueError(f"{what} {shown(text)} has {places} decimal places; at most {MONEY_PLACES} are "
                         f"kept: round it (e.g. {format(rounded, 'f')})")
    return amount
