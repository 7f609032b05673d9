"""Read any inbox file (xlsx, csv, tsv, txt) into raw sheets of text cells.

CONTRACT (other modules rely on it):

    read_sheets(path: Path, limits: Limits) -> list[RawSheet]

raises ``FileRejected`` with plain-language ``Problem``s for anything unreadable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import Limits
from ..errors import FileRejected, Problem
from .cell_text import EXCEL_ERRORS
from .sizes import human_size
from .sniff import HEAD_BYTES, sniff
from .text_decode import NotText, decode_text
from .text_table import DELIMITER_NAMES, BrokenTable, TableTooLong, detect_delimiter, split_rows
from .workbook_reader import read_workbook
from .xlsx_guard import verify_xml_safety

__all__ = ["RawSheet", "read_sheets", "EXCEL_ERRORS", "verify_xml_safety", "READABLE_SUFFIXES"]


@dataclass
class RawSheet:
    name: str                       # sheet name; "" for text files
    rows: list[list[str]]           # every cell as text; rows may be ragged
    first_row_number: int = 1       # row number (as Excel shows it) of rows[0]
    encoding: str = ""              # detected text encoding (text files)
    delimiter: str = ""             # detected delimiter (text files)
    notes: list[str] = field(default_factory=list)
    visible: bool = True            # False for sheets hidden in the workbook
    # Merged ranges of a workbook sheet as 0-based (first_row, first_col, last_row,
    # last_col), ends inclusive, rows counted from rows[0]; only the top-left cell
    # holds the value. The reader reports them; the importer decides what they mean.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
READABLE_SUFFIXES = WORKBOOK_SUFFIXES + TEXT_SUFFIXES


def _reject(path: Path, message: str, row: int | None = None) -> FileRejected:
    return FileRejected(path.name, [Problem(message, row=row)])


def read_sheets(path: Path, limits: Limits, encoding: str = "") -> list[RawSheet]:
    """``encoding`` forces how a text table is read (see ``text_decode.other_readings``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        shown = suffix or "no extension"
        raise _reject(path, f"files with {shown} are not read: save it as .xlsx, .xlsm, .xls, .csv, .tsv or .txt")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise _reject(path, f"the file could not be opened ({exc.strerror or exc})")
    if size == 0:
        raise _reject(path, "the file is empty")
    if size > limits.max_file_bytes:
        raise _reject(path, f"the file is {human_size(size)}; the limit is {human_size(limits.max_file_bytes)} "
                            f"(limits.max_file_bytes)")
    found = sniff(head)
    if found.kind == "other":
        raise _reject(path, f"this is not a spreadsheet or text table (looks like {found.description})")
    if found.kind in ("zip", "ole2"):
        notes = [f"the file is an Excel workbook although its name ends in {suffix}"] \
            if suffix in TEXT_SUFFIXES else []
        return [RawSheet(name=g.name, rows=g.rows, first_row_number=1, visible=g.visible, notes=list(notes),
                         merged=list(g.merged))
                for g in read_workbook(path, limits, found.kind)]
    return [_read_text_table(path, limits, suffix, encoding)]


def _read_text_table(path: Path, limits: Limits, suffix: str, forced: str = "") -> RawSheet:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _reject(path, f"the file could not be read ({exc.strerror or exc})")
    try:
        text, encoding = (data.decode(forced), forced) if forced else decode_text(data)
    except NotText as exc:
        if str(exc) == "binary data":
            raise _reject(path, "this is not a spreadsheet or text table (looks like binary data)")
        raise _reject(path, str(exc))
    if not text.strip():
        raise _reject(path, "the file has no text in it")
    delimiter = detect_delimiter(text, preferred="\t" if suffix in (".tsv", ".txt") else ",")
    try:
        rows = split_rows(text, delimiter, limits.max_rows)
    except TableTooLong as exc:
        raise _reject(path, f"the file has {exc.count:,} rows; the limit is {limits.max_rows:,} "
                            f"(limits.max_rows): split the file")
    except BrokenTable as exc:
        raise _reject(path, str(exc), row=exc.row)
    notes = []
    if suffix in WORKBOOK_SUFFIXES:
        notes.append(f"the file is a {DELIMITER_NAMES[delimiter]}-separated text table although its "
                     f"name ends in {suffix}")
    return RawSheet(name="", rows=rows, first_row_number=1, encoding=encoding,
                    delimiter=delimiter, notes=notes)
