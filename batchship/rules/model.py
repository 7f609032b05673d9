"""Order rules as staff write them: review rules (审单规则) and logistics rules (物流规则).

A rule is a name, conditions and actions, read from a plain table (a
``[[review_rules]]`` or ``[[logistics]]`` entry of batchship.toml, or a row of
a rules workbook). Every condition given must hold for the rule to match; an
absent condition matches any order. ``rule_from_table`` is the one reader, so
both sources give the same messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..countries import ISO2_CODES, to_iso2
from ..errors import ConfigError

REVIEW, LOGISTICS = "review", "logistics"

# Condition key -> what it holds. "texts": a list of texts; "patterns": texts with * and ?;
# "number": 0 or more; "whole": a whole number, 0 or more; "flag": true/false.
CONDITIONS: dict[str, tuple[str, str]] = {
    "shops": ("texts", "the order's shop is one of these"),
    "platforms": ("texts", "the order's platform is one of these (shopify, amazon ...)"),
    "countries": ("texts", "the destination country is one of these (codes or names)"),
    "postcodes": ("patterns", "the postcode matches one of these patterns (* any characters, ? one)"),
    "currency": ("text", "the order's currency (ranges of value and total are in it)"),
    "min_value": ("number", "goods value at least this"),
    "max_value": ("number", "goods value at most this"),
    "min_total": ("number", "order total at least this (goods value when the export has no total)"),
    "max_total": ("number", "order total at most this"),
    "min_weight_g": ("whole", "parcel weight in grams at least this (from the product list)"),
    "max_weight_g": ("whole", "parcel weight in grams at most this"),
    "min_items": ("whole", "at least this many items (units over all lines)"),
    "max_items": ("whole", "at most this many items"),
    "skus": ("texts", "any line's SKU is one of these"),
    "sku_patterns": ("patterns", "any line's SKU matches one of these patterns"),
    "blacklisted": ("flag", "buyer, e-mail, phone or address is on the blacklist"),
    "address_keywords": ("texts", "the address contains one of these words (e.g. PO Box)"),
    "missing": ("texts", "the order has no phone and/or no email"),
    "shipping_services": ("texts", "the marketplace's shipping service is one of these"),
    "tags": ("texts", "the order carries one of these tags"),
    "paid_hours_over": ("number", "paid more than this many hours ago"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "hold": ("text", "hold the order with this reason"),
    "approve": ("flag", "review: pass the order now, skipping the rules after this one"),
    "channel": ("text", "ship with this channel"),
    "warehouse": ("text", "ship from this warehouse"),
    "add_tags": ("texts", "put these tags on the order"),
    "note": ("text", "add this note to the order"),
    "merge": ("flag", "merge with the same buyer's orders to the same address in the shop"),
}
GENERAL = {"name": "text", "enabled": "flag"}
SETTINGS = (*GENERAL, *CONDITIONS, *ACTIONS)        # a rules workbook's columns, in its order
RULE_TYPES = (REVIEW, LOGISTICS)
# What staff write in a workbook's type column, after folding case and spaces.
TYPE_WORDS = {"review": REVIEW, "review rule": REVIEW, "审单": REVIEW, "审单规则": REVIEW, "审核": REVIEW,
              "logistics": LOGISTICS, "logistics rule": LOGISTICS, "物流": LOGISTICS, "物流规则": LOGISTICS}
MISSING_FIELDS = ("phone", "email")


@dataclass(frozen=True)
class Rule:
    kind: str                              # REVIEW or LOGISTICS
    number: int                            # 1.. in its list: the evaluation order
    name: str
    conditions: dict = field(default_factory=dict)    # key -> normalised value (see CONDITIONS)
    hold: str = ""
    approve: bool = False
    channel: str = ""
    warehouse: str = ""
    add_tags: tuple[str, ...] = ()
    note: str = ""
    merge: bool = False
    enabled: bool = True
    source: str = ""                       # where it was written, for messages

    @property
    def label(self) -> str:
        return f"{self.kind} rule {self.number}" + (f" {self.name!r}" if self.name else "")

    @property
    def final(self) -> bool:
        """Whether a match ends the evaluation for that order (see rules/evaluate.py)."""
        return bool(self.hold or self.approve or (self.kind == LOGISTICS and self.channel))

    def actions_text(self) -> str:
        parts = []
        if self.hold:
            parts.append(f"hold ({self.hold})")
        if self.approve:
            parts.append("approve")
        if self.channel:
            parts.append(f"channel {self.channel}")
        if self.warehouse:
            parts.append(f"warehouse {self.warehouse}")
        if self.add_tags:
            parts.append("tag " + ", ".join(self.add_tags))
        if self.note:
            parts.append(f"note {self.note!r}")
        if self.merge:
            parts.append("merge")
        return "; ".join(parts) or "nothing"


def rule_from_table(table: dict, kind: str, number: int, where: str) -> Rule:
    """One rule from its settings; ``where`` starts every message (file, entry or row)."""
    known = set(CONDITIONS) | set(ACTIONS) | set(GENERAL)
    unknown = sorted(k for k in table if k not in known)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {', '.join(map(repr, unknown))} (conditions: "
                          f"{', '.join(CONDITIONS)}; actions: {', '.join(ACTIONS)}; also name, enabled)")
    conditions = {key: _condition(key, value, where) for key, value in table.items()
                  if key in CONDITIONS and not _blank(value)}
    values = {key: _value(key, ACTIONS[key][0], value, where) for key, value in table.items()
              if key in ACTIONS and not _blank(value)}
    general = {key: _value(key, kind_, table[key], where) for key, kind_ in GENERAL.items()
               if key in table and not _blank(table[key])}
    rule = Rule(kind=kind, number=number, conditions=conditions, source=where,
                name=general.get("name", ""), enabled=general.get("enabled", True),
                hold=values.get("hold", ""), approve=values.get("approve", False),
                channel=values.get("channel", ""), warehouse=values.get("warehouse", ""),
                add_tags=tuple(values.get("add_tags", ())), note=values.get("note", ""),
                merge=values.get("merge", False))
    if kind == LOGISTICS and not (rule.channel or rule.hold or rule.warehouse):
        raise ConfigError(f"{where}: a logistics rule needs channel = \"...\" (or hold = \"reason\")")
    if kind == LOGISTICS and (rule.approve or rule.merge):
        raise ConfigError(f"{where}: approve and merge are review actions; put them in a review rule")
    if rule.hold and rule.approve:
        raise ConfigError(f"{where}: a rule cannot both hold and approve")
    if kind == REVIEW and rule.actions_text() == "nothing":
        raise ConfigError(f"{where}: the rule has no action ({', '.join(ACTIONS)})")
    return rule


def setting_error(key: str, value) -> str:
    """Why a workbook cell is no valid value of setting ``key`` ("" when it is)."""
    try:
        if key in CONDITIONS:
            _condition(key, value, "")
        else:
            _value(key, ACTIONS[key][0] if key in ACTIONS else GENERAL[key], value, "")
    except ConfigError as exc:
        return exc.message.removeprefix(": ")
    return ""


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _condition(key: str, value, where: str):
    shape = CONDITIONS[key][0]
    value = _value(key, shape, value, where)
    if key == "countries":
        codes = tuple(to_iso2(c) for c in value)
        bad = [c for c, code in zip(value, codes) if code not in ISO2_CODES]
        if bad:
            raise ConfigError(f"{where}: countries: {', '.join(map(repr, bad))} is not a country "
                              "(use ISO codes such as US, GB or names such as Germany)")
        return tuple(dict.fromkeys(codes))
    if key == "missing":
        bad = [v for v in value if v.lower() not in MISSING_FIELDS]
        if bad:
            raise ConfigError(f"{where}: missing: {', '.join(map(repr, bad))} is not one of phone, email")
        return tuple(v.lower() for v in value)
    if key == "currency":
        return value.upper()
    if key == "platforms":
        return tuple(v.lower() for v in value)
    return value


def _value(key: str, shape: str, value, where: str):
    if shape in ("texts", "patterns"):
        if isinstance(value, str):     # a workbook cell: "US, CA" or one per line
            value = [v for v in re.split(r"[,;\n，；、]", value)]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int)) for v in value):
            raise ConfigError(f"{where}: {key} must be a list of texts, such as [\"A\", \"B\"], not {value!r}")
        items = tuple(str(v).strip() for v in value if str(v).strip())
        if not items:
            raise ConfigError(f"{where}: {key} is empty")
        return items
    if shape == "text":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: {key} must be a text in quotes, not {value!r}")
        return str(value).strip()
    if shape == "flag":
        if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
            return _FLAG_WORDS[value.strip().lower()]
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")
        return value
    # number / whole
    expected = ("a whole number" + (" of grams" if key.endswith("_g") else "")) if shape == "whole" else "a number"
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{where}: {key} must be {expected}, not {value!r}")
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{where}: {key} must be a number of 0 or more, not {value!r}")
    if shape == "whole":
        if number != number.to_integral_value():
            raise ConfigError(f"{where}: {key} must be {expected}, not {value!r}")
        return int(number)
    return number


_FLAG_WORDS = {"true": True, "yes": True, "y": True, "1": True, "是": True,
               "false": False, "no": False, "n": False, "0": False, "否": False}
