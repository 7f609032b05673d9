"""Label sizes and formats: A6 and A4 sheets of four beside 100×150 and 100×100, and ZPL for thermal printers.

PDFs are checked as a warehouse would: the page is the right paper, every barcode scans from
its own label, nothing is drawn outside a label. ZPL is read back with the small parser
below (no printer needed): blocks and fields well formed, sizes in printer dots, the barcode
carrying the tracking number, and buyer text unable to add a command.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.cli import main
from batchship.config import LABEL_SIZES, parse_config
from batchship.errors import ConfigError
from batchship.writers import barcode128
from batchship.writers.labels import LAYOUTS, SHEETS, CustomsItem, label_boxes, render_labels
from batchship.writers.zpl import render_zpl
from conftest import ORDER_HEADER, PRODUCT_HEADER, order_row, product_row, s10
from test_labels import RECIPIENTS, label

MM = 72 / 25.4
SCALE = 203 / 72
A4 = (210, 297)
HOSTILE_NAME = "Zoë ^XZ^XA^FO0,0^FDpwn^FS ~JA~DGR:X _41 \\& Øster"


# --- a small ZPL reader -------------------------------------------------------------------

@dataclass
class ZplField:
    commands: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return next((args for cmd, args in self.commands if cmd == name), None)

    @property
    def origin(self) -> tuple[int, int]:
        x, y = (self.get("FO") or self.get("FT")).split(",")[:2]
        return int(x), int(y)

    @property
    def data(self) -> str:
        """The field data as the printer reads it: _xx hex undone under ^FH_, as UTF-8 (^CI28)."""
        raw = self.get("FD") or ""
        if self.get("FH") is None:
            return raw
        assert self.get("FH") == "_"
        out, i = bytearray(), 0
        while i < len(raw):
            if raw[i] == "_":
                out.append(int(raw[i + 1:i + 3], 16))
                i += 3
            else:
                out += raw[i].encode("ascii")
                i += 1
        return out.decode("utf-8")


@dataclass
class ZplLabel:
    settings: dict[str, str]
    fields: list[ZplField]

    @property
    def texts(self) -> list[str]:
        return [f.data for f in self.fields if f.get("A0") is not None]

    @property
    def barcodes(self) -> list[ZplField]:
        return [f for f in self.fields if f.get("BC") is not None]


COMMAND = re.compile(r"\^([A-Z][A-Z0-9@])([^\^~]*)")


def parse_zpl(text: str) -> list[ZplLabel]:
    """^XA … ^XZ blocks of ^FO/^FT … ^FS fields; fails on anything out of place."""
    assert "~" not in text, "no tilde command in our output, nor a tilde in data"
    tokens = [(m.group(1), m.group(2).strip("\r\n")) for m in COMMAND.finditer(text)]
    assert COMMAND.sub("", text).strip() == "", "text outside commands"
    labels: list[ZplLabel] = []
    current: ZplLabel | None = None
    fld: ZplField | None = None
    for cmd, args in tokens:
        if cmd == "XA":
            assert current is None, "^XA inside a label"
            current = ZplLabel({}, [])
        elif cmd == "XZ":
            assert current is not None and fld is None, "^XZ without ^XA, or inside a field"
            labels.append(current)
            current = None
        else:
            assert current is not None, f"^{cmd} outside ^XA … ^XZ"
            if cmd in ("FO", "FT"):
                assert fld is None, "field not closed by ^FS"
                fld = ZplField([(cmd, args)])
            elif cmd == "FS":
                assert fld is not None
                current.fields.append(fld)
                fld = None
            elif fld is not None:
                fld.commands.append((cmd, args))
            else:
                assert cmd in ("CI", "PW", "LL", "LH", "PO"), f"unexpected ^{cmd} outside a field"
                current.settings[cmd] = args
    assert current is None, "last label not closed by ^XZ"
    return labels


def code128_text(data: str) -> str:
    """^BC data with ZPL's invocation codes (>: start B, >; start C, >5 / >6 switch, >< is ">")."""
    out, subset, i = [], "B", 0
    while i < len(data):
        if data[i] == ">":
            code = data[i + 1]
            if code == "<":
                out.append(">")
            else:
                subset = {":": "B", ";": "C", "5": "C", "6": "B"}[code]
            i += 2
        elif subset == "C":
            assert data[i:i + 2].isdigit()
            out.append(data[i:i + 2])
            i += 2
        else:
            out.append(data[i])
            i += 1
    return "".join(out)


def dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def shown(z: ZplLabel, text: str) -> bool:
    """Printer text for what font 0 has (code page 1252); a bitmap otherwise, which
    test_label_scripts compares with the PDF label's ink."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return any(f.get("GF") is not None for f in z.fields)
    return any(text in t for t in z.texts)


def check_zpl_label(z: ZplLabel, size: str, dpi: int, tracking: str) -> None:
    lay = LAYOUTS[size]
    width, height = dots(lay.width, dpi), dots(lay.height, dpi)
    assert z.settings["PW"] == str(width) and z.settings["LL"] == str(height)
    assert z.settings["CI"] == "28"
    [bc] = z.barcodes
    assert bc.get("FH") == "_" and code128_text(bc.data) == tracking
    module = int(bc.get("BY").split(",")[0])
    bars = barcode128.modules(tracking).total_modules - 2 * barcode128.QUIET_ZONE_MODULES
    x, y = bc.origin
    # The whole symbol with its quiet zones is on the label.
    assert x - 10 * module >= 0 and x + (bars + 10) * module <= width
    assert abs(x - (width - x - bars * module)) <= 2 * module          # centred on the label
    assert y + int(bc.get("BC").split(",")[1]) <= height
    for f in z.fields:
        x, y = f.origin
        assert 0 <= x < width and 0 <= y < height
        if f.get("GB"):
            w, h, _ = map(int, f.get("GB").split(","))
            assert x + w <= width and y + h <= height
        if f.get("A0"):
            h = int(f.get("A0").split(",")[1])
            assert y + h <= height
            assert f.get("FH") == "_"
        if f.get("FB"):
            assert x + int(f.get("FB").split(",")[0]) <= width


# --- PDF: page sizes, barcodes per label box, nothing outside a box ---------------------

def box_image(page, box):
    """The part of the page image that is one label."""
    left, top, w, h = box
    image = page.render(scale=SCALE).to_pil()
    k = SCALE * MM
    return image.crop((round(left * k), round(top * k), round((left + w) * k), round((top + h) * k)))


def codes(image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]


def labels_for(size: str, n: int):
    return [label(i, RECIPIENTS[i % len(RECIPIENTS)]) for i in range(n)]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    out = tmp_path_factory.mktemp("formats")
    results = {}
    for size in LABEL_SIZES:
        # Nine labels on A4 sheets: two full pages and one label on the third.
        labels = labels_for(size, 9 if size == "A4x4" else 5)
        path = out / f"labels-{size}.pdf"
        assert render_labels(labels, path, size=size) == {}
        results[size] = (labels, path)
    return results


def test_config_and_writer_know_the_same_sizes():
    assert tuple(LAYOUTS) == tuple(SHEETS) == LABEL_SIZES


@pytest.mark.parametrize("size,paper,per_page", [
    ("100x150", (100, 150), 1), ("100x100", (100, 100), 1), ("A6", (105, 148), 1), ("A4x4", A4, 4)])
def test_pages_are_the_right_paper_with_the_right_number_of_labels(pdfs, size, paper, per_page):
    labels, path = pdfs[size]
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == -(-len(labels) // per_page)
    boxes = label_boxes(size)
    assert len(boxes) == per_page
    for n, page in enumerate(pdf):
        assert page.get_size() == pytest.approx((paper[0] * MM, paper[1] * MM), abs=0.05)
        on_page = labels[n * per_page:(n + 1) * per_page]
        for box, data in zip(boxes, on_page):
            assert codes(box_image(page, box)) == [data.tracking_number]
        for box in boxes[len(on_page):]:              # empty places on the last sheet stay blank
            assert codes(box_image(page, box)) == []
            assert page.get_textpage().get_text_bounded(*pdf_rect(page, box)).strip() == ""
        for box, data in zip(boxes, on_page):         # each label's text is in its own box
            text = page.get_textpage().get_text_bounded(*pdf_rect(page, box))
            assert data.tracking_number in text and data.order_ref in text


def test_a4_sheet_holds_four_and_the_fifth_starts_page_two(pdfs):
    labels, path = pdfs["A4x4"]
    pdf = pdfium.PdfDocument(path)
    boxes = label_boxes("A4x4")
    assert boxes == ((0, 0, 105, 148), (105, 0, 105, 148), (0, 148, 105, 148), (105, 148, 105, 148))
    assert codes(box_image(pdf[0], boxes[3])) == [labels[3].tracking_number]
    assert codes(box_image(pdf[1], boxes[0])) == [labels[4].tracking_number]
    assert codes(box_image(pdf[2], boxes[0])) == [labels[8].tracking_number]
    # The whole sheet scans to its four labels, left to right, then top to bottom.
    whole = pdf[0].render(scale=SCALE).to_pil()
    assert sorted(codes(whole)) == sorted(d.tracking_number for d in labels[:4])


def pdf_rect(page, box):
    """(left, bottom, right, top) in PDF points of a box given in mm from the page's top-left."""
    left, top, w, h = box
    height = page.get_size()[1]
    return left * MM, height - (top + h) * MM, (left + w) * MM, height - top * MM


def objects_outside(page, boxes, inset_mm: float) -> list:
    """Page objects not wholly inside one box shrunk by ``inset_mm``."""
    outside = []
    for obj in page.get_objects():
        left, bottom, right, top = obj.get_bounds()
        inside = False
        for box in boxes:
            bl, bb, br, bt = pdf_rect(page, box)
            d = inset_mm * MM
            if left >= bl + d - 0.01 and bottom >= bb + d - 0.01 and right <= br - d + 0.01 and top <= bt - d + 0.01:
                inside = True
                break
        if not inside:
            outside.append((obj.type, (left, bottom, right, top)))
    return outside


@pytest.mark.parametrize("size", LABEL_SIZES)
def test_nothing_is_drawn_outside_its_label(pdfs, size):
    labels, path = pdfs[size]
    boxes = label_boxes(size)
    # Within the label's blank margin, give or take 0.5 mm: pdfium's bounds of a stroke add a
    # line width (0.25 mm), and a glyph such as "J" reaches a little left of where its text starts.
    inset = LAYOUTS[size].margin - 0.5
    for page in pdfium.PdfDocument(path):
        assert objects_outside(page, boxes, inset) == []


@pytest.mark.parametrize("size", LABEL_SIZES)
def test_crowded_labels_stay_on_their_label_and_scan(tmp_path, size):
    items = tuple((f"SKU-{n:03d}-LONG-VARIANT-NAME", n + 1) for n in range(40))
    articles = tuple(CustomsItem(f"Article with a rather long description {n}", 3, 12345, Decimal("99999.99"),
                                 "EUR", "12345678", "CN") for n in range(8))
    labels = [label(i, RECIPIENTS[10], items=items, customs_items=articles, customs_category="Sale of goods",
                    channel="A channel name far too long to print whole on any label at all")
              for i in range(5)]
    path = tmp_path / "crowded.pdf"
    render_labels(labels, path, size=size)
    boxes = label_boxes(size)
    pdf = pdfium.PdfDocument(path)
    # 8 articles do not fit a CN 22: each label is followed by its CN 23 continuation (the
    # next pages, or the next places on an A4 sheet), which carries the same barcode.
    seen: list[str] = []
    for page in pdf:
        assert objects_outside(page, boxes, LAYOUTS[size].margin - 0.5) == []
        for box in boxes:
            text = page.get_textpage().get_text_bounded(*pdf_rect(page, box))
            if not text.strip():
                continue
            found = codes(box_image(page, box))
            if "CUSTOMS DECLARATION CN 22" in text:
                seen.append(found[0])
            else:
                assert "CN 23" in text
            assert found == [seen[-1]]
    assert seen == [data.tracking_number for data in labels]


def test_cut_marks_lie_on_the_cut_lines_only(tmp_path):
    labels = labels_for("A4x4", 4)
    plain, marked = tmp_path / "plain.pdf", tmp_path / "marked.pdf"
    render_labels(labels, plain, size="A4x4")
    render_labels(labels, marked, size="A4x4", cut_marks=True)
    page = pdfium.PdfDocument(marked)[0]
    extra = objects_outside(page, label_boxes("A4x4"), 0)
    assert len(extra) == 2 and len(objects_outside(pdfium.PdfDocument(plain)[0], label_boxes("A4x4"), 0)) == 0
    # One line down the middle at x = 105 mm, one across at y = 148 mm (from the top), whole sheet long.
    (_, vertical), (_, horizontal) = sorted(extra, key=lambda o: o[1][2] - o[1][0])
    assert vertical[0] == pytest.approx(105 * MM, abs=0.5) and vertical[2] == pytest.approx(105 * MM, abs=0.5)
    assert vertical[3] - vertical[1] == pytest.approx(297 * MM, abs=1)
    assert horizontal[1] == pytest.approx((297 - 148) * MM, abs=0.5)
    assert horizontal[2] - horizontal[0] == pytest.approx(210 * MM, abs=1)
    assert sorted(codes(page.render(scale=SCALE).to_pil())) == sorted(d.tracking_number for d in labels)


# --- ZPL --------------------------------------------------------------------------------

@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("size", ["100x150", "100x100", "A6"])
def test_zpl_is_well_formed_and_sized_for_the_printer(tmp_path, size, dpi):
    labels = labels_for(size, 6)
    path = tmp_path / "labels.zpl"
    assert render_zpl(labels, path, size=size, dpi=dpi) == {}
    text = path.read_text(encoding="ascii")
    zpl = parse_zpl(text)
    assert len(zpl) == len(labels) == text.count("^XA") == text.count("^XZ")
    for z, data in zip(zpl, labels):
        check_zpl_label(z, size, dpi, data.tracking_number)
        texts = z.texts
        assert shown(z, data.recipient_name)
        # A small label joins the street lines into one: every street line is there, whole.
        assert all(shown(z, line) for line in data.address_lines)
        assert data.country in texts and data.order_ref in texts and data.tracking_number in texts
        assert "TS-RED-M × 2" in texts and "MUG-WHITE × 1" in texts
        assert "CUSTOMS DECLARATION CN 22" in texts and "2 × Cotton T-shirt" in texts and "30.00 USD" in texts
        assert any(t.startswith("From: Shenzhen Example") for t in texts)


def test_zpl_label_sizes_in_dots():
    # 100×150 mm at 203 dpi is the common 4×6 inch label: 799×1199 dots; at 300 dpi 1181×1772.
    assert (dots(100, 203), dots(150, 203)) == (799, 1199)
    assert (dots(100, 300), dots(150, 300)) == (1181, 1772)
    assert (dots(105, 203), dots(148, 203)) == (839, 1183)


def test_300_dpi_is_the_same_label_in_finer_dots(tmp_path):
    data = [label(1, RECIPIENTS[1])]
    low, high = tmp_path / "203.zpl", tmp_path / "300.zpl"
    render_zpl(data, low, dpi=203)
    render_zpl(data, high, dpi=300)
    [a], [b] = parse_zpl(low.read_text()), parse_zpl(high.read_text())
    ratio = 300 / 203
    assert int(b.settings["PW"]) == pytest.approx(int(a.settings["PW"]) * ratio, abs=1)
    assert len(a.fields) == len(b.fields)
    for fa, fb in zip(a.fields, b.fields):
        assert fa.data == fb.data
        assert [c for c, _ in fa.commands] == [c for c, _ in fb.commands]
        (xa, ya), (xb, yb) = fa.origin, fb.origin
        assert yb == pytest.approx(ya * ratio, abs=3)
        if not fa.get("BC"):      # the barcode is centred instead: its bars are whole dots wide at each dpi
            assert xb == pytest.approx(xa * ratio, abs=3)
        if fa.get("A0"):
            ha, hb = int(fa.get("A0").split(",")[1]), int(fb.get("A0").split(",")[1])
            assert hb == pytest.approx(ha * ratio, abs=1.5)
    # Wide, whole-dot bars at either resolution: 4 dots at 203 dpi, 6 at 300 (both ~0.5 mm).
    assert a.barcodes[0].get("BY").split(",")[0] == "4" and b.barcodes[0].get("BY").split(",")[0] == "6"
    ha, hb = (int(z.barcodes[0].get("BC").split(",")[1]) for z in (a, b))
    assert hb == pytest.approx(ha * ratio, abs=1)


def test_hostile_text_cannot_add_zpl_commands(tmp_path):
    hostile = [label(i, RECIPIENTS[i], recipient_name=HOSTILE_NAME,
                     address_lines=("^XA^PQ999^XZ street ~JR", "ünïcødé ^FS^FD ~"),
                     tracking_number="LX1^2~3>4_5CN" if i == 1 else label(i).tracking_number,
                     items=(("SKU^XZ~", 1),), order_ref="shop / ^XZ_1F")
               for i in range(3)]
    path = tmp_path / "hostile.zpl"
    assert render_zpl(hostile, path) == {}
    text = path.read_text(encoding="ascii")
    assert text.count("^XA") == text.count("^XZ") == 3
    zpl = parse_zpl(text)
    assert len(zpl) == 3
    for z, data in zip(zpl, hostile):
        check_zpl_label(z, "100x150", 203, data.tracking_number)
        # Every command of every label is one the writer emits; the buyer's text came back whole.
        assert {c for f in z.fields for c, _ in f.commands} <= {"FO", "FB", "A0", "FH", "FD", "GB", "GD", "BY", "BC", "GF"}
        assert HOSTILE_NAME in z.texts
        assert "^XA^PQ999^XZ street ~JR" in z.texts and "ünïcødé ^FS^FD ~" in z.texts
        assert "SKU^XZ~ × 1" in z.texts and "shop / ^XZ_1F" in z.texts
    assert "^PQ" not in text and "^FDpwn" not in text
    for f in zpl[0].fields:
        raw = f.get("FD")
        if raw is not None:
            assert not set(raw) & {"^", "~"} and raw.isascii()


def test_field_block_backslash_is_escaped(tmp_path):
    path = tmp_path / "slash.zpl"
    render_zpl([label(1, RECIPIENTS[0], country="A\\&B")], path)
    [z] = parse_zpl(path.read_text())
    blocked = [f for f in z.fields if f.get("FB")]
    assert any(f.get("FD") == "A\\\\&B" for f in blocked)      # the country box: centred, in a ^FB
    assert any(f.get("FD") == "A\\&B" for f in z.fields if not f.get("FB"))   # the address line


def test_zpl_problems_and_refusals(tmp_path):
    path = tmp_path / "x.zpl"
    problems = render_zpl([label(1, tracking_number="LX12345678Ä"), label(2)], path)
    assert list(problems) == ["LX12345678Ä"]
    zpl = parse_zpl(path.read_text())
    assert zpl[0].barcodes == [] and len(zpl[1].barcodes) == 1    # printed, without a barcode
    with pytest.raises(ValueError, match="203 or 300"):
        render_zpl([label(1)], path, dpi=600)
    with pytest.raises(ValueError, match="A4x4"):
        render_zpl([label(1)], path, size="A4x4")
    with pytest.raises(ValueError):
        render_zpl([], path)


def test_zpl_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "labels-YW.zpl"
    path.write_text("old")
    render_zpl([label(1)], path)
    assert path.read_text().startswith("^XA")
    assert [p.name for p in tmp_path.iterdir()] == ["labels-YW.zpl"]


# --- configuration --------------------------------------------------------------------------

def channel(**keys):
    return parse_config({"channels": [{"name": "YW", **keys}]}).channels["YW"]


def test_label_settings_defaults_and_spellings():
    yw = channel()
    assert (yw.label_size, yw.label_format, yw.zpl_dpi, yw.label_cut_marks) == ("100x150", "pdf", 203, False)
    assert channel(label_size="a6").label_size == "A6"
    assert channel(label_size="A4X4", label_cut_marks=True).label_cut_marks is True
    zpl = channel(label_format="ZPL", zpl_dpi=300, label_size="100x100")
    assert (zpl.label_format, zpl.zpl_dpi, zpl.label_size) == ("zpl", 300, "100x100")


@pytest.mark.parametrize("keys, words", [
    ({"label_size": "A5"}, "channel 'YW': label_size must be one of 100x150, 100x100, A6, A4x4, not 'A5'"),
    ({"label_size": 100}, "channel 'YW': label_size must be one of"),
    ({"label_format": "png"}, "channel 'YW': label_format must be \"pdf\" or \"zpl\", not 'png'"),
    ({"label_format": "zpl", "zpl_dpi": 600}, "channel 'YW': zpl_dpi must be 203 or 300"),
    ({"zpl_dpi": "203"}, "channel 'YW': zpl_dpi must be 203 or 300"),
    ({"zpl_dpi": True}, "zpl_dpi must be 203 or 300"),
    ({"label_format": "zpl", "label_size": "A4x4"}, "channel 'YW': label_size A4x4 is a sheet for office printers"),
    ({"label_cut_marks": True}, "channel 'YW': label_cut_marks applies to label_size A4x4 only"),
    ({"label_size": "A4x4", "label_cut_marks": "yes"}, "label_cut_marks must be true or false"),
])
def test_label_setting_mistakes_name_the_channel(keys, words):
    with pytest.raises(ConfigError) as exc:
        channel(**keys)
    assert words in str(exc.value)


def test_bad_label_size_stops_the_run_with_exit_2(tmp_path, capsys):
    main(["init", str(tmp_path)])
    (tmp_path / "batchship.toml").write_text('[[channels]]\nname = "YW"\nlabel_size = "A7"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-w", str(tmp_path)]) == 2
    assert "channel 'YW': label_size must be one of" in capsys.readouterr().err


# --- through the CLI ------------------------------------------------------------------------

CLI_CONFIG = """
[[shops]]
name = "shop-a"
platform = "batchship"

[[channels]]
name = "YW"
label_size = "A4x4"
label_cut_marks = true

[[channels]]
name = "SMALL"
label_size = "A6"

[[channels]]
name = "ZEBRA"
label_format = "zpl"
zpl_dpi = 300

[[logistics]]
countries = ["GB"]
channel = "SMALL"
warehouse = "SZ"

[[logistics]]
countries = ["DE"]
channel = "ZEBRA"
warehouse = "SZ"

[[logistics]]
channel = "YW"
warehouse = "SZ"

[watch]
settle_seconds = 0
min_age_seconds = 0
"""


@pytest.fixture
def batch(ws):
    (ws.root / "batchship.toml").write_text(CLI_CONFIG, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("A")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "A", 100, "A-01"]])
    ws.drop("pool.csv", ["channel", "tracking_number"],
            [["YW", s10(i)] for i in range(1, 7)] + [["SMALL", s10(50)]] + [["ZEBRA", s10(60 + i)] for i in range(3)])
    rows = [order_row(f"U{i}", "A", 1, f"2026-11-01 0{i}:00:00") for i in range(1, 7)]
    rows.append(order_row("G1", "A", 1, "2026-11-01 08:00:00", country="GB", postcode="NW1 6XE"))
    rows += [order_row(f"D{i}", "A", 1, f"2026-11-01 1{i}:00:00", country="DE", postcode="10115",
                       name="Jürgen ^XZ~Müller" if i == 1 else "Anna Schmidt") for i in range(3)]
    ws.drop("orders.csv", ORDER_HEADER, rows)
    assert ws.run() == 0
    orders = ws.orders().sort_values("paid_at")
    return ws, {ch: group["tracking_number"].tolist() for ch, group in orders.groupby("channel")}


def test_cli_writes_each_channel_in_its_size_and_format(batch):
    ws, tracking = batch
    out = ws.last_outbox()
    assert {p.name for p in out.glob("labels-*")} == {"labels-YW.pdf", "labels-SMALL.pdf", "labels-ZEBRA.zpl"}
    assert len(tracking["YW"]) == 6 and len(tracking["SMALL"]) == 1 and len(tracking["ZEBRA"]) == 3
    sheets = pdfium.PdfDocument(out / "labels-YW.pdf")
    assert len(sheets) == 2
    boxes = label_boxes("A4x4")
    for page in sheets:
        assert page.get_size() == pytest.approx((210 * MM, 297 * MM), abs=0.05)
    seen = [c for page in sheets for box in boxes for c in codes(box_image(page, box))]
    assert seen == tracking["YW"]                       # paid first, printed first; the 5th on page 2
    assert codes(box_image(sheets[1], boxes[0])) == [tracking["YW"][4]]
    a6 = pdfium.PdfDocument(out / "labels-SMALL.pdf")
    assert len(a6) == 1 and a6[0].get_size() == pytest.approx((105 * MM, 148 * MM), abs=0.05)
    assert codes(a6[0].render(scale=SCALE).to_pil()) == tracking["SMALL"]


def test_cli_zpl_has_one_block_per_label(batch):
    ws, tracking = batch
    text = (ws.last_outbox() / "labels-ZEBRA.zpl").read_text(encoding="ascii")
    zpl = parse_zpl(text)
    assert len(zpl) == text.count("^XA") == text.count("^XZ") == 3
    for z, number in zip(zpl, tracking["ZEBRA"]):
        check_zpl_label(z, "100x150", 300, number)
    names = [t for z in zpl for t in z.texts if "Müller" in t or "Schmidt" in t]
    assert names == ["Anna Schmidt", "Jürgen ^XZ~Müller", "Anna Schmidt"]
