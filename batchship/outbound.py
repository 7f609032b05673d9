"""outbound-<warehouse>.xlsx (or .csv): the orders a third-party warehouse is to ship, in its layout.

A third-party (overseas) warehouse picks, packs and labels its orders itself: its in-stock orders
are listed once in its outbound file (templates/outbound/<outbound_format>.toml gives the columns)
and never on local labels or pick lists. Its shipment confirmation then ships them (stages/ship.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import Config, Warehouse
from .errors import ConfigError
from .forwarders.mapping import FIELDS, PLACEHOLDER
from .forwarders.render import order_context, render
from .template_files import find_template, read_toml
from .writers.safe_text import csv_safe
from .writers.upload_files import safe_name_part, write_delimited
from .writers.xlsx import write_workbook
from .frame_records import records


@dataclass(frozen=True)
class OutboundFormat:
    name: str
    columns: tuple[tuple[str, str], ...]     # header, template
    rows: str = "lines"                      # or "orders"


def load_outbound_format(name: str, workspace: Path | None = None) -> OutboundFormat:
    return parse_outbound_format(find_template("outbound", name, workspace, f"outbound format {name!r}: no file"))


def parse_outbound_format(path: Path) -> OutboundFormat:
    where = str(path)
    data = read_toml(path)
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns or not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(f"{where}: [columns] must give each header its text, such as \"SKU\" = \"{{line.sku}}\"")
    unknown = sorted({m.group(1) for t in columns.values() for m in PLACEHOLDER.finditer(t)} - FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown placeholders {', '.join('{' + u + '}' for u in unknown)}")
    rows = data.get("rows", "lines")
    if rows not in ("lines", "orders"):
        raise ConfigError(f"{where}: rows must be \"lines\" or \"orders\", not {rows!r}")
    return OutboundFormat(name=path.stem, columns=tuple(columns.items()), rows=rows)


def outbound_rows(fmt: OutboundFormat, orders: pd.DataFrame, lines: pd.DataFrame, config: Config) -> list[list[str]]:
    """One row per order line (or order) in the format's column order (pure)."""
    by_order: dict[tuple[str, str], list[dict]] = {}
    for line in records(lines):
        by_order.setdefault((line["shop"], line["order_id"]), []).append(line)
    templates = [t for _, t in fmt.columns]
    rows = []
    for order in records(orders):
        ctx, per_line = order_context(order, by_order.get((order["shop"], order["order_id"]), []),
                                      reference=order["order_id"], product_code="",
                                      sender=config.sender_for(order["shop"], order["warehouse"]).fields(),
                                      credentials={})
        for line in (per_line if fmt.rows == "lines" else [{}]) or [{}]:
            rows.append([str(render(t, {**ctx, **line}, per_line)) for t in templates])
    return rows


def write_outbound(out: Path, warehouse: Warehouse, orders: pd.DataFrame, lines: pd.DataFrame, config: Config,
                   workspace: Path) -> Path:
    fmt = load_outbound_format(warehouse.outbound_format, workspace)
    orders = orders.sort_values(["paid_at", "shop", "order_id"], kind="stable")
    rows = outbound_rows(fmt, orders, lines, config)
    headers = [h for h, _ in fmt.columns]
    name = f"outbound-{safe_name_part(warehouse.name, 'warehouse')}"
    if warehouse.outbound_file == "csv":
        path = out / f"{name}.csv"
        write_delimited(path, [headers] + [[csv_safe(c) for c in row] for row in rows], delimiter=",",
                        encoding="utf-8-sig", newline="\r\n")
        return path
    return write_workbook(out / f"{name}.xlsx", [("outbound", pd.DataFrame(rows, columns=headers))])
