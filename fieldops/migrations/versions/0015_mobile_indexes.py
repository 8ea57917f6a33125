"""mobile: indexes for the engineer's day — the outbox head in (tx_id, seq) order, an asset's latest jobs

Revision ID: 0015_mobile_indexes
Revises: 0008_fieldwork
"""

from __future__ import annotations

from alembic import op

revision = "0015_mobile_indexes"
down_revision = "0008_fieldwork"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_events_tx_seq", "outbox_events", ["tx_id", "seq"], unique=False)
    op.create_index(
        "ix_work_orders_asset_created", "work_orders", ["asset_id", "created_at", "id"], unique=False
    )
    # The new index starts with asset_id: the old one would only cost every insert.
    op.drop_index("ix_work_orders_asset_id", table_name="work_orders")


def downgrade() -> None:
    op.create_index("ix_work_orders_asset_id", "work_orders", ["asset_id"], unique=False)
    op.drop_index("ix_work_orders_asset_created", table_name="work_orders")
    op.drop_index("ix_outbox_events_tx_seq", table_name="outbox_events")
