"""End-of-day handover manifests (交接单): one per channel for the parcels a run's scans shipped.

A manifest lists every parcel handed over to the carrier in the run, with its weight and
declared value, and the totals both sides sign for. It is derived from the run's "shipped"
events (only a handover scan ships an order: stages/ship.py), so writing it again after an
interruption gives the same file.
"""
from __future__ import annotations

import hashlib
import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from .config import Config
from .faults import checkpoint
from .writers import barcode128
from .writers.manifest_pdf import Manifest, ManifestParcel, render_manifest
from .writers.upload_files import safe_name_part
from .writers.columns import Money
from .writers.xlsx import write_workbook
from .frame_records import order_keys, records

SHIPPED_EVENT = "shipped"      # stages/ship.py
log = logging.getLogger(__name__)


def manifest_id(run_id: str, channel: str) -> str:
    """``M-<run>-<channel>``; a channel name Code 128 cannot carry is replaced by a short hash."""
    wanted = f"M-{run_id}-{channel}"
    try:
        barcode128.encode(wanted)
        return wanted
    except barcode128.NotEncodable:
        return f"M-{run_id}-{hashlib.sha256(channel.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def shipped_manifests(orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame, config: Config,
                      run_id: str, day: str) -> list[Manifest]:
    """The run's manifests, by channel name; none when no scan shipped anything."""
    shipped_keys = set(zip(*(events.loc[events["event"] == SHIPPED_EVENT, k] for k in ("shop", "order_id"))))
    if not shipped_keys:
        return []
    keys = order_keys(orders)
    shipped = orders[[k in shipped_keys for k in keys]]
    shipped = shipped[shipped["stage"] == "shipped"]
    by_order: dict[tuple[str, str], list[dict]] = {}
    for line in records(lines):
        by_order.setdefault((line["shop"], line["order_id"]), []).append(line)
    manifests = []
    for channel, group in shipped.groupby("channel", sort=True):
        group = group.sort_values(["warehouse", "tracking_number", "shop", "order_id"], kind="stable")
        parcels = tuple(_parcel(o, by_order.get((o["shop"], o["order_id"]), []))
                        for o in records(group))
        # The parcels' senders (a shop's own, a warehouse's, or the global one), each once.
        sender = "; ".join(dict.fromkeys(
            who.return_address() for who in (config.sender_for(o["shop"], o["warehouse"])
                                             for o in records(group)) if who.name or who.address))
        manifests.append(Manifest(
            manifest_id=manifest_id(run_id, channel), channel=channel,
            warehouses=tuple(sorted({p.warehouse for p in parcels if p.warehouse})), date=day, sender=sender,
            parcels=parcels))
    return manifests


def _parcel(order: dict, lines: list[dict]) -> ManifestParcel:
    items, grams, values = 0, 0, {}
    for line in lines:
        quantity = _whole(line["quantity"])
        items += quantity
        grams += _whole(line["weight_g"]) * quantity
        currency = str(line["declared_currency"] or "")
        values[currency] = values.get(currency, Decimal(0)) + _decimal(line["declared_value"]) * quantity
    return ManifestParcel(
        tracking_number=order["tracking_number"], shop=order["shop"], order_id=order["order_id"],
        country=order["country"], warehouse=order["warehouse"], items=items, weight_g=grams,
        values=tuple(sorted(values.items())))


def _whole(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _decimal(text) -> Decimal:
    try:
        return Decimal(str(text or "0"))
    except InvalidOperation:
        return Decimal(0)


def parcel_frame(manifest: Manifest) -> pd.DataFrame:
    """One row per parcel; numbers as numbers, one value column per currency, so SUM works."""
    frame = pd.DataFrame({
        "tracking_number": [p.tracking_number for p in manifest.parcels],
        "shop": [p.shop for p in manifest.parcels],
        "order_id": [p.order_id for p in manifest.parcels],
        "country": [p.country for p in manifest.parcels],
        "warehouse": [p.warehouse for p in manifest.parcels],
        "items": pd.Series([p.items for p in manifest.parcels], dtype="int64"),
        "weight_g": pd.Series([p.weight_g for p in manifest.parcels], dtype="int64"),
    })
    for currency in manifest.currencies:
        frame[_value_column(currency)] = pd.Series(
            [float(dict(p.values).get(currency, Decimal(0))) for p in manifest.parcels], dtype="float64")
    return frame


def summary_frame(manifest: Manifest) -> pd.DataFrame:
    """The manifest's head and totals in one row, with empty signature fields to fill in."""
    row = {"manifest_id": manifest.manifest_id, "channel": manifest.channel,
           "warehouses": ", ".join(manifest.warehouses), "date": manifest.date, "sender": manifest.sender}
    frame = pd.DataFrame([row])
    frame["parcels"] = pd.Series([len(manifest.parcels)], dtype="int64")
    frame["items"] = pd.Series([manifest.items], dtype="int64")
    frame["weight_g"] = pd.Series([manifest.weight_g], dtype="int64")
    frame["weight_kg"] = pd.Series([float(manifest.weight_kg)], dtype="float64")
    for currency, value in manifest.values:
        frame[_value_column(currency)] = pd.Series([float(value)], dtype="float64")
    for field in ("handed over by", "received by", "time"):
        frame[field] = ""
    return frame


def _value_column(currency: str) -> str:
    return f"declared_value {currency}".strip()


def write_manifests(out: Path, orders: pd.DataFrame, lines: pd.DataFrame, events: pd.DataFrame, config: Config,
                    run_id: str, day: str, written: list[Path]) -> None:
    """manifest-<channel>.pdf and .xlsx for each channel the run's scans shipped parcels on."""
    for manifest in shipped_manifests(orders, lines, events, config, run_id, day):
        name = f"manifest-{safe_name_part(manifest.channel, 'channel')}"
        values = {_value_column(c): Money(currency=c) for c in manifest.currencies}
        xlsx = write_workbook(out / f"{name}.xlsx", [("manifest", summary_frame(manifest)),
                                                     ("parcels", parcel_frame(manifest))],
                              style=config.workbook_style, kinds={"manifest": values, "parcels": values},
                              totals=("parcels",))
        written.append(xlsx)
        checkpoint("wrote-manifest-xlsx")
        pdf = out / f"{name}.pdf"
        problems = render_manifest(manifest, pdf, cjk_font=config.cjk_font)
        written.append(pdf)
        checkpoint("wrote-manifest")
        for ref, found in problems.items():
            log.warning("run %s: manifest %s, %s: %s", run_id, manifest.manifest_id, ref, "; ".join(found))
