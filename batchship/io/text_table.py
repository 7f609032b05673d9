"""Split decoded text into rows of cells (csv module; quoted newlines, CRLF inside
quotes and "" empties are handled by it)."""
from __future__ import annotations

import csv
import io
from collections import Counter

DELIMITERS = ("\t", ",", ";", "|")
SNIFF_CHARS = 64 * 1024
SNIFF_RECORDS = 50
DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}


class TableTooLong(ValueError):
    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


class BrokenTable(ValueError):
    def __init__(self, message: str, row: int):
        super().__init__(message)
        self.row = row


def detect_delimiter(text: str, preferred: str = ",") -> str:
    """The delimiter that splits the first non-blank records into the most equally wide rows."""
    sample = text[:SNIFF_CHARS]
    cut = len(sample) < len(text)
    if cut:
        sample = sample[: max(sample.rfind("\n"), 0)]
    order = (preferred,) + tuple(d for d in DELIMITERS if d != preferred)
    best, best_score = preferred, (0, 0)
    for delimiter in order:
        records = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                   if any(cell.strip() for cell in r)]
        if cut and records:
            records.pop()          # may be a record cut in half
        widths = Counter(len(r) for r in records[:SNIFF_RECORDS] if len(r) > 1)
        if not widths:
            continue
        width, agreeing = widths.most_common(1)[0]
        score = (agreeing, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def split_rows(text: str, delimiter: str, max_rows: int) -> list[list[str]]:
    """Every record as a row, blank and title lines included. Raises TableTooLong, BrokenTable."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, strict=False)
    rows: list[list[str]] = []
    count = 0
    try:
        for record in reader:
            count += 1
            if count <= max_rows:
                if record and record[-1].endswith("\r"):
                    record[-1] = record[-1][:-1]
                rows.append(record)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise BrokenTable(f"a cell is longer than {csv.field_size_limit():,} characters: probably a "
                              f"quote (\") that is opened and never closed", count + 1)
        raise BrokenTable(f"the text table cannot be split into cells ({exc})", count + 1)
    if count > max_rows:
        raise TableTooLong(count)
    return rows
