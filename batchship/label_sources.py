"""What each label of a run shows, made from its orders' and lines' rows: the label files of a
channel, and each label made only when read, so that a worker rendering a part makes that part's.
"""
from __future__ import annotations

import hashlib
import marshal
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import pandas as pd

from .config import Channel, Config
from .frame_records import records
from .writers.labels import CustomsItem, LabelData
from .writers.upload_files import safe_name_part


def label_files(orders: pd.DataFrame, lines: pd.DataFrame, config: Config, day: str, stem: str = "labels",
                tail: str = ""):
    """(channel, its settings, file name without suffix, label sources) of each channel's label file."""
    by_order: dict[tuple[str, str], list[dict]] = {}
    # Plain dicts (per-order DataFrame access costs ms per label) of the fields a label shows alone:
    # a label worker reading a field of the run's memory copies the page it is on.
    for line in records(lines[_LABEL_LINE_FIELDS]):
        by_order.setdefault((line["shop"], line["order_id"]), []).append(line)
    recurring = _Recurring(config)
    for channel, group in orders[_LABEL_ORDER_FIELDS].groupby("channel", sort=True):
        settings = config.channels.get(channel) or Channel(name=channel)
        name = f"{stem}-{safe_name_part(channel, 'channel')}{tail}"
        yield channel, settings, name, _LabelSources(records(group), by_order, recurring, config, day)


class _Recurring:
    """What recurs from label to label, made once for a run's labels: each shop and warehouse's
    sender, and each customs line (the same product in the same quantity)."""

    def __init__(self, config: Config):
        self.config = config
        self._senders: dict[tuple[str, str], tuple[str, str]] = {}
        self._customs: dict[tuple, CustomsItem] = {}

    def sender(self, shop: str, warehouse: str) -> tuple[str, str]:
        """(return address, phone)."""
        known = self._senders.get((shop, warehouse))
        if known is None:
            sender = self.config.sender_for(shop, warehouse)
            known = self._senders[(shop, warehouse)] = (sender.return_address(), sender.phone)
        return known

    def customs(self, r: dict) -> CustomsItem:
        key = tuple(r[c] for c in _CUSTOMS_FIELDS)
        item = self._customs.get(key)
        if item is None:
            quantity = int(r["quantity"])
            item = self._customs[key] = CustomsItem(
                description=r["declared_name_en"], quantity=quantity, weight_g=int(r["weight_g"]) * quantity,
                value=_money(r["declared_value"]) * quantity, currency=r["declared_currency"],
                hs_code=r["hs_code"], origin=r["origin_country"])
        return item


class _LabelSources(Sequence):
    """A channel's labels, each made from its order and lines when read: a label worker forked with
    them makes its own part's labels, beside the others, instead of the run making them all first."""

    def __init__(self, orders: list[dict], lines_of: dict[tuple[str, str], list[dict]], recurring: _Recurring,
                 config: Config, day: str):
        self._orders, self._lines_of, self._recurring = orders, lines_of, recurring
        self._config, self._day = config, day

    def __len__(self) -> int:
        return len(self._orders)

    def __getitem__(self, at):
        if isinstance(at, slice):
            # Still made when read: a slice is what a worker forked ahead is sent, pickled.
            orders = self._orders[at]
            keys = [(o["shop"], o["order_id"]) for o in orders]
            lines_of = {key: self._lines_of[key] for key in keys if key in self._lines_of}
            return _LabelSources(orders, lines_of, self._recurring, self._config, self._day)
        return self._label(self._orders[at])

    def _label(self, o: dict) -> LabelData:
        return _label(o, self._lines_of.get((o["shop"], o["order_id"]), []), self._recurring, self._config, self._day)

    def fingerprint(self) -> bytes:
        """What these labels are made of (the run's config aside): equal for sources that make the
        same labels. marshal's format 2 writes each value whole, with its type (1, 1.0, "1" and True
        differ, where ``==`` would not), and none as a reference to an equal one written before."""
        made_of = [(o, self._lines_of.get((o["shop"], o["order_id"]))) for o in self._orders]
        return hashlib.blake2b(marshal.dumps((self._day, made_of), 2), digest_size=16).digest()


_CUSTOMS_FIELDS = ("declared_name_en", "quantity", "weight_g", "declared_value", "declared_currency", "hs_code",
                   "origin_country")
_LABEL_ORDER_FIELDS = ["shop", "order_id", "channel", "warehouse", "tracking_number", "recipient_name", "address1",
                       "address2", "city", "state", "postcode", "country", "phone"]
_LABEL_LINE_FIELDS = ["shop", "order_id", "sku", "declared_name_cn", *_CUSTOMS_FIELDS]


def _label(o: dict, lines: list[dict], recurring: _Recurring, config: Config, day: str) -> LabelData:
    sender, sender_phone = recurring.sender(o["shop"], o["warehouse"])
    customs = tuple(recurring.customs(r) for r in lines)
    return LabelData(
        tracking_number=o["tracking_number"], channel=o["channel"], order_ref=f"{o['shop']} / {o['order_id']}",
        recipient_name=o["recipient_name"], address_lines=tuple(a for a in (o["address1"], o["address2"]) if a),
        city=o["city"], state=o["state"], postcode=o["postcode"], country=o["country"], phone=o["phone"],
        items=tuple((r["sku"], int(r["quantity"]), r.get("declared_name_cn") or r.get("declared_name_en") or "")
                    for r in lines),
        customs_category=config.customs_category, customs_items=customs,
        sender=sender, sender_phone=sender_phone, date=day,
    )


def _money(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)
