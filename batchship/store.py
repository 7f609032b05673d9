"""The system of record across runs, in SQLite.

Everything a batch changes is written inside one transaction (``Store.batch``);
a crash before COMMIT leaves the previous state untouched. Stock on hand is
never stored: it is the sum of ledger movements.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from .faults import checkpoint
from .schemas import ACTIVE_STAGES, PoolNumber, Product

# Order-level state columns (one row per order). Stage values follow DESIGN.md.
ORDER_COLUMNS = [
    "shop", "order_id", "platform", "stage", "held_at", "hold_reason", "failure_reason", "notes",
    "channel", "warehouse", "tracking_number", "stock_status", "paid_at", "recipient_name",
    "address1", "address2", "city", "state", "postcode", "country", "phone", "email",
    "currency", "order_total", "goods_value", "platform_status", "shipping_service", "tags",
    "printed", "printed_run", "ignored_failure", "merge", "merged_into", "split", "split_of",
    "source_file", "source_row",
    "created_run", "updated_run",
]
CUSTOMS_COLUMNS = ["declared_name_en", "declared_name_cn", "declared_value", "declared_currency",
                   "weight_g", "hs_code", "origin_country"]
# platform_line / platform_quantity: the marketplace's own line and units, kept through bundle pairing
# so tracking uploads confirm what the buyer ordered, not the warehouse units it became.
LINE_COLUMNS = ["shop", "order_id", "line_no", "item_id", "platform_sku", "sku", "quantity",
                "platform_line", "platform_quantity", "unit_price", "raw", "source_file",
                "source_row"] + CUSTOMS_COLUMNS
INT_COLUMNS = {"source_row", "line_no", "quantity", "weight_g", "platform_line", "platform_quantity"}

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS orders ({", ".join(c + (" INTEGER" if c in INT_COLUMNS else " TEXT NOT NULL DEFAULT ''") for c in ORDER_COLUMNS)},
    PRIMARY KEY (shop, order_id));
CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage);
CREATE INDEX IF NOT EXISTS orders_tracking ON orders(tracking_number);
CREATE TABLE IF NOT EXISTS lines ({", ".join(c + (" INTEGER" if c in INT_COLUMNS else " TEXT NOT NULL DEFAULT ''") for c in LINE_COLUMNS)},
    PRIMARY KEY (shop, order_id, line_no));
CREATE TABLE IF NOT EXISTS products ({", ".join(c + (" INTEGER" if c in INT_COLUMNS else " TEXT NOT NULL DEFAULT ''") for c in Product.columns)},
    PRIMARY KEY (sku));
CREATE TABLE IF NOT EXISTS pairing (shop TEXT NOT NULL, platform_sku TEXT NOT NULL, sku TEXT NOT NULL,
    quantity INTEGER NOT NULL, source_file TEXT, source_row INTEGER, PRIMARY KEY (shop, platform_sku, sku));
CREATE TABLE IF NOT EXISTS stock_places (warehouse TEXT NOT NULL, sku TEXT NOT NULL, shelf TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (warehouse, sku));
CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,
    warehouse TEXT NOT NULL, sku TEXT NOT NULL, delta INTEGER NOT NULL, cause TEXT NOT NULL,
    reference TEXT NOT NULL, source_file TEXT NOT NULL DEFAULT '', source_row INTEGER);
CREATE INDEX IF NOT EXISTS ledger_place ON ledger(warehouse, sku);
CREATE INDEX IF NOT EXISTS ledger_place_delta ON ledger(warehouse, sku, delta);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_once ON ledger(cause, reference, warehouse, sku)
    WHERE cause = 'ship';
CREATE TABLE IF NOT EXISTS pool (tracking_number TEXT PRIMARY KEY, channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'free', shop TEXT NOT NULL DEFAULT '', order_id TEXT NOT NULL DEFAULT '',
    issued_run TEXT NOT NULL DEFAULT '', source_file TEXT NOT NULL DEFAULT '', source_row INTEGER);
CREATE INDEX IF NOT EXISTS pool_free ON pool(channel, status);
CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
    platform TEXT NOT NULL, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL,
    committed_at TEXT NOT NULL DEFAULT '', finished_at TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '{{}}');
CREATE TABLE IF NOT EXISTS run_files (run_id TEXT NOT NULL, claimed_path TEXT NOT NULL, name TEXT NOT NULL,
    outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', problems TEXT NOT NULL DEFAULT '[]',
    sha256 TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, claimed_path));
CREATE TABLE IF NOT EXISTS bookings (reference TEXT PRIMARY KEY, shop TEXT NOT NULL, order_id TEXT NOT NULL,
    channel TEXT NOT NULL, forwarder TEXT NOT NULL, state TEXT NOT NULL, tracking_number TEXT NOT NULL DEFAULT '',
    shipment_id TEXT NOT NULL DEFAULT '', label_path TEXT NOT NULL DEFAULT '', label_problem TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0, run_id TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS bookings_order ON bookings(shop, order_id);
CREATE TABLE IF NOT EXISTS rule_sets (kind TEXT NOT NULL, run_id TEXT NOT NULL, source_file TEXT NOT NULL,
    rules TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (kind, run_id));
CREATE TABLE IF NOT EXISTS decisions (run_id TEXT NOT NULL, source_file TEXT NOT NULL, source_row INTEGER,
    shop TEXT NOT NULL, order_id TEXT NOT NULL, action TEXT NOT NULL, argument TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '', result TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', decision_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_run ON decisions(run_id);
CREATE INDEX IF NOT EXISTS decisions_order ON decisions(shop, order_id);
CREATE TABLE IF NOT EXISTS blacklist (field TEXT NOT NULL, value TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    source_file TEXT NOT NULL DEFAULT '', source_row INTEGER, PRIMARY KEY (field, value));
CREATE TABLE IF NOT EXISTS events (run_id TEXT NOT NULL, shop TEXT NOT NULL, order_id TEXT NOT NULL,
    event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
CREATE TABLE IF NOT EXISTS uploads (shop TEXT NOT NULL, order_id TEXT NOT NULL, tracking_number TEXT NOT NULL,
    run_id TEXT NOT NULL, PRIMARY KEY (shop, order_id, tracking_number));
"""


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


class Store:
    def __init__(self, path: Path, busy_timeout_seconds: float = 60.0):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_seconds)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """A workspace made by an earlier version gets the columns added since (empty or 0)."""
        for table, columns in (("orders", ORDER_COLUMNS), ("lines", LINE_COLUMNS), ("products", Product.columns),
                               ("run_files", ["sha256"])):
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column not in have:
                    kind = "INTEGER NOT NULL DEFAULT 0" if column in INT_COLUMNS else "TEXT NOT NULL DEFAULT ''"
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    if (table, column) == ("orders", "printed"):
                        # Before print state was kept, every in-stock order in print had its label.
                        self.db.execute("UPDATE orders SET printed = 'yes' WHERE stage IN ('print', 'shipped') "
                                        "AND stock_status = 'in_stock' AND tracking_number != ''")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _short_transaction(self, commit_points: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; ``commit_points``: the batch's kill points around its commit."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        if commit_points:
            checkpoint("before-commit")
        self.db.execute("COMMIT")
        if commit_points:
            checkpoint("after-commit")

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """One transaction: everything or nothing."""
        with self._short_transaction(commit_points=True) as db:
            yield db

    # ---- reading -------------------------------------------------------------------------
    def frame(self, sql: str, params: Iterable = ()) -> pd.DataFrame:
        cur = self.db.execute(sql, tuple(params))
        cols = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=cols)

    def _orders_where(self, where: str, params: Iterable = ()) -> pd.DataFrame:
        df = self.frame(f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders WHERE {where}", params)
        return _typed(df, ORDER_COLUMNS)

    def active_orders(self, extra_keys: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
        """Orders still in progress, plus the finished ones named in ``extra_keys``."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT INTO wanted VALUES (?, ?)", list(extra_keys))
        stages = _placeholders(len(ACTIVE_STAGES))
        # A UNION, not an OR: each side uses an index (stage; the primary key), so the cost follows
        # the open orders and the batch, never the years of finished orders beside them.
        df = self.frame(f"SELECT {', '.join('o.' + c for c in ORDER_COLUMNS)} FROM (SELECT shop, order_id FROM orders "
                        f"WHERE stage IN ({stages}) UNION SELECT shop, order_id FROM wanted) k "
                        "JOIN orders o ON o.shop = k.shop AND o.order_id = k.order_id", ACTIVE_STAGES)
        return _typed(df, ORDER_COLUMNS)

    def keys_referenced(self, refs: set[str]) -> set[tuple[str, str]]:
        """(shop, order_id) of every order, finished or not, that one of ``refs`` names by tracking
        number or order id: a scan or decision on a finished order is then reported as such."""
        if not refs:
            return set()
        wanted = json.dumps(sorted(refs))
        rows = self.db.execute("SELECT shop, order_id FROM orders WHERE tracking_number IN (SELECT value FROM "
                               "json_each(?)) OR order_id IN (SELECT value FROM json_each(?))", (wanted, wanted))
        return {(shop, oid) for shop, oid in rows}

    def lines_of(self, orders: pd.DataFrame) -> pd.DataFrame:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_lines (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted_lines")
        self.db.executemany("INSERT INTO wanted_lines VALUES (?, ?)",
                            list(zip(orders["shop"], orders["order_id"])) if len(orders) else [])
        df = self.frame(f"SELECT {', '.join('l.' + c for c in LINE_COLUMNS)} FROM lines l "
                        "JOIN wanted_lines w ON w.shop = l.shop AND w.order_id = l.order_id "
                        "ORDER BY l.shop, l.order_id, l.line_no")
        return _typed(df, LINE_COLUMNS)

    def orders_by_keys(self, keys: Iterable[tuple[str, str]]) -> pd.DataFrame:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_keys (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted_keys")
        self.db.executemany("INSERT INTO wanted_keys VALUES (?, ?)", list(keys))
        return self._orders_where("(shop, order_id) IN (SELECT shop, order_id FROM wanted_keys)")

    def products(self) -> pd.DataFrame:
        return _typed(self.frame(f"SELECT {', '.join(Product.columns)} FROM products"), Product.columns)

    def pairing(self) -> pd.DataFrame:
        return self.frame("SELECT shop, platform_sku, sku, quantity FROM pairing")

    def on_hand(self) -> pd.DataFrame:
        """warehouse, sku, on_hand (sum of the ledger), shelf: every place ever counted."""
        return self.frame(
            "SELECT p.warehouse, p.sku, COALESCE(SUM(l.delta), 0) AS on_hand, p.shelf "
            "FROM stock_places p LEFT JOIN ledger l ON l.warehouse = p.warehouse AND l.sku = p.sku "
            "GROUP BY p.warehouse, p.sku ORDER BY p.warehouse, p.sku")

    def shelves(self) -> pd.DataFrame:
        """warehouse, sku, shelf of every place ever counted, without summing the ledger."""
        return self.frame("SELECT warehouse, sku, shelf FROM stock_places ORDER BY warehouse, sku")

    def allocated(self) -> pd.DataFrame:
        """warehouse, sku, allocated: units held by in-stock orders not yet shipped."""
        return self.frame(
            "SELECT o.warehouse, l.sku, SUM(l.quantity) AS allocated FROM orders o "
            "JOIN lines l ON l.shop = o.shop AND l.order_id = o.order_id "
            "WHERE o.stage = 'print' AND o.stock_status = 'in_stock' GROUP BY o.warehouse, l.sku")

    def waiting_for_stock(self) -> pd.DataFrame:
        """warehouse, sku, waiting (units), orders: what out-of-stock orders still need."""
        return self.frame(
            "SELECT o.warehouse, l.sku, SUM(l.quantity) AS waiting, COUNT(DISTINCT o.shop || '/' || o.order_id) "
            "AS orders FROM orders o JOIN lines l ON l.shop = o.shop AND l.order_id = o.order_id "
            "WHERE o.stage = 'print' AND o.stock_status = 'out_of_stock' "
            "AND (o.warehouse, l.sku) IN (SELECT warehouse, sku FROM stock_places) "
            "GROUP BY o.warehouse, l.sku ORDER BY o.warehouse, l.sku")

    def movements(self, run_id: str) -> pd.DataFrame:
        """The ledger rows a run booked, with their cause and source."""
        return self.frame("SELECT warehouse, sku, delta, cause, reference, source_file, source_row FROM ledger "
                          "WHERE run_id = ? ORDER BY id", (run_id,))

    def free_pool(self) -> pd.DataFrame:
        return self.frame("SELECT channel, tracking_number FROM pool WHERE status = 'free' "
                          "ORDER BY channel, rowid")

    def known_pool_numbers(self, numbers: list[str]) -> dict[str, str]:
        """tracking number -> channel for numbers already in the pool."""
        out: dict[str, str] = {}
        for i in range(0, len(numbers), 500):
            chunk = numbers[i:i + 500]
            rows = self.db.execute(
                f"SELECT tracking_number, channel FROM pool WHERE tracking_number IN ({_placeholders(len(chunk))})",
                chunk).fetchall()
            out.update(rows)
        return out

    def voided_numbers(self, numbers: set[str]) -> set[str]:
        rows = self.db.execute("SELECT tracking_number FROM pool WHERE status = 'void' AND tracking_number IN "
                               "(SELECT value FROM json_each(?))", (json.dumps(sorted(numbers)),))
        return {r[0] for r in rows}

    def rules_in_force(self, kind: str) -> tuple[str, list[dict]] | None:
        """The source file and rows (setting -> cell text) of the last rules workbook of ``kind``."""
        row = self.db.execute("SELECT source_file, rules FROM rule_sets WHERE kind = ? AND active = 1",
                              (kind,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def warehouses(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT DISTINCT warehouse FROM ledger UNION "
                                              "SELECT DISTINCT warehouse FROM stock_places")}

    def applied_decisions(self, keys: Iterable[tuple[str, str]]) -> frozenset[str]:
        """Decision keys (stages/actions.decision_key) applied earlier to these orders."""
        keys = list(keys)
        if not keys:
            return frozenset()
        found = set()
        for shop, order_id in keys:
            found |= {r[0] for r in self.db.execute(
                "SELECT decision_key FROM decisions WHERE shop = ? AND order_id = ? AND result = 'applied'",
                (shop, order_id))}
        return frozenset(found)

    def orders_needing_a_person(self) -> pd.DataFrame:
        """Held orders, waybill failures not ignored, orders waiting for stock, labels not printed
        (a merged parcel by its leading order)."""
        return self._orders_where(   # stage IN first: the stage index, not a scan of finished orders
            "stage IN ('hold', 'waybill', 'print') AND merged_into = '' AND (stage = 'hold' "
            "OR (stage = 'waybill' AND failure_reason != '' AND failure_reason != ignored_failure) "
            "OR (stage = 'print' AND stock_status = 'out_of_stock') "
            "OR (stage = 'print' AND stock_status = 'in_stock' AND tracking_number != '' AND printed = ''))")

    def cancel_failures(self, keys: Iterable[tuple[str, str]] | None = None) -> pd.DataFrame:
        """Bookings a forwarder would not cancel, of cancelled orders (all, or of ``keys``)."""
        df = self.frame("SELECT b.reference, b.shop, b.order_id, b.tracking_number, b.forwarder, b.reason "
                        "FROM bookings b JOIN orders o ON o.shop = b.shop AND o.order_id = b.order_id "
                        "WHERE b.state = 'cancel_failed' AND o.stage = 'cancelled'")
        if keys is not None:
            wanted = set(keys)
            df = df[pd.Series([k in wanted for k in zip(df["shop"], df["order_id"])], index=df.index, dtype=bool)]
        return df

    def set_booking_states(self, references: Iterable[str], state: str) -> None:
        self.db.executemany("UPDATE bookings SET state = ? WHERE reference = ?", ((state, r) for r in references))

    def decision_results(self, run_id: str) -> pd.DataFrame:
        return self.frame("SELECT source_file, source_row, shop, order_id, action, argument, note, result, reason "
                          "FROM decisions WHERE run_id = ? ORDER BY source_file, source_row", (run_id,))

    def applied_file(self, sha256: str) -> str | None:
        row = self.db.execute("SELECT run_id FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    # ---- writing (inside Store.batch) -----------------------------------------------------
    def upsert_orders(self, orders: pd.DataFrame) -> None:
        _upsert(self.db, "orders", ORDER_COLUMNS, orders)

    def replace_lines(self, lines: pd.DataFrame) -> None:
        if lines.empty:
            return
        keys = lines[["shop", "order_id"]].drop_duplicates()
        self.db.executemany("DELETE FROM lines WHERE shop = ? AND order_id = ?", keys.itertuples(index=False))
        _upsert(self.db, "lines", LINE_COLUMNS, lines)

    def upsert_products(self, products: pd.DataFrame) -> None:
        _upsert(self.db, "products", Product.columns, products)

    def replace_pairing(self, pairing: pd.DataFrame) -> None:
        """A pairing sheet states the whole pairing of each platform SKU it names: a bundle can shrink."""
        named = pairing[["shop", "platform_sku"]].drop_duplicates()
        self.db.executemany("DELETE FROM pairing WHERE shop = ? AND platform_sku = ?", named.itertuples(index=False))
        _upsert(self.db, "pairing", ["shop", "platform_sku", "sku", "quantity", "source_file", "source_row"], pairing)

    def replace_rules(self, kind: str, run_id: str, source_file: str, rules: list[dict]) -> None:
        """A rules workbook's rules of one kind become the rules in force; the earlier sets stay, inactive."""
        self.db.execute("UPDATE rule_sets SET active = 0 WHERE kind = ?", (kind,))
        self.db.execute("DELETE FROM rule_sets WHERE kind = ? AND run_id = ?", (kind, run_id))
        self.db.execute("INSERT INTO rule_sets (kind, run_id, source_file, rules, active) VALUES (?, ?, ?, ?, 1)",
                        (kind, run_id, source_file, json.dumps(rules, ensure_ascii=False)))

    def record_decisions(self, run_id: str, results: pd.DataFrame) -> None:
        self.db.executemany(
            "INSERT INTO decisions (run_id, source_file, source_row, shop, order_id, action, argument, note, "
            "result, reason, decision_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((run_id, r.source_file, int(r.source_row), r.shop, r.order_id, r.action, r.argument, r.note,
              r.result, r.reason, r.decision_key) for r in results.itertuples(index=False)))

    def mark_printed(self, run_id: str, keys: Iterable[tuple[str, str]]) -> None:
        """Orders whose label this run's outputs wrote. Redone after a crash, it changes nothing more."""
        self.db.executemany("UPDATE orders SET printed = 'yes', printed_run = ? WHERE shop = ? AND order_id = ? "
                            "AND printed = ''", ((run_id, s, o) for s, o in keys))

    def replace_blacklist(self, entries: pd.DataFrame) -> None:
        self.db.execute("DELETE FROM blacklist")
        _upsert(self.db, "blacklist", ["field", "value", "note", "source_file", "source_row"],
                entries.drop_duplicates(["field", "value"], keep="last"))

    def blacklist(self) -> pd.DataFrame:
        return self.frame("SELECT field, value FROM blacklist")

    def mark_uploaded(self, run_id: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """(shop, order_id, tracking_number) this run's upload files carry. The first run to upload a
        number keeps it, so outputs redone after a crash change nothing."""
        self.db.executemany("INSERT OR IGNORE INTO uploads (shop, order_id, tracking_number, run_id) "
                            "VALUES (?, ?, ?, ?)", ((s, o, t, run_id) for s, o, t in rows))

    def uploaded_before(self, run_id: str, rows: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """Of these (shop, order_id, tracking_number), those an earlier run uploaded: -> that run."""
        found = {}
        for s, o, t in rows:
            hit = self.db.execute("SELECT run_id FROM uploads WHERE shop = ? AND order_id = ? AND tracking_number = ? "
                                  "AND run_id != ?", (s, o, t, run_id)).fetchone()
            if hit:
                found[(s, o, t)] = hit[0]
        return found

    def set_shelves(self, places: pd.DataFrame) -> None:
        self.db.executemany(
            "INSERT INTO stock_places (warehouse, sku, shelf) VALUES (?, ?, ?) ON CONFLICT (warehouse, sku) "
            "DO UPDATE SET shelf = CASE WHEN excluded.shelf != '' THEN excluded.shelf ELSE shelf END",
            places[["warehouse", "sku", "shelf"]].itertuples(index=False))

    def add_movements(self, run_id: str, moves: pd.DataFrame) -> None:
        """moves: warehouse, sku, delta, cause, reference, source_file, source_row."""
        if moves.empty:
            return
        self.db.executemany(
            "INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference, source_file, source_row) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((run_id, r.warehouse, r.sku, int(r.delta), r.cause, r.reference, r.source_file,
              None if pd.isna(r.source_row) else int(r.source_row)) for r in moves.itertuples(index=False)))

    def add_pool_numbers(self, numbers: pd.DataFrame) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO pool (tracking_number, channel, source_file, source_row) VALUES (?, ?, ?, ?)",
            numbers[[PoolNumber.tracking_number, PoolNumber.channel, PoolNumber.file, PoolNumber.row]]
            .itertuples(index=False))

    def mark_pool(self, run_id: str, issued: pd.DataFrame, voided: list[str]) -> None:
        """issued: tracking_number, shop, order_id. A number leaves 'free' once and never returns to it."""
        self.db.executemany(
            "UPDATE pool SET status = 'issued', shop = ?, order_id = ?, issued_run = ? "
            "WHERE tracking_number = ? AND status = 'free'",
            ((r.shop, r.order_id, run_id, r.tracking_number) for r in issued.itertuples(index=False)))
        self.db.executemany("UPDATE pool SET status = 'void' WHERE tracking_number = ?", ((n,) for n in voided))

    def record_events(self, run_id: str, events: pd.DataFrame) -> None:
        if events.empty:
            return
        self.db.executemany("INSERT INTO events (run_id, shop, order_id, event, detail) VALUES (?, ?, ?, ?, ?)",
                            ((run_id, r.shop, r.order_id, r.event, r.detail) for r in events.itertuples(index=False)))

    def load_history(self, chunks: Iterable[tuple[pd.DataFrame, ...]]) -> None:
        """Bulk load past orders (a migration from another system, or a benchmark's year of history):
        each chunk is (orders, lines, ledger, events, pool) frames with columns named as the tables';
        the runs they name are recorded as finished. One transaction per chunk."""
        for orders, lines, ledger, events, pool in chunks:
            with self._short_transaction() as db:
                _insert(db, "orders", orders)
                _insert(db, "lines", lines)
                _insert(db, "ledger", ledger)
                _insert(db, "events", events)
                _insert(db, "pool", pool)
                runs = sorted(set(orders["created_run"]) | set(orders["updated_run"]) | set(ledger["run_id"]))
                db.executemany("INSERT OR IGNORE INTO runs (run_id, started_at, committed_at, finished_at) "
                               "VALUES (?, ?, ?, ?)", ((r, r, r, r) for r in runs))

    def record_file(self, run_id: str, claimed: str, name: str, outcome: str, detail: str = "",
                    problems: list[dict] | None = None, sha256: str = "", kind: str = "",
                    platform: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO run_files (run_id, claimed_path, name, outcome, detail, problems, "
                        "sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (run_id, claimed, name, outcome, detail, json.dumps(problems or [], ensure_ascii=False),
                         sha256))
        if outcome == "applied" and sha256:
            self.db.execute("INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?)",
                            (sha256, name, kind, platform, run_id))

    # ---- runs ----------------------------------------------------------------------------
    def start_run(self, run_id: str, started_at: str) -> None:
        self.db.execute("INSERT INTO runs (run_id, started_at) VALUES (?, ?)", (run_id, started_at))

    def commit_run(self, run_id: str, committed_at: str, summary: dict) -> None:
        self.db.execute("UPDATE runs SET committed_at = ?, summary = ? WHERE run_id = ?",
                        (committed_at, json.dumps(summary, ensure_ascii=False), run_id))

    def update_summary(self, run_id: str, summary: dict) -> None:
        self.db.execute("UPDATE runs SET summary = ? WHERE run_id = ?",
                        (json.dumps(summary, ensure_ascii=False), run_id))

    def finish_run(self, run_id: str, finished_at: str) -> None:
        self.db.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (finished_at, run_id))

    def unfinished_runs(self) -> list[str]:
        """Runs whose batch committed but whose outputs and file moves may not be complete."""
        return [r[0] for r in self.db.execute(
            "SELECT run_id FROM runs WHERE committed_at != '' AND finished_at = '' ORDER BY run_id")]

    def run_summary(self, run_id: str) -> dict:
        row = self.db.execute("SELECT summary FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def run_files(self, run_id: str) -> pd.DataFrame:
        return self.frame("SELECT claimed_path, name, outcome, detail, problems, sha256 FROM run_files "
                          "WHERE run_id = ?", (run_id,))

    def run_events(self, run_id: str) -> pd.DataFrame:
        return self.frame("SELECT shop, order_id, event, detail FROM events WHERE run_id = ?", (run_id,))

    def run_event_counts(self, run_id: str) -> dict[str, int]:
        rows = self.db.execute("SELECT event, COUNT(*) FROM events WHERE run_id = ? GROUP BY event", (run_id,))
        return {event: int(n) for event, n in rows}

    def recent_runs(self, n: int = 5) -> list[tuple[str, str, str, dict]]:
        rows = self.db.execute("SELECT run_id, started_at, finished_at, summary FROM runs "
                               "ORDER BY run_id DESC LIMIT ?", (n,)).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def stage_counts(self) -> pd.DataFrame:
        # Only orders in print are told apart by stock and print state; the others are counted on the
        # stage index alone, without reading a year of finished orders' rows.
        return self.frame("SELECT stage, '' AS stock_status, '' AS printed, COUNT(*) AS orders FROM orders "
                          "WHERE stage != 'print' GROUP BY stage UNION ALL "
                          "SELECT stage, stock_status, printed, COUNT(*) AS orders FROM orders WHERE stage = 'print' "
                          "GROUP BY stage, stock_status, printed")

    def hold_reasons(self) -> pd.DataFrame:
        return self.frame("SELECT hold_reason, COUNT(*) AS orders FROM orders WHERE stage = 'hold' "
                          "GROUP BY hold_reason ORDER BY orders DESC")


    # ---- bookings with forwarders (written outside a batch, one short transaction each) ----------
    # A booking row is written before its request is sent and again when the answer is in, so a run
    # killed in between leaves a "sending" row: the next run asks the forwarder about that reference
    # before it books again.
    BOOKING_COLUMNS = ["reference", "shop", "order_id", "channel", "forwarder", "state", "tracking_number",
                       "shipment_id", "label_path", "label_problem", "reason", "attempts", "run_id"]


    def orders_to_book(self, channels: list[str]) -> pd.DataFrame:
        """Orders of these channels waiting in the waybill stage, with their booking so far (if any):
        never booked, or sent without an answer, or refused before the order last changed."""
        if not channels:
            return pd.DataFrame(columns=ORDER_COLUMNS + ["booking_state", "attempts", "booking_updated_at"])
        df = self.frame(
            f"SELECT {', '.join('o.' + c for c in ORDER_COLUMNS)}, COALESCE(b.state, '') AS booking_state, "
            "COALESCE(b.attempts, 0) AS attempts, COALESCE(b.updated_at, '') AS booking_updated_at "
            "FROM orders o LEFT JOIN bookings b "
            "ON b.shop = o.shop AND b.order_id = o.order_id AND b.state NOT IN ('cancelled', 'cancel_failed') "
            f"WHERE o.stage = 'waybill' AND o.channel IN ({_placeholders(len(channels))}) "
            "AND (b.state IS NULL OR b.state = 'sending' OR (b.state = 'refused' AND o.updated_run > b.run_id))",
            channels)
        return _typed(df, ORDER_COLUMNS)

    def booked_in_waybill(self, channels: list[str]) -> list[tuple[str, str]]:
        """Orders still in the waybill stage whose parcel is booked: a run stopped before giving them
        their numbers."""
        if not channels:
            return []
        return self.db.execute(
            "SELECT o.shop, o.order_id FROM orders o JOIN bookings b ON b.shop = o.shop AND b.order_id = o.order_id "
            f"WHERE o.stage = 'waybill' AND b.state = 'booked' AND o.channel IN ({_placeholders(len(channels))})",
            channels).fetchall()

    def record_booking_intents(self, rows: list[dict], run_id: str, now: str, state: str = "sending") -> None:
        """``sending``: about to be sent to a forwarder's API; ``sheet``: listed in a booking sheet."""
        with self._short_transaction() as db:
            db.executemany(
                "INSERT INTO bookings (reference, shop, order_id, channel, forwarder, state, attempts, run_id, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (reference) DO UPDATE SET "
                "state = CASE WHEN bookings.state = 'booked' THEN 'booked' ELSE excluded.state END, "
                "attempts = bookings.attempts + 1, run_id = excluded.run_id, updated_at = excluded.updated_at",
                [(r["reference"], r["shop"], r["order_id"], r["channel"], r["forwarder"], state, run_id, now)
                 for r in rows])

    def record_booking_results(self, results: list[tuple]) -> None:
        """(reference, state, now, tracking_number, shipment_id, label_path, label_problem, reason) each."""
        with self._short_transaction():
            self.set_booking_results(results)

    def set_booking_results(self, results: list[tuple], run_id: str | None = None) -> None:
        """``record_booking_results`` inside a batch's transaction (result sheets): ``run_id`` is the
        run the results arrived in, so a refusal is retried only once the order changes after it."""
        self.db.executemany("UPDATE bookings SET state = ?, updated_at = ?, tracking_number = ?, shipment_id = ?, "
                            "label_path = ?, label_problem = ?, reason = ?, run_id = COALESCE(?, run_id) "
                            "WHERE reference = ?", [(*r[1:], run_id, r[0]) for r in results])

    def bookings_of(self, keys: Iterable[tuple[str, str]]) -> pd.DataFrame:
        """The live booking (not cancelled) of each of these orders that has one."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_bookings (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted_bookings")
        self.db.executemany("INSERT INTO wanted_bookings VALUES (?, ?)", list(keys))
        return self.frame(
            f"SELECT {', '.join('b.' + c for c in self.BOOKING_COLUMNS)} FROM bookings b JOIN wanted_bookings w "
            "ON w.shop = b.shop AND w.order_id = b.order_id WHERE b.state NOT IN ('cancelled', 'cancel_failed')")

    def sheet_bookings(self, references: Iterable[str]) -> dict[str, dict]:
        """reference -> booking, for references a result sheet names."""
        rows = self.frame(f"SELECT {', '.join(self.BOOKING_COLUMNS)} FROM bookings WHERE reference IN "
                          "(SELECT value FROM json_each(?))", (json.dumps(sorted(set(references))),))
        return {r["reference"]: r for r in rows.to_dict("records")}

    def listed_in_sheet(self, run_id: str) -> pd.DataFrame:
        """The bookings a run put into booking sheets (and still waiting for their result)."""
        return self.frame(f"SELECT {', '.join(self.BOOKING_COLUMNS)} FROM bookings WHERE state = 'sheet' "
                          "AND run_id = ? ORDER BY channel, reference", (run_id,))

    def tracking_numbers_in_use(self, numbers: Iterable[str]) -> dict[str, str]:
        """number -> where it is already used (an order's waybill or the tracking pool)."""
        wanted = json.dumps(sorted(set(numbers)))
        used = {t: f"order {s}/{o}" for t, s, o in self.db.execute(
            "SELECT tracking_number, shop, order_id FROM orders WHERE tracking_number IN "
            "(SELECT value FROM json_each(?))", (wanted,))}
        for (t,) in self.db.execute("SELECT tracking_number FROM pool WHERE tracking_number IN "
                                    "(SELECT value FROM json_each(?))", (wanted,)):
            used.setdefault(t, "the tracking pool")
        return used

    def bookings_to_cancel(self) -> pd.DataFrame:
        """Booked parcels whose order has since been cancelled."""
        return self.frame(
            f"SELECT {', '.join('b.' + c for c in self.BOOKING_COLUMNS)} FROM bookings b JOIN orders o "
            "ON o.shop = b.shop AND o.order_id = b.order_id WHERE b.state = 'booked' AND o.stage = 'cancelled'")

    def carrier_labels(self, tracking_numbers: Iterable[str]) -> dict[str, tuple[str, str]]:
        """tracking number -> (label file, problem) for parcels whose forwarder prints the label."""
        rows = self.db.execute(
            "SELECT tracking_number, label_path, label_problem FROM bookings WHERE state = 'booked' AND "
            "(label_path != '' OR label_problem != '') AND tracking_number IN (SELECT value FROM json_each(?))", (json.dumps(sorted(set(tracking_numbers))),))
        return {t: (path, problem) for t, path, problem in rows}


def _typed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Empty frames keep their columns; integers stay integers, text stays text."""
    if df.empty:
        df = pd.DataFrame({c: pd.Series(dtype="int64" if c in INT_COLUMNS else object) for c in columns})
    for c in columns:
        if c in INT_COLUMNS:
            df[c] = df[c].fillna(0).astype("int64")
        else:
            df[c] = df[c].fillna("").astype(object)
    return df


def _upsert(db: sqlite3.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    sql = f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})"
    db.executemany(sql, _rows(frame, columns))


def _insert(db: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    """Plain INSERT of a frame's rows into the columns of the same names."""
    if frame.empty:
        return
    columns = [str(c) for c in frame.columns]
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})",
                   _rows(frame, columns))


def _rows(frame: pd.DataFrame, columns: list[str]):
    cols = [frame[c].tolist() for c in columns]
    ints = [c in INT_COLUMNS for c in columns]
    for values in zip(*cols):
        yield tuple((None if v is None or (isinstance(v, float) and v != v) else int(v)) if is_int else
                    ("" if v is None or (isinstance(v, float) and v != v) else v)
                    for v, is_int in zip(values, ints))
