"""Bringing a store's database to the schema this batchship expects, with Alembic.

The migrations in batchship/migrations/versions run the same way on SQLite and PostgreSQL. A
store opened at the current revision costs one query; a workspace made before versioned
migrations has no revision yet and is adopted by the first one.
"""
from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from .errors import BatchshipError

HEAD = "0008"   # the newest file in migrations/versions (a test keeps the two in step)


class SchemaTooNew(BatchshipError):
    code = "schema"


def revision(connection) -> str | None:
    """The database's revision; None when it has none (new, or made before versioned migrations)."""
    try:
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").fetchone()
    except (sa_exc.OperationalError, sa_exc.ProgrammingError):
        return None
    return row[0] if row else None


def alembic_config(connection):
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", "batchship:migrations")
    config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory
    return {s.revision for s in ScriptDirectory.from_config(alembic_config(None)).walk_revisions()}


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate to the newest revision: (revision before, revision after)."""
    with engine.connect() as probe:
        before = revision(probe)
    if before == HEAD:
        return before, before
    if before is not None and before not in known_revisions():
        raise SchemaTooNew(f"the database is at schema revision {before}, which this batchship does not know: "
                           "a newer batchship upgraded it; upgrade batchship here too")
    from alembic import command
    # PostgreSQL migrates in one transaction (its DDL is transactional); SQLite step by step.
    level = "READ COMMITTED" if engine.dialect.name == "postgresql" else "AUTOCOMMIT"
    with engine.connect().execution_options(isolation_level=level) as connection:
        command.upgrade(alembic_config(connection), "head")
        connection.commit()
    with engine.connect() as probe:
        return before, revision(probe)
