"""The built-in postcode check: required or not, and the format, from Google's address data."""
import pandas as pd
import pytest

from batchship.config import ReviewChecks
from batchship.postcodes import postcode_reasons, requires_postcode, rule_for
from batchship.stages.review import builtin_reasons


@pytest.mark.parametrize("country", ["EG", "AE", "HK", "IE", "MO", "QA"])
def test_countries_whose_addresses_need_no_postcode(country):
    assert not requires_postcode(country)


@pytest.mark.parametrize("country", ["US", "GB", "DE", "FR", "CN", "JP", "CA", "NL", "BR", "AU"])
def test_countries_that_need_one(country):
    assert requires_postcode(country)


def test_text_that_is_no_code_has_no_rule():
    assert rule_for("Atlantis") == rule_for("") == rule_for("ZZ")
    assert not rule_for("Atlantis").required and rule_for("Atlantis").pattern is None


@pytest.mark.parametrize("country, postcode", [
    ("US", "62704"), ("US", "62704-1234"), ("GB", "SW1A 1AA"), ("GB", "sw1a1aa"), ("GB", " NW1  6XE "),
    ("CA", "k1a 0b1"), ("NL", "1234ab"), ("JP", "100-0001"), ("JP", "1000001"), ("DE", "01067"),
    ("IE", "D02 X285"), ("EG", "11599"), ("BR", "01310-100"),
])
def test_postcodes_that_fit_are_not_held(country, postcode):
    assert postcode_reasons(pd.Series([country]), pd.Series([postcode])).tolist() == [""]


def test_a_postcode_that_does_not_fit_is_held_with_a_clear_reason():
    out = postcode_reasons(pd.Series(["GB", "US", "EG"]), pd.Series(["1234", "SW1A 1AA", "ABC"]))
    assert out[0].startswith("postcode 1234 does not look like a GB postcode")
    assert out[1].startswith("postcode SW1A 1AA does not look like a US postcode")
    assert out[2].startswith("postcode ABC does not look like a EG postcode")


def test_missing_postcodes_only_where_the_country_needs_one():
    out = postcode_reasons(pd.Series(["US", "EG", "AE", "HK", "IE", "Atlantis"]), pd.Series([""] * 6))
    assert out.tolist() == ["postcode missing", "", "", "", "", ""]


def test_rules_are_looked_up_once_per_country():
    rule_for.cache_clear()
    n = 2000
    postcode_reasons(pd.Series(["US", "GB"] * n), pd.Series(["62704", "SW1A 1AA"] * n))
    assert rule_for.cache_info().currsize == 2


def _orders(**cols):
    base = {"recipient_name": "A", "address1": "1 Road", "city": "Town", "country": "GB", "postcode": "SW1A 1AA",
            "shop": "s", "order_id": "1"}
    base.update(cols)
    return pd.DataFrame([base])


def test_the_check_can_be_switched_off():
    lines = pd.DataFrame(columns=["shop", "order_id", "sku", "quantity", "line_no"])
    bad = _orders(postcode="1234")
    on = builtin_reasons(bad, lines, frozenset({"GB"}), ReviewChecks(lines=False))
    off = builtin_reasons(bad, lines, frozenset({"GB"}), ReviewChecks(lines=False, postcode=False))
    assert "does not look like a GB postcode" in on.iloc[0]
    assert off.iloc[0] == ""
    egypt = builtin_reasons(_orders(country="EG", postcode=""), lines, frozenset({"EG"}), ReviewChecks(lines=False))
    assert egypt.iloc[0] == ""
