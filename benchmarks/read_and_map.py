"""Time reading 100,000-row inbox files and mapping a 100,000-line marketplace export.

    python benchmarks/read_and_map.py [--rows 100000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

from batchship.config import Config, Limits
from batchship.importers import import_sheets
from batchship.io.tabular import RawSheet, read_sheets

SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Total",
                  "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
                  "Shipping Name", "Shipping Address1", "Shipping City", "Shipping Zip", "Shipping Country"]


def shopify_rows(lines: int) -> list[list[str]]:
    rows, order = [SHOPIFY_HEADER], 0
    while len(rows) <= lines:
        order += 1
        rows.append([f"#{order}", f"c{order}@example.com", "paid", f"2026-04-{1 + order % 28:02d} 10:00:00 +0400",
                     "unfulfilled", "USD", f"{order % 500}.99", "2026-04-01 10:00:00 +0400", "1",
                     f"Item {order % 300}", f"{order % 90}.50", f"SKU-{order % 300}", f"Name {order}",
                     f"{order} Main St", "Town", f"'{order % 99999:05d}", "US"])
        rows.append([f"#{order}", "", "", "", "", "", "", "2026-04-01 10:00:00 +0400", "2", "Extra", "1.00",
                     "SKU-X", "", "", "", "", ""])
    return rows[:lines + 1]


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<40}{time.perf_counter() - start:>8.2f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    n = parser.parse_args().rows
    rows = shopify_rows(n)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "orders.csv"
        csv_path.write_text("".join(",".join(f'"{c}"' for c in r) + "\n" for r in rows), encoding="utf-8")
        xlsx_path = Path(tmp) / "orders.xlsx"
        wb = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True, "strings_to_formulas": False})
        ws = wb.add_worksheet()
        for i, r in enumerate(rows):
            ws.write_row(i, 0, r)
        wb.close()
        limits = Limits()
        sheets = timed(f"read csv, {n} rows x {len(SHOPIFY_HEADER)} columns", lambda: read_sheets(csv_path, limits))
        timed(f"read xlsx, {n} rows x {len(SHOPIFY_HEADER)} columns", lambda: read_sheets(xlsx_path, limits))
    imported = timed(f"map {n} Shopify lines to order lines",
                     lambda: import_sheets([RawSheet("", sheets[0].rows)], "orders.csv", shop_hint="s",
                                           config=Config()))
    print(f"lines: {len(imported.frame)}, orders: {imported.frame['order_id'].nunique()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
