"""service desk: contacts, inbound messages, comments, chat channels, knowledge base, surveys

Revision ID: 0010_servicedesk
Revises: 0006_photos
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_servicedesk"
down_revision = "0006_photos"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chat_channels",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("adapter", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_chat_channels_name")),
    )
    op.create_table(
        "kb_articles",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("asset_models", JSON, nullable=False),
        sa.Column("fault_codes", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("helpful_yes", sa.Integer(), nullable=False),
        sa.Column("helpful_no", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    op.create_table(
        "customer_contacts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("im_ids", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_contacts_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_contacts")),
    )
    op.create_index(
        op.f("ix_customer_contacts_customer_id"), "customer_contacts", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_customer_contacts_email"), "customer_contacts", ["email"], unique=False)
    op.create_index(op.f("ix_customer_contacts_phone"), "customer_contacts", ["phone"], unique=False)

    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_profiles_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    op.create_table(
        "kb_article_versions",
        sa.Column("article_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_article_versions_article_id_kb_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", "version", name=op.f("pk_kb_article_versions")),
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=400), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("raw_blob", sa.String(length=64), nullable=True),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("auto_reply", sa.Boolean(), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("site_id", ID, nullable=True),
        sa.Column("asset_id", ID, nullable=True),
        sa.Column("work_order_id", ID, nullable=True),
        sa.Column("proposal", JSON, nullable=False),
        sa.Column("ack_message_id", sa.String(length=400), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_inbound_messages_asset_id_assets")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["customer_contacts.id"],
            name=op.f("fk_inbound_messages_contact_id_customer_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_inbound_messages_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_inbound_messages_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_inbound_messages_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_inbound_messages_channel_external_id")),
    )
    op.create_index(
        op.f("ix_inbound_messages_ack_message_id"), "inbound_messages", ["ack_message_id"], unique=False
    )
    op.create_index(
        op.f("ix_inbound_messages_customer_id"), "inbound_messages", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_inbound_messages_state"), "inbound_messages", ["state"], unique=False)
    op.create_index(
        op.f("ix_inbound_messages_work_order_id"), "inbound_messages", ["work_order_id"], unique=False
    )

    op.create_table(
        "survey_invitations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("engineer_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_survey_invitations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineers.id"], name=op.f("fk_survey_invitations_engineer_id_engineers")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_survey_invitations_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_survey_invitations_contact_email"), "survey_invitations", ["contact_email"], unique=False
    )
    op.create_index(
        op.f("ix_survey_invitations_work_order_id"), "survey_invitations", ["work_order_id"], unique=False
    )

    op.create_table(
        "survey_responses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("invitation_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("engineer_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_survey_responses_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["engineer_id"], ["engineers.id"], name=op.f("fk_survey_responses_engineer_id_engineers")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["survey_invitations.id"],
            name=op.f("fk_survey_responses_invitation_id_survey_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_survey_responses_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_responses_invitation_id")),
    )
    op.create_index(
        op.f("ix_survey_responses_customer_id"), "survey_responses", ["customer_id"], unique=False
    )

    op.create_table(
        "ticket_comments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("inbound_message_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_messages.id"],
            name=op.f("fk_ticket_comments_inbound_message_id_inbound_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"], ["work_orders.id"], name=op.f("fk_ticket_comments_work_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index(
        op.f("ix_ticket_comments_work_order_id"), "ticket_comments", ["work_order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_comments_work_order_id"), table_name="ticket_comments")

    op.drop_table("ticket_comments")
    op.drop_index(op.f("ix_survey_responses_customer_id"), table_name="survey_responses")

    op.drop_table("survey_responses")
    op.drop_index(op.f("ix_survey_invitations_work_order_id"), table_name="survey_invitations")
    op.drop_index(op.f("ix_survey_invitations_contact_email"), table_name="survey_invitations")

    op.drop_table("survey_invitations")
    op.drop_index(op.f("ix_inbound_messages_work_order_id"), table_name="inbound_messages")
    op.drop_index(op.f("ix_inbound_messages_state"), table_name="inbound_messages")
    op.drop_index(op.f("ix_inbound_messages_customer_id"), table_name="inbound_messages")
    op.drop_index(op.f("ix_inbound_messages_ack_message_id"), table_name="inbound_messages")

    op.drop_table("inbound_messages")
    op.drop_table("kb_article_versions")
    op.drop_table("customer_profiles")
    op.drop_index(op.f("ix_customer_contacts_phone"), table_name="customer_contacts")
    op.drop_index(op.f("ix_customer_contacts_email"), table_name="customer_contacts")
    op.drop_index(op.f("ix_customer_contacts_customer_id"), table_name="customer_contacts")

    op.drop_table("customer_contacts")
    op.drop_table("kb_articles")
    op.drop_table("chat_channels")
