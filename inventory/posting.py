"""The one writer of stock levels: ledger lines and level changes in the same transaction.

Each level changes by one conditional statement whose WHERE clause is the invariant itself
(`on_hand + Δ >= 0 AND reserved + Δ <= on_hand + Δ …`). When it matches no row the change is refused
(409) and nothing else in the transaction survives. On PostgreSQL a concurrent writer of the same row
waits for the first to commit and then re-evaluates the WHERE clause against the new row (READ COMMITTED),
so of two engineers taking the last unit exactly one wins, without explicit locks; on SQLite every
transaction is BEGIN IMMEDIATE, so writers are serialised anyway.

Levels are touched in (part, location) order, so two multi-line transactions cannot deadlock on each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.domain.errors import Conflict
from core.services.context import ServiceContext
from inventory.ledger import Delta, Level, MovementKind, shortfall
from inventory.models import Part, StockLevel, StockLocation, StockMovement

LEVELS = cast(sa.Table, StockLevel.__table__)
Key = tuple[int, int]  # (part_id, location_id)


@dataclass(frozen=True, slots=True)
class Entry:
    """One change at one (part, location). With `kind` it is also a ledger line; without, bookkeeping only."""

    part_id: int
    location_id: int
    delta: Delta
    kind: MovementKind | None = None
    quantity: int = 0
    serial: str | None = None
    transfer_id: int | None = None
    work_order_id: int | None = None
    reservation_id: int | None = None
    reason: str | None = None


def refuse(ctx: ServiceContext, message: str, field: str | None = None) -> Conflict:
    """Undo everything this use case wrote so far and return the 409 to raise."""
    ctx.session.rollback()
    return Conflict(message, field=field)


def post(ctx: ServiceContext, entries: Sequence[Entry]) -> None:
    """Apply the entries' level changes (netted per key, in key order) and append their ledger lines.

    Raises Conflict (after rolling back) when any level would break an invariant.
    """
    net: dict[Key, Delta] = {}
    for e in entries:
        key = (e.part_id, e.location_id)
        net[key] = net.get(key, Delta()) + e.delta
    for key in sorted(net):
        delta = net[key]
        if delta == Delta():
            continue
        if not change_level(ctx, key, delta):
            raise refuse(ctx, _refusal(ctx, key, delta))
    append(ctx, entries)


def change_level(ctx: ServiceContext, key: Key, delta: Delta) -> bool:
    """One conditional statement. False (and nothing changed) when the change would break a rule.

    A change that takes anything is an UPDATE guarded by the invariants (a missing row matches nothing:
    there was nothing to take). A change that only adds (a receipt, a return, stock on its way) is an
    upsert guarded the same way, so the first unit at a new place needs no separate INSERT.
    """
    c = LEVELS.c
    new = {
        "on_hand": c.on_hand + delta.on_hand,
        "reserved": c.reserved + delta.reserved,
        "inbound": c.inbound + delta.inbound,
    }
    guard = (
        new["on_hand"] >= 0,
        new["reserved"] >= 0,
        new["on_hand"] - new["reserved"] >= 0,
        new["inbound"] >= 0,
    )
    conn = ctx.session.connection()
    if Level(delta.on_hand, delta.reserved, delta.inbound).valid:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement: sa.Insert | sa.Update = (
            insert(LEVELS)
            .values(part_id=key[0], location_id=key[1], **asdict(delta))
            .on_conflict_do_update(index_elements=[c.part_id, c.location_id], set_=new, where=sa.and_(*guard))
        )
    else:
        statement = (
            sa.update(LEVELS).where(c.part_id == key[0], c.location_id == key[1], *guard).values(**new)
        )
    # RETURNING rather than rowcount: drivers do not all report a row count for an upsert.
    return conn.execute(statement.returning(c.part_id)).first() is not None


def append(ctx: ServiceContext, entries: Sequence[Entry]) -> None:
    """Append the ledger lines of the entries that are movements (one multi-row INSERT)."""
    now, actor = ctx.now(), ctx.actor.name
    rows: list[dict[str, Any]] = [
        {
            "at": now,
            "kind": e.kind.value,
            "part_id": e.part_id,
            "location_id": e.location_id,
            "quantity": e.quantity,
            "on_hand_delta": e.delta.on_hand,
            "reserved_delta": e.delta.reserved,
            "serial": e.serial,
            "transfer_id": e.transfer_id,
            "work_order_id": e.work_order_id,
            "reservation_id": e.reservation_id,
            "reason": e.reason,
            "actor": actor,
        }
        for e in entries
        if e.kind is not None
    ]
    if rows:
        ctx.session.execute(sa.insert(StockMovement), rows)


def read_level(ctx: ServiceContext, key: Key) -> Level:
    c = LEVELS.c
    row = (
        ctx.session.connection()
        .execute(
            sa.select(c.on_hand, c.reserved, c.inbound).where(c.part_id == key[0], c.location_id == key[1])
        )
        .first()
    )
    return Level(row.on_hand, row.reserved, row.inbound) if row else Level()


def _refusal(ctx: ServiceContext, key: Key, delta: Delta) -> str:
    level = read_level(ctx, key)
    sku = ctx.session.scalar(sa.select(Part.sku).where(Part.id == key[0])) or f"part {key[0]}"
    place = ctx.session.scalar(sa.select(StockLocation.code).where(StockLocation.id == key[1]))
    place = place or f"location {key[1]}"
    if delta.takes:
        return shortfall(sku, place, level, delta)
    if delta.reserved < 0:
        return f"{sku} at {place} has only {level.reserved} reserved; nothing more to release"
    return f"{sku} at {place}: the change would leave the stock level inconsistent ({level})"
