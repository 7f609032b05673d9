"""Which sheets of a workbook are read, and why no record may be on two of them.

Every visible sheet that a format claims is read, whatever the kind: people split
one count over a sheet per warehouse, or a day's orders over a sheet per shop, and
those sheets are combined (hidden sheets hold lookups and leftovers and are left
out, see identify.py). What they must not do is state one record twice: a sheet
copied in Excel ("Orders (2)") or a copy with a row added would count every order
or stock line twice. So each kind names the key its records are known by, and a
key found on two sheets rejects the file whole, naming both sheets and rows.
Repeats inside one sheet are the kind's own business (simple_kinds.UNIQUE_KEYS,
orders._duplicates): an order's lines share its key on one sheet.
"""
from __future__ import annotations

import pandas as pd

from ..errors import Problem
from ..schemas import KINDS, Action, BookingResult, Pairing, PoolNumber, RuleRow, ShipScan, Source
from .mapping import MappedSheet, header_of
from .orders import ORDER_KEY
from .simple_kinds import REQUIRED_VALUES, UNIQUE_KEYS, folded_keys

# kind -> (key columns, the record in words, the key columns shown in the message with their words)
SHEET_KEYS: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "orders": (ORDER_KEY, "order", {ORDER_KEY[-1]: "order"}),
    "stock": (UNIQUE_KEYS["stock"][0], "warehouse and SKU", REQUIRED_VALUES["stock"]),
    "products": (UNIQUE_KEYS["products"][0], "SKU", REQUIRED_VALUES["products"]),
    "tracking_pool": ([PoolNumber.tracking_number], "tracking number",
                      {PoolNumber.tracking_number: "tracking number"}),
    "ship_confirm": ([ShipScan.reference], "scanned number", {ShipScan.reference: "scan"}),
    "actions": ([Action.shop, Action.order_id], "order", {Action.order_id: "order"}),
    "pairing": ([Pairing.shop, Pairing.platform_sku], "platform SKU", {Pairing.platform_sku: "platform SKU"}),
    "booking_result": ([BookingResult.reference], "parcel", {BookingResult.reference: "reference"}),
    # Unnamed rules have no key: only a named rule on two sheets is caught.
    "rules": ([RuleRow.rule_type, "name"], "rule", {"name": "rule"}),
    "blacklist": (["field", "value"], "blacklist entry", {"value": "entry"}),
    # A receipt or adjustment copied onto a second sheet would be booked twice.
    "receipts": (["warehouse", "sku", "reference"], "receipt", {"sku": "SKU"}),
    "adjustments": (["warehouse", "sku", "reason"], "adjustment", {"sku": "SKU"}),
    "purchase_orders": (["po_number", "warehouse", "sku"], "purchase order line", {"sku": "SKU"}),
}
assert set(SHEET_KEYS) == set(KINDS)


def keys_on_two_sheets(kind: str, sheets: list[tuple[MappedSheet, pd.DataFrame]]) -> list[Problem]:
    """One Problem per key of a later sheet already held by an earlier one, at the
    key's first row on the later sheet and naming the earlier sheet's first row."""
    if len(sheets) < 2:
        return []
    key, noun, shown = SHEET_KEYS[kind]
    first_seen: dict[tuple, tuple[str, int]] = {}
    problems = []
    for mapped, frame in sheets:
        here: dict[tuple, int] = {}
        values = zip(*(frame[c] for c in shown))
        for folded, row, cells in zip(folded_keys(frame, key), frame[Source.row], values):
            if folded[-1] == "":              # reported as missing already
                continue
            if folded in here:
                continue                       # a repeat on one sheet: the kind's own check
            here[folded] = int(row)
            if folded not in first_seen:
                continue
            sheet, first_row = first_seen[folded]
            what = ", ".join(f"{label} {value.strip()}" for label, value in zip(shown.values(), cells))
            problems.append(Problem(
                f"sheet '{mapped.sheet_name}' row {int(row)} repeats sheet '{sheet}' row {first_row}: {what}; "
                f"each {noun} belongs on one sheet of the workbook (a copied sheet would count it twice)",
                sheet=mapped.sheet_name, row=int(row), column=header_of(mapped, key[-1]),
                value=str(cells[-1]).strip()))
        for folded, row in here.items():
            first_seen.setdefault(folded, (mapped.sheet_name, row))
    return problems
