"""A small stock world on top of tests.world: two warehouses, two vans, three parts, and ledger checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.services.context import Actor, Role, ServiceContext
from fieldops.wiring import System
from inventory import catalogue, locations
from inventory.ledger import SerialStatus, TransferStatus
from inventory.models import (
    StockLevel,
    StockMovement,
    StockReservation,
    StockSerial,
    StockTransfer,
    StockTransferLine,
)
from tests.world import World

FILTER, COMPRESSOR, BELT = "FLT-01", "CMP-500", "BLT-9"


@dataclass
class Stock:
    world: World
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def system(self) -> System:
        return self.world.system

    def ctx(self, actor: Actor | None = None) -> ServiceContext:
        rt = self.system.runtime
        return ServiceContext(rt.sessions(), rt.clock, actor or Actor.system("test"))

    def engineer(self, key: str = "engineer") -> Actor:
        return Actor(user_id=None, name=key, role=Role.ENGINEER, engineer_id=self.world.ids[key])

    def dispatcher(self) -> Actor:
        return Actor(user_id=None, name="dispatcher", role=Role.DISPATCHER)


def build_stock(world: World) -> Stock:
    stock = Stock(world)
    ids = stock.ids
    with stock.ctx().session as s:
        ctx = ServiceContext(s, world.system.runtime.clock, Actor.system("test-setup"))
        # Pudong, close to the engineer's base (31.22, 121.48); and far away in Songjiang.
        ids["near"] = locations.create_location(
            ctx,
            locations.LocationInput(code="WH-PD", name="Pudong", kind="warehouse", lat=31.23, lon=121.50),
        ).id
        ids["far"] = locations.create_location(
            ctx,
            locations.LocationInput(code="WH-SJ", name="Songjiang", kind="warehouse", lat=31.03, lon=121.22),
        ).id
        ids["van"] = locations.ensure_van(ctx, world.ids["engineer"]).id
        ids["van_b"] = locations.ensure_van(ctx, world.ids["engineer_b"]).id
        for sku, name, tracked in (
            (FILTER, "Oil filter", False),
            (COMPRESSOR, "Compressor 500", True),
            (BELT, "Belt", False),
        ):
            ids[sku] = catalogue.create_part(
                ctx,
                catalogue.PartInput(
                    sku=sku,
                    name=name,
                    unit_cost=Decimal("12.50"),
                    unit_price=Decimal("25.00"),
                    serial_tracked=tracked,
                    compatible_asset_model_ids=[world.ids["model"]],
                ),
            ).id
    return stock


def check_ledger(session: Session) -> None:
    """Every invariant the ledger promises, checked against the database as it is."""
    levels = {(lv.part_id, lv.location_id): lv for lv in session.scalars(sa.select(StockLevel))}
    sums = {
        (p, loc): (int(h), int(r))
        for p, loc, h, r in session.execute(
            sa.select(
                StockMovement.part_id,
                StockMovement.location_id,
                sa.func.sum(StockMovement.on_hand_delta),
                sa.func.sum(StockMovement.reserved_delta),
            ).group_by(StockMovement.part_id, StockMovement.location_id)
        )
    }
    for key in set(levels) | set(sums):
        lv = levels.get(key)
        on_hand, reserved = (lv.on_hand, lv.reserved) if lv else (0, 0)
        assert sums.get(key, (0, 0)) == (on_hand, reserved), (key, sums.get(key), on_hand, reserved)
        assert 0 <= reserved <= on_hand, key
    # Reserved = what active reservations still hold.
    held = {
        (p, loc): int(q)
        for p, loc, q in session.execute(
            sa.select(
                StockReservation.part_id,
                StockReservation.location_id,
                sa.func.sum(StockReservation.open_quantity),
            )
            .where(StockReservation.status == "active")
            .group_by(StockReservation.part_id, StockReservation.location_id)
        )
    }
    for key, lv in levels.items():
        assert held.get(key, 0) == lv.reserved, (key, held.get(key), lv.reserved)
    # Inbound = what open transfers are bringing.
    coming: dict[tuple[int, int], int] = {}
    for t, line in session.execute(
        sa.select(StockTransfer, StockTransferLine)
        .join(StockTransferLine, StockTransferLine.transfer_id == StockTransfer.id)
        .where(StockTransfer.status == TransferStatus.IN_TRANSIT.value)
    ):
        key = (line.part_id, t.to_location_id)
        coming[key] = coming.get(key, 0) + line.quantity
    for key, lv in levels.items():
        assert coming.get(key, 0) == lv.inbound, (key, coming.get(key), lv.inbound)
    # Serial-tracked parts: the serials in stock at a location are its on-hand count.
    in_stock = {
        (p, loc): int(n)
        for p, loc, n in session.execute(
            sa.select(StockSerial.part_id, StockSerial.location_id, sa.func.count())
            .where(StockSerial.status == SerialStatus.IN_STOCK.value)
            .group_by(StockSerial.part_id, StockSerial.location_id)
        )
    }
    tracked = {p for (p,) in session.execute(sa.text("SELECT id FROM parts WHERE serial_tracked"))}
    for (p, loc), lv in levels.items():
        if p in tracked:
            assert in_stock.get((p, loc), 0) == lv.on_hand, (p, loc)


def level(session: Session, part_id: int, location_id: int) -> tuple[int, int, int]:
    lv = session.get(StockLevel, (part_id, location_id), populate_existing=True)
    return (lv.on_hand, lv.reserved, lv.inbound) if lv else (0, 0, 0)
