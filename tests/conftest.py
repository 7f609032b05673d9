"""Shared helpers: a real workspace on disk and the CLI run in-process."""
from __future__ import annotations

import csv
import os
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from batchship.cli import main
from batchship.database import Connection, make_engine
from batchship.s10 import s10_check_digit
from postgres_fixture import postgres_db, postgres_server  # noqa: F401  (fixtures)

SHARED_FORMATS = Path(__file__).resolve().parents[2] / "shared" / "formats"

TEST_CONFIG = """
[[shops]]
name = "shop-a"
platform = "batchship"

[[shops]]
name = "shop-b"
platform = "batchship"

# Every marketplace a test may declare a shop of gets a carrier (a channel a rule can route a shop's
# orders to must name the carrier its upload needs).
[[channels]]
name = "YW"
label_size = "100x150"
carriers = { amazon = "Yanwen", ebay = "Yanwen", shopify = "Yanwen", tiktok = "Yanwen", walmart = "Yanwen", lazada = "Yanwen", etsy = "Yanwen", woocommerce = "Yanwen" }

[[channels]]
name = "SMALL"
label_size = "100x100"
carriers = { amazon = "China Post", ebay = "China Post", shopify = "China Post", tiktok = "China Post", walmart = "China Post", lazada = "China Post", etsy = "China Post", woocommerce = "China Post" }

[[logistics]]
countries = ["GB"]
channel = "SMALL"
warehouse = "SZ"

[[logistics]]
channel = "YW"
warehouse = "SZ"

# Files the tests write are complete when written: taken at once.
[watch]
settle_seconds = 0
min_age_seconds = 0
"""

ORDER_HEADER = ["shop", "order_id", "sku", "quantity", "unit_price", "currency", "paid_at", "recipient_name",
                "address1", "address2", "city", "state", "postcode", "country", "phone", "email"]
PRODUCT_HEADER = ["sku", "name", "declared_name_en", "declared_name_cn", "declared_value", "declared_currency",
                  "weight_g", "hs_code", "origin_country"]


def settled(*paths: Path) -> None:
    """Age files as if written ten minutes ago: complete under any readiness settings."""
    for path in paths:
        for file in ([path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]):
            past = time.time() - 600
            os.utime(file, (past, past))


def s10(serial: int, service: str = "RR") -> str:
    digits = f"{serial:08d}"
    return f"{service}{digits}{s10_check_digit(digits)}CN"


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def order_row(order_id: str, sku: str, qty: int, paid: str, shop: str = "shop-a", country: str = "US",
              name: str = "Emily Carter", postcode: str = "62704", price: str = "9.90") -> list:
    return [shop, order_id, sku, qty, price, "USD", paid, name, "742 Evergreen Terrace", "", "Springfield",
            "IL", postcode, country, "+1 217 555 0134", "buyer@example.com"]


def product_row(sku: str, grams: int = 200, hs: str = "691200") -> list:
    return [sku, f"Product {sku}", f"Goods {sku}", "商品", "5.00", "USD", grams, hs, "CN"]


def without_totals(df: pd.DataFrame) -> pd.DataFrame:
    """A sheet's data rows: the totals rows an accountant sums with ("Total", "Total USD" in the
    first column) left out."""
    first = df.iloc[:, 0].astype(str) if len(df.columns) else pd.Series(dtype=str)
    return df[~first.str.match(r"^Total( [A-Z]{3})?$")].reset_index(drop=True)


class Workspace:
    def __init__(self, root: Path, database: str = ""):
        """``database``: a PostgreSQL URL for the store; the workspace's SQLite file when empty."""
        self.root = root
        self.database = database
        assert main(["init", str(root)]) == 0
        setting = f'database = "{database}"\n' if database else ""
        (root / "batchship.toml").write_text(setting + TEST_CONFIG, encoding="utf-8")
        self._n = 0

    def drop(self, name: str, header: list[str], rows: list[list], shop: str = "") -> Path:
        folder = self.root / "inbox" / shop if shop else self.root / "inbox"
        return write_csv(folder / name, header, rows)

    def run(self) -> int:
        return main(["run", "-w", str(self.root)])

    def last_outbox(self) -> Path:
        runs = sorted(p for p in (self.root / "outbox").iterdir() if p.is_dir())
        return runs[-1]

    def orders(self) -> pd.DataFrame:
        """The orders sheet's order rows (without the totals rows under them)."""
        df = pd.read_excel(self.last_outbox() / "orders.xlsx", sheet_name="orders", dtype=str,
                           engine="calamine").fillna("")
        return without_totals(df)

    def db(self):
        """The store's database for reading state: sqlite3 on SQLite; on PostgreSQL a connection
        with sqlite3's ``execute`` (``?`` placeholders) and rows that compare equal to tuples."""
        if self.database:
            return Connection(make_engine(self.database))
        return sqlite3.connect(self.root / ".batchship" / "state.sqlite")

    def errors_report(self, name: str) -> pd.DataFrame:
        """The report beside a rejected file in failed/ (or failed/<shop>/)."""
        path = next((self.root / "failed").rglob(f"{name}.errors.xlsx"))
        return pd.read_excel(path, dtype=str, engine="calamine").fillna("")

    def stock(self) -> pd.DataFrame:
        df = pd.read_excel(self.last_outbox() / "stock.xlsx", sheet_name="stock", engine="calamine")
        return without_totals(df).set_index(["warehouse", "sku"])


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ws(request, tmp_path: Path) -> Workspace:
    """The same workspace on each backend: for the tests that must hold on both."""
    database = request.getfixturevalue("postgres_db") if request.param == "postgresql" else ""
    return Workspace(tmp_path / "ws", database)
