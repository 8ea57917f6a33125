"""Reading the outbox in order without ever skipping an event that commits late.

On PostgreSQL a `seq` value is taken at insert time but becomes visible at commit, so `seq` 7 can appear
after `seq` 8 was read. Readers therefore walk events in (writing transaction id, seq) order and only
take events of transactions older than the oldest one still running (the snapshot's xmin): every event
that could still appear belongs to a newer transaction, so it sorts after the cursor. A long transaction
delays delivery, it never loses an event. SQLite runs one writer at a time: there `seq` order is commit order.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.domain.errors import Invalid
from core.store.models import OutboxEvent

Cursor = tuple[int, int]  # (transaction id, seq); the transaction id is 0 on SQLite
START: Cursor = (0, 0)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# The oldest transaction still in progress in our snapshot that could have written to this database.
# Transactions that pg_stat_activity places in *another* database cannot touch our outbox, so they are
# skipped (xids are cluster-wide); one it cannot place is counted as ours, so nothing is ever passed over.
_HORIZON = sa.text("""
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
          WHERE NOT EXISTS (
              SELECT 1 FROM pg_stat_activity a
               WHERE a.backend_xid IS NOT NULL
                 AND a.datname IS DISTINCT FROM current_database()
                 AND a.backend_xid::text::bigint = (x::text::bigint & 4294967295))),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
""").columns(sa.column("horizon", sa.BigInteger))


def _settled(session: Session) -> ColumnElement[bool]:
    if not _postgres(session):
        return sa.true()
    return OutboxEvent.tx_id < _HORIZON.scalar_subquery()


def _key(session: Session) -> list[sa.SQLColumnExpression[int | None]]:
    # The bare column, so ix_outbox_events_tx_seq serves the order (a coalesce would not match it). A
    # NULL tx_id (a row older than the column) never passes `_settled` on PostgreSQL anyway.
    tx: sa.SQLColumnExpression[int | None] = OutboxEvent.tx_id if _postgres(session) else sa.literal(0)
    return [tx, OutboxEvent.seq]


def read_after(
    session: Session, cursor: Cursor, conditions: Sequence[ColumnElement[bool]] = (), limit: int = 500
) -> list[OutboxEvent]:
    """Settled events after `cursor` that match `conditions`, in delivery order."""
    key = _key(session)
    query = (
        sa.select(OutboxEvent)
        .where(_settled(session), sa.tuple_(*key) > sa.tuple_(sa.literal(cursor[0]), sa.literal(cursor[1])))
        .where(*conditions)
        .order_by(*key)
        .limit(limit)
    )
    return list(session.scalars(query))


def cursor_of(event: OutboxEvent) -> Cursor:
    return (event.tx_id or 0, event.seq)


def head(session: Session) -> Cursor:
    """The cursor just past every settled event (where a new reader starts)."""
    key = _key(session)
    row = session.execute(
        sa.select(*key).where(_settled(session)).order_by(*(k.desc() for k in key)).limit(1)
    ).first()
    return (int(row[0]), int(row[1])) if row else START


def encode(cursor: Cursor) -> str:
    return f"{cursor[0]}.{cursor[1]}"


def decode(text: str, field: str = "since") -> Cursor:
    try:
        tx, seq = (int(part) for part in text.split("."))
    except ValueError as exc:
        raise Invalid(
            "this cursor is not one the server issued; sync from scratch without it", field=field
        ) from exc
    if tx < 0 or seq < 0:
        raise Invalid("this cursor is not one the server issued; sync from scratch without it", field=field)
    return (tx, seq)
