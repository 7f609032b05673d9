"""PostgreSQL for the tests: a server named by BATCHSHIP_TEST_POSTGRES (see .ci/postgres-server), a
fresh database per test, dropped afterwards.

Without the variable, or when the server does not answer, the tests that need it are skipped; with
BATCHSHIP_POSTGRES_REQUIRED=1 (as in CI) they fail instead, so that a server that died cannot pass
for a green run.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

SKIP_REASON = ("PostgreSQL not running: start one with `.ci/postgres-server start DIR` and set "
               "BATCHSHIP_TEST_POSTGRES from DIR/postgres.env")


def _unavailable(detail: str):
    if os.environ.get("BATCHSHIP_POSTGRES_REQUIRED") == "1":
        pytest.fail(f"BATCHSHIP_POSTGRES_REQUIRED=1 but {detail}", pytrace=False)
    pytest.skip(SKIP_REASON)


def _admin(url: str):
    return create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get("BATCHSHIP_TEST_POSTGRES", "")
    if not url:
        _unavailable("BATCHSHIP_TEST_POSTGRES is not set")
    engine = _admin(url)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
    except Exception as e:   # any failure to connect means: no server for these tests
        _unavailable(f"the PostgreSQL server at {make_url(url).render_as_string()} does not answer: {e}")
    finally:
        engine.dispose()
    return url


def create_database(server: str, template: str = "") -> str:
    """A new empty database on the server (or a copy of ``template``); its URL."""
    name = "t_" + uuid.uuid4().hex[:16]
    engine = _admin(server)
    try:
        with engine.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        engine.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    engine = _admin(server)
    try:
        with engine.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        engine.dispose()


@pytest.fixture
def postgres_db(postgres_server):
    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url)
