"""The low-level inbox reader: real files on disk in, text cells or a plain rejection out."""
from __future__ import annotations

import datetime as dt
import random
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from batchship.config import Limits
from batchship.errors import FileRejected
from batchship.io import xlsx_guard
from batchship.io.tabular import EXCEL_ERRORS, read_sheets, verify_xml_safety

LIMITS = Limits()
SHOPIFY_CRLF = Path("/work/shared/formats/shopify/orders_export_crlf_bengali.csv")


def rejection(path: Path, limits: Limits = LIMITS) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read_sheets(path, limits)
    assert caught.value.file == path.name
    return caught.value


def only_sheet(path: Path, limits: Limits = LIMITS):
    sheets = read_sheets(path, limits)
    assert len(sheets) == 1
    return sheets[0]


# ---- hand-built workbooks -------------------------------------------------------

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                 b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                 b'xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                 b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                 b'</Types>')
ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
             b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
             b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships"><sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                 b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def sheet_xml(rows_xml: str, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><sheetData>{rows_xml}</sheetData></worksheet>').encode()


def build_xlsx(path: Path, sheet: bytes, extra: dict[str, bytes] | None = None) -> Path:
    parts = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": ROOT_RELS, "xl/workbook.xml": WORKBOOK,
             "xl/_rels/workbook.xml.rels": WORKBOOK_RELS, "xl/worksheets/sheet1.xml": sheet, **(extra or {})}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# ---- xlsx cells -------------------------------------------------------------------

def test_xlsx_cells_come_back_as_the_text_excel_shows(tmp_path):
    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws["A1"] = "Daily order report"                      # title line above the header
    ws.append([])
    ws.append(["qty", "price", "paid at", "ship by", "gift", "note", "order item", "neg", "blank"])
    ws.append([5, 12.5, dt.datetime(2026, 4, 5, 21, 6, 21), dt.date(2026, 4, 9), True, "fragile",
               12345678901234, -3.25, None])
    ws.append([0, 0.1, dt.datetime(2026, 1, 1), dt.date(2026, 1, 1), False, "", 1e20, -0.0])
    wb.save(path)

    sheet = only_sheet(path)
    assert sheet.name == "Orders" and sheet.first_row_number == 1
    assert sheet.rows[0][0] == "Daily order report"
    assert all(c == "" for c in sheet.rows[1])              # blank row kept in place
    assert sheet.rows[2][:3] == ["qty", "price", "paid at"]
    assert sheet.rows[3] == ["5", "12.5", "2026-04-05 21:06:21", "2026-04-09", "TRUE", "fragile",
                             "12345678901234", "-3.25", ""]
    # python-calamine hands back a midnight date-time as a plain date
    assert sheet.rows[4][:8] == ["0", "0.1", "2026-01-01", "2026-01-01", "FALSE", "",
                                 "100000000000000000000", "0"]
    assert all(type(c) is str for row in sheet.rows for c in row)


def test_formulas_come_back_as_cached_values_with_float_noise_removed(tmp_path):
    path = tmp_path / "totals.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Totals")
    ws.write_row(0, 0, ["a", "b", "sum"])
    ws.write_formula("C2", "=A2+B2", None, 7)              # cached 7 although A2+B2 would be 0
    ws.write_formula("D2", "=0.1+0.2", None, "ok")
    wb.close()
    sheet = only_sheet(path)
    assert sheet.rows[1][2] == "7"
    assert sheet.rows[1][3] == "ok"

    noisy = build_xlsx(tmp_path / "noisy.xlsx", sheet_xml(
        '<row r="1"><c r="A1"><f>0.1+0.2</f><v>0.30000000000000004</v></c>'
        '<c r="B1"><v>12.5</v></c><c r="C1"><v>1.5E-7</v></c></row>'))
    assert only_sheet(noisy).rows[0] == ["0.3", "12.5", "1.5e-07"]


def test_excel_error_values_come_back_as_their_literal_text(tmp_path):
    path = tmp_path / "errors.xlsx"
    codes = ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["sku"] + [f"col{i}" for i in range(len(codes))])
    for i, code in enumerate(codes, start=2):
        ws.cell(row=2, column=i, value=code)                 # openpyxl stores these as error cells
    ws["A2"] = "SKU-1"
    wb.save(path)
    assert ws["B2"].data_type == "e"

    sheet = only_sheet(path)
    assert sheet.rows[1] == ["SKU-1"] + codes
    assert set(codes) <= EXCEL_ERRORS

    formula = tmp_path / "formula_errors.xlsx"
    wb2 = xlsxwriter.Workbook(str(formula))
    ws2 = wb2.add_worksheet()
    ws2.write("A1", "weight")
    ws2.write_formula("A3", "=1/0", None, "#DIV/0!")        # a blank row 2 in between
    wb2.close()
    rows = only_sheet(formula).rows
    assert rows[1] == [""] and rows[2] == ["#DIV/0!"]


def test_every_worksheet_is_returned_with_its_visibility(tmp_path):
    path = tmp_path / "two.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Orders"
    wb.active.append(["order-id"])
    hidden = wb.create_sheet("Lookup")
    hidden["B3"] = "x"
    hidden.sheet_state = "hidden"
    wb.save(path)
    sheets = read_sheets(path, LIMITS)
    assert [(s.name, s.visible) for s in sheets] == [("Orders", True), ("Lookup", False)]
    assert sheets[1].rows[2] == ["", "x"]                   # B3 stays in row 3, column B


def test_merged_ranges_are_reported_with_the_value_in_the_top_left_cell_only(tmp_path):
    # The reader no longer judges merges: it reports them and the importer, which
    # knows where the header is, decides (see test_import_merged.py).
    path = tmp_path / "merged.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Stock"
    ws.append(["Warehouse stock"])
    ws.append(["sku", "qty", "bin"])
    ws.append(["A-1", 5, "B01"])
    ws.append(["", 7, ""])
    ws.merge_cells("A1:C1")                                 # title over the header
    ws.merge_cells("C3:C4")                                 # one bin for two rows
    wb.save(path)
    sheet = only_sheet(path)
    assert sorted(sheet.merged) == [(0, 0, 0, 2), (2, 2, 3, 2)]
    assert sheet.rows[0] == ["Warehouse stock", "", ""]
    assert sheet.rows[2] == ["A-1", "5", "B01"] and sheet.rows[3] == ["", "7", ""]


def test_merged_ranges_far_down_are_reported_in_excel_rows_minus_one(tmp_path):
    path = tmp_path / "merged_low.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["sku", "qty"])
    ws["A40"] = "footer note"
    ws.merge_cells("A40:B40")
    wb.save(path)
    sheet = only_sheet(path)
    assert sheet.rows[39][0] == "footer note" and sheet.merged == [(39, 0, 39, 1)]


def test_text_tables_and_unmerged_sheets_report_no_merges(tmp_path):
    csv_path = tmp_path / "stock.csv"
    csv_path.write_text("sku,qty\nA-1,2\n", encoding="utf-8")
    xlsx_path = tmp_path / "stock.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["sku", "qty"])
    wb.save(xlsx_path)
    assert only_sheet(csv_path).merged == [] and only_sheet(xlsx_path).merged == []


def test_cells_placed_by_position_without_references_are_read(tmp_path):
    path = build_xlsx(tmp_path / "positional.xlsx", sheet_xml(
        '<row><c t="inlineStr"><is><t>sku</t></is></c><c t="inlineStr"><is><t>qty</t></is></c></row>'
        '<row><c t="inlineStr"><is><t>A-1</t></is></c><c t="e"><v>#N/A</v></c></row>'))
    assert only_sheet(path).rows == [["sku", "qty"], ["A-1", "#N/A"]]


# ---- what the file really is --------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.mark.parametrize("name, data, looks_like", [
    ("orders.xlsx", PNG, "a PNG image"),
    ("orders.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
    ("orders.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "a web page (HTML)"),
    ("orders.csv", random.Random(7).randbytes(4096), "binary data"),
], ids=["png-as-xlsx", "pdf-as-csv", "html-as-xls", "random-bytes-as-csv"])
def test_files_that_are_not_tables_are_rejected_by_content(tmp_path, name, data, looks_like):
    path = tmp_path / name
    path.write_bytes(data)
    assert rejection(path).problems[0].problem == (
        f"this is not a spreadsheet or text table (looks like {looks_like})")


def test_word_document_renamed_to_xlsx_is_rejected(tmp_path):
    path = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    assert "looks like a Word document" in rejection(path).problems[0].problem


def test_unreadable_old_style_workbook_is_rejected_in_plain_words(tmp_path):
    path = tmp_path / "legacy.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    problem = rejection(path).problems[0].problem
    assert problem.startswith("the workbook could not be read")
    assert "save it as .xlsx" in problem


def test_unknown_extension_is_rejected(tmp_path):
    path = tmp_path / "orders.numbers"
    path.write_text("sku,qty\nA,1\n")
    assert "files with .numbers are not read" in rejection(path).problems[0].problem


def test_csv_named_xlsx_and_xlsx_named_csv_are_read_by_content(tmp_path):
    text = tmp_path / "export.xlsx"
    text.write_text("sku\tqty\nA-1\t2\n", encoding="utf-8")
    sheet = only_sheet(text)
    assert sheet.rows == [["sku", "qty"], ["A-1", "2"]] and sheet.delimiter == "\t"
    assert "text table" in sheet.notes[0]

    book = tmp_path / "export.csv"
    wb = openpyxl.Workbook()
    wb.active.append(["sku", 3])
    wb.save(book)
    sheet = only_sheet(book)
    assert sheet.rows == [["sku", "3"]] and "Excel workbook" in sheet.notes[0]


def test_empty_and_oversized_files_are_rejected(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert rejection(empty).problems[0].problem == "the file is empty"

    big = tmp_path / "big.csv"
    big.write_text("sku,qty\n" + "A,1\n" * 1000)
    problem = rejection(big, Limits(max_file_bytes=1024)).problems[0].problem
    assert problem == "the file is 3.9 KB; the limit is 1.0 KB (limits.max_file_bytes)"


# ---- damaged workbooks and zip bombs ---------------------------------------------------

def small_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["sku", "qty"])
    wb.active.append(["A-1", 2])
    wb.save(path)
    return path


def test_truncated_workbook_is_rejected_as_damaged(tmp_path):
    full = small_workbook(tmp_path / "full.xlsx").read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(full[: len(full) // 2])
    assert rejection(cut).problems[0].problem.startswith("the workbook is damaged or incomplete: ")


def test_workbook_with_corrupted_part_data_is_rejected_as_damaged(tmp_path):
    path = build_xlsx(tmp_path / "flipped.xlsx", sheet_xml(inline("A1", "sku" * 500)))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 5, start + 25):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    problem = rejection(path).problems[0].problem
    assert problem.startswith("the workbook is damaged or incomplete: part xl/worksheets/sheet1.xml")


def test_too_many_zip_entries_is_rejected(tmp_path):
    path = small_workbook(tmp_path / "many.xlsx")
    with zipfile.ZipFile(path, "a") as zf:
        for i in range(30):
            zf.writestr(f"xl/media/pad{i}.bin", b"x")
    with zipfile.ZipFile(path) as zf:
        count = len(zf.infolist())
    problem = rejection(path, Limits(max_zip_entries=20)).problems[0].problem
    assert f"has {count} parts inside; the limit is 20" in problem


def test_total_uncompressed_size_over_limit_is_rejected(tmp_path):
    path = small_workbook(tmp_path / "large.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/media/image1.bin", random.Random(1).randbytes(2 * 1024 * 1024))
    problem = rejection(path, Limits(max_uncompressed_bytes=1024 * 1024)).problems[0].problem
    assert "unpacks to 2.0 MB; the limit is 1.0 MB" in problem


def test_highly_compressed_entry_is_rejected_as_zip_bomb_with_figures(tmp_path):
    path = small_workbook(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/zeros.bin", bytes(20 * 1024 * 1024))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/media/zeros.bin")
    ratio = info.file_size / info.compress_size
    problem = rejection(path).problems[0].problem
    assert f"unpacks {ratio:,.0f} times larger" in problem
    assert "the limit is 200" in problem and "zip bomb" in problem


def test_entry_that_inflates_past_its_declared_size_is_rejected(tmp_path):
    rows = "".join(f'<row r="{r}">{inline(f"A{r}", "x" * 50)}</row>' for r in range(1, 400))
    path = build_xlsx(tmp_path / "liar.xlsx", sheet_xml(rows))
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        real = zf.read(info)
    fake_size, fake_crc = 200, zlib.crc32(real[:200])
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, info.header_offset + 14, fake_crc)       # local header
    struct.pack_into("<I", data, info.header_offset + 22, fake_size)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46: central + 46 + name_len]) == info.filename.encode():
            struct.pack_into("<I", data, central + 16, fake_crc)
            struct.pack_into("<I", data, central + 24, fake_size)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as zf:                         # python's zipfile is fooled
        assert zf.read("xl/worksheets/sheet1.xml") == real[:200]
    assert "unpacks to more than its declared size" in rejection(path).problems[0].problem


def test_sheet_reaching_far_away_cell_is_rejected_before_parsing(tmp_path):
    path = build_xlsx(tmp_path / "far.xlsx", sheet_xml(
        f'<row r="1">{inline("A1", "sku")}</row><row r="500000">{inline("XFD500000", "x")}</row>'))
    problem = rejection(path).problems[0]
    assert "reaches row 500,000 and column XFD" in problem.problem and problem.sheet == "Orders"

    rows = build_xlsx(tmp_path / "deep.xlsx", sheet_xml(
        f'<row r="1">{inline("A1", "sku")}</row><row r="1048576">{inline("A1048576", "x")}</row>'))
    assert "the sheet has 1,048,576 rows; the limit is 1,000,000" in rejection(rows).problems[0].problem


# ---- XML safety ---------------------------------------------------------------------------

ENTITY_BOMB_PROLOG = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>')


def test_workbook_with_entity_declarations_is_rejected_before_parsing(tmp_path):
    path = build_xlsx(tmp_path / "laughs.xlsx",
                      sheet_xml(f'<row r="1">{inline("A1", "&c;")}</row>', prolog=ENTITY_BOMB_PROLOG))
    problem = rejection(path).problems[0].problem
    assert "xl/worksheets/sheet1.xml contains a DOCTYPE declaration" in problem

    strings = build_xlsx(tmp_path / "laughs2.xlsx", sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
                         {"xl/sharedStrings.xml": (f'<?xml version="1.0"?>{ENTITY_BOMB_PROLOG}<sst><si><t>&c;'
                                                   f'</t></si></sst>').encode()})
    assert "xl/sharedStrings.xml contains a DOCTYPE" in rejection(strings).problems[0].problem


def test_xml_safety_check_passes_and_notices_an_unsafe_parser(monkeypatch):
    verify_xml_safety()
    import xml.etree.ElementTree as plain
    monkeypatch.setattr(xlsx_guard.SafeET, "fromstring", plain.fromstring)
    with pytest.raises(xlsx_guard.UnsafeXmlParser):
        verify_xml_safety()


# ---- text encodings -------------------------------------------------------------------------

CHINESE = [["订单号", "买家姓名", "收件人", "国家", "SKU", "数量", "运单号"],
           ["CN1001", "张伟", "李娜", "中国", "BAG-红色", "2", "RR123456785CN"],
           ["CN1002", "王芳", "刘洋", "中国", "杯子-蓝", "1", ""],
           ["CN1003", "陈静", "赵磊", "美国", "雨伞", "3", "EV996103865CN"]]
JAPANESE = [["注文番号", "お届け先氏名", "住所", "商品名", "数量"],
            ["250-1234567-1234567", "山田太郎", "東京都港区六本木1-2-3", "ステンレス水筒", "2"],
            ["250-7654321-7654321", "佐藤花子", "大阪府大阪市北区梅田", "折りたたみ傘", "1"]]


def table_text(rows, delimiter=",", newline="\r\n") -> str:
    return newline.join(delimiter.join(r) for r in rows) + newline


@pytest.mark.parametrize("codec, written, expected", [
    ("utf-8", lambda t: t.encode("utf-8"), "utf-8"),
    ("utf-8 with BOM", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "utf-8-sig"),
    ("gbk", lambda t: t.encode("gbk"), "gb18030"),
    ("gb18030", lambda t: t.encode("gb18030"), "gb18030"),
])
def test_chinese_text_is_decoded(tmp_path, codec, written, expected):
    path = tmp_path / "orders.csv"
    path.write_bytes(written(table_text(CHINESE)))
    sheet = only_sheet(path)
    assert sheet.rows == CHINESE and sheet.encoding == expected and sheet.delimiter == ","


def test_shift_jis_japanese_text_is_decoded(tmp_path):
    path = tmp_path / "amazon_jp.txt"
    path.write_bytes(table_text(JAPANESE, "\t").encode("shift_jis"))
    sheet = only_sheet(path)
    assert sheet.rows == JAPANESE and sheet.encoding == "cp932" and sheet.delimiter == "\t"


# Chinese Excel saves "CSV" in GBK. With only a Chinese header over ASCII data the
# bytes also decode as EUC-KR (Hangul mixed with Hanja) and charset_normalizer may
# rank that first; such files must still come back as Chinese.
GBK_HEADERS = {
    "stock": (["仓库", "SKU", "库存数量", "货架位"], lambda i: [f"WH{i % 3}", f"A-{i}", str(i), f"B{i:02d}"]),
    "tracking pool": (["渠道", "跟踪号"], lambda i: ["YW", f"RR{i:08d}5CN"]),
    "orders": (["订单号", "SKU", "数量", "收货人", "国家", "跟踪号"],
               lambda i: [str(1000 + i), f"A-{i}", "1", "John Smith", "US", ""]),
}


@pytest.mark.parametrize("count", [2, 20, 2000])
@pytest.mark.parametrize("kind", sorted(GBK_HEADERS))
def test_gbk_chinese_header_over_ascii_rows_is_decoded_as_chinese(tmp_path, kind, count):
    header, row = GBK_HEADERS[kind]
    rows = [header] + [row(i) for i in range(count)]
    path = tmp_path / "sheet.csv"
    path.write_bytes(table_text(rows).encode("gbk"))
    sheet = only_sheet(path)
    assert sheet.encoding == "gb18030" and sheet.rows == rows


def test_gbk_stock_sheet_with_ascii_rows_imports_as_stock(tmp_path):
    from batchship.config import Config
    from batchship.importers import load_file
    path = tmp_path / "库存.csv"
    path.write_bytes("仓库,SKU,库存数量,货架位\r\nWH1,A-1,10,A01\r\nWH1,A-2,5,A02\r\n".encode("gbk"))
    imported = load_file(path, shop_hint="", config=Config())
    assert imported.kind == "stock"
    assert imported.frame[["warehouse", "sku", "on_hand", "shelf"]].astype(str).values.tolist() == \
        [["WH1", "A-1", "10", "A01"], ["WH1", "A-2", "5", "A02"]]


@pytest.mark.parametrize("count", [2, 20, 2000])
def test_shift_jis_japanese_header_over_ascii_rows_stays_japanese(tmp_path, count):
    header = ["注文番号", "商品管理番号", "数量", "お届け先氏名", "都道府県"]
    rows = [header] + [[f"250-{i:07d}", f"JP-{i}", "1", "Yamada Taro", "Tokyo"] for i in range(count)]
    path = tmp_path / "amazon_jp.txt"
    path.write_bytes(table_text(rows, "\t").encode("shift_jis"))
    sheet = only_sheet(path)
    assert sheet.encoding == "cp932" and sheet.rows == rows


@pytest.mark.parametrize("count", [2, 2000])
def test_korean_euc_kr_header_over_ascii_rows_stays_korean(tmp_path, count):
    # Present-day Korean is Hangul only, so its reading is not mistaken for Chinese.
    header = ["주문번호", "상품명", "수량", "수취인", "국가", "송장번호"]
    rows = [header] + [[f"KR{i}", f"A-{i}", "1", "Kim", "KR", ""] for i in range(count)]
    path = tmp_path / "orders.csv"
    path.write_bytes(table_text(rows).encode("euc_kr"))
    sheet = only_sheet(path)
    assert sheet.encoding == "euc_kr" and sheet.rows == rows


def test_western_excel_cp1252_text_is_decoded(tmp_path):
    rows = [["Name", "Straße", "Ville", "Price"], ["Zoë Müller", "Hauptstraße 5", "Besançon", "12,50 €"],
            ["José Núñez", "Calle Mayor 3", "Málaga", "9,99 €"]]
    path = tmp_path / "orders.csv"
    path.write_bytes(table_text(rows, ";").encode("cp1252"))
    sheet = only_sheet(path)
    assert sheet.encoding == "cp1252" and sheet.rows == rows


@pytest.mark.parametrize("bom, codec", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_excel_unicode_text_utf16_with_bom_is_decoded(tmp_path, bom, codec):
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + table_text(CHINESE + JAPANESE[1:], "\t").encode(codec))
    sheet = only_sheet(path)
    assert sheet.encoding == codec and sheet.delimiter == "\t"
    assert sheet.rows[1][1] == "张伟" and sheet.rows[4][2] == "東京都港区六本木1-2-3"


def test_text_that_fits_no_encoding_is_rejected(tmp_path):
    path = tmp_path / "garbled.csv"
    rng = random.Random(3)
    noise = bytes(rng.randrange(0x80, 0x100) for _ in range(3000))
    path.write_bytes(b"sku,qty\n" + noise)
    assert rejection(path).problems[0].problem.startswith("could not work out the text encoding")


# ---- delimiters and quoting -----------------------------------------------------------------

@pytest.mark.parametrize("delimiter", ["\t", ",", ";", "|"])
def test_delimiter_is_detected(tmp_path, delimiter):
    rows = [["Order report 2026-04"], [""],
            ["order-id", "buyer", "address", "price"],
            ["111-1234567-1234567", "Ann Lee", "Flat 2, 5 High St", "12,50" if delimiter == ";" else "12.50"],
            ["111-7654321-7654321", "Bo Chan", "9 Low Rd; rear", "3.00"]]
    text = "\n".join(delimiter.join(f'"{c}"' if ("," in c or ";" in c) and delimiter in ",;" else c
                                    for c in r) for r in rows) + "\n"
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    sheet = only_sheet(path)
    assert sheet.delimiter == delimiter
    assert sheet.rows[0] == ["Order report 2026-04"] and sheet.rows[1] == []   # title and blank kept
    assert sheet.rows[3] == rows[3] and sheet.rows[4] == rows[4]


def test_quoted_newlines_crlf_and_empty_quotes_parse_right(tmp_path):
    path = tmp_path / "shopify.csv"
    path.write_bytes(b'Name,Note Attributes,Shipping Zip,Notes\r\n'
                     b'#1001,"Phone: 0100\r\nCity: Dhaka",\'84403,""\r\n'
                     b'#1002,"line one\nline two","","He said ""ship fast"""\r\n'
                     b',,,\r\n')
    sheet = only_sheet(path)
    assert sheet.rows == [["Name", "Note Attributes", "Shipping Zip", "Notes"],
                          ["#1001", "Phone: 0100\r\nCity: Dhaka", "'84403", ""],
                          ["#1002", "line one\nline two", "", 'He said "ship fast"'],
                          ["", "", "", ""]]


def test_quote_that_never_closes_is_rejected_with_its_row(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text('sku,qty\nA-1,2\n"B-2,3\n' + "C,1\n" * 40000)
    problem = rejection(path).problems[0]
    assert "quote" in problem.problem and problem.row == 3


def test_shopify_export_with_crlf_inside_quotes_survives():
    if not SHOPIFY_CRLF.exists():
        pytest.skip("shared format samples not available")
    sheet = only_sheet(SHOPIFY_CRLF)
    header = sheet.rows[0]
    notes = header.index("Note Attributes")
    first = sheet.rows[1][notes]
    assert first.startswith("First name: Customer 2\r\nPhone number: ")
    assert "\r\nAddress: " in first
    assert len({len(r) for r in sheet.rows if r}) == 1      # the embedded CRLF did not split the record


# ---- row limit and speed ----------------------------------------------------------------------

def test_more_rows_than_the_limit_is_rejected_naming_both(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("sku,qty\n" + "A,1\n" * 11)
    problem = rejection(path, Limits(max_rows=10)).problems[0].problem
    assert "the file has 12 rows; the limit is 10" in problem

    book = tmp_path / "long.xlsx"
    wb = openpyxl.Workbook()
    for i in range(12):
        wb.active.append(["A", i])
    wb.save(book)
    problem = rejection(book, Limits(max_rows=10)).problems[0].problem
    assert "the sheet has 12 rows; the limit is 10" in problem


def test_a_chinese_header_misread_by_the_encoding_guess_is_read_by_the_reading_a_template_knows(
        tmp_path, monkeypatch):
    from batchship.config import Config
    from batchship.importers import load_file
    from batchship.io import tabular
    data = "订单号,操作,备注\nO1,cancel,\nO2,hold,\n".encode("gbk")
    # A few hanzi over ASCII rows read as Big5 too; some charset-normalizer versions guess Big5.
    monkeypatch.setattr(tabular, "decode_text", lambda raw: (raw.decode("big5"), "big5"))
    path = tmp_path / "actions.csv"
    path.write_bytes(data)
    imported = load_file(path, shop_hint="", config=Config())
    assert imported.kind == "actions"
    assert imported.frame[["order_id", "action"]].values.tolist() == [["O1", "cancel"], ["O2", "hold"]]
    assert any("read as gb18030" in note for note in imported.notes)
