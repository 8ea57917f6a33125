"""Travel and work time of a visit: derived from its timeline, correctable with a reason."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import VisitStatus
from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import Visit
from fieldwork.models import TimeEntry
from mobile_contract import wire

KINDS = ("travel", "work")


def _derived(visit: Visit) -> dict[str, tuple[datetime, datetime]]:
    spans: dict[str, tuple[datetime, datetime]] = {}
    if visit.en_route_at and visit.on_site_at and visit.on_site_at >= visit.en_route_at:
        spans["travel"] = (visit.en_route_at, visit.on_site_at)
    if visit.on_site_at and visit.work_done_at and visit.work_done_at >= visit.on_site_at:
        spans["work"] = (visit.on_site_at, visit.work_done_at)
    return spans


def record(ctx: ServiceContext, visit: Visit) -> None:
    """Write the derived entries the visit doesn't have yet (corrected ones are left alone)."""
    have = {e.kind for e in entries_of(ctx, visit.id)}
    for kind, (start, end) in _derived(visit).items():
        if kind not in have:
            ctx.session.add(
                TimeEntry(
                    visit_id=visit.id,
                    engineer_id=visit.engineer_id,
                    kind=kind,
                    started_at=start,
                    ended_at=end,
                )
            )
    ctx.session.flush()


def entries_of(ctx: ServiceContext, visit_id: int) -> list[TimeEntry]:
    return list(ctx.session.scalars(sa.select(TimeEntry).where(TimeEntry.visit_id == visit_id)))


def minutes(entry: TimeEntry) -> int:
    return round((entry.ended_at - entry.started_at).total_seconds() / 60)


def listing(ctx: ServiceContext, visit: Visit) -> list[wire.TimeEntryInfo]:
    stored = {e.kind: e for e in entries_of(ctx, visit.id)}
    out = []
    for kind in KINDS:
        entry = stored.get(kind)
        if entry is None:
            span = _derived(visit).get(kind)
            if span is None:
                continue
            entry = TimeEntry(kind=kind, started_at=span[0], ended_at=span[1])
        out.append(
            wire.TimeEntryInfo(
                kind=kind,
                started_at=entry.started_at,
                ended_at=entry.ended_at,
                minutes=minutes(entry),
                edited=entry.edited_reason is not None,
                edited_reason=entry.edited_reason,
            )
        )
    return out


def edit(
    ctx: ServiceContext, visit: Visit, kind: str, change: wire.TimeEntryEdit
) -> list[wire.TimeEntryInfo]:
    """Correct an entry (the phone was off, the engineer forgot to tap): allowed until sign-off."""
    if kind not in KINDS:
        raise NotFound(f"no time entry kind {kind!r} (travel or work)")
    if visit.status == VisitStatus.SIGNED_OFF:
        raise Conflict(f"visit {visit.id} is signed off and settled; ask the dispatcher to reopen it")
    if change.ended_at < change.started_at:
        raise Invalid("ended_at is before started_at", field="ended_at")
    if change.ended_at > ctx.now():
        raise Invalid("ended_at is in the future", field="ended_at")
    record(ctx, visit)
    entry = next((e for e in entries_of(ctx, visit.id) if e.kind == kind), None)
    if entry is None:
        entry = TimeEntry(visit_id=visit.id, engineer_id=visit.engineer_id, kind=kind)
        ctx.session.add(entry)
    before = (
        {"started_at": entry.started_at.isoformat(), "ended_at": entry.ended_at.isoformat()}
        if entry.started_at
        else None
    )
    entry.started_at, entry.ended_at = change.started_at, change.ended_at
    entry.edited_reason, entry.edited_by, entry.edited_at = change.reason, ctx.actor.name, ctx.now()
    audit(
        ctx,
        "visit",
        visit.id,
        "time_entry_edited",
        reason=change.reason,
        data={
            "kind": kind,
            "before": before,
            "after": {"started_at": change.started_at.isoformat(), "ended_at": change.ended_at.isoformat()},
        },
    )
    ctx.session.commit()
    return listing(ctx, visit)


def total_minutes(ctx: ServiceContext, visit: Visit, kind: str) -> int:
    return sum(i.minutes for i in listing(ctx, visit) if i.kind == kind)
