"""dispatch planning: optimisation proposals and pins

Revision ID: 0007_planning
Revises: 0006_photos
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_planning"
down_revision = "0006_photos"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "plan_proposals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("territory_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("solver_status", sa.String(length=64), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("plan", JSON, nullable=False),
        sa.Column("diff", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["territory_id"], ["territories.id"], name=op.f("fk_plan_proposals_territory_id_territories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_proposals")),
    )
    op.create_index(
        "ix_plan_proposals_territory_day", "plan_proposals", ["territory_id", "day", "status"], unique=False
    )
    op.create_table(
        "plan_pins",
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("engineer_id", ID, nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineers.id"], name=op.f("fk_plan_pins_engineer_id_engineers")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_plan_pins_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_plan_pins")),
    )


def downgrade() -> None:
    op.drop_table("plan_pins")
    op.drop_index("ix_plan_proposals_territory_day", table_name="plan_proposals")
    op.drop_table("plan_proposals")
