"""batchship.toml: a typo or a wrong kind of value stops the run with a message naming it."""
from __future__ import annotations

import pytest

from batchship.cli import main
from batchship.config import parse_config
from batchship.errors import ConfigError


@pytest.mark.parametrize("text, words", [
    ('[[channels]]\nname = "YW"\nlabel_sise = "100x100"\n', "unknown setting 'label_sise'"),
    ('[[shops]]\nplatform = "shopify"\n', "[[shops]] entry 1: missing 'name'"),
    ('[[channels]]\nname = "YW"\n[[logistics]]\nchannel = "YX"\n', "channel 'YX' is not declared"),
    ('[[channels]]\nname = "YW"\n[[logistics]]\nchannel = "YW"\nmax_weight_g = "2kg"\n', "whole number of grams"),
    ('[watch]\nsettle_seconds = "five"\n', "settle_seconds must be a number"),
    ('[limit]\nmax_rows = 5\n', "unknown setting 'limit'"),
    ('[[shops]]\nname = "a"\nplatform = "lazada"\ntimezone = "Mars/Base"\n', "unknown timezone 'Mars/Base'"),
    ('[[shops]\nname = "a"\n', "batchship.toml"),          # not TOML at all
    ('[[shops]]\nname = "a"\nplatform = "shopfiy"\n', "platform 'shopfiy' is not known"),
    ('[[channels]]\nname = "YW"\ncarriers = { shopfy = "Yanwen" }\n', "carriers names 'shopfy'"),
    ('[labels]\ncjk_font = "/nowhere/NotoSansCJK.ttc"\n', "labels.cjk_font '/nowhere/NotoSansCJK.ttc' is not a file"),
])
def test_config_mistakes_exit_2_with_the_setting_named(tmp_path, capsys, text, words):
    main(["init", str(tmp_path)])
    (tmp_path / "batchship.toml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-w", str(tmp_path)]) == 2
    assert words in capsys.readouterr().err


def test_platform_names_are_not_case_sensitive():
    assert parse_config({"shops": [{"name": "a", "platform": "Shopify"}]}).shops["a"].platform == "shopify"


def test_rule_countries_are_read_as_iso_codes():
    config = parse_config({"channels": [{"name": "YW"}],
                           "logistics": [{"channel": "YW", "countries": ["UK", "United States", "de"]}]})
    assert config.logistics[0].conditions["countries"] == ("GB", "US", "DE")


def test_the_bundled_config_is_valid():
    import tomllib

    from batchship.paths import TEMPLATES_DIR
    config = parse_config(tomllib.loads((TEMPLATES_DIR / "batchship.toml").read_text(encoding="utf-8")))
    assert set(config.channels) == {"YW-Global", "CNE-Economy"}
    with pytest.raises(ConfigError):
        parse_config({"shops": "not a list of tables"})


def test_every_mistake_is_named_with_its_line_column_and_the_valid_keys(tmp_path, capsys):
    main(["init", str(tmp_path)])
    (tmp_path / "batchship.toml").write_text(
        '[[shops]]\nname = "a"\nplatform = "shopify"\n\n[[channels]]\nname = "YW"\n  label_sise = "100x100"\n'
        'carriers = { shopify = 5 }\n\n[watch]\nsettle_seconds = "five"\npolling = "no"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "-w", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "batchship.toml: line 7, column 3: channel 'YW': unknown setting 'label_sise' (known: base_url, " in err
    assert "batchship.toml: line 8, column 14: channel 'YW': carriers: shopify must be a text in quotes, not 5" in err
    assert "batchship.toml: line 11, column 1: [watch]: settle_seconds must be a number, not 'five'" in err
    assert "batchship.toml: line 12, column 1: [watch]: polling must be true or false, not 'no'" in err
