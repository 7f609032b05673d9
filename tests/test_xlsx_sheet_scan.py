"""The pass over a worksheet's XML before it is parsed (io/xlsx_sheet_scan.py) bounds the grid by the
references out of the ordinary: three-letter columns, two-letter ones, row numbers of many digits."""
from __future__ import annotations

import itertools
import re

import pytest

from batchship.io.xlsx_sheet_scan import column_number, scan_worksheet

HEAD = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def _bound(body: bytes, row_threshold: int) -> tuple[int, int, bool]:
    """The bound as each kind of reference gives it, looked for one kind at a time."""
    digits = len(str(row_threshold))
    big = [int(n) for n in re.findall(rb' r="[A-Z]{0,3}([1-9]\d{%d,})"' % (digits - 1), body)]
    three = re.findall(rb' r="([A-Z]{3})\d', body)
    two = re.search(rb' r="[A-Z]{2}\d', body)
    max_col = column_number(max(three)) if three else (702 if two else 26)
    return (max(big) if big else 10 ** (digits - 1) - 1), max_col, bool(big)


def _sheet(refs: list[str]) -> bytes:
    rows = "".join(f'<row r="{i + 1}"><c r="{ref}"><v>1</v></c><c r="A{i + 1}" t="inlineStr"><is><t>r="ZZZ9"'
                   f' 1234567"</t></is></c></row>' for i, ref in enumerate(refs))
    return HEAD + rows.encode() + TAIL


REFS = ["A1", "Z9", "AA2", "ZZ100", "AAA3", "XFD7", "ABCD12", "B99999", "B100000", "AB123456", "XFD1048576",
        "123456", "A0123456", "AB0123456", "AB1x", "AB1234567x", "AAA", "Q1000000", "C7"]


@pytest.mark.parametrize("threshold", [100_000, 1_000, 10])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_the_bound_is_what_each_kind_of_reference_gives(threshold, size):
    """Every combination of a few references, in chunks cut anywhere: the same bound as three searches,
    one for each kind, give (values and text that look like references do not count)."""
    for refs in itertools.combinations(REFS, size):
        xml = _sheet(list(refs))
        for cut in (7, 64, len(xml)):
            chunks = [xml[i:i + cut] for i in range(0, len(xml), cut)]
            scan = scan_worksheet(lambda: iter(chunks), threshold)
            assert (scan.max_row, scan.max_col, scan.row_is_exact) == _bound(xml, threshold), (refs, cut)


def test_a_sheet_of_ordinary_rows_is_bounded_by_its_columns_and_last_row():
    xml = _sheet([f"{col}{row}" for row in range(99_990, 100_010) for col in ("A", "P", "AB")])
    scan = scan_worksheet(lambda: iter([xml]), 100_000)
    assert (scan.max_row, scan.max_col, scan.row_is_exact) == (100_009, 702, True)
