"""Read any inbox file (xlsx, csv, tsv, txt) into raw sheets of text cells.

CONTRACT (other modules rely on it):

    read_sheets(path: Path, limits: Limits) -> list[RawSheet]

raises ``FileRejected`` with plain-language ``Problem``s for anything unreadable.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawSheet:
    name: str                       # sheet name; "" for text files
    rows: list[list[str]]           # every cell as text; rows may be ragged
    first_row_number: int = 1       # row number (as Excel shows it) of rows[0]
    encoding: str = ""              # detected text encoding (text files)
    delimiter: str = ""             # detected delimiter (text files)
    notes: list[str] = field(default_factory=list)
