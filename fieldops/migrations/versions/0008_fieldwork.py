"""work on site: checklists, notes, time entries, rate cards, sign-offs, settlements

Revision ID: 0008_fieldwork
Revises: 0006_photos
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008_fieldwork"
down_revision = "0006_photos"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
MONEY = sa.Numeric(12, 2)
TS = sa.DateTime(timezone=True)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "checklist_templates",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("asset_model_id", ID, nullable=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("items", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("asset_model_id", "checklist_templates", "asset_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_templates")),
        sa.UniqueConstraint(
            "asset_model_id", "kind", name=op.f("uq_checklist_templates_asset_model_id_kind")
        ),
    )
    op.create_table(
        "checklist_answers",
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("template_id", ID, nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("answered_by", sa.String(120), nullable=False),
        sa.Column("answered_at", TS, nullable=False),
        _fk("work_order_id", "checklist_answers", "work_orders"),
        _fk("template_id", "checklist_answers", "checklist_templates"),
        sa.PrimaryKeyConstraint("work_order_id", "item_key", name=op.f("pk_checklist_answers")),
    )
    op.create_table(
        "work_order_notes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("visit_id", ID, nullable=True),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("work_order_id", "work_order_notes", "work_orders"),
        _fk("visit_id", "work_order_notes", "visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_notes")),
    )
    op.create_index(
        op.f("ix_work_order_notes_work_order_id"), "work_order_notes", ["work_order_id"], unique=False
    )
    op.create_table(
        "time_entries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("engineer_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=False),
        sa.Column("edited_reason", sa.Text(), nullable=True),
        sa.Column("edited_by", sa.String(120), nullable=True),
        sa.Column("edited_at", TS, nullable=True),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_time_entries_ends_after_start")),
        _fk("visit_id", "time_entries", "visits"),
        _fk("engineer_id", "time_entries", "engineers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entries")),
        sa.UniqueConstraint("visit_id", "kind", name=op.f("uq_time_entries_visit_id_kind")),
    )
    op.create_table(
        "rate_cards",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("territory_id", ID, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("call_out_fee", MONEY, nullable=False),
        sa.Column("hourly_rate", MONEY, nullable=False),
        sa.Column("travel_hourly_rate", MONEY, nullable=False),
        sa.Column("increment_minutes", sa.Integer(), nullable=False),
        sa.Column("minimum_minutes", sa.Integer(), nullable=False),
        _fk("territory_id", "rate_cards", "territories"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_cards")),
    )
    op.create_table(
        "sign_offs",
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("resolution_code", sa.String(32), nullable=False),
        sa.Column("resolution_notes", sa.Text(), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=True),
        sa.Column("signed_at", TS, nullable=True),
        sa.Column("signature_hash", sa.String(64), nullable=True),
        sa.Column("signature_strokes", JSON, nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("customer_absent_reason", sa.Text(), nullable=True),
        _fk("visit_id", "sign_offs", "visits"),
        _fk("work_order_id", "sign_offs", "work_orders"),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_sign_offs")),
    )
    op.create_index(op.f("ix_sign_offs_work_order_id"), "sign_offs", ["work_order_id"], unique=False)
    op.create_table(
        "settlements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("visit_id", ID, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("labour_amount", MONEY, nullable=False),
        sa.Column("parts_amount", MONEY, nullable=False),
        sa.Column("covered_amount", MONEY, nullable=False),
        sa.Column("customer_amount", MONEY, nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        _fk("work_order_id", "settlements", "work_orders"),
        _fk("visit_id", "settlements", "visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_settlements_visit_id")),
    )
    op.create_index(op.f("ix_settlements_work_order_id"), "settlements", ["work_order_id"], unique=False)
    op.create_table(
        "photo_thumbnails",
        sa.Column("photo_hash", sa.String(64), nullable=False),
        sa.Column("thumbnail_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("photo_hash", name=op.f("pk_photo_thumbnails")),
    )


def downgrade() -> None:
    for table in (
        "photo_thumbnails",
        "settlements",
        "sign_offs",
        "rate_cards",
        "time_entries",
        "work_order_notes",
        "checklist_answers",
        "checklist_templates",
    ):
        op.drop_table(table)
