"""Failures of the machine rather than of an input or of batchship: a full disk, a read-only
or vanished folder, a database another program keeps locked.

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


def environment_problem(exc: BaseException) -> str:
    """A plain description when ``exc`` is the environment failing, else ""."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return next((why for marker, why in _DATABASE_ERRORS if marker in text), "")
    if isinstance(exc, MemoryError):
        return _OS_ERRORS[errno.ENOMEM]
    if isinstance(exc, OSError) and exc.errno in _OS_ERRORS:
        where = f": {exc.filename}" if exc.filename else ""
        return _OS_ERRORS[exc.errno] + where
    return ""
