"""Each warehouse and each shop can ship under its own sender: labels, customs blocks, manifests and
forwarder bookings take the shop's sender where it has one (semi-managed shops), else the warehouse's,
else the global [sender]."""
from __future__ import annotations

import pandas as pd
import pypdfium2 as pdfium
import pytest

from batchship.forwarder_sim.runner import running_simulator
from conftest import ORDER_HEADER, PRODUCT_HEADER, TEST_CONFIG, order_row, product_row, s10, without_totals
from test_forwarder_booking import CREDENTIALS, booking_config

SENDERS = '''
[sender]
name = "Global HQ"
address = "1 Head Office Road, Shenzhen"
phone = "+86 755 0000 0000"

[[warehouses]]
name = "SZ"
sender = { name = "Wang Wei", company = "Shenzhen Warehouse Co.", address = "8 Bao'an Avenue, Shenzhen 518000", country = "CN", phone = "+86 755 1111 2222" }

[[warehouses]]
name = "DG"
sender = { name = "Li Na", company = "Dongguan Depot Ltd", address = "3 Changan Road, Dongguan 523000", country = "CN", phone = "+86 769 3333 4444" }

[[shops]]
name = "shop-c"
platform = "batchship"
sender = { name = "Chen Jie", company = "Semi Managed Store", address = "5 Nanshan Street, Shenzhen 518057", country = "CN", phone = "+86 755 5555 6666" }
'''
ROUTE_DG = '''
[[logistics]]
shops = ["shop-b"]
channel = "{channel}"
warehouse = "DG"
'''
EXPECTED = {   # order -> (sender that must show, senders that must not)
    "A1": ("Shenzhen Warehouse Co.", ("Dongguan Depot Ltd", "Semi Managed Store", "Global HQ")),
    "B1": ("Dongguan Depot Ltd", ("Shenzhen Warehouse Co.", "Semi Managed Store", "Global HQ")),
    "C1": ("Semi Managed Store", ("Shenzhen Warehouse Co.", "Dongguan Depot Ltd", "Global HQ")),
}
PHONES = {"A1": "+86 755 1111 2222", "B1": "+86 769 3333 4444", "C1": "+86 755 5555 6666"}


def _config(base: str, channel: str) -> str:
    # The shop-b rule goes first: the first matching logistics rule decides.
    return base.replace("[[logistics]]", ROUTE_DG.format(channel=channel) + "\n[[logistics]]", 1) + SENDERS


def _inputs(ws) -> None:
    ws.drop("products.csv", PRODUCT_HEADER, [product_row("MUG")])
    ws.drop("stock.csv", ["warehouse", "sku", "on_hand", "shelf"], [["SZ", "MUG", 50, "A-1"], ["DG", "MUG", 50, "D-1"]])
    ws.drop("orders.csv", ORDER_HEADER, [order_row("A1", "MUG", 1, "2026-11-01 08:00:00", shop="shop-a"),
                                         order_row("B1", "MUG", 1, "2026-11-01 08:05:00", shop="shop-b"),
                                         order_row("C1", "MUG", 1, "2026-11-01 08:10:00", shop="shop-c")])


def _label_texts(out) -> dict[str, str]:
    """Order id -> the text of its label page(s)."""
    texts: dict[str, str] = {}
    for path in sorted(out.glob("labels-*.pdf")):
        pdf = pdfium.PdfDocument(str(path))
        try:
            for page in pdf:
                text = page.get_textpage().get_text_range()
                for order in EXPECTED:
                    if f"/ {order}" in text:
                        texts[order] = texts.get(order, "") + text
        finally:
            pdf.close()
    return texts


def test_labels_customs_blocks_and_manifests_carry_the_shops_or_the_warehouses_sender(ws):
    (ws.root / "batchship.toml").write_text(_config(TEST_CONFIG, "YW"), encoding="utf-8")
    _inputs(ws)
    ws.drop("pool.csv", ["channel", "tracking_number"], [["YW", s10(i)] for i in range(1, 5)])
    assert ws.run() == 0
    orders = ws.orders().set_index("order_id")
    assert orders.loc[["A1", "B1", "C1"], "warehouse"].tolist() == ["SZ", "DG", "SZ"]
    texts = _label_texts(ws.last_outbox())
    assert sorted(texts) == ["A1", "B1", "C1"]
    for order, (mine, others) in EXPECTED.items():
        flat = " ".join(texts[order].split())
        # The customs declaration's sender, with its name first (the signature line takes it).
        assert f", {mine}, " in flat.split("From: ", 1)[1], (order, flat)
        assert PHONES[order] in flat, (order, flat)
        for other in others:
            assert other not in flat, (order, other)

    ws.drop("handover.csv", ["tracking_number"], [[orders.loc[o, "tracking_number"]] for o in EXPECTED])
    assert ws.run() == 0
    head = pd.read_excel(ws.last_outbox() / "manifest-YW.xlsx", sheet_name="manifest", engine="calamine")
    senders = head.loc[0, "sender"]
    assert all(EXPECTED[o][0] in senders for o in EXPECTED) and "Global HQ" not in senders


def test_forwarder_bookings_carry_each_parcels_sender(ws, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with running_simulator() as sim:
        (ws.root / "batchship.toml").write_text(_config(booking_config(sim.url), "YUN"), encoding="utf-8")
        _inputs(ws)
        assert ws.run() == 0
        booked = {s["ref"]: s for s in sim.shipments()}
    orders = without_totals(ws.orders()).set_index("order_id")
    assert (orders.loc[list(EXPECTED), "channel"] == "YUN").all()
    for order, (mine, _) in EXPECTED.items():
        shop = orders.loc[order, "shop"]
        sender = booked[f"{shop}/{order}"]["sender"]
        assert sender["Company"] == mine and sender["Phone"] == PHONES[order], (order, sender)
        assert sender["CountryCode"] == "CN"


@pytest.mark.parametrize("table, problem", [
    ('[[warehouses]]\nname = "US1"\nkind = "overseas"\n', 'kind must be "own"'),
    ('[[shops]]\nname = "s"\nplatform = "batchship"\nsender = { nmae = "x" }\n', "unknown setting 'nmae'"),
    ('[[warehouses]]\nname = "US1"\nkind = "third_party"\noutbound_format = "nosuch"\n',
     "warehouse 'US1': outbound format 'nosuch': no file nosuch.toml"),
    ('[[warehouses]]\nname = "US1"\nkind = "third_party"\n', "needs outbound_format"),
])
def test_a_mistyped_warehouse_or_sender_is_named(ws, table, problem, capsys):
    (ws.root / "batchship.toml").write_text(TEST_CONFIG + table, encoding="utf-8")
    assert ws.run() != 0
    assert problem in capsys.readouterr().err
