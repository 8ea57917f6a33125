"""What changed on the board since a cursor: the outbox, filtered to what a dispatcher watches."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.store import outbox
from core.store.models import OutboxEvent

# Prefixes of the domain events that change what the board shows.
WATCHED = ("work_order.", "visit.", "alarm.", "plan.", "settlement.")


def changes(
    session: Session, cursor: outbox.Cursor, limit: int = 200
) -> tuple[outbox.Cursor, list[dict[str, Any]]]:
    """Events after `cursor` (oldest first) and the cursor to continue from."""
    events = outbox.read_after(
        session, cursor, [sa.or_(*(OutboxEvent.type.startswith(p) for p in WATCHED))], limit=limit
    )
    after = outbox.cursor_of(events[-1]) if len(events) == limit else max(outbox.head(session), cursor)
    return after, [
        {
            "id": str(e.event_id),
            "type": e.type,
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "occurred_at": e.occurred_at.isoformat(),
            "data": e.data,
        }
        for e in events
    ]
