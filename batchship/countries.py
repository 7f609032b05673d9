"""Country names and codes → ISO 3166-1 alpha-2.

Marketplaces write the destination country as an ISO-2 code (Shopify, Amazon),
an ISO-3 code, an English name (eBay "United States"), a local short form
("UK", "USA"), a name in the seller's or buyer's language (eBay France:
"Royaume-Uni", Amazon.de: "Deutschland") or, in Chinese ERP exports, a Chinese
name (美国). Everything recognised becomes the ISO-2 code; anything else is
returned unchanged so the review stage can hold the order instead of guessing.

The codes and names come from pycountry (ISO 3166-1 and the Debian iso-codes
translations it ships as gettext catalogues). Only spellings that pycountry
does not have are kept by hand below.
"""
from __future__ import annotations

import gettext
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from .paths import cache_home

# The languages whose country names are read from pycountry's catalogues: those
# of the marketplaces, buyers and ERPs this tool meets. Not every catalogue
# pycountry ships: some of the smaller ones are incomplete or give one name to
# two countries, and each catalogue read costs start-up time.
LANGUAGES = (
    "fr", "de", "es", "it", "pt", "pt_BR", "nl", "pl", "cs", "sk", "hu", "ro", "bg", "hr", "sl",
    "sv", "da", "nb_NO", "fi", "et", "lv", "lt", "el", "tr", "ru", "uk", "ar", "he",
    "zh_CN", "zh_TW", "zh_HK", "ja", "ko", "th", "vi", "id", "ms",
)

# Spellings seen in exports that pycountry has in none of those languages:
# everyday English short forms and former names ("UK", "Turkey", "Ivory
# Coast"), the constituent countries of the UK, the names that countries give
# themselves where pycountry only has the long form (its Russian catalogue has
# "Российская Федерация" but not "Россия"), and the short Chinese forms Chinese
# ERPs and forwarders write (澳洲, 沙特, 中国大陆 ...).
_ALIASES = {
    "USA": "US", "U.S.A.": "US", "U.S.": "US", "America": "US", "United States of America": "US",
    "UK": "GB", "U.K.": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB",
    "Scotland": "GB", "Wales": "GB", "Northern Ireland": "GB",
    "Korea": "KR", "Republic of Korea": "KR", "Hong Kong SAR": "HK", "Hong Kong SAR China": "HK",
    "Macau": "MO", "Macao SAR China": "MO", "Turkey": "TR", "The Netherlands": "NL", "Holland": "NL",
    "Ivory Coast": "CI", "Cape Verde": "CV", "Macedonia": "MK", "Palestine": "PS",
    "Vatican": "VA", "Vatican City": "VA", "UAE": "AE", "Democratic Republic of the Congo": "CD",
    "DR Congo": "CD", "Republic of the Congo": "CG", "East Timor": "TL",
    "Falkland Islands": "FK", "Saint Helena": "SH", "US Virgin Islands": "VI",
    "British Virgin Islands": "VG", "Puerto Rico (US)": "PR", "Mexico (MX)": "MX",
    "Swaziland": "SZ", "Burma": "MM", "Holy See": "VA", "Congo, Democratic Republic of the": "CD",
    # endonyms pycountry lacks
    "Россия": "RU", "Deutschland": "DE", "España": "ES", "Italia": "IT", "Brasil": "BR",
    "Polska": "PL", "Nederland": "NL", "Österreich": "AT", "Schweiz": "CH", "Suisse": "CH",
    "Svizzera": "CH", "Belgique": "BE", "België": "BE", "Sverige": "SE", "Norge": "NO",
    "Danmark": "DK", "Suomi": "FI", "Éire": "IE", "Česko": "CZ", "Magyarország": "HU",
    "Ελλάδα": "GR", "Україна": "UA", "Türkiye": "TR", "Nihon": "JP", "Nippon": "JP",
    "대한민국": "KR", "한국": "KR",
    # French, where pycountry has only the inverted form ("Russie, Fédération de")
    "Russie": "RU", "Biélorussie": "BY",
    # Japanese in katakana, as Japanese marketplaces write them (pycountry has 米国, 英国)
    "アメリカ": "US", "アメリカ合衆国": "US", "イギリス": "GB", "ロシア": "RU", "韓国": "KR",
    # short Chinese forms
    "澳洲": "AU", "沙特": "SA", "阿联酋": "AE", "阿拉伯联合酋长国": "AE", "中国大陆": "CN",
    "中国香港": "HK", "中国澳门": "MO", "中国台湾": "TW", "台湾": "TW", "孟加拉国": "BD",
    "孟加拉": "BD", "马耳他": "MT", "多米尼加": "DO", "印尼": "ID", "韩国": "KR", "朝鲜": "KP",
}


_PUNCTUATION = re.compile(r"[\s.,'’()\-]+")


def _key(text: str) -> str:
    """Comparison key: case-folded, accents dropped, punctuation and repeated
    spaces collapsed. Accents go so that "Etats-Unis" finds "États-Unis"; CJK
    text has no combining marks and is unchanged."""
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return _PUNCTUATION.sub(" ", folded).strip()


def _names(country) -> list[str]:
    return [n for n in (country.name, getattr(country, "official_name", None),
                        getattr(country, "common_name", None)) if n]


def _spellings(name: str) -> list[str]:
    """A name and, for ISO's inverted forms ("Korea, Republic of", "Russie,
    Fédération de"), the part before the comma."""
    head = name.split(",", 1)[0]
    return [name, head] if head != name else [name]


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    """The table of every spelling, on the first name looked up: read from the cache folder, where
    the first run that needed it left it (building it reads 37 catalogues: 0.14 s). It is keyed by
    this module's text and pycountry's version, so an edit of either builds it afresh."""
    path = _kept_table()
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(table, dict) and table:
            return table
    except (OSError, ValueError):
        pass
    table = _built_table()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".partial", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(table, f, ensure_ascii=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for older in path.parent.glob("countries-*.json"):     # tables of earlier versions
            if older != path:
                older.unlink(missing_ok=True)
    except OSError:
        pass        # a folder that cannot be written only means building the table each run
    return table


def _kept_table() -> Path:
    key = hashlib.sha256(Path(__file__).read_bytes() + version("pycountry").encode()).hexdigest()[:24]
    return cache_home() / f"countries-{key}.json"


def _built_table() -> dict[str, str]:
    import pycountry

    countries = list(pycountry.countries)
    table: dict[str, str] = {}
    # 1. codes and the English names: these win over any translation
    for c in countries:
        for text in (c.alpha_2, c.alpha_3, *_names(c)):
            table.setdefault(_key(text), c.alpha_2)
    # 2. the translations and the heads of inverted names; a spelling that
    #    names two different countries (in one language or across two) is
    #    left out, so that the order is held rather than sent to the wrong one
    found: dict[str, set[str]] = {}
    catalogues = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                  for lang in LANGUAGES]
    for c in countries:
        texts = {text for name in _names(c) for cat in (None, *catalogues)
                 for text in _spellings(cat.gettext(name) if cat else name)}
        for key in map(_key, texts):
            if key and key not in table:
                found.setdefault(key, set()).add(c.alpha_2)
    table.update({key: next(iter(codes)) for key, codes in found.items() if len(codes) == 1})
    # 3. the hand list, last: it is what a person decided
    table.update({_key(name): alpha2 for name, alpha2 in _ALIASES.items()})
    return table


@lru_cache(maxsize=1)
def iso2_codes() -> frozenset[str]:
    """Every officially assigned ISO 3166-1 alpha-2 code."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


def __getattr__(name: str):
    # ISO2_CODES is read from pycountry on first use, not when the module is imported
    if name == "ISO2_CODES":
        return iso2_codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_iso2(value: str) -> str:
    """ISO-2 code for a code or name; the stripped input itself when not recognised."""
    text = value.strip()
    if not text:
        return ""
    # A code as it stands (most exports give codes) needs no table of names: 0.14 s saved a run.
    if len(text) == 2 and text.isascii() and text.upper() in iso2_codes():
        return text.upper()
    return _lookup().get(_key(text), text)
