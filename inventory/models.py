"""ORM models of spare parts and stock.

The ledger (`stock_movements`) is the record: append-only (the migration adds triggers refusing UPDATE
and DELETE), one row per change of on-hand or reserved quantity at one (part, location), with who, when,
why and the work order. `stock_levels` holds the running totals per (part, location), changed in the same
transaction as the ledger by one conditional UPDATE (`inventory.posting`), with CHECK constraints as the
last line of defence: nothing ever goes negative and reservations never exceed what is on hand.

Quantities are integers in the part's unit of measure; money is `Numeric(12, 2)`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.store.base import Base, IdType, UTCDateTime
from core.store.models import Versioned

Money = sa.Numeric(12, 2)


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _ref(target: str, *, nullable: bool = False, index: bool = False) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


class Part(Versioned, Base):
    """A catalogue entry. Serial-tracked parts move one serial number at a time (`stock_serials`)."""

    __tablename__ = "parts"
    __table_args__ = (
        sa.CheckConstraint("unit_cost >= 0", name="unit_cost_nonneg"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
    )
    id: Mapped[int] = _pk()
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    unit_of_measure: Mapped[str] = mapped_column(sa.String(16), default="ea")
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    serial_tracked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    compatible: Mapped[list[PartCompatibility]] = relationship(
        cascade="all, delete-orphan", order_by="PartCompatibility.asset_model_id", lazy="selectin"
    )


class PartCompatibility(Base):
    """Which asset models a part fits."""

    __tablename__ = "part_compatibility"
    __table_args__ = (sa.Index("ix_part_compatibility_model", "asset_model_id", "part_id"),)
    part_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("parts.id"), primary_key=True)
    asset_model_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("asset_models.id"), primary_key=True)


class FaultPart(Base):
    """An asset model's fault → parts map: what a work order raised for that fault should bring."""

    __tablename__ = "fault_parts"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)
    asset_model_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("asset_models.id"), primary_key=True)
    # The fault key as the IoT side names it, e.g. `fault:E42` or `trend:vibration`.
    fault_code: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    part_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("parts.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)


class StockLocation(Versioned, Base):
    """A warehouse (somewhere on the map) or an engineer's van (wherever the engineer is)."""

    __tablename__ = "stock_locations"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'van' AND engineer_id IS NOT NULL) OR "
            "(kind = 'warehouse' AND engineer_id IS NULL AND lat IS NOT NULL AND lon IS NOT NULL)",
            name="kind_fits",
        ),
    )
    id: Mapped[int] = _pk()
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # One van per engineer.
    engineer_id: Mapped[int | None] = mapped_column(IdType, sa.ForeignKey("engineers.id"), unique=True)
    territory_id: Mapped[int | None] = _ref("territories.id", nullable=True)
    address: Mapped[str | None] = mapped_column(sa.String(500))
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class StockLevel(Base):
    """Running totals per (part, location), in step with the ledger. Written only by `inventory.posting`.

    `inbound` is what transfers on the road will bring here: replenishment counts it, so tonight's
    proposal does not repeat yesterday's transfer that has not arrived yet.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        sa.CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        sa.CheckConstraint("reserved >= 0", name="reserved_nonneg"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        sa.CheckConstraint("inbound >= 0", name="inbound_nonneg"),
        sa.Index("ix_stock_levels_location_part", "location_id", "part_id"),
    )
    part_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("parts.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("stock_locations.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(sa.Integer, default=0)
    reserved: Mapped[int] = mapped_column(sa.Integer, default=0)
    inbound: Mapped[int] = mapped_column(sa.Integer, default=0)


class StockTransfer(Base):
    """Stock on the road: shipped out of `from_location` (in transit), then received at `to_location`."""

    __tablename__ = "stock_transfers"
    __table_args__ = (
        sa.CheckConstraint("from_location_id <> to_location_id", name="two_places"),
        sa.Index("ix_stock_transfers_status", "status", "id"),
    )
    id: Mapped[int] = _pk()
    from_location_id: Mapped[int] = _ref("stock_locations.id", index=True)
    to_location_id: Mapped[int] = _ref("stock_locations.id", index=True)
    # in_transit → received | cancelled (a cancelled transfer's stock goes back to where it came from).
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", nullable=True)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    shipped_by: Mapped[str | None] = mapped_column(sa.String(120))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(sa.String(120))

    lines: Mapped[list[StockTransferLine]] = relationship(
        cascade="all, delete-orphan", order_by="StockTransferLine.id", lazy="selectin"
    )


class StockTransferLine(Base):
    __tablename__ = "stock_transfer_lines"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = _pk()
    transfer_id: Mapped[int] = _ref("stock_transfers.id", index=True)
    part_id: Mapped[int] = _ref("parts.id")
    quantity: Mapped[int] = mapped_column(sa.Integer)
    # The serial numbers on the road, for serial-tracked parts.
    serials: Mapped[list[Any]] = mapped_column(default=list)


class StockSerial(Base):
    """Where one serial number is: in stock at exactly one location, on the road, or gone (used/removed)."""

    __tablename__ = "stock_serials"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'in_stock' AND location_id IS NOT NULL) OR "
            "(status <> 'in_stock' AND location_id IS NULL)",
            name="placed_when_in_stock",
        ),
        sa.Index("ix_stock_serials_location", "location_id", "part_id"),
    )
    part_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("parts.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    # in_stock | in_transit | consumed | removed
    status: Mapped[str] = mapped_column(sa.String(16))
    location_id: Mapped[int | None] = _ref("stock_locations.id", nullable=True)
    transfer_id: Mapped[int | None] = _ref("stock_transfers.id", nullable=True)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class StockReservation(Base):
    """Parts set aside at one location for a work order's visit; `open_quantity` is what is still held."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("open_quantity >= 0 AND open_quantity <= quantity", name="open_within_quantity"),
        sa.Index("ix_stock_reservations_work_order", "work_order_id", "status"),
        sa.Index("ix_stock_reservations_location_part", "location_id", "part_id"),
    )
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id")
    visit_id: Mapped[int | None] = _ref("visits.id", nullable=True, index=True)
    part_id: Mapped[int] = _ref("parts.id")
    location_id: Mapped[int] = _ref("stock_locations.id")
    quantity: Mapped[int] = mapped_column(sa.Integer)
    open_quantity: Mapped[int] = mapped_column(sa.Integer)
    # active → consumed | released
    status: Mapped[str] = mapped_column(sa.String(16))
    # Held in a warehouse rather than the engineer's van: someone has to fetch it.
    pickup_needed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StockMovement(Base):
    """One line of the ledger. `on_hand_delta`/`reserved_delta` are what it did to the (part, location)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint(
            "kind IN ('receive', 'transfer_out', 'transfer_in', 'reserve', 'release', 'consume', "
            "'return', 'adjust')",
            name="known_kind",
        ),
        sa.CheckConstraint("kind <> 'adjust' OR reason IS NOT NULL", name="adjust_has_reason"),
        # History of one part at one place, newest first, is the commonest question.
        sa.Index("ix_stock_movements_part_location", "part_id", "location_id", "id"),
        sa.Index("ix_stock_movements_location", "location_id", "id"),
        sa.Index("ix_stock_movements_at", "at"),
    )
    id: Mapped[int] = _pk()
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(16))
    part_id: Mapped[int] = _ref("parts.id")
    location_id: Mapped[int] = _ref("stock_locations.id")
    quantity: Mapped[int] = mapped_column(sa.Integer)
    on_hand_delta: Mapped[int] = mapped_column(sa.Integer)
    reserved_delta: Mapped[int] = mapped_column(sa.Integer)
    serial: Mapped[str | None] = mapped_column(sa.String(120))
    transfer_id: Mapped[int | None] = _ref("stock_transfers.id", nullable=True, index=True)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", nullable=True, index=True)
    reservation_id: Mapped[int | None] = _ref("stock_reservations.id", nullable=True)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str | None] = mapped_column(sa.String(120))


class StockRule(Base):
    """Min/max for one (part, location): at or below `reorder_point`, bring it back up to `target`."""

    __tablename__ = "stock_rules"
    __table_args__ = (
        sa.CheckConstraint("reorder_point >= 0", name="reorder_point_nonneg"),
        sa.CheckConstraint("target > reorder_point", name="target_above_reorder_point"),
        sa.Index("ix_stock_rules_location", "location_id"),
    )
    part_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("parts.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("stock_locations.id"), primary_key=True)
    reorder_point: Mapped[int] = mapped_column(sa.Integer)
    target: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ProcessedEvent(Base):
    """Domain events the inventory handlers have acted on: a redelivered event is recognised and skipped."""

    __tablename__ = "inventory_processed_events"
    event_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
