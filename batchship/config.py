"""Workspace configuration, read from ``batchship.toml``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .countries import to_iso2
from .errors import ConfigError

CONFIG_NAME = "batchship.toml"


@dataclass(frozen=True)
class Limits:
    """Absolute caps applied before and while parsing an input file."""
    max_file_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_uncompressed_bytes: int = 1024 * 1024 * 1024   # xlsx is a zip: sum of entry sizes
    max_zip_entries: int = 10_000
    max_compression_ratio: int = 200                    # per zip entry


@dataclass(frozen=True)
class Shop:
    name: str
    platform: str                  # template name in templates/formats, e.g. "amazon_order_report"
    marketplace: str = ""          # e.g. "JP" selects the Japanese Amazon upload variant
    notify_customer: bool = True   # Shopify tracking upload: let Shopify e-mail the buyer
    currency: str = ""             # for exports whose money carries no currency (Lazada, TikTok ...)
    country: str = ""              # ISO-2, for single-country marketplaces whose exports omit it
    timezone: str = ""             # IANA name, e.g. "Asia/Manila": how naive export times are read


@dataclass(frozen=True)
class Channel:
    name: str
    label_size: str = "100x150"    # or "100x100"
    carriers: dict[str, str] = field(default_factory=dict)  # platform -> carrier name/code on that platform


@dataclass(frozen=True)
class LogisticsRule:
    """First matching rule picks channel and warehouse. Empty condition = any."""
    channel: str
    warehouse: str
    countries: tuple[str, ...] = ()
    shops: tuple[str, ...] = ()
    min_weight_g: int | None = None
    max_weight_g: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None


@dataclass(frozen=True)
class WatchSettings:
    settle_seconds: float = 5.0      # size and mtime unchanged this long
    min_age_seconds: float = 2.0
    polling: bool = False            # for SMB/NFS shares that deliver no events
    poll_interval_seconds: float = 2.0
    rescan_seconds: float = 60.0
    ignore: tuple[str, ...] = ()     # extra glob patterns


@dataclass(frozen=True)
class Sender:
    name: str = ""
    address: str = ""
    country: str = "CN"


@dataclass(frozen=True)
class Config:
    shops: dict[str, Shop] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    logistics: tuple[LogisticsRule, ...] = ()
    limits: Limits = Limits()
    watch: WatchSettings = WatchSettings()
    sender: Sender = Sender()
    customs_category: str = "Other"
    cjk_font: str = ""               # path to a TTF/OTF for CJK recipients


def _decimal(value, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: {value!r} is not a number")


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path} not found: run `batchship init {workspace}` to create a workspace")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}")
    return parse_config(data, str(path))


def parse_config(data: dict, where: str = CONFIG_NAME) -> Config:
    try:
        shops = {}
        for item in data.get("shops", []):
            shop = Shop(name=str(item["name"]), platform=str(item["platform"]),
                        marketplace=str(item.get("marketplace", "")),
                        notify_customer=bool(item.get("notify_customer", True)),
                        currency=str(item.get("currency", "")).upper(),
                        country=str(item.get("country", "")).upper(),
                        timezone=str(item.get("timezone", "")))
            if shop.timezone:
                try:
                    ZoneInfo(shop.timezone)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ConfigError(f"{where}: shop {shop.name!r}: unknown timezone {shop.timezone!r} "
                                      "(use an IANA name such as Asia/Shanghai)")
            shops[shop.name] = shop
        channels = {}
        for item in data.get("channels", []):
            size = str(item.get("label_size", "100x150"))
            if size not in ("100x150", "100x100"):
                raise ConfigError(f"{where}: channel {item.get('name')!r}: label_size must be 100x150 or 100x100")
            ch = Channel(name=str(item["name"]), label_size=size,
                         carriers={str(k): str(v) for k, v in item.get("carriers", {}).items()})
            channels[ch.name] = ch
        rules = []
        for i, item in enumerate(data.get("logistics", []), start=1):
            here = f"{where}: logistics rule {i}"
            rule = LogisticsRule(
                channel=str(item["channel"]), warehouse=str(item.get("warehouse", "")),
                countries=tuple(to_iso2(str(c)) for c in item.get("countries", [])),
                shops=tuple(str(s) for s in item.get("shops", [])),
                min_weight_g=item.get("min_weight_g"), max_weight_g=item.get("max_weight_g"),
                min_value=_decimal(item.get("min_value"), here), max_value=_decimal(item.get("max_value"), here),
            )
            if rule.channel not in channels:
                raise ConfigError(f"{here}: channel {rule.channel!r} is not declared under [[channels]]")
            rules.append(rule)
        limits = Limits(**data.get("limits", {}))
        w = dict(data.get("watch", {}))
        if "ignore" in w:
            w["ignore"] = tuple(w["ignore"])
        watch = WatchSettings(**w)
        sender = Sender(**data.get("sender", {}))
        labels = data.get("labels", {})
        return Config(shops=shops, channels=channels, logistics=tuple(rules), limits=limits,
                      watch=watch, sender=sender,
                      customs_category=str(labels.get("customs_category", "Other")),
                      cjk_font=str(labels.get("cjk_font", "")))
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc.__class__.__name__}: {exc}")
