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


def test_the_check_digit_is_the_weighted_sum_rule_for_any_serial():
    """8 6 4 2 3 5 9 7 weights, 11 minus the sum modulo 11, where 10 gives 0 and 11 gives 5; digits
    of other scripts count as their values, as the S10 pattern takes them."""
    from batchship.s10 import s10_check_digit

    def by_the_rule(serial: str) -> int:
        check = 11 - sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7))) % 11
        return {10: 0, 11: 5}.get(check, check)

    serials = [f"{n:08d}" for n in range(0, 10**8, 99_991)] + ["00000000", "99999999", "12345678", "٠١٢٣٤٥٦٧"]
    results = {s: s10_check_digit(s) for s in serials}
    assert results == {s: by_the_rule(s) for s in serials}
    assert {0, 5} <= set(results.values()) and s10_check_digit("12345678") == 5
    assert s10_problem("RR١٢٣٤٥٦٧٨٥CN", ISO2_CODES) == ""
