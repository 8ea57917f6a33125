"""automation: proactive care — consumables, readings, replacements, run-out predictions and notices;
churn scores; weekly volume forecasts; the care pass's lease

Revision ID: 0013_automation_care
Revises: 0009_automation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_automation_care"
down_revision = "0009_automation"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "care_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", JSON, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_care_runs")),
    )
    op.create_table(
        "care_churn_scores",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_care_churn_scores_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_care_churn_scores")),
    )
    op.create_table(
        "care_consumables",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("asset_model_id", ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("counter", sa.String(length=64), nullable=True),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("cycle_days", sa.Integer(), nullable=True),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("notify", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_model_id"],
            ["asset_models.id"],
            name=op.f("fk_care_consumables_asset_model_id_asset_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_consumables")),
        sa.UniqueConstraint("asset_model_id", "code", name=op.f("uq_care_consumables_asset_model_id_code")),
    )
    op.create_table(
        "care_forecasts",
        sa.Column("territory_id", ID, nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("weeks", JSON, nullable=False),
        sa.Column("history", JSON, nullable=False),
        sa.Column("backtest", JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territories.id"], name=op.f("fk_care_forecasts_territory_id_territories")
        ),
        sa.PrimaryKeyConstraint("territory_id", name=op.f("pk_care_forecasts")),
    )
    op.create_table(
        "care_predictions",
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("consumable_id", ID, nullable=False),
        sa.Column("run_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("basis", JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_care_predictions_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["consumable_id"],
            ["care_consumables.id"],
            name=op.f("fk_care_predictions_consumable_id_care_consumables"),
        ),
        sa.PrimaryKeyConstraint("asset_id", "consumable_id", name=op.f("pk_care_predictions")),
    )
    op.create_table(
        "care_readings",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("counter", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_care_readings_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_readings")),
        sa.UniqueConstraint("asset_id", "counter", "at", name=op.f("uq_care_readings_asset_id_counter_at")),
    )
    op.create_table(
        "care_replacements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("consumable_id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_care_replacements_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["consumable_id"],
            ["care_consumables.id"],
            name=op.f("fk_care_replacements_consumable_id_care_consumables"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_care_replacements_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_replacements")),
        sa.UniqueConstraint("source_key", name=op.f("uq_care_replacements_source_key")),
    )
    op.create_index(
        "ix_care_replacements_asset", "care_replacements", ["asset_id", "consumable_id", "at"], unique=False
    )
    op.create_table(
        "care_notices",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("consumable_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basis", JSON, nullable=False),
        sa.Column("portal", sa.Boolean(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("task_id", ID, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_care_notices_asset_id_assets")),
        sa.ForeignKeyConstraint(
            ["consumable_id"],
            ["care_consumables.id"],
            name=op.f("fk_care_notices_consumable_id_care_consumables"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_care_notices_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["automation_tasks.id"], name=op.f("fk_care_notices_task_id_automation_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_notices")),
    )
    op.create_index("ix_care_notices_customer", "care_notices", ["customer_id", "status"], unique=False)
    op.create_index(
        "uq_care_notices_open",
        "care_notices",
        ["asset_id", "consumable_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("uq_care_notices_open", table_name="care_notices")
    op.drop_index("ix_care_notices_customer", table_name="care_notices")
    op.drop_table("care_notices")
    op.drop_index("ix_care_replacements_asset", table_name="care_replacements")
    op.drop_table("care_replacements")
    op.drop_table("care_readings")
    op.drop_table("care_predictions")
    op.drop_table("care_forecasts")
    op.drop_table("care_consumables")
    op.drop_table("care_churn_scores")
    op.drop_table("care_runs")
