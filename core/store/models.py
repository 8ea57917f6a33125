"""ORM models of the shared domain: who the customers are, where their machines stand, who fixes them.

Geography is stored portably as `lat`/`lon` columns. On PostgreSQL the migration adds a generated
PostGIS `geography` column (`geog`) with a GiST index beside them; it is not mapped here because
only the PostGIS query implementation (`core.store.nearby`) reads it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from core.store.base import Base, IdType, UTCDateTime


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False)


class Versioned:
    """Optimistic concurrency: every UPDATE checks and bumps `version` (stale → StaleDataError → 412)."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Territory(Base):
    __tablename__ = "territories"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    # The business calendar (core.domain.calendar.BusinessCalendar.to_dict()): hours, holidays, make-up days.
    calendar: Mapped[dict[str, Any]]


class Skill(Base):
    __tablename__ = "skills"
    code: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))


class Customer(Versioned, Base):
    __tablename__ = "customers"
    id: Mapped[int] = _pk()
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh-CN")
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()

    # passive_deletes="all": deleting a customer never rewrites its children; the database refuses instead.
    sites: Mapped[list[Site]] = relationship(
        back_populates="customer", order_by="Site.id", passive_deletes="all"
    )
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="customer", order_by="Contract.id", passive_deletes="all"
    )


class SlaPolicy(Base):
    """Targets per contract tier × priority, in business minutes of the site's territory calendar."""

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("tier", "priority"),)
    id: Mapped[int] = _pk()
    tier: Mapped[str] = mapped_column(sa.String(32))
    priority: Mapped[int] = mapped_column(sa.SmallInteger)
    response_minutes: Mapped[int] = mapped_column(sa.Integer)
    resolution_minutes: Mapped[int] = mapped_column(sa.Integer)
    # Gold contracts are often 24×7: then the clock ignores the territory's business hours.
    around_the_clock: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class Contract(Versioned, Base):
    __tablename__ = "contracts"
    id: Mapped[int] = _pk()
    customer_id: Mapped[int] = _fk("customers.id")
    number: Mapped[str] = mapped_column(sa.String(64), unique=True)
    tier: Mapped[str] = mapped_column(sa.String(32))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ends_on: Mapped[date] = mapped_column(sa.Date)
    covers_labour: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    covers_parts: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Work orders under this contract are raised to at least this urgency (1 = P1).
    priority_floor: Mapped[int | None] = mapped_column(sa.SmallInteger)
    created_at: Mapped[datetime] = _created()

    customer: Mapped[Customer] = relationship(back_populates="contracts")


class Site(Versioned, Base):
    __tablename__ = "sites"
    __table_args__ = (sa.Index("ix_sites_lat_lon", "lat", "lon"),)
    id: Mapped[int] = _pk()
    customer_id: Mapped[int] = _fk("customers.id")
    territory_id: Mapped[int] = _fk("territories.id")
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(500))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    access_notes: Mapped[str | None] = mapped_column(sa.Text)
    geofence_radius_m: Mapped[int] = mapped_column(sa.Integer, default=200)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created()

    customer: Mapped[Customer] = relationship(back_populates="sites")
    territory: Mapped[Territory] = relationship()


class AssetModel(Base):
    """A make and model of machine; later issues hang detection profiles, fault maps and checklists here."""

    __tablename__ = "asset_models"
    id: Mapped[int] = _pk()
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    manufacturer: Mapped[str | None] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(64))


class Asset(Versioned, Base):
    __tablename__ = "assets"
    __table_args__ = (sa.UniqueConstraint("asset_model_id", "serial"),)
    id: Mapped[int] = _pk()
    site_id: Mapped[int] = _fk("sites.id")
    asset_model_id: Mapped[int] = _fk("asset_models.id")
    contract_id: Mapped[int | None] = _fk("contracts.id", nullable=True)
    serial: Mapped[str] = mapped_column(sa.String(120), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    installed_on: Mapped[date | None] = mapped_column(sa.Date)
    warranty_ends_on: Mapped[date | None] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = _created()

    site: Mapped[Site] = relationship()
    model: Mapped[AssetModel] = relationship()
    contract: Mapped[Contract | None] = relationship()


class Engineer(Versioned, Base):
    __tablename__ = "engineers"
    __table_args__ = (sa.Index("ix_engineers_home", "home_lat", "home_lon"),)
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    territory_id: Mapped[int] = _fk("territories.id")
    home_lat: Mapped[float] = mapped_column(sa.Float)
    home_lon: Mapped[float] = mapped_column(sa.Float)
    # Weekly pattern in the territory's time zone: [{"weekday": 0-6, "start": "08:30", "end": "17:30",
    # "break_minutes": 60}], see core.services.engineers.Shift.
    shifts: Mapped[list[Any]]
    max_work_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    last_lat: Mapped[float | None] = mapped_column(sa.Float)
    last_lon: Mapped[float | None] = mapped_column(sa.Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created()

    territory: Mapped[Territory] = relationship()
    skills: Mapped[list[EngineerSkill]] = relationship(
        cascade="all, delete-orphan", order_by="EngineerSkill.skill_code", lazy="selectin"
    )


class EngineerSkill(Base):
    __tablename__ = "engineer_skills"
    engineer_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("engineers.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("skills.code"), primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger)


class WorkOrder(Versioned, Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        # Keyset pagination walks (created_at, id); filters narrow by status/territory first.
        sa.Index("ix_work_orders_created", "created_at", "id"),
        sa.Index("ix_work_orders_status_created", "status", "created_at", "id"),
        sa.Index("ix_work_orders_territory_status", "territory_id", "status"),
        sa.Index("ix_work_orders_respond_by", "respond_by"),
        # An asset's latest jobs (the engineer's day shows five per asset).
        sa.Index("ix_work_orders_asset_created", "asset_id", "created_at", "id"),
    )
    id: Mapped[int] = _pk()
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    customer_id: Mapped[int] = _fk("customers.id")
    site_id: Mapped[int] = _fk("sites.id")
    # Indexed by ix_work_orders_asset_created, which starts with it.
    asset_id: Mapped[int | None] = _fk("assets.id", nullable=True, index=False)
    contract_id: Mapped[int | None] = _fk("contracts.id", nullable=True, index=False)
    territory_id: Mapped[int] = _fk("territories.id", index=False)
    source: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(16))
    priority: Mapped[int] = mapped_column(sa.SmallInteger)
    status: Mapped[str] = mapped_column(sa.String(16))
    estimated_minutes: Mapped[int] = mapped_column(sa.Integer)
    # Appointment windows the customer agreed to: [{"start": iso, "end": iso}].
    windows: Mapped[list[Any]]
    # Parts the job is expected to need: [{"sku": str, "quantity": int}].
    required_parts: Mapped[list[Any]]
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    respond_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_hold_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A cancelled order's SLA clocks stop where they were: neither met nor breached afterwards.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()

    customer: Mapped[Customer] = relationship()
    site: Mapped[Site] = relationship()
    asset: Mapped[Asset | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    skills: Mapped[list[WorkOrderSkill]] = relationship(
        cascade="all, delete-orphan", order_by="WorkOrderSkill.skill_code", lazy="selectin"
    )
    visits: Mapped[list[Visit]] = relationship(
        back_populates="work_order", order_by="Visit.id", lazy="selectin"
    )

    @property
    def reference(self) -> str:
        return f"WO-{self.id:07d}"


class WorkOrderSkill(Base):
    __tablename__ = "work_order_skills"
    __table_args__ = (sa.Index("ix_work_order_skills_skill", "skill_code", "work_order_id"),)
    work_order_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("work_orders.id"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(sa.String(64), sa.ForeignKey("skills.code"), primary_key=True)
    min_level: Mapped[int] = mapped_column(sa.SmallInteger, default=1)


class Visit(Versioned, Base):
    """One engineer's trip for a work order; the timeline lives here."""

    __tablename__ = "visits"
    __table_args__ = (sa.Index("ix_visits_engineer_start", "engineer_id", "planned_start"),)
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _fk("work_orders.id")
    engineer_id: Mapped[int] = _fk("engineers.id", index=False)
    status: Mapped[str] = mapped_column(sa.String(16))
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A pinned visit keeps its engineer (and time, if set) through re-optimisation.
    pinned: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    assigned_at: Mapped[datetime] = _created()
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_site_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checkin_lat: Mapped[float | None] = mapped_column(sa.Float)
    checkin_lon: Mapped[float | None] = mapped_column(sa.Float)
    checkin_accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    checkin_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    off_site: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    work_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(sa.Text)

    work_order: Mapped[WorkOrder] = relationship(back_populates="visits")
    engineer: Mapped[Engineer] = relationship()


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = _pk()
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    engineer_id: Mapped[int | None] = _fk("engineers.id", nullable=True)
    customer_id: Mapped[int | None] = _fk("customers.id", nullable=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Bumped to revoke every refresh token the user holds (password change, disable).
    token_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = _created()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only trail of who did what and why; the migration adds triggers refusing UPDATE/DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_subject", "subject_type", "subject_id", "id"),)
    id: Mapped[int] = _pk()
    at: Mapped[datetime] = _created()
    actor: Mapped[str | None] = mapped_column(sa.String(120))
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int] = mapped_column(IdType)
    action: Mapped[str] = mapped_column(sa.String(64))
    from_state: Mapped[str | None] = mapped_column(sa.String(32))
    to_state: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxEvent(Base):
    """Domain events, written in the same transaction as the change (the transactional outbox).

    `seq` orders delivery; `event_id` is what consumers deduplicate on.
    """

    __tablename__ = "outbox_events"
    # Readers walk (tx_id, seq) on PostgreSQL: the head of the outbox is one step down this index, not a
    # sort of every event ever written (core/store/outbox.py; 0015_mobile_indexes).
    __table_args__ = (sa.Index("ix_outbox_events_tx_seq", "tx_id", "seq"),)
    seq: Mapped[int] = _pk()
    event_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True)
    type: Mapped[str] = mapped_column(sa.String(64), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int] = mapped_column(IdType)
    occurred_at: Mapped[datetime] = _created()
    actor: Mapped[str | None] = mapped_column(sa.String(120))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # PostgreSQL: the writing transaction's id (set by a column default). Readers only take events from
    # transactions older than every one still running, so a later commit of an earlier `seq` is never
    # skipped. SQLite runs one writer at a time, so there commit order is `seq` order and this stays NULL.
    tx_id: Mapped[int | None] = mapped_column(sa.BigInteger, server_default=sa.FetchedValue())


class IdempotencyRecord(Base):
    """The stored outcome of a mutating request sent with an Idempotency-Key, for exact replay.

    Keys are scoped to the user: two phones may pick the same key without meeting.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = _pk()
    user_id: Mapped[int] = mapped_column(IdType)
    key: Mapped[str] = mapped_column(sa.String(200))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(500))
    # sha256 of method, path and body: a key reused for a different request is refused, not replayed.
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    status_code: Mapped[int | None] = mapped_column(sa.SmallInteger)
    response_headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = _created()
    # Set in the same transaction as the request's own change: once set, running it again would apply it
    # twice, so a claim that never finished is only taken over while this is empty.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Photo(Base):
    """A photo taken for a work order; the bytes live in the blob store under their SHA-256."""

    __tablename__ = "photos"
    __table_args__ = (sa.UniqueConstraint("work_order_id", "content_hash"),)
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _fk("work_orders.id")
    # Kept when the visit is withdrawn: the photo belongs to the job, not to one trip.
    visit_id: Mapped[int | None] = _fk("visits.id", nullable=True, index=False)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    category: Mapped[str] = mapped_column(sa.String(16))
    caption: Mapped[str | None] = mapped_column(sa.String(500))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    uploaded_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = _created()
