"""A sheet's data rows written as its XML directly, and spliced into the file xlsxwriter finished.

xlsxwriter spends about 5.5 µs on a cell, which at 100,000 order lines was most of a batch's
workbook time. No maintained writer keeps our rules at speed: rustpy-xlsxwriter gives a column
one number format (an amount in JPY among USD ones needs its own), and its filter takes in every
row it writes, totals rows too. So xlsxwriter still makes everything else of a workbook (styles,
header, widths, freeze panes, filter, dropdowns, charts, totals and the last data row, which keeps
its dimension right), and the rows between header and last are written here the way xlsxwriter's
constant-memory mode writes a cell: text as an inline string (never a formula), control characters
as _xHHHH_ escapes, numbers with 16 significant digits, dates as Excel serial numbers, a cell
without a value left out. ``tests/test_xlsx_rows.py`` holds the two to the same sheet XML.
"""
from __future__ import annotations

import math
import numbers
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from xlsxwriter.utility import xl_col_to_name

# Sheet XML deflated at level 1: about four times faster than the default 6 on rows of order data,
# for files about a quarter larger (a 43 MB sheet: 0.18 s and 7.9 MB at 1, 0.67 s and 6.4 MB at 6).
_ROWS_LEVEL = 1
_CHUNK = 2_000                                  # rows turned into XML at a time: bounded memory
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_SPECIAL_CHAR = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EPOCH = datetime(1899, 12, 31)
# Whole numbers up to this are exact as floats, so str() writes them as the float's 16 significant
# digits would (what xlsxwriter writes), in half the time.
_PLAIN_WHOLE = 2**53
_ZIP64_FROM = 2**31                             # an XML part this large needs ZIP64 sizes
_DIMENSION = re.compile(rb'<dimension ref="A1(?::[A-Z]+([0-9]+))?"/>')


@dataclass
class SheetRows:
    """Data rows 0 .. ``count`` - 1 of the ``sheet``-th worksheet (from 0), at sheet rows 2 on.
    ``columns``: each column's values; ``styles``: each column's xf index (None: no format);
    ``own``: per data row, the cells (column, xf index) whose format is not their column's."""
    sheet: int
    columns: list[list]
    styles: list[int | None]
    count: int
    own: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def splice_rows(source_path: Path, target_path: Path, sheets: list[SheetRows]) -> None:
    """Write ``target_path``: the workbook at ``source_path`` (as xlsxwriter closed it, its sheets
    holding their header row but not these rows) with each sheet's rows put in."""
    by_part = {f"xl/worksheets/sheet{s.sheet + 1}.xml": s for s in sheets if s.count > 0}
    with (zipfile.ZipFile(source_path) as source,
          zipfile.ZipFile(target_path, "w", zipfile.ZIP_DEFLATED) as target):
        missing = set(by_part) - set(source.namelist())
        if missing:
            raise ValueError(f"{source_path.name}: no worksheet part {', '.join(sorted(missing))}")
        for info in source.infolist():
            data = source.read(info)
            rows = by_part.get(info.filename)
            if rows is None:
                target.writestr(info, data)
                continue
            head, tail = _split_after_header(data, info.filename)
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.compress_type = zipfile.ZIP_DEFLATED
            _set_level(part, _ROWS_LEVEL)
            big = rows.count * max(len(rows.columns), 1) * 64 > _ZIP64_FROM
            with target.open(part, "w", force_zip64=big) as out:
                out.write(_widened_dimension(head, rows))
                for start in range(0, rows.count, _CHUNK):
                    out.write(rows_xml(rows, start, min(start + _CHUNK, rows.count)).encode("utf-8"))
                out.write(tail)


def _set_level(part: zipfile.ZipInfo, level: int) -> None:
    # zipfile takes a part's level from its ZipInfo when the part is written through open(); the
    # attribute is public (compress_level) from Python 3.13, private (_compresslevel) before.
    setattr(part, "compress_level" if hasattr(part, "compress_level") else "_compresslevel", level)


def rows_xml(rows: SheetRows, start: int, stop: int) -> str:
    """The <row> elements of data rows ``start`` .. ``stop`` - 1."""
    cells = []
    for col, (values, xf) in enumerate(zip(rows.columns, rows.styles)):
        cells.append(_column_cells(xl_col_to_name(col), values, start, stop, "" if xf is None else f' s="{xf}"'))
    for r in range(start, stop):
        for col, xf in rows.own.get(r, ()):
            ref, value = f"{xl_col_to_name(col)}{r + 2}", rows.columns[col][r]
            # A cell with its own format is written even without a value, as xlsxwriter does.
            cells[col][r - start] = (_cell(ref, f' s="{xf}"', value) if value is not None and value != ""
                                     else f'<c r="{ref}" s="{xf}"/>')
    return "".join([f'<row r="{r}">{"".join(row)}</row>'
                    for r, row in zip(range(start + 2, stop + 2), zip(*cells))])


def _column_cells(letter: str, values: list, start: int, stop: int, s: str) -> list[str]:
    part = values[start:stop]
    kinds = set(map(type, part))
    refs = range(start + 2, stop + 2)
    if kinds <= {str, type(None)} and _plain([v for v in part if v]):
        return [f'<c r="{letter}{r}"{s} t="inlineStr"><is><t>{v}</t></is></c>' if v else ""
                for r, v in zip(refs, part)]
    if kinds <= {int, type(None)}:
        present = [v for v in part if v is not None]
        if not present or (-_PLAIN_WHOLE <= min(present) and max(present) <= _PLAIN_WHOLE):
            return [f'<c r="{letter}{r}"{s}><v>{v}</v></c>' if v is not None else "" for r, v in zip(refs, part)]
    if kinds <= {int, float, type(None)} and all(v is None or math.isfinite(v) for v in part):
        return [f'<c r="{letter}{r}"{s}><v>{v:.16G}</v></c>' if v is not None else "" for r, v in zip(refs, part)]
    return [_cell(f"{letter}{r}", s, v) for r, v in zip(refs, part)]


def _plain(texts: list[str]) -> bool:
    """Texts that need neither escapes nor xml:space="preserve" (no space at either end, as
    ``_preserve`` sees it): one search of them all joined, and strip() over them in C (a regex for
    the ends tried every character, and took twice as long as the rest). The characters are looked
    for apart from the escape-like "_x0041_": a search for either tried both at every character, three
    times as long as one for the characters and a substring test for "_x"."""
    joined = "\n".join(texts)
    return (not _SPECIAL_CHAR.search(joined) and not ("_x" in joined and _SPECIAL.search(joined))
            and not any(map(str.__ne__, map(str.strip, texts), texts)))


def _cell(ref: str, s: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        if not value:
            return ""
        text = _escaped(value)
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{_preserve(text)}>{text}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (datetime, date)):
        return f'<c r="{ref}"{s}><v>{_serial(value):.16G}</v></c>'
    if isinstance(value, numbers.Real):
        number = float(value) if not isinstance(value, int) else value
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"cell {ref}: {value} is not a number a workbook can hold")
        return f'<c r="{ref}"{s}><v>{number:.16G}</v></c>'
    raise TypeError(f"cell {ref}: a {type(value).__name__} is not a cell value")


def _escaped(text: str) -> str:
    if not _SPECIAL.search(text):
        return text
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _preserve(text: str) -> str:
    return ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""


def _serial(value: date) -> float:
    """Excel's serial number of a naive moment or a day (1900 system, with its 29 February 1900)."""
    moment = value if isinstance(value, datetime) else datetime.fromordinal(value.toordinal())
    if moment.tzinfo is not None:
        raise ValueError(f"{value}: a moment in a workbook is wall-clock time, without its zone")
    delta = moment - _EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    # Day 60 is the 29 February 1900 Excel counts: from 1 March on, one more; 28 February at noon is 59.5.
    return serial + 1 if delta.days >= 60 else serial


def _split_after_header(xml: bytes, name: str) -> tuple[bytes, bytes]:
    start = xml.find(b"<sheetData>")
    end = xml.find(b"</row>", start)
    if start < 0 or end < 0 or not xml.startswith(b'<row r="1"', start + len(b"<sheetData>")):
        raise ValueError(f"{name}: no header row to put the data rows after")
    end += len(b"</row>")
    return xml[:end], xml[end:]


def _widened_dimension(head: bytes, rows: SheetRows) -> bytes:
    """The sheet's <dimension> (readers size the sheet from it) taking in the spliced rows: from A1,
    the header row spanning every column, down to the last row xlsxwriter or the splice wrote."""
    def widened(match: re.Match) -> bytes:
        last = max(int(match.group(1) or 1), rows.count + 1)
        return b'<dimension ref="A1:%s%d"/>' % (xl_col_to_name(len(rows.columns) - 1).encode(), last)
    return _DIMENSION.sub(widened, head, count=1)
