"""Sync (同步订单): new marketplace orders enter review; known ones only get their platform status.

A cancelled or refunded order is taken out of the flow: its allocation is
released and its waybill voided (the number never returns to the pool).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd

from ..schemas import Line
from ..store import LINE_COLUMNS, ORDER_COLUMNS, CUSTOMS_COLUMNS
from .events import concat_events, empty_events, events_for

_ORDER_FIELDS = [Line.platform, Line.paid_at, Line.recipient_name, Line.address1, Line.address2, Line.city,
                 Line.state, Line.postcode, Line.country, Line.phone, Line.email, Line.currency,
                 Line.order_total, Line.platform_status, Line.file, Line.row]
_ENDED = ("cancelled", "refunded")
UNPAID_REASON = "not paid yet on the platform"


@dataclass
class SyncResult:
    orders: pd.DataFrame        # existing orders, updated, plus the new ones
    new_lines: pd.DataFrame     # lines of new orders (after pairing)
    voided: list[str]           # tracking numbers voided by cancellations
    events: pd.DataFrame


def sync_orders(existing: pd.DataFrame, incoming: pd.DataFrame, pairing: pd.DataFrame,
                known_skus: set[str], run_id: str) -> SyncResult:
    if incoming.empty:
        return SyncResult(existing.copy(), pd.DataFrame(columns=LINE_COLUMNS), [], empty_events())
    key = [Line.shop, Line.order_id]
    # The first file in the batch that carries an order defines it; later copies only update status.
    first_file = incoming.groupby(key, sort=False)[Line.file].transform("first")
    incoming = incoming[incoming[Line.file] == first_file]
    heads = incoming.drop_duplicates(key, keep="first").set_index(key)
    existing = existing.set_index(key)
    is_new = ~heads.index.isin(existing.index)

    new_heads = heads[is_new]
    new_orders = _new_orders(new_heads, incoming, run_id)
    new_lines = _paired_lines(incoming.merge(new_heads.index.to_frame(index=False), on=key), pairing)
    new_orders = _note_unpaired(new_orders, new_lines, pairing, known_skus)

    updated, voided, update_events = _status_updates(existing, heads[~is_new], run_id)
    orders = pd.concat([updated.reset_index(), new_orders], ignore_index=True)[ORDER_COLUMNS]
    entered = new_orders["stage"]
    events = concat_events([
        events_for(new_orders, "imported", "entered " + entered),
        update_events,
    ])
    return SyncResult(orders, new_lines[LINE_COLUMNS], voided, events)


def _new_orders(heads: pd.DataFrame, incoming: pd.DataFrame, run_id: str) -> pd.DataFrame:
    o = heads[_ORDER_FIELDS].reset_index()
    o = o.rename(columns={Line.file: "source_file", Line.row: "source_row"})
    status = o[Line.platform_status]
    o["stage"] = "review"
    o.loc[status.isin(_ENDED), "stage"] = "cancelled"
    o.loc[status == "shipped", "stage"] = "shipped"
    o["notes"] = ""
    o.loc[status == "shipped", "notes"] = "shipped on the platform before import"
    value = _goods_value(incoming)
    o["goods_value"] = o.set_index([Line.shop, Line.order_id]).index.map(value).fillna("").astype(str)
    for col in ("held_at", "hold_reason", "failure_reason", "channel", "warehouse", "tracking_number",
                "stock_status"):
        o[col] = ""
    unpaid = status == "unpaid"
    o.loc[unpaid, ["stage", "held_at", "hold_reason"]] = "hold", "unpaid", UNPAID_REASON
    o["created_run"] = run_id
    o["updated_run"] = run_id
    return o[ORDER_COLUMNS]


def _goods_value(lines: pd.DataFrame) -> pd.Series:
    """Sum of unit price × quantity per order, exact."""
    def total(group: pd.DataFrame) -> str:
        s = Decimal(0)
        for price, qty in zip(group[Line.unit_price], group[Line.quantity]):
            try:
                s += Decimal(price or "0") * int(qty)
            except (InvalidOperation, ValueError):
                return ""
        return str(s)
    return lines.groupby([Line.shop, Line.order_id], sort=False)[[Line.unit_price, Line.quantity]].apply(total)


def _paired_lines(lines: pd.DataFrame, pairing: pd.DataFrame) -> pd.DataFrame:
    """Platform SKUs become warehouse SKUs; a bundle becomes one line per component."""
    lines = lines.copy()
    for col in CUSTOMS_COLUMNS:
        lines[col] = 0 if col == "weight_g" else ""
    lines["platform_line"] = lines[Line.line_no]
    lines["platform_quantity"] = lines[Line.quantity]
    if pairing.empty or lines.empty:
        return lines
    shop_pairs = pairing[pairing["shop"] != ""]
    any_shop = pairing[pairing["shop"] == ""].drop(columns="shop")
    lines["_n"] = range(len(lines))
    by_shop = lines.merge(shop_pairs, left_on=[Line.shop, Line.platform_sku], right_on=["shop", "platform_sku"],
                          how="inner", suffixes=("", "_p"))
    rest = lines[~lines["_n"].isin(by_shop["_n"])]
    by_any = rest.merge(any_shop, left_on=Line.platform_sku, right_on="platform_sku", how="inner",
                        suffixes=("", "_p"))
    unpaired = rest[~rest["_n"].isin(by_any["_n"])]
    paired = pd.concat([by_shop, by_any], ignore_index=True)
    if not paired.empty:
        paired[Line.sku] = paired["sku_p"]
        paired[Line.quantity] = paired[Line.quantity] * paired["quantity_p"]
        # The platform price belongs to the bundle, not to a component; the order keeps its goods value.
        multi = paired.groupby("_n")["_n"].transform("size") > 1
        paired.loc[multi, Line.unit_price] = ""
    out = pd.concat([paired, unpaired], ignore_index=True).sort_values(["_n", Line.sku], kind="stable")
    out[Line.line_no] = out.groupby([Line.shop, Line.order_id]).cumcount() + 1
    return out[lines.columns.drop("_n")].reset_index(drop=True)


def _note_unpaired(orders: pd.DataFrame, lines: pd.DataFrame, pairing: pd.DataFrame,
                   known_skus: set[str]) -> pd.DataFrame:
    if pairing.empty or lines.empty:
        return orders
    paired_skus = set(pairing["platform_sku"])
    odd = lines[~lines[Line.platform_sku].isin(paired_skus) & ~lines[Line.sku].isin(known_skus)]
    if odd.empty:
        return orders
    notes = odd.groupby([Line.shop, Line.order_id])[Line.platform_sku].agg(
        lambda s: "unpaired SKU " + ", ".join(dict.fromkeys(s)))
    idx = orders.set_index(["shop", "order_id"]).index
    mapped = idx.map(notes)
    orders = orders.copy()
    has = ~pd.isna(mapped)
    orders.loc[has, "notes"] = [str(m) for m in mapped[has]]
    return orders


def _status_updates(existing: pd.DataFrame, heads: pd.DataFrame, run_id: str
                    ) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    existing = existing.copy()
    if heads.empty:
        return existing, [], empty_events()
    new_status = heads[Line.platform_status]
    old_status = existing.loc[heads.index, "platform_status"]
    changed = new_status[new_status != old_status]
    if changed.empty:
        return existing, [], empty_events()
    existing.loc[changed.index, "platform_status"] = changed
    existing.loc[changed.index, "updated_run"] = run_id
    stage = existing.loc[changed.index, "stage"]
    ended = changed.isin(_ENDED)
    cancel = changed.index[ended & stage.isin(("review", "hold", "process", "waybill", "print")).values]
    after_ship = changed.index[ended & (stage == "shipped").values]
    voided = [t for t in existing.loc[cancel, "tracking_number"] if t]
    released = existing.loc[cancel, "stock_status"].eq("in_stock")
    existing.loc[cancel, "stage"] = "cancelled"
    existing.loc[cancel, "stock_status"] = ""
    existing.loc[cancel, "notes"] = [
        f"{s} on the platform" + (f"; waybill {t} voided" if t else "") + ("; allocation released" if r else "")
        for s, t, r in zip(changed[cancel], existing.loc[cancel, "tracking_number"], released)]
    existing.loc[cancel, "tracking_number"] = ""
    paid = changed.index[(changed == "open").values & (stage == "hold").values
                         & (existing.loc[changed.index, "held_at"] == "unpaid").values]
    existing.loc[paid, ["stage", "held_at", "hold_reason"]] = "review", "", ""
    rest = changed.index.difference(cancel)
    frame = lambda idx: existing.loc[idx].reset_index()
    events = concat_events([
        events_for(frame(cancel), "cancelled", existing.loc[cancel, "notes"].reset_index(drop=True)),
        events_for(frame(after_ship), "exception", "cancelled/refunded on the platform after shipping"),
        events_for(frame(paid), "paid", "paid on the platform: released for review"),
        events_for(frame(rest.difference(after_ship).difference(paid)), "platform status",
                   ("now " + changed[rest.difference(after_ship).difference(paid)]).reset_index(drop=True)),
    ])
    return existing, voided, events
