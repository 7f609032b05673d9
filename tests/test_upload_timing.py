"""When tracking goes up, through the CLI: at the waybill (on_waybill, virtual shipping) or in the
run whose handover scan ships the parcel (on_handover); a number voided after it went up is
listed for staff to update on the marketplace; upload files are readable like every output."""
from __future__ import annotations

import csv
import os
import stat

import pandas as pd

from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

ACTIONS = ["shop", "order_id", "action", "note", "argument"]
ON_HANDOVER = TEST_CONFIG.replace('name = "shop-b"\nplatform = "batchship"\n',
                                  'name = "shop-b"\nplatform = "batchship"\nupload_tracking = "on_handover"\n')


def _upload(ws, shop: str) -> list[dict[str, str]] | None:
    path = ws.last_outbox() / f"upload-{shop}-batchship.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _exceptions(ws) -> pd.DataFrame:
    return pd.read_excel(ws.last_outbox() / "orders.xlsx", sheet_name="exceptions", dtype=str,
                         engine="calamine").fillna("")


def _day_one(ws, config: str = ON_HANDOVER) -> dict[str, str]:
    (ws.root / "batchship.toml").write_text(config, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 10, ""]])
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 9)])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("A1", "A", 1, "2026-11-01 08:00:00"),
                                         order_row("B1", "A", 1, "2026-11-01 09:00:00", shop="shop-b")])
    assert ws.run() == 0
    return ws.orders().set_index("order_id")["tracking_number"].to_dict()


def test_an_on_handover_shop_uploads_in_the_run_whose_scan_ships_it(ws):
    tracking = _day_one(ws)
    assert [(r["order_id"], r["tracking_number"]) for r in _upload(ws, "shop-a")] == [("A1", tracking["A1"])]
    assert _upload(ws, "shop-b") is None                     # waybill issued, not handed over yet

    ws.drop("handover.csv", ["tracking_number"], [[tracking["B1"]]])
    assert ws.run() == 0
    assert ws.orders().set_index("order_id").loc["B1", "stage"] == "shipped"
    assert [(r["order_id"], r["tracking_number"], r["channel"]) for r in _upload(ws, "shop-b")] == [
        ("B1", tracking["B1"], "YW")]
    assert _upload(ws, "shop-a") is None

    ws.drop("handover-2.csv", ["tracking_number"], [[tracking["A1"]]])
    assert ws.run() == 0
    assert _upload(ws, "shop-a") is None                     # went up with its waybill already
    assert _upload(ws, "shop-b") is None


def test_a_number_voided_after_it_went_up_is_listed_for_an_update_on_the_marketplace(ws):
    tracking = _day_one(ws)
    ws.drop("actions.csv", ACTIONS, [["shop-a", "A1", "cancel", "buyer asked", ""],
                                     ["shop-b", "B1", "cancel", "", ""]])
    assert ws.run() == 0
    exceptions = _exceptions(ws)
    outdated = exceptions[exceptions["event"] == "upload outdated"]
    # B1 (on_handover) never went up: nothing to update there.
    assert outdated["order_id"].tolist() == ["A1"]
    detail = outdated["detail"].iloc[0]
    assert "update the tracking number on the marketplace" in detail and tracking["A1"] in detail
    assert "cancelled" in detail


def test_a_changed_channel_lists_the_old_number_and_uploads_the_new_one(ws):
    tracking = _day_one(ws)
    ws.drop("pool-2.csv", ["channel", "tracking_number"], [["SMALL", s10(i, "RB")] for i in range(20, 23)])
    ws.drop("actions.csv", ACTIONS, [["shop-a", "A1", "change channel", "", "SMALL"]])
    assert ws.run() == 0
    outdated = _exceptions(ws).query("event == 'upload outdated'")
    assert outdated["order_id"].tolist() == ["A1"]
    assert tracking["A1"] in outdated["detail"].iloc[0] and "changed channel" in outdated["detail"].iloc[0]
    new = ws.orders().set_index("order_id").loc["A1", "tracking_number"]
    assert new and new != tracking["A1"]
    assert [(r["order_id"], r["tracking_number"], r["channel"]) for r in _upload(ws, "shop-a")] == [
        ("A1", new, "SMALL")]


def test_upload_files_are_readable_like_the_other_outputs(ws):
    before = os.umask(0o022)
    try:
        _day_one(ws)
    finally:
        os.umask(before)
    out = ws.last_outbox()
    upload = out / "upload-shop-a-batchship.csv"
    assert stat.S_IMODE(upload.stat().st_mode) == 0o644
    assert stat.S_IMODE(upload.stat().st_mode) == stat.S_IMODE((out / "orders.xlsx").stat().st_mode)
