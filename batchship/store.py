"""The system of record across runs, in SQLite or PostgreSQL (batchship/database.py says which).

Everything a batch changes is written inside one transaction (``Store.batch``);
a crash or a lost connection before COMMIT leaves the previous state untouched.
Stock on hand is never stored: it is the sum of ledger movements.

Statements are written in the sqlite3 style (``self.db.execute("... ?", params)``) and must run
on both backends: upserts as ``INSERT ... ON CONFLICT``, lists as ``self.each`` (not json_each).
The schema changes only through a new migration in batchship/migrations/versions/.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from .database import Connection, make_engine
from .faults import checkpoint
from .schema_version import upgrade as upgrade_schema
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

# Primary keys, for upserts (INSERT ... ON CONFLICT (key) DO UPDATE: portable to PostgreSQL).
KEYS = {"orders": ["shop", "order_id"], "lines": ["shop", "order_id", "line_no"], "products": ["sku"],
        "pairing": ["shop", "platform_sku", "sku"], "blacklist": ["field", "value"]}
# Every table, parents before children, for copying a store (migrations/versions/ make them).
TABLES = ["orders", "lines", "products", "pairing", "stock_places", "ledger", "pool", "files", "runs",
          "run_files", "bookings", "rule_sets", "decisions", "blacklist", "events", "uploads"]


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


class StoreConflict(Exception):
    """Another site changed what this batch relies on; the batch rolls back and the next run retries."""


class Store:
    def __init__(self, location: Path | str, busy_timeout_seconds: float = 60.0):
        """``location``: a SQLite file, or a database URL (sqlite:///..., postgresql://...)."""
        url = location if isinstance(location, str) else "sqlite:///" + str(Path(location))
        self.url = url
        engine = make_engine(url, busy_timeout_seconds)
        try:
            upgrade_schema(engine)
            self.db = Connection(engine)
        except BaseException:
            engine.dispose()
            raise
        self.postgresql = self.db.postgresql
        # A list of values as rows of one column ``value``, from one JSON-array parameter.
        self.each = ("SELECT json_array_elements_text(CAST(? AS json)) AS value" if self.postgresql
                     else "SELECT value FROM json_each(?)")

    @property
    def path(self) -> Path | None:
        from .database import sqlite_path
        return sqlite_path(self.url)

    def close(self) -> None:
        self.db.close()

    def execute(self, sql: str, params: Iterable = ()):
        return self.db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable):
        return self.db.executemany(sql, rows)

    @contextmanager
    def _short_transaction(self, commit_points: bool = False, serialized: bool = False) -> Iterator[Connection]:
        """One transaction; ``commit_points``: the batch's kill points around its commit.
        ``serialized``: no other site's serialized transaction runs at the same time (PostgreSQL;
        SQLite's BEGIN IMMEDIATE already lets one writer in at a time)."""
        self.db.execute("BEGIN" if self.postgresql else "BEGIN IMMEDIATE")
        try:
            if serialized and self.postgresql:
                # Allocation reads on hand and what other orders hold, then writes; two sites doing
                # that at once would each see the other's stock as free. Row locks cannot cover rows
                # the other site has not written yet, so batches take turns on one transaction-level
                # advisory lock (released by COMMIT or ROLLBACK, also when the connection drops);
                # SERIALIZABLE would instead fail and redo whole batches under contention.
                self.db.execute("SELECT pg_advisory_xact_lock(7310013)")
            yield self.db
        except BaseException:
            try:
                self.db.execute("ROLLBACK")
            except Exception:   # the connection is gone: the server has rolled back already
                pass
            raise
        if commit_points:
            checkpoint("before-commit")
        self.db.execute("COMMIT")
        if commit_points:
            checkpoint("after-commit")

    @contextmanager
    def batch(self) -> Iterator[Connection]:
        """One transaction: everything or nothing, one site's batch at a time."""
        with self._short_transaction(commit_points=True, serialized=True) as db:
            yield db

    # ---- reading -------------------------------------------------------------------------
    def frame(self, sql: str, params: Iterable = ()) -> pd.DataFrame:
        result = self.db.execute(sql, params)
        cols = list(result.keys())
        return pd.DataFrame.from_records([tuple(r) for r in result.fetchall()], columns=cols)

    def _orders_where(self, where: str, params: Iterable = ()) -> pd.DataFrame:
        df = self.frame(f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders WHERE {where}", params)
        return _typed(df, ORDER_COLUMNS)

    def active_orders(self, extra_keys: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
        """Orders still in progress, plus the finished ones named in ``extra_keys``."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT INTO wanted VALUES (?, ?)", list(extra_keys))
        stages = _placeholders(len(ACTIVE_STAGES))
        return self._orders_where(
            f"stage IN ({stages}) OR (shop, order_id) IN (SELECT shop, order_id FROM wanted)", ACTIVE_STAGES)

    def keys_referenced(self, refs: set[str]) -> set[tuple[str, str]]:
        """(shop, order_id) of every order, finished or not, that one of ``refs`` names by tracking
        number or order id: a scan or decision on a finished order is then reported as such."""
        if not refs:
            return set()
        wanted = json.dumps(sorted(refs))
        rows = self.db.execute(f"SELECT shop, order_id FROM orders WHERE tracking_number IN ({self.each}) "
                               f"OR order_id IN ({self.each})", (wanted, wanted))
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
                          "ORDER BY channel, seq")

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
        rows = self.db.execute(f"SELECT tracking_number FROM pool WHERE status = 'void' AND tracking_number IN "
                               f"({self.each})", (json.dumps(sorted(numbers)),))
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
        return self._orders_where(
            "merged_into = '' AND (stage = 'hold' "
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
        with self._short_transaction():   # one commit, not one per row
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
        with self._short_transaction():   # one commit, not one per row
            self.db.executemany("INSERT INTO uploads (shop, order_id, tracking_number, run_id) "
                                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", ((s, o, t, run_id) for s, o, t in rows))

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
            "DO UPDATE SET shelf = CASE WHEN excluded.shelf != '' THEN excluded.shelf ELSE stock_places.shelf END",
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
        """Numbers are drawn in the order they arrived (``seq``); a number already known is kept as it is."""
        if numbers.empty:
            return
        last = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM pool").fetchone()[0]
        self.db.executemany(
            "INSERT INTO pool (tracking_number, channel, source_file, source_row, seq) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            ((t, c, str(f), None if pd.isna(r) else int(r), last + i) for i, (t, c, f, r) in enumerate(
                numbers[[PoolNumber.tracking_number, PoolNumber.channel, PoolNumber.file, PoolNumber.row]]
                .itertuples(index=False), start=1)))

    def mark_pool(self, run_id: str, issued: pd.DataFrame, voided: list[str]) -> None:
        """issued: tracking_number, shop, order_id. A number leaves 'free' once and never returns to it:
        each is claimed with a row lock that another site's batch skips, and a number that is no
        longer free (taken by another site) rolls the whole batch back."""
        numbers = issued["tracking_number"].tolist() if len(issued) else []
        for i in range(0, len(numbers), 5000):
            chunk = json.dumps(numbers[i:i + 5000])
            claimed = self.db.execute(
                f"SELECT COUNT(*) FROM (SELECT tracking_number FROM pool WHERE status = 'free' AND tracking_number "
                f"IN ({self.each}){' FOR UPDATE SKIP LOCKED' if self.postgresql else ''}) AS free_now",
                (chunk,)).fetchone()[0]
            if claimed != len(set(numbers[i:i + 5000])):
                raise StoreConflict("a tracking number this batch drew was issued by another run meanwhile")
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

    def record_file(self, run_id: str, claimed: str, name: str, outcome: str, detail: str = "",
                    problems: list[dict] | None = None, sha256: str = "", kind: str = "",
                    platform: str = "") -> None:
        self.db.execute("INSERT INTO run_files (run_id, claimed_path, name, outcome, detail, problems, "
                        "sha256) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, claimed_path) DO UPDATE SET "
                        "name = excluded.name, outcome = excluded.outcome, detail = excluded.detail, "
                        "problems = excluded.problems, sha256 = excluded.sha256",
                        (run_id, claimed, name, outcome, detail, json.dumps(problems or [], ensure_ascii=False),
                         sha256))
        if outcome == "applied" and sha256:
            # No ON CONFLICT: a file another site applied meanwhile makes this batch roll back.
            self.db.execute("INSERT INTO files (sha256, name, kind, platform, run_id) VALUES (?, ?, ?, ?, ?)",
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

    def recent_runs(self, n: int = 5) -> list[tuple[str, str, str, dict]]:
        rows = self.db.execute("SELECT run_id, started_at, finished_at, summary FROM runs "
                               "ORDER BY run_id DESC LIMIT ?", (n,)).fetchall()
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def stage_counts(self) -> pd.DataFrame:
        return self.frame("SELECT stage, stock_status, printed, COUNT(*) AS orders FROM orders "
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
                          f"({self.each})", (json.dumps(sorted(set(references))),))
        return {r["reference"]: r for r in rows.to_dict("records")}

    def listed_in_sheet(self, run_id: str) -> pd.DataFrame:
        """The bookings a run put into booking sheets (and still waiting for their result)."""
        return self.frame(f"SELECT {', '.join(self.BOOKING_COLUMNS)} FROM bookings WHERE state = 'sheet' "
                          "AND run_id = ? ORDER BY channel, reference", (run_id,))

    def tracking_numbers_in_use(self, numbers: Iterable[str]) -> dict[str, str]:
        """number -> where it is already used (an order's waybill or the tracking pool)."""
        wanted = json.dumps(sorted(set(numbers)))
        used = {t: f"order {s}/{o}" for t, s, o in self.db.execute(
            f"SELECT tracking_number, shop, order_id FROM orders WHERE tracking_number IN ({self.each})",
            (wanted,))}
        for (t,) in self.db.execute(f"SELECT tracking_number FROM pool WHERE tracking_number IN ({self.each})",
                                    (wanted,)):
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
            f"(label_path != '' OR label_problem != '') AND tracking_number IN ({self.each})",
            (json.dumps(sorted(set(tracking_numbers))),))
        return {t: (path, problem) for t, path, problem in rows}


    # ---- the whole store (batchship db copy) ------------------------------------------------
    def row_counts(self) -> dict[str, int]:
        return {t: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}

    def copy_from(self, source: "Store", chunk: int = 20_000) -> None:
        """Every row of every table of ``source``, in one transaction: all of it or nothing."""
        with self._short_transaction():
            for table in TABLES:
                result = source.db.execute(f"SELECT * FROM {table}")
                columns = list(result.keys())
                insert = (f"INSERT INTO {table} ({', '.join(columns)}) "
                          f"VALUES ({_placeholders(len(columns))})")
                while True:
                    rows = result.fetchmany(chunk)
                    if not rows:
                        break
                    self.db.executemany(insert, rows)
            if self.postgresql:   # ledger ids were copied: new movements continue after them
                self.db.execute("SELECT setval(pg_get_serial_sequence('ledger', 'id'), "
                                "COALESCE((SELECT MAX(id) FROM ledger), 0) + 1, false)")

    def ledger_frames(self) -> dict[str, pd.DataFrame]:
        """What batchship/ledger_checks.py checks: on hand, movements, tracking numbers, allocations."""
        return {"on_hand": self.on_hand(),
                "movements": self.frame("SELECT warehouse, sku, delta FROM ledger"),
                "orders": self.frame("SELECT shop, order_id, tracking_number, merged_into FROM orders"),
                "allocated": self.allocated()}


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


def _upsert(db: Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    key = KEYS[table]
    update = (f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
              + ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key))
    if db.postgresql and len(frame) >= 1000:
        # Large batches on PostgreSQL: COPY into a scratch table, then one upsert from it (one
        # statement instead of a round trip per row). Later rows of a key win, as with executemany.
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS bulk_{table} (LIKE {table} INCLUDING DEFAULTS, bulk_seq BIGSERIAL)")
        db.execute(f"TRUNCATE bulk_{table}")
        cursor = db.sa.connection.driver_connection.cursor()
        with cursor.copy(f"COPY bulk_{table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in _rows(frame, columns):
                copy.write_row(row)
        db.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT DISTINCT ON ({', '.join(key)}) "
                   f"{', '.join(columns)} FROM bulk_{table} ORDER BY {', '.join(key)}, bulk_seq DESC " + update)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))}) " + update
    db.executemany(sql, _rows(frame, columns))


def _rows(frame: pd.DataFrame, columns: list[str]):
    cols = [frame[c].tolist() for c in columns]
    ints = [c in INT_COLUMNS for c in columns]
    for values in zip(*cols):
        # Text columns get text: PostgreSQL, unlike SQLite, refuses a number for a TEXT column.
        yield tuple((None if v is None or (isinstance(v, float) and v != v) else int(v)) if is_int else
                    ("" if v is None or (isinstance(v, float) and v != v) else v if isinstance(v, str) else str(v))
                    for v, is_int in zip(values, ints))
