"""The order in which orders compete for tracking numbers and stock."""
from __future__ import annotations

import pandas as pd


def oldest_paid_first(orders: pd.DataFrame) -> pd.DataFrame:
    """Oldest paid first; orders without a paid time go last, as nothing says they were paid earlier."""
    unknown_last = orders["paid_at"].where(orders["paid_at"] != "", "~")   # "~" sorts after every digit
    return (orders.assign(_paid=unknown_last)
            .sort_values(["_paid", "shop", "order_id"], kind="stable").drop(columns="_paid"))
