"""Realistic sample inputs for `batchship demo`.

Each demo round writes a new day of business: orders from two shops (several
multi-line, a few that must be held), a stock count that leaves some orders
out of stock, the product/customs list, tracking-number pools for two
channels (one too small, so some orders wait for numbers) and a handover scan.
"""
from __future__ import annotations

import random
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from .config import CONFIG_NAME
from .paths import TEMPLATES_DIR
from .s10 import s10_check_digit
from .workspace import Workspace
from .writers.xlsx import write_workbook

PRODUCTS = [
    # sku, name, declared EN, declared CN, value USD, grams, HS code, origin
    ("DEMO-MUG-01", "Ceramic mug 350 ml", "Ceramic mug", "陶瓷杯", "4.50", 380, "691200", "CN"),
    ("DEMO-TEE-M", "Cotton T-shirt M", "Cotton T-shirt", "棉质T恤", "6.00", 180, "610910", "CN"),
    ("DEMO-TEE-L", "Cotton T-shirt L", "Cotton T-shirt", "棉质T恤", "6.00", 190, "610910", "CN"),
    ("DEMO-CABLE-C", "USB-C cable 1 m", "USB cable", "数据线", "2.20", 45, "854442", "CN"),
    ("DEMO-CASE-15", "Phone case model 15", "Plastic phone case", "手机壳", "1.80", 40, "392690", "CN"),
    ("DEMO-LED-STRIP", "LED strip 5 m", "LED light strip", "LED灯带", "7.50", 260, "940542", "CN"),
    ("DEMO-SOCKS-3", "Socks, 3 pairs", "Knitted socks", "针织袜", "3.00", 120, "611595", "CN"),
    ("DEMO-BOTTLE", "Steel bottle 500 ml", "Stainless steel bottle", "不锈钢水瓶", "5.50", 310, "732393", "CN"),
    ("DEMO-STICKER", "Sticker sheet", "Paper stickers", "贴纸", "0.50", 10, "482110", "CN"),
    ("DEMO-HEADSET", "Bluetooth headset", "Wireless earphones", "蓝牙耳机", "12.00", 95, "851830", "CN"),
    ("DEMO-LAMP-01", "Desk lamp", "Desk lamp", "台灯", "9.00", 900, "", "CN"),  # HS code missing: held
]
STOCK = {  # SZ warehouse counts; DEMO-STICKER is never counted (untracked: counts as in stock)
    "DEMO-MUG-01": ("A-01-01", 40), "DEMO-TEE-M": ("A-02-03", 25), "DEMO-TEE-L": ("A-02-04", 2),
    "DEMO-CABLE-C": ("B-01-01", 120), "DEMO-CASE-15": ("B-01-02", 60), "DEMO-LED-STRIP": ("B-03-01", 1),
    "DEMO-SOCKS-3": ("C-01-01", 30), "DEMO-BOTTLE": ("C-02-02", 15), "DEMO-HEADSET": ("D-01-01", 0),
    "DEMO-LAMP-01": ("D-02-01", 5),
}
RECIPIENTS = {
    "US": [("Emily Carter", "742 Evergreen Terrace", "", "Springfield", "IL", "62704", "+1 217 555 0134"),
           ("Marcus Johnson", "1600 Amphitheatre Pkwy", "Suite 5", "Mountain View", "CA", "94043", "+1 650 555 0188"),
           ("Sofía Hernández", "88 Ocean Dr", "Apt 12B", "Miami", "FL", "33139", "+1 305 555 0110")],
    "CA": [("Olivia Tremblay", "45 Rue Sainte-Catherine", "", "Montréal", "QC", "H2X 1K4", "+1 514 555 0199")],
    "AU": [("Jack Wilson", "12 George St", "", "Sydney", "NSW", "2000", "+61 2 5550 1234")],
    "GB": [("Oliver Smith", "221B Baker Street", "", "London", "", "NW1 6XE", "+44 20 7946 0958")],
    "DE": [("Jürgen Müller", "Hauptstraße 5", "", "Berlin", "", "10115", "+49 30 555 0101")],
    "FR": [("Chloé Dubois", "12 Rue de Rivoli", "", "Paris", "", "75001", "+33 1 55 55 01 01")],
    "PL": [("Łukasz Wiśniewski", "ul. Marszałkowska 10", "m. 4", "Warszawa", "", "00-001", "+48 22 555 01 01")],
    "VN": [("Nguyễn Văn An", "12 Lý Thường Kiệt", "Hoàn Kiếm", "Hà Nội", "", "100000", "+84 24 5550 1010")],
}


# One channel of the demo books over HTTP with the forwarder simulator, so the API path is seen
# working: its address changes with every demo (the simulator takes a free port).
DEMO_API_CHANNEL = "YUN-Demo"
DEMO_CREDENTIALS = {"BATCHSHIP_DEMO_CUSTOMER_CODE": "C0001", "BATCHSHIP_DEMO_API_SECRET": "sim-secret"}
_DEMO_API_BLOCK = """# ---- demo: booked over the API of the forwarder simulator (batchship forwarder-sim) ----
[[channels]]
name = "YUN-Demo"
source = "api"
forwarder = "yunexpress"
product_code = "S1002"
credentials = {{ customer_code = "BATCHSHIP_DEMO_CUSTOMER_CODE", api_secret = "BATCHSHIP_DEMO_API_SECRET" }}
base_url = "{url}"

[[logistics]]
countries = ["AU"]
channel = "YUN-Demo"
warehouse = "SZ"

"""
_DEMO_BASE_URL = re.compile(r'(name = "YUN-Demo"\n(?:[^\[].*\n)*?base_url = ")[^"]*(")')


def point_demo_channel_at(config_path: Path, url: str) -> None:
    """The demo workspace's API channel books with the simulator at ``url`` (added on first use)."""
    text = config_path.read_text(encoding="utf-8")
    if f'name = "{DEMO_API_CHANNEL}"' in text:
        text = _DEMO_BASE_URL.sub(lambda m: m.group(1) + url + m.group(2), text)
    else:
        at = text.find("[[logistics]]")
        block = _DEMO_API_BLOCK.format(url=url)
        text = text[:at] + block + text[at:] if at >= 0 else text + "\n" + block
    config_path.write_text(text, encoding="utf-8")


def demo_round(root: Path) -> int:
    seen = list(root.glob("inbox/**/demo-*orders*")) + list(root.glob("archive/**/demo-*orders*")) + \
        list(root.glob(".batchship/claimed/**/demo-*orders*"))
    return len({p.name for p in seen}) + 1


def write_demo_inputs(root: Path) -> list[Path]:
    ws = Workspace(root)
    ws.ensure()
    if not (root / CONFIG_NAME).exists():
        shutil.copyfile(TEMPLATES_DIR / "batchship.toml", root / CONFIG_NAME)
    n = demo_round(root)
    rng = random.Random(n)
    start = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc) + timedelta(days=n)
    tag = f"r{n:03d}"
    written = []

    # The product list does not change between days: sent again, it would be skipped as already applied
    # (or not, if the workbook's timestamp differs), so only the first day sends it.
    if n == 1:
        products = pd.DataFrame(PRODUCTS, columns=["sku", "name", "declared_name_en", "declared_name_cn",
                                                   "declared_value", "weight_g", "hs_code", "origin_country"])
        products.insert(5, "declared_currency", "USD")
        written.append(write_workbook(ws.inbox / f"demo-{tag}-products.xlsx", [("products", products)]))

    # Each later round is counted after a delivery of 10 more of everything.
    stock = pd.DataFrame([("SZ", sku, qty + 10 * (n - 1), shelf) for sku, (shelf, qty) in STOCK.items()],
                         columns=["warehouse", "sku", "on_hand", "shelf"])
    path = ws.inbox / f"demo-{tag}-stock.csv"
    stock.to_csv(path, index=False)
    written.append(path)

    orders = _orders(rng, start, tag)
    written.append(write_workbook(ws.inbox / f"demo-{tag}-orders.xlsx", [("orders", orders)]))

    pool = [("YW-Global", _s10("LY", n * 1000 + i)) for i in range(40)] + \
           [("CNE-Economy", f"3A5V{n:03d}{i:07d}") for i in range(6)]
    path = ws.inbox / f"demo-{tag}-tracking-pool.csv"
    pd.DataFrame(pool, columns=["channel", "tracking_number"]).to_csv(path, index=False)
    written.append(path)

    # The two oldest single-line US orders are handed over at once (scanned by order id).
    simple_us = orders[(orders["country"] == "United States") & (orders["sku"] == "DEMO-CABLE-C")]
    scans = simple_us.drop_duplicates("order_id").head(2)["order_id"]
    path = ws.inbox / f"demo-{tag}-handover.csv"
    pd.DataFrame({"reference": scans}).to_csv(path, index=False)
    written.append(path)
    return written


def _orders(rng: random.Random, start: datetime, tag: str) -> pd.DataFrame:
    rows = []
    stocked = [p[0] for p in PRODUCTS if p[0] not in ("DEMO-LAMP-01",)]
    names = {"US": "United States", "CA": "CA", "AU": "Australia", "GB": "GB", "DE": "Germany",
             "FR": "FR", "PL": "Poland", "VN": "VN"}
    for i in range(40):
        shop = "demo-us" if i % 2 == 0 else "demo-eu"
        country = rng.choice(["US", "CA", "AU"] if shop == "demo-us" else ["GB", "DE", "FR", "PL", "VN"])
        if i < 4:
            country = "US"
        name, a1, a2, city, state, zip_, phone = rng.choice(RECIPIENTS[country])
        order_id = f"{'US' if shop == 'demo-us' else 'EU'}-{tag}-{1000 + i}"
        paid = start + timedelta(minutes=17 * i)
        skus = ["DEMO-CABLE-C"] if i < 4 else rng.sample(stocked, rng.choice([1, 1, 1, 2, 3]))
        if i == 7:
            zip_ = ""                    # held: postcode missing
        if i == 9:
            country = "Atlantis"         # held: unknown country
        if i == 11:
            skus = ["DEMO-LAMP-01"]      # held: product has no HS code
        for sku in skus:
            qty = rng.choice([1, 1, 1, 2]) if sku != "DEMO-LED-STRIP" else 2
            price = next(p[4] for p in PRODUCTS if p[0] == sku)
            rows.append({
                "shop": shop, "order_id": order_id, "sku": sku, "quantity": qty,
                "unit_price": f"{float(price) * 3:.2f}", "currency": "USD" if shop == "demo-us" else "EUR",
                "paid_at": paid.strftime("%Y-%m-%d %H:%M:%S"), "recipient_name": name, "address1": a1,
                "address2": a2, "city": city, "state": state, "postcode": zip_,
                "country": names.get(country, country), "phone": phone,
                "email": f"buyer{i}@example.com",
            })
    return pd.DataFrame(rows)


def _s10(service: str, serial: int) -> str:
    digits = f"{serial % 100_000_000:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}CN"
