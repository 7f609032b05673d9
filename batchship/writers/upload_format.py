"""Marketplace tracking-upload formats, read from ``templates/uploads/*.toml``.

A format is data: the header, which value goes in which column, how rows are
grouped, the file's encoding and line ends. Only the few rules a mapping cannot
express (Amazon carrier codes, Walmart's rebuilt order rows) live in code.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..paths import TEMPLATES_DIR

UPLOAD_TEMPLATES = TEMPLATES_DIR / "uploads"

# How output rows relate to order lines:
#   line        one row per marketplace line
#   item        one row per marketplace line id; lines without one: one row per order (Amazon)
#   order       one row per order and tracking number
#   source_rows the original order rows, rebuilt from Line.raw (Walmart)
ROW_MODES = ("line", "item", "order", "source_rows")

# Values a column can be filled with; computed per output row in upload_rows.
FIELDS = ("shop", "order_id", "item_id", "item_number", "transaction_id", "item_title", "sku",
          "platform_sku", "quantity", "carrier", "carrier_code", "carrier_name",
          "tracking_number", "tracking_url", "ship_date", "notify_customer", "channel")
# Fields that carry the carrier as the marketplace knows it: a format with one of them needs every
# channel to name its carrier for the platform (Channel.carriers), unless it says carrier_required = false.
CARRIER_FIELDS = ("carrier", "carrier_code", "carrier_name")


@dataclass(frozen=True)
class UploadFormat:
    name: str                                  # template file stem, e.g. "amazon_jp"
    platforms: tuple[str, ...]
    header: tuple[str, ...]
    columns: dict[str, str]                    # header -> field name
    constants: dict[str, str] = field(default_factory=dict)
    marketplaces: tuple[str, ...] = ()         # empty = any marketplace
    fallback: bool = False                     # used for platforms no other format claims
    extension: str = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    newline: str = "\r\n"
    rows: str = "line"
    preamble: tuple[tuple[str, ...], ...] = ()  # rows written above the header
    carrier_codes: tuple[str, ...] = ()        # accepted carrier codes; others become "Other"
    fallback_columns: dict[str, str] = field(default_factory=dict)
    tracking_urls: dict[str, str] = field(default_factory=dict)
    listed_carriers: tuple[str, ...] = ()      # carriers the marketplace knows; others need a tracking URL
    carrier_required: bool = True              # False: our own list, a blank carrier is allowed
    # True: text that a spreadsheet would evaluate (= + - @ ...) gets a leading apostrophe, for files
    # people open in Excel. False: the marketplace reads the file as plain text (Amazon's flat files),
    # where the apostrophe would become part of the value.
    formula_guard: bool = True

    @property
    def needs_carrier(self) -> bool:
        """Whether each channel must name its carrier for this format's platform."""
        fields = {*self.columns.values(), *self.fallback_columns.values()}
        return self.carrier_required and any(f in fields for f in CARRIER_FIELDS)


def _parse(name: str, data: dict) -> UploadFormat:
    where = f"templates/uploads/{name}.toml"
    header = tuple(str(h) for h in data["header"])
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    fallback_columns = {str(k): str(v) for k, v in data.get("fallback_columns", {}).items()}
    for col, fld in {**columns, **fallback_columns}.items():
        if fld not in FIELDS:
            raise ConfigError(f"{where}: column {col!r}: unknown field {fld!r} (known: {', '.join(FIELDS)})")
    constants = {str(k): str(v) for k, v in data.get("constants", {}).items()}
    rows = str(data.get("rows", "line"))
    if rows not in ROW_MODES:
        raise ConfigError(f"{where}: rows must be one of {', '.join(ROW_MODES)}, not {rows!r}")
    if rows != "source_rows":
        stray = [c for c in [*columns, *constants] if c not in header]
        if stray:
            raise ConfigError(f"{where}: columns not in the header: {', '.join(stray)}")
    return UploadFormat(
        name=name,
        platforms=tuple(str(p).lower() for p in data.get("platforms", [])),
        header=header, columns=columns, constants=constants,
        marketplaces=tuple(str(m).upper() for m in data.get("marketplaces", [])),
        fallback=bool(data.get("fallback", False)),
        extension=str(data.get("extension", "csv")),
        delimiter=str(data.get("delimiter", ",")),
        encoding=str(data.get("encoding", "utf-8")),
        newline=str(data.get("newline", "\r\n")),
        rows=rows,
        preamble=tuple(tuple(str(c) for c in row) for row in data.get("preamble", [])),
        carrier_codes=tuple(str(c) for c in data.get("carrier_codes", [])),
        fallback_columns=fallback_columns,
        tracking_urls={str(k): str(v) for k, v in data.get("tracking_urls", {}).items()},
        listed_carriers=tuple(str(c) for c in data.get("listed_carriers", [])),
        carrier_required=_flag(data, "carrier_required", True, where),
        formula_guard=_flag(data, "formula_guard", True, where),
    )


def _flag(data: dict, key: str, default: bool, where: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def load_upload_formats(folder: Path = UPLOAD_TEMPLATES) -> list[UploadFormat]:
    formats = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            formats.append(_parse(path.stem, data))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: {exc.__class__.__name__}: {exc}")
    if not formats:
        raise ConfigError(f"no upload templates found in {folder}")
    return formats


def platform_key(platform: str, known: set[str]) -> str:
    """The upload platform of a Line.platform value: exact, else its first word
    (an importer template such as "amazon_order_report" belongs to "amazon")."""
    p = platform.strip().lower()
    if p in known:
        return p
    head = p.replace("-", "_").split("_", 1)[0]
    return head if head in known else p


def choose_format(formats: list[UploadFormat], platform: str, marketplace: str) -> UploadFormat:
    """The format for a platform key: a marketplace-specific variant first, then
    the platform's default, then the fallback (generic) format."""
    market = marketplace.strip().upper()
    for fmt in formats:
        if platform in fmt.platforms and market and market in fmt.marketplaces:
            return fmt
    for fmt in formats:
        if platform in fmt.platforms and not fmt.marketplaces:
            return fmt
    for fmt in formats:
        if fmt.fallback:
            return fmt
    raise ConfigError(f"no upload template for platform {platform!r} and no fallback template")
