"""Which shop an order file belongs to when the file itself does not say."""
from __future__ import annotations

from ..config import Config
from ..errors import Problem
from .templates import Template


def _is_platform_of(declared: str, template: Template) -> bool:
    # batchship.toml may name a shop's platform by template name or platform name.
    return declared in (template.name, template.platform)


def resolve_shop(template: Template, shop_hint: str, config: Config
                 ) -> tuple[str | None, list[Problem], list[str]]:
    """(shop, problems, notes). Order: the inbox subfolder, else the single
    declared shop of the detected platform (or the single shop at all for
    batchship's own sheets)."""
    hint = shop_hint.strip()
    if hint:
        shop = config.shops.get(hint)
        if shop is None:
            article = "an" if template.platform[:1] in "aeiou" else "a"
            return hint, [], [f"shop '{hint}' is not declared in batchship.toml: treated as {article} "
                              f"{template.platform} shop (detected from the header)"]
        if shop.platform == "batchship" and template.platform != "batchship":
            return hint, [], [f"shop '{hint}' is declared as a batchship shop; this file is a "
                              f"{template.title}, imported as {template.platform} orders"]
        if template.platform != "batchship" and not _is_platform_of(shop.platform, template):
            return None, [Problem(
                f"this file is a {template.title} but shop '{hint}' is declared as a "
                f"{shop.platform} shop in batchship.toml: move it to the right inbox folder")], []
        return hint, [], []
    if template.platform == "batchship":
        candidates = list(config.shops)
    else:
        candidates = [s.name for s in config.shops.values() if _is_platform_of(s.platform, template)]
    if len(candidates) == 1:
        return candidates[0], [], []
    return None, [Problem("cannot tell which shop this file belongs to: put it in inbox/<shop>/")], []
