"""`batchship rules check` and `batchship rules explain`: the rules in force, read as staff read them."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..config import Config
from ..countries import ISO2_CODES
from ..stages.review import builtin_reasons
from ..database import database_url, has_state
from ..store import Store
from .check import Known, check_rules
from .evaluate import explain_order
from .facts import order_facts
from .in_force import RulesInForce, blacklist_in_force, rules_in_force


def _open(root: Path) -> Store | None:
    url = database_url(root)
    return Store(url) if has_state(url) else None


def _in_force(store: Store | None, config: Config) -> RulesInForce:
    return rules_in_force(store, config) if store else RulesInForce(config.review_rules, config.logistics)


def rules_check(root: Path, config: Config) -> tuple[list[str], int]:
    """Report lines and the number of findings."""
    store = _open(root)
    try:
        rules = _in_force(store, config)
        skus = (set(store.products()["sku"]) | set(store.on_hand()["sku"])) if store else set()
        known = Known(channels=frozenset(config.channels), shops=frozenset(config.shops),
                      skus=frozenset(skus), warehouses=frozenset(store.warehouses() if store else ()))
    finally:
        if store:
            store.close()
    out, count = [], 0
    for kind, listed in (("review", rules.review), ("logistics", rules.logistics)):
        findings = check_rules(listed, known)
        count += len(findings)
        source = listed[0].source.rsplit(" row ", 1)[0].rsplit(":", 1)[0] if listed else "none"
        out.append(f"{kind} rules: {len(listed)} (from {source}), {len(findings) or 'no'} findings")
        out += [f"  {f}" for f in findings]
    return out, count


def rules_explain(root: Path, config: Config, shop: str, order_id: str, now: datetime | None = None) -> list[str]:
    store = _open(root)
    if store is None:
        return [f"no runs yet in {root}: no order {shop}/{order_id}"]
    try:
        orders = store.orders_by_keys([(shop, order_id)])
        if orders.empty:
            return [f"no order {order_id!r} of shop {shop!r} in this workspace"]
        lines, products = store.lines_of(orders), store.products()
        rules = _in_force(store, config)
        blacklist = blacklist_in_force(store, config)
    finally:
        store.close()
    order = orders.iloc[0]
    facts = order_facts(orders, lines, products, blacklist, now or datetime.now().astimezone())
    out = [f"order {shop}/{order_id}: stage {order['stage']}"
           + (f", held: {order['hold_reason']}" if order["stage"] == "hold" else "")
           + (f", channel {order['channel']}" if order["channel"] else "")]
    failed = builtin_reasons(orders, lines, ISO2_CODES, config.review_checks).iloc[0]
    out.append("built-in checks: " + (f"fail: {failed}" if failed else "pass")
               + " (they come before the review rules; switch one off in [review_checks])")
    out.append("review rules, top to bottom:" if rules.review else "review rules: none")
    out += ["  " + line for line in explain_order(rules.review, facts)]
    out.append("logistics rules, top to bottom:" if rules.logistics else "logistics rules: none")
    out += ["  " + line for line in explain_order(rules.logistics, facts)]
    return out
