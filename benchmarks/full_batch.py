"""Time a full batch on generated data: N order lines (an xlsx orders export) with matching stock,
products and number pools, through every stage to every output.

    python benchmarks/full_batch.py --lines 100000
    python benchmarks/full_batch.py --history 1000000 --orders 1000
    python benchmarks/full_batch.py --lines 100000 --database sqlite --database postgresql://u@host/empty_db

The batch runs in a child process (`batchship run`'s library call, with the generated files named,
so no settle time holds them back); this process samples the resident memory of that child and all
its workers, and prints the peak of their sum beside each step's wall time. The run must apply every
input file and write orders, stock and pick-list workbooks, labels and uploads, or the benchmark
fails: a batch that did nothing is not a fast batch.

``--history N`` first fills the store with N shipped and cancelled orders of the past year (their
lines, ledger movements, events and used tracking numbers, through the store's bulk loader), then
times a batch of ``--orders`` new ones.

With several ``--database`` values the same batch runs on each store in turn (a PostgreSQL database
must be empty), and a last line compares their totals.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import xlsxwriter

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
"""
ORDER_HEADER = ["shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "recipient_name",
                "address1", "address2", "city", "state", "postcode", "country", "phone", "email"]
EXPECTED_OUTPUTS = ("orders.xlsx", "stock.xlsx", "picklist", "labels-", "upload-")


def generate(root: Path, lines: int | None, orders: int | None = None, seed: int = 7, first_order: int = 0,
             n_skus: int | None = None) -> list[Path]:
    """Input files in ``root/inbox``: products, stock and pools as CSV, the orders as one xlsx sheet.
    ``lines`` or ``orders`` bounds the size; order ids start after ``first_order``."""
    rng = random.Random(seed)
    n_skus = n_skus or max(50, (lines or orders * 1.6) // 200)
    skus = [f"SKU-{i:05d}" for i in range(int(n_skus))]
    inbox = root / "inbox"
    written = [inbox / "products.csv", inbox / "stock.csv", inbox / "orders.xlsx", inbox / "pool.csv"]
    pd.DataFrame({
        "sku": skus, "name": [f"Product {s}" for s in skus], "declared_name_en": "Household goods",
        "declared_name_cn": "家居用品", "declared_value": "4.50", "declared_currency": "USD",
        "weight_g": [rng.randint(20, 900) for _ in skus], "hs_code": "392690", "origin_country": "CN",
    }).to_csv(written[0], index=False)
    # Roughly four in five orders can be served; the rest wait for stock.
    avg_units = (lines or orders * 1.6) * 1.6 / len(skus)
    pd.DataFrame({"warehouse": "SZ", "sku": skus,
                  "on_hand": [int(avg_units * rng.uniform(0.5, 1.1)) for _ in skus],
                  "shelf": [f"{chr(65 + i % 20)}-{i % 50:02d}" for i in range(len(skus))]}
                 ).to_csv(written[1], index=False)
    rows, order_no = [], first_order
    while (lines is not None and len(rows) < lines) or (orders is not None and order_no - first_order < orders):
        order_no += 1
        country, postcode, state = rng.choice(COUNTRIES)
        shop = f"bench-{1 + order_no % 2}"
        paid = f"2026-11-{1 + order_no % 25:02d} {order_no % 24:02d}:{order_no % 60:02d}:00"
        for sku in rng.sample(skus, rng.choice((1, 1, 1, 2, 3))):
            rows.append((shop, f"B{order_no:08d}", sku, rng.choice((1, 1, 2)), "12.90", "USD", paid,
                         "Jürgen Müller", "Hauptstraße 5", "", "Berlin", state, postcode, country,
                         "+49 30 555 0101", "buyer@example.com"))
    rows = rows[:lines] if lines is not None else rows
    wb = xlsxwriter.Workbook(str(written[2]), {"constant_memory": True, "strings_to_numbers": False})
    sheet = wb.add_worksheet("orders")
    sheet.write_row(0, 0, ORDER_HEADER)
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row)
    wb.close()
    from batchship.s10 import s10_check_digit
    numbers = [(ch, f"{'LY' if ch == 'YW' else 'LE'}{i:08d}{s10_check_digit(f'{i:08d}')}CN")
               for ch in ("YW", "EU") for i in range(first_order, order_no + 1)]
    pd.DataFrame(numbers, columns=["channel", "tracking_number"]).to_csv(written[3], index=False)
    return written


def build_history(root: Path, n: int, seed: int = 11) -> None:
    """N shipped and cancelled orders of the past year in the workspace's store, bulk loaded."""
    from batchship.database import database_url
    from batchship.store import Store
    from batchship.workspace import Workspace
    Workspace(root).ensure()
    store = Store(database_url(root))
    try:
        store.load_history(history_frames(n, seed))
        with store.batch():
            store.set_shelves(pd.DataFrame({"warehouse": "SZ", "sku": HISTORY_SKUS, "shelf": "H-01"}))
    finally:
        store.close()


HISTORY_SKUS = [f"SKU-{i:05d}" for i in range(500)]


def history_frames(n: int, seed: int, chunk: int = 100_000):
    """The history in chunks of ``chunk`` orders: (orders, lines, ledger, events, pool) frames. The
    year opens with a count of every SKU, so stock never went below zero."""
    rng = random.Random(seed)
    skus = HISTORY_SKUS
    for start in range(0, n, chunk):
        ids = range(start, min(n, start + chunk))
        day = [f"2025-{1 + (i * 12 // max(n, 1)) % 12:02d}-{1 + i % 28:02d}" for i in ids]
        run = [f"{d.replace('-', '')}-020000" for d in day]
        shipped = [rng.random() < 0.93 for _ in ids]
        tracking = [f"LH{i:09d}CN" if s else "" for i, s in zip(ids, shipped)]
        orders = pd.DataFrame({
            "shop": [f"bench-{1 + i % 2}" for i in ids], "order_id": [f"H{i:09d}" for i in ids],
            "platform": "batchship", "stage": ["shipped" if s else "cancelled" for s in shipped],
            "channel": "YW", "warehouse": "SZ", "tracking_number": tracking,
            "stock_status": ["in_stock" if s else "" for s in shipped], "paid_at": [d + " 10:00:00" for d in day],
            "recipient_name": "Jane Doe", "address1": "1 Main St", "city": "Springfield", "postcode": "62704",
            "country": "US", "currency": "USD", "order_total": "12.90", "goods_value": "12.90",
            "printed": ["yes" if s else "" for s in shipped], "printed_run": [r if s else "" for r, s in zip(run, shipped)],
            "source_file": "history.xlsx", "source_row": [2 + i for i in ids], "created_run": run, "updated_run": run,
        })
        sku = [skus[rng.randrange(len(skus))] for _ in ids]
        lines = pd.DataFrame({
            "shop": orders["shop"], "order_id": orders["order_id"], "line_no": 1, "item_id": "1",
            "platform_sku": sku, "sku": sku, "quantity": 1, "platform_line": 1, "platform_quantity": 1,
            "unit_price": "12.90", "source_file": "history.xlsx", "source_row": orders["source_row"],
        })
        ship = orders["stage"] == "shipped"
        ledger = pd.DataFrame({"run_id": orders["updated_run"][ship], "warehouse": "SZ", "sku": pd.Series(sku)[ship],
                               "delta": -1, "cause": "ship", "reference": orders["order_id"][ship]})
        if start == 0:
            opening = pd.DataFrame({"run_id": "20250101-000000", "warehouse": "SZ", "sku": skus,
                                    "delta": n // len(skus) + 100, "cause": "count", "reference": "opening count"})
            ledger = pd.concat([opening, ledger], ignore_index=True)
        events = pd.DataFrame({"run_id": orders["updated_run"], "shop": orders["shop"], "order_id": orders["order_id"],
                               "event": ["shipped" if s else "cancelled" for s in shipped], "detail": ""})
        pool = pd.DataFrame({"tracking_number": orders["tracking_number"][ship], "channel": "YW", "status": "issued",
                             "shop": orders["shop"][ship], "order_id": orders["order_id"][ship],
                             "issued_run": orders["updated_run"][ship]})
        yield orders, lines, ledger, events, pool


def run_child(root: Path, files: list[str], out: Path) -> None:
    """In the child: the batch itself, then its report as JSON for the parent."""
    import resource

    from batchship.config import load_config
    from batchship.pipeline import run_batch
    # The run imports its writers when it has outputs to write; "total" times the batch alone, and the
    # parent times the whole process (interpreter, imports, batch, exit) apart.
    import batchship.outputs  # noqa: F401
    t = time.perf_counter()
    report = run_batch(root, load_config(root), only=[Path(f) for f in files])
    total = time.perf_counter() - t
    out.write_text(json.dumps({
        "total": total, "timings": report.timings, "summary": report.summary,
        "cpu_seconds": sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                           for f in ("ru_utime", "ru_stime")),
        "maxrss_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "maxrss_children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }, default=str))


class TreeMemory:
    """Peak of the summed memory of a process and all its descendants, sampled: resident (RSS, which
    counts pages a forked worker shares with the run once in each) and proportional (PSS, which
    splits shared pages between the processes sharing them: what the tree really occupies).

    Reading a process's memory map walks its page tables: about 7 ms for a 500 MiB process here, so
    sampling three such processes every 20 ms took most of a core from the batch it measured. The
    sampler waits ten times as long as its last sample took (at least ``every``), which keeps it
    under a tenth of one core; the peak, held while the outputs are written, lasts seconds."""

    def __init__(self, pid: int, every: float = 0.02):
        import psutil
        self.root = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self.peak_pss = 0
        self.most_processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = pss = 0
            for p in procs:
                try:
                    full = p.memory_full_info()
                    total += full.rss
                    pss += getattr(full, "pss", full.rss)
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, pss)
            self.most_processes = max(self.most_processes, len(procs))
            self._stop.wait(max(self.every, 10 * (time.perf_counter() - started)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def check_applied(result: dict, root: Path, n_files: int) -> list[str]:
    """Why the run did not do the whole job ("" list when it did)."""
    s = result["summary"]
    files = s.get("files", {})
    problems = []
    if len(files.get("applied", [])) != n_files:
        problems.append(f"{len(files.get('applied', []))} of {n_files} input files applied: {files}")
    if not s.get("labels"):
        problems.append("no labels written")
    outputs = [Path(p).name for p in s.get("outputs", [])]
    for expected in EXPECTED_OUTPUTS:
        if not any(name.startswith(expected) for name in outputs):
            problems.append(f"no {expected}* output (outputs: {outputs})")
    if s.get("output_problems"):
        problems.append(f"outputs not written: {s['output_problems']}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, help="order lines in the batch (default 100000)")
    parser.add_argument("--orders", type=int, help="orders in the batch instead of a number of lines")
    parser.add_argument("--history", type=int, default=0, metavar="N",
                        help="first fill the store with N shipped and cancelled orders of the past year")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and print its path")
    parser.add_argument("--database", action="append", metavar="URL",
                        help="the store: 'sqlite' (the workspace's file, the default) or the URL of an empty "
                             "PostgreSQL database; repeat to compare")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), args.child[2:], Path(args.child[1]))
        return 0
    if args.lines is None and args.orders is None:
        args.lines = 100_000
    totals, failed = {}, False
    for database in args.database or ["sqlite"]:
        total = one_batch(args, "" if database == "sqlite" else database)
        failed = failed or total is None
        totals[database] = total
    if len(totals) > 1 and not failed:
        first = next(iter(totals.values()))
        print("compared: " + ", ".join(f"{_store_name(d)} {t:.1f} s ({t / first:.2f}x)" for d, t in totals.items()))
    return 1 if failed else 0


def _store_name(database: str) -> str:
    return database if database in ("", "sqlite") else database.split("://", 1)[0]


def one_batch(args, database: str) -> float | None:
    """The batch on one store: its total seconds, or None when it failed or did not do everything."""
    from batchship.workspace_init import init_workspace
    root = Path(tempfile.mkdtemp(prefix="batchship-bench-"))
    init_workspace(root)
    (root / "batchship.toml").write_text((f'database = "{database}"\n' if database else "") + CONFIG,
                                         encoding="utf-8")
    print(f"store: {_store_name(database or 'sqlite')}")
    if args.history:
        t = time.perf_counter()
        build_history(root, args.history)
        print(f"history of {args.history} orders built in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    files = generate(root, args.lines, args.orders, first_order=args.history)
    print(f"generated {args.lines or args.orders} order {'lines' if args.lines else ''}{'' if args.lines else 'orders'} "
          f"in {time.perf_counter() - t:.1f} s ({root})")
    out = root / "bench-result.json"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(root), str(out), *map(str, files)])
    memory = TreeMemory(proc.pid)
    proc.wait()
    whole = time.perf_counter() - started
    memory.stop()
    if proc.returncode:
        print(f"the batch failed (exit {proc.returncode})")
        return None
    result = json.loads(out.read_text())
    print(f"{'step':<24}{'seconds':>9}")
    for step, seconds in result["timings"].items():
        print(f"{step:<24}{seconds:>9.2f}")
    print(f"{'total':<24}{result['total']:>9.2f}")
    print(f"the batch's process from start to exit (interpreter, imports, batch): {whole:.2f} s")
    print(f"CPU seconds of the batch (all its processes): {result['cpu_seconds']:.2f}")
    s = result["summary"]
    print(f"labels: {s.get('labels')}, touched orders: {s.get('touched_orders')}, "
          f"files applied: {len(s.get('files', {}).get('applied', []))}")
    print(f"peak memory of the process tree: {memory.peak_pss / 2**20:.0f} MiB proportional (PSS), "
          f"{memory.peak / 2**20:.0f} MiB resident summed (RSS; up to {memory.most_processes} "
          f"processes; largest single process {max(result['maxrss_self_mib'], result['maxrss_children_mib']):.0f} MiB)")
    problems = check_applied(result, root, len(files))
    for p in problems:
        print(f"NOT A FULL BATCH: {p}")
    if not args.keep:
        shutil.rmtree(root)
    else:
        print(f"workspace kept: {root}")
    return None if problems else result["total"]


if __name__ == "__main__":
    sys.exit(main())
