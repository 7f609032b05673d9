"""UPU S10 tracking numbers: check digit and country."""
import pytest

from batchship.countries import ISO2_CODES
from batchship.s10 import s10_problem


@pytest.mark.parametrize("number", ["RB123456785GB", "RR123456785CN", "EV996103865CN", "WJ649270455GB",
                                    "LK274426961AU", "EE123456785CN"])
def test_valid_numbers_pass(number):
    assert s10_problem(number, ISO2_CODES) == ""


@pytest.mark.parametrize("number, words", [("RB123456786US", "check digit is 6, expected 5"),
                                           ("RB123456785XX", "country code XX"),
                                           ("WL123456789GB", "check digit")])
def test_invalid_numbers_say_why(number, words):
    assert words in s10_problem(number, ISO2_CODES)


def test_other_formats_are_taken_as_given():
    assert s10_problem("3A5V0010000000", ISO2_CODES) == ""
    assert s10_problem("YT2412345678901234", ISO2_CODES) == ""
