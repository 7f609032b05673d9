"""The forwarder's checks on one CreateOrder object: the first problem found, as (code, message)."""
from __future__ import annotations

import re

MAX_WEIGHT_KG = 30.0
KNOWN_METHODS = frozenset({"S1002", "S1003"})
KNOWN_METHOD_PREFIX = "S1"
# Countries whose addresses have no postcode: an empty Zip is accepted there.
NO_POSTCODE = frozenset({"HK", "MO", "AE", "QA"})

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def method_known(code: str) -> bool:
    return code in KNOWN_METHODS or code.startswith(KNOWN_METHOD_PREFIX)


def order_problem(order: dict) -> tuple[str, str] | None:
    """None when the forwarder accepts the order. Checked in this order: method, country,
    postcode, street/city, weight, parcels."""
    method = _text(order.get("ShippingMethodCode"))
    if not method_known(method):
        return "E1003", f"ShippingMethodCode {method!r} is unknown"
    receiver = order.get("Receiver")
    receiver = receiver if isinstance(receiver, dict) else {}
    country = _text(receiver.get("CountryCode"))
    if not _COUNTRY.match(country):
        return "E1004", f"Receiver country code {country!r} is not 2 letters"
    country = country.upper()
    postcode = _text(receiver.get("Zip"))
    if not postcode and country not in NO_POSTCODE:
        return "E1001", f"Receiver postcode is required for {country}"
    if country == "US" and not _US_ZIP.match(postcode):
        return "E1001", "Receiver postcode is invalid for US"
    if not _text(receiver.get("Street")) or not _text(receiver.get("City")):
        return "E1002", "Receiver street and city are required"
    weight = _number(order.get("Weight"))
    if weight is None or not 0 < weight <= MAX_WEIGHT_KG:
        return "E1005", f"Weight must be more than 0 and at most {MAX_WEIGHT_KG:g} kg"
    parcels = order.get("Parcels")
    if not isinstance(parcels, list) or not parcels:
        return "E1006", "Parcels must list at least one item"
    for parcel in parcels:
        quantity = _number(parcel.get("Quantity")) if isinstance(parcel, dict) else None
        if quantity is None or quantity < 1:
            return "E1006", "every parcel item needs a Quantity of at least 1"
    return None
