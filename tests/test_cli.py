"""The commands a newcomer runs: demo, init, watch, and the summary they print."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import openpyxl
import pandas as pd

from batchship.cli import main
from conftest import (ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, settled, without_totals,
                      write_csv)


def test_demo_processes_sample_data_and_summarises(tmp_path, capsys):
    assert main(["demo", "-w", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "files: 5 applied, 0 rejected" in out
    assert "hold 3" in out and "shipped 2" in out
    outbox = next((tmp_path / "outbox").iterdir())
    names = {p.name for p in outbox.iterdir()}
    assert {"orders.xlsx", "stock.xlsx", "picklist.pdf", "picklist.xlsx", "labels-YW-Global.pdf",
            "labels-CNE-Economy.pdf"} <= names
    orders = without_totals(pd.read_excel(outbox / "orders.xlsx", dtype=str, engine="calamine").fillna(""))
    assert set(orders["stock_status"]) >= {"in_stock", "out_of_stock"}
    assert (orders["failure_reason"] == "no tracking numbers left for channel CNE-Economy").any()
    labels = int(out.split("labels written: ")[1].split()[0])
    assert labels == ((orders["stage"] == "print") & (orders["stock_status"] == "in_stock")).sum()
    # A second demo round is a new day of orders, not a duplicate.
    assert main(["demo", "-w", str(tmp_path)]) == 0
    assert "files: 4 applied, 0 rejected, 0 skipped" in capsys.readouterr().out


def test_init_writes_config_folders_and_blank_templates(tmp_path):
    root = tmp_path / "shop"
    assert main(["init", str(root)]) == 0
    for folder in ("inbox", "outbox", "archive", "failed"):
        assert (root / folder).is_dir()
    assert "[[logistics]]" in (root / "batchship.toml").read_text(encoding="utf-8")
    headers = [c.value for c in next(openpyxl.load_workbook(root / "templates" / "orders.xlsx").active.rows)]
    assert headers[:3] == ["shop", "order_id", "sku"]
    # A blank template filled in by staff is recognised as what it is.
    wb = openpyxl.load_workbook(root / "templates" / "stock.xlsx")
    wb.active.append(["SZ", "MUG", 7, "A-1"])
    wb.save(root / "inbox" / "count.xlsx")
    settled(root / "inbox")
    assert main(["run", "-w", str(root)]) == 0
    stock = without_totals(pd.read_excel(next((root / "outbox").iterdir()) / "stock.xlsx", engine="calamine"))
    assert stock[["warehouse", "sku", "on_hand", "shelf"]].values.tolist() == [["SZ", "MUG", 7, "A-1"]]


def test_undeclared_shop_folder_becomes_the_shop(tmp_path, capsys):
    root = tmp_path / "ws"
    main(["init", str(root)])
    (root / "batchship.toml").write_text(TEST_CONFIG, encoding="utf-8")
    write_csv(root / "inbox" / "new-store" / "orders.csv", ORDER_HEADER[1:],
              [order_row("N1", "MUG", 1, "2026-11-01 08:00:00")[1:]])
    capsys.readouterr()
    assert main(["run", "-w", str(root)]) == 0
    out = capsys.readouterr().out
    assert "new-store" in out and "not declared" in out
    orders = without_totals(pd.read_excel(next((root / "outbox").iterdir()) / "orders.xlsx", dtype=str,
                                          engine="calamine"))
    assert orders[["shop", "order_id"]].values.tolist() == [["new-store", "N1"]]


def test_watch_processes_a_dropped_file(tmp_path):
    root = tmp_path / "ws"
    main(["init", str(root)])
    (root / "batchship.toml").write_text(TEST_CONFIG, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "batchship.cli", "watch", "-w", str(root), "--polling"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        time.sleep(0.5)
        write_csv(root / "inbox" / "products.csv", PRODUCT_HEADER, [product_row("MUG")])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("files: 1 applied" in line for line in seen):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert any("files: 1 applied" in line for line in seen), "".join(seen)
    assert list((root / "archive").rglob("products.csv"))


def test_run_with_an_empty_inbox_makes_no_run(tmp_path, capsys):
    root = tmp_path / "ws"
    main(["init", str(root)])
    capsys.readouterr()
    assert main(["run", "-w", str(root)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert list((root / "outbox").iterdir()) == []


def test_status_says_what_needs_doing(tmp_path, capsys):
    assert main(["status", "-w", str(tmp_path / "nowhere")]) == 2
    assert "is not a workspace" in capsys.readouterr().err
    root = tmp_path / "ws"
    main(["init", str(root)])
    (root / "batchship.toml").write_text(TEST_CONFIG, encoding="utf-8")
    write_csv(root / "inbox" / "products.csv", PRODUCT_HEADER, [product_row("MUG")])
    write_csv(root / "inbox" / "stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", 1, ""]])
    write_csv(root / "inbox" / "pool.csv", ["channel", "tracking_number"], [["YW", "YW1"], ["YW", "YW2"]])
    write_csv(root / "inbox" / "orders.csv", ORDER_HEADER, [order_row("O1", "MUG", 1, "2026-11-01 08:00:00"),
                                                            order_row("O2", "MUG", 3, "2026-11-01 09:00:00")])
    write_csv(root / "inbox" / "shop-a" / "bad.csv", ["warehouse", "sku", "on_hand"], [["SZ", "MUG", "x"]])
    assert main(["run", "-w", str(root)]) == 1
    assert "see failed/shop-a/bad.csv.errors.xlsx" in capsys.readouterr().out
    assert (root / "failed" / "shop-a" / "bad.csv.errors.xlsx").exists()
    assert main(["status", "-w", str(root)]) == 0
    out = capsys.readouterr().out
    assert "waiting for stock: 3 units of 1 SKUs" in out
    assert "files waiting in failed/ to be fixed and dropped again: 1" in out and "shop-a/bad.csv" in out
