"""Tracking-upload files (virtual shipping, 虚拟发货) in each marketplace's own format.

CONTRACT:

    write_uploads(shipments, config, out_dir, *, ship_date) -> list[Path]

``shipments``: one row per order line that has a tracking number (Line columns
plus "tracking_number" and "channel"). Writes one file per shop and platform,
``upload-<shop>-<platform>.<ext>``, ready to upload to the marketplace as it is.
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
from .upload_rows import CHANNEL, TRACKING, add_carriers, collapse_lines, field_values, mapped_row
from .upload_walmart import source_rows

REQUIRED = [Line.shop, Line.platform, Line.order_id, Line.item_id, Line.platform_sku, Line.sku,
            Line.quantity, TRACKING, CHANNEL]


def upload_table(lines: pd.DataFrame, fmt: UploadFormat, platform: str, config: Config,
                 ship_date: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one shop's upload."""
    lines = collapse_lines(add_carriers(lines, platform, config), fmt.rows)
    if fmt.rows == "source_rows":
        return source_rows(lines, fmt, config, ship_date)
    rows = [mapped_row(fmt.header, fmt.columns, fmt.constants, field_values(line, fmt, config, ship_date))
            for line in lines.to_dict("records")]
    return list(fmt.header), rows


def write_uploads(shipments: pd.DataFrame, config: Config, out_dir: Path, *, ship_date: str,
                  templates_dir: Path = UPLOAD_TEMPLATES) -> list[Path]:
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
        return []

    formats = load_upload_formats(templates_dir)
    known = {p for fmt in formats for p in fmt.platforms}
    frame["_upload_platform"] = [platform_key(str(p), known) for p in frame[Line.platform]]

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for (shop, platform), lines in frame.groupby([Line.shop, "_upload_platform"], sort=True):
        shop_cfg = config.shops.get(str(shop))
        fmt = choose_format(formats, str(platform), shop_cfg.marketplace if shop_cfg else "")
        header, rows = upload_table(lines.drop(columns="_upload_platform"), fmt, str(platform),
                                    config, ship_date)
        name = f"upload-{safe_name_part(str(shop))}-{safe_name_part(str(platform), 'platform')}.{fmt.extension}"
        path = inside(out_dir, name)
        all_rows = [list(r) for r in fmt.preamble] + [header] + rows
        write_delimited(path, all_rows, delimiter=fmt.delimiter, encoding=fmt.encoding,
                        newline=fmt.newline)
        written.append(path)
    return written
