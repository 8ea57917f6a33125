"""Batched writes of what the ingest worker accepted (and refused), and reading telemetry back in order.

One batch is one transaction: telemetry, fault events, dead letters, device status and the worker's
counters commit together, and only then does the worker acknowledge the batch's messages to the broker.
Inserts are multi-row `INSERT … ON CONFLICT DO NOTHING … RETURNING` on both backends, so a redelivered
message is counted as a duplicate and stored once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iot.models import (
    NO_SEQ,
    PARTITION_SCHEMA,
    DeadLetter,
    DetectorState,
    Device,
    DeviceEvent,
    IotWorker,
    TelemetryRow,
)

MAX_DEAD_LETTER_BYTES = 64 * 1024

_telemetry = cast(sa.Table, TelemetryRow.__table__)
_events = cast(sa.Table, DeviceEvent.__table__)
_dead = cast(sa.Table, DeadLetter.__table__)
_devices = cast(sa.Table, Device.__table__)
_workers = cast(sa.Table, IotWorker.__table__)


@dataclass(slots=True)
class Batch:
    """What one batch of messages becomes; filled by the worker, written by `write_batch`."""

    telemetry: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    # device → (status, when), the last one in the batch wins.
    statuses: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # device → the newest message time seen, written only when it moved on enough (see `Worker`).
    seen: dict[str, datetime] = field(default_factory=dict)
    received: int = 0

    def add_telemetry(
        self,
        device_id: str,
        asset_id: int,
        ts: datetime,
        seq: int | None,
        metrics: dict[str, float],
        now: datetime,
    ) -> None:
        self.telemetry.append(
            {
                "device_id": device_id,
                "ts": ts,
                "seq": NO_SEQ if seq is None else seq,
                "asset_id": asset_id,
                "metrics": metrics,
                "received_at": now,
            }
        )

    def add_dead(
        self,
        topic: str,
        payload: bytes | bytearray,
        reason: str,
        detail: str,
        device_id: str | None,
        worker: str,
        now: datetime,
    ) -> None:
        self.dead.append(
            {
                "received_at": now,
                "topic": topic[:512],
                "device_id": device_id,
                "reason": reason,
                "detail": detail,
                "payload": bytes(payload[:MAX_DEAD_LETTER_BYTES]),
                "size": len(payload),
                "worker": worker,
            }
        )


@dataclass(frozen=True, slots=True)
class Written:
    stored: int
    duplicate: int
    events: int
    dead_lettered: int


def _insert_ignoring_duplicates(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping any that already exist (by any unique key); return how many were new."""
    if not rows:
        return 0
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported backends are above
        raise NotImplementedError(dialect)
    first_key = next(iter(table.primary_key.columns))
    result = conn.execute(stmt.returning(first_key), rows)
    return len(result.all())


# From this many rows on, PostgreSQL gets the telemetry by COPY into a temporary table and one
# INSERT … SELECT … ON CONFLICT DO NOTHING (several times faster than a multi-row INSERT of bound values).
COPY_THRESHOLD = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_json = msgspec.json.Encoder()


def _copy_telemetry(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """COPY in text format, built by hand: device ids and metric names are validated to need no escaping
    (`contract.DEVICE_ID_PATTERN`, `contract.MetricName`), and the values are JSON numbers."""
    driver = conn.connection.driver_connection
    assert driver is not None
    text = "".join(
        f"{r['device_id']}\t{(r['ts'] - _EPOCH) // _MICROSECOND}\t{r['seq']}\t{r['asset_id']}\t"
        f"{_json.encode(r['metrics']).decode()}\n"
        for r in rows
    )
    with driver.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS telemetry_in "
            "(device_id text, ts_us bigint, seq bigint, asset_id bigint, metrics jsonb) ON COMMIT DELETE ROWS"
        )
        with cur.copy("COPY telemetry_in (device_id, ts_us, seq, asset_id, metrics) FROM STDIN") as copy:
            copy.write(text)
        cur.execute(
            "INSERT INTO telemetry (device_id, ts, seq, asset_id, metrics, received_at) "
            "SELECT device_id, timestamptz 'epoch' + ts_us * interval '1 microsecond', seq, asset_id, "
            "metrics, %s "
            "FROM telemetry_in ON CONFLICT DO NOTHING",
            (rows[0]["received_at"],),
        )
        stored = cur.rowcount
        cur.execute("TRUNCATE telemetry_in")
    return int(stored)


def write_batch(session: Session, batch: Batch, worker_id: str, now: datetime) -> Written:
    """Write one batch in the session's transaction (the caller commits, then acknowledges)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(batch.telemetry) >= COPY_THRESHOLD:
        stored = _copy_telemetry(conn, batch.telemetry)
    else:
        stored = _insert_ignoring_duplicates(conn, _telemetry, batch.telemetry)
    events = _insert_ignoring_duplicates(conn, _events, batch.events)
    if batch.dead:
        conn.execute(sa.insert(_dead), batch.dead)
    if batch.statuses:
        conn.execute(
            sa.update(_devices)
            .where(
                _devices.c.id == sa.bindparam("device"),
                sa.or_(_devices.c.status_at.is_(None), _devices.c.status_at <= sa.bindparam("at")),
            )
            .values(status=sa.bindparam("status"), status_at=sa.bindparam("at")),
            [{"device": d, "status": s, "at": at} for d, (s, at) in batch.statuses.items()],
        )
    if batch.seen:
        conn.execute(
            sa.update(_devices)
            .where(
                _devices.c.id == sa.bindparam("device"),
                sa.or_(_devices.c.last_seen_at.is_(None), _devices.c.last_seen_at < sa.bindparam("seen")),
            )
            .values(last_seen_at=sa.bindparam("seen")),
            [{"device": d, "seen": at} for d, at in batch.seen.items()],
        )
    written = Written(
        stored=stored,
        duplicate=len(batch.telemetry) - stored + len(batch.events) - events,
        events=events,
        dead_lettered=len(batch.dead),
    )
    conn.execute(
        sa.update(_workers)
        .where(_workers.c.id == worker_id)
        .values(
            received=_workers.c.received + batch.received,
            stored=_workers.c.stored + written.stored,
            duplicate=_workers.c.duplicate + written.duplicate,
            dead_lettered=_workers.c.dead_lettered + written.dead_lettered,
            events=_workers.c.events + written.events,
            status_updates=_workers.c.status_updates + len(batch.statuses),
            batches=_workers.c.batches + 1,
            updated_at=now,
        )
    )
    return written


def register_worker(session: Session, worker_id: str, host: str, pid: int, now: datetime) -> None:
    """Create the worker's counter row (kept across restarts of the same worker id)."""
    row = session.get(IotWorker, worker_id)
    if row is None:
        session.add(
            IotWorker(
                id=worker_id,
                host=host,
                pid=pid,
                started_at=now,
                updated_at=now,
                received=0,
                stored=0,
                duplicate=0,
                dead_lettered=0,
                events=0,
                status_updates=0,
                batches=0,
            )
        )
    else:
        row.host, row.pid, row.started_at, row.updated_at = host, pid, now, now
    session.commit()


def heartbeat(session: Session, worker_id: str, now: datetime) -> None:
    session.execute(sa.update(_workers).where(_workers.c.id == worker_id).values(updated_at=now))
    session.commit()


def save_snapshots(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert detector snapshots (asset_id, metric, snapshot, last_ts, updated_at) in one statement."""
    table = cast(sa.Table, DetectorState.__table__)
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["asset_id", "metric"],
        set_={c: stmt.excluded[c] for c in ("snapshot", "last_ts", "updated_at")},
    )
    session.execute(stmt, rows)


# ---------------------------------------------------------------- reading back, in commit order


def horizons(session: Session) -> tuple[int, int]:
    """Read positions (telemetry, events) below which everything has committed and nothing can appear later.

    PostgreSQL: rows carry their writer's transaction id. The horizon is the oldest transaction still
    running *in this database* (or, with none, the next id to be handed out). The cluster-wide
    `pg_snapshot_xmin` would do too, but one long transaction in another database of the same server
    would then hold detection back for as long as it runs. The snapshot is taken first, in its own
    statement, and the running transactions read after it: one that got its id in between is either
    above the snapshot's xmax or listed. (pg_stat_activity is read once per transaction, so this is
    called once per cycle.) Every writer of these tables must use the same database role, or its
    `backend_xid` is hidden from us.

    SQLite: writers are serialised (BEGIN IMMEDIATE), so one past the largest committed rowid / id.
    """
    if session.get_bind().dialect.name == "postgresql":
        xmax = int(
            session.scalar(sa.text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")) or 0
        )
        running = session.scalars(
            sa.text(
                "SELECT backend_xid::text::bigint FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
        ).all()
        epoch = xmax >> 32 << 32
        oldest = xmax
        for xid32 in running:
            full = epoch + int(xid32)
            if full > xmax:  # the 32-bit id is from before the epoch wrapped
                full -= 1 << 32
            oldest = min(oldest, full)
        return oldest, oldest

    def top(table: sa.Table) -> int:
        column = sa.literal_column("rowid") if table is _telemetry else table.c.id
        return (
            int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(column), 0)).select_from(table)) or 0)
            + 1
        )

    return top(_telemetry), top(_events)


def _position(session: Session, table: sa.Table) -> sa.ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return table.c.tx
    return sa.literal_column("rowid") if table is _telemetry else table.c.id


def read_telemetry(
    session: Session, lo: int, hi: int, buckets: Sequence[int], bucket_count: int, limit: int
) -> list[sa.Row[Any]]:
    """Telemetry rows written at positions [lo, hi) for assets in `buckets`, oldest first."""
    pos = _position(session, _telemetry)
    query = (
        sa.select(
            pos.label("pos"),
            _telemetry.c.asset_id,
            _telemetry.c.device_id,
            _telemetry.c.ts,
            _telemetry.c.metrics,
            _telemetry.c.received_at,
        )
        .where(pos >= lo, pos < hi, (_telemetry.c.asset_id % bucket_count).in_(list(buckets)))
        .order_by(pos)
        .limit(limit)
    )
    return list(session.execute(query))


def read_events(
    session: Session, lo: int, hi: int, buckets: Sequence[int], bucket_count: int, limit: int
) -> list[sa.Row[Any]]:
    pos = _position(session, _events)
    query = (
        sa.select(
            pos.label("pos"),
            _events.c.asset_id,
            _events.c.device_id,
            _events.c.ts,
            _events.c.code,
            _events.c.severity,
            _events.c.detail,
        )
        .where(pos >= lo, pos < hi, (_events.c.asset_id % bucket_count).in_(list(buckets)))
        .order_by(pos, _events.c.id)
        .limit(limit)
    )
    return list(session.execute(query))


def series(
    session: Session, asset_id: int, metric: str, since: datetime, limit: int = 240
) -> list[list[Any]]:
    """A chart-ready `[[iso time, value], …]` of one metric of one asset, oldest first."""
    rows = session.execute(
        sa.select(_telemetry.c.ts, _telemetry.c.metrics)
        .where(_telemetry.c.asset_id == asset_id, _telemetry.c.ts >= since)
        .order_by(_telemetry.c.ts.desc())
        .limit(limit)
    ).all()
    return [[ts.isoformat(), m[metric]] for ts, m in reversed(rows) if metric in m]


# ---------------------------------------------------------------- partitions and retention

_PARTITION_NAME = re.compile(r"^telemetry_(\d{4})_(\d{2})$")


def _month_start(at: datetime, offset: int = 0) -> datetime:
    index = at.year * 12 + at.month - 1 + offset
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Maintenance:
    created: list[str]
    dropped: list[str]
    deleted_rows: int


def maintain_partitions(
    session: Session, now: datetime, *, months_ahead: int = 2, retention: timedelta | None = None
) -> Maintenance:
    """Create the monthly telemetry partitions up to `months_ahead`; drop (or delete) data past `retention`.

    PostgreSQL drops whole partitions whose every row is older than the retention (cheap, no vacuum);
    SQLite deletes the rows. Dead letters past the retention go too.
    """
    created: list[str] = []
    dropped: list[str] = []
    deleted = 0
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        existing = set(_partitions(session))
        for offset in range(0, months_ahead + 1):
            month = _month_start(now, offset).date()
            name = session.scalar(sa.text("SELECT iot_telemetry_partition(:m)"), {"m": month})
            if name not in existing:
                created.append(str(name))
    if retention is not None:
        cutoff = now - retention
        if postgres:
            for name in _partitions(session):
                match = _PARTITION_NAME.match(name)
                if match is None:
                    continue
                upper = _month_start(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC), 1)
                if upper <= cutoff:
                    session.execute(sa.text(f'DROP TABLE "{PARTITION_SCHEMA}"."{name}"'))
                    dropped.append(name)
        else:
            result = session.execute(sa.delete(_telemetry).where(_telemetry.c.ts < cutoff))
            deleted = int(result.rowcount)  # type: ignore[attr-defined]
        session.execute(sa.delete(_dead).where(_dead.c.received_at < cutoff))
    session.commit()
    return Maintenance(created, dropped, deleted)


def _partitions(session: Session) -> list[str]:
    return list(
        session.scalars(
            sa.text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry' ORDER BY c.relname"
            )
        )
    )
