"""SIGKILL a batch at every checkpoint, rerun it, and compare with an uninterrupted run.

Each case copies the same prepared workspace, runs ``python -m batchship.cli run``
in a subprocess with BATCHSHIP_KILL_AT set (it must die by SIGKILL), reruns it and
snapshots what a user and an accountant would look at: orders, lines, the
ledger, the tracking pool, the files table, archive/ and failed/, and the outbox
workbooks, upload files and label barcodes. The snapshot must equal the one of
an uninterrupted run, with run ids (which come from the clock) masked.

Cases run in forked worker processes, two at a time unless pytest-xdist runs other files beside
them; each test then only compares, so a failure names its kill point.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import traceback
from pathlib import Path

import pandas as pd
import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.cli import main
from batchship.database import Connection, make_engine
from batchship.faults import ENV
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10, write_csv
from postgres_fixture import create_database, drop_database

REPO = Path(__file__).resolve().parents[1]
STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]
PAIRING_HEADER = ["shop", "platform_sku", "sku", "quantity"]
SCAN_HEADER = ["tracking_number"]

# In the order a run reaches them. The batch has 8 input files (one rejected, settled
# first because it sorts first), one stock count, two label channels.
BEFORE_COMMIT = [
    "locked", "unfinished-done", "claimed-file#1", "claimed-file#5", "claimed", "imported", "run-started",
    "applied-products", "applied-pairing", "applied-stock", "applied-pool", "synced", "reviewed",
    "processed", "waybilled", "allocated", "shipped", "stored-orders", "stored-pool", "stored-events",
    "files-recorded", "before-commit",
]
AFTER_COMMIT = [
    "after-commit", "outputs-started", "wrote-labels#1", "wrote-labels#2", "wrote-packing-slips", "wrote-uploads", "xlsx-written#1",
    "wrote-orders", "xlsx-written#2", "wrote-stock", "xlsx-written#3", "wrote-picklist-xlsx", "wrote-picklist",
    "xlsx-written#4", "wrote-manifest-xlsx", "wrote-manifest", "xlsx-written#5", "wrote-errors-report", "settled-file#1", "settled-file#5",
    "settled", "before-finish", "finished",
]
KILL_POINTS = BEFORE_COMMIT + AFTER_COMMIT
# Reached only by channels that book with a forwarder: killed in tests/test_forwarder_booking.py.
BOOKING_POINTS = {"booking-intents", "booking-results", "booked", "wrote-carrier-labels"}
# Inside the parallel label writer (labels in parts of two on two worker processes): a worker kills
# the run while the others render, and the run is killed after joining the parts.
PARALLEL_LABEL_POINTS = ["label-part-rendered#1", "label-part-rendered#2", "label-parts-joined"]
PARALLEL_LABELS = {"BATCHSHIP_LABEL_PART": "2", "BATCHSHIP_LABEL_WORKERS": "2"}
# Workers forked with the run's label files, or as the run starts (as for a large batch).
FORKED = {"late": {}, "ahead": {"BATCHSHIP_LABEL_AHEAD_BYTES": "0"}}
# A second day of files arrives before the rerun: checked at fewer points to keep the file fast.
DAY_TWO_POINTS = ["claimed-file#5", "before-commit", "after-commit", "settled-file#5"]
# The rerun that recovers a killed run is itself killed.
DOUBLE_KILLS = [("after-commit", "xlsx-written#1"), ("settled-file#1", "unfinished-done")]
# The same batch on a PostgreSQL store, killed at a few points either side of its commit.
POSTGRES_POINTS = ["claimed", "applied-stock", "stored-orders", "before-commit", "after-commit", "wrote-labels#1",
                   "settled"]
PG = "pg-"   # task kinds on PostgreSQL

RUN_ID = re.compile(r"\d{8}-\d{6}(?:-\d+)?")
DAY_DIR = re.compile(r"^archive/\d{4}-\d{2}-\d{2}/")
# A file archived under a name its day's folder already holds gets " (2)": whether two batches' files
# meet depends on whether their runs fell on one day, which a suite running past midnight changes.
TAKEN_NAME = re.compile(r" \(\d+\)(?=\.[^./]+$|$)")
TEMPORARY = re.compile(r"(\.partial|\.tmp)$|^\.")


# ---- the batch ---------------------------------------------------------------------------

def build_batch_workspace(root: Path, database: str = "") -> None:
    """A workspace after one earlier day, with the day's batch waiting in the inbox."""
    ws = Workspace(root, database)
    config = ws.root / "batchship.toml"     # shop-a's packing slips are one more writer to kill
    config.write_text(config.read_text(encoding="utf-8").replace(
        'name = "shop-a"\nplatform = "batchship"', 'name = "shop-a"\nplatform = "batchship"\npacking_slips = true', 1),
        encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(s) for s in "ABCD"])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 10, "A-01"], ["SZ", "B", 2, "B-01"], ["SZ", "D", 4, "D-01"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 7)] + [["SMALL", "SM0001"]])
    ws.drop("orders-a.csv", ORDER_HEADER, [order_row("P1", "A", 1, "2026-11-01 08:00:00", shop="shop-a"),
                                           order_row("P2", "B", 1, "2026-11-01 09:00:00", shop="shop-a")],
            shop="shop-a")
    with contextlib.redirect_stdout(io.StringIO()):
        assert ws.run() == 0

    ws.drop("orders-a.csv", ORDER_HEADER, [
        order_row("A1", "A", 2, "2026-11-02 08:00:00", shop="shop-a"),
        order_row("A2", "A", 1, "2026-11-02 08:05:00", shop="shop-a"),
        order_row("A2", "C", 2, "2026-11-02 08:05:00", shop="shop-a"),
        order_row("A3", "B", 3, "2026-11-02 08:10:00", shop="shop-a"),                       # out of stock
        order_row("A4", "A", 1, "2026-11-02 08:15:00", shop="shop-a", postcode=""),          # held
        order_row("A5", "D", 1, "2026-11-02 08:20:00", shop="shop-a", country="GB", postcode="NW1 6XE",
                  name="Łukasz Wiśniewski"),
        order_row("A6", "GHOST", 1, "2026-11-02 08:25:00", shop="shop-a"),                   # held
        order_row("A7", "E", 1, "2026-11-02 08:30:00", shop="shop-a"),
    ], shop="shop-a")
    ws.drop("orders-b.csv", ORDER_HEADER, [
        order_row("B1", "A", 1, "2026-11-02 07:00:00", shop="shop-b"),
        order_row("B1", "B", 1, "2026-11-02 07:00:00", shop="shop-b"),
        order_row("B1", "D", 1, "2026-11-02 07:00:00", shop="shop-b"),
        order_row("B2", "B", 2, "2026-11-02 07:30:00", shop="shop-b"),                       # out of stock
        order_row("B3", "A", 1, "2026-11-02 07:45:00", shop="shop-b", country="Atlantis"),   # held
        order_row("B4", "D", 4, "2026-11-02 09:00:00", shop="shop-b"),                       # out of stock
        order_row("B5", "C", 1, "2026-11-02 09:30:00", shop="shop-b", country="GB", postcode="SW1A 1AA"),
        order_row("B6", "BUNDLE", 1, "2026-11-02 09:45:00", shop="shop-b"),                  # paired: A + E
    ])
    ws.drop("pairing.csv", PAIRING_HEADER, [["shop-b", "BUNDLE", "A", 1], ["shop-b", "BUNDLE", "E", 1]])
    ws.drop("products-2.csv", PRODUCT_HEADER, [product_row("E", grams=80)])
    ws.drop("stock-count.csv", STOCK_HEADER, [["SZ", "A", 12, "A-01"], ["SZ", "C", 5, "C-02"], ["SZ", "E", 3, "E-01"]])
    ws.drop("pool-2.csv", POOL_HEADER, [["YW", s10(i)] for i in range(7, 15)] + [["SMALL", "SM0002"],
                                                                                 ["SMALL", "SM0003"]])
    # P1 by order id, P2 by its tracking number (the second one of the pool), one unknown parcel.
    ws.drop("handover.csv", SCAN_HEADER, [["P1"], [s10(2)], ["NOPE123"]])
    ws.drop("bad-stock.csv", STOCK_HEADER, [["SZ", "A", "lots", ""], ["SZ", "C", -1, ""]])


def _drop_day_two(root: Path) -> None:
    inbox = root / "inbox"
    # "orders-c" sorts between this day's order files: the batch order must not depend on
    # which files an interrupted run had already claimed.
    write_csv(inbox / "orders-c.csv", ORDER_HEADER, [
        order_row("C1", "A", 1, "2026-11-03 07:00:00", shop="shop-b"),
        order_row("C2", "E", 2, "2026-11-01 07:00:00", shop="shop-b"),
        order_row("B6", "BUNDLE", 1, "2026-11-02 09:45:00", shop="shop-b"),                  # re-exported
    ])
    write_csv(inbox / "stock-recount.csv", STOCK_HEADER, [["SZ", "B", 10, ""], ["SZ", "D", 8, ""]])
    write_csv(inbox / "handover-2.csv", SCAN_HEADER, [["A1"], ["B5"], ["A3"]])


# ---- running ------------------------------------------------------------------------------

def _rerun(root: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["run", "-w", str(root)])


def _killed_run(root: Path, point: str, extra_env: dict | None = None) -> None:
    env = {**os.environ, ENV: point, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           **(extra_env or {})}
    proc = subprocess.run([sys.executable, "-m", "batchship.cli", "run", "-w", str(root)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != -9:
        raise AssertionError(f"run with {ENV}={point} was not killed (exit {proc.returncode}): the point "
                             f"was never reached\n{proc.stdout}{proc.stderr[-3000:]}")


def _processes_of(root: Path, patience: float = 5.0) -> list[str]:
    """Processes still running with ``root`` on their command line, after a moment for the kernel
    to deliver the workers' deaths."""
    import time
    deadline = time.monotonic() + patience
    while True:
        alive = []
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = next((line for line in (proc / "status").read_text().splitlines()
                              if line.startswith("State:")), "")
            except OSError:
                continue
            if str(root) in cmdline and "zombie" not in state:
                alive.append(f"{proc.name}: {cmdline}")
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _plant_unfinished_writes(root: Path) -> None:
    """What a kill inside a writer leaves: the upload writer's random temporary name, the
    PDF writers' and the workbook writer's fixed ones (the run folder of the killed run)."""
    (folder,) = [p for p in (root / "outbox").iterdir() if not any(p.glob("upload-*"))]
    (folder / ".upload-shop-a-batchship.csv.k2x9q1ab.tmp").write_text("shop,order_id\r\nshop-a,A1")
    (folder / "labels-YW.tmp").write_bytes(b"%PDF-1.4 half")
    (folder / "orders.xlsx.partial").write_bytes(b"PK half")


@contextlib.contextmanager
def _clock_a_day_ahead():
    """The recovery happens the next day (a run killed before midnight, rerun by the morning cron)."""
    from datetime import datetime, timedelta

    import batchship.outputs as outputs

    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=1)

    real = outputs.datetime
    outputs.datetime = Tomorrow
    try:
        yield
    finally:
        outputs.datetime = real


def _case(task: tuple) -> tuple[tuple, dict | str]:
    """One scenario in a fresh copy of the template; returns its snapshot or the error text."""
    kind, arg, template, work, server, pg_template = task
    root = Path(work) / re.sub(r"\W", "_", f"{kind}-{arg}")
    database = ""
    try:
        if kind.startswith(PG):   # a copy of the template's database too, named in the copy's config
            kind = kind[len(PG):]
            template = pg_template[0]
            database = create_database(server, template=pg_template[1])
        shutil.copytree(template, root)
        if database:
            config = root / "batchship.toml"
            lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
            config.write_text(f'database = "{database}"\n' + "".join(lines[1:]), encoding="utf-8")
        if kind == "reference":
            _rerun(root)
        elif kind == "reference-split":
            _rerun(root)
            _drop_day_two(root)
            _rerun(root)
        elif kind == "reference-merged":
            _drop_day_two(root)
            _rerun(root)
        elif kind == "kill":
            _killed_run(root, arg)
            _rerun(root)
        elif kind == "kill-day-two":
            _killed_run(root, arg)
            _drop_day_two(root)
            _rerun(root)
            _rerun(root)    # a further run must change nothing
        elif kind == "kill-parallel":
            point, forked = arg
            _killed_run(root, point, {**PARALLEL_LABELS, **FORKED[forked]})
            survivors = _processes_of(root)
            if survivors:
                raise AssertionError(f"workers outlived the killed run: {survivors}")
            _rerun(root)
        elif kind == "kill-twice":
            _killed_run(root, arg[0])
            _killed_run(root, arg[1])
            _rerun(root)
        elif kind == "kill-mid-upload-recover-tomorrow":
            _killed_run(root, "wrote-labels")   # before the upload files
            _plant_unfinished_writes(root)
            with _clock_a_day_ahead():
                _rerun(root)
        return (task[0], arg), snapshot(root, database)
    except BaseException:
        return (task[0], arg), traceback.format_exc()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if database:
            drop_database(server, database)


# ---- what is compared -----------------------------------------------------------------------

def _mask(value):
    return RUN_ID.sub("<run>", value) if isinstance(value, str) else value


def _rows(db, sql: str) -> list[tuple]:
    return [tuple(_mask(v) for v in row) for row in db.execute(sql)]


def _store_state(root: Path, database: str = "") -> dict:
    if database:
        db = Connection(make_engine(database))
        arrival = "claimed_path"                   # PostgreSQL has no rowid: a stable order instead
    else:
        db = sqlite3.connect(f"file:{root / '.batchship' / 'state.sqlite'}?mode=ro", uri=True)
        arrival = "rowid"
    try:
        return {
            "runs not finished": _rows(db, "SELECT run_id FROM runs WHERE committed_at = '' OR finished_at = ''"),
            "orders": _rows(db, "SELECT * FROM orders ORDER BY shop, order_id"),
            "lines": _rows(db, "SELECT * FROM lines ORDER BY shop, order_id, line_no"),
            "on hand": _rows(db, "SELECT warehouse, sku, SUM(delta) FROM ledger GROUP BY 1, 2 ORDER BY 1, 2"),
            "ledger rows by cause": _rows(db, "SELECT cause, COUNT(*) FROM ledger GROUP BY 1 ORDER BY 1"),
            "ledger": _rows(db, "SELECT warehouse, sku, delta, cause, reference, source_file, source_row "
                                "FROM ledger ORDER BY id"),
            "pool": _rows(db, "SELECT * FROM pool ORDER BY tracking_number"),
            "files": _rows(db, "SELECT * FROM files ORDER BY sha256"),
            "run files": _rows(db, "SELECT claimed_path, name, outcome, detail, problems FROM run_files "
                                   f"ORDER BY run_id, {arrival}"),
            "events": _rows(db, "SELECT shop, order_id, event, detail FROM events ORDER BY run_id, " +
                            ("rowid" if arrival == "rowid" else "shop, order_id, event, detail")),
            "products": _rows(db, "SELECT * FROM products ORDER BY sku"),
            "pairing": _rows(db, "SELECT * FROM pairing ORDER BY 1, 2, 3"),
            "stock places": _rows(db, "SELECT * FROM stock_places ORDER BY 1, 2"),
        }
    finally:
        db.close()


def _workbook(path: Path) -> dict:
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine")
    return {name: [list(sheet.columns)] + [[_mask(v) for v in row] for row in sheet.fillna("").values.tolist()]
            for name, sheet in sheets.items()}


def _barcodes(path: Path) -> list[list[str]]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [[b.text for b in zxingcpp.read_barcodes(page.render(scale=2).to_pil())] for page in pdf]
    finally:
        pdf.close()


def _outbox_runs(root: Path) -> list[dict]:
    """Each run's outputs, oldest first; runs that had no file and touched no order are left out."""
    runs = []
    for folder in sorted(p for p in (root / "outbox").iterdir() if p.is_dir()):
        orders = _workbook(folder / "orders.xlsx")
        if len(orders["orders"]) == 1 and len(orders["files"]) == 1:
            continue
        run = {"names": sorted(p.name for p in folder.iterdir()), "orders.xlsx": orders}
        for path in sorted(folder.iterdir()):
            if path.name in ("stock.xlsx", "picklist.xlsx") or (path.name.startswith("manifest-")
                                                                 and path.suffix == ".xlsx"):
                run[path.name] = _workbook(path)
            elif path.name.startswith("upload-"):
                run[path.name] = path.read_bytes()
            elif path.name.startswith("labels-"):
                run[path.name] = _barcodes(path)
        runs.append(run)
    return runs


def _settled_files(root: Path) -> dict:
    out = {}
    for top in ("archive", "failed"):
        for path in sorted((root / top).rglob("*")):
            if not path.is_file():
                continue
            name = TAKEN_NAME.sub("", DAY_DIR.sub("archive/<day>/", path.relative_to(root).as_posix()))
            out.setdefault(name, []).append(_workbook(path) if name.endswith(".errors.xlsx") else hashlib.sha256(
                path.read_bytes()).hexdigest())
    return {name: sorted(contents, key=repr) for name, contents in out.items()}


def snapshot(root: Path, database: str = "") -> dict:
    leftovers = sorted(p.relative_to(root).as_posix() for top in ("outbox", "archive", "failed")
                       for p in (root / top).rglob("*") if p.is_file() and TEMPORARY.search(p.name))
    return {
        "left in inbox": sorted(p.relative_to(root).as_posix() for p in (root / "inbox").rglob("*") if p.is_file()),
        "left claimed": sorted(p.name for p in (root / ".batchship" / "claimed").rglob("*") if p.is_file()),
        "temporary files": leftovers,
        **_store_state(root, database),
        "archive and failed": _settled_files(root),
        "outbox": _outbox_runs(root),
    }


# ---- the tests -------------------------------------------------------------------------------

def _tasks_for(item: pytest.Item) -> list[tuple]:
    params = getattr(item, "callspec", None)
    if params is None or item.module.__name__ != __name__:
        return []
    p = params.params
    if "pg_point" in p:
        return [(PG + "kill", p["pg_point"]), (PG + "reference", "")]
    if "point" in p:
        return [("kill", p["point"]), ("reference", "")]
    if "day_two_point" in p:
        ref = "reference-merged" if p["day_two_point"] in BEFORE_COMMIT else "reference-split"
        return [("kill-day-two", p["day_two_point"]), (ref, "")]
    if "kills" in p:
        return [("kill-twice", p["kills"]), ("reference", "")]
    if "parallel_point" in p:
        return [("kill-parallel", (p["parallel_point"], p["forked"])), ("reference", "")]
    return [(p["case"], ""), ("reference", "")]


@pytest.fixture(scope="module")
def results(request, tmp_path_factory) -> dict:
    """Every selected case, run two at a time; keyed by (kind, argument)."""
    template = tmp_path_factory.mktemp("template") / "ws"
    build_batch_workspace(template)
    work = tmp_path_factory.mktemp("cases")
    wanted = list(dict.fromkeys([("reference", "")] + [t for item in request.session.items
                                                        for t in _tasks_for(item)]))
    server = os.environ.get("BATCHSHIP_TEST_POSTGRES", "")
    pg_template = None
    if server and any(kind.startswith(PG) for kind, _ in wanted):
        pg_root = tmp_path_factory.mktemp("template-pg") / "ws"
        pg_url = create_database(server)
        build_batch_workspace(pg_root, pg_url)
        pg_template = (str(pg_root), pg_url.rsplit("/", 1)[1])
    else:
        wanted = [t for t in wanted if not t[0].startswith(PG)]
    tasks = [(kind, arg, str(template), str(work), server, pg_template) for kind, arg in wanted]
    # Two at a time on a machine's two cores; one at a time when pytest-xdist already runs other test
    # files on the other core, so timed tests there do not share it with two runs of these.
    processes = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return dict(pool.imap_unordered(_case, tasks))
    finally:
        if pg_template:
            drop_database(server, pg_url)


def _same(got: dict | str, expected: dict | str) -> None:
    assert isinstance(expected, dict), f"the reference run failed:\n{expected}"
    assert isinstance(got, dict), got
    assert got["left in inbox"] == [] and got["left claimed"] == [], "inputs were not all settled"
    assert got["temporary files"] == [], "temporary output files were left behind"
    assert got["runs not finished"] == []
    for key in expected:
        assert got[key] == expected[key], f"{key} differs from an uninterrupted run"


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_run_then_rerun_equals_uninterrupted_run(results, point):
    _same(results[("kill", point)], results[("reference", "")])


@pytest.mark.parametrize("pg_point", POSTGRES_POINTS)
def test_on_postgresql_killed_run_then_rerun_equals_uninterrupted_run(postgres_server, results, pg_point):
    """SIGKILL mid-batch on a PostgreSQL store: the server rolls the open transaction back (and
    releases the batch lock) when the connection drops, and the rerun completes as on SQLite."""
    _same(results[(PG + "kill", pg_point)], results[(PG + "reference", "")])


@pytest.mark.parametrize("day_two_point", DAY_TWO_POINTS)
def test_killed_run_then_next_day_equals_uninterrupted_days(results, day_two_point):
    """Killed before COMMIT: the batch never happened, so the rerun takes both days as one batch.
    Killed after COMMIT: the rerun finishes that run first, then runs the next day on its own."""
    ref = "reference-merged" if day_two_point in BEFORE_COMMIT else "reference-split"
    _same(results[("kill-day-two", day_two_point)], results[(ref, "")])


@pytest.mark.parametrize("forked", FORKED)
@pytest.mark.parametrize("parallel_point", PARALLEL_LABEL_POINTS)
def test_killed_inside_the_parallel_label_writer_then_rerun_equals_uninterrupted_run(results, parallel_point, forked):
    """No worker outlives the killed run (they die with it), and the rerun writes the same labels."""
    _same(results[("kill-parallel", (parallel_point, forked))], results[("reference", "")])


@pytest.mark.parametrize("kills", DOUBLE_KILLS, ids=lambda k: f"{k[0]}+{k[1]}")
def test_recovery_killed_too_then_rerun_equals_uninterrupted_run(results, kills):
    _same(results[("kill-twice", kills)], results[("reference", "")])


@pytest.mark.parametrize("case", ["kill-mid-upload-recover-tomorrow"])
def test_rewritten_outputs_leave_no_temporary_files_and_keep_the_run_day(results, case):
    """A kill inside the upload writer leaves its temporary file (random name); the rewrite removes
    it. Outputs finished the next day still carry the run's own ship date."""
    _same(results[(case, "")], results[("reference", "")])


def test_every_checkpoint_in_the_code_is_a_kill_point():
    in_code = {m for path in (REPO / "batchship").rglob("*.py")
               for m in re.findall(r'checkpoint(?:\(|=)"([^"]+)"', path.read_text(encoding="utf-8"))}
    assert len(in_code) >= 20
    assert in_code == ({p.partition("#")[0] for p in KILL_POINTS + PARALLEL_LABEL_POINTS} | BOOKING_POINTS)


def test_reference_run_is_the_realistic_batch(results):
    """The reference itself: every path the kill points cover is really taken."""
    ref = results[("reference", "")]
    assert isinstance(ref, dict), ref
    stages = {(o[1]): o[3] for o in ref["orders"]}
    assert stages["P1"] == stages["P2"] == "shipped"
    assert {stages[o] for o in ("A4", "A6", "B3")} == {"hold"}
    statuses = {o[1]: o[11] for o in ref["orders"]}
    assert {statuses[o] for o in ("A3", "B2", "B4")} == {"out_of_stock"}
    assert dict(ref["ledger rows by cause"]).get("ship") == 2
    assert [f for f in ref["archive and failed"] if f.startswith("failed/")] == [
        "failed/bad-stock.csv", "failed/bad-stock.csv.errors.xlsx"]
    (run,) = ref["outbox"][1:]
    assert {"labels-SMALL.pdf", "labels-YW.pdf", "picklist.pdf", "picklist.xlsx", "manifest-YW.pdf",
            "manifest-YW.xlsx"} <= set(run["names"])
    issued = [p[0] for p in ref["pool"] if p[2] == "issued"]
    assert len(issued) == len(set(issued)) == sum(1 for o in ref["orders"] if o[10])
