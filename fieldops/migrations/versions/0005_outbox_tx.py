"""outbox: the writing transaction's id, for gap-free readers on PostgreSQL

Revision ID: 0005_outbox_tx
Revises: 0004_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outbox_tx"
down_revision = "0004_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    default = sa.text("(pg_current_xact_id()::text::bigint)") if postgres else None
    op.add_column("outbox_events", sa.Column("tx_id", sa.BigInteger(), server_default=default, nullable=True))


def downgrade() -> None:
    op.drop_column("outbox_events", "tx_id")
