"""A forwarder's API described as data: where to send what, and where the answer's parts are.

A mapping file (``templates/carriers/<name>.toml``) names the base URL, the
authentication, and for each call (create, lookup, cancel) the method, path, query
and body template, and the paths of the answer's fields. Templates are JSON-like
tables whose strings hold ``{placeholders}`` (see ``FIELDS``): a string that is one
placeholder keeps the value's type (a weight stays a number); a table with
``each = "lines"`` and ``item = {...}`` becomes one item per order line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..template_files import find_template, read_toml

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")

ORDER_FIELDS = ("shop", "order_id", "recipient_name", "address1", "address2", "city", "state", "postcode",
                "country", "phone", "email", "currency", "goods_value", "paid_at", "warehouse", "channel",
                "shipping_service")
LINE_FIELDS = ("sku", "platform_sku", "quantity", "unit_price", "declared_name_en", "declared_name_cn",
               "declared_value", "declared_currency", "weight_g", "hs_code", "origin_country")
FIELDS = frozenset(
    {"reference", "product_code", "shipment_id", "timestamp", "signature", "body",
     "recipient.first_name", "recipient.last_name",
     "parcel.weight_g", "parcel.weight_kg", "parcel.value", "parcel.currency", "parcel.count",
     "sender.name", "sender.company", "sender.address", "sender.country", "sender.phone",
     "line.unit_value", "line.unit_weight_g", "line.unit_weight_kg", "line.value", "line.weight_kg"}
    | {f"order.{f}" for f in ORDER_FIELDS} | {f"line.{f}" for f in LINE_FIELDS})
CALLS = ("create", "lookup", "cancel")
AUTH_SCHEMES = ("none", "basic", "header", "hmac")
LABEL_SOURCES = ("url", "base64", "none")
SIGNATURES = ("hmac-sha256", "hmac-sha1", "hmac-md5", "md5", "sha256")


@dataclass(frozen=True)
class Call:
    method: str
    path: str                                   # may hold placeholders: /v1/shipments/{shipment_id}/cancel
    query: dict = field(default_factory=dict)
    body: object = None                         # template (dict or list), or None for no body
    body_list: bool = False                     # send the body wrapped in a one-item list
    ok: dict = field(default_factory=dict)      # answer path -> accepted values (all must match)
    paths: dict = field(default_factory=dict)   # tracking_number, shipment_id, label_url, label_base64,
                                                # error_code, error_message, found


@dataclass(frozen=True)
class Auth:
    scheme: str = "none"
    username: str = ""           # basic: "user:password" or "code&secret" template, base64-encoded
    header: str = "Authorization"
    value: str = ""              # header: value template ("Token {credentials.token}")
    secret: str = ""             # hmac: key template
    message: str = ""            # hmac: text signed, e.g. "{credentials.app_key}{timestamp}{body}"
    algorithm: str = "hmac-sha256"   # or hmac-sha1, hmac-md5, md5, sha256 (see client.signature)
    query: dict = field(default_factory=dict)   # hmac: query parameters carrying key, time and signature
    headers: dict = field(default_factory=dict)  # extra headers, templates


@dataclass(frozen=True)
class Mapping:
    name: str
    source: Path
    base_url: str
    auth: Auth
    credentials: tuple[str, ...]        # names the channel must map to environment variables
    options: dict[str, str]             # the mapping's settings a channel may override ({options.x}), defaults
    create: Call | None
    lookup: Call | None
    cancel: Call | None
    label_source: str                   # url | base64 | none
    label_format: str                   # pdf | zpl
    label_url_authenticated: bool
    label_url: str                      # template for the label's address, when the answer does not give it
    errors: dict[str, str]              # forwarder's error code -> plain reason
    sheet_rows: str = ""                # booking sheet: "lines" (a row per order line) or "orders"; "" = none
    sheet_columns: tuple[tuple[str, str], ...] = ()   # (header, template) of the booking sheet
    ok_status: tuple[int, ...] = (200, 201)


def load_mapping(name: str, workspace: Path | None = None) -> Mapping:
    return parse_mapping(find_template("carriers", name, workspace, f"forwarder {name!r}: no mapping file"))


def parse_mapping(path: Path) -> Mapping:
    where = str(path)
    data = read_toml(path)
    auth_raw = data.get("auth", {})
    auth = Auth(**{k: v for k, v in auth_raw.items() if k in Auth.__dataclass_fields__})
    if auth.scheme not in AUTH_SCHEMES:
        raise ConfigError(f"{where}: auth.scheme must be one of {', '.join(AUTH_SCHEMES)}")
    if auth.scheme == "hmac" and auth.algorithm not in SIGNATURES:
        raise ConfigError(f"{where}: auth.algorithm must be one of {', '.join(SIGNATURES)}")
    calls = {}
    for name in CALLS:
        raw = data.get(name)
        if raw is None:
            if name == "create" and "sheet" not in data:
                raise ConfigError(f"{where}: a [create] table (or a [sheet] table) is required")
            calls[name] = None
            continue
        if not isinstance(raw.get("path"), str):
            raise ConfigError(f"{where}: [{name}] needs path = \"/...\"")
        calls[name] = Call(method=str(raw.get("method", "POST")).upper(), path=raw["path"],
                           query=raw.get("query", {}), body=raw.get("body"), body_list=bool(raw.get("body_list")),
                           ok=raw.get("ok", {}), paths=raw.get("answer", {}))
    label = data.get("label", {})
    sheet = data.get("sheet", {})
    columns = sheet.get("columns", [])
    if sheet and (sheet.get("rows") not in ("lines", "orders") or not columns
                  or not all(isinstance(c, list) and len(c) == 2 for c in columns)):
        raise ConfigError(f"{where}: [sheet] needs rows = \"lines\" or \"orders\" and columns = "
                          "[[\"header\", \"{placeholder}\"], ...]")
    mapping = Mapping(
        name=path.stem, source=path, base_url=str(data.get("base_url", "")).rstrip("/"), auth=auth,
        credentials=tuple(data.get("credentials", [])), options={str(k): str(v) for k, v in data.get("options", {}).items()},
        create=calls["create"], lookup=calls["lookup"],
        cancel=calls["cancel"], label_source=str(label.get("source", "none")),
        label_format=str(label.get("format", "pdf")),
        label_url_authenticated=bool(label.get("authenticated", False)),
        label_url=str(label.get("url", "")),
        errors={str(k): str(v) for k, v in data.get("errors", {}).items()},
        sheet_rows=str(sheet.get("rows", "")), sheet_columns=tuple((str(h), str(t)) for h, t in columns))
    if mapping.label_source not in LABEL_SOURCES or mapping.label_format not in ("pdf", "zpl"):
        raise ConfigError(f"{where}: label.source must be url, base64 or none and label.format pdf or zpl")
    if mapping.create and "tracking_number" not in mapping.create.paths:
        raise ConfigError(f"{where}: [create.answer] must say where tracking_number is")
    _check_placeholders(mapping, where)
    return mapping


def _check_placeholders(mapping: Mapping, where: str) -> None:
    known = FIELDS | {f"credentials.{c}" for c in mapping.credentials} | {f"options.{o}" for o in mapping.options}
    known |= {"tracking_number", "base_url"}
    texts = [mapping.label_url, mapping.auth.username, mapping.auth.value, mapping.auth.secret, mapping.auth.message,
             *mapping.auth.query.values(), *mapping.auth.headers.values()]
    for call in (mapping.create, mapping.lookup, mapping.cancel):
        if call:
            texts += [call.path, *_strings(call.query), *_strings(call.body)]
    texts += [template for _, template in mapping.sheet_columns]
    for text in texts:
        for name in PLACEHOLDER.findall(str(text)):
            if name not in known:
                raise ConfigError(f"{where}: unknown placeholder {{{name}}} (known: {', '.join(sorted(known))})")


def _strings(template) -> list[str]:
    if isinstance(template, dict):
        return [s for v in template.values() for s in _strings(v)]
    if isinstance(template, list):
        return [s for v in template for s in _strings(v)]
    return [template] if isinstance(template, str) else []
