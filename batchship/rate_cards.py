"""Shipping cost estimated from a channel's rate card (运费表): a first weight and each further step,
by destination zone, as forwarders quote them.

    cost = per_parcel + first + ceil(max(0, weight - first_weight_g) / step_g) × additional

A zone lists its countries; a zone without countries takes every country no other zone lists.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RateZone:
    name: str
    countries: tuple[str, ...]     # ISO-2; () = every other country
    first: Decimal                 # price of the first weight
    additional: Decimal            # price of each further step


@dataclass(frozen=True)
class RateCard:
    channel: str
    currency: str
    first_weight_g: int
    step_g: int
    zones: tuple[RateZone, ...]
    per_parcel: Decimal = Decimal(0)   # a registration or handling fee per parcel (挂号费)

    def zone_of(self, country: str) -> RateZone | None:
        rest = None
        for zone in self.zones:
            if country in zone.countries:
                return zone
            if not zone.countries and rest is None:
                rest = zone
        return rest

    def cost(self, country: str, weight_g: int) -> Decimal | None:
        """The estimated cost of one parcel, None when no zone takes the country."""
        zone = self.zone_of(country)
        if zone is None:
            return None
        over = max(0, int(weight_g) - self.first_weight_g)
        steps = -(-over // self.step_g) if self.step_g else 0
        return self.per_parcel + zone.first + steps * zone.additional
