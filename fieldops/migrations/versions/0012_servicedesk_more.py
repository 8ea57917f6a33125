"""service desk: portal attachments, knowledge-suggestion reads (deflection)

Revision ID: 0012_servicedesk_more
Revises: 0010_servicedesk
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_servicedesk_more"
down_revision = "0010_servicedesk"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ticket_attachments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("blob", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_ticket_attachments_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attachments")),
    )
    op.create_index(
        op.f("ix_ticket_attachments_work_order_id"), "ticket_attachments", ["work_order_id"], unique=False
    )
    op.create_table(
        "kb_suggestion_reads",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_suggestion_reads_article_id_kb_articles")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_kb_suggestion_reads_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_kb_suggestion_reads_user_id_users")),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_kb_suggestion_reads_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_suggestion_reads")),
    )
    op.create_index(
        op.f("ix_kb_suggestion_reads_article_id"), "kb_suggestion_reads", ["article_id"], unique=False
    )
    op.create_index(
        op.f("ix_kb_suggestion_reads_customer_id"), "kb_suggestion_reads", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_kb_suggestion_reads_customer_id"), table_name="kb_suggestion_reads")
    op.drop_index(op.f("ix_kb_suggestion_reads_article_id"), table_name="kb_suggestion_reads")
    op.drop_table("kb_suggestion_reads")
    op.drop_index(op.f("ix_ticket_attachments_work_order_id"), table_name="ticket_attachments")
    op.drop_table("ticket_attachments")
