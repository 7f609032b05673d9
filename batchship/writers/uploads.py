"""Tracking-upload files (virtual shipping, 虚拟发货) in each marketplace's own format.

CONTRACT:

    write_uploads(shipments, config, out_dir, *, ship_date) -> (list[Path], {(shop, order_id): why})

``shipments``: one row per order line that has a tracking number (Line columns
plus "tracking_number" and "channel"). Writes one file per shop and platform,
``upload-<shop>-<platform>.<ext>``, ready to upload to the marketplace as it is.
An order holding text the marketplace's file encoding cannot carry, or shipped with a
channel that names no carrier for the platform (upload_carriers.carrier_problem), is
left out of its file and returned with the reason, so one order cannot stop the
others' upload.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from ..config import Config
from ..errors import BatchshipError
from ..schemas import Line
from .upload_files import inside, safe_name_part, write_delimited
from .upload_format import UPLOAD_TEMPLATES, UploadFormat, choose_format, load_upload_formats, platform_key
from .upload_carriers import carrier_problem
from .upload_rows import CHANNEL, TRACKING, FieldValues, add_carriers, collapse_lines, rows_maker
from .upload_walmart import source_rows
from ..frame_records import column_rows, records

REQUIRED = [Line.shop, Line.platform, Line.order_id, Line.item_id, Line.platform_sku, Line.sku,
            Line.quantity, TRACKING, CHANNEL]


def upload_table(lines: pd.DataFrame, fmt: UploadFormat, platform: str, config: Config,
                 ship_date: str) -> tuple[list[str], list]:
    """(header, rows) of one shop's upload: each row a list or tuple of its cells."""
    lines = collapse_lines(add_carriers(lines, platform, config), fmt.rows)
    if fmt.rows == "source_rows":
        return source_rows(lines, fmt, config, ship_date)
    values, rows = FieldValues(fmt, config, ship_date), rows_maker(fmt.header, fmt.columns, fmt.constants,
                                                                     fmt.formula_guard)
    read = [c for c in FieldValues.READS if c in lines.columns]
    return list(fmt.header), rows([values(line) for line in records(lines[read])])


def write_uploads(shipments: pd.DataFrame, config: Config, out_dir: Path, *, ship_date: str,
                  templates_dir: Path = UPLOAD_TEMPLATES) -> tuple[list[Path], dict[tuple[str, str], str]]:
    try:
        date.fromisoformat(ship_date)
    except ValueError:
        raise BatchshipError(f"ship date {ship_date!r} is not a date like 2026-05-31", code="ship_date")
    missing = [c for c in REQUIRED if c not in shipments.columns]
    if missing:
        raise ValueError(f"shipments frame lacks columns: {', '.join(missing)}")
    frame = shipments.copy()
    if Line.raw not in frame.columns:
        frame[Line.raw] = ""
    frame = frame[frame[TRACKING].astype(str).str.strip() != ""]
    if frame.empty:
        return [], {}

    formats = load_upload_formats(templates_dir)
    known = {p for fmt in formats for p in fmt.platforms}
    frame["_upload_platform"] = [platform_key(str(p), known) for p in frame[Line.platform]]

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    left_out: dict[tuple[str, str], str] = {}
    for (shop, platform), lines in frame.groupby([Line.shop, "_upload_platform"], sort=True):
        shop_cfg = config.shops.get(str(shop))
        fmt = choose_format(formats, str(platform), shop_cfg.marketplace if shop_cfg else "")
        lines = lines.drop(columns="_upload_platform")
        name = f"upload-{safe_name_part(str(shop))}-{safe_name_part(str(platform), 'platform')}.{fmt.extension}"
        no_carrier = _orders_without_carrier(lines, fmt, str(platform), config, name)
        if no_carrier:
            left_out.update(no_carrier)
            lines = lines[~_keys(lines).isin(no_carrier)]
            if lines.empty:
                continue

        def table(some: pd.DataFrame) -> list[list[str]]:
            header, rows = upload_table(some, fmt, str(platform), config, ship_date)
            return [list(r) for r in fmt.preamble] + [header] + rows
        all_rows = table(lines)
        if _unencodable(all_rows, fmt.encoding) is not None:
            refused = _orders_not_encodable(lines, table, fmt.encoding, name)
            left_out.update(refused)
            lines = lines[~_keys(lines).isin(refused)]
            if lines.empty:
                continue
            all_rows = table(lines)
        path = inside(out_dir, name)
        write_delimited(path, all_rows, delimiter=fmt.delimiter, encoding=fmt.encoding, newline=fmt.newline)
        written.append(path)
    return written, left_out


def _keys(lines: pd.DataFrame) -> pd.Series:
    return pd.Series(list(zip(lines[Line.shop].astype(str), lines[Line.order_id].astype(str))), index=lines.index)


def _orders_without_carrier(lines: pd.DataFrame, fmt: UploadFormat, platform: str, config: Config,
                            file_name: str) -> dict[tuple[str, str], str]:
    """Each order shipped with a channel that cannot be named in this upload, with the reason."""
    refused: dict[tuple[str, str], str] = {}
    checked: dict[tuple[str, str], str] = {}
    for shop, order_id, channel, line_platform in column_rows(lines, [Line.shop, Line.order_id, CHANNEL,
                                                                       Line.platform]):
        key = (str(channel), str(line_platform))
        if key not in checked:
            checked[key] = carrier_problem(key[0], config.channels.get(key[0]), platform, fmt, key[1])
        if checked[key]:
            refused.setdefault((str(shop), str(order_id)), (
                f"left out of {file_name}: {checked[key]}; upload this order's tracking number by hand"))
    return refused


def _unencodable(rows: list[list[str]], encoding: str) -> str | None:
    """The first text in ``rows`` that ``encoding`` cannot hold, or None (one encode call when all is well)."""
    try:
        "\x1f".join("\x1f".join(map(str, row)) for row in rows).encode(encoding)
        return None
    except UnicodeEncodeError as exc:
        return exc.object[exc.start:exc.end]


def _orders_not_encodable(lines: pd.DataFrame, table, encoding: str, file_name: str
                          ) -> dict[tuple[str, str], str]:
    """Each order whose own rows hold text the encoding cannot carry, with the reason."""
    refused = {}
    for key, order_lines in lines.groupby([Line.shop, Line.order_id], sort=True):
        bad = _unencodable(table(order_lines), encoding)
        if bad is not None:
            refused[(str(key[0]), str(key[1]))] = (
                f"{bad!r} cannot be written in {encoding}, the encoding of {file_name}: this order is left "
                f"out of that upload; change the text at its source (or upload its tracking number by hand)")
    return refused
