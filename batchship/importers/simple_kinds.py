"""The one-row-per-record kinds: stock, products, tracking pool, ship scans, pairing, actions."""
from __future__ import annotations

import pandas as pd

from ..countries import to_iso2
from ..errors import Problem
from ..errors import ConfigError
from ..rules.model import SETTINGS, TYPE_WORDS, rule_from_table, setting_error
from ..verbs import all_shown, word_table
from ..schemas import (ADJUSTMENT_REASONS, KINDS, Action, Adjustment, BlacklistEntry, BookingResult, Pairing,
                       PoolNumber, Product, PurchaseOrderLine, Receipt, RuleRow, ShipScan, Source, Stock)
from .limits import ADJUSTED, LEAD_DAYS, ON_HAND, WINDOW_DAYS, PAIRED_UNITS, RECEIVED, WEIGHT_G
from .mapping import MappedSheet, apply_fallbacks, distinct_map, header_of, problems_where
from .normalize import header_key
from .values import currencies, datetimes, money, whole_numbers

# Values without which a row means nothing, per kind (column -> words for the message).
REQUIRED_VALUES = {
    "stock": {Stock.warehouse: "warehouse", Stock.sku: "SKU"},
    "products": {Product.sku: "SKU"},
    "tracking_pool": {PoolNumber.channel: "channel", PoolNumber.tracking_number: "tracking number"},
    "ship_confirm": {ShipScan.reference: "tracking number or order id"},
    "pairing": {Pairing.platform_sku: "platform SKU", Pairing.sku: "warehouse SKU"},
    "actions": {Action.order_id: "order id"},
    "booking_result": {BookingResult.reference: "reference (customer order number)"},
    "rules": {RuleRow.rule_type: "rule type (review or logistics)"},
    "blacklist": {BlacklistEntry.field: "what it is (name, email, phone or address)",
                  BlacklistEntry.value: "value"},
    "receipts": {Receipt.warehouse: "warehouse", Receipt.sku: "SKU"},
    "purchase_orders": {PurchaseOrderLine.po_number: "purchase order number", PurchaseOrderLine.warehouse: "warehouse",
                        PurchaseOrderLine.sku: "SKU"},
    "adjustments": {Adjustment.warehouse: "warehouse", Adjustment.sku: "SKU",
                    Adjustment.reason: "reason (damaged, lost, found or returned)"},
}
# Kinds that state one value per key: a key listed twice would count twice, or let one row win unseen.
UNIQUE_KEYS = {
    "stock": ([Stock.warehouse, Stock.sku], "a count lists each warehouse and SKU once; stock is kept per "
                                            "warehouse and SKU, whatever the shelf"),
    "products": ([Product.sku], "the product list names each SKU once"),
    "pairing": ([Pairing.shop, Pairing.platform_sku, Pairing.sku],
                "a pairing names each warehouse SKU of a platform SKU once, with its quantity"),
    "blacklist": ([BlacklistEntry.field, BlacklistEntry.value], "a blacklist names each entry once"),
    "actions": ([Action.shop, Action.order_id], "a decision sheet names each order once, or two decisions "
                                                "would contradict each other"),
    "booking_result": ([BookingResult.reference], "a result sheet answers for each parcel once"),
    "purchase_orders": ([PurchaseOrderLine.po_number, PurchaseOrderLine.warehouse, PurchaseOrderLine.sku],
                        "a purchase order names each SKU for a warehouse once, with its quantity"),
}
# Key columns a sheet may leave blank: no shop means every shop (pairing) or the only shop
# holding that order id (actions).
BLANK_MEANS_ANY = {Pairing.shop}
BLACKLIST_WORDS = {"name": "name", "buyer": "name", "姓名": "name", "买家": "name", "email": "email",
                   "e-mail": "email", "邮箱": "email", "phone": "phone", "电话": "phone", "address": "address",
                   "地址": "address"}
REASON_WORDS = {"damaged": "damaged", "damage": "damaged", "broken": "damaged", "损坏": "damaged", "破损": "damaged",
                "报损": "damaged", "lost": "lost", "missing": "lost", "丢失": "lost", "丢件": "lost",
                "found": "found", "找到": "found", "盘盈": "found", "returned": "returned", "return": "returned",
                "退货": "returned", "退回": "returned"}
assert set(REASON_WORDS.values()) == set(ADJUSTMENT_REASONS)
# Words staff write in an action sheet, after header_key folding (lower case, single spaces).
ACTION_WORDS = word_table(header_key)


def build_records(mapped: MappedSheet) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """The sheet's canonical rows of a non-order kind (without source file)."""
    kind = mapped.template.kind
    frame = apply_fallbacks(mapped, mapped.frame)
    for column in KINDS[kind].columns:
        if column not in frame:
            frame[column] = pd.Series("", index=frame.index, dtype="str")
    problems: list[Problem] = []
    notes: list[str] = []
    required = dict(REQUIRED_VALUES[kind])
    required.update({c: c.replace("_", " ") for c in mapped.template.required_values})
    for column, label in required.items():
        problems += problems_where(mapped, frame, frame[column] == "", column, f"missing {label}")

    if kind == "stock":
        frame[Stock.on_hand], p = whole_numbers(mapped, frame, Stock.on_hand, ON_HAND)
        problems += p
    elif kind == "products":
        column = frame[Product.declared_currency] if Product.declared_currency in mapped.headers else None
        known = (column.str.strip().str.upper() if column is not None
                 else pd.Series("", index=frame.index, dtype="str"))
        amounts, markers, p = money(mapped, frame, Product.declared_value,
                                    known.where(known != "", mapped.template.currency))
        problems += p
        currency = currencies([markers], column, mapped.template.currency, frame.index)
        stated = (amounts != "") | (frame[Product.declared_currency] != "")
        frame[Product.declared_currency] = currency.where(stated, "")
        frame[Product.declared_value] = amounts
        frame[Product.weight_g], p = whole_numbers(mapped, frame, Product.weight_g, WEIGHT_G,
                                                   blank_ok=True)
        problems += p
        frame[Product.origin_country] = distinct_map(frame[Product.origin_country], to_iso2)
        problems += _purchasing_columns(mapped, frame)
    elif kind == "receipts":
        frame[Receipt.quantity], p = whole_numbers(mapped, frame, Receipt.quantity, RECEIVED)
        problems += p
        days, p = datetimes(mapped, frame, Receipt.received_on,
                            pd.Series(mapped.template.timezone or "UTC", index=frame.index))
        problems += p
        frame[Receipt.received_on] = days.str[:10]
    elif kind == "purchase_orders":
        # A suggestions sheet comes back with the lines not to buy left blank or 0: they are no order.
        quantity = frame[PurchaseOrderLine.quantity].str.strip()
        unordered = quantity.isin(["", "0", "0.0"])
        if unordered.any():
            notes.append(f"{mapped.sheet_name or 'sheet'}: {int(unordered.sum())} rows without a quantity to order "
                         "left out")
            frame = frame[~unordered]
        frame[PurchaseOrderLine.quantity], p = whole_numbers(mapped, frame, PurchaseOrderLine.quantity, RECEIVED)
        problems += p
    elif kind == "adjustments":
        frame[Adjustment.quantity], p = signed_numbers(mapped, frame, Adjustment.quantity, ADJUSTED)
        problems += p
        reasons = frame[Adjustment.reason].map(lambda text: REASON_WORDS.get(header_key(text), ""))
        problems += problems_where(mapped, frame, (reasons == "") & (frame[Adjustment.reason] != ""),
                                   Adjustment.reason, "reason must be damaged, lost, found or returned "
                                                      "(损坏, 丢失, 找到, 退货)")
        frame[Adjustment.reason] = reasons
    elif kind == "pairing":
        frame[Pairing.quantity], p = whole_numbers(mapped, frame, Pairing.quantity, PAIRED_UNITS)
        problems += p
    elif kind == "actions":
        words = frame[Action.action].map(lambda text: ACTION_WORDS.get(header_key(text), ""))
        unknown = (words == "") & (frame[Action.action] != "")
        problems += problems_where(mapped, frame, unknown, Action.action, f"action must be one of {all_shown()}")
        frame[Action.action] = words
        # A decisions sheet comes back with most rows left blank: those orders wait as they are.
        blank = frame[Action.action].eq("") & ~unknown
        if blank.any():
            notes.append(f"{mapped.sheet_name or 'sheet'}: {int(blank.sum())} rows without an action left as they are")
            frame = frame[~blank]
    elif kind == "rules":
        problems += _rule_problems(mapped, frame)
    elif kind == "blacklist":
        fields = frame[BlacklistEntry.field].map(lambda text: BLACKLIST_WORDS.get(header_key(text), ""))
        problems += problems_where(mapped, frame, (fields == "") & (frame[BlacklistEntry.field] != ""),
                                   BlacklistEntry.field, "must be name, email, phone or address (姓名, 邮箱, 电话, 地址)")
        frame[BlacklistEntry.field] = fields
    problems += _repeated_keys(mapped, frame, kind)
    return frame, problems, notes


def _purchasing_columns(mapped: MappedSheet, frame: pd.DataFrame) -> list[Problem]:
    """Unit cost as a decimal with its currency; lead time and sales window as whole days (blank: the default)."""
    problems: list[Problem] = []
    # Goods are mostly bought in China (1688, Taobao): a cost without a currency, or with ¥, is in yuan.
    default = mapped.template.currency or "CNY"
    column = frame[Product.cost_currency].str.strip().str.upper()
    amounts, markers, p = money(mapped, frame, Product.unit_cost, column.where(column != "", default))
    problems += p
    currency = currencies([markers], column.where(column != "", default), default, frame.index)
    frame[Product.cost_currency] = currency.where(amounts != "", column)
    frame[Product.unit_cost] = amounts
    for days, limit in ((Product.lead_time_days, LEAD_DAYS), (Product.sales_window_days, WINDOW_DAYS)):
        values, p = whole_numbers(mapped, frame, days, limit, blank_ok=True)
        problems += p
        frame[days] = values.astype("string").fillna("").astype(str)
    return problems


def signed_numbers(mapped: MappedSheet, frame: pd.DataFrame, target: str, limit) -> tuple[pd.Series, list[Problem]]:
    """A whole number with its sign (+3, -2, 5), never 0: the sign is read here, the size by whole_numbers."""
    text = frame[target].str.strip()
    negative = text.str.startswith("-") | text.str.startswith("\u2212")
    sized = frame.assign(**{target: text.str.lstrip("+-\u2212").str.strip()})
    size, problems = whole_numbers(mapped, sized, target, limit)
    return size.where(~negative, -size), problems


def _rule_problems(mapped: MappedSheet, frame: pd.DataFrame) -> list[Problem]:
    """Each cell checked as the setting of its column, then each rule as a whole; the type column
    becomes review or logistics."""
    types = frame[RuleRow.rule_type].map(lambda text: TYPE_WORDS.get(header_key(text), ""))
    problems = problems_where(mapped, frame, (types == "") & (frame[RuleRow.rule_type] != ""), RuleRow.rule_type,
                              "rule type must be review (审单) or logistics (物流)")
    frame[RuleRow.rule_type] = types
    for key in SETTINGS:
        if key not in mapped.headers:
            continue
        why = frame[key].map(lambda v: setting_error(key, v) if v.strip() else "")
        for reason in why[why != ""].unique():
            problems += problems_where(mapped, frame, why == reason, key, reason)
    if problems:
        return problems
    for i, row in frame.iterrows():
        if row[RuleRow.rule_type]:
            try:
                rule_from_table({k: row[k] for k in SETTINGS if row[k].strip()}, row[RuleRow.rule_type], 1, "")
            except ConfigError as exc:
                problems.append(Problem(exc.message.removeprefix(": "), sheet=mapped.sheet_name,
                                        row=int(row[Source.row])))
    return problems


def folded_keys(frame: pd.DataFrame, columns: list[str]):
    """Each row's key as compared for repeats: spacing and case aside ("" for a blank part)."""
    return zip(*(frame[c].str.strip().str.casefold() for c in columns))


def _repeated_keys(mapped: MappedSheet, frame: pd.DataFrame, kind: str) -> list[Problem]:
    """One Problem per row that repeats an earlier row's key (spacing and case aside), naming that row."""
    if kind not in UNIQUE_KEYS:
        return []
    key, rule = UNIQUE_KEYS[kind]
    keys = folded_keys(frame, key)
    first_seen: dict[tuple, int] = {}
    problems = []
    required = [i for i, column in enumerate(key) if column not in BLANK_MEANS_ANY]
    for folded, row, value in zip(keys, frame[Source.row], frame[key[-1]]):
        if any(folded[i] == "" for i in required):   # a missing key value is reported as missing already
            continue
        if folded in first_seen:
            problems.append(Problem(f"repeats row {first_seen[folded]}: {rule}", sheet=mapped.sheet_name,
                                    row=int(row), column=header_of(mapped, key[-1]), value=str(value)))
        else:
            first_seen[folded] = int(row)
    return problems
