"""Workspace configuration, read from ``batchship.toml``."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from pathlib import Path

from .config_schema import check_shape, config_table
from .errors import ConfigError
from .rules.model import LOGISTICS, REVIEW, Rule, rule_from_table

CONFIG_NAME = "batchship.toml"


@dataclass(frozen=True)
class Limits:
    """Absolute caps applied before and while parsing an input file."""
    max_file_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    # A workbook sheet's used range (A1 to its furthest row and column), in cells: the
    # parser builds all of them. 1,000,000 rows x 80 columns fit; past this it needs gigabytes.
    max_grid_cells: int = 80_000_000
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
    # When the shop's tracking numbers go up: "on_waybill" (virtual shipping, 虚拟发货: in the run that
    # issued the waybill) or "on_handover" (in the run whose handover scan shipped the parcel).
    upload_tracking: str = "on_waybill"
    packing_slips: bool = False    # packing-slips.pdf: one page per order, its items and a barcode
    # A semi-managed (半托管) shop ships under its own sender details from the seller's warehouses.
    sender: "Sender | None" = None


@dataclass(frozen=True)
class Channel:
    name: str
    label_size: str = "100x150"    # or "100x100", "A6" (105x148), "A4x4" (four A6 labels on an A4 page)
    label_format: str = "pdf"      # or "zpl" (thermal printers; not for A4x4)
    zpl_dpi: int = 203             # or 300: the ZPL printer's resolution
    label_cut_marks: bool = False  # A4x4: dashed lines to cut the sheet along
    carriers: dict[str, str] = field(default_factory=dict)  # platform -> carrier name/code on that platform
    # The carrier's tracking page, "{tracking_number}" replaced: sent where a marketplace takes a link
    # (Walmart needs one for a carrier it does not list).
    tracking_url: str = ""
    booking: "Booking | None" = None   # how an "api" or "sheet" channel books; None: numbers from the pool

    @property
    def source(self) -> str:
        return self.booking.source if self.booking else "pool"


@dataclass(frozen=True)
class Booking:
    """A channel whose tracking numbers come from a forwarder: over its API, or through its bulk
    booking sheet and the result sheet it sends back."""
    source: str                      # "api" | "sheet"
    forwarder: str                   # templates/carriers/<forwarder>.toml
    product_code: str                # the forwarder's channel/product code
    credentials: dict[str, str] = field(default_factory=dict)   # mapping name -> environment variable name
    base_url: str = ""               # overrides the mapping's
    concurrency: int = 16
    timeout_seconds: float = 30.0
    retries: int = 3                 # after the first try, for timeouts, dropped connections and 5xx
    options: dict[str, str] = field(default_factory=dict)       # the mapping's own settings ({options.x})


@dataclass(frozen=True)
class ReviewChecks:
    """The built-in review checks, each of which can be switched off in [review_checks]."""
    recipient_name: bool = True
    address: bool = True
    city: bool = True
    country: bool = True
    postcode: bool = True        # present where the country needs one, and in its format
    known_country: bool = True
    lines: bool = True           # every line has a SKU and a quantity above 0


@dataclass(frozen=True)
class Blacklist:
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def entries(self) -> list[tuple[str, str]]:
        """(field, value) pairs, field as rules/facts.py names it."""
        return [(field_, v) for field_, values in (("name", self.names), ("email", self.emails),
                                                   ("phone", self.phones), ("address", self.addresses))
                for v in values]


@dataclass(frozen=True)
class WatchSettings:
    settle_seconds: float = 5.0      # size and mtime unchanged this long
    min_age_seconds: float = 2.0
    polling: bool = False            # for SMB/NFS shares that deliver no events
    poll_interval_seconds: float = 2.0
    rescan_seconds: float = 60.0
    ignore: tuple[str, ...] = ()     # extra glob patterns


@dataclass(frozen=True)
class StoreSettings:
    # How long a run waits for another program holding the database before it gives up
    # (exit code 4, nothing applied, its files wait for the next run).
    busy_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class Sender:
    """Who a parcel is from: on labels, customs declarations, manifests and forwarder bookings."""
    name: str = ""
    address: str = ""          # the full address, one line
    country: str = "CN"
    phone: str = ""
    company: str = ""

    def fields(self) -> dict[str, str]:
        """The sender as a forwarder mapping's {sender.*} placeholders."""
        return {"name": self.name, "company": self.company, "address": self.address, "country": self.country,
                "phone": self.phone}

    def return_address(self) -> str:
        """Name, company, address and country in one line, the country only if the address does not
        end with it."""
        country = (self.country if self.country and not self.address.rstrip().upper().endswith(self.country.upper())
                   else "")
        return ", ".join(x for x in (self.name, self.company, self.address, country) if x)


WAREHOUSE_KINDS = ("own", "third_party")
OUTBOUND_FILES = ("xlsx", "csv")


@dataclass(frozen=True)
class Warehouse:
    """A stock place declared in [[warehouses]]. A third-party (overseas) warehouse ships its orders
    itself: they go to its outbound file (templates/outbound/<outbound_format>.toml) instead of
    local labels and pick lists, and its shipment confirmations mark them shipped."""
    name: str
    kind: str = "own"
    outbound_format: str = ""
    outbound_file: str = "xlsx"
    sender: Sender | None = None

    @property
    def third_party(self) -> bool:
        return self.kind == "third_party"


@dataclass(frozen=True)
class OutputSettings:
    """How output workbooks are written: [outputs] in batchship.toml."""
    language: str = "en"               # "en" or "zh": the language of headers and sheet names
    timezone: str = "Asia/Shanghai"    # IANA name: dates and times are shown in the seller's timezone


@dataclass(frozen=True)
class PrintOrder:
    """In which order labels come out of the printer, and how a large run is cut into waves."""
    sort: str = "paid"               # "paid" (oldest paid first), "shelf" (shelf walk) or "sku"
    single_item_first: bool = False  # one-unit orders first: packed without sorting items
    max_orders_per_wave: int = 0     # 0: one wave; else one pick list and one label file per wave
    # Zones (a shelf's name before its first "-") in the order pickers walk them; zones not listed
    # come after, in natural order. Orders the shelf-walk sort and the pick lists.
    zone_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Purchasing:
    """Purchase suggestions (采购建议): safety stock = average daily sales over the window × lead time.
    A product list's lead_time_days and sales_window_days columns win for their SKU."""
    sales_window_days: int = 30
    lead_time_days: int = 7


@dataclass(frozen=True)
class Config:
    shops: dict[str, Shop] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    logistics: tuple[Rule, ...] = ()
    review_rules: tuple[Rule, ...] = ()
    review_checks: ReviewChecks = ReviewChecks()
    blacklist: Blacklist = Blacklist()
    limits: Limits = Limits()
    watch: WatchSettings = WatchSettings()
    store: StoreSettings = StoreSettings()
    sender: Sender = Sender()
    customs_category: str = "Sale of goods"   # a CN 22 box; the old "Other", "Gift" ... still work
    cjk_font: str = ""               # path to a TTF/OTF for CJK recipients
    print_order: PrintOrder = PrintOrder()
    database: str = ""               # the store's URL (postgresql://...); BATCHSHIP_DATABASE wins
    rate_cards: dict = field(default_factory=dict)    # channel -> rate_cards.RateCard
    purchasing: Purchasing = Purchasing()
    outputs: OutputSettings = OutputSettings()
    warehouses: dict[str, Warehouse] = field(default_factory=dict)

    def sender_for(self, shop: str, warehouse: str) -> Sender:
        """The sender of an order: its shop's where the shop declares one, else its warehouse's,
        else the global [sender]."""
        own = getattr(self.shops.get(shop), "sender", None)
        if own is not None:
            return own
        place = self.warehouses.get(warehouse)
        return place.sender if place is not None and place.sender is not None else self.sender

    def third_party_warehouses(self) -> tuple[str, ...]:
        return tuple(name for name, w in self.warehouses.items() if w.third_party)

    @property
    def workbook_style(self):
        from .writers.columns import WorkbookStyle
        return WorkbookStyle(timezone=self.outputs.timezone, language=self.outputs.language)


def load_config(workspace: Path) -> Config:
    path = workspace / CONFIG_NAME
    if not path.exists():
        raise ConfigError(f"{path} not found: run `batchship init {workspace}` to create a workspace")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}")
    config = parse_config(data, str(path), text)
    _check_outbound_formats(config, workspace, str(path))
    return config


def _check_outbound_formats(config: "Config", workspace: Path, where: str) -> None:
    """Each third-party warehouse's outbound layout exists and reads, before any order is routed to it."""
    for warehouse in config.warehouses.values():
        if warehouse.third_party:
            from .outbound import load_outbound_format     # with its writers: only for such a warehouse
            try:
                load_outbound_format(warehouse.outbound_format, workspace)
            except ConfigError as exc:
                raise ConfigError(f"{where}: warehouse {warehouse.name!r}: {exc}") from None


UPLOAD_TIMES = ("on_waybill", "on_handover")
TRACKING_PLACEHOLDER = "{tracking_number}"


def _settings(cls, table: dict):
    """A settings dataclass from a table checked against its model (config_schema.settings_table)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in table.items()})


def _booking(item: dict, where: str) -> Booking | None:
    source = str(item.get("source", "pool"))
    if source not in ("pool", "api", "sheet"):
        raise ConfigError(f"{where}: source must be \"pool\" (numbers from a tracking pool file), \"api\" "
                          f"(booked over the forwarder's API) or \"sheet\" (the forwarder's booking sheet), "
                          f"not {source!r}")
    if source == "pool":
        stray = sorted({"forwarder", "product_code", "credentials", "base_url", "options"} & set(item))
        if stray:
            raise ConfigError(f"{where}: {', '.join(stray)} only apply to source = \"api\"")
        return None
    for key in ("forwarder", "product_code"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ConfigError(f"{where}: source = \"api\" needs {key} = \"...\"")
    credentials = item.get("credentials", {})
    if not isinstance(credentials, dict) or not all(isinstance(v, str) for v in credentials.values()):
        raise ConfigError(f"{where}: credentials must be a table of environment variable names, such as "
                          "{ api_secret = \"YUN_API_SECRET\" }")
    options = item.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise ConfigError(f"{where}: options must be a table of texts, such as {{ carrier_id = \"dhl-1\" }}")
    numbers = {}
    for key, default, whole in (("concurrency", 16, True), ("timeout_seconds", 30.0, False), ("retries", 3, True)):
        value = item.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
            raise ConfigError(f"{where}: {key} must be a {'whole ' if whole else ''}number, not {value!r}")
        low = {"concurrency": 1, "timeout_seconds": 0.1, "retries": 0}[key]
        if value < low or value > (256 if key == "concurrency" else 600):
            raise ConfigError(f"{where}: {key} {value!r} is out of range")
        numbers[key] = value
    return Booking(source=source, forwarder=item["forwarder"].strip(), product_code=item["product_code"].strip(),
                   credentials={str(k): v for k, v in credentials.items()},
                   base_url=str(item.get("base_url", "")).rstrip("/"), options=dict(options), **numbers)


LABEL_SIZES = ("100x150", "100x100", "A6", "A4x4")
LABEL_FORMATS = ("pdf", "zpl")
ZPL_DPIS = (203, 300)


def _channel_label(item: dict, where: str) -> dict:
    """A channel's label settings: size, format (PDF or ZPL), ZPL resolution, cut marks."""
    sizes = {s.casefold(): s for s in LABEL_SIZES}
    raw = item.get("label_size", "100x150")
    size = sizes.get(str(raw).strip().casefold()) if isinstance(raw, str) else None
    if size is None:
        raise ConfigError(f"{where}: label_size must be one of {', '.join(LABEL_SIZES)}, not {raw!r}")
    raw = item.get("label_format", "pdf")
    fmt = str(raw).strip().lower() if isinstance(raw, str) else None
    if fmt not in LABEL_FORMATS:
        raise ConfigError(f"{where}: label_format must be \"pdf\" or \"zpl\", not {raw!r}")
    dpi = item.get("zpl_dpi", 203)
    if isinstance(dpi, bool) or dpi not in ZPL_DPIS:
        raise ConfigError(f"{where}: zpl_dpi must be 203 or 300 (dots per inch of the printer), not {dpi!r}")
    cut = item.get("label_cut_marks", False)
    if not isinstance(cut, bool):
        raise ConfigError(f"{where}: label_cut_marks must be true or false, not {cut!r}")
    if fmt == "zpl" and size == "A4x4":
        raise ConfigError(f"{where}: label_size A4x4 is a sheet for office printers; "
                          "ZPL labels can be 100x150, 100x100 or A6")
    if cut and size != "A4x4":
        raise ConfigError(f"{where}: label_cut_marks applies to label_size A4x4 only (this channel: {size})")
    return {"label_size": size, "label_format": fmt, "zpl_dpi": int(dpi), "label_cut_marks": cut}


def _tracking_url(value, where: str) -> str:
    """A channel's tracking page pattern: an http(s) address holding {tracking_number}."""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: tracking_url must be a text, such as "
                          f"\"https://track.example.com/?n={TRACKING_PLACEHOLDER}\"")
    value = value.strip()
    if value and (not value.lower().startswith(("https://", "http://")) or TRACKING_PLACEHOLDER not in value):
        raise ConfigError(f"{where}: tracking_url {value!r} must be an http(s) address with "
                          f"{TRACKING_PLACEHOLDER} where the number goes")
    return value


def _rules(entries, kind: str, where: str) -> tuple[Rule, ...]:
    if not isinstance(entries, list):
        raise ConfigError(f"{where}s: expected a list of [[...]] tables")
    out = []
    for i, raw in enumerate(entries, start=1):
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} {i}: expected a table of settings, found {raw!r}")
        out.append(rule_from_table(raw, kind, i, f"{where} {i}"))
    return tuple(out)


SECTIONS = {"purchasing": Purchasing, "limits": Limits, "watch": WatchSettings, "store": StoreSettings, "sender": Sender,
            "review_checks": ReviewChecks, "blacklist": Blacklist, "outputs": OutputSettings}


def _sender(table: dict | None) -> Sender | None:
    if table is None:
        return None
    return Sender(**{k: str(v).strip() for k, v in table.items()})


def _warehouses(tables, where: str) -> dict[str, Warehouse]:
    out: dict[str, Warehouse] = {}
    for table in tables:
        item = table.model_dump(exclude_unset=True)
        name = str(item["name"]).strip()
        at = f"{where}: warehouse {name!r}"
        if name in out:
            raise ConfigError(f"{at} is declared twice")
        kind = str(item.get("kind", "own")).strip().lower()
        if kind not in WAREHOUSE_KINDS:
            raise ConfigError(f"{at}: kind must be \"own\" (the seller ships from it) or \"third_party\" "
                              f"(an overseas warehouse that ships its orders itself), not {item.get('kind')!r}")
        fmt = str(item.get("outbound_format", "")).strip()
        if kind == "third_party" and not fmt:
            raise ConfigError(f"{at}: a third_party warehouse needs outbound_format = \"<name>\", the column "
                              "layout of its outbound file (templates/outbound/<name>.toml)")
        if kind == "own" and fmt:
            raise ConfigError(f"{at}: outbound_format applies to kind = \"third_party\" only")
        file_kind = str(item.get("outbound_file", "xlsx")).strip().lower()
        if file_kind not in OUTBOUND_FILES:
            raise ConfigError(f"{at}: outbound_file must be \"xlsx\" or \"csv\", not {item.get('outbound_file')!r}")
        out[name] = Warehouse(name=name, kind=kind, outbound_format=fmt, outbound_file=file_kind,
                              sender=_sender(item.get("sender")))
    return out


def _check_outputs(outputs: OutputSettings, where: str) -> None:
    from .writers.columns import LANGUAGES
    if outputs.language not in LANGUAGES:
        raise ConfigError(f"{where}: [outputs] language must be one of {', '.join(LANGUAGES)}, "
                          f"not {outputs.language!r}")
    try:
        ZoneInfo(outputs.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: [outputs] unknown timezone {outputs.timezone!r} "
                          "(use an IANA name such as Asia/Shanghai)")


def parse_config(data: dict, where: str = CONFIG_NAME, text: str = "") -> Config:
    """``data`` as tomllib reads batchship.toml; ``text``, the file itself, places each mistake."""
    checked = check_shape(config_table(SECTIONS), data, where, text)
    shops = {}
    for item in (s.model_dump(exclude_unset=True) for s in checked.shops):
        shop = Shop(name=str(item["name"]), platform=str(item["platform"]).strip().lower(),
                    marketplace=str(item.get("marketplace", "")),
                    notify_customer=bool(item.get("notify_customer", True)),
                    currency=str(item.get("currency", "")).upper(),
                    country=str(item.get("country", "")).upper(),
                    timezone=str(item.get("timezone", "")),
                    upload_tracking=str(item.get("upload_tracking", "on_waybill")).strip().lower(),
                    packing_slips=bool(item.get("packing_slips", False)),
                    sender=_sender(item.get("sender")))
        if shop.upload_tracking not in UPLOAD_TIMES:
            raise ConfigError(f"{where}: shop {shop.name!r}: upload_tracking must be \"on_waybill\" (tracking "
                              "goes up as soon as the waybill is issued) or \"on_handover\" (after the handover "
                              f"scan), not {item.get('upload_tracking')!r}")
        if shop.timezone:
            try:
                ZoneInfo(shop.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{where}: shop {shop.name!r}: unknown timezone {shop.timezone!r} "
                                  "(use an IANA name such as Asia/Shanghai)")
        shops[shop.name] = shop
    channels = {}
    for item in (c.model_dump(exclude_unset=True) for c in checked.channels):
        label = _channel_label(item, f"{where}: channel {item['name']!r}")
        carriers = item.get("carriers", {})
        tracking_url = _tracking_url(item.get("tracking_url", ""), f"{where}: channel {item['name']!r}")
        channels[str(item["name"])] = Channel(name=str(item["name"]), **label,
                                              carriers={str(k).strip().lower(): v.strip()
                                                        for k, v in carriers.items()},
                                              tracking_url=tracking_url,
                                              booking=_booking(item, f"{where}: channel {item['name']!r}"))
    logistics = _rules(data.get("logistics", []), LOGISTICS, f"{where}: logistics rule")
    review_rules = _rules(data.get("review_rules", []), REVIEW, f"{where}: review rule")
    sections = {name: _settings(cls, getattr(checked, name).model_dump()) for name, cls in SECTIONS.items()}
    _check_outputs(sections["outputs"], where)
    warehouses = _warehouses(checked.warehouses, where)
    labels = checked.labels
    print_order = PrintOrder(sort=labels.sort, single_item_first=labels.single_item_first,
                             max_orders_per_wave=labels.max_orders_per_wave,
                             zone_order=tuple(z.strip() for z in labels.zone_order if z.strip()))
    rate_cards = _rate_cards(checked.rate_cards, channels, where)
    return Config(shops=shops, channels=channels, logistics=logistics, review_rules=review_rules, **sections,
                  customs_category=labels.customs_category, cjk_font=labels.cjk_font, print_order=print_order,
                  database=checked.database.strip(),
                  rate_cards=rate_cards, warehouses=warehouses)


def _rate_cards(tables, channels: dict, where: str) -> dict:
    """[[rate_cards]]: one per channel, prices as exact decimals."""
    from decimal import Decimal, InvalidOperation

    from .rate_cards import RateCard, RateZone

    def price(value, what: str) -> Decimal:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise ConfigError(f"{where}: {what} must be an amount of 0 or more, such as \"12.50\", not {value!r}")
        return amount
    cards = {}
    for t in tables:
        at = f"rate card of channel {t.channel!r}"
        if t.channel not in channels:
            raise ConfigError(f"{where}: {at}: no such channel under [[channels]] "
                              f"(channels: {', '.join(channels) or 'none'})")
        if t.channel in cards:
            raise ConfigError(f"{where}: {at} is given twice")
        zones = tuple(RateZone(z.name, tuple(c.strip().upper() for c in z.countries),
                               price(z.first, f"{at}, zone {z.name!r}: first"),
                               price(z.additional, f"{at}, zone {z.name!r}: additional")) for z in t.zones)
        cards[t.channel] = RateCard(t.channel, t.currency.strip().upper(), t.first_weight_g, t.step_g, zones,
                                    price(t.per_parcel, f"{at}: per_parcel"))
    return cards
