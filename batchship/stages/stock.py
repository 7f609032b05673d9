"""Stock counts: a stock sheet states what is on the shelf; the ledger books the difference."""
from __future__ import annotations

import pandas as pd

from ..schemas import Adjustment, Receipt, Stock
from .ship import MOVE_COLUMNS


def count_adjustments(count: pd.DataFrame, on_hand: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (ledger movements, places with shelves). The same SKU on two shelves of one
    warehouse is counted as the sum of both rows."""
    per_place = count.groupby([Stock.warehouse, Stock.sku], as_index=False, sort=False).agg(
        counted=(Stock.on_hand, "sum"),
        shelf=(Stock.shelf, lambda s: next((x for x in s if x), "")),
        source_file=(Stock.file, "first"), source_row=(Stock.row, "first"))
    current = on_hand.set_index(["warehouse", "sku"])["on_hand"]
    now = pd.Series(per_place.set_index(["warehouse", "sku"]).index.map(current), index=per_place.index)
    per_place["delta"] = per_place["counted"] - now.fillna(0).astype("int64")
    moves = per_place[per_place["delta"] != 0].assign(cause="count", reference=lambda d: d["source_file"])
    return moves[MOVE_COLUMNS], per_place[["warehouse", "sku", "shelf"]]


def receipt_movements(receipts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (ledger movements, places): each received row is booked as it is, its reference
    (a purchase order number, else the file) and date kept; the place becomes one whose stock is kept."""
    moves = pd.DataFrame({
        "warehouse": receipts[Receipt.warehouse], "sku": receipts[Receipt.sku],
        "delta": receipts[Receipt.quantity].astype("int64"), "cause": "receipt",
        "reference": receipts[Receipt.reference].where(receipts[Receipt.reference] != "", receipts[Receipt.file]),
        "source_file": receipts[Receipt.file], "source_row": receipts[Receipt.row],
        "note": receipts[Receipt.received_on]})
    return moves, _places(moves)


def adjustment_movements(adjustments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (ledger movements, places): each row is booked with its sign, its reason as the
    reference and its note kept."""
    moves = pd.DataFrame({
        "warehouse": adjustments[Adjustment.warehouse], "sku": adjustments[Adjustment.sku],
        "delta": adjustments[Adjustment.quantity].astype("int64"), "cause": "adjustment",
        "reference": adjustments[Adjustment.reason],
        "source_file": adjustments[Adjustment.file], "source_row": adjustments[Adjustment.row],
        "note": adjustments[Adjustment.note]})
    return moves, _places(moves)


def below_zero(adjustments: pd.DataFrame, on_hand: pd.DataFrame) -> pd.DataFrame:
    """The rows of an adjustment sheet after which a place would hold less than nothing
    (taken in sheet order), with ``left``: what the place would hold."""
    current = {(w, s): int(q) for w, s, q in zip(on_hand["warehouse"], on_hand["sku"], on_hand["on_hand"])}
    bad = []
    for i, w, s, q in zip(adjustments.index, adjustments[Adjustment.warehouse], adjustments[Adjustment.sku],
                          adjustments[Adjustment.quantity]):
        current[(w, s)] = current.get((w, s), 0) + int(q)
        if int(q) < 0 and current[(w, s)] < 0:
            bad.append((i, current[(w, s)]))
    rows = adjustments.loc[[i for i, _ in bad]]
    return rows.assign(left=[left for _, left in bad])


def _places(moves: pd.DataFrame) -> pd.DataFrame:
    return moves[["warehouse", "sku"]].drop_duplicates().assign(shelf="")
