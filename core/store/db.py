"""Engines and sessions for the two backends: SQLite (embedded default) and PostgreSQL + PostGIS."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.domain.geo import distance_m


def make_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0, echo: bool = False) -> Engine:
    """An engine tuned for its backend. SQLite gets WAL, foreign keys and the distance function.

    On PostgreSQL at most 3 × `pool_size` connections are open (callers size it as pool_size plus twice as
    much overflow); `pool_timeout` is how long a thread waits for one before its request fails."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            echo=echo,
            # Our own BEGIN (below) needs the driver to stay out of transaction handling.
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    # At most 3 × pool_size connections, as ever; but every connection opened is kept. As overflow
    # (closed on return whenever pool_size sat idle) they were reopened one per request under sustained
    # load above pool_size: a new backend each time (fork, authentication, cold caches).
    return sa.create_engine(
        url,
        echo=echo,
        pool_size=pool_size * 3,
        max_overflow=0,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )


def _configure_sqlite(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()
    # The portable "near a point" query needs great-circle distance; SQLite can't load SpatiaLite here.
    dbapi_conn.create_function("fo_distance_m", 4, _sqlite_distance, deterministic=True)


def _sqlite_distance(
    a_lat: float | None, a_lon: float | None, b_lat: float | None, b_lon: float | None
) -> float | None:
    if a_lat is None or a_lon is None or b_lat is None or b_lon is None:
        return None
    return distance_m(a_lat, a_lon, b_lat, b_lon)


def _begin_immediate(conn: sa.Connection) -> None:
    # A deferred SQLite transaction that reads, then writes, fails with SQLITE_BUSY when another writer
    # got in between; taking the write lock up front makes writers queue (busy_timeout) instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit, so a use case can return what it just saved.
    return sessionmaker(engine, expire_on_commit=False)


def backend_of(engine_or_session: Engine | Session) -> str:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name
