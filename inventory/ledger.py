"""The rules of the stock ledger, as plain data: what each kind of movement does to a (part, location).

No I/O here: `inventory.posting` applies these deltas to the database, and the property tests apply them
to an in-memory model to check that the database agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from core.domain.errors import Invalid


class MovementKind(StrEnum):
    RECEIVE = "receive"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RESERVE = "reserve"
    RELEASE = "release"
    CONSUME = "consume"
    RETURN = "return"
    ADJUST = "adjust"


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    VAN = "van"


class TransferStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"


class SerialStatus(StrEnum):
    IN_STOCK = "in_stock"
    IN_TRANSIT = "in_transit"
    CONSUMED = "consumed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Delta:
    """A change to one stock level. `inbound` is bookkeeping for transfers on the road (no ledger line)."""

    on_hand: int = 0
    reserved: int = 0
    inbound: int = 0

    def __add__(self, other: Delta) -> Delta:
        return Delta(
            self.on_hand + other.on_hand, self.reserved + other.reserved, self.inbound + other.inbound
        )

    @property
    def takes(self) -> bool:
        """True when the change uses up available stock (so it can be refused for lack of it)."""
        return self.on_hand - self.reserved < 0


@dataclass(frozen=True, slots=True)
class Level:
    on_hand: int = 0
    reserved: int = 0
    inbound: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def after(self, delta: Delta) -> Level:
        return Level(
            self.on_hand + delta.on_hand, self.reserved + delta.reserved, self.inbound + delta.inbound
        )

    @property
    def valid(self) -> bool:
        """The invariants the database's CHECK constraints also enforce."""
        return (
            self.on_hand >= 0 and self.reserved >= 0 and self.reserved <= self.on_hand and self.inbound >= 0
        )


def delta_for(kind: MovementKind, quantity: int, *, from_reservation: int = 0) -> Delta:
    """What a movement of `quantity` does at its location.

    `quantity` is positive except for `adjust`, where its sign says which way the count went.
    `from_reservation` is how much of a consumption was held for the same work order.
    """
    if kind is MovementKind.ADJUST:
        if quantity == 0:
            raise ValueError("an adjustment changes something")
        return Delta(on_hand=quantity)
    if quantity <= 0:
        raise ValueError(f"a {kind} moves a positive quantity")
    if not 0 <= from_reservation <= quantity:
        raise ValueError("a consumption cannot use more reservation than it consumes")
    match kind:
        case MovementKind.RECEIVE | MovementKind.RETURN | MovementKind.TRANSFER_IN:
            return Delta(on_hand=quantity)
        case MovementKind.TRANSFER_OUT:
            return Delta(on_hand=-quantity)
        case MovementKind.RESERVE:
            return Delta(reserved=quantity)
        case MovementKind.RELEASE:
            return Delta(reserved=-quantity)
        case MovementKind.CONSUME:
            return Delta(on_hand=-quantity, reserved=-from_reservation)
    raise ValueError(f"unknown movement kind {kind}")  # pragma: no cover


def shortfall(sku: str, place: str, level: Level, delta: Delta) -> str:
    """The 409 message when a change would take more than is there."""
    needed = -(delta.on_hand - delta.reserved)
    return (
        f"not enough {sku} at {place}: {level.available} available "
        f"({level.on_hand} on hand, {level.reserved} reserved), {needed} needed"
    )


MAX_MONEY = Decimal("9999999999.99")
CENT = Decimal("0.01")


def money(value: Decimal, field: str) -> Decimal:
    """A price or cost as stored (Numeric(12, 2)): finite, not negative, whole cents."""
    try:
        if not value.is_finite() or value < 0 or value > MAX_MONEY:
            raise Invalid(f"{value} is not an amount between 0 and {MAX_MONEY}", field=field)
        if value != value.quantize(CENT):
            raise Invalid(f"{value} has fractions of a cent", field=field)
    except InvalidOperation as exc:
        raise Invalid(f"{value} is not an amount", field=field) from exc
    return value.quantize(CENT)
