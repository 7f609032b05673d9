"""Book N parcels with the forwarder simulator running in its own process.

    python benchmarks/book_with_forwarder.py --orders 10000 --concurrency 64

Prints the booking phase's wall time and parcels per second (create + label fetch per parcel),
and the time of the whole batch around it.
"""
from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from batchship.config import load_config
from batchship.forwarder_sim.runner import running_simulator
from batchship.pipeline import run_batch
from batchship.workspace_init import init_workspace

CONFIG = """
[[shops]]
name = "bench"
platform = "batchship"

[[channels]]
name = "YUN"
source = "api"
forwarder = "yunexpress"
product_code = "S1002"
credentials = {{ customer_code = "BENCH_CODE", api_secret = "BENCH_SECRET" }}
base_url = "{url}"
concurrency = {concurrency}

[[logistics]]
channel = "YUN"
warehouse = "SZ"

[watch]
settle_seconds = 0
min_age_seconds = 0
"""
HEADER = ["shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "recipient_name", "address1",
          "address2", "city", "state", "postcode", "country", "phone", "email"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    os.environ.update(BENCH_CODE="C0001", BENCH_SECRET="sim-secret")
    with tempfile.TemporaryDirectory() as tmp, running_simulator(process=True) as sim:
        root = Path(tmp) / "ws"
        init_workspace(root)
        (root / "batchship.toml").write_text(CONFIG.format(url=sim.url, concurrency=args.concurrency))
        with open(root / "inbox" / "products.csv", "w", newline="") as f:
            csv.writer(f).writerows([["sku", "name", "declared_name_en", "declared_name_cn", "declared_value",
                                      "declared_currency", "weight_g", "hs_code", "origin_country"],
                                     ["MUG", "Mug", "Ceramic mug", "陶瓷杯", "5.00", "USD", 350, "691200", "CN"]])
        with open(root / "inbox" / "orders.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(HEADER)
            for i in range(args.orders):
                w.writerow(["bench", f"N{i:06d}", "MUG", 1, "9.90", "USD", "2026-11-01 10:00", "Emily Carter",
                            "742 Evergreen Terrace", "", "Springfield", "IL", "62704", "US", "+1 217 555 0134",
                            "buyer@example.com"])
        started = time.perf_counter()
        report = run_batch(root, load_config(root))
        total = time.perf_counter() - started
        booking = report.timings.get("bookings", 0.0)
        booked = report.summary.get("bookings", {}).get("booked", 0)
        print(f"{booked} of {args.orders} parcels booked in {booking:.2f} s: {booked / booking:.0f} parcels/s "
              f"(concurrency {args.concurrency}); whole batch {total:.2f} s")
        for stage, seconds in report.timings.items():
            print(f"  {stage:<22} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
