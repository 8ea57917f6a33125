"""photos of work orders (bytes in the content-addressed blob store)

Revision ID: 0006_photos
Revises: 0005_outbox_tx
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_photos"
down_revision = "0005_outbox_tx"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("visit_id", ID, nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("uploaded_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_photos_visit_id_visits")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_photos_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photos")),
        sa.UniqueConstraint(
            "work_order_id", "content_hash", name=op.f("uq_photos_work_order_id_content_hash")
        ),
    )
    op.create_index(op.f("ix_photos_work_order_id"), "photos", ["work_order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_photos_work_order_id"), table_name="photos")
    op.drop_table("photos")
