"""What can be told about rules without orders: rules that can never fire, rules an earlier one
shadows, and rules naming channels, warehouses, shops or SKUs nobody declared."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from .model import Rule

_SETS = ("shops", "platforms", "countries", "skus", "tags", "shipping_services", "missing",
         "address_keywords", "postcodes", "sku_patterns")


@dataclass(frozen=True)
class Finding:
    rule: Rule
    problem: str           # "never fires" | "shadowed" | "unknown channel" | ...
    detail: str

    def __str__(self) -> str:
        named = f" {self.rule.name!r}" if self.rule.name else ""
        return f"{self.rule.source}{named}: {self.problem}: {self.detail}"


@dataclass(frozen=True)
class Known:
    channels: frozenset[str]
    shops: frozenset[str]
    skus: frozenset[str]          # empty: no product list or count yet, so none is reported
    warehouses: frozenset[str]    # empty: none known yet (no stock counted), so none is reported


def check_rules(rules: tuple[Rule, ...], known: Known) -> list[Finding]:
    """Findings for one kind's rules, in rule order."""
    found: list[Finding] = []
    for i, rule in enumerate(rules):
        if not rule.enabled:
            found.append(Finding(rule, "never fires", "it is switched off (enabled = false)"))
            continue
        found += [Finding(rule, "never fires", why) for why in _impossible(rule)]
        shadow = next((earlier for earlier in rules[:i] if earlier.enabled and earlier.final
                       and implies(rule.conditions, earlier.conditions)), None)
        if shadow is not None:
            found.append(Finding(rule, "shadowed", f"every order it matches, {shadow.label} "
                                 f"({shadow.actions_text()}) matches first"))
        found += _unknown(rule, known)
    return found


def unknown_channels(rules: tuple[Rule, ...], channels) -> list[Finding]:
    """The findings a run refuses to start with: an order routed so could never get a waybill."""
    return [f for f in _unknown_names(rules, "channel", channels) if f.rule.enabled]


def _impossible(rule: Rule) -> list[str]:
    c = rule.conditions
    out = []
    for x in ("value", "total", "weight_g", "items"):
        low, high = c.get(f"min_{x}"), c.get(f"max_{x}")
        if low is not None and high is not None and low > high:
            out.append(f"min_{x} {low} is above max_{x} {high}")
    return out


def _unknown(rule: Rule, known: Known) -> list[Finding]:
    found = _unknown_names((rule,), "channel", known.channels)
    if known.warehouses and rule.warehouse and rule.warehouse not in known.warehouses:
        found.append(Finding(rule, "unknown warehouse", f"{rule.warehouse!r} has no stock in the ledger "
                             f"(warehouses: {', '.join(sorted(known.warehouses))})"))
    for key, names, what in (("shops", known.shops, "shop"), ("skus", known.skus, "SKU")):
        if what == "SKU" and not names:     # no product list or count yet: nothing to compare with
            continue
        missing = [n for n in rule.conditions.get(key, ()) if n not in names]
        if missing:
            found.append(Finding(rule, f"unknown {what}", f"{', '.join(map(repr, missing))} "
                                 + ("is not a shop in batchship.toml" if what == "shop"
                                    else "is in neither the product list nor a stock count")))
    return found


def _unknown_names(rules, attr: str, names) -> list[Finding]:
    return [Finding(r, f"unknown {attr}", f"{attr} {getattr(r, attr)!r} is not declared under [[channels]] "
                    f"(channels: {', '.join(sorted(names)) or 'none'})")
            for r in rules if getattr(r, attr) and getattr(r, attr) not in names]


def implies(later: dict, earlier: dict) -> bool:
    """Whether every order matching conditions ``later`` also matches ``earlier`` (only what can be
    proved from the conditions: False when unsure)."""
    for key, want in earlier.items():
        have = later.get(key)
        if key.startswith("min_"):
            if have is None or have < want:
                return False
        elif key.startswith("max_"):
            if have is None or have > want:
                return False
        elif key == "paid_hours_over":
            if have is None or have < want:
                return False
        elif key == "sku_patterns":
            skus = later.get("skus")
            by_pattern = have is not None and set(have) <= set(want)
            by_sku = skus is not None and all(any(fnmatch.fnmatchcase(s.upper(), p.upper()) for p in want)
                                              for s in skus)
            if not (by_pattern or by_sku):
                return False
        elif key in _SETS:
            if have is None or not set(have) <= set(want):
                return False
        elif have != want:
            return False
    return True
