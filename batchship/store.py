"""The system of record across runs, in SQLite or PostgreSQL (batchship/database.py says which).

Everything a batch changes is written inside one transaction (``Store.batch``);
a crash or a lost connection before COMMIT leaves the previous state untouched.
Stock on hand is the sum of ledger movements. Each place's sum is kept in ``place_totals``,
written with the movements in the same transaction, so reading it costs the places and not the
history; the ledger stays the record, and every run's ledger check compares the two.

Statements are written in the sqlite3 style (``self.db.execute("... ?", params)``) and must run
on both backends: upserts as ``INSERT ... ON CONFLICT``, lists as ``self.each`` (not json_each).
The schema changes only through a new migration in batchship/migrations/versions/.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable, Iterator

import numpy as np
import pandas as pd

from .database import Connection, make_engine
from .faults import checkpoint
from .frame_records import column_rows, order_keys
from .schema_version import upgrade as upgrade_schema
from .schemas import ACTIVE_STAGES, PoolNumber, Product

# Order-level state columns (one row per order). Stage values follow DESIGN.md.
END_OF_TIME = "99999999"       # a run id bound after every run (run ids start with their date)
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
EVENT_COLUMNS = ["shop", "order_id", "event", "detail"]
INT_COLUMNS = {"source_row", "line_no", "quantity", "weight_g", "platform_line", "platform_quantity"}

log = logging.getLogger(__name__)

# Primary keys, for upserts (INSERT ... ON CONFLICT (key) DO UPDATE: portable to PostgreSQL).
KEYS = {"orders": ["shop", "order_id"], "lines": ["shop", "order_id", "line_no"], "products": ["sku"],
        "pairing": ["shop", "platform_sku", "sku"], "blacklist": ["field", "value"]}
# Every table, parents before children, for copying a store (migrations/versions/ make them).
TABLES = ["orders", "lines", "products", "pairing", "stock_places", "ledger", "place_totals", "pool", "files",
          "runs", "run_files", "bookings", "rule_sets", "decisions", "blacklist", "events", "uploads",
          "purchase_orders"]


@dataclass(frozen=True)
class StockRead:
    """A reading Store.stock_read_once takes once for the outputs: its columns, the query without
    its ORDER BY, and the columns it is ordered by."""
    columns: tuple[str, ...]
    sql: str
    order: tuple[str, ...] = ()

    @property
    def ordered_sql(self) -> str:
        return self.sql + (" ORDER BY " + ", ".join(self.order) if self.order else "")


# Each place's kept sum (on hand), and its sum over the whole ledger, which the ledger check compares
# with it.
STOCK_READS = {
    "on_hand": StockRead(("warehouse", "sku", "on_hand", "shelf"),
                         "SELECT p.warehouse AS warehouse, p.sku AS sku, COALESCE(t.total, 0) AS on_hand, p.shelf "
                         "AS shelf FROM stock_places p LEFT JOIN place_totals t ON t.warehouse = p.warehouse AND "
                         "t.sku = p.sku", ("warehouse", "sku")),
    "ledger_place_totals": StockRead(("warehouse", "sku", "total"),
                                     "SELECT warehouse, sku, SUM(delta) AS total FROM ledger GROUP BY warehouse, sku"),
}


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
        self._stock_reads: dict[str, pd.DataFrame] | None = None      # see stock_read_once
        self._wal_copy: threading.Thread | None = None                # see copy_wal_meanwhile
        # A list of values as rows of one column ``value``, from one JSON-array parameter.
        self.each = ("SELECT json_array_elements_text(CAST(? AS json)) AS value" if self.postgresql
                     else "SELECT value FROM json_each(?)")

    @property
    def path(self) -> Path | None:
        from .database import sqlite_path
        return sqlite_path(self.url)

    def close(self) -> None:
        if self._wal_copy is not None:
            self._wal_copy.join()
        self.db.close()

    def copy_wal_meanwhile(self) -> None:
        """SQLite: copies the pages of committed transactions from the write-ahead log into the database
        file on a thread of its own (a checkpoint), while the caller goes on. Closing the last
        connection does it anyway, with the run waiting: a batch on a large store leaves pages of every
        index in the log (0.3 s on a year of history). PostgreSQL: nothing to do."""
        path = self.path
        if path is None or self._wal_copy is not None:
            return

        def copy() -> None:
            try:
                connection = sqlite3.connect(path)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except sqlite3.Error:     # a checkpoint saves time only: closing the store does it anyway
                pass
        self._wal_copy = threading.Thread(target=copy, name="wal-checkpoint", daemon=True)
        self._wal_copy.start()

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
        return _read_frame(self.db, sql, params)

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
        rows = self.db.execute(f"SELECT shop, order_id FROM orders WHERE tracking_number IN ({self.each}) "
                               f"OR order_id IN ({self.each})", (wanted, wanted))
        return {(shop, oid) for shop, oid in rows}

    def lines_of(self, orders: pd.DataFrame) -> pd.DataFrame:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_lines (shop TEXT, order_id TEXT)")
        self.db.execute("DELETE FROM wanted_lines")
        self.db.executemany("INSERT INTO wanted_lines VALUES (?, ?)",
                            order_keys(orders) if len(orders) else [])
        # CROSS JOIN: SQLite then loops over the wanted keys and looks each up by the primary key; with
        # a plain JOIN it read all the lines of the history in key order to save sorting the few it
        # wanted. PostgreSQL plans a CROSS JOIN with a WHERE as any inner join.
        df = self.frame(f"SELECT {', '.join('l.' + c for c in LINE_COLUMNS)} FROM wanted_lines w CROSS JOIN lines l "
                        "WHERE w.shop = l.shop AND w.order_id = l.order_id "
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

    @contextmanager
    def stock_read_once(self) -> Iterator[None]:
        """Within: ``on_hand`` and ``ledger_place_totals`` (a sum over the whole ledger) are read once
        and shared (the outputs of a run read them for three workbooks). Writing stock or movements
        in between reads them afresh.

        Both are read from the start, in one snapshot (the ledger check compares them), on a thread
        and a connection of their own while the caller goes on: the sum grows with the history (0.2 s
        on a year of 1,000,000 orders), and the database works on it without Python's lock."""
        reading: Future = Future()
        reader = threading.Thread(target=self._read_stock, args=(reading,), name="stock-reads", daemon=True)
        reader.start()
        self._stock_reads = {name: reading for name in STOCK_READS}
        try:
            yield
        finally:
            self._stock_reads = None
            reader.join()

    def _read_stock(self, reading: Future) -> None:
        """STOCK_READS in one read-only transaction on a connection of this thread's own."""
        try:
            db = Connection(self.db.engine, owns_engine=False)
            try:
                db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if self.postgresql else "BEGIN")
                try:
                    found = {name: _read_at_once(db, read) for name, read in STOCK_READS.items()}
                finally:
                    db.execute("COMMIT")
            finally:
                db.close()
            reading.set_result(found)
        except Exception as exc:      # read on the store's own connection instead, when asked
            reading.set_exception(exc)

    def _stock_read(self, name: str) -> pd.DataFrame:
        if self._stock_reads is None:
            return self.frame(STOCK_READS[name].ordered_sql)
        found = self._stock_reads.get(name)
        if isinstance(found, Future):
            try:
                found = found.result()[name]
            except Exception:
                log.warning("reading %s beside the run failed; reading it again", name, exc_info=True)
                found = None
        if found is None:
            found = self.frame(STOCK_READS[name].ordered_sql)
        self._stock_reads[name] = found
        return found.copy()

    def _stock_changed(self) -> None:
        if self._stock_reads is not None:
            self._stock_reads.clear()

    def on_hand(self) -> pd.DataFrame:
        """warehouse, sku, on_hand (the kept sum of its movements), shelf: every place ever counted."""
        return self._stock_read("on_hand")

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

    def orders_needing_a_person(self, leaving_out: Collection[tuple[str, str]] = frozenset()) -> pd.DataFrame:
        """Held orders, waybill failures not ignored, orders waiting for stock, labels not printed
        (a merged parcel by its leading order); but not the orders ``leaving_out`` names."""
        where = ("stage IN ('hold', 'waybill', 'print') AND merged_into = '' AND (stage = 'hold' "
                 "OR (stage = 'waybill' AND failure_reason != '' AND failure_reason != ignored_failure) "
                 "OR (stage = 'print' AND stock_status = 'out_of_stock') "
                 "OR (stage = 'print' AND stock_status = 'in_stock' AND tracking_number != '' AND printed = ''))")
        if not leaving_out:     # stage IN first: the stage index, not a scan of finished orders
            return self._orders_where(where)
        # Keys first: while a large batch's labels print, most of these orders are the ones printing,
        # and reading their whole rows to drop them took 2 s of a 100,000-line batch.
        _, keys = self.db.fetch(f"SELECT shop, order_id FROM orders WHERE {where}")
        return self.orders_by_keys(key for key in map(tuple, keys) if key not in leaving_out)

    def cancel_failures(self, keys: Iterable[tuple[str, str]] | None = None) -> pd.DataFrame:
        """Bookings a forwarder would not cancel, of cancelled orders (all, or of ``keys``)."""
        # From the few failed bookings to their orders (CROSS JOIN: SQLite keeps that order), not from
        # every cancelled order of the history to its bookings.
        df = self.frame("SELECT b.reference, b.shop, b.order_id, b.tracking_number, b.forwarder, b.reason "
                        "FROM bookings b CROSS JOIN orders o WHERE o.shop = b.shop AND o.order_id = b.order_id "
                        "AND b.state = 'cancel_failed' AND o.stage = 'cancelled'")
        if keys is not None:
            wanted = set(keys)
            df = df[pd.Series([k in wanted for k in order_keys(df)], index=df.index, dtype=bool)]
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
        self.db.executemany("DELETE FROM lines WHERE shop = ? AND order_id = ?", order_keys(keys))
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
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_uploads (shop TEXT, order_id TEXT, "
                        "tracking_number TEXT)")
        self.db.execute("DELETE FROM wanted_uploads")
        self.db.executemany("INSERT INTO wanted_uploads VALUES (?, ?, ?)", list(rows))
        hits = self.db.execute(
            "SELECT u.shop, u.order_id, u.tracking_number, u.run_id FROM wanted_uploads w JOIN uploads u "
            "ON u.shop = w.shop AND u.order_id = w.order_id AND u.tracking_number = w.tracking_number "
            "WHERE u.run_id != ?", (run_id,)).fetchall()
        return {(s, o, t): run for s, o, t, run in hits}

    def set_shelves(self, places: pd.DataFrame, run_id: str = "") -> None:
        """Places whose stock is kept from ``run_id`` on (a place keeps the run it was first counted in)."""
        self._stock_changed()
        self.db.executemany(
            "INSERT INTO stock_places (warehouse, sku, shelf, since_run) VALUES (?, ?, ?, ?) ON CONFLICT (warehouse, sku) "
            "DO UPDATE SET shelf = CASE WHEN excluded.shelf != '' THEN excluded.shelf ELSE stock_places.shelf END",
            ((w, s, shelf, run_id) for w, s, shelf in places[["warehouse", "sku", "shelf"]].itertuples(index=False)))

    def add_movements(self, run_id: str, moves: pd.DataFrame) -> None:
        """moves: warehouse, sku, delta, cause, reference, source_file, source_row, and optionally note
        (an adjustment's reason, a receipt's date)."""
        if moves.empty:
            return
        self._stock_changed()
        notes = moves["note"].fillna("").astype(str) if "note" in moves else pd.Series("", index=moves.index)
        self.db.executemany(
            "INSERT INTO ledger (run_id, warehouse, sku, delta, cause, reference, source_file, source_row, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((run_id, r.warehouse, r.sku, int(r.delta), r.cause, r.reference, r.source_file,
              None if pd.isna(r.source_row) else int(r.source_row), note)
             for r, note in zip(moves.itertuples(index=False), notes)))
        _add_to_place_totals(self.db, moves)

    def add_pool_numbers(self, numbers: pd.DataFrame) -> None:
        """Numbers are drawn in the order they arrived (``seq``); a number already known is kept as it is."""
        if numbers.empty:
            return
        last = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM pool").fetchone()[0]
        source_rows = numbers[PoolNumber.row]
        self.db.executemany(
            "INSERT INTO pool (tracking_number, channel, source_file, source_row, seq) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            ((t, c, str(f), None if missing else int(r), last + i) for i, ((t, c, f), r, missing) in enumerate(
                zip(column_rows(numbers, (PoolNumber.tracking_number, PoolNumber.channel, PoolNumber.file)),
                    source_rows.tolist(), source_rows.isna().tolist()), start=1)))

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
            ((shop, order_id, run_id, number) for shop, order_id, number in
             column_rows(issued, ("shop", "order_id", "tracking_number"))))
        self.db.executemany("UPDATE pool SET status = 'void' WHERE tracking_number = ?", ((n,) for n in voided))

    def record_events(self, run_id: str, events: pd.DataFrame) -> None:
        if events.empty:
            return
        self.db.executemany("INSERT INTO events (run_id, shop, order_id, event, detail) VALUES (?, ?, ?, ?, ?)",
                            ((run_id, *row) for row in column_rows(events, ("shop", "order_id", "event", "detail"))))

    def load_history(self, chunks: Iterable[tuple[pd.DataFrame, ...]]) -> None:
        """Bulk load past orders (a migration from another system, or a benchmark's year of history):
        each chunk is (orders, lines, ledger, events, pool) frames with columns named as the tables';
        the runs they name are recorded as finished. One transaction per chunk."""
        self._stock_changed()
        for orders, lines, ledger, events, pool in chunks:
            with self._short_transaction() as db:
                _insert(db, "orders", orders)
                _insert(db, "lines", lines)
                _insert(db, "ledger", ledger)
                _add_to_place_totals(db, ledger)
                _insert(db, "events", events)
                _insert(db, "pool", pool)
                runs = sorted(set(orders["created_run"]) | set(orders["updated_run"]) | set(ledger["run_id"]))
                db.executemany("INSERT INTO runs (run_id, started_at, committed_at, finished_at) "
                               "VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING", ((r, r, r, r) for r in runs))

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
        return self.frame(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE run_id = ?", (run_id,))

    def run_frames(self, run_id: str, written: StoredRun | None = None) -> StoredRun:
        """The run's events, the orders they name and those orders' lines, orders and lines in key
        order. ``written``: what the run itself just stored, as ``StoredRun.of`` made it; the store is
        then read only for what the run did not write: an order one of its events names but it left
        alone (none today: refused scans and decisions name no shop), and lines of an order it left
        in place. Outputs made either way are the same, so a run redone after a kill writes what the
        first would have written."""
        if written is None:
            events = self.run_events(run_id)
            orders = self.orders_by_keys(dict.fromkeys(order_keys(events)))
            return StoredRun(events, _in_key_order(orders, "orders"), _in_key_order(self.lines_of(orders), "lines"))
        have = set(order_keys(written.orders))
        named = [k for k in dict.fromkeys(order_keys(written.events)) if k not in have]
        others = self.orders_by_keys(named) if named else None
        with_lines = set(order_keys(written.lines))
        no_lines = [k for k in order_keys(written.orders) if k not in with_lines]
        no_lines += order_keys(others) if others is not None else []
        lines = self.lines_of(pd.DataFrame(no_lines, columns=["shop", "order_id"])) if no_lines else None
        orders = _joined(written.orders, others)
        ours = written.lines
        if not with_lines <= have:      # lines of an order the store does not hold are not read back
            ours = ours[pd.Series([k in have for k in order_keys(ours)], index=ours.index, dtype=bool)]
        return StoredRun(written.events, _in_key_order(orders, "orders"),
                         _in_key_order(_joined(ours, lines), "lines"))

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

    # ---- reconciliation: periods are run days, [start, end) as run id prefixes ("YYYYMMDD") -----------
    # A run id starts with the seller's local date and time of the run, so a movement belongs to the day
    # its run started, and a range of days is the sum of its days.
    def stock_figures(self, start: str = "", end: str = "99999999", totals: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
        """Per warehouse and SKU moved before ``end``: opening (before ``start``), received, shipped,
        adjustments and counts (in the period) and closing (every movement before ``end``).
        ``totals``: ``ledger_place_totals()`` when the caller has read it already."""
        # Three small reads instead of one pass over the whole ledger, so a day's figures cost what
        # the day moved, not the years before it: each place's total (the ledger_place_delta index
        # holds it), less what runs from ``end`` on moved, is the closing; the period's movements
        # per cause come through the ledger_run index; the opening is the closing less all of them.
        totals = self.ledger_place_totals() if totals is None else totals
        # Bounded on both sides, so that SQLite reads these through the run index too.
        later = self.frame("SELECT warehouse, sku, SUM(delta) AS later FROM ledger WHERE run_id >= ? "
                           "AND run_id < ? GROUP BY warehouse, sku", (end, END_OF_TIME))
        moved = self.frame("SELECT warehouse, sku, cause, SUM(delta) AS moved FROM ledger WHERE run_id >= ? "
                           "AND run_id < ? GROUP BY warehouse, sku, cause", (start, end))
        place = ["warehouse", "sku"]
        by_cause = moved.pivot_table(index=place, columns="cause", values="moved", aggfunc="sum", fill_value=0)
        df = totals.merge(later, on=place, how="left").merge(by_cause.reset_index(), on=place, how="outer")
        figures = ["opening", "received", "shipped", "adjustments", "counts", "closing"]
        number = lambda column: pd.to_numeric(df[column], errors="coerce").fillna(0) if column in df else 0
        df["closing"] = number("total") - number("later")
        df["received"], df["shipped"] = number("receipt"), -number("ship")
        df["adjustments"], df["counts"] = number("adjustment"), number("count")
        # Every movement of the period, of any cause: one of none known leaves the identity short.
        period = sum((number(c) for c in by_cause.columns), start=pd.Series(0, index=df.index))
        df["opening"] = df["closing"] - period
        df = df[place + figures]
        df[figures] = df[figures].astype("int64")
        moved_now = (df[figures[1:5]] != 0).any(axis=1) | (period != 0)
        df = df[(df["opening"] != 0) | moved_now | (df["closing"] != 0)]
        return df.sort_values(place, kind="stable").reset_index(drop=True)

    def ledger_place_totals(self) -> pd.DataFrame:
        """warehouse, sku, total: each place's movements summed over the whole ledger (not the kept
        sums ``on_hand`` reads, which the ledger check compares with these)."""
        return self._stock_read("ledger_place_totals")

    def resum_place_totals(self) -> pd.DataFrame:
        """Each place's kept sum set to its sum over the ledger again (after the ledger was edited by
        hand); warehouse, sku, kept (before), ledger: the places whose kept sum changed."""
        with self.batch():
            self._stock_changed()
            kept = self.frame("SELECT warehouse, sku, total AS kept FROM place_totals")
            summed = self.frame("SELECT warehouse, sku, SUM(delta) AS ledger FROM ledger GROUP BY warehouse, sku")
            both = kept.merge(summed, on=["warehouse", "sku"], how="outer")
            both[["kept", "ledger"]] = both[["kept", "ledger"]].fillna(0).astype("int64")
            self.db.execute("DELETE FROM place_totals")
            self.db.executemany("INSERT INTO place_totals (warehouse, sku, total) VALUES (?, ?, ?)",
                                ((w, s, int(t)) for w, s, t in summed.itertuples(index=False)))
        changed = both[both["kept"] != both["ledger"]]
        return changed.sort_values(["warehouse", "sku"]).reset_index(drop=True)

    def ledger_rows(self, start: str = "", end: str = "99999999") -> pd.DataFrame:
        """Every movement of runs in [start, end), with the run's time."""
        return self.frame(
            "SELECT l.id AS movement, l.run_id, COALESCE(r.started_at, '') AS run_started, l.warehouse, l.sku, "
            "l.delta, l.cause, l.reference, l.note, l.source_file, l.source_row FROM ledger l "
            "LEFT JOIN runs r ON r.run_id = l.run_id WHERE l.run_id >= ? AND l.run_id < ? ORDER BY l.id",
            (start, end))

    def deduction_differences(self, since: str = "", limit: int = 1000) -> pd.DataFrame:
        """reference (shop/order_id), warehouse, sku, expected, deducted: where the units a handover
        shipped (on places kept when it shipped) and the ship movements disagree, for shipments of
        runs from ``since`` on."""
        # One pass over both sides, grouped once: cheaper than joining two aggregates. The kind of
        # event or movement is compared as an expression (|| ''), which no index serves: without
        # statistics SQLite would otherwise read every shipment of the history through the index on
        # that column instead of the recent runs through the run index.
        return self.frame(
            "SELECT reference, warehouse, sku, SUM(expected) AS expected, SUM(deducted) AS deducted FROM ("
            "SELECT s.shop || '/' || s.order_id AS reference, o.warehouse, l.sku, l.quantity AS expected, "
            "0 AS deducted FROM (SELECT DISTINCT shop, order_id, run_id FROM events WHERE event || '' = 'shipped' "
            "AND run_id >= ?) s "
            "JOIN orders o ON o.shop = s.shop AND o.order_id = s.order_id "
            "JOIN lines l ON l.shop = s.shop AND l.order_id = s.order_id JOIN stock_places p "
            "ON p.warehouse = o.warehouse AND p.sku = l.sku AND p.since_run <= s.run_id "
            "UNION ALL SELECT reference, warehouse, sku, 0, -delta FROM ledger WHERE cause || '' = 'ship' "
            "AND run_id >= ?) "
            "moved GROUP BY reference, warehouse, sku HAVING SUM(expected) != SUM(deducted) LIMIT ?",
            (since, since, limit))

    def tracking_differences(self, since: str = "", limit: int = 1000) -> pd.DataFrame:
        """tracking_number, orders, issued_to, carried_by: numbers on more than one parcel, and numbers
        drawn from a pool or booked (in runs from ``since`` on) that are not on the order they went to
        (cancelled orders aside)."""
        # With ``since``, only numbers issued or booked from then on: the orders_tracking_once index
        # already refuses a second parcel with a number, so the whole table is read for a report only.
        recent = ("" if not since else
                  "AND tracking_number IN (SELECT tracking_number FROM pool WHERE status = 'issued' AND issued_run >= ? "
                  "UNION SELECT tracking_number FROM bookings WHERE state = 'booked' AND run_id >= ?) ")
        twice = self.frame(
            "SELECT tracking_number, COUNT(*) AS orders, '' AS issued_to, "
            "MIN(shop || '/' || order_id) || ', ' || MAX(shop || '/' || order_id) AS carried_by FROM orders "
            "WHERE tracking_number != '' AND merged_into = '' " + recent + "GROUP BY tracking_number "
            "HAVING COUNT(*) > 1 LIMIT ?", ((since, since) if since else ()) + (limit,))
        astray = self.frame(
            "SELECT i.tracking_number, i.issued_to FROM (SELECT p.tracking_number, p.shop, p.order_id, "
            "p.shop || '/' || p.order_id AS issued_to FROM pool p WHERE p.status = 'issued' AND p.issued_run >= ? "
            "UNION SELECT b.tracking_number, b.shop, b.order_id, b.shop || '/' || b.order_id FROM bookings b "
            "WHERE b.state = 'booked' AND b.tracking_number != '' AND b.run_id >= ?) i "
            "LEFT JOIN orders o ON o.shop = i.shop AND o.order_id = i.order_id "
            "WHERE (o.tracking_number IS NULL OR o.tracking_number != i.tracking_number) "
            "AND COALESCE(o.stage, '') NOT IN ('cancelled', 'waybill') LIMIT ?", (since, since, limit))
        carriers = self.frame(
            "SELECT tracking_number, COUNT(*) AS orders, MIN(shop || '/' || order_id) AS carried_by FROM orders "
            "WHERE merged_into = '' AND tracking_number IN (" + self.each + ") "
            "GROUP BY tracking_number", (json.dumps(sorted(set(astray["tracking_number"]))),))
        astray = astray.merge(carriers, on="tracking_number", how="left")
        astray["orders"] = astray["orders"].fillna(0).astype("int64")
        astray["carried_by"] = astray["carried_by"].fillna("")
        return pd.concat([twice, astray[twice.columns]], ignore_index=True)

    # ---- purchasing ----------------------------------------------------------------------------
    def record_purchase_orders(self, run_id: str, lines: pd.DataFrame) -> None:
        """A purchase order sheet states its lines: one dropped again replaces their quantities."""
        self.db.executemany(
            "INSERT INTO purchase_orders (po_number, warehouse, sku, supplier, quantity, run_id, source_file, "
            "source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (po_number, warehouse, sku) DO UPDATE SET "
            "supplier = excluded.supplier, quantity = excluded.quantity, run_id = excluded.run_id, "
            "source_file = excluded.source_file, source_row = excluded.source_row",
            ((r.po_number, r.warehouse, r.sku, r.supplier, int(r.quantity), run_id, r.source_file,
              int(r.source_row)) for r in lines.itertuples(index=False)))

    def purchase_order_lines(self) -> pd.DataFrame:
        """Every purchase order line with what receipts naming its number brought in so far."""
        return self.frame(
            "SELECT p.po_number, p.supplier, p.warehouse, p.sku, p.quantity AS ordered, "
            "COALESCE(r.received, 0) AS received, p.run_id, p.source_file, p.source_row FROM purchase_orders p "
            "LEFT JOIN (SELECT reference, warehouse, sku, SUM(delta) AS received FROM ledger WHERE cause = 'receipt' "
            "GROUP BY reference, warehouse, sku) r ON r.reference = p.po_number AND r.warehouse = p.warehouse "
            "AND r.sku = p.sku ORDER BY p.po_number, p.warehouse, p.sku")

    def sales_since(self, paid_from: str) -> pd.DataFrame:
        """warehouse, sku, day (UTC date paid), units: order lines paid at or after ``paid_from``
        (UTC "YYYY-MM-DDTHH:MM:SSZ"), cancelled orders aside."""
        return self.frame(
            "SELECT o.warehouse, l.sku, SUBSTR(o.paid_at, 1, 10) AS day, SUM(l.quantity) AS units FROM orders o "
            "JOIN lines l ON l.shop = o.shop AND l.order_id = o.order_id WHERE o.paid_at >= ? AND o.paid_at != '' "
            "AND o.stage != 'cancelled' AND o.warehouse != '' GROUP BY o.warehouse, l.sku, SUBSTR(o.paid_at, 1, 10)",
            (paid_from,))

    def run_started(self, run_id: str) -> str:
        row = self.db.execute("SELECT started_at FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row[0] if row else ""

    # event || '': read through the run index, as in deduction_differences.
    _SHIPPED_IN = ("(SELECT shop, order_id, MIN(run_id) AS run_id FROM events WHERE event || '' = 'shipped' "
                   "AND run_id >= ? AND run_id < ? GROUP BY shop, order_id)")

    def shipped_orders(self, start: str = "", end: str = "99999999") -> pd.DataFrame:
        """Orders a handover shipped in runs of [start, end), with the run that shipped them."""
        return self.frame(
            "SELECT e.run_id, o.shop, o.order_id, o.merged_into, o.channel, o.warehouse, o.tracking_number, "
            "o.country, o.currency, o.goods_value, o.source_file, o.source_row FROM " + self._SHIPPED_IN + " e "
            "JOIN orders o ON o.shop = e.shop AND o.order_id = e.order_id ORDER BY e.run_id, o.shop, o.order_id",
            (start, end))

    def shipped_lines(self, start: str = "", end: str = "99999999") -> pd.DataFrame:
        """The lines of those orders: quantity, declared value (per unit) and currency, weight (per unit)."""
        return self.frame(
            "SELECT l.shop, l.order_id, l.sku, l.quantity, l.declared_value, l.declared_currency, l.weight_g "
            "FROM " + self._SHIPPED_IN + " e JOIN lines l ON l.shop = e.shop AND l.order_id = e.order_id",
            (start, end))

    def runs_between(self, start: str = "", end: str = "99999999") -> list[tuple[str, str, dict]]:
        """(run_id, started_at, summary) of the runs in [start, end)."""
        rows = self.db.execute("SELECT run_id, started_at, summary FROM runs WHERE run_id >= ? AND run_id < ? "
                               "ORDER BY run_id", (start, end)).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def out_of_stock_orders(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM orders WHERE stage = 'print' AND stock_status = 'out_of_stock' "
                               "AND merged_into = ''").fetchone()[0]

    def ledger_check_frames(self, start: str = "", end: str = "99999999", since: str = "") -> dict[str, pd.DataFrame]:
        """What ``batchship.ledger_checks.checks`` takes, for the period [start, end); the per-order checks
        (deductions, issued numbers) for runs from ``since`` on."""
        places = self.ledger_place_totals()
        return {"stock": self.stock_figures(start, end, places),
                "on_hand": self.on_hand()[["warehouse", "sku", "on_hand"]],
                "ledger_places": places, "deductions": self.deduction_differences(since),
                "tracking": self.tracking_differences(since)}


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

    def allocation_frames(self) -> dict[str, pd.DataFrame]:
        """What batchship.ledger_checks.allocated_within takes."""
        return {"allocated": self.allocated(), "on_hand": self.on_hand()}


def _shared(values: tuple) -> tuple | list:
    """A column's values with each repeated value one object: the driver makes a string per row,
    and a 100,000-line batch's orders and lines held 220 MiB of them, half of it copies (a shop,
    a country, a SKU, a stage). A column mostly of distinct values (an order id) is left as it is."""
    probe = values[:2000]
    if len(set(probe)) > len(probe) // 2:
        return values
    seen: dict = {}
    return list(map(seen.setdefault, values, values))


@dataclass(frozen=True)
class StoredRun:
    """A run's events, and orders and lines, as the store gives them back (``Store.run_frames``)."""
    events: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame

    @classmethod
    def of(cls, events: list[pd.DataFrame], orders: pd.DataFrame, lines: pd.DataFrame) -> StoredRun:
        """What a run is about to store (``events`` in the order it records them), as reading it back
        will give it: each value converted as writing converts it, the last row of a key kept as an
        upsert keeps it. Reading it back instead took 3 to 5 s of a 100,000-line batch's outputs."""
        return cls(_as_stored(events, EVENT_COLUMNS), _as_stored([orders], ORDER_COLUMNS, KEYS["orders"], typed=True),
                   _as_stored([lines], LINE_COLUMNS, KEYS["lines"], typed=True))


def _as_stored(frames: list[pd.DataFrame], columns: list[str], key: list[str] | None = None,
               typed: bool = False) -> pd.DataFrame:
    """``typed``: as ``_typed`` leaves a frame, made so directly (text as objects, integers as int64)
    rather than inferred by pandas and converted: for a 100,000-line batch's orders and lines that
    took 0.6 s, most of it pandas looking at every value twice."""
    frames = [f for f in frames if not f.empty]
    values = [frames[0][c].tolist() if len(frames) == 1 else [v for f in frames for v in f[c].tolist()]
              for c in columns]
    cells = [_int_cells(v) if c in INT_COLUMNS else _text_cells(v) for c, v in zip(columns, values)]
    if not typed:
        # Not shared as read values are: these are the run's own objects, already held.
        df = _frame(columns, cells, shared=False)
    elif not frames:
        df = _typed(_frame(columns, cells, shared=False), columns)
    else:
        df = pd.DataFrame({c: _int64(column) if c in INT_COLUMNS else pd.Series(np.array(column, dtype=object),
                                                                                dtype=object, copy=False)
                           for c, column in zip(columns, cells)}, columns=columns)
    if key and df.duplicated(key).any():
        df = df.drop_duplicates(key, keep="last").reset_index(drop=True)
    return df


def _joined(frame: pd.DataFrame, more: pd.DataFrame | None) -> pd.DataFrame:
    return frame if more is None or more.empty else pd.concat([frame, more], ignore_index=True)


def _read_frame(db: Connection, sql: str, params: Iterable = ()) -> pd.DataFrame:
    cols, rows = db.fetch(sql, params)
    return _frame(cols, list(zip(*rows)))


def _read_at_once(db: Connection, read: StockRead) -> pd.DataFrame:
    """``read``'s rows, read on a thread beside the run. SQLite hands them over in one value: fetched
    row by row, the thread waits for Python's lock at every row while the run's thread holds it
    (500 rows took 5 s instead of 0.2 s). PostgreSQL sends every row at once anyway."""
    if db.postgresql:
        return _read_frame(db, read.ordered_sql)
    _, [(packed,)] = db.fetch(f"SELECT json_group_array(json_array({', '.join(read.columns)})) FROM ({read.sql})")
    frame = _frame(list(read.columns), list(zip(*json.loads(packed))))
    # Python orders text as SQLite's ORDER BY does, by code point.
    return frame.sort_values(list(read.order), kind="stable").reset_index(drop=True) if read.order else frame


def _frame(cols: list[str], values: list, shared: bool = True) -> pd.DataFrame:
    """A frame of each column's values, as the store reads it."""
    if not values or not len(values[0]):
        return pd.DataFrame.from_records([], columns=cols)
    return pd.DataFrame({c: _shared(column) if shared else column for c, column in zip(cols, values)}, columns=cols)


def _in_key_order(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rows sorted by the table's key, as Python orders text (by code point, as SQLite does; a
    PostgreSQL collation may order it otherwise)."""
    keys = list(column_rows(frame, KEYS[table]))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    if order == list(range(len(keys))):
        return frame.reset_index(drop=True)
    return frame.take(order).reset_index(drop=True)


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


def _add_to_place_totals(db: Connection, moves: pd.DataFrame) -> None:
    """Adds movements (warehouse, sku, delta) to their places' kept sums, in one statement per place."""
    if moves.empty:
        return
    sums = moves.groupby(["warehouse", "sku"], sort=True)["delta"].sum()
    db.executemany("INSERT INTO place_totals (warehouse, sku, total) VALUES (?, ?, ?) ON CONFLICT (warehouse, sku) "
                   "DO UPDATE SET total = place_totals.total + excluded.total",
                   ((w, s, int(d)) for (w, s), d in sums.items()))


def _insert(db: Connection, table: str, frame: pd.DataFrame) -> None:
    """Plain INSERT of a frame's rows into the columns of the same names."""
    if frame.empty:
        return
    columns = [str(c) for c in frame.columns]
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(len(columns))})",
                   _rows(frame, columns))


def _rows(frame: pd.DataFrame, columns: list[str]):
    """The frame's rows as the store's values, converted a column at a time: a column already all
    text (or all integers) is taken as it is (per cell, the conversion took 1 s of 160,000 rows)."""
    return zip(*(_int_cells(frame[c].tolist()) if c in INT_COLUMNS else _text_cells(frame[c].tolist())
                 for c in columns))


def _int_cells(values: list) -> list:
    if set(map(type, values)) <= {int}:
        return values
    return [None if v is None or (isinstance(v, float) and v != v) else int(v) for v in values]


def _int64(values: list) -> np.ndarray:
    """Whole numbers as ``_typed`` makes them: a missing one is 0."""
    return np.array([0 if v is None else v for v in values] if None in values else values, dtype=np.int64)


def _text_cells(values: list) -> list:
    # Text columns get text: PostgreSQL, unlike SQLite, refuses a number for a TEXT column.
    try:
        "".join(values)     # all text: one pass in C, a quarter of the time of looking at each type
        return values
    except TypeError:
        pass
    return ["" if v is None or (isinstance(v, float) and v != v) else v if isinstance(v, str) else str(v)
            for v in values]
