"""Find the header row of each sheet and the one template that claims it.

A template claims a header row when every required column and every signature
column is present. Among claimants the one with the most required+signature
columns wins; a tie is an ambiguity, reported rather than guessed. When nobody
claims the file, the closest template is named with what it misses.

Once the header row is known, merged cells are settled (see merges.py): a merge
on the header row is rejected, merges below it are filled as Excel shows them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FileRejected, Problem
from ..io.tabular import RawSheet
from .merges import OverlappingMerges, filled_below_header, header_merge_problems
from .normalize import header_key
from .templates import Template

HEADER_SCAN_ROWS = 30
_SUFFIX = re.compile(r"^\s*\(.*\)$")


@dataclass(frozen=True)
class HeaderRow:
    """The normalised header cells of one row: key -> first column index."""
    cells: tuple[str, ...]
    positions: dict[str, int]

    @classmethod
    def of(cls, cells: list[str]) -> "HeaderRow":
        positions: dict[str, int] = {}
        for i, cell in enumerate(cells):
            key = header_key(cell)
            if key and key not in positions:
                positions[key] = i
        return cls(tuple(cells), positions)

    def find(self, alias: str, suffix_match: bool = False) -> int | None:
        """Column index of ``alias``; with ``suffix_match`` also "alias(PHP)"."""
        key = header_key(alias)
        if key in self.positions:
            return self.positions[key]
        if suffix_match:
            for cell_key, index in self.positions.items():
                if cell_key.startswith(key) and _SUFFIX.match(cell_key[len(key):]):
                    return index
        return None

    def find_any(self, aliases: tuple[str, ...], suffix_match: bool = False) -> int | None:
        for alias in aliases:
            index = self.find(alias, suffix_match)
            if index is not None:
                return index
        return None


@dataclass(frozen=True)
class Fit:
    """How well one template fits one header row."""
    template: Template
    score: int                 # required + signature columns present
    missing: tuple[str, ...]   # required/signature columns absent (first alias of each)
    extra: tuple[str, ...] = ()  # headers an exclusive template does not know

    @property
    def claims(self) -> bool:
        return not self.missing and not self.extra


def fit(template: Template, row: HeaderRow) -> Fit:
    score, missing = 0, []
    for spec in template.required_columns():
        if spec.headers and row.find_any(spec.headers, template.suffix_match) is not None:
            score += 1
        elif spec.join and all(row.find(a, template.suffix_match) is not None for a in spec.join):
            score += 1
        else:
            missing.append(spec.aliases()[0])
    for alternatives in template.signature:
        if row.find_any(alternatives, template.suffix_match) is not None:
            score += 1
        else:
            missing.append(alternatives[0])
    extra: tuple[str, ...] = ()
    if template.exclusive:
        known = {header_key(a) for a in _all_aliases(template)}
        extra = tuple(c for c in row.cells if header_key(c) and header_key(c) not in known)
    return Fit(template, score, tuple(missing), extra)


def _all_aliases(template: Template) -> list[str]:
    names = list(template.extra_headers)
    for spec in template.columns.values():
        names += list(spec.aliases()) + list(spec.fallback)
    for rule in template.status:
        names += list(rule.headers)
    names += list(template.group_key) + list(template.summary_when_blank)
    return names


@dataclass(frozen=True)
class SheetMatch:
    """A sheet, the index (in ``sheet.rows``) of its header row and its template."""
    sheet: RawSheet
    header_index: int
    header: HeaderRow
    template: Template


def _claim(sheet: RawSheet, templates: tuple[Template, ...], file_name: str
           ) -> tuple[SheetMatch | None, list[tuple[Fit, RawSheet, int]]]:
    """The claimed header row of one sheet (None if none) and every fit seen."""
    seen: list[tuple[Fit, RawSheet, int]] = []
    for index, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        row = HeaderRow.of(cells)
        if not row.positions:
            continue
        fits = [fit(t, row) for t in templates]
        seen += [(f, sheet, index) for f in fits]
        claims = [f for f in fits if f.claims]
        if not claims:
            continue
        best = max(f.score for f in claims)
        winners = [f for f in claims if f.score == best]
        if len(winners) > 1:
            names = ", ".join(f"'{f.template.name}'" for f in winners)
            raise FileRejected(file_name, [Problem(
                f"the header row fits several formats equally well ({names}): "
                f"rename or remove columns so that only one fits",
                sheet=sheet.name, row=sheet.first_row_number + index)])
        return SheetMatch(sheet, index, row, winners[0].template), seen
    return None, seen


UNRECOGNISED = "unrecognised"   # FileRejected code: no template claims any header row


def identify(sheets: list[RawSheet], templates: tuple[Template, ...], file_name: str,
             formats_dir: str = "<workspace>/templates/formats") -> list[SheetMatch]:
    """The claimed sheets of a file, all of one template; FileRejected otherwise. Every
    visible claimed sheet is read, for every kind; sheet_keys.py rejects a record on two of them."""
    matches: list[SheetMatch] = []
    seen: list[tuple[Fit, RawSheet, int]] = []
    # Hidden sheets hold lookups and leftovers; they count only when nothing else is there.
    visible = [s for s in sheets if getattr(s, "visible", True)] or sheets
    for sheet in visible:
        match, fits = _claim(sheet, templates, file_name)
        seen += fits
        if match:
            matches.append(match)
    if not matches:
        raise FileRejected(file_name, _unrecognised(seen, visible, formats_dir), code=UNRECOGNISED)
    names = {m.template.name for m in matches}
    if len(names) > 1:
        parts = ", ".join(f"sheet '{m.sheet.name}' is {m.template.name}" for m in matches)
        raise FileRejected(file_name, [Problem(
            f"the sheets hold different kinds of data ({parts}): put each in its own file")])
    return _with_merges_filled(matches, file_name)


def _with_merges_filled(matches: list[SheetMatch], file_name: str) -> list[SheetMatch]:
    """Each match with merged cells below its header filled as Excel shows them;
    FileRejected when a merge covers a header row."""
    problems = [p for m in matches for p in header_merge_problems(m.sheet, m.header_index)]
    if problems:
        raise FileRejected(file_name, problems)
    filled = []
    for m in matches:
        try:
            sheet = filled_below_header(m.sheet, m.header_index)
        except OverlappingMerges:
            raise FileRejected(file_name, [Problem(
                "the sheet's merged cells overlap, which Excel never saves: the workbook is damaged; "
                "open it in Excel and save it again", sheet=m.sheet.name)])
        filled.append(SheetMatch(sheet, m.header_index, m.header, m.template))
    return filled


def _unrecognised(seen: list[tuple[Fit, RawSheet, int]], sheets: list[RawSheet],
                  formats_dir: str) -> list[Problem]:
    if not seen:
        return [Problem("the file is empty: no header row found")]
    fit_, sheet, index = max(seen, key=lambda s: (s[0].score, -len(s[0].missing) - len(s[0].extra)))
    if fit_.score == 0:
        return [_how_to_add(sheets, formats_dir)]
    # A merge across the header hides the headers it covers: that, not the gap it leaves, is what to fix.
    merged = header_merge_problems(sheet, index)
    if merged:
        return merged
    row = sheet.first_row_number + index
    closest = f"closest format: {fit_.template.title} ({fit_.template.name})"
    known = {header_key(a) for a in _all_aliases(fit_.template)}
    unknown = [c for c in sheet.rows[index] if header_key(c) and header_key(c) not in known]
    # Staff fix a header faster when they see what is accepted and which of theirs was not understood.
    hint = f"; headers not understood: {', '.join(unknown)}" if unknown else ""
    problems = [Problem(f"missing required column '{name}' (accepted headers: "
                        f"{', '.join(_accepted(fit_.template, name))}; {closest}{hint})",
                        sheet=sheet.name, row=row, column=name)
                for name in fit_.missing]
    problems += [Problem(f"column '{name}' is not expected in this format ({closest})",
                         sheet=sheet.name, row=row, column=name) for name in fit_.extra]
    return problems


def _how_to_add(sheets: list[RawSheet], formats_dir: str) -> Problem:
    """No template knows any header: the file's headers (its first row of two or more
    cells), and where a column map that reads them goes."""
    how = (f"to read this format, add a column map (a .toml file like the bundled ones that "
           f"`batchship formats` lists) in {formats_dir}/")
    for sheet in sheets:
        for index, cells in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
            headers = [c.strip() for c in cells if c and c.strip()]
            if len(headers) >= 2:
                shown = ", ".join(headers[:60]) + (f" and {len(headers) - 60} more" if len(headers) > 60 else "")
                return Problem(f"no header row of a known format found in the first {HEADER_SCAN_ROWS} rows; "
                               f"the headers here are: {shown}; {how}",
                               sheet=sheet.name, row=sheet.first_row_number + index)
    return Problem(f"no header row of a known format found in the first {HEADER_SCAN_ROWS} rows; {how}")


def _accepted(template: Template, first_alias: str) -> list[str]:
    """Every header that fills the missing column whose first alias is ``first_alias``."""
    for spec in template.columns.values():
        if spec.aliases() and spec.aliases()[0] == first_alias:
            return list({header_key(a): a for a in reversed(spec.aliases())}.values())[::-1]
    for alternatives in template.signature:
        if alternatives[0] == first_alias:
            return list(alternatives)
    return [first_alias]
