"""File sizes in the words a person uses."""
from __future__ import annotations


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:,.1f} KB"
    if n < 1024 ** 3:
        return f"{n / 1024 ** 2:,.1f} MB"
    return f"{n / 1024 ** 3:,.1f} GB"
