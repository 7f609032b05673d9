"""Cell-level parsing: ids, money, dates, quantities, headers, countries."""
from decimal import Decimal

import pytest

from batchship.countries import ISO2_CODES, to_iso2
from batchship.importers.normalize import (DAY_FIRST, MONTH_FIRST, clean_id, header_key, is_excel_error,
                                           money_text, pad_postcode, parse_datetime, parse_money,
                                           parse_whole, resolve_currency, slash_date_order)


@pytest.mark.parametrize("raw, clean", [
    ("583870900000000001\t", "583870900000000001"),
    ("'84403", "84403"),
    ("  '0123 ", "0123"),
    ("\ufeff#1058 ", "#1058"),
    ("123-4567890-1234567", "123-4567890-1234567"),
    ("\r\n''\t'A B-1'\x0b ", "A B-1'"),            # ASCII: inner spaces and a closing apostrophe kept
    ("ＡＢ１\u200b-2\u00ad ", "AB1-2"),           # full-width, zero-width space, soft hyphen
    ("\u00a0'SKU\u2060 9\u00a0", "SKU 9"),       # no-break spaces, word joiner
])
def test_ids_lose_tabs_spaces_and_leading_apostrophe(raw, clean):
    assert clean_id(raw) == clean


@pytest.mark.parametrize("text, amount, marker", [
    ("$45.99", "45.99", "$"),
    ("EUR 90,00", "90.00", "EUR"),
    ("1 234,50 €", "1234.50", "EUR"),
    ("1\u00a0234,50 €", "1234.50", "EUR"),
    ("AU $3,000.00", "3000.00", "AUD"),
    ("US $1,234.56", "1234.56", "USD"),
    ("¥1,200", "1200", "¥"),
    ("£3.50", "3.50", "GBP"),
    ("R$ 10,50", "10.50", "BRL"),
    ("C $12.00", "12.00", "CAD"),
    ("1.234,56", "1234.56", ""),
    ("1,234,567.89", "1234567.89", ""),
    ("0,50", "0.50", ""),
    ("12", "12", ""),
    ("12.50 USD", "12.50", "USD"),
    ("-5.00", "-5.00", ""),
    ("(3.00)", "-3.00", ""),
])
def test_money_is_parsed_exactly(text, amount, marker):
    value, found = parse_money(text)
    assert value == Decimal(amount) and money_text(value) == amount
    assert found == marker


@pytest.mark.parametrize("text", ["abc", "12 EUR 13", "1.2.3,4,5x", "€", "ABCD 12"])
def test_not_money_is_refused(text):
    with pytest.raises(ValueError, match="not a money amount"):
        parse_money(text)


def test_currency_comes_from_the_cell_else_the_order_column_else_the_symbol():
    assert resolve_currency("EUR", "USD", "") == "EUR"        # the cell says it
    assert resolve_currency("$", "cad", "") == "CAD"          # "$" is the order's dollar
    assert resolve_currency("$", "", "") == "USD"
    assert resolve_currency("¥", "", "") == "JPY"
    assert resolve_currency("", "", "USD") == "USD"           # template default (Walmart)
    assert resolve_currency("", "", "") == ""


@pytest.mark.parametrize("text, utc", [
    ("2026-04-05 21:06:21 +0400", "2026-04-05T17:06:21Z"),
    ("2009-01-01T10:50:49-08:00", "2009-01-01T18:50:49Z"),
    ("Sep-08-26", "2026-09-08T00:00:00Z"),
    ("26-May-26", "2026-05-26T00:00:00Z"),
    ("05/04/2026", "2026-04-05T00:00:00Z"),                 # dd/MM/yyyy
    ("04/05/2026 09:06:21 PM", "2026-04-05T21:06:21Z"),    # MM/dd/yyyy hh:mm:ss AM
    ("2026-04-05 21:06", "2026-04-05T21:06:00Z"),
    ("2026-04-05 21:06:21", "2026-04-05T21:06:21Z"),       # Excel cell text
    ("2026-04-05T21:06:21Z", "2026-04-05T21:06:21Z"),
    ("Sep-08-26 10:00:00 PDT", "2026-09-08T17:00:00Z"),
    ("05/04/2026 21:06:21\t", "2026-04-05T21:06:21Z"),     # TikTok trailing tab
    ("", ""),
])
def test_dates_become_utc(text, utc):
    assert parse_datetime(text) == utc


def test_naive_times_use_the_template_timezone():
    assert parse_datetime("2026-04-05 21:06", (), "Asia/Shanghai") == "2026-04-05T13:06:00Z"
    # an explicit offset wins over the template's zone
    assert parse_datetime("2026-04-05 21:06:21 +0000", (), "Asia/Shanghai") == "2026-04-05T21:06:21Z"


def test_template_date_formats_are_tried_first():
    # 04/05/2026 is 4 May when the template says month first
    assert parse_datetime("04/05/2026", ("%m/%d/%Y",)) == "2026-04-05T00:00:00Z"
    assert parse_datetime("04/05/2026") == "2026-05-04T00:00:00Z"


def test_unknown_date_is_refused():
    with pytest.raises(ValueError, match="date"):
        parse_datetime("yesterday")


@pytest.mark.parametrize("text, qty", [("1", 1), ("12", 12), ("3.0", 3), (" 2 ", 2)])
def test_quantities(text, qty):
    assert parse_whole(text, minimum=1, what="quantity") == qty


@pytest.mark.parametrize("text", ["0", "-2", "1.5", "", "two", "1,000"])
def test_bad_quantities(text):
    with pytest.raises(ValueError, match="quantity must be a whole number greater than 0"):
        parse_whole(text, minimum=1, what="quantity")


def test_header_keys_ignore_case_spaces_bom_and_required_star():
    assert header_key("\ufeffOrder ID") == header_key("order id")
    assert header_key("Tracking Number*") == header_key("tracking  number")
    assert header_key("  Lineitem\tsku ") == "lineitem sku"
    assert header_key("重量（g）") == header_key("重量(g)")


def test_excel_errors():
    assert is_excel_error("#N/A") and is_excel_error(" #ref! ")
    assert not is_excel_error("#1058")


@pytest.mark.parametrize("text, iso", [
    ("US", "US"), ("usa", "US"), ("United States", "US"), ("United States of America", "US"),
    ("GBR", "GB"), ("United Kingdom", "GB"), ("UK", "GB"), ("Deutschland", "DE"),
    ("美国", "US"), ("英国", "GB"), ("德国", "DE"), ("法国", "FR"), ("日本", "JP"),
    ("加拿大", "CA"), ("澳大利亚", "AU"), ("Korea, Republic of", "KR"), ("Viet Nam", "VN"),
    ("Côte d'Ivoire", "CI"), (" br ", "BR"),
])
def test_countries_become_iso2(text, iso):
    assert to_iso2(text) == iso


def test_unknown_country_is_kept_for_review():
    assert to_iso2("Atlantis ") == "Atlantis"
    assert to_iso2("") == ""


def test_country_table_is_complete():
    assert len(ISO2_CODES) == 249
    assert {"US", "GB", "CN", "SS", "XK"} & ISO2_CODES == {"US", "GB", "CN", "SS"}


@pytest.mark.parametrize("text, known, amount", [
    ("IDR 150.000", "", "150000"),
    ("VND 120.000", "", "120000"),
    ("IDR 1.500.000", "", "1500000"),
    ("Rp150.000", "", "150000"),
    ("₫120.000", "", "120000"),
    ("150.000", "IDR", "150000"),          # the order's currency says
    ("1,500", "JPY", "1500"),
    ("¥1.500", "", "1500"),                # ¥ alone is the yen
    ("¥1.500", "CNY", "1.500"),            # ... unless the order is in yuan
    ("12.50", "JPY", "12.50"),             # two decimals are not a group
    ("150.000", "USD", "150.000"),
    ("150.000", "", "150.000"),
])
def test_currencies_without_minor_units_group_thousands_with_one_separator(text, known, amount):
    assert money_text(parse_money(text, known)[0]) == amount


@pytest.mark.parametrize("postcode, country, padded", [
    ("2134", "US", "02134"), ("601", "US", "00601"), ("2134-1234", "US", "02134-1234"),
    ("1067", "DE", "01067"), ("1000", "FR", "01000"), ("800", "AT", "0800"), ("60000", "JP", "0060000"),
    ("1310100", "BR", "01310100"), ("10001", "US", "10001"), ("2134", "GB", "2134"), ("2134", "", "2134"),
    ("SW1A 1AA", "GB", "SW1A 1AA"), ("", "US", ""), ("K1A", "CA", "K1A"), ("123-4567", "JP", "123-4567"),
])
def test_postcodes_get_back_the_zeros_a_number_cell_dropped(postcode, country, padded):
    assert pad_postcode(postcode, country) == padded


@pytest.mark.parametrize("text, order", [
    ("25/04/2026", DAY_FIRST), ("4/25/2026 21:06", MONTH_FIRST), ("04/05/2026", ""),
    ("2026/04/25", ""), ("13/13/2026", ""), ("Sep-08-26", ""),
])
def test_slash_dates_that_tell_their_order(text, order):
    assert slash_date_order(text) == order


def test_slash_order_decides_ambiguous_dates():
    assert parse_datetime("4/5/2026 21:06", (), "", MONTH_FIRST) == "2026-04-05T21:06:00Z"
    assert parse_datetime("4/5/2026 21:06", (), "", DAY_FIRST) == "2026-05-04T21:06:00Z"
    assert parse_datetime("04/05/2026 09:06:21 PM", (), "", DAY_FIRST) == "2026-05-04T21:06:21Z"
    # a template format of the other order is not used either
    assert parse_datetime("04/05/2026", ("%m/%d/%Y",), "", DAY_FIRST) == "2026-05-04T00:00:00Z"
    assert parse_datetime("4/25/2026") == "2026-04-25T00:00:00Z"    # unambiguous: read, not refused
    with pytest.raises(ValueError):
        parse_datetime("4/25/2026", (), "", DAY_FIRST)


@pytest.mark.parametrize("text, iso", [
    ("Royaume-Uni", "GB"), ("États-Unis", "US"), ("Etats-Unis", "US"), ("Allemagne", "DE"),
    ("Italie", "IT"), ("Espagne", "ES"), ("Belgique", "BE"), ("Suisse", "CH"), ("Pays-Bas", "NL"),
    ("Autriche", "AT"), ("Corée du Sud", "KR"), ("Cote d'Ivoire", "CI"),
])
def test_french_country_names(text, iso):
    assert to_iso2(text) == iso
