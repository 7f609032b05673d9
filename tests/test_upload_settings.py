"""What batchship.toml must say for tracking uploads, checked before a run touches anything:
each channel a logistics rule sends a shop's orders to names the carrier that shop's
marketplace expects (Amazon's "Other" with a name, Walmart's unlisted carriers with a
tracking page), and each shop says when its tracking goes up."""
from __future__ import annotations

import pytest

from batchship.cli import main

BASE = """
[watch]
settle_seconds = 0
min_age_seconds = 0

[[shops]]
name = "own"
platform = "batchship"
"""


def run_with(tmp_path, capsys, text: str) -> tuple[int, str]:
    main(["init", str(tmp_path)])
    (tmp_path / "batchship.toml").write_text(BASE + text, encoding="utf-8")
    capsys.readouterr()
    code = main(["run", "-w", str(tmp_path)])
    return code, capsys.readouterr().err


def test_a_channel_without_the_carrier_a_shops_platform_expects_is_a_config_error(tmp_path, capsys):
    code, err = run_with(tmp_path, capsys, """
[[shops]]
name = "amz-us"
platform = "amazon_order_report"

[[channels]]
name = "YW"
carriers = { ebay = "Yanwen" }

[[logistics]]
channel = "YW"
""")
    assert code == 2
    assert "channel 'YW' names no carrier for amazon" in err
    assert "shop 'amz-us'" in err and "logistics rule 1" in err


def test_only_the_shops_and_platforms_a_rule_can_route_count(tmp_path, capsys):
    # SMALL takes only the own shop's orders (our own list needs no carrier); YW takes the rest.
    code, err = run_with(tmp_path, capsys, """
[[shops]]
name = "shopA"
platform = "shopify"

[[shops]]
name = "pee"
platform = "shopee"

[[channels]]
name = "SMALL"

[[channels]]
name = "YW"
carriers = { shopify = "Yanwen" }

[[logistics]]
shops = ["own"]
channel = "SMALL"

[[logistics]]
platforms = ["shopee"]
channel = "SMALL"

[[logistics]]
channel = "YW"
""")
    assert code == 0, err


def test_a_rule_naming_a_platform_needs_its_carrier_even_without_a_shop_declared(tmp_path, capsys):
    code, err = run_with(tmp_path, capsys, """
[[channels]]
name = "TT"

[[logistics]]
platforms = ["tiktok"]
channel = "TT"
""")
    assert code == 2
    assert "channel 'TT' names no carrier for tiktok" in err


@pytest.mark.parametrize("value", ["Other", "other:", "Other:  "])
def test_amazon_other_needs_a_carrier_name(tmp_path, capsys, value):
    code, err = run_with(tmp_path, capsys, f"""
[[shops]]
name = "amz"
platform = "amazon"

[[channels]]
name = "LOCAL"
carriers = {{ amazon = "{value}" }}

[[logistics]]
channel = "LOCAL"
""")
    assert code == 2
    assert "channel 'LOCAL'" in err and "carrier code Other needs the carrier's name" in err


def test_amazon_other_with_a_name_is_accepted(tmp_path, capsys):
    code, err = run_with(tmp_path, capsys, """
[[shops]]
name = "amz"
platform = "amazon"

[[channels]]
name = "LOCAL"
carriers = { amazon = "Other:Wanb Express" }

[[logistics]]
channel = "LOCAL"
""")
    assert code == 0, err


def test_walmart_carrier_it_does_not_list_needs_a_tracking_url(tmp_path, capsys):
    config = """
[[shops]]
name = "wm"
platform = "walmart"

[[channels]]
name = "SPEEDY"
carriers = {{ walmart = "Speedy Parcels" }}
{url}
[[logistics]]
channel = "SPEEDY"
"""
    code, err = run_with(tmp_path, capsys, config.format(url=""))
    assert code == 2
    assert "channel 'SPEEDY'" in err and "'Speedy Parcels' is not a carrier walmart lists" in err
    assert "tracking_url" in err
    code, err = run_with(tmp_path / "with-url", capsys, config.format(
        url='tracking_url = "https://speedy.example/track?n={tracking_number}"'))
    assert code == 0, err


def test_walmart_carrier_it_lists_needs_no_url(tmp_path, capsys):
    code, err = run_with(tmp_path, capsys, """
[[shops]]
name = "wm"
platform = "walmart"

[[channels]]
name = "YW"
carriers = { walmart = "yanwen" }

[[logistics]]
channel = "YW"
""")
    assert code == 0, err


@pytest.mark.parametrize("line, words", [
    ('tracking_url = "www.example.com/{tracking_number}"', "must be an http(s) address"),
    ('tracking_url = "https://example.com/track"', "with {tracking_number} where the number goes"),
])
def test_bad_tracking_url_is_a_config_error(tmp_path, capsys, line, words):
    code, err = run_with(tmp_path, capsys, f'\n[[channels]]\nname = "YW"\n{line}\n')
    assert code == 2 and words in err


def test_upload_tracking_must_be_one_of_the_two_moments(tmp_path, capsys):
    code, err = run_with(tmp_path, capsys, '\n[[shops]]\nname = "s"\nplatform = "shopify"\n'
                                           'upload_tracking = "on_delivery"\n')
    assert code == 2
    assert "shop 's': upload_tracking must be \"on_waybill\"" in err
