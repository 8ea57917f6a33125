"""Where the test suite finds its real services, and what to do when one is missing.

FIELDOPS_TEST_DATABASE_URL  the database the whole suite runs on (unset: a fresh SQLite file per test)
FIELDOPS_TEST_POSTGRES_URL  a PostGIS database for cross-backend tests (default: local fieldops_test_x)
FIELDOPS_TEST_MQTT_URL      a Mosquitto broker (default: mqtt://127.0.0.1:1883)
FIELDOPS_REQUIRE_SERVICES=1 a missing service fails the run instead of skipping (CI sets it)
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

REQUIRE = os.environ.get("FIELDOPS_REQUIRE_SERVICES") == "1"
DATABASE_URL = os.environ.get("FIELDOPS_TEST_DATABASE_URL", "")
POSTGRES_URL = os.environ.get(
    "FIELDOPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/fieldops_test_x"
)
MQTT_URL = os.environ.get("FIELDOPS_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def unavailable(what: str, why: str) -> None:
    """Fail in CI, skip on a laptop without the service; either way say how to get it."""
    message = (
        f"{what} is not available ({why}); start it or set the FIELDOPS_TEST_* variables (tests/services.py)"
    )
    if REQUIRE:
        pytest.fail(message)
    pytest.skip(message)


def postgres_reachable(url: str) -> str | None:
    """None if a session can be opened, else the reason."""
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def tcp_reachable(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 1883), timeout=2):
            return None
    except OSError as exc:
        return str(exc)
