"""Fixtures: a migrated real database per test, a controllable clock, the real ASGI app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from litestar.testing import TestClient
from sqlalchemy.engine import Engine

from core.domain.clock import FixedClock
from core.services import users
from core.store.db import make_engine
from fieldops.migrate import upgrade
from fieldops.models import metadata
from fieldops.settings import Settings
from fieldops.wiring import System, build_app, build_system
from iot import registry
from tests.services import DATABASE_URL, POSTGRES_URL, postgres_reachable, unavailable
from tests.world import World, build_world, login

pytest_plugins = ["tests.browser"]

# Argon2 at production cost (~0.1–0.3 s per hash or sign-in here) was most of the suite's time; the
# tests keep argon2 itself, at its cheapest parameters.
_CHEAP_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
users._hasher = registry._hasher = _CHEAP_ARGON2

# Monday 2026-11-23 09:30 in Shanghai: inside business hours, so SLA clocks run from the start.
T0 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def reset_postgres(url: str) -> Engine:
    """A brand-new schema, migrated from scratch: the migrations themselves are under test."""
    reason = postgres_reachable(url)
    if reason:
        unavailable("PostgreSQL", reason)
    engine = make_engine(url, pool_size=20)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (a fresh database costs a file copy)."""
    path = tmp_path_factory.mktemp("template") / "fieldops.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    return path


@pytest.fixture(scope="session")
def shared_pg_engine() -> Iterator[Engine | None]:
    if not DATABASE_URL.startswith("postgresql"):
        yield None
        return
    engine = reset_postgres(DATABASE_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(sqlite_template: Path, shared_pg_engine: Engine | None, tmp_path: Path) -> Iterator[Engine]:
    if shared_pg_engine is not None:
        yield shared_pg_engine
        truncate_all(shared_pg_engine)
        return
    path = tmp_path / "fieldops.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def system(engine: Engine, clock: FixedClock, tmp_path: Path) -> System:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-of-sufficient-length-32b",
        live_stream_seconds=0.3,
    )
    return build_system(settings, clock=clock, engine=engine)


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    with TestClient(app=build_app(system), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def postgres_x() -> Iterator[Engine]:
    """A second, PostGIS database for tests that compare backends, whatever the suite runs on."""
    engine = reset_postgres(POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def world(system: System) -> World:
    return build_world(system)


@pytest.fixture
def as_dispatcher(client: TestClient, world: World) -> dict[str, str]:
    return login(client, "dispatcher")
