"""The ratio users feel: batchship's whole run on a Shopify export of N order lines, against reading
that CSV with pandas and writing it back as one xlsx sheet with xlsxwriter.

    python benchmarks/shopify_ratio.py --lines 20000

Both are timed in fresh child processes (imports included, as a user starts them), best of
``--repeat``; the batch must apply the export and write labels.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FORMATS = Path(__file__).resolve().parents[1].parent / "shared" / "formats" / "shopify"
CONFIG = """
[[shops]]
name = "shopify-1"
platform = "shopify"

[[channels]]
name = "YW"
carriers = { shopify = "Yanwen" }

[[logistics]]
channel = "YW"
warehouse = "SZ"

[watch]
settle_seconds = 0
min_age_seconds = 0
"""
HEADER = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
          "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,"
          "Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,"
          "Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,"
          "Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,"
          "Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
          "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
          "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,"
          "Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,"
          "Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,"
          "Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,"
          "Payment References").split(",")
ADDRESSES = [("Emily Carter", "742 Evergreen Terrace", "Springfield", "62704", "IL", "US"),
             ("Jürgen Müller", "Hauptstraße 5", "Berlin", "10115", "", "DE"),
             ("Ann Lee", "1 Main St", "Ogden", "84403", "UT", "US"),
             ("Bo Chan", "2 High St", "Leeds", "LS1 1AA", "", "GB")]


def write_export(path: Path, lines: int, seed: int = 3) -> int:
    """A Shopify orders export of ``lines`` line rows (continuation rows for an order's later lines)."""
    rng = random.Random(seed)
    skus = [f"SKU-{i:04d}" for i in range(200)]
    n, order = 0, 1000
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, HEADER)
        w.writeheader()
        while n < lines:
            order += 1
            name, street, city, zip_, province, country = rng.choice(ADDRESSES)
            for k, sku in enumerate(rng.sample(skus, min(rng.choice((1, 1, 2, 3)), lines - n))):
                row = {"Name": f"#{order}", "Email": f"buyer{order}@example.com",
                       "Created at": "2026-11-05 21:06:20 +0000", "Lineitem quantity": "1",
                       "Lineitem name": f"Product {sku}", "Lineitem price": "10.00", "Lineitem sku": sku,
                       "Lineitem requires shipping": "true", "Lineitem taxable": "true",
                       "Lineitem fulfillment status": "pending"}
                if k == 0:
                    row.update({"Financial Status": "paid", "Paid at": "2026-11-05 21:06:21 +0000",
                                "Fulfillment Status": "unfulfilled", "Currency": "USD", "Subtotal": "10.00",
                                "Total": "10.00", "Shipping Name": name, "Shipping Street": street,
                                "Shipping Address1": street, "Shipping City": city, "Shipping Zip": zip_,
                                "Shipping Province": province, "Shipping Country": country,
                                "Shipping Phone": "+1 801 555 0100", "Id": str(5_000_000 + order)})
                w.writerow(row)
                n += 1
    return order - 1000


def workspace(root: Path, lines: int) -> Path:
    from batchship.s10 import s10_check_digit
    from batchship.workspace_init import init_workspace
    init_workspace(root)
    (root / "batchship.toml").write_text(CONFIG, encoding="utf-8")
    export = root / "inbox" / "shopify-1" / "orders_export.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    orders = write_export(export, lines)
    with (root / "inbox" / "products.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "declared_name_en", "declared_name_cn", "declared_value", "declared_currency",
                    "weight_g", "hs_code", "origin_country"])
        w.writerows([f"SKU-{i:04d}", f"Product {i}", "Household goods", "家居用品", "4.50", "USD", 200, "392690", "CN"]
                    for i in range(200))
    with (root / "inbox" / "pool.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["channel", "tracking_number"])
        w.writerows(["YW", f"LY{i:08d}{s10_check_digit(f'{i:08d}')}CN"] for i in range(orders + 1))
    return export


def last_run(root: Path) -> dict:
    """The summary the run recorded in its workspace's store."""
    db = sqlite3.connect(root / ".batchship" / "state.sqlite")
    try:
        return json.loads(db.execute("SELECT summary FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()[0])
    finally:
        db.close()


PANDAS = """
import sys, pandas as pd
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
df.to_excel(sys.argv[2], index=False, engine="xlsxwriter")
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the child and its workers) and the standard output of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args()
    best_batch, best_pandas = float("inf"), float("inf")
    cpu_batch, cpu_pandas = float("inf"), float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            root = Path(tmp) / f"ws{i}"
            export = workspace(root, args.lines)
            copy = Path(tmp) / f"export{i}.csv"
            copy.write_bytes(export.read_bytes())
            took, cpu, out = timed([sys.executable, "-m", "batchship.cli", "run", "-w", str(root)])
            report = last_run(root)
            applied = report["files"]["applied"]
            if len(applied) != 3 or not report["labels"]:
                print(f"NOT A FULL BATCH: applied {applied}, labels {report['labels']}, "
                      f"rejected {report['files']['rejected']}")
                return 1
            best_batch, cpu_batch = min(best_batch, took), min(cpu_batch, cpu)
            print(f"run {i + 1}: batchship {took:.2f} s wall, {cpu:.2f} CPU s (labels {report['labels']})")
            took, cpu, _ = timed([sys.executable, "-c", PANDAS, str(copy), str(Path(tmp) / f"pandas{i}.xlsx")])
            best_pandas, cpu_pandas = min(best_pandas, took), min(cpu_pandas, cpu)
            print(f"       pandas read_csv + xlsxwriter {took:.2f} s wall, {cpu:.2f} CPU s")
    print(f"best of {args.repeat}: batchship run {best_batch:.2f} s, pandas read_csv + xlsxwriter {best_pandas:.2f} s: "
          f"ratio {best_batch / best_pandas:.2f} wall; CPU {cpu_batch:.2f} s vs {cpu_pandas:.2f} s: "
          f"ratio {cpu_batch / cpu_pandas:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
