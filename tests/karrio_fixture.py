"""The `karrio` fixture: a running Karrio server (see .ci/karrio-server), or a skip.

The server is named by BATCHSHIP_KARRIO_URL and BATCHSHIP_KARRIO_TOKEN. Without them, or when the
server does not answer, the tests that use it are skipped; with BATCHSHIP_KARRIO_REQUIRED=1 (as in CI)
they fail instead, so that a server that died cannot pass for a green run.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import httpx
import pytest

SKIP_REASON = "Karrio server not running: start it with .ci/karrio-server start (see README)"


class KarrioServer(NamedTuple):
    url: str
    token: str


def _unavailable(detail: str):
    if os.environ.get("BATCHSHIP_KARRIO_REQUIRED") == "1":
        pytest.fail(f"BATCHSHIP_KARRIO_REQUIRED=1 but {detail}", pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def karrio() -> KarrioServer:
    url = os.environ.get("BATCHSHIP_KARRIO_URL", "").rstrip("/")
    token = os.environ.get("BATCHSHIP_KARRIO_TOKEN", "")
    if not url or not token:
        _unavailable("BATCHSHIP_KARRIO_URL or BATCHSHIP_KARRIO_TOKEN is not set")
    try:
        answer = httpx.get(f"{url}/v1/shipments", params={"limit": 1},
                           headers={"Authorization": f"Token {token}"}, timeout=10)
    except httpx.HTTPError as e:
        _unavailable(f"the Karrio server at {url} does not answer: {e}")
    if answer.status_code == 401:
        pytest.fail(f"the Karrio server at {url} refuses BATCHSHIP_KARRIO_TOKEN", pytrace=False)
    if answer.status_code != 200:
        _unavailable(f"the Karrio server at {url} answers {answer.status_code}")
    return KarrioServer(url, token)
