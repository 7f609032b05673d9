"""Make outside text inert in spreadsheets and CSV files.

Excel, LibreOffice and marketplace CSV importers evaluate a cell whose text
starts with one of these characters; a leading apostrophe makes it text in
all of them (the apostrophe itself is not shown by spreadsheet programs).
"""
from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(text: str) -> str:
    """Text for a CSV/TSV text column: formula-looking values get a leading apostrophe."""
    if text and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
