"""Workbooks with merged cells, imported the way a person reads them in Excel.

ERP exports (Dianxiaomi and similar) merge order-level cells down over the line
rows of one order and often carry a merged title row above the header; a merge
on the header row itself would cost a column its header and is rejected.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from batchship.config import Config
from batchship.errors import FileRejected
from batchship.importers import load_file
from batchship.schemas import Line

DXM_HEADER = ["店铺", "订单号", "SKU", "数量", "单价", "币种", "收件人", "地址1", "城市", "国家", "运单号"]
# Order-level columns an ERP merges over the rows of one order: 店铺 订单号 收件人 地址1 城市 国家
ORDER_LEVEL = ("A", "B", "G", "H", "I", "J")


def _dxm_orders(path: Path, orders: list[tuple[str, str, str, str, list[tuple[str, int]]]],
                title: str | None = None) -> Path:
    """One row per line; the order-level cells are written on the first line and
    merged down over the order's other lines, as the ERP export does."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    if title is not None:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(DXM_HEADER))
    ws.append(DXM_HEADER)
    for order_id, recipient, address, country, lines in orders:
        first = ws.max_row + 1
        for i, (sku, qty) in enumerate(lines):
            head = ["US店铺1", order_id] if i == 0 else [None, None]
            tail = [recipient, address, "Boston", country] if i == 0 else [None] * 4
            ws.append(head + [sku, qty, "12.50", "USD"] + tail + [None])
        last = ws.max_row
        if last > first:
            for col in ORDER_LEVEL:
                ws.merge_cells(f"{col}{first}:{col}{last}")
    wb.save(path)
    return path


ORDERS = [
    ("SO-1001", "John Smith", "1 Elm St", "US", [("MUG-RED", 2), ("MUG-BLUE", 1), ("CUP", 3)]),
    ("SO-1002", "Mary Jones", "2 Oak Ave", "US", [("CUP", 1)]),
    ("SO-1003", "Hans Meier", "3 Pine Rd", "DE", [("MUG-RED", 1), ("PLATE", 4)]),
]


def _load(path: Path):
    return load_file(path, shop_hint="dxm", config=Config())


def _lines(imported) -> list[tuple]:
    frame = imported.frame
    return list(zip(frame[Line.order_id], frame[Line.platform_sku], frame[Line.quantity].astype(int),
                    frame[Line.recipient_name], frame[Line.address1], frame[Line.country], frame[Line.shop],
                    frame[Line.row].astype(int)))


def test_vertically_merged_order_cells_give_every_line_its_order(tmp_path):
    imported = _load(_dxm_orders(tmp_path / "dxm.xlsx", ORDERS))
    assert imported.platform == "dianxiaomi_orders"
    assert _lines(imported) == [
        ("SO-1001", "MUG-RED", 2, "John Smith", "1 Elm St", "US", "US店铺1", 2),
        ("SO-1001", "MUG-BLUE", 1, "John Smith", "1 Elm St", "US", "US店铺1", 3),
        ("SO-1001", "CUP", 3, "John Smith", "1 Elm St", "US", "US店铺1", 4),
        ("SO-1002", "CUP", 1, "Mary Jones", "2 Oak Ave", "US", "US店铺1", 5),
        ("SO-1003", "MUG-RED", 1, "Hans Meier", "3 Pine Rd", "DE", "US店铺1", 6),
        ("SO-1003", "PLATE", 4, "Hans Meier", "3 Pine Rd", "DE", "US店铺1", 7),
    ]
    assert imported.frame.groupby(Line.order_id)[Line.line_no].apply(list).to_dict() == {
        "SO-1001": [1, 2, 3], "SO-1002": [1], "SO-1003": [1, 2]}


def test_merged_title_row_above_the_header_is_accepted(tmp_path):
    path = _dxm_orders(tmp_path / "dxm_title.xlsx", ORDERS, title="店小秘订单导出 2026-04-05")
    imported = _load(path)
    assert imported.platform == "dianxiaomi_orders"
    lines = _lines(imported)
    assert [(o, sku, row) for o, sku, *_, row in lines] == [
        ("SO-1001", "MUG-RED", 3), ("SO-1001", "MUG-BLUE", 4), ("SO-1001", "CUP", 5),
        ("SO-1002", "CUP", 6), ("SO-1003", "MUG-RED", 7), ("SO-1003", "PLATE", 8)]
    assert all(recipient for _, _, _, recipient, *_ in lines)


@pytest.mark.parametrize("merge, why", [
    ("G2:H2", "two headers merged into one: 地址1 loses its header"),
    ("B2:B3", "the 订单号 header merged down into the first line"),
    ("A1:A2", "the title merged down into the header row"),
])
def test_merge_touching_the_header_row_is_rejected_naming_sheet_row_and_range(tmp_path, merge, why):
    path = _dxm_orders(tmp_path / "dxm.xlsx", ORDERS[1:2], title="店小秘订单导出")
    wb = openpyxl.load_workbook(path)
    wb["订单"].unmerge_cells("A1:K1")
    wb["订单"].merge_cells(merge)
    wb.save(path)
    with pytest.raises(FileRejected) as caught:
        _load(path)
    (problem,) = caught.value.problems
    assert problem.problem == (f"merged cells in the header row ({merge}): unmerge them so each "
                               f"column has its own header"), why
    assert (problem.sheet, problem.row, problem.value) == ("订单", 2, merge)


def _add_merge_xml(path: Path, *refs: str) -> Path:
    """Add a merged range the way a (hand-edited or hostile) file could carry it,
    without openpyxl building a cell object for each of its cells."""
    rewritten = path.with_name("patched_" + path.name)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<mergeCells" not in data
                cells = "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
                data = data.replace(b"</sheetData>", f'</sheetData><mergeCells count="{len(refs)}">{cells}'
                                                     f'</mergeCells>'.encode(), 1)
            zout.writestr(info, data)
    return rewritten


def test_merge_reaching_far_below_the_data_fills_only_the_rows_there_are(tmp_path):
    # Two one-line orders, then the shop column merged down to Excel's last row.
    one_line = ("SO-1004", "Ann Lee", "4 Bay St", "US", [("CUP", 1)])
    path = _dxm_orders(tmp_path / "dxm.xlsx", [ORDERS[1], one_line])
    imported = _load(_add_merge_xml(path, "A2:A1048576"))
    assert [(o, shop) for o, _, _, _, _, _, shop, _ in _lines(imported)] == [
        ("SO-1002", "US店铺1"), ("SO-1004", "US店铺1")]


def test_overlapping_merges_are_rejected_as_damaged_rather_than_filled_over_and_over(tmp_path):
    path = _dxm_orders(tmp_path / "dxm.xlsx", ORDERS[1:2] + ORDERS[1:2])
    with pytest.raises(FileRejected) as caught:
        _load(_add_merge_xml(path, *["A2:K3"] * 500))
    (problem,) = caught.value.problems
    assert problem.sheet == "订单" and "merged cells overlap" in problem.problem
