"""Sync (同步订单): new marketplace orders enter review; known ones only get their platform status,
except that an order held by review takes the recipient details of a corrected re-export.

A cancelled or refunded order is taken out of the flow: its allocation is
released and its waybill voided (the number never returns to the pool). An
order the platform says is shipped before batchship issued it a waybill was
shipped some other way: it is recorded as shipped and listed as an exception.
An order batchship already waybilled is expected to show as shipped once its
tracking upload (virtual shipping) is in: that only updates its status.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pandas as pd

from ..schemas import ACTIVE_STAGES, Line
from ..store import CUSTOMS_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS
from .actions import STAFF
from .events import concat_events, empty_events, events_for
from .file_conflicts import CONFLICT, RECIPIENT_FIELDS, file_conflicts

BATCH_FILE = "batch_file"   # the file's place in the batch: the same file name can come from two shop folders
_ORDER_FIELDS = [Line.platform, Line.paid_at, Line.recipient_name, Line.address1, Line.address2, Line.city,
                 Line.state, Line.postcode, Line.country, Line.phone, Line.email, Line.currency,
                 Line.order_total, Line.platform_status, Line.shipping_service, Line.tags, Line.file, Line.row]
_ENDED = ("cancelled", "refunded")
# When copies of one order in a batch disagree, the status furthest along wins.
_STATUS_RANK = {"unpaid": 0, "open": 1, "shipped": 2, "cancelled": 3, "refunded": 4}
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
    incoming = incoming.copy()
    if BATCH_FILE not in incoming:
        incoming[BATCH_FILE] = incoming[Line.file]
    # The first file in the batch that carries an order defines its lines; every copy counts for status.
    first_file = incoming.groupby(key, sort=False)[BATCH_FILE].transform("first")
    defining = incoming[incoming[BATCH_FILE] == first_file]
    heads = defining.drop_duplicates(key, keep="first").set_index(key)
    strongest = _strongest_status(incoming, key)
    heads[Line.platform_status] = strongest["platform_status"].reindex(heads.index)
    heads["status_source"] = strongest["status_source"].reindex(heads.index)

    existing = existing.set_index(key)
    is_new = ~heads.index.isin(existing.index)
    new_heads = heads[is_new]
    new_orders = _new_orders(new_heads, defining, run_id)
    new_lines = pair_lines(defining.merge(new_heads.index.to_frame(index=False), on=key), pairing)
    new_orders = _note_unpaired(new_orders, new_lines, pairing, known_skus)

    disputed = file_conflicts(incoming, key, BATCH_FILE)
    undisputed = heads[~is_new & ~heads.index.isin(disputed.index)]
    existing, corrected = _corrected_addresses(existing, undisputed, run_id)
    updated, voided, update_events = _status_updates(existing, heads[~is_new], run_id)
    orders = pd.concat([updated.reset_index(), new_orders], ignore_index=True)[ORDER_COLUMNS]
    orders, conflict_events = _hold_disputed(orders, disputed, run_id)
    events = concat_events([
        events_for(new_orders, "imported", "entered " + new_orders["stage"]),
        corrected,
        update_events,
        conflict_events,
    ])
    return SyncResult(orders, new_lines[LINE_COLUMNS], voided, events)


def _hold_disputed(orders: pd.DataFrame, disputed: pd.Series, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders two files disagree on wait for a person, new or known, whatever stage they reached;
    a staff hold already stands. One the platform ended is only reported: nothing is left to decide."""
    if disputed.empty:
        return orders, empty_events()
    reason = pd.Series(orders.set_index(["shop", "order_id"]).index.map(disputed), index=orders.index)
    hit = reason.notna()
    hold = hit & orders["stage"].isin(ACTIVE_STAGES) & (orders["held_at"] != STAFF)
    orders = orders.copy()
    orders.loc[hold, ["stage", "held_at", "stock_status", "updated_run"]] = "hold", CONFLICT, "", run_id
    orders.loc[hold, "hold_reason"] = reason[hold]
    told = hit & ~hold
    return orders, concat_events([events_for(orders[hold], "held", reason[hold]),
                                  events_for(orders[told], "exception", reason[told])])


def _strongest_status(incoming: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Per order: the status furthest along over every copy, with the file and row that said so."""
    ranked = incoming.assign(_rank=incoming[Line.platform_status].map(_STATUS_RANK).fillna(1))
    best = ranked.sort_values("_rank", ascending=False, kind="stable").drop_duplicates(key).set_index(key)
    return pd.DataFrame({"platform_status": best[Line.platform_status],
                         "status_source": best[Line.file] + " row " + best[Line.row].astype(str)})


def _new_orders(heads: pd.DataFrame, lines: pd.DataFrame, run_id: str) -> pd.DataFrame:
    o = heads[_ORDER_FIELDS].reset_index()
    o = o.rename(columns={Line.file: "source_file", Line.row: "source_row"})
    status = o[Line.platform_status]
    for col in ("held_at", "hold_reason", "failure_reason", "channel", "warehouse", "tracking_number",
                "stock_status", "notes", "printed", "printed_run", "ignored_failure", "merge", "merged_into",
                "split", "split_of"):
        o[col] = ""
    o["stage"] = "review"
    o.loc[status.isin(_ENDED), "stage"] = "cancelled"
    o.loc[status == "shipped", ["stage", "notes"]] = "shipped", "shipped on the platform before import"
    o.loc[status == "unpaid", ["stage", "held_at", "hold_reason"]] = "hold", "unpaid", UNPAID_REASON
    value = _goods_value(lines)
    o["goods_value"] = [value.get(key, "") for key in zip(o[Line.shop].tolist(), o[Line.order_id].tolist())]
    o["created_run"] = run_id
    o["updated_run"] = run_id
    return o[ORDER_COLUMNS]


def _goods_value(lines: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Sum of unit price × quantity per (shop, order id), to the cent: a unit price derived from a
    line total (Amazon) may carry more places than the money it came from. "" when a line's price
    or quantity is no number."""
    sums: dict[tuple[str, str], Decimal | None] = {}
    columns = (Line.shop, Line.order_id, Line.unit_price, Line.quantity)
    for shop, order_id, price, qty in zip(*(lines[c].tolist() for c in columns)):
        key = (shop, order_id)
        total = sums.get(key, Decimal(0))
        if total is None:
            continue
        try:
            sums[key] = total + Decimal(price or "0") * int(qty)
        except (InvalidOperation, ValueError):
            sums[key] = None
    cent = Decimal("0.01")
    return {key: "" if total is None else str(total.quantize(cent, rounding=ROUND_HALF_UP))
            for key, total in sums.items()}


def pair_lines(lines: pd.DataFrame, pairing: pd.DataFrame) -> pd.DataFrame:
    """Platform SKUs become warehouse SKUs; a bundle becomes one line per component.

    ``lines`` are the marketplace's own lines (line_no = the platform line)."""
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


def platform_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """The marketplace's own lines behind paired lines: what ``pair_lines`` started from."""
    own = lines.drop_duplicates([Line.shop, Line.order_id, "platform_line"]).copy()
    own[Line.line_no] = own["platform_line"]
    own[Line.quantity] = own["platform_quantity"]
    own[Line.sku] = own[Line.platform_sku]
    return own


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


def _corrected_addresses(existing: pd.DataFrame, heads: pd.DataFrame, run_id: str
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An order held by review for its address takes the recipient fields of a re-export and is
    reviewed again: the fix is made where the order came from, not in batchship."""
    held = existing.loc[heads.index]
    held = held[(held["stage"] == "hold") & (held["held_at"] == "review")]
    if held.empty:
        return existing, empty_events()
    new = heads.loc[held.index, list(RECIPIENT_FIELDS)]
    differs = (new != held[list(RECIPIENT_FIELDS)]).any(axis=1)
    fixed = held.index[differs.values]
    if not len(fixed):
        return existing, empty_events()
    existing = existing.copy()
    existing.loc[fixed, list(RECIPIENT_FIELDS)] = new.loc[fixed].values
    existing.loc[fixed, ["stage", "held_at", "hold_reason", "updated_run"]] = "review", "", "", run_id
    source = heads.loc[fixed, Line.file] + " row " + heads.loc[fixed, Line.row].astype(str)
    return existing, events_for(existing.loc[fixed].reset_index(), "corrected",
                                ("recipient details updated from " + source + "; reviewed again")
                                .reset_index(drop=True))


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
    source = " (" + heads.loc[changed.index, "status_source"] + ")"
    existing.loc[changed.index, "platform_status"] = changed
    existing.loc[changed.index, "updated_run"] = run_id
    stage = existing.loc[changed.index, "stage"]
    tracking = existing.loc[changed.index, "tracking_number"]
    active = stage.isin(ACTIVE_STAGES).values

    cancel = changed.index[changed.isin(_ENDED).values & active]
    after_ship = changed.index[changed.isin(_ENDED).values & (stage == "shipped").values]
    elsewhere = changed.index[(changed == "shipped").values & active & (tracking == "").values]
    paid = changed.index[(changed == "open").values & (stage == "hold").values
                         & (existing.loc[changed.index, "held_at"] == "unpaid").values]

    voided = [t for t in existing.loc[cancel, "tracking_number"] if t]
    released = existing.loc[cancel, "stock_status"].eq("in_stock")
    existing.loc[cancel, "notes"] = [
        f"{s} on the platform" + (f"; waybill {t} voided" if t else "") + ("; allocation released" if r else "")
        for s, t, r in zip(changed[cancel], existing.loc[cancel, "tracking_number"], released)]
    existing.loc[cancel, ["stage", "stock_status", "tracking_number", "held_at", "hold_reason",
                          "failure_reason"]] = "cancelled", "", "", "", "", ""
    existing.loc[elsewhere, ["stage", "stock_status", "held_at", "hold_reason", "failure_reason", "notes"]] = (
        "shipped", "", "", "", "", "shipped on the platform without a batchship waybill: no stock deducted")
    existing.loc[paid, ["stage", "held_at", "hold_reason"]] = "review", "", ""
    rest = changed.index.difference(cancel).difference(after_ship).difference(elsewhere).difference(paid)

    def frame(idx):
        return existing.loc[idx].reset_index()

    def said(idx, text):
        return (text + source[idx]).reset_index(drop=True)

    events = concat_events([
        events_for(frame(cancel), "cancelled", said(cancel, existing.loc[cancel, "notes"])),
        events_for(frame(after_ship), "exception", said(after_ship, "cancelled/refunded on the platform after "
                                                                    "shipping")),
        events_for(frame(elsewhere), "exception", said(elsewhere, existing.loc[elsewhere, "notes"])),
        events_for(frame(paid), "paid", said(paid, "paid on the platform: released for review")),
        events_for(frame(rest), "platform status", said(rest, "now " + changed[rest])),
    ])
    return existing, voided, events
