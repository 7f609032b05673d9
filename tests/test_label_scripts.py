"""Labels for recipients in every script, with the bundled fonts only: every character drawn,
Arabic and Hebrew shaped and laid right to left, every barcode scanning, customs complete; on
thermal printers (ZPL) too, where what the printer's own font lacks is sent as a bitmap."""
from __future__ import annotations

import unicodedata
from collections import Counter
from decimal import Decimal

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp

from batchship.writers.fonts import TextPen, font_set
from batchship.writers.labels import CustomsItem, LabelData, new_pdf, render_labels
from batchship.writers.zpl import render_zpl
from test_label_formats import check_zpl_label, parse_zpl

SENDER = "Shenzhen Example Trading Co., Building 5, 88 Minzhi Avenue, Longhua District, Shenzhen 518000, CN"
ARTICLE = CustomsItem("Cotton T-shirt", 1, 200, Decimal("9.90"), "USD", "610910", "CN")

# (name, address lines, city, postcode, country)
RECIPIENTS = [
    ("Иван Петров", ("ул. Ленина, д. 5, кв. 3",), "Москва", "101000", "RU"),
    ("Νίκος Παπαδόπουλος", ("Οδός Σταδίου 10",), "Αθήνα", "105 64", "GR"),
    ("Nguyễn Văn An", ("Số 12 Phố Huế", "Phường Bùi Thị Xuân"), "Hà Nội", "100000", "VN"),
    ("محمد أحمد", ("شارع التحرير ١٥",), "القاهرة", "11511", "EG"),
    ("דוד כהן", ("רחוב הרצל 5",), "תל אביב", "6100000", "IL"),
    ("สมชาย ใจดี", ("99 ถนนสุขุมวิท",), "กรุงเทพมหานคร", "10110", "TH"),
    ("김민수", ("서울특별시 강남구 테헤란로 152",), "서울", "06236", "KR"),
    ("山田太郎", ("東京都千代田区丸の内1-1-1",), "東京都", "100-0005", "JP"),
    ("王小明", ("朝阳区建国路88号",), "北京市", "100022", "CN"),
]


def make(i: int, recipient=RECIPIENTS[0], **changes) -> LabelData:
    name, address, city, postcode, country = recipient
    data = dict(
        tracking_number=f"LX{400000000 + i * 7919:09d}CN", channel="YunExpress", order_ref=f"shop / {i:05d}",
        recipient_name=name, address_lines=address, city=city, state="", postcode=postcode, country=country,
        phone="+1 555 0100", items=(("TS-RED-M", 1, "棉T恤 红色 M"),), customs_category="",
        customs_items=(ARTICLE,), sender=SENDER, sender_phone="+86 755 1234 5678", date="2026-11-01",
    )
    data.update(changes)
    return LabelData(**data)


def decode(page) -> list[str]:
    image = page.render(scale=203 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]


def page_text(page) -> str:
    return page.get_textpage().get_text_range()


def letters(text: str) -> Counter:
    """The characters that are ink: no spaces, and none of the control codes a PDF reader gives
    for glyphs that carry no character of their own (Arabic dots that shaping draws apart)."""
    return Counter(ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "C")


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    path = tmp_path_factory.mktemp("scripts") / "labels.pdf"
    labels = [make(i, r) for i, r in enumerate(RECIPIENTS, start=1)]
    problems = render_labels(labels, path)
    return labels, path, problems


def test_every_script_prints_with_the_bundled_fonts(scripts):
    labels, path, problems = scripts
    assert problems == {}
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == len(labels)
    for page, data in zip(pdf, labels):
        found = letters(page_text(page))
        for text in (data.recipient_name, *data.address_lines, data.city, "棉T恤 红色 M"):
            missing = letters(text) - found
            assert not missing, f"{text!r}: {missing} not drawn"


def test_every_barcode_scans_and_counts_its_place_in_the_batch(scripts):
    labels, path, _ = scripts
    for n, (page, data) in enumerate(zip(pdfium.PdfDocument(path), labels), start=1):
        assert decode(page) == [data.tracking_number]
        assert f"{n} / {len(labels)}" in page_text(page)


def test_right_to_left_names_run_from_the_right(scripts):
    labels, path, _ = scripts
    pdf = pdfium.PdfDocument(path)
    for index, first, last in ((3, "م", "د"), (4, "ד", "ן")):    # محمد أحمد, דוד כהן
        page = pdf[index]
        text = page_text(page)
        textpage = page.get_textpage()
        first_x = textpage.get_charbox(text.index(first))[0]
        last_x = textpage.get_charbox(text.rindex(last))[0]
        assert first_x > last_x          # the first letter is the rightmost one


@pytest.mark.parametrize("text", ["Zoë (née) \\ back\\slash", "山田 太郎（様）(收)", "Ахмед (Фарид) Łódź",
                                  "a\rb", "Truck 🚚 ☃ 9", "Nguyễn Văn Ánh"])
@pytest.mark.parametrize("bold", [False, True])
def test_text_is_encoded_and_its_glyphs_numbered_as_fpdf2_would(tmp_path, text, bold):
    """The pen encodes a text character by character, each once: the "(...) Tj" strings and the
    glyph numbers of the fonts' subsets are what fpdf2's own encoding of each run gives."""
    fonts = font_set()
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    ours = TextPen(new_pdf(100, 150, fonts, set(text), tmp_path / "ours", ""), fonts)
    theirs = TextPen(new_pdf(100, 150, fonts, set(text), tmp_path / "theirs", ""), fonts)
    for _ in range(2):                         # the second time from what the pen remembers
        pieces = ours._text_pieces(text, bold)
        runs = fonts.runs(text)
        assert len(pieces) == len(runs)
        for (family, run), (_, encoded, _) in zip(runs, pieces):
            assert encoded == theirs._font(family, bold).encode_text(run)
        ours._pieces.clear()
    for family in {family for family, _ in fonts.runs(text)}:
        assert dict(ours._font(family, bold).subset.items()) == dict(theirs._font(family, bold).subset.items())


def test_arabic_is_shaped_into_joined_forms(tmp_path):
    """fpdf2's shaping output for the name uses other glyphs than the letters' own (isolated)
    ones, and is narrower than the isolated letters side by side."""
    name = "محمد أحمد"
    fonts = font_set()
    pdf = new_pdf(100, 150, fonts, set(name), tmp_path, "")
    pen = TextPen(pdf, fonts)
    pieces = pen._layout(name, False)
    font = pdf.fonts["arabic"]
    ids = {char_id for piece_font, glyphs, _ in pieces if piece_font is font for char_id, *_ in glyphs}
    by_id = {char_id: glyph for glyph, char_id in font.subset.items()}
    drawn = {by_id[i].glyph_name for i in ids}
    cmap = font.ttfont.getBestCmap()
    isolated = {cmap[ord(ch)] for ch in name if ch != " "}
    assert drawn - isolated, "no joined form was used"
    nominal = sum(font.cw[ord(ch)] for ch in name)
    shaped = sum(width for _, _, width in pieces)
    assert shaped != pytest.approx(nominal, abs=1)


def test_six_articles_are_declared_in_full_on_the_cn23_after_their_label(tmp_path):
    articles = tuple(CustomsItem(f"Article number {n}", n, 100 * n, Decimal("2.50") * n, "USD", "610910", "CN")
                     for n in range(1, 7))
    labels = [make(1, customs_items=articles), make(2, RECIPIENTS[3])]
    path = tmp_path / "cn23.pdf"
    assert render_labels(labels, path) == {}
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == 3                 # label, its CN 23, the next label
    label_text, cn23, after = (page_text(page) for page in pdf)
    assert "CUSTOMS DECLARATION CN 22" in label_text and "declared in full on the CN 23" in label_text
    assert "more" not in label_text
    assert "CN 23" in cn23
    for n in range(1, 7):
        assert f"{n} × Article number {n}" in cn23
    assert "Total: 6 articles, 21 pcs" in cn23 and "2100 g" in cn23 and "52.50 USD" in cn23
    assert "Sale of goods" in cn23 and "Date: 2026-11-01" in cn23 and "I certify" in cn23
    assert decode(pdf[1]) == [labels[0].tracking_number]
    assert decode(pdf[2]) == [labels[1].tracking_number]
    assert "2 / 2" in after


def test_customs_block_has_the_current_categories_certification_and_full_sender(scripts):
    labels, path, _ = scripts
    text = page_text(pdfium.PdfDocument(path)[0])
    for box in ("Gift", "Documents", "Commercial sample", "Returned goods", "Sale of goods", "Other"):
        assert box in text
    assert "I certify" in text and "Date: 2026-11-01" in text
    flat = " ".join(text.split())
    assert "From: " + SENDER + ", Tel +86 755 1234 5678" in flat       # wrapped, never cut
    assert "…" not in text


@pytest.mark.parametrize("bad", ["\U0010FFFD", "𓀀"])      # private use, Egyptian hieroglyph
def test_a_glyph_no_font_has_is_a_problem_for_that_label_only(tmp_path, bad):
    labels = [make(1, RECIPIENTS[3]), make(2, RECIPIENTS[6], recipient_name=f"김민수 {bad}"), make(3, RECIPIENTS[1])]
    path = tmp_path / "bad.pdf"
    problems = render_labels(labels, path)
    assert list(problems) == [labels[1].tracking_number]
    assert problems[labels[1].tracking_number][0].startswith(f"recipient_name: cannot print '{bad}'")
    pdf = pdfium.PdfDocument(path)
    assert [decode(page) for page in pdf] == [[data.tracking_number] for data in labels]


# --- thermal printers ----------------------------------------------------------------------

def zpl_bitmap(field) -> np.ndarray:
    """A ^GFA field's dots (True = printed), as the printer reads them."""
    kind, total, _, per_row, data = field.get("GF").split(",", 4)
    assert kind == "A"
    raw = bytes.fromhex(data)
    assert len(raw) == int(total) and int(total) % int(per_row) == 0
    return np.unpackbits(np.frombuffer(raw, np.uint8)).reshape(-1, int(per_row) * 8).astype(bool)


def ink(page, dpi: int = 203) -> np.ndarray:
    grey = page.render(scale=dpi / 72, grayscale=True, no_smoothtext=True).to_numpy()
    return grey.reshape(grey.shape[0], grey.shape[1]) < 128


def grown(dots: np.ndarray, by: int = 2) -> np.ndarray:
    """Each printed dot and its neighbours up to ``by`` dots away: rounding to whole dots moves ink."""
    padded = np.pad(dots, by)
    out = np.zeros_like(dots)
    h, w = dots.shape
    for dy in range(2 * by + 1):
        for dx in range(2 * by + 1):
            out |= padded[dy:dy + h, dx:dx + w]
    return out


@pytest.mark.parametrize("dpi", [203, 300])
def test_thermal_labels_print_every_script_as_the_pdf_label_draws_it(scripts, tmp_path, dpi):
    labels, pdf_path, _ = scripts
    path = tmp_path / "labels.zpl"
    assert render_zpl(labels, path, dpi=dpi) == {}
    zpl = parse_zpl(path.read_text(encoding="ascii"))
    pdf = pdfium.PdfDocument(pdf_path)
    assert len(zpl) == len(pdf) == len(labels)
    for z, page, data in zip(zpl, pdf, labels):
        check_zpl_label(z, "100x150", dpi, data.tracking_number)
        for text in z.texts:     # the printer's font 0 gets only the Latin letters it has
            text.encode("cp1252")
        lacking = [t for t in (data.recipient_name, *data.address_lines, data.city) if not t.isascii()]
        graphics = [f for f in z.fields if f.get("GF") is not None]
        assert len(graphics) >= len(lacking) > 0
        drawn = ink(page, dpi)
        for f in graphics:
            dots = zpl_bitmap(f)
            x, y = f.origin
            h, w = dots.shape
            assert dots.any() and y + h <= drawn.shape[0] and x + w <= drawn.shape[1] + 8
            pdf_part = drawn[y:y + h, x:x + w]
            dots = dots[:, :pdf_part.shape[1]]
            # The bitmap's dots are where the PDF label has ink, and the PDF label's ink there is in it.
            assert (dots & grown(pdf_part)).sum() >= 0.97 * dots.sum(), f"label {data.recipient_name}"
            assert (pdf_part & grown(dots)).sum() >= 0.97 * pdf_part.sum(), f"label {data.recipient_name}"


def test_latin_text_stays_printer_text_on_thermal_labels(tmp_path):
    """Names in code page 1252 use the printer's font (sharp at any size); the barcode is a barcode."""
    latin = make(1, ("François Müller", ("12 rue de l'Église",), "Saint-Étienne", "42000", "FR"),
                 items=(("TS-RED-M", 1, "Cotton T-shirt"),))
    path = tmp_path / "latin.zpl"
    assert render_zpl([latin], path) == {}
    [z] = parse_zpl(path.read_text(encoding="ascii"))
    assert [f for f in z.fields if f.get("GF") is not None] == []
    assert {"François Müller", "12 rue de l'Église", "42000 Saint-Étienne", "FRANCE"} <= set(z.texts)
