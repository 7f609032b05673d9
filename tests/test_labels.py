"""Label PDFs as a warehouse would check them: scan every barcode, read every name."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fontTools import ttLib
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from batchship.writers import barcode128
from batchship.writers.fonts import BOLD, REGULAR, noto_sans_path, static_instance
from batchship.writers.labels import LAYOUTS, SHEETS, CustomsItem, LabelData, module_width, render_labels

MM = 72 / 25.4
TSHIRT = CustomsItem("Cotton T-shirt", 2, 450, Decimal("24.90"), "USD", "610910", "CN")
MUG = CustomsItem("Ceramic mug", 1, 150, Decimal("5.10"), "USD", "691200", "CN")

RECIPIENTS = [
    ("Łukasz Wiśniewski", ("ul. Marszałkowska 12/5",), "Warszawa", "", "00-624", "PL"),
    ("Nguyễn Văn Ấn", ("Số 123 Đường Lê Lợi", "Phường Bến Thành"), "Hồ Chí Minh", "", "700000", "VN"),
    ("Дмитрий Смирнов", ("ул. Тверская, д. 7, кв. 12",), "Москва", "", "125009", "RU"),
    ("Σοφία Παπαδοπούλου", ("Οδός Ερμού 25",), "Αθήνα", "", "105 63", "GR"),
    ("Zoë Ångström-Øster", ("Storgatan 1",), "Göteborg", "", "411 38", "SE"),
    ("François Müller", ("12 rue de l'Église", "Bâtiment C, 3ème étage"), "Saint-Étienne", "", "42000", "FR"),
    ("José Ñúñez", ("Calle de Alcalá 45",), "Madrid", "Madrid", "28014", "ES"),
    ("Ayşe Yılmaz", ("İstiklal Caddesi No: 10",), "İstanbul", "", "34430", "TR"),
    ("John O'Brien", ("1600 Pennsylvania Avenue NW",), "Washington", "DC", "20500", "US"),
    ("Mary-Jane Watson", ("20 Ingram Street", "Apt 5B"), "Forest Hills", "NY", "11375", "US"),
    ("Bartholomew Alexander Worthington-Smythe III",
     ("Flat 14, The Very Long Named Residential Building of Kensington Gardens and Palace Green, "
      "Upper Floor Rear Entrance Past The Courtyard Gate, Buzzer Number 4711",
      "Care of the Concierge Desk, Second Building On The Left After The Fountain",
      "Third address line that should be squeezed", "Fourth address line"),
     "Royal Borough of Kensington and Chelsea", "Greater London", "W8 4PX", "GB"),
    ("Hans Schmidt", ("Hauptstraße 1",), "München", "Bayern", "80331", "DE"),
    ("Ольга Іваненко", ("вул. Хрещатик, 22",), "Київ", "", "01001", "UA"),
    ("Trần Thị Hồng Nhung", ("Tầng 5, Tòa nhà Bitexco",), "Hà Nội", "", "100000", "VN"),
    ("Małgorzata Żółkiewska", ("ul. Źródlana 3",), "Łódź", "", "90-001", "PL"),
    ("Jiří Dvořák", ("Náměstí Míru 9",), "Praha", "", "120 00", "CZ"),
    ("Γιώργος Νικολάου", ("Λεωφόρος Αλεξάνδρας 2",), "Θεσσαλονίκη", "", "546 21", "GR"),
    ("Anna Kowalczyk", ("ul. Długa 1",), "Gdańsk", "", "80-827", "PL"),
]


def label(i: int, recipient=RECIPIENTS[0], **changes) -> LabelData:
    name, address, city, state, postcode, country = recipient
    data = dict(
        tracking_number=f"LX{300000000 + i * 7919:09d}CN" if i % 3 else f"9400{111899223344556677 + i}",
        channel="YunExpress Global Direct", order_ref=f"amazon-de / 305-1234567-{i:07d}",
        recipient_name=name, address_lines=address, city=city, state=state, postcode=postcode,
        country=country, phone="+48 601 234 567", items=(("TS-RED-M", 2), ("MUG-WHITE", 1)),
        customs_category="Gift", customs_items=(TSHIRT, MUG),
        sender="Shenzhen Example Trading Co., Longhua, Shenzhen 518000 CN",
    )
    data.update(changes)
    return LabelData(**data)


def decode(page) -> list[str]:
    image = page.render(scale=203 / 72).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.Code128]


def page_text(page) -> str:
    return page.get_textpage().get_text_range()


def make_cjk_font(path: Path, chars: str) -> Path:
    """A tiny TrueType font whose glyphs are squares, standing in for a real CJK font."""
    names = [".notdef"] + [f"uni{ord(c):04X}" for c in chars]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in chars})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 800))
        pen.lineTo((900, 800))
        pen.lineTo((900, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "TestCJK", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


# --- Code 128 -----------------------------------------------------------------------------

def test_code128_known_encodings_with_check_symbols():
    # Start B, P J J 1 2 3 C: weighted sum 879, 879 mod 103 = 55.
    assert barcode128.encode("PJJ123C") == [104, 48, 42, 42, 17, 18, 19, 35, 55, 106]
    # All digits, even count: start C, pairs 12 34; (105 + 12 + 2*34) mod 103 = 82.
    assert barcode128.encode("1234") == [105, 12, 34, 82, 106]
    # Letters then a digit run: B for "AB", code C (99) for the pairs; sum 1602 mod 103 = 57.
    assert barcode128.encode("AB12345678") == [104, 33, 34, 99, 12, 34, 56, 78, 57, 106]
    # Three digits stay in B: switching would not save a symbol.
    assert barcode128.encode("123") == [104, 17, 18, 19, 8, 106]


def test_code128_uses_code_c_for_digit_runs_to_stay_short():
    symbols = barcode128.encode("LX123456789CN")
    assert len(symbols) == 14          # 11 data symbols instead of 13 in code set B alone
    assert barcode128.CODE_C in symbols and barcode128.CODE_B in symbols


def test_code128_pattern_table_is_well_formed():
    assert len(barcode128.PATTERNS) == 107 == len(set(barcode128.PATTERNS))
    assert all(sum(map(int, p)) == 11 for p in barcode128.PATTERNS[:106])
    assert sum(map(int, barcode128.PATTERNS[106])) == 13
    bars = barcode128.modules("1234")
    # quiet zone, 4 symbols of 11, stop of 13, quiet zone
    assert bars.total_modules == 10 + 4 * 11 + 13 + 10
    assert bars.bars[0][0] == 10


def test_code128_refuses_text_outside_printable_ascii():
    with pytest.raises(barcode128.NotEncodable):
        barcode128.encode("LX12345678ÄN")


def test_module_width_prefers_whole_printer_dots_of_at_least_a_quarter_millimetre():
    assert module_width(187, 94) == pytest.approx(0.5, abs=0.01)       # 4 dots
    assert module_width(300, 94) == pytest.approx(0.25, abs=0.01)      # 2 dots
    assert module_width(500, 94) == pytest.approx(94 / 500)            # only when it must


# --- fonts --------------------------------------------------------------------------------

def test_bold_instance_of_the_variable_font_is_static_and_heavier(tmp_path):
    chars = {ord(c) for c in "Łukasz"}
    regular = ttLib.TTFont(static_instance(noto_sans_path(), chars, REGULAR, tmp_path / "r.ttf"))
    bold = ttLib.TTFont(static_instance(noto_sans_path(), chars, BOLD, tmp_path / "b.ttf"))
    assert "fvar" not in regular and "gvar" not in bold
    glyph = regular.getBestCmap()[ord("k")]
    assert bold["hmtx"][glyph][0] > regular["hmtx"][glyph][0]


# --- label PDFs ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("labels")
    big = [label(i, RECIPIENTS[i]) for i in range(len(RECIPIENTS))]
    small = [label(100 + i, RECIPIENTS[i]) for i in (0, 1, 2, 3, 10)]
    results = {}
    for size, labels in (("100x150", big), ("100x100", small)):
        path = out / f"labels-{size}.pdf"
        problems = render_labels(labels, path, size=size)
        results[size] = (labels, path, problems)
    return results


@pytest.mark.parametrize("size,height_mm", [("100x150", 150), ("100x100", 100)])
def test_every_page_scans_to_its_tracking_number(rendered, size, height_mm):
    labels, path, problems = rendered[size]
    assert problems == {}
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == len(labels)
    for page, data in zip(pdf, labels):
        assert page.get_size() == pytest.approx((100 * MM, height_mm * MM), abs=0.05)
        assert decode(page) == [data.tracking_number]


@pytest.mark.parametrize("size", ["100x150", "100x100"])
def test_recipient_names_print_as_real_text(rendered, size):
    labels, path, _ = rendered[size]
    pdf = pdfium.PdfDocument(path)
    for page, data in zip(pdf, labels):
        text = page_text(page)
        if len(data.recipient_name) < 30:      # long names are shortened on purpose
            assert data.recipient_name in text.splitlines()
        assert "?" not in text
        assert data.tracking_number in text
        assert data.country in text


def test_everything_drawn_stays_on_the_page(rendered):
    for labels, path, _ in rendered.values():
        pdf = pdfium.PdfDocument(path)
        for page in pdf:
            width, height = page.get_size()
            for obj in page.get_objects():
                left, bottom, right, top = obj.get_bounds()
                assert left >= 0 and bottom >= 0 and right <= width and top <= height


def test_long_recipient_is_shortened_not_lost(rendered):
    labels, path, _ = rendered["100x150"]
    text = page_text(pdfium.PdfDocument(path)[10])
    assert "Bartholomew Alexander Worthington" in text
    assert "…" in text                          # cut visibly, never silently
    assert "W8 4PX" in text                      # the postcode line survives long address lines


def test_customs_block_and_items(rendered):
    labels, path, _ = rendered["100x150"]
    text = page_text(pdfium.PdfDocument(path)[0])
    for expected in ("CUSTOMS DECLARATION CN 22", "Gift", "2 × Cotton T-shirt", "610910", "450 g",
                     "24.90 USD", "600 g", "30.00 USD", "From: Shenzhen Example Trading Co.",
                     "TS-RED-M × 2", "MUG-WHITE × 1", "ITEMS (3 pcs)", "YunExpress Global Direct",
                     "amazon-de / 305-1234567-0000000"):
        assert expected in text, expected


@pytest.mark.parametrize("size", ["100x150", "A4x4"])
def test_each_label_shows_its_own_country_articles_and_totals(tmp_path, size):
    # Parts that recur from label to label are drawn once and copied: every copy must land in its
    # own label's box and say what that label's parcel holds, in any order and place on a sheet.
    combos = [(TSHIRT, MUG), (TSHIRT,), (MUG, TSHIRT), (TSHIRT, MUG), (MUG,), (TSHIRT,)]
    recipients = [RECIPIENTS[i] for i in (0, 2, 8, 0, 11, 2)]
    labels = [label(i, recipient, customs_items=combo)
              for i, (recipient, combo) in enumerate(zip(recipients, combos))]
    path = tmp_path / "labels.pdf"
    assert render_labels(labels, path, size=size) == {}
    pdf = pdfium.PdfDocument(path)
    lay, sheet = LAYOUTS[size], SHEETS[size]
    for n, data in enumerate(labels):
        page = pdf[n // len(sheet.slots)]
        left, top = sheet.slots[n % len(sheet.slots)]

        def text_in(x0, y0, x1, y1):       # mm from the page's top-left corner
            return page.get_textpage().get_text_bounded((left + x0) * MM, (sheet.height - top - y1) * MM,
                                                        (left + x1) * MM, (sheet.height - top - y0) * MM)

        box_right = lay.width - lay.margin
        assert text_in(box_right - lay.country_box_w, lay.margin, box_right,
                       lay.margin + lay.header_h).strip() == data.country
        text = text_in(0, 0, lay.width, lay.height)
        assert data.order_ref in text and f"{n + 1} / {len(labels)}" in text
        for article in (TSHIRT, MUG):
            line = (f"{article.quantity} × {article.description} {article.hs_code} {article.origin} "
                    f"{article.weight_g} g {article.value:.2f} USD")
            assert (line in text) == (article in data.customs_items), (n, line)
        pieces = sum(a.quantity for a in data.customs_items)
        weight = sum(a.weight_g for a in data.customs_items)
        value = sum(a.value for a in data.customs_items)
        assert (f"Total: {len(data.customs_items)} articles, {pieces} pcs {weight} g {value:.2f} USD"
                in text), n
        assert text.count("CUSTOMS DECLARATION CN 22") == 1 and text.count("From: Shenzhen") == 1


def test_what_recurs_from_label_to_label_is_stored_once(tmp_path):
    # The CN 22's head and foot are the same on most labels and stored once: each further label of
    # a file costs its own text, its barcode and the smaller recurring parts, about 1,260 bytes
    # against 1,800 when every label carried the whole drawing.
    def size(n: int) -> int:
        path = tmp_path / f"labels-{n}.pdf"
        assert render_labels([label(i, RECIPIENTS[i % len(RECIPIENTS)]) for i in range(n)], path, workers=1) == {}
        assert len(pdfium.PdfDocument(path)) == n
        return path.stat().st_size

    assert (size(300) - size(100)) / 200 < 1_500


def test_too_many_skus_and_articles_continue_on_a_cn23_page(tmp_path):
    # Was "+N more": a customs declaration must declare every article, so the rest now goes
    # on a CN 23 continuation page right after the label, with every item to pack.
    items = tuple((f"SKU-{n:03d}", 1) for n in range(60))
    articles = tuple(CustomsItem(f"Article {n}", 1, 10, Decimal("1.00"), "EUR", "1234", "CN") for n in range(9))
    path = tmp_path / "many.pdf"
    render_labels([label(1, items=items, customs_items=articles, customs_category="Sale of goods")], path)
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) >= 2                                   # 60 items take more than one page
    text = page_text(pdf[0])
    assert "SKU-000 × 1" in text and "SKU-059 × 1" not in text
    assert "Items " in text and ": next page" in text and "more (" not in text
    assert "Articles 4–9: declared in full on the CN 23 attached" in text
    assert "90 g" in text and "9.00 EUR" in text           # totals still cover all 9 articles
    assert "Other: Sale of goods" not in text              # its own box on the current form
    assert decode(pdf[0]) == ["LX300007919CN"]
    rest = "\n".join(page_text(page) for page in list(pdf)[1:])
    assert all(f"1 × Article {n}" in rest for n in range(9))
    assert all(f"SKU-{n:03d} × 1" in rest for n in range(60))
    for page in list(pdf)[1:]:
        assert "CN 23" in page_text(page) and decode(page) == ["LX300007919CN"]


def test_text_no_bundled_font_has_is_a_problem_for_that_label_only(tmp_path):
    # Chinese now prints with the bundled Noto Sans CJK; Egyptian hieroglyphs have no font here.
    labels = [label(1, RECIPIENTS[0]), label(2, RECIPIENTS[1], recipient_name="𓀀𓁐𓃒"), label(4, RECIPIENTS[2])]
    path = tmp_path / "labels.pdf"
    problems = render_labels(labels, path)
    assert problems == {labels[1].tracking_number: [
        "recipient_name: cannot print '𓀀', '𓁐', '𓃒' with the configured fonts "
        "(no bundled font has it; labels.cjk_font can add one)"]}
    pdf = pdfium.PdfDocument(path)
    assert len(pdf) == 3
    text = page_text(pdf[1])
    assert "?" not in text and "Số 123 Đường Lê Lợi" in text
    assert decode(pdf[1]) == [labels[1].tracking_number]


def test_single_missing_glyph_message_names_it(tmp_path):
    problems = render_labels([label(1, recipient_name="𓀀")], tmp_path / "one.pdf")
    assert problems == {label(1).tracking_number: [
        "recipient_name: cannot print '𓀀' with the configured fonts (no bundled font has it; "
        "labels.cjk_font can add one)"]}


def test_cjk_font_prints_what_noto_sans_lacks(tmp_path):
    font = make_cjk_font(tmp_path / "cjk.ttf", "王小明云途")
    labels = [label(1, recipient_name="王小明 (Wang)", channel="云途 Express"), label(2, RECIPIENTS[1])]
    path = tmp_path / "labels.pdf"
    assert render_labels(labels, path, cjk_font=str(font)) == {}
    pdf = pdfium.PdfDocument(path)
    assert "王小明 (Wang)" in page_text(pdf[0]).splitlines()
    # Runs in different fonts sit side by side, not on top of each other.
    textpage = pdf[0].get_textpage()
    start = page_text(pdf[0]).index("王小明 (Wang)")
    boxes = [textpage.get_charbox(i) for i in range(start, start + len("王小明 (Wang)"))]
    assert all(nxt[0] >= prev[2] - 0.2 for prev, nxt in zip(boxes, boxes[1:]))
    assert "云途 Express" in page_text(pdf[0])
    assert "Nguyễn Văn Ấn" in page_text(pdf[1])
    assert decode(pdf[0]) == [labels[0].tracking_number]
    # A character neither font has is still reported, naming the configured font.
    problems = render_labels([label(3, recipient_name="王 𓀀")], path, cjk_font=str(font))
    assert problems[label(3).tracking_number] == [
        "recipient_name: cannot print '𓀀' with the configured fonts (neither the bundled fonts nor cjk.ttf has it)"]


def test_tracking_number_code128_cannot_carry_is_reported(tmp_path):
    path = tmp_path / "labels.pdf"
    problems = render_labels([label(1, tracking_number="LX12345678Ä")], path)
    assert list(problems) == ["LX12345678Ä"]
    assert problems["LX12345678Ä"][0].startswith("tracking_number: cannot encode 'Ä'")
    assert "LX12345678Ä" in page_text(pdfium.PdfDocument(path)[0])


def test_output_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "labels.pdf"
    path.write_bytes(b"old")
    render_labels([label(1)], path)
    assert path.read_bytes().startswith(b"%PDF")
    assert not path.with_suffix(".tmp").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["labels.pdf"]


def test_bad_size_and_empty_batch_are_refused(tmp_path):
    with pytest.raises(ValueError, match="100x150"):
        render_labels([label(1)], tmp_path / "x.pdf", size="A5")
    with pytest.raises(ValueError):
        render_labels([], tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_sparse_label_still_renders_and_scans(tmp_path):
    path = tmp_path / "sparse.pdf"
    sparse = LabelData(tracking_number="1234567890", channel="", order_ref="", recipient_name="Ann",
                       address_lines=(), city="", state="", postcode="", country="DE", phone="",
                       items=(), customs_category="", customs_items=())
    assert render_labels([sparse], path, size="100x100") == {}
    page = pdfium.PdfDocument(path)[0]
    assert decode(page) == ["1234567890"]
    assert "Ann" in page_text(page).splitlines()


def test_missing_cjk_font_file_is_a_config_error(tmp_path):
    from batchship.errors import ConfigError
    with pytest.raises(ConfigError, match="cjk_font"):
        render_labels([label(1)], tmp_path / "x.pdf", cjk_font=str(tmp_path / "nope.ttf"))
