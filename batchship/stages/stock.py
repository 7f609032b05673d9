"""Stock counts: a stock sheet states what is on the shelf; the ledger books the difference."""
from __future__ import annotations

import pandas as pd

from ..schemas import Stock
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
