"""ORM models of the work done on site: checklists, notes, time, the customer's sign-off, the settlement."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType, JsonType, UTCDateTime

Money = sa.Numeric(12, 2)


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _ref(target: str, *, nullable: bool = False, index: bool = False) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


class ChecklistTemplate(Base):
    """The questions asked on a job: for an asset model, for a kind of work order, or both.

    The most specific template applies (model + kind, then model, then kind). Items are data:
    `[{"key", "label", "label_zh"?, "type": yes_no|number|text|choice, "required", "options"?, "min"?,
    "max"?}]`, validated on save by `fieldwork.checklists`.
    """

    __tablename__ = "checklist_templates"
    __table_args__ = (sa.UniqueConstraint("asset_model_id", "kind"),)
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    asset_model_id: Mapped[int | None] = _ref("asset_models.id", nullable=True)
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    items: Mapped[list[Any]] = mapped_column(JsonType)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChecklistAnswer(Base):
    """The latest answer to one checklist item on one work order (the audit trail keeps earlier ones)."""

    __tablename__ = "checklist_answers"
    work_order_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("work_orders.id"), primary_key=True)
    item_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    template_id: Mapped[int] = _ref("checklist_templates.id")
    value: Mapped[Any] = mapped_column(JsonType)
    answered_by: Mapped[str] = mapped_column(sa.String(120))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkOrderNote(Base):
    __tablename__ = "work_order_notes"
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id", index=True)
    visit_id: Mapped[int | None] = _ref("visits.id", nullable=True)
    author: Mapped[str] = mapped_column(sa.String(120))
    text: Mapped[str] = mapped_column(sa.Text)
    # When it was written on the phone; created_at is when it reached us.
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TimeEntry(Base):
    """Travel and work time of a visit. Derived from the visit's timeline; an edit needs a reason."""

    __tablename__ = "time_entries"
    __table_args__ = (
        sa.UniqueConstraint("visit_id", "kind"),
        sa.CheckConstraint("ended_at >= started_at", name="ends_after_start"),
    )
    id: Mapped[int] = _pk()
    visit_id: Mapped[int] = _ref("visits.id")
    engineer_id: Mapped[int] = _ref("engineers.id")
    kind: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    edited_reason: Mapped[str | None] = mapped_column(sa.Text)
    edited_by: Mapped[str | None] = mapped_column(sa.String(120))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateCard(Base):
    """What labour costs, per territory (a row with no territory is the default)."""

    __tablename__ = "rate_cards"
    id: Mapped[int] = _pk()
    territory_id: Mapped[int | None] = _ref("territories.id", nullable=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    call_out_fee: Mapped[Decimal] = mapped_column(Money)
    hourly_rate: Mapped[Decimal] = mapped_column(Money)
    travel_hourly_rate: Mapped[Decimal] = mapped_column(Money)
    # Work is billed in these increments, and at least this long.
    increment_minutes: Mapped[int] = mapped_column(sa.Integer)
    minimum_minutes: Mapped[int] = mapped_column(sa.Integer)


class SignOff(Base):
    """The end of a visit: what was done (work done) and the customer's word on it (signed off)."""

    __tablename__ = "sign_offs"
    visit_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("visits.id"), primary_key=True)
    work_order_id: Mapped[int] = _ref("work_orders.id", index=True)
    resolution_code: Mapped[str] = mapped_column(sa.String(32))
    resolution_notes: Mapped[str] = mapped_column(sa.Text)
    signer_name: Mapped[str | None] = mapped_column(sa.String(200))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # PNG in the blob store, or the strokes drawn on the phone (the report renders them).
    signature_hash: Mapped[str | None] = mapped_column(sa.String(64))
    signature_strokes: Mapped[list[Any] | None] = mapped_column(JsonType)
    rating: Mapped[int | None] = mapped_column(sa.SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(sa.Text)
    customer_absent_reason: Mapped[str | None] = mapped_column(sa.Text)


class Settlement(Base):
    """What the job costs and who pays: labour and parts, less what the warranty or contract covers."""

    __tablename__ = "settlements"
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id", index=True)
    visit_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("visits.id"), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    labour_amount: Mapped[Decimal] = mapped_column(Money)
    parts_amount: Mapped[Decimal] = mapped_column(Money)
    covered_amount: Mapped[Decimal] = mapped_column(Money)
    customer_amount: Mapped[Decimal] = mapped_column(Money)
    # Every line with its basis: [{"kind", "description", "quantity", "unit_price", "amount", "covered_by"}]
    lines: Mapped[list[Any]] = mapped_column(JsonType)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PhotoThumbnail(Base):
    """The preview made from a photo's bytes (both in the blob store, keyed by content)."""

    __tablename__ = "photo_thumbnails"
    photo_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    thumbnail_hash: Mapped[str] = mapped_column(sa.String(64))
