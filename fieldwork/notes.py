"""Notes on a job from the engineer's phone."""

from __future__ import annotations

from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import Visit
from fieldwork.models import WorkOrderNote
from mobile_contract import wire


def add_note(ctx: ServiceContext, visit: Visit, note: wire.NewNote) -> wire.NoteInfo:
    row = WorkOrderNote(
        work_order_id=visit.work_order_id,
        visit_id=visit.id,
        author=ctx.actor.name,
        text=note.text,
        written_at=note.occurred_at,
        created_at=ctx.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit(ctx, "work_order", visit.work_order_id, "note_added", data={"note_id": row.id})
    ctx.session.commit()
    return wire.NoteInfo(
        note_id=row.id,
        work_order_id=row.work_order_id,
        text=row.text,
        author=row.author,
        written_at=row.written_at,
    )
