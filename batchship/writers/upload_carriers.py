"""Which carrier a tracking upload names, and whether the configuration says enough to name it.

A channel is our own label for a way of shipping ("YW-Economy"); a marketplace wants the carrier
as it knows it: Amazon a carrier code from its list (or "Other" plus the carrier's name), Walmart
a carrier from its list (or, for any other carrier, a tracking page), eBay, Shopify, TikTok and
Lazada a carrier name. ``Channel.carriers`` maps platform -> that value; nothing falls back to the
channel's own name.

Amazon's "Other" is written ``"Other:<carrier name>"`` (``carriers = { amazon = "Other:Wanb Express" }``);
a bare name that is not one of Amazon's codes means the same.

The same rules are checked twice: at the start of a run for every channel a logistics rule can
route a shop's orders to (``check_upload_carriers``: a configuration error, exit 2), and when an
upload is written (``carrier_problem``: an order whose channel still names no carrier, e.g. one
moved to another channel by staff, is left out of its upload with the reason).
"""
from __future__ import annotations

import re

from ..config import TRACKING_PLACEHOLDER, Channel, Config
from ..errors import ConfigError
from ..rules.model import LOGISTICS, Rule
from .upload_format import UploadFormat, choose_format, platform_key

OTHER = "Other"
AMAZON_NAME_LIMIT = 50     # Seller Central: carrier-name is 1 to 50 characters


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def carrier_value(channel: Channel | None, platform: str, line_platform: str = "") -> str:
    """What the channel names for this platform (by upload platform, then the line's own platform), or ""."""
    if channel is None:
        return ""
    return channel.carriers.get(platform) or channel.carriers.get(line_platform.strip().lower(), "")


def amazon_carrier(value: str, codes: tuple[str, ...]) -> tuple[str, str]:
    """(carrier-code, carrier-name) for a configured value: one of Amazon's codes goes in carrier-code
    alone (as Amazon spells it); "Other:<name>" or any other name is "Other" with the name beside it.
    A bare "Other" gives an empty name, which ``carrier_problem`` refuses."""
    head, sep, rest = value.partition(":")
    if sep and _key(head) == _key(OTHER):
        return OTHER, rest.strip()
    wanted = _key(value)
    if wanted == _key(OTHER):
        return OTHER, ""
    for code in codes:
        if _key(code) == wanted:
            return code, ""
    return OTHER, value.strip()


def listed_carrier(value: str, listed: tuple[str, ...]) -> str:
    """The marketplace's own spelling of a carrier it lists, or "" when it does not list it."""
    wanted = _key(value)
    return next((c for c in listed if _key(c) == wanted), "")


def tracking_url_pattern(channel: Channel | None, fmt: UploadFormat, carrier: str) -> str:
    """The tracking page pattern for a parcel: the channel's own, else the template's for the carrier."""
    if channel is not None and channel.tracking_url:
        return channel.tracking_url
    return fmt.tracking_urls.get(carrier) or fmt.tracking_urls.get("*", "")


def carrier_problem(channel_name: str, channel: Channel | None, platform: str, fmt: UploadFormat,
                    line_platform: str = "") -> str:
    """Why this channel cannot be named in ``fmt`` (the upload of ``platform``), or "" when it can."""
    if not fmt.needs_carrier:
        return ""
    value = carrier_value(channel, platform, line_platform)
    where = f"channel {channel_name!r}"
    if not value:
        return (f"{where} names no carrier for {platform}: add {platform} = \"...\" to its carriers "
                f"(the carrier name or code {platform} expects, e.g. carriers = {{ {platform} = \"Yanwen\" }})")
    if fmt.carrier_codes:
        code, name = amazon_carrier(value, fmt.carrier_codes)
        if code == OTHER and not name:
            return (f"{where}: carriers.{platform} = {value!r}: {platform}'s carrier code Other needs the "
                    f"carrier's name, written \"Other:<name>\" (e.g. {platform} = \"Other:Wanb Express\")")
        if len(name) > AMAZON_NAME_LIMIT:
            return (f"{where}: carriers.{platform}: the carrier name {name!r} is longer than the "
                    f"{AMAZON_NAME_LIMIT} characters {platform} takes")
    if fmt.listed_carriers and not listed_carrier(value, fmt.listed_carriers) \
            and not tracking_url_pattern(channel, fmt, value):
        return (f"{where}: {value!r} is not a carrier {platform} lists, so {platform} needs a link to the "
                f"parcel's tracking page: set tracking_url = \"https://...{TRACKING_PLACEHOLDER}\" on the channel "
                f"(or name a carrier from listed_carriers in templates/uploads/{fmt.name}.toml)")
    return ""


def _rule_scope(rule: Rule, config: Config, shop_platforms: dict[str, str], known: set[str]
                ) -> list[tuple[str, str, str]]:
    """(upload platform, marketplace, whose orders) a logistics rule can route: the shops it names,
    the platforms it names, or, when it names neither, every declared shop."""
    shops = rule.conditions.get("shops")
    platforms = rule.conditions.get("platforms")
    wanted = {platform_key(p, known) for p in platforms} if platforms else None
    scope = []
    for shop in config.shops.values():
        if shops is not None and shop.name not in shops:
            continue
        key = platform_key(shop_platforms.get(shop.platform, shop.platform), known)
        if wanted is not None and key not in wanted:
            continue
        scope.append((key, shop.marketplace, f"shop {shop.name!r}"))
    if wanted and shops is None:
        covered = {k for k, _, _ in scope}
        scope += [(k, "", f"{k} orders") for k in sorted(wanted - covered)]
    return scope


def check_upload_carriers(config: Config, rules: tuple[Rule, ...] | list[Rule], formats: list[UploadFormat],
                          shop_platforms: dict[str, str], where: str = "batchship.toml") -> None:
    """Every channel a logistics rule routes orders to names the carrier each of those orders'
    upload needs. ``shop_platforms``: column map name -> platform (a shop may name a column map)."""
    known = {p for fmt in formats for p in fmt.platforms}
    for rule in rules:
        if rule.kind != LOGISTICS or not rule.enabled or not rule.channel:
            continue
        channel = config.channels.get(rule.channel)
        for platform, marketplace, whose in _rule_scope(rule, config, shop_platforms, known):
            fmt = choose_format(formats, platform, marketplace)
            why = carrier_problem(rule.channel, channel, platform, fmt)
            if why:
                raise ConfigError(f"{rule.source or f'{where}: {rule.label}'}: {why} (this rule sends {whose} "
                                  f"to the channel)")
