"""Time a full batch on generated data: N order lines with matching stock, products and number pools.

    python benchmarks/full_batch.py --lines 100000
    python benchmarks/full_batch.py --lines 100000 --database sqlite --database postgresql://u@host/empty_db

Prints wall time per stage and the peak resident memory of the process. With several --database
values the same generated batch runs on each store in turn (a PostgreSQL database must be empty),
and a last line compares their totals.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from batchship.config import load_config
from batchship.pipeline import run_batch
from batchship.s10 import s10_check_digit
from batchship.workspace_init import init_workspace

COUNTRIES = [("US", "62704", "IL"), ("GB", "NW1 6XE", ""), ("DE", "10115", ""), ("FR", "75001", ""),
             ("CA", "H2X 1K4", "QC"), ("AU", "2000", "NSW"), ("PL", "00-001", ""), ("XX", "1", "")]
CONFIG = """
[[shops]]
name = "bench-1"
platform = "batchship"

[[shops]]
name = "bench-2"
platform = "batchship"

[[channels]]
name = "YW"

[[channels]]
name = "EU"
label_size = "100x100"

[[logistics]]
countries = ["GB", "DE", "FR", "PL"]
channel = "EU"
warehouse = "SZ"

[[logistics]]
channel = "YW"
warehouse = "SZ"

# The generated files are complete when written: taken at once.
[watch]
settle_seconds = 0
min_age_seconds = 0
"""


def generate(root: Path, lines: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    n_skus = max(50, lines // 200)
    skus = [f"SKU-{i:05d}" for i in range(n_skus)]
    inbox = root / "inbox"
    pd.DataFrame({
        "sku": skus, "name": [f"Product {s}" for s in skus], "declared_name_en": "Household goods",
        "declared_name_cn": "家居用品", "declared_value": "4.50", "declared_currency": "USD",
        "weight_g": [rng.randint(20, 900) for _ in skus], "hs_code": "392690", "origin_country": "CN",
    }).to_csv(inbox / "products.csv", index=False)
    # Roughly four in five orders can be served; the rest wait for stock.
    avg_units = lines * 1.6 / n_skus
    pd.DataFrame({"warehouse": "SZ", "sku": skus,
                  "on_hand": [int(avg_units * rng.uniform(0.5, 1.1)) for _ in skus],
                  "shelf": [f"{chr(65 + i % 20)}-{i % 50:02d}" for i in range(n_skus)]}
                 ).to_csv(inbox / "stock.csv", index=False)
    rows, order_no = [], 0
    while len(rows) < lines:
        order_no += 1
        country, postcode, state = rng.choice(COUNTRIES)
        shop = f"bench-{1 + order_no % 2}"
        paid = f"2026-11-{1 + order_no % 25:02d} {order_no % 24:02d}:{order_no % 60:02d}:00"
        for sku in rng.sample(skus, rng.choice((1, 1, 1, 2, 3))):
            rows.append((shop, f"B{order_no:08d}", sku, rng.choice((1, 1, 2)), "12.90", "USD", paid,
                         "Jürgen Müller", "Hauptstraße 5", "", "Berlin", state, postcode, country,
                         "+49 30 555 0101", "buyer@example.com"))
    pd.DataFrame(rows[:lines], columns=[
        "shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "recipient_name", "address1",
        "address2", "city", "state", "postcode", "country", "phone", "email"]).to_csv(inbox / "orders.csv",
                                                                                  index=False)
    numbers = [(ch, f"{'LY' if ch == 'YW' else 'LE'}{i:08d}{s10_check_digit(f'{i:08d}')}CN")
               for ch in ("YW", "EU") for i in range(order_no + 1)]
    pd.DataFrame(numbers, columns=["channel", "tracking_number"]).to_csv(inbox / "pool.csv", index=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the workspace and print its path")
    parser.add_argument("--database", action="append", metavar="URL",
                        help="the store: 'sqlite' (the workspace's file, the default) or the URL of an empty "
                             "PostgreSQL database; repeat to compare")
    args = parser.parse_args()
    totals = {}
    for database in args.database or ["sqlite"]:
        totals[database] = _one_batch(args.lines, "" if database == "sqlite" else database, args.keep)
    if len(totals) > 1:
        first = next(iter(totals.values()))
        print("compared: " + ", ".join(f"{_name(d)} {t:.1f} s ({t / first:.2f}x)" for d, t in totals.items()))
    return 0


def _name(database: str) -> str:
    return database if database == "sqlite" else database.split("://", 1)[0]


def _one_batch(lines: int, database: str, keep: bool) -> float:
    root = Path(tempfile.mkdtemp(prefix="batchship-bench-"))
    init_workspace(root)
    (root / "batchship.toml").write_text((f'database = "{database}"\n' if database else "") + CONFIG,
                                         encoding="utf-8")
    t = time.perf_counter()
    generate(root, lines)
    print(f"generated {lines} order lines in {time.perf_counter() - t:.1f} s ({root})")
    t = time.perf_counter()
    report = run_batch(root, load_config(root))
    total = time.perf_counter() - t
    print(f"store: {_name(database or 'sqlite')}")
    print(f"{'stage':<24}{'seconds':>9}")
    for stage, seconds in report.timings.items():
        print(f"{stage:<24}{seconds:>9.2f}")
    print(f"{'total':<24}{total:>9.2f}")
    print(f"labels: {report.summary.get('labels')}, touched orders: {report.summary.get('touched_orders')}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if not keep:
        shutil.rmtree(root)
    return total


if __name__ == "__main__":
    sys.exit(main())
