"""Events: what a stage did to which order, in plain words."""
from __future__ import annotations

import pandas as pd

EVENT_COLUMNS = ["shop", "order_id", "event", "detail"]


def events_for(orders: pd.DataFrame, event: str, detail: pd.Series | str = "") -> pd.DataFrame:
    if orders.empty:
        return empty_events()
    out = pd.DataFrame({"shop": orders["shop"].values, "order_id": orders["order_id"].values})
    out["event"] = event
    out["detail"] = detail.values if isinstance(detail, pd.Series) else detail
    return out


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})


def concat_events(frames: list[pd.DataFrame | None]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_events()
