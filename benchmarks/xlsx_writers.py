"""Writing 100,000 rows x 11 cells with each xlsx writer, and with batchship's write_workbook.

    python benchmarks/xlsx_writers.py --rows 100000

Cells are text like the orders sheet's (ids, names, addresses, some starting with '='), two numbers.
Each writer's file is read back to check its row count.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({
        "shop": [f"shop-{i % 3}" for i in range(rows)], "order_id": [f"B{i:08d}" for i in range(rows)],
        "stage": "print", "stock_status": "in_stock", "recipient_name": "Jürgen Müller",
        "address1": ["=HYPERLINK(\"x\")" if i % 1000 == 0 else "Hauptstraße 5" for i in range(rows)],
        "city": "Berlin", "postcode": "10115", "country": "DE",
        "quantity": [1 + i % 3 for i in range(rows)], "weight_g": [20 + i % 900 for i in range(rows)],
    })


def xlsxwriter_rows(path: Path, df: pd.DataFrame) -> None:
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet("orders")
    ws.write_row(0, 0, list(df.columns))
    for r, row in enumerate(zip(*[df[c].tolist() for c in df.columns]), start=1):
        ws.write_row(r, 0, row)
    wb.close()


def rustpy(path: Path, df: pd.DataFrame) -> None:
    import rustpy_xlsxwriter
    records = df.to_dict("records")
    rustpy_xlsxwriter.write_worksheet(records, str(path), sheet_name="orders")


def openpyxl_write_only(path: Path, df: pd.DataFrame) -> None:
    import openpyxl
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("orders")
    ws.append(list(df.columns))
    for row in zip(*[df[c].tolist() for c in df.columns]):
        ws.append(row)
    wb.save(path)


def batchship_write_workbook(path: Path, df: pd.DataFrame) -> None:
    from batchship.writers.xlsx import write_workbook
    write_workbook(path, [("orders", df)])


WRITERS = {"xlsxwriter (constant_memory, write_row)": xlsxwriter_rows, "rustpy-xlsxwriter": rustpy,
           "openpyxl (write_only)": openpyxl_write_only, "batchship write_workbook": batchship_write_workbook}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args()
    df = frame(args.rows)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in WRITERS.items():
            best = float("inf")
            for i in range(args.repeat):
                path = Path(tmp) / f"{i}-{write.__name__}.xlsx"
                t = time.perf_counter()
                try:
                    write(path, df)
                except Exception as exc:   # a writer missing here is reported, not fatal
                    print(f"{name:<42} failed: {exc.__class__.__name__}: {exc}")
                    break
                best = min(best, time.perf_counter() - t)
            else:
                back = pd.read_excel(path, engine="calamine")
                ok = len(back) == args.rows and list(back.columns) == list(df.columns)
                bad += not ok
                print(f"{name:<42}{best:>8.2f} s{'' if ok else '  WRONG CONTENT'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
