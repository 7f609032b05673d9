"""Review and logistics rules: conditions over every line, rule order, workbooks, check and explain."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from batchship.cli import main
from batchship.rules.facts import tag_set
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10

HEADER = ORDER_HEADER + ["shipping_service", "tags"]


def _setup(ws, rules_toml: str, skus=("A", "B", "BATT", "VIP-1", "HEAVY")):
    # Rules written before the test config's own come first: its logistics rules are the catch-all.
    (ws.root / "batchship.toml").write_text(rules_toml + TEST_CONFIG, encoding="utf-8")
    ws.drop("products.csv", PRODUCT_HEADER, [product_row(s, grams=3000 if s == "HEAVY" else 200) for s in skus])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", s, 100, ""] for s in skus])
    ws.drop("pool.csv", ["channel", "tracking_number"],
            [["YW", s10(i)] for i in range(1, 40)] + [["SMALL", s10(i)] for i in range(40, 80)])


def _row(order_id, sku, qty=1, service="", tags="", **kw):
    return order_row(order_id, sku, qty, kw.pop("paid", "2026-11-01 08:00:00"), **kw) + [service, tags]


def _by_id(ws) -> pd.DataFrame:
    return ws.orders().set_index("order_id")


SKU_RULES = """
[[review_rules]]
name = "VIP"
sku_patterns = ["VIP-*"]
approve = true

[[review_rules]]
name = "batteries"
skus = ["BATT"]
hold = "battery: check the air-freight paperwork"
"""


def test_a_rule_on_the_second_lines_sku_fires_and_rule_order_decides(ws):
    _setup(ws, SKU_RULES + """
[[review_rules]]
address_keywords = ["PO Box"]
add_tags = ["check address"]
note = "PO box: carrier may refuse"

[[logistics]]
skus = ["BATT"]
channel = "SMALL"
warehouse = "SZ"
""")
    ws.drop("orders.csv", HEADER, [
        _row("X1", "A"), _row("X1", "BATT"),              # battery on the second line: held
        _row("V1", "VIP-1"), _row("V1", "BATT"),          # VIP rule comes first: approved, not held
        _row("P1", "A"), _row("P1", "B"),
    ])
    assert ws.run() == 0
    o = _by_id(ws)
    assert (o.loc["X1", "stage"], o.loc["X1", "hold_reason"]) == (
        "hold", "battery: check the air-freight paperwork (review rule 2 'batteries')")
    assert o.loc["V1", "stage"] == "print" and o.loc["P1", "stage"] == "print"
    # The VIP order carries a battery on its second line: the battery logistics rule routes it.
    assert o.loc["V1", "channel"] == "SMALL" and o.loc["P1", "channel"] == "YW"

    # Swapping the two review rules swaps the outcome for a new VIP order with a battery.
    config = (ws.root / "batchship.toml").read_text(encoding="utf-8")
    vip, batteries = SKU_RULES.strip().split("\n\n")
    config = config.replace(SKU_RULES.strip(), batteries + "\n\n" + vip)
    (ws.root / "batchship.toml").write_text(config, encoding="utf-8")
    ws.drop("orders-2.csv", HEADER, [_row("V2", "VIP-1"), _row("V2", "BATT")])
    assert ws.run() == 0
    v2 = _by_id(ws).loc["V2"]
    assert v2["stage"] == "hold" and "review rule 1 'batteries'" in v2["hold_reason"]


def test_each_condition_holds_only_the_order_it_describes(ws):
    rules = [
        ("countries", 'countries = ["Germany"]'),
        ("postcodes", 'postcodes = ["BT*"]'),
        ("total", 'currency = "USD"\nmin_total = 500'),
        ("weight", "min_weight_g = 2500"),
        ("items", "min_items = 10"),
        ("blacklist", "blacklisted = true"),
        ("no phone", 'missing = ["phone"]'),
        ("service", 'shipping_services = ["Expedited"]'),
        ("tag", 'tags = ["fraud-check"]'),
        ("shop", 'shops = ["shop-b"]'),
        ("paid long ago", "paid_hours_over = 720"),
    ]
    toml = "".join(f'\n[[review_rules]]\nname = "{n}"\n{cond}\nhold = "{n}"\n' for n, cond in rules)
    toml += '\n[blacklist]\nemails = ["FRAUD@example.com"]\nphones = ["+44 7700 900123"]\n'
    _setup(ws, toml)
    paid = "2026-11-01 08:00:00"
    no_phone = _row("C-nophone", "A")
    no_phone[ORDER_HEADER.index("phone")] = ""
    blacklisted = _row("C-blacklist", "A")
    blacklisted[ORDER_HEADER.index("email")] = "fraud@example.com"
    by_phone = _row("C-blackphone", "A")
    by_phone[ORDER_HEADER.index("phone")] = "07700900123"
    gb = _row("C-postcode", "A", country="GB", postcode="BT1 1AA")
    ws.drop("orders.csv", HEADER, [
        _row("C-countries", "A", country="DE", postcode="10115"), gb,
        _row("C-total", "A", qty=1, price="600.00"),
        _row("C-weight", "HEAVY"),
        _row("C-items", "A", qty=4), _row("C-items", "B", qty=6),
        blacklisted, by_phone, no_phone,
        _row("C-service", "A", service="expedited"),
        _row("C-tag", "A", tags="vip, Fraud-Check"),
        _row("C-shop", "A", shop="shop-b"),
        _row("C-clean", "A", qty=9, price="40.00", tags="vip", service="Standard", paid=paid),
    ])
    assert main(["run", "-w", str(ws.root)]) == 0
    o = _by_id(ws)
    expected = {"C-countries": "countries", "C-postcode": "postcodes", "C-total": "total",
                "C-weight": "weight", "C-items": "items", "C-blacklist": "blacklist", "C-blackphone": "blacklist",
                "C-nophone": "no phone", "C-service": "service", "C-tag": "tag", "C-shop": "shop"}
    for order_id, reason in expected.items():
        assert o.loc[order_id, "stage"] == "hold", order_id
        assert o.loc[order_id, "hold_reason"].startswith(f"{reason} (review rule "), (order_id, o.loc[order_id])
    # Every order was paid more than 720 hours (30 days) before the run: the last rule holds the one
    # order that no earlier rule matched, and only that one.
    assert o.loc["C-clean", "hold_reason"] == "paid long ago (review rule 11 'paid long ago')"


def test_rules_check_finds_shadowed_rules_and_unknown_names(ws, capsys):
    _setup(ws, """
[[logistics]]
countries = ["GB", "IE"]
channel = "SMALL"

[[logistics]]
name = "light GB"
countries = ["GB"]
max_weight_g = 500
channel = "YW"

[[logistics]]
name = "nowhere"
countries = ["FR"]
channel = "NOPE"

[[review_rules]]
name = "impossible"
min_total = 100
max_total = 50
hold = "never"

[[review_rules]]
shops = ["shop-z"]
skus = ["GHOST"]
hold = "ghost"
""")
    capsys.readouterr()
    # A rule routing to a channel nobody declared stops the run before anything is read.
    assert ws.run() == 2
    assert "logistics rule 3 'nowhere': unknown channel: channel 'NOPE' is not declared" in capsys.readouterr().err
    assert main(["rules", "check", "-w", str(ws.root)]) == 1
    out = capsys.readouterr().out
    assert "logistics rule 2 'light GB': shadowed: every order it matches, logistics rule 1 (channel SMALL)" in out
    assert "logistics rule 3 'nowhere': unknown channel" in out
    assert "review rule 1 'impossible': never fires: min_total 100 is above max_total 50" in out
    assert "review rule 2: unknown shop: 'shop-z'" in out
    # The test config's GB rule comes after the GB-and-IE one now; its catch-all is shadowed by nothing.
    assert "logistics rule 4: shadowed: every order it matches, logistics rule 1 (channel SMALL)" in out
    assert "logistics rule 5" not in out


def _rules_workbook(path, header, rows):
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "rules"
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    wb.save(path)


def test_a_rules_workbook_replaces_the_rules_and_a_bad_one_changes_nothing(ws, capsys):
    _setup(ws, "")
    inbox = ws.root / "inbox"
    _rules_workbook(inbox / "rules.xlsx", ["规则类型", "规则名称", "国家", "挂起原因", "物流渠道", "仓库"], [
        ["审单", "no Canada", "CA", "we do not ship to Canada", None, None],
        ["物流", "all GB small", "GB", None, "SMALL", "SZ"],
        ["物流", "rest", None, None, "YW", "SZ"],
    ])
    ws.drop("orders.csv", HEADER, [_row("R1", "A", country="CA", postcode="K1A 0B1"), _row("R2", "A")])
    assert ws.run() == 0
    o = _by_id(ws)
    assert o.loc["R1", "hold_reason"] == "we do not ship to Canada (review rule 1 'no Canada')"
    assert o.loc["R2", "channel"] == "YW"

    # An unknown condition column, a country that is none, and an undeclared channel: each rejects the workbook.
    _rules_workbook(inbox / "rules-2.xlsx", ["rule_type", "countries", "colour", "hold"],
                    [["review", "US", "red", "red US orders"]])
    _rules_workbook(inbox / "rules-3.xlsx", ["rule_type", "countries", "hold"],
                    [["review", "US", "all US"], ["review", "Atlantis", "never"]])
    _rules_workbook(inbox / "rules-4.xlsx", ["rule_type", "channel"], [["logistics", "FAST"]])
    ws.drop("orders-2.csv", HEADER, [_row("R3", "A", country="CA", postcode="K1A 0B1"), _row("R4", "A")])
    assert ws.run() == 1
    report = ws.errors_report("rules-2.xlsx")
    assert report[["column"]].values.tolist() == [["colour"]]
    assert "not expected" in report["problem"][0]
    report = ws.errors_report("rules-3.xlsx")
    assert report[["row", "column", "value"]].values.tolist() == [["3", "countries", "Atlantis"]]
    report = ws.errors_report("rules-4.xlsx")
    assert report[["row", "column", "value"]].values.tolist() == [["2", "channel", "FAST"]]
    o = _by_id(ws)
    assert o.loc["R3", "stage"] == "hold" and "Canada" in o.loc["R3", "hold_reason"]
    assert o.loc["R4", "stage"] == "print" and o.loc["R4", "channel"] == "YW"
    capsys.readouterr()
    assert main(["rules", "check", "-w", str(ws.root)]) == 0
    assert "review rules: 1 (from rules.xlsx)" in capsys.readouterr().out

    # A valid workbook of review rules only replaces the review rules; the logistics ones stay.
    _rules_workbook(inbox / "rules-5.xlsx", ["rule_type", "name", "countries", "hold"],
                    [["review", "no Mexico", "MX", "not to Mexico"]])
    ws.drop("orders-3.csv", HEADER, [_row("R5", "A", country="CA", postcode="K1A 0B1"),
                                     _row("R6", "A", country="GB", postcode="SW1A 1AA")])
    assert ws.run() == 0
    o = _by_id(ws)
    assert o.loc["R5", "stage"] == "print" and o.loc["R6", "channel"] == "SMALL"
    archived = ws.db().execute("SELECT source_file, active FROM rule_sets WHERE kind = 'review' "
                               "ORDER BY run_id").fetchall()
    assert archived == [("rules.xlsx", 0), ("rules-5.xlsx", 1)]


def test_explain_names_the_rule_that_matched_and_why_the_earlier_did_not(ws, capsys):
    _setup(ws, SKU_RULES)
    ws.drop("orders.csv", HEADER, [_row("E1", "A"), _row("E1", "BATT")])
    assert ws.run() == 0
    capsys.readouterr()
    assert main(["rules", "explain", "shop-a", "E1", "-w", str(ws.root)]) == 0
    out = capsys.readouterr().out
    assert "order shop-a/E1: stage hold, held: battery" in out
    assert "built-in checks: pass" in out
    assert "review rule 1 'VIP': did not match: no line's SKU (A, BATT) is VIP-*" in out
    assert "review rule 2 'batteries': MATCHED -> hold (battery: check the air-freight paperwork)" in out
    assert "logistics rule 1: did not match: country is US, not one of GB" in out
    assert "logistics rule 2: MATCHED -> channel YW; warehouse SZ" in out


def test_a_built_in_check_can_be_switched_off(ws):
    _setup(ws, "\n[review_checks]\npostcode = false\n")
    ws.drop("orders.csv", HEADER, [_row("N1", "A", postcode=""), _row("N2", "A", name=""),
                                   _row("N3", "A", name="", country="ZQ", postcode=""), _row("N4", "A", country="ZQ")])
    assert ws.run() == 0
    o = _by_id(ws)
    assert o.loc["N1", "stage"] == "print"
    assert (o.loc["N2", "stage"], o.loc["N2", "hold_reason"]) == ("hold", "recipient name missing")
    # Every check that fails is named, in the checks' order.
    assert o.loc["N3", "hold_reason"] == "recipient name missing; unknown country ZQ"
    assert o.loc["N4", "hold_reason"] == "unknown country ZQ"


def test_a_blacklist_sheet_replaces_the_previous_one(ws):
    _setup(ws, '\n[[review_rules]]\nname = "blacklist"\nblacklisted = true\nhold = "blacklisted buyer"\n')
    ws.drop("黑名单.csv", ["类型", "值", "原因"], [["邮箱", "Buyer@Example.com", "chargeback"],
                                                ["电话", "+1 (217) 555-0199", ""]])
    ws.drop("orders.csv", HEADER, [_row("B1", "A")])          # order_row's buyer@example.com
    assert ws.run() == 0
    assert _by_id(ws).loc["B1", "hold_reason"] == "blacklisted buyer (review rule 1 'blacklist')"
    ws.drop("blacklist-2.csv", ["field", "value"], [["name", "Nobody Here"]])
    ws.drop("orders-2.csv", HEADER, [_row("B2", "A")])
    assert ws.run() == 0
    assert _by_id(ws).loc["B2", "stage"] == "print"
    ws.drop("blacklist-3.csv", ["field", "value"], [["colour", "red"]])
    assert ws.run() == 1
    assert ws.errors_report("blacklist-3.csv")[["row", "column", "value"]].values.tolist() == [["2", "field", "colour"]]


@pytest.mark.parametrize("text, tags", [("", set()), ("   ", set()), ("VIP", {"vip"}),
                                        (" VIP , Gift；RUSH ", {"vip", "gift", "rush"}),
                                        ("a，b;c", {"a", "b", "c"}), (";,；，", set())])
def test_tags_are_split_on_either_width_of_separator_and_case_folded(text, tags):
    assert tag_set(text) == tags


def test_each_condition_decides_the_same_on_only_the_facts_it_reads():
    """The stages work out only the facts their rules read: for every condition, those facts pick
    the same orders as all of an order's facts do."""
    from datetime import datetime, timezone

    from batchship.rules.evaluate import facts_read, rule_mask
    from batchship.rules.facts import order_facts
    from batchship.rules.model import CONDITIONS, Rule

    orders = pd.DataFrame({
        "shop": ["shop-a", "shop-b"], "order_id": ["O1", "O2"], "country": ["US", "GB"], "currency": ["USD", "GBP"],
        "phone": ["+1 217 555 0134", ""], "email": ["a@example.com", ""], "platform": ["shopify", "amazon"],
        "postcode": ["62704", "SW1A 1AA"], "goods_value": ["10", "50"], "order_total": ["12", ""],
        "address1": ["PO Box 5", "1 High St"], "address2": ["", ""], "city": ["Springfield", "London"],
        "state": ["IL", ""], "recipient_name": ["Ann Lee", "Bob Hart"], "shipping_service": ["Express", "Standard"],
        "tags": ["vip", ""], "paid_at": ["2026-11-01T08:00:00+00:00", "2026-11-02T08:00:00+00:00"]})
    lines = pd.DataFrame({"shop": ["shop-a", "shop-b"], "order_id": ["O1", "O2"], "sku": ["A", "BATT"],
                          "quantity": [1, 3]})
    products = pd.DataFrame({"sku": ["A", "BATT"], "weight_g": [200, 500]})
    blacklist = pd.DataFrame({"field": ["email"], "value": ["a@example.com"]})
    now = datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    samples = {"shops": ("shop-a",), "platforms": ("shopify",), "countries": ("GB",), "postcodes": ("SW1A*",),
               "currency": "USD", "min_value": 20, "max_value": 20, "min_total": 20, "max_total": 20,
               "min_weight_g": 1000, "max_weight_g": 1000, "min_items": 2, "max_items": 2, "skus": ("BATT",),
               "sku_patterns": ("B*",), "blacklisted": True, "address_keywords": ("PO Box",),
               "missing": ("phone",), "shipping_services": ("express",), "tags": ("vip",), "paid_hours_over": 10}
    assert set(samples) == set(CONDITIONS)
    every_fact = order_facts(orders, lines, products, blacklist, now)
    for key, want in samples.items():
        rule = Rule(kind="review", number=1, name=key, conditions={key: want}, hold="x")
        read = facts_read((rule,))
        assert read and set(read) < set(every_fact.columns), key
        picked = rule_mask(rule, order_facts(orders, lines, products, blacklist, now, read))
        assert picked.tolist() == rule_mask(rule, every_fact).tolist(), key
        assert picked.sum() == 1, key          # a sample that tells the two orders apart
    off = Rule(kind="review", number=1, name="off", conditions={"countries": ("GB",)}, hold="x", enabled=False)
    assert facts_read((off,)) == frozenset()
    assert order_facts(orders, lines, products, blacklist, now, frozenset()).columns.empty
