"""How rules apply to orders, and why a rule did not match one.

Rules of a kind are tried in their order, top to bottom. A matching rule's
actions apply; tags and notes add up, and the first rule that sets a channel
or a warehouse decides it. A matching rule that holds, approves, or (a
logistics rule) picks a channel is the last one tried for that order: rule
order decides every conflict.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

import pandas as pd

from .facts import normal_text
from .model import Rule

LISTED_FACTS = {"shops": "shop", "platforms": "platform", "countries": "country"}
RANGE_FACTS = {"value": "value", "total": "total", "weight": "weight_g", "items": "items"}   # min_<x>, max_<x>
# The facts each condition reads; "missing" reads the ones it names.
CONDITION_FACTS = {
    **{key: (fact,) for key, fact in LISTED_FACTS.items()}, "currency": ("currency",), "postcodes": ("postcode",),
    **{f"{end}_{name}": (fact,) for name, fact in (("value", "value"), ("total", "total"),
                                                   ("weight_g", "weight_g"), ("items", "items"))
       for end in ("min", "max")},
    "skus": ("skus",), "sku_patterns": ("skus",), "blacklisted": ("blacklisted",), "address_keywords": ("address",),
    "missing": (), "shipping_services": ("shipping_service",), "tags": ("tags",),
    "paid_hours_over": ("hours_since_paid",),
}


def facts_read(rules: tuple[Rule, ...]) -> frozenset[str]:
    """The facts the switched-on ``rules`` look at. Building every fact of every order took longer
    than the rules themselves, mostly for facts no rule reads."""
    read: set[str] = set()
    for rule in rules:
        if rule.enabled:
            for key, want in rule.conditions.items():
                read.update(want if key == "missing" else CONDITION_FACTS[key])
    return frozenset(read)


def condition_mask(key: str, want, f: pd.DataFrame) -> pd.Series:
    """Orders (rows of facts ``f``) for which one condition holds."""
    if key in LISTED_FACTS:
        return f[LISTED_FACTS[key]].isin(want)
    if key == "currency":
        return f["currency"] == want
    if key == "postcodes":
        rx = _patterns([w.replace(" ", "").upper() for w in want])
        return f["postcode"].map(lambda p: bool(rx.fullmatch(p)))
    if key in ("min_value", "max_value", "min_total", "max_total", "min_weight_g", "max_weight_g",
               "min_items", "max_items"):
        column = RANGE_FACTS[key.split("_")[1]]
        values = f[column].astype(float)
        return (values >= float(want)) if key.startswith("min") else (values <= float(want))
    if key == "skus":
        wanted = frozenset(want)
        return f["skus"].map(lambda s: not s.isdisjoint(wanted)).astype(bool)
    if key == "sku_patterns":
        rx = _patterns(want)
        return f["skus"].map(lambda s: any(rx.fullmatch(x) for x in s)).astype(bool)
    if key == "blacklisted":
        return f["blacklisted"].ne("") == want
    if key == "address_keywords":
        words = "|".join(r"\b" + re.escape(normal_text(w)) + r"\b" for w in want)
        return f["address"].str.contains(words, regex=True)
    if key == "missing":
        m = pd.Series(False, index=f.index)
        for field_ in want:
            m |= f[field_].eq("")
        return m
    if key == "shipping_services":
        return f["shipping_service"].str.strip().str.casefold().isin([w.casefold() for w in want])
    if key == "tags":
        wanted = frozenset(w.casefold() for w in want)
        return f["tags"].map(lambda s: not s.isdisjoint(wanted)).astype(bool)
    if key == "paid_hours_over":
        return f["hours_since_paid"] > float(want)
    raise KeyError(key)


def _patterns(patterns) -> re.Pattern:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE)


def rule_mask(rule: Rule, f: pd.DataFrame) -> pd.Series:
    m = pd.Series(True, index=f.index)
    for key, want in rule.conditions.items():
        m &= condition_mask(key, want, f).fillna(False).astype(bool)
    return m


@dataclass
class Outcome:
    """Per order (indexed like the facts): what the rules decided."""
    hold: pd.Series        # reason, "" when no rule held it
    approved: pd.Series    # bool
    channel: pd.Series
    warehouse: pd.Series
    tags: pd.Series        # tags added, ", "-joined
    notes: pd.Series       # "; "-joined
    merge: pd.Series       # bool
    matched: pd.Series     # labels of the rules that matched, "; "-joined
    decided: pd.Series     # bool: a final rule matched


def apply_rules(rules: tuple[Rule, ...], f: pd.DataFrame) -> Outcome:
    idx = f.index
    text = lambda: pd.Series("", index=idx, dtype=object)  # noqa: E731
    out = Outcome(text(), pd.Series(False, index=idx), text(), text(), text(), text(),
                  pd.Series(False, index=idx), text(), pd.Series(False, index=idx))
    for rule in rules:
        if not rule.enabled:
            continue
        m = rule_mask(rule, f) & ~out.decided
        if not m.any():
            continue
        _add(out.matched, m, rule.label, "; ")
        if rule.channel:
            out.channel[m & out.channel.eq("")] = rule.channel
        if rule.warehouse:
            out.warehouse[m & out.warehouse.eq("")] = rule.warehouse
        for tag in rule.add_tags:
            _add(out.tags, m, tag, ", ")
        if rule.note:
            _add(out.notes, m, rule.note, "; ")
        if rule.merge:
            out.merge[m] = True
        if rule.hold:
            out.hold[m] = f"{rule.hold} ({rule.label})"
        if rule.approve:
            out.approved[m] = True
        if rule.final:
            out.decided |= m
    return out


def _add(series: pd.Series, m: pd.Series, text: str, sep: str) -> None:
    series[m] = series[m].map(lambda s: s + sep + text if s else text)


def explain_order(rules: tuple[Rule, ...], f: pd.DataFrame) -> list[str]:
    """For one order (a one-row facts frame): each rule in turn, whether it matched and if not, why."""
    out, decided = [], False
    for rule in rules:
        head = f"{rule.label}: "
        if decided:
            out.append(head + "not tried: an earlier rule decided")
            continue
        if not rule.enabled:
            out.append(head + "switched off")
            continue
        failed = [_why_not(key, want, f.iloc[0]) for key, want in rule.conditions.items()
                  if not bool(condition_mask(key, want, f).fillna(False).iloc[0])]
        if failed:
            out.append(head + "did not match: " + "; ".join(failed))
        else:
            out.append(head + "MATCHED -> " + rule.actions_text())
            decided = rule.final
    return out


def _why_not(key: str, want, fact: pd.Series) -> str:
    listed = ", ".join(map(str, want)) if isinstance(want, tuple) else str(want)
    if key in LISTED_FACTS:
        have = fact[LISTED_FACTS[key]]
        return f"{LISTED_FACTS[key]} is {have or '(blank)'}, not one of {listed}"
    if key == "currency":
        return f"currency is {fact['currency'] or '(blank)'}, not {want}"
    if key == "postcodes":
        return f"postcode {fact['postcode'] or '(blank)'} matches none of {listed}"
    if key.startswith(("min_", "max_")):
        column = RANGE_FACTS[key.split("_")[1]]
        have = fact[column]
        bound = "at least" if key.startswith("min") else "at most"
        words = {"value": "goods value", "total": "order total", "weight_g": "weight (g)", "items": "items"}[column]
        return f"{words} is {'unknown' if pd.isna(have) else have}, not {bound} {want}"
    if key in ("skus", "sku_patterns"):
        return f"no line's SKU ({', '.join(sorted(fact['skus'])) or 'none'}) is {listed}"
    if key == "blacklisted":
        return "not on the blacklist" if want else f"on the blacklist ({fact['blacklisted']})"
    if key == "address_keywords":
        return f"the address holds none of {listed}"
    if key == "missing":
        return f"it has {' and '.join(want)}"
    if key == "shipping_services":
        return f"shipping service is {fact['shipping_service'] or '(blank)'}, not one of {listed}"
    if key == "tags":
        return f"tags ({', '.join(sorted(fact['tags'])) or 'none'}) include none of {listed}"
    if key == "paid_hours_over":
        hours = fact["hours_since_paid"]
        return (f"paid {hours:.1f} hours ago, not more than {want}" if not pd.isna(hours)
                else "payment time unknown")
    return key


def with_tags_and_notes(orders: pd.DataFrame, out: Outcome) -> pd.DataFrame:
    """``orders`` with the tags and notes the rules added (a tag already there is not repeated)."""
    orders = orders.copy()
    tagged = out.tags.index[out.tags.ne("")]
    for i in tagged:
        have = [t.strip() for t in str(orders.at[i, "tags"]).split(",") if t.strip()]
        new = [t for t in out.tags[i].split(", ") if t.casefold() not in {h.casefold() for h in have}]
        orders.at[i, "tags"] = ", ".join(have + new)
    noted = out.notes.index[out.notes.ne("")]
    for i in noted:
        old = str(orders.at[i, "notes"])
        if out.notes[i] not in old:
            orders.at[i, "notes"] = old + "; " + out.notes[i] if old else out.notes[i]
    return orders
