"""Recognise an inbox file by its header row and map it to a canonical frame.

CONTRACT (the pipeline relies on it):

    load_file(path: Path, *, shop_hint: str, config: Config) -> Imported

``shop_hint`` is the inbox subfolder name ("" at the top level). Raises
``FileRejected`` listing every problem (sheet, Excel row, column, value).

Formats are data: ``templates/formats/*.toml`` (see ``templates.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import FileRejected, Problem
from ..io.tabular import RawSheet, read_sheets
from ..io.text_decode import other_readings
from ..schemas import KINDS, Line, Source
from .identify import UNRECOGNISED, identify
from .mapping import REPAIRED, MappedSheet, map_sheet
from .normalize import is_excel_error
from .orders import build_lines, needs_file_shop, number_lines
from .sheet_keys import keys_on_two_sheets
from .shops import resolve_shop
from .simple_kinds import build_records
from .templates import Template, blank_headers, load_templates
from .text_limits import too_long
from .values import schema_problems

__all__ = ["Imported", "load_file", "import_sheets", "blank_headers", "load_templates"]


@dataclass
class Imported:
    kind: str                 # key of schemas.KINDS
    platform: str             # template name that claimed the file
    frame: pd.DataFrame       # canonical frame with exactly schemas.<Kind>.columns, validated
    notes: list[str] = field(default_factory=list)   # told to the user in the run summary
    # (shop, order_id) -> a note for the order itself (e.g. its text was repaired)
    order_notes: dict[tuple[str, str], str] = field(default_factory=dict)


def load_file(path: Path, *, shop_hint: str, config: Config, templates_dir: Path | None = None,
              workspace: Path | None = None) -> Imported:
    """Read, identify, map and validate one inbox file (all or nothing). ``workspace``:
    its own column maps (``<workspace>/templates/formats``) are read too."""
    path = Path(path)
    templates = load_templates(templates_dir, workspace)
    sheets = read_sheets(path, config.limits)
    try:
        return import_sheets(sheets, path.name, shop_hint=shop_hint, config=config, templates=templates,
                             workspace=workspace)
    except FileRejected as exc:
        if exc.code != UNRECOGNISED or not sheets[0].encoding:
            raise
        # A guessed text encoding whose header no template knows: the header decides between readings.
        for encoding in other_readings(path.read_bytes(), sheets[0].encoding):
            try:
                imported = import_sheets(read_sheets(path, config.limits, encoding), path.name,
                                         shop_hint=shop_hint, config=config, templates=templates,
                                         workspace=workspace)
            except FileRejected:
                continue
            imported.notes.append(f"{path.name}: read as {encoding} text (its header is not {sheets[0].encoding})")
            return imported
        raise


def import_sheets(sheets: list[RawSheet], file_name: str, *, shop_hint: str, config: Config,
                  templates: tuple[Template, ...] | None = None, workspace: Path | None = None) -> Imported:
    """``load_file`` on sheets already read: every problem is collected, then one
    FileRejected is raised, so a person sees everything to fix at once."""
    templates = templates if templates is not None else load_templates(workspace=workspace)
    matches = identify(sheets, templates, file_name, formats_dir=_formats_hint(workspace))
    template = matches[0].template
    kind = template.kind
    problems: list[Problem] = []
    notes: list[str] = [n for s in sheets for n in s.notes]
    mapped_sheets = [map_sheet(match) for match in matches]
    for mapped in mapped_sheets:
        problems += mapped.problems
        notes += _skip_notes(mapped, file_name, len(mapped_sheets) > 1) + _repair_notes(mapped, file_name)
    order_notes: dict[tuple[str, str], str] = {}

    # The shop is settled before values are read: its currency, country and
    # time zone fill what the export leaves out.
    shop = None
    if kind == "orders" and any(needs_file_shop(m) for m in mapped_sheets):
        shop, shop_problems, shop_notes = resolve_shop(template, shop_hint, config)
        problems += shop_problems
        notes += shop_notes
    frames = []
    for mapped in mapped_sheets:
        if kind == "orders":
            frame, found, told = build_lines(mapped, file_shop=shop or "", shops=config.shops)
        else:
            frame, found, told = build_records(mapped)
        problems += found + too_long(mapped, frame)
        notes += told
        if kind == "orders" and REPAIRED in frame:
            hit = frame[frame[REPAIRED].astype(bool)]
            for key in dict.fromkeys(zip(hit[Line.shop], hit[Line.order_id])):
                order_notes[key] = "garbled text (decoded twice) repaired on import: check the address"
        frame[Source.file] = file_name
        frames.append((mapped, frame))
    # Sheets are combined, but a record on two of them (a copied sheet) would count twice.
    problems += keys_on_two_sheets(kind, frames)

    columns = KINDS[kind].columns
    finished = []
    for mapped, frame in frames:
        if kind == "orders":
            frame[Line.line_no] = number_lines(frame)
        frame = frame[columns].reset_index(drop=True)
        if not problems:
            problems += schema_problems(mapped, frame, kind)
        finished.append(frame)
    if problems:
        raise FileRejected(file_name, _one_per_error_cell(problems))
    result = pd.concat(finished, ignore_index=True) if len(finished) > 1 else finished[0]
    if kind == "orders" and len(finished) > 1:
        result[Line.line_no] = number_lines(result)
    if result.empty:
        notes.append(f"{file_name}: no data rows under the header")
    return Imported(kind=kind, platform=template.name, frame=result, notes=_unique(notes), order_notes=order_notes)


def _formats_hint(workspace: Path | None) -> str:
    from .templates import workspace_formats_dir
    return str(workspace_formats_dir(workspace)) if workspace is not None else "<workspace>/templates/formats"


def _rows_text(numbers: list[int]) -> str:
    """2, 3, 4, 7 -> "2-4, 7" (at most 20 ranges shown)."""
    ranges: list[list[int]] = []
    for n in numbers:
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges]
    more = f" and {len(parts) - 20} more" if len(parts) > 20 else ""
    return ", ".join(parts[:20]) + more


def _skip_notes(mapped: MappedSheet, file_name: str, name_sheet: bool) -> list[str]:
    where = f"{file_name}" + (f" sheet '{mapped.sheet_name}'" if name_sheet and mapped.sheet_name else "")
    return [f"{where}: {'row' if len(rows) == 1 else 'rows'} {_rows_text(rows)} skipped, not order lines ({why})"
            for why, rows in mapped.skipped]


def _repair_notes(mapped: MappedSheet, file_name: str) -> list[str]:
    if not mapped.repaired:
        return []
    examples = ", ".join(f"'{a}' -> '{b}'" for a, b in mapped.repaired[:3])
    return [f"{file_name}: {mapped.repaired_cells} value(s) with garbled text (UTF-8 decoded twice) repaired, "
            f"e.g. {examples}"]


def _one_per_error_cell(problems: list[Problem]) -> list[Problem]:
    """An Excel error cell (#N/A ...) is reported once, not again as the blank it reads as."""
    error_cells = {(p.sheet, p.row, p.column) for p in problems if is_excel_error(p.value)}
    return [p for p in problems if is_excel_error(p.value) or (p.sheet, p.row, p.column) not in error_cells]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
