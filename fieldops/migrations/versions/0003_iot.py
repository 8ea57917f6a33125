"""iot: devices, telemetry (partitioned by month on PostgreSQL), events, alarms, dead letters, detector state

Revision ID: 0003_iot
Revises: 0001_core
Create Date: 2026-11-22 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_iot"
down_revision = "0001_core"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
PARTITION_SCHEMA = "telemetry_partitions"

# One monthly partition of `telemetry`, created if missing; `iot.store.maintain_partitions` calls it for
# the months ahead and drops partitions past the retention period.
PARTITION_FUNCTION = """
CREATE OR REPLACE FUNCTION iot_telemetry_partition(month date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    lo date := date_trunc('month', month)::date;
    hi date := (date_trunc('month', month) + interval '1 month')::date;
    name text := 'telemetry_' || to_char(lo, 'YYYY_MM');
BEGIN
    IF to_regclass(format('%I.%I', 'telemetry_partitions', name)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I.%I PARTITION OF public.telemetry FOR VALUES FROM (%L) TO (%L)',
            'telemetry_partitions', name, lo::timestamp AT TIME ZONE 'UTC', hi::timestamp AT TIME ZONE 'UTC'
        );
    END IF;
    RETURN name;
END $$
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("broker_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_devices_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_index(op.f("ix_devices_asset_id"), "devices", ["asset_id"], unique=False)

    op.create_table(
        "iot_profiles",
        sa.Column("asset_model_id", ID, nullable=False),
        sa.Column("detection", JSON, nullable=False),
        sa.Column("faults", JSON, nullable=False),
        sa.Column("heartbeat_timeout_s", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_model_id"], ["asset_models.id"], name=op.f("fk_iot_profiles_asset_model_id_asset_models")
        ),
        sa.PrimaryKeyConstraint("asset_model_id", name=op.f("pk_iot_profiles")),
    )

    op.create_table(
        "telemetry",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "ts", "seq", name=op.f("pk_telemetry")),
        postgresql_partition_by="RANGE (ts)",
    )
    op.create_index("ix_telemetry_asset_ts", "telemetry", ["asset_id", "ts"], unique=False)
    op.create_index("ix_telemetry_tx", "telemetry", ["tx"], unique=False)

    op.create_table(
        "device_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_events")),
        sa.UniqueConstraint(
            "device_id", "ts", "seq", "code", name=op.f("uq_device_events_device_id_ts_seq_code")
        ),
    )
    op.create_index(op.f("ix_device_events_asset_id"), "device_events", ["asset_id"], unique=False)
    op.create_index("ix_device_events_tx", "device_events", ["tx"], unique=False)

    if postgres:
        # Each row remembers the transaction that wrote it: a reader can then take exactly the rows of
        # transactions that have finished (below pg_snapshot_xmin), none twice and none skipped.
        for table in ("telemetry", "device_events"):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN tx SET DEFAULT pg_current_xact_id()::text::bigint")
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
        op.execute(PARTITION_FUNCTION)
        for offset in (-1, 0, 1, 2):
            op.execute(
                f"SELECT iot_telemetry_partition((date_trunc('month', now() AT TIME ZONE 'UTC') "
                f"+ interval '{offset} month')::date)"
            )

    op.create_table(
        "dead_letters",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=512), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_device_id"), "dead_letters", ["device_id"], unique=False)
    op.create_index(op.f("ix_dead_letters_reason"), "dead_letters", ["reason"], unique=False)
    op.create_index("ix_dead_letters_received", "dead_letters", ["received_at", "id"], unique=False)

    op.create_table(
        "alarms",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("alarm_type", sa.String(length=96), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=120), nullable=True),
        sa.Column("clear_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_alarms_asset_id_assets")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_alarms_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index(op.f("ix_alarms_asset_id"), "alarms", ["asset_id"], unique=False)
    op.create_index("ix_alarms_state_seen", "alarms", ["state", "last_seen_at"], unique=False)
    op.create_index(op.f("ix_alarms_work_order_id"), "alarms", ["work_order_id"], unique=False)
    # At most one open alarm per (asset, alarm type): concurrent raisers meet here, not in a race.
    op.create_index(
        "uq_alarms_open",
        "alarms",
        ["asset_id", "alarm_type"],
        unique=True,
        sqlite_where=sa.text("state != 'cleared'"),
        postgresql_where=sa.text("state <> 'cleared'"),
    )

    op.create_table(
        "detector_states",
        sa.Column("asset_id", ID, autoincrement=False, nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("asset_id", "metric", name=op.f("pk_detector_states")),
    )
    op.create_table(
        "iot_leases",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("telemetry_cursor", sa.BigInteger(), nullable=False),
        sa.Column("events_cursor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_iot_leases")),
    )
    op.create_table(
        "iot_workers",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("duplicate", sa.BigInteger(), nullable=False),
        sa.Column("dead_lettered", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("status_updates", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("monitor_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_workers")),
    )


def downgrade() -> None:
    for table in (
        "iot_workers",
        "iot_leases",
        "detector_states",
        "alarms",
        "dead_letters",
        "device_events",
        "telemetry",
        "iot_profiles",
        "devices",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS iot_telemetry_partition(date)")
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
