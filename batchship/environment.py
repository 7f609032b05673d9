"""Failures of the machine rather than of an input or of batchship: a full disk, a read-only
or vanished folder, a database another program keeps locked, a database server that went away.

They get a plain message and their own exit code; nothing is lost, because a batch either
commits whole or not at all, and a committed batch's outputs are redone by the next run.
"""
from __future__ import annotations

import errno
import sqlite3

_OS_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.EIO: "input/output error (a failing disk or a dropped network share?)",
    errno.ESTALE: "the network share went away (stale file handle)",
    errno.ENOTCONN: "the network share is not connected",
    errno.EHOSTDOWN: "the file server is down",
    errno.ETIMEDOUT: "the file server did not answer in time",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
}

# sqlite3 reports these as OperationalError text, not as an errno.
_DATABASE_ERRORS = (
    ("database is locked", "the database is locked by another program (a backup, a database browser, "
                           "another batchship on a copy of this workspace?) for longer than batchship waits"),
    ("database or disk is full", "the disk is full"),
    ("disk i/o error", "input/output error writing the database (a failing disk or a dropped share?)"),
    ("readonly database", "the database file or its folder is read-only"),
    ("unable to open database file", "the database file cannot be opened (missing folder or no permission?)"),
)


CONNECTION_LOST = "database connection lost, nothing changed; the next run retries"


def _driver_error(exc: BaseException) -> BaseException:
    """The database driver's own exception inside SQLAlchemy's wrapper."""
    from sqlalchemy.exc import DBAPIError
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def connection_lost(exc: BaseException) -> str:
    """When ``exc`` is the PostgreSQL server unreachable or gone mid-batch: what to tell the user, else "".
    The batch's transaction was not committed, so the server rolled it back."""
    from sqlalchemy.exc import DBAPIError
    driver = _driver_error(exc)
    if driver.__class__.__module__.split(".")[0] != "psycopg":
        return ""
    import psycopg
    if getattr(driver, "sqlstate", None) == "55P03":    # lock_not_available: a wait, not a lost server
        return ""
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if not (invalidated or isinstance(driver, psycopg.OperationalError)):
        return ""
    detail = str(driver).strip().splitlines()[0] if str(driver).strip() else driver.__class__.__name__
    return f"{CONNECTION_LOST} ({detail})"


def environment_problem(exc: BaseException) -> str:
    """A plain description when ``exc`` is the environment failing, else ""."""
    lost = connection_lost(exc)
    if lost:
        return lost
    driver = _driver_error(exc)
    if getattr(driver, "sqlstate", None) == "55P03":
        return ("another site's batch held the shared database for longer than batchship waits "
                "(store.busy_timeout_seconds)")
    exc = driver
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return next((why for marker, why in _DATABASE_ERRORS if marker in text), "")
    if isinstance(exc, MemoryError):
        return _OS_ERRORS[errno.ENOMEM]
    if isinstance(exc, OSError) and exc.errno in _OS_ERRORS:
        where = f": {exc.filename}" if exc.filename else ""
        return _OS_ERRORS[exc.errno] + where
    return ""
