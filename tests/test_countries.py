"""Country names from pycountry and its translations, plus the hand list."""
import json
import os
import subprocess
import sys

import pytest

from batchship import countries
from batchship.countries import ISO2_CODES, to_iso2


@pytest.mark.parametrize("text, iso", [
    ("Россия", "RU"), ("Российская Федерация", "RU"), ("中国", "CN"), ("日本", "JP"),
    ("Vereinigte Staaten", "US"), ("Estados Unidos", "US"), ("Niederlande", "NL"),
    ("Japon", "JP"), ("ドイツ", "DE"), ("米国", "US"), ("イギリス", "GB"), ("مصر", "EG"),
    ("Egypte", "EG"), ("Ägypten", "EG"), ("Reino Unido", "GB"), ("대한민국", "KR"),
    ("Korea, Democratic People's Republic of", "KP"), ("Kingdom of the Netherlands", "NL"),
    ("Russie", "RU"), ("Biélorussie", "BY"), ("Holy See", "VA"),
])
def test_translated_and_hand_listed_names(text, iso):
    assert to_iso2(text) == iso


def test_codes_win_over_translated_names():
    # Vietnamese "Mỹ" (the US) folds to "my", which is Malaysia's code
    assert to_iso2("MY") == "MY"
    assert to_iso2("at") == "AT"


def test_a_name_given_to_two_countries_is_not_guessed():
    # "Corée, République de" and "Corée, République populaire ..." share the head "Corée"
    assert to_iso2("Corée") == "Corée"


def test_every_code_and_iso3_round_trips():
    import pycountry
    for c in pycountry.countries:
        assert to_iso2(c.alpha_2) == c.alpha_2
        assert to_iso2(c.alpha_3.lower()) == c.alpha_2
        assert to_iso2(c.name) == c.alpha_2


def test_codes_are_read_without_the_table_of_names_and_as_the_table_reads_them():
    code = ("import batchship.countries as c; got = [c.to_iso2(x) for x in ('US', 'gb', ' De ', 'Fr')]; "
            "assert c._lookup.cache_info().currsize == 0; print(*got)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["US", "GB", "DE", "FR"]
    table = countries._lookup()
    for iso in ISO2_CODES:
        for text in (iso, iso.lower(), iso.title()):
            assert to_iso2(text) == table[countries._key(text)] == iso
    assert to_iso2("UK") == "GB" and to_iso2("XX") == "XX" and to_iso2("U.S.") == "US"


# In a process of its own, with the cache folder under tmp_path.
KEPT = """
import gettext, sys
if sys.argv[1] == "no-catalogues":      # the kept table must do without building one
    def refuse(*args, **kwargs):
        raise AssertionError("a catalogue was read")
    gettext.translation = refuse
from batchship import countries
print(*(countries.to_iso2(x) for x in ("Deutschland", "Royaume-Uni", "美国", "XX")), countries._kept_table().name)
"""


def test_the_table_of_names_is_kept_between_runs_and_made_again_when_damaged(tmp_path):
    def names(mode: str) -> list[str]:
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
        return subprocess.run([sys.executable, "-c", KEPT, mode], capture_output=True, text=True, check=True,
                              env=env).stdout.split()
    (tmp_path / "batchship").mkdir()
    older = tmp_path / "batchship" / "countries-0123456789abcdef01234567.json"
    older.write_text('{"deutschland": "XX"}', encoding="utf-8")      # an earlier version's table
    first = names("build")
    assert first[:4] == ["DE", "GB", "US", "XX"]
    kept = tmp_path / "batchship" / first[4]
    assert not older.exists() and len(json.loads(kept.read_text(encoding="utf-8"))) > 10_000
    assert names("no-catalogues") == first
    kept.write_text('{"deutschland": "DE", "royaume', encoding="utf-8")     # cut short
    assert names("build") == first
    assert json.loads(kept.read_text(encoding="utf-8")) == countries._built_table()


def test_the_lookup_is_built_lazily_and_once():
    code = ("import time, batchship.countries as c; assert c._lookup.cache_info().currsize == 0; "
            "t = time.perf_counter(); c.to_iso2('France'); first = time.perf_counter() - t; "
            "t = time.perf_counter(); c.to_iso2('Allemagne'); again = time.perf_counter() - t; "
            "assert c._lookup.cache_info().misses == 1; print(first, again)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first, again = map(float, out.split())
    assert first < 2.0 and again < 0.01


def test_iso2_codes_is_a_frozen_set_of_249():
    assert isinstance(ISO2_CODES, frozenset) and len(ISO2_CODES) == 249
    assert countries.ISO2_CODES is ISO2_CODES
