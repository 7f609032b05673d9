"""Review (待审核): default order rules. Failing orders go to hold with every reason found."""
from __future__ import annotations

import pandas as pd

from .events import concat_events, events_for

# Countries whose addresses carry no postcode; requiring one would hold every order there.
NO_POSTCODE = frozenset({
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK", "CM",
    "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "IE", "JM", "KI", "KM", "KN", "KP",
    "LC", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SO", "SR", "SS", "ST", "SY",
    "TD", "TF", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
})


def review(orders: pd.DataFrame, lines: pd.DataFrame, known_countries: frozenset[str]
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders in `review` move to `process`, or to `hold` with reasons."""
    orders = orders.copy()
    todo = orders["stage"] == "review"
    if not todo.any():
        return orders, events_for(orders.iloc[:0], "")
    o = orders[todo]
    reasons = pd.DataFrame(index=o.index)
    for col, words in (("recipient_name", "recipient name"), ("address1", "address"),
                       ("city", "city"), ("country", "country")):
        reasons[col] = o[col].str.strip().eq("").map({True: f"{words} missing", False: ""})
    needs_postcode = ~o["country"].isin(NO_POSTCODE) & o["postcode"].str.strip().eq("")
    reasons["postcode"] = needs_postcode.map({True: "postcode missing", False: ""})
    unknown = o["country"].ne("") & ~o["country"].isin(known_countries)
    reasons["country_known"] = ("unknown country " + o["country"]).where(unknown, "")
    reasons["lines"] = _line_reasons(o, lines)

    text = reasons.apply(lambda r: "; ".join(x for x in r if x), axis=1) if len(reasons) else pd.Series(dtype=object)
    held = text.ne("")
    orders.loc[text.index[held], "stage"] = "hold"
    orders.loc[text.index[held], "held_at"] = "review"
    orders.loc[text.index[held], "hold_reason"] = text[held]
    passed = text.index[~held]
    orders.loc[passed, "stage"] = "process"
    return orders, concat_events([
        events_for(orders.loc[text.index[held]], "held", text[held]),
        events_for(orders.loc[passed], "reviewed", "passed default rules"),
    ])


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
    lineless = ~orders.set_index(["shop", "order_id"]).index.isin(
        lines.set_index(["shop", "order_id"]).index)
    out = pd.Series("", index=orders.index, dtype=object)
    out.update(per_order)
    out[lineless] = "order has no lines"
    return out
