"""Input format templates: one TOML file per file format in ``templates/formats``.

A template says which canonical frame a file feeds, which header aliases fill
each canonical column, which columns must be present and which identify the
format, how order-level fields repeat over continuation rows, and how money,
dates and status values are read. A renamed column or a new marketplace is an
edit of these files, not code. Keys:

    name, title            template id (shown as Imported.platform) and plain name
    platform               shopify amazon ebay etsy tiktok shopee lazada walmart woocommerce dianxiaomi batchship
    kind                   orders stock products tracking_pool ship_confirm pairing
    signature              headers that must be present besides the required columns;
                           an entry may be a list of alternatives
    [columns]              canonical column = ["Header", "Alias" ...]   (first present wins) or
                           { headers = [...], required = true, fallback = [...], default = "1",
                             join = [...], join_with = " ", currency_from_header = true,
                             line_total = true }
    group_key              header whose rows form one order (default: the order id)
    order_fields           canonical columns repeated over an order's rows (default: ORDER_FIELDS)
    summary_when_blank     header that is blank on an order's summary row (eBay)
    skip_rows              regexes matched against a row's cells joined by ","; matching rows
                           are dropped silently
    [[skip]]               rows that are not order lines, dropped with a note naming the file,
                           the rows and ``why``: why = "report footer", and any of
                           pattern = "regex" (on the cells joined by ","), blank = ["Header" ...]
                           (every one of these cells blank or absent), equals = { "Header" =
                           ["--" ...] } (the cell holds one of these values); all given must hold
    companion              name of a template whose files list the lines of the same orders
                           (Etsy: the orders file's companion is the order-items file): when
                           both are in one batch, an order in both takes its lines from the
                           companion and its blank order-level fields from this file
    date_formats, timezone strptime formats tried first; zone of times without offset (UTC)
    currency               currency when neither the money cell nor a currency column says
    suffix_match           "Total Discount(PHP)" matches the alias "Total Discount"
    exclusive, extra_headers   the header row may hold nothing but the template's columns
    keep_raw               Line.raw = JSON of the original row (header -> cell)
    required_values        canonical columns that must not be blank (besides the kind's own)
    description_row        canonical columns whose cells are always numbers in a real row
                           (e.g. ["order_id", "quantity"]): a first data row holding text
                           without a digit in all of them describes the columns and is
                           skipped (TikTok writes such a row under the header)
    zero_quantity          "reject" (default) or "skip": lines with quantity 0 (cancelled or
                           refunded items in Amazon all-orders, WooCommerce "Quantity (- Refund)")
                           are dropped with a note, and so is an order left without lines
    slash_dates            how an ambiguous 04/05/2026 is read when no value of the column
                           settles it: "day_first", "month_first", or "" (the template's
                           date_formats first, then 12-hour times month first, others day first)
    [[status]]             column = "Header", map = { "value" = "cancelled" ... } or nonblank = "shipped";
                           unless = { column = "Header", pattern = "regex" } exempts matching rows;
                           the strongest status wins: refunded > cancelled > shipped > unpaid > open

Header matching ignores case, surrounding and repeated whitespace, a BOM,
full-width forms and a trailing "*".

A workspace may hold column maps of its own in ``<workspace>/templates/formats``:
they are read with the bundled ones, and one with the name of a bundled
template takes its place.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..paths import TEMPLATES_DIR
from ..schemas import KINDS, PLATFORM_STATUSES
from .normalize import header_key

PLATFORMS = ("shopify", "amazon", "ebay", "etsy", "tiktok", "shopee", "lazada", "walmart",
             "woocommerce", "dianxiaomi", "batchship")
FORMATS_DIR = TEMPLATES_DIR / "formats"
_PLATFORM_STATUS_SET = set(PLATFORM_STATUSES) - {"open"}


@dataclass(frozen=True)
class ColumnSpec:
    """Where one canonical column comes from."""
    target: str
    headers: tuple[str, ...] = ()     # aliases; the first one present in the file is used
    join: tuple[str, ...] = ()        # or: these columns, non-blank values joined
    join_with: str = " "
    fallback: tuple[str, ...] = ()    # cell-wise: used where the source cell is blank
    default: str = ""                 # where the column is absent or still blank
    required: bool = False            # the header must be present
    currency_from_header: bool = False  # the ISO code in a "(PHP)" header suffix
    line_total: bool = False          # money column holds price x quantity

    def aliases(self) -> tuple[str, ...]:
        return self.headers + self.join


@dataclass(frozen=True)
class StatusRule:
    """One status source: a column whose values map to a platform status, or
    whose mere presence of a value (``nonblank``) means one."""
    headers: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)   # header_key(value) -> status
    nonblank: str = ""
    unless_headers: tuple[str, ...] = ()          # the rule does not apply to rows whose cell
    unless: re.Pattern | None = None              # in this column matches this pattern


@dataclass(frozen=True)
class SkipRule:
    """Rows that are not order lines (report footers, placeholder records): dropped with a note."""
    why: str
    pattern: re.Pattern | None = None
    blank: tuple[str, ...] = ()
    equals: tuple[tuple[str, frozenset[str]], ...] = ()   # (header, header_key of accepted values)


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    platform: str
    kind: str
    columns: dict[str, ColumnSpec]
    signature: tuple[tuple[str, ...], ...] = ()   # each entry: alternatives, one must be present
    group_key: tuple[str, ...] = ()               # header aliases; () = the order id
    order_fields: tuple[str, ...] | None = None   # None = the kind's default
    summary_when_blank: tuple[str, ...] = ()      # eBay: a multi-row order's row blank here is its summary
    skip_rows: tuple[re.Pattern, ...] = ()
    date_formats: tuple[str, ...] = ()
    timezone: str = ""
    currency: str = ""                            # when neither cell nor column says
    suffix_match: bool = False                    # "Total Discount(PHP)" matches alias "Total Discount"
    exclusive: bool = False                       # every header must be one of the template's
    keep_raw: bool = False
    status: tuple[StatusRule, ...] = ()
    required_values: tuple[str, ...] = ()
    extra_headers: tuple[str, ...] = ()           # allowed besides the columns when exclusive
    description_row: tuple[str, ...] = ()         # columns that hold digits in every real row
    zero_quantity: str = "reject"                 # or "skip"
    slash_dates: str = ""                         # "day_first", "month_first" or "" (see above)
    skip: tuple[SkipRule, ...] = ()
    companion: str = ""                           # template whose files give the lines of these orders
    source: str = ""
    origin: str = "bundled"                       # or "workspace": <workspace>/templates/formats

    def required_columns(self) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.required]


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a string or a list of strings")


def _column(target: str, raw, where: str) -> ColumnSpec:
    if isinstance(raw, (str, list)):
        raw = {"headers": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: column {target!r} must be a table or a list of headers")
    known = {"headers", "join", "join_with", "fallback", "default", "required",
             "currency_from_header", "line_total"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: column {target!r}: unknown keys {sorted(unknown)}")
    spec = ColumnSpec(
        target=target,
        headers=_strings(raw.get("headers"), where),
        join=_strings(raw.get("join"), where),
        join_with=str(raw.get("join_with", " ")),
        fallback=_strings(raw.get("fallback"), where),
        default=str(raw.get("default", "")),
        required=bool(raw.get("required", False)),
        currency_from_header=bool(raw.get("currency_from_header", False)),
        line_total=bool(raw.get("line_total", False)),
    )
    if spec.required and not spec.aliases():
        raise ConfigError(f"{where}: column {target!r} is required but names no header")
    return spec


def _status(items, where: str) -> tuple[StatusRule, ...]:
    rules = []
    for i, item in enumerate(items or [], start=1):
        here = f"{where}: status rule {i}"
        values = {header_key(str(k)): str(v) for k, v in dict(item.get("map", {})).items()}
        nonblank = str(item.get("nonblank", ""))
        for status in list(values.values()) + ([nonblank] if nonblank else []):
            if status not in PLATFORM_STATUSES:
                raise ConfigError(f"{here}: {status!r} is not one of {', '.join(PLATFORM_STATUSES)}")
        unless = dict(item.get("unless", {}))
        try:
            pattern = re.compile(str(unless["pattern"])) if unless else None
        except (KeyError, re.error) as exc:
            raise ConfigError(f"{here}: unless needs a column and a valid pattern ({exc})") from None
        rules.append(StatusRule(_strings(item.get("column"), here), values, nonblank,
                                _strings(unless.get("column"), here), pattern))
    return tuple(rules)


def _skip(items, where: str) -> tuple[SkipRule, ...]:
    rules = []
    for i, item in enumerate(items or [], start=1):
        here = f"{where}: skip rule {i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{here}: must be a table")
        unknown = set(item) - {"why", "pattern", "blank", "equals"}
        if unknown:
            raise ConfigError(f"{here}: unknown keys {sorted(unknown)}")
        why = str(item.get("why", "")).strip()
        if not why:
            raise ConfigError(f"{here}: needs a why (it is told to the user)")
        try:
            pattern = re.compile(str(item["pattern"])) if "pattern" in item else None
        except re.error as exc:
            raise ConfigError(f"{here}: pattern: {exc}") from None
        equals = tuple((str(h), frozenset(header_key(v) for v in _strings(values, here)))
                       for h, values in dict(item.get("equals", {})).items())
        rule = SkipRule(why, pattern, _strings(item.get("blank"), here), equals)
        if rule.pattern is None and not rule.blank and not rule.equals:
            raise ConfigError(f"{here}: give a pattern, blank or equals")
        rules.append(rule)
    return tuple(rules)


def _choice(data: dict, key: str, allowed: tuple[str, ...], where: str) -> str:
    value = str(data.get(key, allowed[0]))
    if value not in allowed:
        raise ConfigError(f"{where}: {key} must be one of {', '.join(repr(a) for a in allowed)}")
    return value


def parse_template(data: dict, where: str) -> Template:
    try:
        name, platform, kind = str(data["name"]), str(data["platform"]), str(data["kind"])
    except KeyError as exc:
        raise ConfigError(f"{where}: missing key {exc}") from None
    if platform not in PLATFORMS:
        raise ConfigError(f"{where}: platform {platform!r} is not one of {', '.join(PLATFORMS)}")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    canonical = KINDS[kind].columns
    columns = {}
    for target, raw in dict(data.get("columns", {})).items():
        if target not in canonical:
            raise ConfigError(f"{where}: {target!r} is not a column of the {kind} frame")
        columns[target] = _column(target, raw, where)
    signature = []
    for entry in data.get("signature", []):
        signature.append(_strings(entry, f"{where}: signature"))
    try:
        skip_rows = tuple(re.compile(p) for p in _strings(data.get("skip_rows"), where))
    except re.error as exc:
        raise ConfigError(f"{where}: skip_rows: {exc}") from None
    order_fields = data.get("order_fields")
    description_row = _strings(data.get("description_row"), where)
    unknown = [c for c in description_row if c not in columns]
    if unknown:
        raise ConfigError(f"{where}: description_row names columns the template does not map: {unknown}")
    zero_quantity = _choice(data, "zero_quantity", ("reject", "skip"), where)
    slash_dates = _choice(data, "slash_dates", ("", "day_first", "month_first"), where)
    return Template(
        name=name, title=str(data.get("title", name)), platform=platform, kind=kind,
        columns=columns, signature=tuple(signature),
        group_key=_strings(data.get("group_key"), where),
        order_fields=None if order_fields is None else _strings(order_fields, where),
        summary_when_blank=_strings(data.get("summary_when_blank"), where),
        skip_rows=skip_rows,
        date_formats=_strings(data.get("date_formats"), where),
        timezone=str(data.get("timezone", "")),
        currency=str(data.get("currency", "")),
        suffix_match=bool(data.get("suffix_match", False)),
        exclusive=bool(data.get("exclusive", False)),
        keep_raw=bool(data.get("keep_raw", False)),
        status=_status(data.get("status"), where),
        required_values=_strings(data.get("required_values"), where),
        extra_headers=_strings(data.get("extra_headers"), where),
        description_row=description_row,
        zero_quantity=zero_quantity,
        slash_dates=slash_dates,
        skip=_skip(data.get("skip"), where),
        companion=str(data.get("companion", "")),
        source=where,
    )


def _directory_state(directory: Path) -> tuple:
    if not directory.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.toml")))


@lru_cache(maxsize=8)
def _load(directory: Path, _state: tuple, origin: str = "bundled") -> tuple[Template, ...]:
    templates = []
    for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        templates.append(replace(parse_template(data, str(path)), origin=origin))
    names = [t.name for t in templates]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{directory}: template names used twice: {', '.join(dupes)}")
    return tuple(templates)


def workspace_formats_dir(workspace: Path) -> Path:
    """Where a workspace keeps column maps of its own."""
    return Path(workspace) / "templates" / "formats"


def load_templates(directory: Path | None = None, workspace: Path | None = None) -> tuple[Template, ...]:
    """Every template in ``directory`` (default: the shipped ``templates/formats``),
    then those of ``workspace``'s own ``templates/formats``, which replace bundled
    ones of the same name; re-read when a file in either changes."""
    directory = Path(directory or FORMATS_DIR)
    bundled = _load(directory, _directory_state(directory))
    if workspace is None:
        return bundled
    own_dir = workspace_formats_dir(workspace).resolve()
    if own_dir == directory.resolve():
        return bundled
    own = _load(own_dir, _directory_state(own_dir), "workspace")
    if not own:
        return bundled
    names = {t.name for t in own}
    return tuple(t for t in bundled if t.name not in names) + own


def blank_headers(kind: str, directory: Path | None = None) -> list[str]:
    """English headers of batchship's own input template for ``kind``, in order
    (the first alias of each column), for writing blank templates."""
    for t in load_templates(directory):
        if t.platform == "batchship" and t.kind == kind:
            return [spec.aliases()[0] for spec in t.columns.values() if spec.aliases()]
    raise KeyError(f"no batchship template for kind {kind!r}")
