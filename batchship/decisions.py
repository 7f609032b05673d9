"""decisions.xlsx: every order that waits for a person, with the actions allowed for it as a dropdown;
decisions-result.xlsx: what became of each decision a run read.

Staff fill in the action (and its argument) and drop the sheet back into the inbox as it is: the
action-sheet reader takes it (templates/formats/batchship_actions.toml) and leaves blank rows alone.
"""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pandas as pd

from . import verbs as v
from .frame_records import order_keys
from .store import Store
from .writers.columns import WorkbookStyle
from .writers.xlsx import write_workbook

HELD, WAYBILL_FAILED, OUT_OF_STOCK, NOT_PRINTED = "held", "waybill failed", "out of stock", "label not printed"
CANCEL_FAILED = "cancel failed"
# What each situation allows, in dropdown order.
ALLOWED = {
    HELD: (v.APPROVE, v.RELEASE, v.MERGE, v.CHANGE_CHANNEL, v.CHANGE_WAREHOUSE, v.CANCEL),
    WAYBILL_FAILED: (v.CHANGE_CHANNEL, v.IGNORE_FAILURE, v.HOLD, v.CANCEL),
    OUT_OF_STOCK: (v.FORCE_IN_STOCK, v.SPLIT, v.CHANGE_WAREHOUSE, v.HOLD, v.CANCEL),
    NOT_PRINTED: (v.REPRINT, v.MARK_PRINTED, v.HOLD, v.CANCEL),
    CANCEL_FAILED: (v.CANCEL, v.IGNORE_FAILURE),       # cancel: ask the forwarder again
}
COLUMNS = ["shop", "order_id", "needs", "reason", "stage", "paid_at", "recipient_name", "country", "items",
           "current channel", "current warehouse", "tracking no.", "action", "argument", "note"]


def needs_of(orders: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per order, the situation (HELD ...) and its reason in words."""
    needs = pd.Series(NOT_PRINTED, index=orders.index, dtype=object)
    reason = pd.Series("the label was not printed (see the exceptions sheet of the run that tried)",
                       index=orders.index, dtype=object)
    held = orders["stage"] == "hold"
    needs[held], reason[held] = HELD, orders.loc[held, "hold_reason"]
    failed = orders["stage"] == "waybill"
    needs[failed], reason[failed] = WAYBILL_FAILED, orders.loc[failed, "failure_reason"]
    short = (orders["stage"] == "print") & (orders["stock_status"] == "out_of_stock")
    needs[short], reason[short] = OUT_OF_STOCK, "waiting for stock (stock.xlsx, sheet 'to buy')"
    return needs, reason


def write_decisions(out: Path, store: Store, style: WorkbookStyle | None = None,
                    printing: Collection[tuple[str, str]] = frozenset()) -> Path:
    """``printing``: orders whose labels the run is printing and will mark printed, left off as the
    store will say once they are (a sheet written while the labels render)."""
    orders = store.orders_needing_a_person(leaving_out=printing).sort_values(["paid_at", "shop", "order_id"],
                                                                          kind="stable")
    lines = store.lines_of(orders)
    items = _items_per_order(lines)
    needs, reason = needs_of(orders)
    sheet = pd.DataFrame({
        "shop": orders["shop"], "order_id": orders["order_id"], "needs": needs, "reason": reason,
        "stage": orders["stage"], "paid_at": orders["paid_at"], "recipient_name": orders["recipient_name"],
        "country": orders["country"],
        "items": [items.get(key, "") for key in order_keys(orders)],
        "current channel": orders["channel"], "current warehouse": orders["warehouse"],
        "tracking no.": orders["tracking_number"], "action": "", "argument": "", "note": ""},
        columns=COLUMNS)
    failed = store.cancel_failures()
    if len(failed):
        sheet = pd.concat([sheet, pd.DataFrame({
            "shop": failed["shop"], "order_id": failed["order_id"], "needs": CANCEL_FAILED,
            "reason": "the order is cancelled but " + failed["forwarder"] + " did not cancel "
                      + failed["tracking_number"] + ": " + failed["reason"],
            "stage": "cancelled", "tracking no.": failed["tracking_number"]}, columns=COLUMNS).fillna("")])
    sheet = sheet.reset_index(drop=True)
    dropdowns = [("action", sheet.index[sheet["needs"] == situation].tolist(), [v.shown(x) for x in allowed])
                 for situation, allowed in ALLOWED.items() if (sheet["needs"] == situation).any()]
    verbs = pd.DataFrame([(v.shown(verb), argument or "", ", ".join(s for s, a in ALLOWED.items() if verb in a))
                          for verb, (_, _, argument) in v.VERBS.items() if any(verb in a for a in ALLOWED.values())],
                         columns=["action", "argument", "offered for"])
    return write_workbook(out / "decisions.xlsx", [("decisions", sheet), ("actions", verbs)],
                          dropdowns={"decisions": dropdowns}, style=style)


def _items_per_order(lines: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Each order's lines as "SKU × quantity, ...", in line order. Plain dicts: a pandas groupby
    with a Python join per order took a second at 13,000 orders waiting for stock."""
    items: dict[tuple[str, str], list[str]] = {}
    for shop, order_id, sku, quantity in zip(*(lines[c].tolist() for c in ("shop", "order_id", "sku", "quantity"))):
        items.setdefault((shop, order_id), []).append(f"{sku} × {quantity}")
    return {key: ", ".join(parts) for key, parts in items.items()}


def write_decision_results(out: Path, store: Store, run_id: str, style: WorkbookStyle | None = None) -> Path | None:
    results = store.decision_results(run_id)
    if results.empty:
        return None
    return write_workbook(out / "decisions-result.xlsx", [("results", results)], style=style)
