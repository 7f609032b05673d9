"""Label order and waves: single-item orders first, then the shelf walk, cut into waves of N orders."""
from __future__ import annotations

import random

import pandas as pd
import pytest
from natsort import natsort_keygen, ns

from batchship.config import PrintOrder
from batchship.print_order import in_print_order, natural_ranks, shelf_walk_key, sort_ranks
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10
from test_decisions import _barcodes


def test_labels_follow_the_shelf_walk_single_items_first_in_waves(ws):
    (ws.root / "batchship.toml").write_text(
        TEST_CONFIG + "\n[labels]\nsort = \"shelf\"\nsingle_item_first = true\nmax_orders_per_wave = 2\n",
        encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(s) for s in ("S10", "S2", "S3")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"],
            [["SZ", "S10", 50, "A-10"], ["SZ", "S2", 50, "A-2"], ["SZ", "S3", 50, "B-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("O1", "S10", 1, "2026-11-01 08:00:00"),
        order_row("O2", "S2", 2, "2026-11-01 07:00:00"),
        order_row("O3", "S3", 1, "2026-11-01 06:00:00"),
        order_row("O4", "S2", 1, "2026-11-01 09:00:00"),
        order_row("O5", "S10", 3, "2026-11-01 05:00:00"),
    ])
    assert ws.run() == 0
    out = ws.last_outbox()
    tracking = ws.orders().set_index("order_id")["tracking_number"]
    waves = [["O4", "O1"], ["O3", "O2"], ["O5"]]
    for n, orders in enumerate(waves, start=1):
        assert _barcodes(out / f"labels-YW-wave{n}.pdf") == [tracking[o] for o in orders]
        pick = pd.read_excel(out / f"picklist-wave{n}.xlsx", dtype=str, engine="calamine")
        assert sorted(o for refs in pick["orders"] for o in refs.replace("shop-a/", "").split(", ")) == sorted(orders)
    assert not (out / "labels-YW.pdf").exists() and not (out / "picklist.xlsx").exists()


def test_an_unknown_sort_is_a_configuration_error(ws, capsys):
    (ws.root / "batchship.toml").write_text(TEST_CONFIG + "\n[labels]\nsort = \"colour\"\n", encoding="utf-8")
    assert ws.run() == 2
    line = TEST_CONFIG.count("\n") + 3          # the sort line, below the test config
    assert (f"batchship.toml: line {line}, column 1: [labels]: sort must be one of 'paid', 'shelf' or 'sku', "
            "not 'colour'") in capsys.readouterr().err


def test_sorting_by_natural_ranks_gives_the_order_of_sorting_by_natural_keys():
    natural = natsort_keygen(alg=ns.IGNORECASE)
    rng = random.Random(7)
    names = ["A-2", "a-2", "A-10", "b-1", "B-01", "", "SKU-9", "sku-10", "Ä-1", "10", "9", "x 1", "X1",
             "2026-11-01 10:00", "2026-11-01 9:00"]
    for _ in range(100):
        n = rng.randint(0, 200)
        frame = pd.DataFrame({"a": [rng.choice(names) for _ in range(n)], "b": [rng.choice(names) for _ in range(n)],
                              "row": range(n)})
        by_keys = frame.sort_values(["a", "b"], key=natural, kind="stable")["row"].tolist()
        by_ranks = frame.sort_values(["a", "b"], key=natural_ranks, kind="stable")["row"].tolist()
        assert by_ranks == by_keys
    with_gaps = pd.DataFrame({"a": ["b", None, "A-10", float("nan"), "a-9"]})
    assert (with_gaps.sort_values("a", key=natural_ranks, kind="stable").index.tolist()
            == with_gaps.sort_values("a", key=natural, kind="stable").index.tolist())


def test_each_order_sorts_by_its_least_shelf_and_sku_the_first_of_equal_ones_winning():
    """An order sorts by the shelf a plain ``min(shelves, key=walk)`` gives (its first one in walk order;
    of two whose keys are equal, such as "A-1" and "a-1", the one listed first), and by its first SKU
    in natural order likewise; compared over random orders with plain Python."""
    natural = natsort_keygen(alg=ns.IGNORECASE)
    rng = random.Random(11)
    shelves_seen = ["", "  ", "A-1", "a-1", "A-10", "A-2", "B-1-9", "B-1-10", "b-01", "Z"]
    skus = ["S1", "s1", "S10", "S2", "sku-a", "SKU-A", "x 1"]
    for _ in range(60):
        zone_order = tuple(rng.sample(["A", "b", "Z"], rng.randint(0, 3)))
        orders = pd.DataFrame({"shop": "s", "order_id": [f"O{i}" for i in range(rng.randint(1, 25))],
                               "warehouse": "SZ", "paid_at": "2026-11-01"})
        lines = pd.DataFrame([{"shop": "s", "order_id": o, "warehouse": "SZ", "sku": rng.choice(skus),
                               "quantity": 1} for o in orders["order_id"] for _ in range(rng.randint(1, 4))])
        shelves = pd.DataFrame([{"warehouse": "SZ", "sku": sku, "shelf": rng.choice(shelves_seen)}
                                for sku in skus if rng.random() < 0.8], columns=["warehouse", "sku", "shelf"])
        shelf_of = dict(zip(shelves["sku"], shelves["shelf"]))
        walk = shelf_walk_key(zone_order)
        first_shelf, first_sku = {}, {}
        for order, group in lines.groupby("order_id", sort=False):
            first_shelf[order] = min((shelf_of.get(sku, "") for sku in group["sku"]), key=walk)
            first_sku[order] = min(group["sku"], key=natural)
        for sort, expected_key in (("shelf", lambda o: (first_shelf[o] == "", walk(first_shelf[o]),
                                                         natural(first_sku[o]))),
                                   ("sku", lambda o: natural(first_sku[o]))):
            how = PrintOrder(sort=sort, zone_order=zone_order, single_item_first=False, max_orders_per_wave=0)
            got = in_print_order(orders, lines, shelves, how)["order_id"].tolist()
            # Orders are named in increasing order, so ties fall back to the name as in_print_order's does.
            expected = sorted(orders["order_id"], key=lambda o: (expected_key(o), natural(o)))
            assert [expected_key(o) for o in got] == [expected_key(o) for o in expected]
            assert got == expected


@pytest.mark.parametrize("seed", range(6))
def test_natural_ranks_of_texts_of_one_shape_are_natsorts(seed):
    """Order ids and payment times share a shape (digits at the same places): their places come from
    the texts themselves, and must be the places natsort's keys give."""
    rng = random.Random(seed)
    shape = rng.choice(["00-0000000-0000000", "xx0000", "0000-00-00 00:00:00", "x-0x-00", "000", "x0.0x"])

    def one() -> str:
        return "".join(rng.choice("0123456789") if c == "0" else rng.choice("aAbBzZ-_ .#") for c in shape)

    values = [one() for _ in range(300)]
    values += [v.swapcase() for v in values[:40]] + values[:25]     # equal but for case, and repeated
    column = pd.Series(values, index=range(100, 100 + len(values)))
    ranks = natural_ranks(column)
    assert list(ranks.index) == list(column.index)
    assert ranks.tolist() == sort_ranks(column, natsort_keygen(alg=ns.IGNORECASE))


# The last three: a long column of one shape but for one value far down it (a longer number, a
# non-ASCII letter, no text at all), where sorting the texts would put #10000 before #9999.
@pytest.mark.parametrize("values", [["A-2", "A-10", "a-1"], ["#1001", "#999", "#1000a"], ["7", "007", "70", "8"],
                                    ["Ä-1", "A-1", "a-2"], ["x", None, "y"],
                                    [f"#{n}" for n in range(9999, 9700, -1)] + ["#10000"],
                                    [f"A-{n}" for n in range(1000, 1300)] + ["Ä-1000"],
                                    [f"A-{n}" for n in range(1000, 1300)] + [None]])
def test_natural_ranks_of_mixed_texts_are_natsorts(values):
    column = pd.Series(values, dtype=object)
    assert natural_ranks(column).tolist() == sort_ranks(column, natsort_keygen(alg=ns.IGNORECASE))
