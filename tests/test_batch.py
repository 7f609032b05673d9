"""A batch from inbox to outbox, driven through the CLI on a real workspace."""
from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import pypdfium2 as pdfium
import zxingcpp

from batchship.cli import main
from conftest import ORDER_HEADER, PRODUCT_HEADER, Workspace, order_row, product_row, s10, without_totals

STOCK_HEADER = ["warehouse", "sku", "on_hand", "shelf"]
POOL_HEADER = ["channel", "tracking_number"]


def _setup_day_one(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("B"), product_row("C")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, "A-01"], ["SZ", "B", 1, "B-01"]])
    ws.drop("pool.csv", POOL_HEADER, [["YW", s10(i)] for i in range(1, 9)] + [["SMALL", "SM0001"]])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("O1", "A", 2, "2026-11-01 08:00:00"),
        order_row("O2", "B", 2, "2026-11-01 09:00:00"),
        order_row("O3", "A", 2, "2026-11-01 10:00:00"),
        order_row("O3", "C", 1, "2026-11-01 10:00:00"),          # C is never counted: in stock
        order_row("O4", "A", 2, "2026-11-01 11:00:00"),
    ])


def _by_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("order_id")


def test_allocation_oldest_paid_first_all_lines_or_none(any_ws):
    ws = any_ws
    _setup_day_one(ws)
    assert ws.run() == 0
    orders = _by_order(ws.orders())
    assert orders.loc[["O1", "O2", "O3", "O4"], "stage"].tolist() == ["print"] * 4
    assert orders.loc[["O1", "O2", "O3", "O4"], "stock_status"].tolist() == [
        "in_stock", "out_of_stock", "in_stock", "out_of_stock"]
    stock = ws.stock()
    assert stock.loc[("SZ", "A"), ["on_hand", "allocated", "available"]].tolist() == [5, 4, 1]
    assert stock.loc[("SZ", "B"), ["on_hand", "allocated", "available"]].tolist() == [1, 0, 1]
    assert stock.loc[("SZ", "A"), "shelf"] == "A-01"
    tracking = orders.loc[["O1", "O2", "O3", "O4"], "tracking_number"].tolist()
    assert len(set(tracking)) == 4 and all(t.startswith("RR") for t in tracking)


def test_stock_sheet_releases_waiting_orders(ws):
    _setup_day_one(ws)
    ws.run()
    ws.drop("stock-2.csv", STOCK_HEADER, [["SZ", "B", 3, ""]])
    assert ws.run() == 0
    orders = _by_order(ws.orders())
    assert orders.loc["O2", "stock_status"] == "in_stock"
    assert "O4" not in orders.index            # untouched by this run: still waiting for A
    stock = ws.stock()
    assert stock.loc[("SZ", "B"), ["on_hand", "allocated", "available"]].tolist() == [3, 2, 1]
    assert stock.loc[("SZ", "B"), "shelf"] == "B-01"   # a count without shelf keeps the known shelf
    to_buy = without_totals(pd.read_excel(ws.last_outbox() / "stock.xlsx", sheet_name="to buy", engine="calamine"))
    assert to_buy[["sku", "waiting", "available", "to_buy", "orders"]].values.tolist() == [["A", 2, 1, 1, 1]]
    movements = without_totals(pd.read_excel(ws.last_outbox() / "stock.xlsx", sheet_name="movements",
                                             engine="calamine"))
    assert movements[["sku", "delta", "cause", "source_file", "source_row"]].values.tolist() == [
        ["B", 2, "count", "stock-2.csv", 2]]
    ws.drop("stock-3.csv", STOCK_HEADER, [["SZ", "A", 9, "A-01"]])
    ws.run()
    assert _by_order(ws.orders()).loc["O4", "stock_status"] == "in_stock"
    assert ws.stock().loc[("SZ", "A"), ["on_hand", "allocated", "available"]].tolist() == [9, 6, 3]


def test_handover_scan_ships_and_deducts_exactly_once(any_ws):
    ws = any_ws
    _setup_day_one(ws)
    ws.run()
    o1 = _by_order(ws.orders()).loc["O1"]
    ws.drop("scan-1.csv", ["tracking_number"], [[o1["tracking_number"]], [o1["tracking_number"]]])
    assert ws.run() == 1   # the second scan of the parcel is refused
    assert _by_order(ws.orders()).loc["O1", "stage"] == "shipped"
    assert ws.stock().loc[("SZ", "A"), ["on_hand", "allocated", "available"]].tolist() == [3, 2, 1]
    # The same parcel scanned again by order id, and an unknown number: reported, not applied.
    ws.drop("scan-2.csv", ["tracking_number"], [["O1"], ["XX000000000"]])
    assert ws.run() == 1
    assert ws.stock().loc[("SZ", "A"), "on_hand"] == 3
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str, engine="calamine")
    details = " | ".join(exceptions["detail"])
    assert "already shipped" in details and "unknown tracking number or order id" in details
    db = ws.db()
    assert db.execute("SELECT COUNT(*), SUM(delta) FROM ledger WHERE cause = 'ship'").fetchone() == (1, -2)


def test_duplicate_file_changes_nothing(any_ws):
    ws = any_ws
    _setup_day_one(ws)
    ws.run()
    before = _snapshot(ws)
    _setup_day_one(ws)        # the very same files again
    assert ws.run() == 0
    assert _snapshot(ws) == before
    archived = sorted(p.name for p in (ws.root / "archive").rglob("*.csv"))
    assert archived.count("orders.csv") == 1 and archived.count("orders (2).csv") == 1


def _snapshot(ws):
    db = ws.db()
    try:
        return (db.execute("SELECT shop, order_id, stage, stock_status, tracking_number FROM orders ORDER BY 1, 2")
                .fetchall(), db.execute("SELECT warehouse, sku, SUM(delta) FROM ledger GROUP BY 1, 2 ORDER BY 1, 2")
                .fetchall(), db.execute("SELECT status, COUNT(*) FROM pool GROUP BY 1 ORDER BY 1").fetchall())
    finally:
        db.close()


def test_malformed_file_rejected_with_report_while_others_apply(ws):
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", STOCK_HEADER, [["SZ", "A", 5, ""], ["SZ", "B", "lots", ""], ["SZ", "C", -1, ""]])
    assert ws.run() == 1
    failed = ws.root / "failed"
    assert (failed / "stock.csv").exists()
    report = pd.read_excel(failed / "stock.csv.errors.xlsx", dtype=str, engine="calamine")
    assert set(report["row"]) == {"3", "4"}
    assert set(report["value"]) == {"lots", "-1"}
    assert all("on_hand" in c for c in report["column"])
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert db.execute("SELECT sku FROM products").fetchall() == [("A",)]
    assert db.execute("SELECT COUNT(*) FROM ledger").fetchone() == (0,)       # nothing half-applied
    assert (ws.root / "archive").rglob("products.csv")


def test_holds_with_reasons_and_exhausted_pool(any_ws):
    ws = any_ws
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A"), product_row("NOHS", hs="")])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["SMALL", "SM0001"]])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("H1", "A", 1, "2026-11-01 08:00:00", postcode=""),
        order_row("H2", "A", 1, "2026-11-01 08:00:00", country="Atlantis"),
        order_row("H3", "NOHS", 1, "2026-11-01 08:00:00"),
        order_row("H4", "GHOST", 1, "2026-11-01 08:00:00"),
        order_row("G1", "A", 1, "2026-11-01 08:00:00", country="GB", postcode="NW1 6XE"),
        order_row("G2", "A", 1, "2026-11-01 09:00:00", country="GB", postcode="NW1 6XE"),
    ])
    assert ws.run() == 0
    orders = _by_order(ws.orders())
    assert orders.loc["H1", "stage"] == "hold" and "postcode missing" in orders.loc["H1", "hold_reason"]
    assert "unknown country Atlantis" in orders.loc["H2", "hold_reason"]
    assert orders.loc["H3", "hold_reason"] == "customs: SKU NOHS has no hs_code"
    assert orders.loc["H4", "hold_reason"] == "customs: SKU GHOST is not in the product list"
    assert orders.loc["G1", "tracking_number"] == "SM0001"
    assert orders.loc["G2", "stage"] == "waybill"
    assert orders.loc["G2", "failure_reason"] == "no tracking numbers left for channel SMALL"
    # A corrected product sheet and more numbers release them on the next run.
    ws.drop("products-2.csv", PRODUCT_HEADER, [product_row("NOHS"), product_row("GHOST")])
    ws.drop("pool-2.csv", ["channel", "tracking_number"], [["SMALL", "SM0002"], ["YW", s10(77)]])
    ws.run()
    orders = _by_order(ws.orders())
    assert orders.loc["G2", "tracking_number"] == "SM0002"
    assert orders.loc[["H3", "H4"], "stage"].tolist() == ["print", "waybill"]


def test_invalid_s10_rejects_the_pool_file(ws):
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", "RR123456785CN"], ["YW", "RB123456786US"]])
    assert ws.run() == 1
    report = pd.read_excel(ws.root / "failed" / "pool.csv.errors.xlsx", dtype=str, engine="calamine")
    assert report["value"].tolist() == ["RB123456786US"] and report["row"].tolist() == ["3"]
    assert "check digit" in report["problem"][0]


def test_numbers_for_an_undeclared_channel_reject_the_pool_file(ws):
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(1)], ["YW-Globall", s10(2)]])
    assert ws.run() == 1
    report = pd.read_excel(ws.root / "failed" / "pool.csv.errors.xlsx", dtype=str, engine="calamine")
    assert report[["row", "column", "value"]].values.tolist() == [["3", "channel", "YW-Globall"]]
    assert "not declared in batchship.toml (declared: YW, SMALL)" in report["problem"][0]


def test_every_label_barcode_scans_to_its_tracking_number(ws):
    _setup_day_one(ws)
    ws.drop("orders-gb.csv", ORDER_HEADER, [
        order_row("G1", "C", 1, "2026-11-01 08:00:00", country="GB", postcode="NW1 6XE", name="Łukasz Wiśniewski")])
    ws.run()
    orders = ws.orders()
    ready = orders[(orders["stage"] == "print") & (orders["stock_status"] == "in_stock")]
    expected = dict(zip(ready["tracking_number"], ready["channel"]))
    seen = {}
    for pdf_path in ws.last_outbox().glob("labels-*.pdf"):
        pdf = pdfium.PdfDocument(pdf_path)
        for page in pdf:
            codes = [b.text for b in zxingcpp.read_barcodes(page.render(scale=203 / 72).to_pil())]
            assert len(codes) == 1
            run_day = ws.last_outbox().name[:8]
            assert f"Date: {run_day[:4]}-{run_day[4:6]}-{run_day[6:]}" in page.get_textpage().get_text_range()
            seen[codes[0]] = pdf_path.stem.removeprefix("labels-")
    assert seen == expected and len(seen) == 3


def test_duplicate_order_across_runs_is_not_duplicated(ws):
    _setup_day_one(ws)
    ws.run()
    ws.drop("orders-again.csv", ORDER_HEADER, [order_row("O1", "A", 2, "2026-11-01 08:00:00"),
                                               order_row("O9", "B", 1, "2026-11-02 08:00:00")])
    ws.run()
    db = sqlite3.connect(ws.root / ".batchship" / "state.sqlite")
    assert db.execute("SELECT COUNT(*) FROM orders WHERE order_id = 'O1'").fetchone() == (1,)
    assert db.execute("SELECT COUNT(*) FROM lines WHERE order_id = 'O1'").fetchone() == (1,)
    issued = [r[0] for r in db.execute("SELECT tracking_number FROM orders WHERE tracking_number != ''")]
    assert len(issued) == len(set(issued)) == 5


def test_exit_codes_and_status(ws, capsys):
    assert main(["run", "-w", str(ws.root / "missing")]) == 2
    ws.drop("orders.csv", ORDER_HEADER, [order_row("O1", "A", 1, "2026-11-01 08:00:00")])
    assert ws.run() == 0
    capsys.readouterr()
    assert main(["status", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert "hold 1" in out and "customs: SKU A is not in the product list" in out


@pytest.mark.parametrize("workers", [1, 2])
def test_text_no_font_can_print_is_reported_on_the_order(ws, monkeypatch, workers):
    """In one process the problem is known before orders.xlsx and decisions.xlsx are written; on
    workers it comes after, and the workbooks are written again with it."""
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", str(workers))
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "1")
    _setup_day_one(ws)
    ws.drop("orders-cn.csv", ORDER_HEADER, [order_row("CN1", "C", 1, "2026-11-01 08:00:00", name="𓀀𓁐")])
    ws.run()
    orders = _by_order(ws.orders())
    assert "label problem" in orders.loc["CN1", "this run"]
    exceptions = pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                               engine="calamine")
    problem = exceptions[(exceptions["order_id"] == "CN1") & (exceptions["event"] == "label problem")]
    assert len(problem) == 1 and "cannot print '𓀀'" in problem["detail"].iloc[0]
    assert "label problem" not in " ".join(orders.loc[orders.index != "CN1", "this run"])
    # Not printed, it waits on the decisions sheet; the orders whose labels were printed do not.
    decisions = pd.read_excel(ws.last_outbox() / "decisions.xlsx", dtype=str, engine="calamine")
    assert decisions.loc[decisions["needs"] == "label not printed", "order_id"].tolist() == ["CN1"]
    with ws.db() as db:
        printed = {o for (o,) in db.execute("SELECT order_id FROM orders WHERE printed = 'yes'")}
    assert printed and not printed & set(decisions["order_id"])


@pytest.mark.parametrize("inbox", ["empty", "a rejected file", "orders"])
def test_label_workers_forked_ahead_end_with_the_run(ws, monkeypatch, inbox):
    """Forked as the run starts, before it knows whether it will print a label: whether it finds
    nothing to do, no label to print or labels, none is left running after it."""
    import multiprocessing
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", "2")
    monkeypatch.setenv("BATCHSHIP_LABEL_AHEAD_BYTES", "0")
    if inbox == "a rejected file":
        ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", "many", "A-1"]])
    elif inbox == "orders":
        _setup_day_one(ws)
    assert ws.run() == {"empty": 0, "a rejected file": 1, "orders": 0}[inbox]
    assert multiprocessing.active_children() == []
    if inbox == "orders":
        assert (ws.last_outbox() / "labels-YW.pdf").exists()


def test_a_large_batch_renders_its_labels_before_it_commits_and_prints_the_same(monkeypatch, tmp_path):
    """Label workers forked as a large batch starts render its labels from what the run is about to
    store; the outputs, made from the store, take those parts: the same pages as rendered after."""
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", "2")
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "1")
    pages = {}
    for ahead in (False, True):
        if ahead:
            monkeypatch.setenv("BATCHSHIP_LABEL_AHEAD_BYTES", "0")
        day = Workspace(tmp_path / str(ahead))
        _setup_day_one(day)
        log = tmp_path / f"{ahead}.log"
        assert main(["run", "-w", str(day.root), "--log-file", str(log)]) == 0
        said = log.read_text(encoding="utf-8")
        assert ("labels-YW.pdf: its 2 labels were rendered ahead, before the run committed" in said) == ahead
        scratch = day.root / ".batchship" / "labels-ahead"
        assert not scratch.exists() or not any(scratch.iterdir())
        pdf = pdfium.PdfDocument(day.last_outbox() / "labels-YW.pdf")
        try:
            pages[ahead] = [page.get_textpage().get_text_range() for page in pdf]
        finally:
            pdf.close()
    assert len(pages[True]) == 2 and pages[True] == pages[False]


@pytest.mark.parametrize("workers", [1, 2, "2 forked ahead"])
def test_each_labels_customs_lines_carry_their_own_quantity_weight_value_and_sender(ws, monkeypatch, workers):
    """Customs lines and senders recur from label to label: each label still declares its own, made
    in the run or, label by label, on the workers that render them (forked with the run's labels,
    or forked as the run starts and sent the fields of their part's labels)."""
    monkeypatch.setenv("BATCHSHIP_LABEL_WORKERS", str(workers)[0])
    monkeypatch.setenv("BATCHSHIP_LABEL_PART", "1")
    if "ahead" in str(workers):
        monkeypatch.setenv("BATCHSHIP_LABEL_AHEAD_BYTES", "0")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG", grams=350), product_row("BOWL", grams=120)])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", 50, "A-1"], ["SZ", "BOWL", 50, "B-1"]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 6)])
    ws.drop("orders.csv", ORDER_HEADER, [
        order_row("O1", "MUG", 1, "2026-11-01 08:00:00"), order_row("O2", "MUG", 3, "2026-11-01 08:05:00"),
        order_row("O3", "MUG", 1, "2026-11-01 08:10:00"), order_row("O3", "BOWL", 2, "2026-11-01 08:10:00"),
        order_row("O4", "BOWL", 2, "2026-11-01 08:15:00")])
    assert ws.run() == 0
    texts = {}
    pdf = pdfium.PdfDocument(ws.last_outbox() / "labels-YW.pdf")
    try:
        for page in pdf:
            text = page.get_textpage().get_text_range()
            texts[next(o for o in ("O1", "O2", "O3", "O4") if f"/ {o}" in text)] = text
    finally:
        pdf.close()
    declared = {"O1": [("1 × Goods MUG", "350 g", "5.00 USD")], "O2": [("3 × Goods MUG", "1050 g", "15.00 USD")],
                "O3": [("1 × Goods MUG", "350 g", "5.00 USD"), ("2 × Goods BOWL", "240 g", "10.00 USD")],
                "O4": [("2 × Goods BOWL", "240 g", "10.00 USD")]}
    for order, lines in declared.items():
        for line in lines:
            assert all(part in texts[order] for part in line), (order, line)
        others = {part for o, ls in declared.items() if o != order for line in ls for part in line[:2]}
        assert not {p for p in others if p in texts[order]} - {p for line in lines for p in line}, order
