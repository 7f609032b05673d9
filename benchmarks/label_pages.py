"""Label pages per second: our own 100x150 layout, N labels with one to three items and a CN 22.

    python benchmarks/label_pages.py --labels 5000

Prints pages/s for the whole file and per core used (labels render on every core the machine
offers, or ``--workers`` of them), and checks that the file has one page per label.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from batchship.writers.labels import CustomsItem, LabelData, render_labels


def labels(n: int) -> list[LabelData]:
    out = []
    for i in range(n):
        k = 1 + i % 3
        out.append(LabelData(
            tracking_number=f"LY{i:08d}0CN", channel="YW", order_ref=f"bench-1 / B{i:08d}",
            recipient_name=("Jürgen Müller", "Emily Carter", "Łukasz Żółć")[i % 3],
            address_lines=("Hauptstraße 5", "Hinterhaus, 2. OG") if i % 4 == 0 else ("742 Evergreen Terrace",),
            city="Berlin", state="", postcode="10115", country=("DE", "US", "PL")[i % 3], phone="+49 30 555 0101",
            items=tuple((f"SKU-{j:05d}", 1 + j % 2, "家居用品") for j in range(k)),
            customs_category="", customs_items=tuple(CustomsItem("Household goods", 1, 200, Decimal("4.50"), "USD",
                                                                  "392690", "CN") for _ in range(k)),
            sender="Shenzhen Example Trading Co., 1 Keji Road, Nanshan, Shenzhen, CN", date="2026-12-06"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=5000, help="labels to render (default 5000)")
    parser.add_argument("--workers", type=int, default=0,
                        help="processes to render on (default: every core; 1 renders in this process)")
    args = parser.parse_args()
    data = labels(args.labels)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.pdf"
        kwargs = {}
        try:
            from batchship.writers.label_pool import label_workers
            kwargs["workers"] = args.workers or label_workers()
        except ImportError:   # a version that renders in one process only
            args.workers = 1
        t = time.perf_counter()
        cpu = os.times()
        render_labels(data, path, size="100x150", **kwargs)
        wall = time.perf_counter() - t
        used = os.times()
        pages = len(PdfReader(path).pages)
    cores = kwargs.get("workers", 1)
    cpu_s = (used.user - cpu.user) + (used.system - cpu.system) + (used.children_user - cpu.children_user) + \
        (used.children_system - cpu.children_system)
    print(f"{pages} pages in {wall:.2f} s on {cores} process(es): {pages / wall:,.0f} pages/s, "
          f"{pages / wall / cores:,.0f} pages/s per core; {cpu_s:.2f} CPU s ({pages / cpu_s:,.0f} pages per CPU s)")
    if pages != args.labels:
        print(f"WRONG: {pages} pages for {args.labels} labels")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
