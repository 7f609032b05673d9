"""Checks an accountant relies on, run over frames read from a store (no I/O here).

``checks(frames)`` returns ``[(name, holds, differences)]``: ``differences`` is a DataFrame of the
rows that break the check (empty when it holds). A check whose frames are not given is left out.

Frames, by name:
- ``on_hand``: warehouse, sku, on_hand: what the store states is on hand
- ``movements``: warehouse, sku, delta: every ledger movement
- ``orders``: shop, order_id, tracking_number, merged_into
- ``allocated``: warehouse, sku, allocated: units held by in-stock orders not yet shipped
  (checked against ``on_hand``, at the places it lists: SKUs not counted in stock are not limited)
"""
from __future__ import annotations

import pandas as pd

PLACE = ["warehouse", "sku"]


def checks(frames: dict[str, pd.DataFrame]) -> list[tuple[str, bool, pd.DataFrame]]:
    out = []
    if {"on_hand", "movements"} <= frames.keys():
        out.append(("on hand = sum of movements", *_on_hand_is_the_ledger(frames["on_hand"], frames["movements"])))
    if "orders" in frames:
        out.append(("no tracking number on two orders", *_numbers_once(frames["orders"])))
    if {"allocated", "on_hand"} <= frames.keys():
        out.append(("no SKU allocated beyond its stock", *_allocated_within(frames["allocated"], frames["on_hand"])))
    return out


def _sums(movements: pd.DataFrame) -> pd.DataFrame:
    return (movements.assign(delta=movements["delta"].astype("int64")).groupby(PLACE, as_index=False)["delta"].sum()
            .rename(columns={"delta": "movements"}))


def _on_hand_is_the_ledger(on_hand: pd.DataFrame, movements: pd.DataFrame) -> tuple[bool, pd.DataFrame]:
    both = on_hand[PLACE + ["on_hand"]].merge(_sums(movements), on=PLACE, how="outer")
    both[["on_hand", "movements"]] = both[["on_hand", "movements"]].fillna(0).astype("int64")
    differ = both[both["on_hand"] != both["movements"]].reset_index(drop=True)
    return differ.empty, differ


def _numbers_once(orders: pd.DataFrame) -> tuple[bool, pd.DataFrame]:
    # A merged order carries its leader's number: one parcel, counted once.
    parcels = orders[(orders["tracking_number"] != "") & (orders["merged_into"] == "")]
    repeated = parcels[parcels.duplicated("tracking_number", keep=False)]
    differ = (repeated.sort_values(["tracking_number", "shop", "order_id"])
              [["tracking_number", "shop", "order_id"]].reset_index(drop=True))
    return differ.empty, differ


def _allocated_within(allocated: pd.DataFrame, on_hand: pd.DataFrame) -> tuple[bool, pd.DataFrame]:
    # Only counted places: a SKU not tracked in stock counts as in stock.
    both = allocated[PLACE + ["allocated"]].merge(on_hand[PLACE + ["on_hand"]], on=PLACE, how="inner")
    both[["allocated", "on_hand"]] = both[["allocated", "on_hand"]].astype("int64")
    differ = both[both["allocated"] > both["on_hand"]].reset_index(drop=True)
    return differ.empty, differ
