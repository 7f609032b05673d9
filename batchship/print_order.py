"""The order labels and pick lists come in: a sort staff choose, cut into waves.

Labels come out grouped by warehouse (one pick walk each), then in the chosen order: oldest paid
first, by shelf walk (the order's first shelf in walk order, see ``shelf_walk_key``), or by SKU; one-unit
orders first when asked, since they are packed straight from the pick. A wave is a run of at most
``max_orders_per_wave`` orders in that order: one pick list and one label file per channel each.
"""
from __future__ import annotations

from itertools import repeat

import pandas as pd
from natsort import natsort_keygen, ns

from .config import PrintOrder

_NATURAL = natsort_keygen(alg=ns.IGNORECASE)


def shelf_zone(shelf: str) -> str:
    """A shelf's zone: its name up to the first "-" ("B" of "B-07-01"; a shelf without "-" is its own zone)."""
    return str(shelf).split("-", 1)[0].strip()


def shelf_walk_key(zone_order: tuple[str, ...] = ()):
    """Sort key of a shelf name in the order a picker walks: zones in ``zone_order`` first, in that
    order (letter case ignored), then the other zones; within a zone, natural order (A-2 before A-10,
    B-1-9 before B-1-10). An empty shelf (unshelved stock) comes after every named one."""
    rank = {z.strip().casefold(): i for i, z in reversed(list(enumerate(zone_order)))}

    def key(shelf) -> tuple:
        text = "" if shelf is None or shelf != shelf else str(shelf)
        if not text.strip():
            return (1, 0, ())
        return (0, rank.get(shelf_zone(text).casefold(), len(rank)), _NATURAL(text))
    return key


def in_print_order(orders: pd.DataFrame, lines: pd.DataFrame, shelves: pd.DataFrame, how: PrintOrder
                   ) -> pd.DataFrame:
    """``orders`` sorted, with a ``wave`` column (1..). ``lines`` carry warehouse; ``shelves``:
    warehouse, sku, shelf."""
    key = ["shop", "order_id"]
    placed = lines.merge(shelves, on=["warehouse", "sku"], how="left").fillna({"shelf": ""})
    walk = shelf_walk_key(how.zone_order)
    group = [placed[k] for k in key]
    # Unsorted groups: the orders are sorted below; sorting 62,000 key pairs here cost 0.4 s.
    per_order = placed.groupby(group, sort=False)["quantity"].sum().rename("units").to_frame()
    per_order["first_shelf"] = _first_by(placed["shelf"], group, walk)
    per_order["first_sku"] = _first_by(placed["sku"], group, _natural_key)
    per_order = per_order.rename_axis(key).reset_index()
    o = orders.merge(per_order, on=key, how="left").fillna({"units": 0, "first_shelf": "", "first_sku": ""})
    o["multi"] = (o["units"] > 1).astype(int) if how.single_item_first else 0
    # Unshelved stock is picked last: an empty shelf sorts after every named one.
    o["shelf_missing"] = (o["first_shelf"] == "").astype(int)
    # Shelves whose walk keys are equal ("A-1", "a-1") share a rank, so the SKU decides between them.
    o["shelf_rank"] = sort_ranks(o["first_shelf"], walk)
    by = {"paid": ["paid_at"], "shelf": ["shelf_missing", "shelf_rank", "first_sku", "paid_at"],
          "sku": ["first_sku", "paid_at"]}[how.sort]
    columns = ["warehouse", "multi", *by, "shop", "order_id"]
    o = o.sort_values(columns, key=lambda c: c if c.name == "shelf_rank" else natural_ranks(c), kind="stable",
                      ignore_index=True)
    size = how.max_orders_per_wave
    o["wave"] = (o.index // size + 1) if size else 1
    return o.drop(columns=["units", "first_shelf", "first_sku", "multi", "shelf_missing", "shelf_rank"])


def _natural_key(text):
    return _NATURAL(str(text))


def natural_ranks(column: pd.Series) -> pd.Series:
    """Each value's place in natural order, to sort a column by (see ``sort_ranks``)."""
    values = column.tolist()
    if _one_ascii_shape(values):
        # Digit runs of the same lengths at the same places: comparing the numbers is comparing
        # their digits, so natural order is the lower-cased texts' own order. natsort's key took
        # 0.3-0.5 s a column of 62,000 distinct order ids or payment times.
        lowered = [v.lower() for v in values]
        place = {v: n for n, v in enumerate(sorted(set(lowered)))}
        return pd.Series([place[v] for v in lowered], index=column.index)
    return pd.Series(sort_ranks(column, _NATURAL), index=column.index)


# A text's shape: each digit as "0", each other ASCII character as "x".
_SHAPE = str.maketrans({chr(c): "0" if chr(c).isdigit() else "x" for c in range(128)})


def _one_ascii_shape(values: list) -> bool:
    """All values ASCII texts with digits at the same places, of the same length."""
    # Whole-column passes in C; the first values alone first, which settle most columns of many shapes.
    for some in (values[:100], values):
        if not set(map(type, some)) <= {str} or not all(map(str.isascii, some)):
            return False
        if len(set(map(str.translate, some, repeat(_SHAPE)))) > 1:
            return False
    return True


def sort_ranks(column: pd.Series, sort_key) -> list[int]:
    """Each value's place among the column's distinct ``sort_key``s: values whose keys are equal share
    a place, so a stable sort by places keeps their order as sorting by the keys would. One key per
    distinct value rather than per row (a 100,000-row pick list has a few hundred SKUs)."""
    values = column.tolist()
    if column.hasnans:
        keys = [sort_key(v) for v in values]        # NaN is no dict key
    else:
        by_value = {v: sort_key(v) for v in set(values)}
        keys = [by_value[v] for v in values]
    place = {k: n for n, k in enumerate(sorted(set(keys)))}
    return [place[k] for k in keys]


def _first_by(column: pd.Series, group: list[pd.Series], sort_key) -> pd.Series:
    """Per group, the value ``min(values, key=sort_key)`` gives: the first of those with the least key."""
    ranks = pd.Series(sort_ranks(column, sort_key), index=column.index)
    first = ranks.groupby(group, sort=False).idxmin()       # the first row holding its group's least place
    return pd.Series(column.loc[first.to_numpy()].to_numpy(), index=first.index, dtype=object)
