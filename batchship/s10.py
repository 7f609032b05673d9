"""UPU S10 item identifiers (e.g. RR123456785CN): structure and check digit."""
from __future__ import annotations

import re

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    total = sum(int(d) * w for d, w in zip(serial, _WEIGHTS))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)



def s10_problem(number: str, known_countries: frozenset[str] | set[str]) -> str:
    """Why an S10-shaped number is invalid, or "" when it is valid (service letters are not checked)."""
    m = _S10.match(number)
    if not m:
        return ""
    _, serial, check, country = m.groups()
    expected = s10_check_digit(serial)
    if int(check) != expected:
        return f"S10 check digit is {check}, expected {expected}"
    if country not in known_countries:
        return f"S10 country code {country} is not an ISO 3166 country"
    return ""
