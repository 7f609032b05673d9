"""Review (待审核): the built-in checks, then the review rules (审单规则); held orders wait for staff."""
from __future__ import annotations

import pandas as pd

from ..config import ReviewChecks
from ..frame_records import order_keys
from ..postcodes import postcode_reasons
from ..rules.evaluate import apply_rules, with_tags_and_notes
from ..rules.model import Rule
from .events import concat_events, events_for
from .merge import REQUESTED

def review(orders: pd.DataFrame, lines: pd.DataFrame, known_countries: frozenset[str], checks: ReviewChecks,
           rules: tuple[Rule, ...], facts_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders in `review` move to `process`, or to `hold` with reasons: first the built-in checks
    that are switched on (every failing one named), then the review rules in their order.
    ``facts_of(orders)`` gives the rules' facts for some orders."""
    orders = orders.copy()
    todo = orders["stage"] == "review"
    if not todo.any():
        return orders, events_for(orders.iloc[:0], "")
    o = orders[todo]
    text = builtin_reasons(o, lines, known_countries, checks)
    passed = text.index[text.eq("")]
    decided = apply_rules(rules, facts_of(orders.loc[passed]))
    text.loc[passed] = decided.hold
    held = text.ne("")
    orders.loc[text.index[held], "stage"] = "hold"
    orders.loc[text.index[held], "held_at"] = "review"
    orders.loc[text.index[held], "hold_reason"] = text[held]
    passed = text.index[~held]
    orders.loc[passed, "stage"] = "process"
    for column, values in (("channel", decided.channel), ("warehouse", decided.warehouse)):
        orders.loc[values.index[values.ne("")], column] = values[values.ne("")]
    orders = with_tags_and_notes(orders, decided)
    asks = decided.merge.index[decided.merge]
    orders.loc[orders.index.intersection(asks).intersection(passed), "merge"] = REQUESTED
    why = pd.Series("passed default rules", index=passed, dtype=object)
    matched = decided.matched.reindex(passed).fillna("")
    why[matched.ne("")] = "passed; " + matched[matched.ne("")] + " matched"
    return orders, concat_events([
        events_for(orders.loc[text.index[held]], "held", text[held]),
        events_for(orders.loc[passed], "reviewed", why),
        events_for(orders.loc[orders.index.intersection(asks).intersection(passed)], "merge requested",
                   "a review rule asks to merge it with the buyer's other orders to this address"),
    ])


def builtin_reasons(o: pd.DataFrame, lines: pd.DataFrame, known_countries: frozenset[str],
                     checks: ReviewChecks) -> pd.Series:
    reasons = pd.DataFrame(index=o.index)
    for col, check, words in (("recipient_name", checks.recipient_name, "recipient name"),
                              ("address1", checks.address, "address"), ("city", checks.city, "city"),
                              ("country", checks.country, "country")):
        if check:
            reasons[col] = o[col].str.strip().eq("").map({True: f"{words} missing", False: ""})
    if checks.postcode:
        # required or not, and the format, per country from Google's address data (batchship/postcodes.py)
        reasons["postcode"] = postcode_reasons(o["country"], o["postcode"])
    if checks.known_country:
        unknown = o["country"].ne("") & ~o["country"].isin(known_countries)
        reasons["country_known"] = ("unknown country " + o["country"]).where(unknown, "")
    if checks.lines:
        reasons["lines"] = _line_reasons(o, lines)
    if not len(reasons) or not len(reasons.columns):
        return pd.Series("", index=o.index, dtype=object)
    # Row by row in plain lists: DataFrame.apply over the rows took a quarter of a second at 60,000 orders.
    columns = [reasons[c].tolist() for c in reasons.columns]
    return pd.Series(["; ".join([x for x in row if x]) for row in zip(*columns)], index=o.index, dtype=object)


def _line_reasons(orders: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    keys = orders[["shop", "order_id"]].reset_index()
    mine = lines.merge(keys, on=["shop", "order_id"])
    no_sku = mine["sku"].str.strip().eq("")
    bad_qty = mine["quantity"] <= 0
    msg = pd.Series("", index=mine.index, dtype=object)
    msg[no_sku] = "line " + mine.loc[no_sku, "line_no"].astype(str) + " has no SKU"
    msg[bad_qty] = "line " + mine.loc[bad_qty, "line_no"].astype(str) + " quantity must be > 0"
    has = msg.ne("")
    per_order = mine[has].assign(msg=msg[has]).groupby("index")["msg"].agg("; ".join)
    with_lines = set(order_keys(lines))
    lineless = [key not in with_lines for key in order_keys(orders)]
    out = pd.Series("", index=orders.index, dtype=object)
    out.update(per_order)
    out[lineless] = "order has no lines"
    return out
