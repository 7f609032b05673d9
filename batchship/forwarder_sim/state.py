"""What the simulated forwarder remembers: shipments, the request log and the misbehaviour settings.

All mutation goes through one lock, so a reference maps to exactly one shipment even if
handlers ever run on several threads (the asyncio server runs them on one).
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from ..s10 import s10_check_digit

SERVICE_LETTERS = "RR"
ORIGIN_COUNTRY = "CN"
WAYBILL_PREFIX = "YT26"


def s10_number(serial: int) -> str:
    digits = f"{serial:08d}"
    return f"{SERVICE_LETTERS}{digits}{s10_check_digit(digits)}{ORIGIN_COUNTRY}"


@dataclass
class Shipment:
    ref: str
    waybill: str
    tracking: str
    method: str
    receiver_name: str
    country: str
    city: str
    status: str = "created"     # or "cancelled"
    sender: dict = field(default_factory=dict)   # the Sender object of the request that created it


@dataclass
class Behaviour:
    delay_seconds: float = 0.0
    fail_5xx: int = 0
    fail_5xx_after_create: int = 0
    drop: int = 0
    label_404: bool = False
    reject_refs: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data) -> "Behaviour":
        if not isinstance(data, dict):
            raise ValueError("behaviour must be a JSON object")
        unknown = set(data) - {"delay_seconds", "fail_5xx", "fail_5xx_after_create", "drop", "label_404",
                               "reject_refs"}
        if unknown:
            raise ValueError(f"unknown behaviour keys: {', '.join(sorted(unknown))}")

        def count(key: str) -> int:
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} must be a whole number >= 0")
            return value

        delay = data.get("delay_seconds", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
            raise ValueError("delay_seconds must be a number of seconds from 0 to 3600")
        refs = data.get("reject_refs", [])
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise ValueError("reject_refs must be a list of strings")
        label_404 = data.get("label_404", False)
        if not isinstance(label_404, bool):
            raise ValueError("label_404 must be true or false")
        return cls(float(delay), count("fail_5xx"), count("fail_5xx_after_create"), count("drop"),
                   label_404, frozenset(refs))

    def to_json(self) -> dict:
        return {"delay_seconds": self.delay_seconds, "fail_5xx": self.fail_5xx,
                "fail_5xx_after_create": self.fail_5xx_after_create, "drop": self.drop,
                "label_404": self.label_404, "reject_refs": sorted(self.reject_refs)}


@dataclass
class SimState:
    serial_start: int | None = None
    shipments: dict[str, Shipment] = field(default_factory=dict)       # by reference
    by_waybill: dict[str, Shipment] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=Behaviour)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        # Numbers keep counting across resets: a number is never handed out twice by one simulator.
        start = self.serial_start if self.serial_start is not None else random.randrange(10**6, 9 * 10**7)
        self._serial = start
        self._waybill = random.randrange(10**9, 9 * 10**10) if self.serial_start is None else start

    def create(self, ref: str, method: str, receiver_name: str, country: str, city: str,
               sender: dict | None = None) -> tuple[Shipment, bool]:
        """The shipment for ref, and whether it already existed."""
        with self.lock:
            existing = self.shipments.get(ref)
            if existing is not None:
                return existing, True
            if self._serial >= 10**8:
                self._serial = 0
            serial, self._serial = self._serial, self._serial + 1
            waybill_no, self._waybill = self._waybill, self._waybill + 1
            shipment = Shipment(ref, f"{WAYBILL_PREFIX}{waybill_no % 10**11:011d}", s10_number(serial), method,
                                receiver_name, country, city, sender=dict(sender or {}))
            self.shipments[ref] = shipment
            self.by_waybill[shipment.waybill] = shipment
            return shipment, False

    def cancel(self, ref: str) -> bool | None:
        """True if cancelled now, False if it already was, None if unknown."""
        with self.lock:
            shipment = self.shipments.get(ref)
            if shipment is None:
                return None
            if shipment.status == "cancelled":
                return False
            shipment.status = "cancelled"
            return True

    def take(self, counter: str) -> bool:
        """Use up one of a misbehaviour's remaining count; False when none is left."""
        with self.lock:
            left = getattr(self.behaviour, counter)
            if left <= 0:
                return False
            setattr(self.behaviour, counter, left - 1)
            return True

    def record(self, method: str, path: str, ref: str | None, status: int | None) -> None:
        with self.lock:
            self.log.append({"method": method, "path": path, "ref": ref, "status": status})

    def reset(self) -> None:
        with self.lock:
            self.shipments.clear()
            self.by_waybill.clear()
            self.log.clear()
            self.behaviour = Behaviour()

    def shipments_json(self) -> list[dict]:
        with self.lock:
            return [{"ref": s.ref, "waybill": s.waybill, "tracking": s.tracking, "status": s.status,
                     **({"sender": s.sender} if s.sender else {})}
                    for s in self.shipments.values()]
