"""Process (待处理): customs data from the product list, then the first matching logistics rule.

Orders held here (missing customs field, no matching rule) are retried every
batch, so a corrected product sheet or rule releases them.
"""
from __future__ import annotations

import pandas as pd

from ..frame_records import cell_values, order_keys
from ..rules.evaluate import apply_rules, with_tags_and_notes
from ..rules.model import Rule
from ..schemas import Product
from ..store import CUSTOMS_COLUMNS
from .events import concat_events, events_for

REQUIRED_CUSTOMS = (Product.declared_name_en, Product.declared_name_cn, Product.declared_value,
                    Product.declared_currency, Product.weight_g, Product.hs_code, Product.origin_country)


def process(orders: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame,
            rules: tuple[Rule, ...], facts_of) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``facts_of(orders)`` gives the logistics rules' facts for some orders (rules/facts.py)."""
    orders, lines = orders.copy(), lines.copy()
    todo = (orders["stage"] == "process") | ((orders["stage"] == "hold") & (orders["held_at"] == "process"))
    if not todo.any():
        return orders, lines, events_for(orders.iloc[:0], "")
    o = orders[todo]
    keys = o[["shop", "order_id"]]
    mine = lines.reset_index().merge(keys, on=["shop", "order_id"])
    with_product = mine.merge(products[list(REQUIRED_CUSTOMS) + [Product.sku]].assign(known_product=True),
                              on="sku", how="left", suffixes=("_old", ""))
    problems = _customs_problems(with_product)
    per_order = problems.groupby(["shop", "order_id"])["msg"].agg("; ".join)

    fill = with_product.set_index("index")
    fill["weight_g"] = fill["weight_g"].fillna(0).astype("int64")
    for col in CUSTOMS_COLUMNS:
        lines.loc[fill.index, col] = fill[col] if col == "weight_g" else fill[col].fillna("").astype(object)
    weight = (fill["weight_g"] * fill["quantity"]).groupby([fill["shop"], fill["order_id"]]).sum()

    msg_of, weight_of = per_order.to_dict(), weight.to_dict()
    customs_msg = pd.Series([msg_of.get(key, "") for key in order_keys(o)], index=o.index, dtype=object)
    order_weight = pd.Series([weight_of.get(key, 0) for key in order_keys(o)], index=o.index, dtype="int64")
    facts = facts_of(o).assign(weight_g=order_weight)
    decided = apply_rules(rules, facts)
    channel, warehouse, rule_msg = _route(o, order_weight, decided)
    reason = customs_msg.where(customs_msg.ne(""), rule_msg)

    held = reason.ne("")
    ok = o.index[~held]
    bad = o.index[held]
    orders.loc[bad, ["stage", "held_at", "hold_reason"]] = "hold", "process", ""
    orders.loc[bad, "hold_reason"] = reason[held]
    orders.loc[ok, "stage"] = "waybill"
    orders.loc[ok, ["held_at", "hold_reason"]] = ""
    orders.loc[ok, "channel"] = channel[~held]
    orders.loc[ok, "warehouse"] = warehouse[~held]
    orders = with_tags_and_notes(orders, decided)
    # A held order whose reason changed (one field fixed, another still missing) is reported again.
    reason_changed = bad[(o.loc[bad, "stage"] != "hold").values | (o.loc[bad, "hold_reason"] != reason[bad]).values]
    return orders, lines, concat_events([
        events_for(orders.loc[reason_changed], "held", reason[reason_changed]),
        events_for(orders.loc[ok], "routed", "channel " + channel[~held] + ", warehouse " + warehouse[~held]),
    ])


def _customs_problems(rows: pd.DataFrame) -> pd.DataFrame:
    # Field by field over plain lists, then words only for the lines that lack something: a check
    # of each field of each line, row by row, took 0.4 s of a 100,000-line batch.
    lacking = {f: ([not (v or 0) > 0 for v in cell_values(rows[f])] if f == Product.weight_g
                   else [not str(v or "").strip() for v in cell_values(rows[f])]) for f in REQUIRED_CUSTOMS}
    known = [v is True for v in cell_values(rows["known_product"])]
    shops, orders, skus = (cell_values(rows[c]) for c in ("shop", "order_id", "sku"))
    msgs = []
    for i, lacks in enumerate(zip(*lacking.values())):
        if not known[i]:
            msgs.append((shops[i], orders[i], f"customs: SKU {skus[i]} is not in the product list"))
        elif any(lacks):
            missing = [f for f, lack in zip(REQUIRED_CUSTOMS, lacks) if lack]
            msgs.append((shops[i], orders[i], f"customs: SKU {skus[i]} has no {', '.join(missing)}"))
    out = pd.DataFrame(msgs, columns=["shop", "order_id", "msg"])
    return out.drop_duplicates()


def _route(orders: pd.DataFrame, weight: pd.Series, decided) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A channel or warehouse already set (by a review rule or staff) stands; the rules fill the rest."""
    channel = orders["channel"].where(orders["channel"].ne(""), decided.channel)
    warehouse = orders["warehouse"].where(orders["warehouse"].ne(""), decided.warehouse)
    msg = ("no logistics rule matches (country " + orders["country"] + ", " + weight.astype(str) + " g, value "
           + orders["goods_value"] + " " + orders["currency"] + ")")
    msg = msg.where(channel.eq(""), "")
    return channel, warehouse, decided.hold.where(decided.hold.ne(""), msg)
