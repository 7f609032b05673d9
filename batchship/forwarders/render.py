"""Mapping templates filled from one order (pure: no I/O)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .mapping import LINE_FIELDS, ORDER_FIELDS, PLACEHOLDER


def order_context(order: dict, lines: list[dict], *, reference: str, product_code: str,
                  sender: dict[str, str], credentials: dict[str, str], options: dict[str, str] | None = None
                  ) -> tuple[dict, list[dict]]:
    """(values for the order's placeholders, values per line for ``each = "lines"`` tables)."""
    per_line = []
    weight_g, value = 0, Decimal(0)
    for line in lines:
        quantity = int(line.get("quantity") or 0)
        unit_weight = int(line.get("weight_g") or 0)
        unit_value = _decimal(line.get("declared_value"))
        weight_g += unit_weight * quantity
        value += unit_value * quantity
        ctx = {f"line.{f}": _plain(line.get(f, "")) for f in LINE_FIELDS}
        ctx.update({"line.quantity": quantity, "line.weight_g": unit_weight,
                    "line.unit_value": float(unit_value), "line.unit_weight_g": unit_weight,
                    "line.unit_weight_kg": round(unit_weight / 1000, 3),
                    "line.value": float(unit_value * quantity),
                    "line.weight_kg": round(unit_weight * quantity / 1000, 3)})
        per_line.append(ctx)
    first, _, last = str(order.get("recipient_name", "")).strip().partition(" ")
    currency = next((str(line.get("declared_currency")) for line in lines if line.get("declared_currency")),
                    str(order.get("currency", "")))
    ctx = {f"order.{f}": _plain(order.get(f, "")) for f in ORDER_FIELDS}
    ctx.update({
        "reference": reference, "product_code": product_code, "shipment_id": "",
        "recipient.first_name": first, "recipient.last_name": last or first,
        # A parcel never weighs nothing for a forwarder: products without a weight count 1 g each.
        "parcel.weight_g": max(weight_g, 1), "parcel.weight_kg": round(max(weight_g, 1) / 1000, 3),
        "parcel.value": float(value), "parcel.currency": currency, "parcel.count": 1,
        **{f"sender.{k}": v for k, v in sender.items()},
        **{f"credentials.{k}": v for k, v in credentials.items()},
        **{f"options.{k}": v for k, v in (options or {}).items()},
    })
    return ctx, per_line


def render(template, ctx: dict, lines: list[dict]):
    """The template with its placeholders filled."""
    if isinstance(template, dict):
        if template.get("each") == "lines":
            return [render(template.get("item", {}), {**ctx, **line}, lines) for line in lines]
        return {k: render(v, ctx, lines) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, ctx, lines) for v in template]
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return ctx.get(whole.group(1), "")
        return PLACEHOLDER.sub(lambda m: str(ctx.get(m.group(1), "")), template)
    return template


def answer_field(answer, path: str):
    """The value at a dotted path (``Item.0.TrackingNumber``) of a decoded JSON answer, or None."""
    node = answer
    for part in path.split("."):
        if isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def _decimal(text) -> Decimal:
    try:
        return Decimal(str(text or "0"))
    except InvalidOperation:
        return Decimal(0)


def _plain(value):
    return "" if value is None else value
