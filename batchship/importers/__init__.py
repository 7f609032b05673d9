"""Recognise an inbox file by its header row and map it to a canonical frame.

CONTRACT (the pipeline relies on it):

    load_file(path: Path, *, shop_hint: str, config: Config) -> Imported

``shop_hint`` is the inbox subfolder name ("" at the top level). Raises
``FileRejected`` listing every problem (sheet, Excel row, column, value).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Imported:
    kind: str                 # key of schemas.KINDS
    platform: str             # template name that claimed the file
    frame: pd.DataFrame       # canonical frame with exactly schemas.<Kind>.columns, validated
    notes: list[str] = field(default_factory=list)   # told to the user in the run summary
