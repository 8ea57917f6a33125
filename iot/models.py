"""ORM models of devices, telemetry, alarms and the dead-letter store.

Telemetry is the one table built for volume. On PostgreSQL it is range-partitioned by `ts` into monthly
partitions that live in their own schema (`telemetry_partitions`, created ahead and dropped after the
retention period by `iot.store.maintain_partitions`); on SQLite it is a plain table. Its key
(device, ts, seq) makes a redelivered message a no-op, and it includes `ts` because a unique key on a
partitioned table must contain the partition key.

`tx` orders rows for the detection stage that reads telemetry back: on PostgreSQL it defaults to the
writing transaction's id (so a reader can take exactly the rows of transactions that have finished);
on SQLite, where writers are serialised, the rowid does that job and `tx` stays empty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType, UTCDateTime
from core.store.models import Versioned

# A message without `seq` is keyed on (device, ts) alone: it is stored with this seq.
NO_SEQ = -1
PARTITION_SCHEMA = "telemetry_partitions"


class Device(Base):
    """A telemetry source bound to one asset; `id` is what it puts in its topics and its MQTT username."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    asset_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("assets.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    # argon2 hash, verified by the embedded broker.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # The same secret as Mosquitto's password file wants it (PBKDF2-SHA512, `$7$…`).
    broker_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # unknown | online | offline, from the retained status topic and the Last Will.
    status: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class IotProfile(Base):
    """How an asset model is watched: detector configuration and fault map, as data.

    `detection` is the detection package's profile document (`iot.detection.decode_profile`: metrics and
    their rules, lead time, fault-code severities, offline grace); `faults` maps a fault key (an alarm
    type such as `fault:E42` or `trend:vibration`) to what the work order needs:
    `{"title", "kind", "skills": [{"skill", "min_level"}], "parts": [{"sku", "quantity"}], "minutes"}`.
    """

    __tablename__ = "iot_profiles"
    asset_model_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("asset_models.id"), primary_key=True)
    detection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    faults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A device silent for this long counts as offline even without its Last Will; it raises the offline
    # alarm once it has been offline for the detection profile's `offline_grace`.
    heartbeat_timeout_s: Mapped[int] = mapped_column(sa.Integer, default=300)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class TelemetryRow(Base):
    __tablename__ = "telemetry"
    __table_args__ = (
        sa.Index("ix_telemetry_asset_ts", "asset_id", "ts"),
        sa.Index("ix_telemetry_tx", "tx"),
        {"postgresql_partition_by": "RANGE (ts)"},
    )
    device_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    asset_id: Mapped[int] = mapped_column(IdType)
    metrics: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    tx: Mapped[int | None] = mapped_column(sa.BigInteger)


class DeviceEvent(Base):
    """Fault codes the devices reported; idempotent like telemetry."""

    __tablename__ = "device_events"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "ts", "seq", "code"),
        sa.Index("ix_device_events_tx", "tx"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(sa.String(64))
    asset_id: Mapped[int] = mapped_column(IdType, index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    code: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    tx: Mapped[int | None] = mapped_column(sa.BigInteger)


class DeadLetter(Base):
    """A message the ingest worker refused, kept with its raw bytes so it can be examined or replayed."""

    __tablename__ = "dead_letters"
    __table_args__ = (sa.Index("ix_dead_letters_received", "received_at", "id"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    topic: Mapped[str] = mapped_column(sa.String(512))
    device_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    reason: Mapped[str] = mapped_column(sa.String(32), index=True)
    detail: Mapped[str] = mapped_column(sa.Text)
    # The body as received, cut at `iot.store.MAX_DEAD_LETTER_BYTES`; `size` is the whole length.
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size: Mapped[int] = mapped_column(sa.Integer)
    worker: Mapped[str] = mapped_column(sa.String(120))


class Alarm(Versioned, Base):
    """A condition on an asset. At most one open (not cleared) alarm per (asset, alarm type)."""

    __tablename__ = "alarms"
    __table_args__ = (
        sa.Index(
            "uq_alarms_open",
            "asset_id",
            "alarm_type",
            unique=True,
            sqlite_where=sa.text("state != 'cleared'"),
            postgresql_where=sa.text("state <> 'cleared'"),
        ),
        sa.Index("ix_alarms_state_seen", "state", "last_seen_at"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("assets.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(64))
    # e.g. `threshold:temperature`, `trend:vibration`, `fault:E42`, `offline`.
    alarm_type: Mapped[str] = mapped_column(sa.String(96))
    # detector | fault | offline
    source: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[str] = mapped_column(sa.String(16))
    # active | acknowledged | cleared
    state: Mapped[str] = mapped_column(sa.String(16))
    message: Mapped[str] = mapped_column(sa.String(500))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    count: Mapped[int] = mapped_column(sa.Integer, default=1)
    # What the detector saw: metric, values, limit, predicted time to limit, a chart-ready series.
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    work_order_id: Mapped[int | None] = mapped_column(IdType, sa.ForeignKey("work_orders.id"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(120))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_by: Mapped[str | None] = mapped_column(sa.String(120))
    clear_reason: Mapped[str | None] = mapped_column(sa.Text)


class DetectorState(Base):
    """A detector's `snapshot()` per (asset, metric), restored when a worker takes the asset over."""

    __tablename__ = "detector_states"
    asset_id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    metric: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    snapshot: Mapped[bytes] = mapped_column(sa.LargeBinary)
    last_ts: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class IotLease(Base):
    """Who runs detection for one bucket of assets, until when, and how far it has read."""

    __tablename__ = "iot_leases"
    bucket: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(sa.String(120))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Read positions: PostgreSQL transaction ids, or SQLite rowids / ids.
    telemetry_cursor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    events_cursor: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class IotWorker(Base):
    """One ingest worker's counters, written with each batch it commits (so any API replica can read them)."""

    __tablename__ = "iot_workers"
    id: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(200))
    pid: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    received: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    stored: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    duplicate: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    dead_lettered: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    events: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status_updates: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    batches: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Set while the worker also runs the detection stage (`iot.monitor`): the live monitors share the buckets.
    monitor_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
