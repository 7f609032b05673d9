"""Turn the typed values a workbook reader returns into the text a person sees in Excel."""
from __future__ import annotations

import datetime as dt

# Excel's error values. The reader returns them as this literal text; importers
# reject them in mapped columns.
EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"})

# Excel keeps 15 significant digits; a cached formula result such as
# 0.30000000000000004 is shown, and meant, as 0.3.
_EXCEL_DIGITS = 15


def float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    text = repr(value)
    if len(text) > 16:      # only long reprs can carry more than 15 significant digits
        excel = format(value, f".{_EXCEL_DIGITS}g")
        if len(excel) < len(text):
            return excel
    return text


def _whole_second(value: dt.datetime) -> dt.datetime:
    # Excel stores times as fractions of a day; float noise lands a microsecond off.
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)


def cell_text(value) -> str:
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is float:
        return float_text(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is dt.datetime:
        return _whole_second(value).strftime("%Y-%m-%d %H:%M:%S")
    if kind is dt.date:
        return value.strftime("%Y-%m-%d")
    if kind is dt.time:
        moment = _whole_second(dt.datetime.combine(dt.date(2000, 1, 1), value))
        return moment.strftime("%H:%M:%S")
    if kind is dt.timedelta:
        seconds = round(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def row_text(row: list) -> list[str]:
    return [c if c.__class__ is str else float_text(c) if c.__class__ is float else cell_text(c)
            for c in row]
