"""Canonical frames: every importer produces these, every stage consumes them.

Column names are referenced through the classes below (``Line.sku``), never as
scattered strings. All text cells are ``str`` (empty string for blank), money
is a decimal string (``"12.50"``), quantities and grams are ``int``.
"""
from __future__ import annotations

import pandera.pandas as pa

from .rules.model import RULE_TYPES, SETTINGS as RULE_SETTINGS
from .verbs import VERBS


class Source:
    """Provenance carried by every imported row."""
    file = "source_file"      # file name as dropped in the inbox
    row = "source_row"        # row number as Excel (or a text editor) shows it


class Line(Source):
    """One order line. Several rows share (shop, order_id) for multi-line orders."""
    shop = "shop"
    platform = "platform"            # template platform name, e.g. "shopify", "batchship"
    order_id = "order_id"            # marketplace order id, cleaned (no trailing tab/apostrophe)
    item_id = "item_id"              # marketplace line id (Amazon order-item-id, eBay item/transaction ...), "" if none
    line_no = "line_no"              # 1.. within the order, in file order
    platform_sku = "platform_sku"    # SKU as the marketplace knows it
    sku = "sku"                      # warehouse SKU (after pairing; equals platform_sku when unpaired)
    quantity = "quantity"            # int
    unit_price = "unit_price"        # decimal string
    currency = "currency"            # ISO 4217
    order_total = "order_total"      # decimal string or ""
    paid_at = "paid_at"              # ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" or ""
    recipient_name = "recipient_name"
    address1 = "address1"
    address2 = "address2"
    city = "city"
    state = "state"
    postcode = "postcode"
    country = "country"              # ISO 3166-1 alpha-2 when recognised, else the raw text
    phone = "phone"
    email = "email"
    platform_status = "platform_status"  # one of PLATFORM_STATUSES
    shipping_service = "shipping_service"  # the marketplace's shipping service/level as the buyer chose it
    tags = "tags"                    # the order's tags on the platform, comma-separated
    raw = "raw"                      # JSON of the original row, only when the template keeps it (Walmart)

    columns = [
        "shop", "platform", "order_id", "item_id", "line_no", "platform_sku", "sku", "quantity",
        "unit_price", "currency", "order_total", "paid_at", "recipient_name", "address1",
        "address2", "city", "state", "postcode", "country", "phone", "email",
        "platform_status", "shipping_service", "tags", "raw", "source_file", "source_row",
    ]


# An order's stage (DESIGN.md: the order's path, plus the side paths).
ORDER_STAGES = ("review", "hold", "process", "waybill", "print", "shipped", "cancelled")
ACTIVE_STAGES = ("review", "hold", "process", "waybill", "print")

# "unpaid": the buyer has not paid yet (Shopee/TikTok "Unpaid", Amazon "Pending"): held until paid.
PLATFORM_STATUSES = ("open", "unpaid", "cancelled", "refunded", "shipped")


class Stock(Source):
    warehouse = "warehouse"
    sku = "sku"
    on_hand = "on_hand"      # int, a count: the ledger books the difference
    shelf = "shelf"
    columns = ["warehouse", "sku", "on_hand", "shelf", "source_file", "source_row"]


class Receipt(Source):
    """Goods received into a warehouse (入库): booked in the ledger as they are."""
    warehouse = "warehouse"
    sku = "sku"
    quantity = "quantity"        # int, at least 1
    reference = "reference"      # a purchase order number or delivery note, "" if none
    received_on = "received_on"  # ISO date "YYYY-MM-DD" or ""
    columns = ["warehouse", "sku", "quantity", "reference", "received_on", "source_file", "source_row"]


# Why stock was adjusted by hand (损坏, 丢失, 找到, 退货).
ADJUSTMENT_REASONS = ("damaged", "lost", "found", "returned")


class Adjustment(Source):
    """A correction of stock by a signed quantity, with its reason."""
    warehouse = "warehouse"
    sku = "sku"
    quantity = "quantity"        # int, + or -, never 0
    reason = "reason"            # one of ADJUSTMENT_REASONS
    note = "note"
    columns = ["warehouse", "sku", "quantity", "reason", "note", "source_file", "source_row"]


class PurchaseOrderLine(Source):
    """One line of a purchase order (采购单): purchase-suggestions.xlsx dropped back with its quantities."""
    po_number = "po_number"
    supplier = "supplier"
    warehouse = "warehouse"      # where the goods are to be received
    sku = "sku"
    quantity = "quantity"        # int, units ordered
    columns = ["po_number", "supplier", "warehouse", "sku", "quantity", "source_file", "source_row"]


class Product(Source):
    sku = "sku"
    name = "name"
    declared_name_en = "declared_name_en"
    declared_name_cn = "declared_name_cn"
    declared_value = "declared_value"        # decimal string
    declared_currency = "declared_currency"
    weight_g = "weight_g"                    # int grams
    hs_code = "hs_code"
    origin_country = "origin_country"        # ISO-2
    # Purchasing (采购): where the SKU is bought, at what cost, and how long it takes to arrive.
    supplier = "supplier"
    supplier_sku = "supplier_sku"
    unit_cost = "unit_cost"                  # decimal string or ""
    cost_currency = "cost_currency"
    source_url = "source_url"                # e.g. a 1688 offer page
    lead_time_days = "lead_time_days"        # whole number as text, "" = the [purchasing] default
    sales_window_days = "sales_window_days"  # whole number as text, "" = the [purchasing] default
    columns = ["sku", "name", "declared_name_en", "declared_name_cn", "declared_value",
               "declared_currency", "weight_g", "hs_code", "origin_country",
               "supplier", "supplier_sku", "unit_cost", "cost_currency", "source_url", "lead_time_days",
               "sales_window_days", "source_file", "source_row"]


class PoolNumber(Source):
    channel = "channel"
    tracking_number = "tracking_number"
    columns = ["channel", "tracking_number", "source_file", "source_row"]


class ShipScan(Source):
    reference = "reference"    # a tracking number or an order id
    # A warehouse's shipment confirmation also gives the parcel's number, carrier, date and place.
    tracking_number = "tracking_number"
    carrier = "carrier"
    shipped_at = "shipped_at"
    warehouse = "warehouse"
    columns = ["reference", "tracking_number", "carrier", "shipped_at", "warehouse", "source_file", "source_row"]


class Pairing(Source):
    shop = "shop"              # "" = every shop
    platform_sku = "platform_sku"
    sku = "sku"
    quantity = "quantity"      # warehouse units per platform unit (bundles: several rows)
    columns = ["shop", "platform_sku", "sku", "quantity", "source_file", "source_row"]


class Action(Source):
    """A staff decision on one order."""
    shop = "shop"              # "" when the order id is unique across shops
    order_id = "order_id"
    action = "action"          # one of batchship.verbs.VERBS
    argument = "argument"      # the verb's argument: a channel, a warehouse, order ids to merge with
    note = "note"
    columns = ["shop", "order_id", "action", "argument", "note", "source_file", "source_row"]


class BookingResult(Source):
    """A forwarder's answer to a booking sheet: one parcel per row."""
    reference = "reference"              # the customer order number batchship wrote in the booking sheet
    tracking_number = "tracking_number"  # "" when the forwarder refused the parcel
    error = "error"                      # the forwarder's reason for a refusal
    columns = ["reference", "tracking_number", "error", "source_file", "source_row"]


class RuleRow(Source):
    """One row of a rules workbook: a rule's type and its settings as written (rules/model.py reads them)."""
    rule_type = "rule_type"    # review | logistics (审单 | 物流)
    columns = ["rule_type", *RULE_SETTINGS, "source_file", "source_row"]


class BlacklistEntry(Source):
    field = "field"            # name | email | phone | address (rules/facts.py BLACKLIST_FIELDS)
    value = "value"
    note = "note"
    columns = ["field", "value", "note", "source_file", "source_row"]


# Input kinds an inbox file can be; the importer returns one of these with its frame.
KINDS = {
    "orders": Line,
    "stock": Stock,
    "products": Product,
    "tracking_pool": PoolNumber,
    "ship_confirm": ShipScan,
    "pairing": Pairing,
    "actions": Action,
    "booking_result": BookingResult,
    "rules": RuleRow,
    "blacklist": BlacklistEntry,
    "receipts": Receipt,
    "adjustments": Adjustment,
    "purchase_orders": PurchaseOrderLine,
}

_text = pa.Column(str, nullable=False)


def _source_columns() -> dict:
    return {Source.file: _text, Source.row: pa.Column(int, pa.Check.ge(1))}


def frame_schema(kind: str) -> pa.DataFrameSchema:
    """The pandera schema of one canonical frame; validation is lazy so every problem is listed.
    The upper bounds repeat the importers' range checks (importers/limits.py) as a backstop."""
    from .importers.limits import ADJUSTED, ON_HAND, PAIRED_UNITS, QUANTITY, RECEIVED, WEIGHT_G

    def within(limit) -> list[pa.Check]:
        return [pa.Check.ge(limit.minimum), pa.Check.le(limit.maximum)]
    cols: dict[str, pa.Column] = {}
    if kind == "orders":
        for c in Line.columns:
            cols[c] = _text
        cols[Line.line_no] = pa.Column(int, pa.Check.ge(1))
        cols[Line.quantity] = pa.Column(int, pa.Check.le(QUANTITY.maximum))
        cols[Line.platform_status] = pa.Column(str, pa.Check.isin(PLATFORM_STATUSES))
        cols[Line.order_id] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "stock":
        cols = {c: _text for c in Stock.columns}
        cols[Stock.on_hand] = pa.Column(int, within(ON_HAND))
        cols[Stock.sku] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[Stock.warehouse] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "products":
        cols = {c: _text for c in Product.columns}
        cols[Product.weight_g] = pa.Column(int, within(WEIGHT_G), nullable=True)
        cols[Product.sku] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "tracking_pool":
        cols = {c: _text for c in PoolNumber.columns}
        cols[PoolNumber.tracking_number] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[PoolNumber.channel] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "ship_confirm":
        cols = {c: _text for c in ShipScan.columns}
        cols[ShipScan.reference] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "pairing":
        cols = {c: _text for c in Pairing.columns}
        cols[Pairing.quantity] = pa.Column(int, within(PAIRED_UNITS))
    elif kind == "booking_result":
        cols = {c: _text for c in BookingResult.columns}
        cols[BookingResult.reference] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "rules":
        cols = {c: _text for c in RuleRow.columns}
        cols[RuleRow.rule_type] = pa.Column(str, pa.Check.isin(RULE_TYPES))
    elif kind == "blacklist":
        cols = {c: _text for c in BlacklistEntry.columns}
        cols[BlacklistEntry.field] = pa.Column(str, pa.Check.isin(("name", "email", "phone", "address")))
    elif kind == "receipts":
        cols = {c: _text for c in Receipt.columns}
        cols[Receipt.quantity] = pa.Column(int, within(RECEIVED))
        cols[Receipt.sku] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[Receipt.warehouse] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[Receipt.received_on] = pa.Column(str, pa.Check.str_matches(r"^(\d{4}-\d{2}-\d{2})?$"))
    elif kind == "adjustments":
        cols = {c: _text for c in Adjustment.columns}
        cols[Adjustment.quantity] = pa.Column(int, [pa.Check.ge(-ADJUSTED.maximum), pa.Check.le(ADJUSTED.maximum),
                                                    pa.Check.ne(0)])
        cols[Adjustment.sku] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[Adjustment.warehouse] = pa.Column(str, pa.Check.str_length(min_value=1))
        cols[Adjustment.reason] = pa.Column(str, pa.Check.isin(ADJUSTMENT_REASONS))
    elif kind == "purchase_orders":
        cols = {c: _text for c in PurchaseOrderLine.columns}
        cols[PurchaseOrderLine.quantity] = pa.Column(int, within(RECEIVED))
        for c in (PurchaseOrderLine.po_number, PurchaseOrderLine.warehouse, PurchaseOrderLine.sku):
            cols[c] = pa.Column(str, pa.Check.str_length(min_value=1))
    elif kind == "actions":
        cols = {c: _text for c in Action.columns}
        cols[Action.action] = pa.Column(str, pa.Check.isin(tuple(VERBS)))
    else:
        raise KeyError(kind)
    cols.update(_source_columns())
    return pa.DataFrameSchema(cols, strict=True, coerce=False)
