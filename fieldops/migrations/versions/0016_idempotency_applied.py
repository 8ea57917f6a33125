"""idempotency: when the keyed request's change was committed (in that change's own transaction)

Revision ID: 0016_idempotency_applied
Revises: 0004_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_idempotency_applied"
down_revision = "0004_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_records", sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
    # Records finished before this column existed were applied when they completed.
    op.execute("UPDATE idempotency_records SET applied_at = completed_at WHERE completed_at IS NOT NULL")


def downgrade() -> None:
    op.drop_column("idempotency_records", "applied_at")
