"""Two sites on one PostgreSQL store at the same moment: two workspaces, one database, one tracking
pool and one stock; each site's `batchship run` gets its own orders and both start together.

    python benchmarks/two_sites.py --server postgresql://user@host/postgres --orders 10000

Creates a scratch database on the server (dropped afterwards), prints the wall time of the two
runs and the checks: every issued tracking number on exactly one order, on hand = sum of movements,
the stock identity, every shipped order deducted once, no SKU
allocated beyond its stock, every order in exactly one state. tests/test_shared_store.py runs the
same scenario with fewer orders.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from batchship.config import load_config
from batchship.ledger_checks import allocated_within, checks
from batchship.pipeline import run_batch
from batchship.s10 import s10_check_digit
from batchship.store import Store
from batchship.workspace_init import init_workspace

CONFIG = """
[[shops]]
name = "north"
platform = "batchship"

[[shops]]
name = "south"
platform = "batchship"

[[channels]]
name = "YW"
label_size = "100x150"

[[logistics]]
channel = "YW"
warehouse = "SZ"

[store]
busy_timeout_seconds = 900

[watch]
settle_seconds = 0
min_age_seconds = 0
"""
SITES = {"site-1": "north", "site-2": "south"}
SKUS = [f"SKU-{i:03d}" for i in range(20)]
STAGES = {"review", "hold", "process", "waybill", "print", "shipped", "cancelled"}


def _orders(shop: str, n: int, rng: random.Random) -> pd.DataFrame:
    return pd.DataFrame([(shop, f"{shop[0].upper()}{i:07d}", rng.choice(SKUS), rng.choice((1, 1, 2)), "9.90", "USD",
                          f"2026-11-{1 + i % 25:02d} {i % 24:02d}:{i % 60:02d}:00", "Emily Carter",
                          "742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US", "+1 217 555 0134",
                          "buyer@example.com") for i in range(n)],
                        columns=["shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at",
                                 "recipient_name", "address1", "address2", "city", "state", "postcode", "country",
                                 "phone", "email"])


def prepare(root: Path, database: str, orders: int, seed: int = 11) -> list[Path]:
    """Both workspaces on ``database``; stock and pool loaded by site 1; each site's orders in its inbox.
    Demand exceeds stock (about 1.33 units wanted per unit on hand) and the pool (about 0.8 numbers
    per order), so both sites draw on the same scarce numbers and units."""
    rng = random.Random(seed)
    sites = []
    for name in SITES:
        site = root / name
        init_workspace(site)
        (site / "batchship.toml").write_text(f'database = "{database}"\n' + CONFIG, encoding="utf-8")
        sites.append(site)
    inbox = sites[0] / "inbox"
    pd.DataFrame({"sku": SKUS, "name": SKUS, "declared_name_en": "Household goods", "declared_name_cn": "家居用品",
                  "declared_value": "4.50", "declared_currency": "USD", "weight_g": 200, "hs_code": "392690",
                  "origin_country": "CN"}).to_csv(inbox / "products.csv", index=False)
    units = int(2 * orders * 4 / 3 * 0.75 / len(SKUS))   # 4/3 units per order wanted, 3/4 of it on hand
    pd.DataFrame({"warehouse": "SZ", "sku": SKUS, "on_hand": units, "shelf": ""}).to_csv(inbox / "stock.csv",
                                                                                        index=False)
    numbers = [f"LY{i:08d}{s10_check_digit(f'{i:08d}')}CN" for i in range(int(2 * orders * 0.8))]
    pd.DataFrame({"channel": "YW", "tracking_number": numbers}).to_csv(inbox / "pool.csv", index=False)
    run_batch(sites[0], load_config(sites[0]))
    for site, shop in zip(sites, SITES.values()):
        _orders(shop, orders, rng).to_csv(site / "inbox" / "orders.csv", index=False)
    return sites


def run_both(sites: list[Path]) -> tuple[list[int], float, list[str]]:
    """Both `batchship run` processes started together: exit codes, wall seconds, their stderr."""
    env = {**os.environ}
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "batchship.cli", "run", "-w", str(site)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for site in sites]
    errs = [p.communicate(timeout=3600)[1] for p in procs]
    return [p.returncode for p in procs], time.perf_counter() - t, errs


def verify(database: str, orders: int) -> dict[str, object]:
    """What must hold after both runs; each value is True when it holds (or the offending rows)."""
    store = Store(database)
    try:
        found = checks(**store.ledger_check_frames()) + [allocated_within(**store.allocation_frames())]
        results = {c.name: True if c.holds else c.differences for c in found}
        state = store.frame("SELECT shop, order_id, stage, stock_status, tracking_number FROM orders")
        issued = store.frame("SELECT tracking_number, shop, order_id FROM pool WHERE status = 'issued'")
    finally:
        store.close()
    keys = state[["shop", "order_id"]]
    one_state = (len(state) == 2 * orders and not keys.duplicated().any() and state["stage"].isin(STAGES).all()
                 and (state.loc[state["stage"] == "print", "stock_status"].isin({"in_stock", "out_of_stock"})).all())
    results["every order in exactly one state"] = True if one_state else state["stage"].value_counts()
    numbered = state[state["tracking_number"] != ""]
    same = numbered.merge(issued, on="tracking_number", suffixes=("", "_pool"))
    results["each order's number issued to it in the pool"] = True if (
        len(same) == len(numbered) == len(issued) and (same["order_id"] == same["order_id_pool"]).all()) else same
    results["orders with a number"] = len(numbered)
    results["orders in stock"] = int((state["stock_status"] == "in_stock").sum())
    return results


def scratch_database(server: str) -> str:
    name = "two_sites_" + uuid.uuid4().hex[:8]
    _admin(server, f'CREATE DATABASE "{name}"')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    _admin(server, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _admin(server: str, sql: str) -> None:
    engine = create_engine(make_url(server).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.exec_driver_sql(sql)
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BATCHSHIP_TEST_POSTGRES", ""),
                        help="a PostgreSQL URL whose user may create databases (default: BATCHSHIP_TEST_POSTGRES)")
    parser.add_argument("--orders", type=int, default=10_000, help="orders per site")
    args = parser.parse_args()
    if not args.server:
        parser.error("--server is required (or BATCHSHIP_TEST_POSTGRES)")
    database = scratch_database(args.server)
    try:
        with tempfile.TemporaryDirectory(prefix="batchship-two-sites-") as tmp:
            t = time.perf_counter()
            sites = prepare(Path(tmp), database, args.orders)
            print(f"prepared two sites with {args.orders} orders each in {time.perf_counter() - t:.1f} s")
            codes, seconds, errs = run_both(sites)
            print(f"both runs: exit {codes}, {seconds:.1f} s wall")
            for err in errs:
                if err.strip():
                    print(err[-2000:])
            for name, value in verify(database, args.orders).items():
                print(f"  {name}: {'holds' if value is True else value}")
    finally:
        drop_database(args.server, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
