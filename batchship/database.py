"""Which database a workspace's store lives in, and the connection the store talks through.

The workspace's own SQLite file is the default. ``database = "postgresql://user@host/db"`` in
batchship.toml, or the ``BATCHSHIP_DATABASE`` environment variable (which wins, so a password
need not be written into the file), puts the store on a PostgreSQL server shared by several sites.

Statements are written once, in the sqlite3 style with ``?`` placeholders, and run through
SQLAlchemy on either backend: ``Connection.execute`` adapts the placeholders for psycopg.
"""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from .errors import ConfigError

ENV = "BATCHSHIP_DATABASE"
SQLITE_FILE = Path(".batchship") / "state.sqlite"


def database_url(root: Path, configured: str | None = None) -> str:
    """The store's URL: BATCHSHIP_DATABASE, else batchship.toml's ``database``, else the workspace's file.
    ``configured``: the ``database`` setting when the caller has loaded the config already."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return env
    if configured is None:
        configured = _configured(root)
    if configured:
        return configured
    return "sqlite:///" + str((root / SQLITE_FILE).resolve())


def _configured(root: Path) -> str:
    """Only the ``database`` key, read leniently: `status` must work while another setting is wrong."""
    try:
        data = tomllib.loads((root / "batchship.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return ""
    value = data.get("database", "")
    return value.strip() if isinstance(value, str) else ""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    try:
        return Path(make_url(url).database) if is_sqlite(url) and make_url(url).database else None
    except ArgumentError:   # not a URL at all: opening the store says so
        return None


def has_state(url: str) -> bool:
    """False only for a workspace whose SQLite file was never made (no run yet)."""
    path = sqlite_path(url)
    return path is None or path.exists()


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, busy_timeout_seconds: float = 60.0) -> Engine:
    """An engine in autocommit mode: the store opens its transactions itself (BEGIN ... COMMIT),
    as one batch's writes must be one transaction and reads between batches hold no snapshot."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database {url!r} is not a database URL (postgresql://user@host/dbname)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                               connect_args={"timeout": busy_timeout_seconds})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=FULL")
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # lock_timeout bounds waits for another site's batch like SQLite's busy timeout;
        # keepalives notice a server that went away while a batch waits on it.
        options = f"-c lock_timeout={int(busy_timeout_seconds * 1000)}"
        return create_engine(parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 10, "options": options, "keepalives": 1,
                                           "keepalives_idle": 30, "keepalives_interval": 10,
                                           "keepalives_count": 3})
    raise ConfigError(f"database {display_url(url)!r}: only postgresql:// (or sqlite:///) URLs are supported")


@lru_cache(maxsize=4096)
def pyformat(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s``; a literal ``%`` doubled (outside and inside quotes)."""
    out, quote = [], ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


class Connection:
    """sqlite3's ``execute``/``executemany`` on a SQLAlchemy connection, for either backend."""

    def __init__(self, engine: Engine, owns_engine: bool = True):
        """``owns_engine``: closing this connection disposes of the engine too (False: another
        connection of the same engine, which the first one's owner disposes of)."""
        self.engine = engine
        self.dialect = engine.dialect.name       # "sqlite" | "postgresql"
        self.sa = engine.connect()
        self._owns_engine = owns_engine

    @property
    def postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def execute(self, sql: str, params=()):
        params = tuple(params)
        if self.postgresql and params:
            sql = pyformat(sql)
        return self.sa.exec_driver_sql(sql, params) if params else self.sa.exec_driver_sql(sql)

    def fetch(self, sql: str, params=()) -> tuple[list[str], list[tuple]]:
        """A query's column names and all its rows as plain tuples, read by the driver's own cursor:
        SQLAlchemy's row objects cost a third of the read on 100,000 rows. The engine is in
        autocommit mode with transactions opened by statements, so bypassing it leaves no state
        behind that it would need to know."""
        params = tuple(params)
        if self.postgresql and params:
            sql = pyformat(sql)
        cursor = self.sa.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, params) if params else cursor.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            cursor.close()

    def executemany(self, sql: str, rows):
        rows = [tuple(r) for r in rows]
        if not rows:
            return None
        return self.sa.exec_driver_sql(pyformat(sql) if self.postgresql else sql, rows)

    def close(self) -> None:
        try:
            self.sa.close()
        finally:
            if self._owns_engine:
                self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
