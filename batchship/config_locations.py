"""Where a setting is written in batchship.toml (line and column), and how staff call its table.

tomllib gives values without positions, so the file's table headers and keys are found here by their
lines: enough for the tables and inline tables batchship.toml uses, and a mistake that cannot be
placed is still reported, only without its line.
"""
from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_\-]+)\s*=")


def positions(text: str) -> dict[tuple, tuple[int, int]]:
    """Path (as pydantic locates values: ("channels", 0, "label_size")) -> (line, column), from 1."""
    found: dict[tuple, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    table: tuple = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (name, counts[name])
            else:
                table = (name,)
            found.setdefault(table, (number, line.index("[") + 1))
            continue
        key = _KEY.match(line)
        if not key:
            continue
        path = table + (key.group(2),)
        found.setdefault(path, (number, len(key.group(1)) + 1))
        rest = line[key.end():]
        if rest.lstrip().startswith("{"):
            offset = key.end() + rest.index("{")
            for inner in _INLINE_KEY.finditer(line[offset:]):
                found.setdefault(path + (inner.group(1),), (number, offset + inner.start() + 1))
    return found


def locate(text: str, loc: tuple) -> tuple[int, int] | None:
    """The position of ``loc``, or of the nearest table holding it (a missing key is placed at its table)."""
    where = positions(text)
    for end in range(len(loc), 0, -1):
        if loc[:end] in where:
            return where[loc[:end]]
    return None


def describe(loc: tuple, data: dict) -> str:
    """The table holding ``loc`` as staff know it: "channel 'YW'", "[[shops]] entry 2", "[watch]"; with
    the inner keys below it joined by dots."""
    head, rest = "", list(loc[:-1])
    if rest and isinstance(rest[0], str):
        section = rest.pop(0)
        if rest and isinstance(rest[0], int):
            index = rest.pop(0)
            head = _entry(section, index, data)
        else:
            head = f"[{section}]"
    inner = ".".join(str(p) for p in rest)
    return ": ".join(p for p in (head, inner) if p)


def _entry(section: str, index: int, data: dict) -> str:
    entries = data.get(section)
    item = entries[index] if isinstance(entries, list) and index < len(entries) else None
    name = item.get("name") if isinstance(item, dict) else None
    if section == "logistics":
        return f"logistics rule {index + 1}"
    if section == "review_rules":
        return f"review rule {index + 1}"
    if isinstance(name, str) and section in ("shops", "channels"):
        return f"{section[:-1]} {name!r}"
    return f"[[{section}]] entry {index + 1}"
