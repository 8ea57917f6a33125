"""The board for one day: engineers as rows, their visits as blocks, and the queue of unplanned work.

Read with plain column queries, not ORM objects: the board must paint 300 engineers and 3,000 work orders
quickly, and it only needs a few fields of each.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from console.shifts import Window, place_break, shift_on
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES, VisitStatus, WorkOrderStatus
from core.domain.sla import SlaTargets, sla_state
from core.store.models import Customer, Engineer, Site, Territory, Visit, WorkOrder

UNPLANNED = (WorkOrderStatus.NEW, WorkOrderStatus.NEEDS_REVISIT)
SHOWN_VISITS = sorted({*ACTIVE_VISIT_STATUSES, VisitStatus.SIGNED_OFF})


class EngineerRow(msgspec.Struct, kw_only=True):
    id: int
    name: str
    territory_id: int
    skills: list[str]
    home: tuple[float, float]
    last: tuple[float, float] | None
    last_seen_at: datetime | None
    # The working hours of the board's day (None: a day off) and where the break fits between visits.
    shift_start: datetime | None = None
    shift_end: datetime | None = None
    break_start: datetime | None = None
    break_end: datetime | None = None


class Job(msgspec.Struct, kw_only=True):
    work_order_id: int
    reference: str
    title: str
    priority: str
    status: str
    sla: str | None
    respond_by: datetime | None
    resolve_by: datetime | None
    # The deadline that matters now: the response while nobody has been on site, then the resolution.
    due: datetime | None
    source: str
    kind: str
    customer_id: int
    customer: str
    site: str
    point: tuple[float, float]
    estimated_minutes: int


class Block(msgspec.Struct, kw_only=True):
    visit_id: int
    engineer_id: int
    status: str
    start: datetime | None
    end: datetime | None
    eta: datetime | None
    pinned: bool
    off_site: bool
    version: int
    # The plan itself misses the SLA: it starts after the response is due, or ends after the resolution.
    late: bool
    job: Job


class Board(msgspec.Struct, kw_only=True):
    day: date
    timezone: str
    day_start: datetime
    day_end: datetime
    now: datetime
    territory_id: int | None
    territories: list[tuple[int, str]]
    engineers: list[EngineerRow]
    visits: list[Block]
    queue: list[Job]


def _sla(now: datetime, row: Any) -> str | None:
    if not (row.respond_by and row.resolve_by and row.respond_risk_at and row.resolve_risk_at):
        return None
    targets = SlaTargets(row.respond_by, row.resolve_by, row.respond_risk_at, row.resolve_risk_at)
    return sla_state(
        row.cancelled_at or row.on_hold_since or now, targets, row.responded_at, row.resolved_at
    ).value


JOB_COLUMNS = (
    WorkOrder.id,
    WorkOrder.title,
    WorkOrder.priority,
    WorkOrder.status,
    WorkOrder.estimated_minutes,
    WorkOrder.source,
    WorkOrder.kind,
    WorkOrder.customer_id,
    WorkOrder.respond_by,
    WorkOrder.resolve_by,
    WorkOrder.respond_risk_at,
    WorkOrder.resolve_risk_at,
    WorkOrder.responded_at,
    WorkOrder.resolved_at,
    WorkOrder.on_hold_since,
    WorkOrder.cancelled_at,
    Site.name.label("site_name"),
    Site.lat,
    Site.lon,
    Customer.name.label("customer_name"),
)


def _due(row: Any) -> datetime | None:
    if row.responded_at is None and row.respond_by is not None:
        return row.respond_by  # type: ignore[no-any-return]
    return row.resolve_by  # type: ignore[no-any-return]


def _job(now: datetime, row: Any) -> Job:
    return Job(
        work_order_id=row.id,
        reference=f"WO-{row.id:07d}",
        title=row.title,
        priority=f"P{row.priority}",
        status=row.status,
        sla=_sla(now, row),
        respond_by=row.respond_by,
        resolve_by=row.resolve_by,
        due=_due(row),
        source=row.source,
        kind=row.kind,
        customer_id=row.customer_id,
        customer=row.customer_name,
        site=row.site_name,
        point=(row.lat, row.lon),
        estimated_minutes=row.estimated_minutes,
    )


def _late(row: Any) -> bool:
    start, end = row.planned_start, row.planned_end
    if start is None:
        return False
    respond_miss = row.responded_at is None and row.respond_by is not None and start > row.respond_by
    resolve_miss = row.resolved_at is None and row.resolve_by is not None and (end or start) > row.resolve_by
    return bool(respond_miss or resolve_miss)


def _queue_order() -> list[Any]:
    # Most urgent first: the deadline that matters now (response, then resolution), then priority.
    due = sa.case((WorkOrder.responded_at.is_(None), WorkOrder.respond_by), else_=WorkOrder.resolve_by)
    return [due.is_(None), due, WorkOrder.priority, WorkOrder.id]


def _rows(engineers: list[Engineer], blocks: list[Block], day: date, zone: ZoneInfo) -> list[EngineerRow]:
    busy: dict[int, list[Window]] = {}
    for b in blocks:
        if b.start is not None:
            busy.setdefault(b.engineer_id, []).append(Window(b.start, b.end or b.start))
    rows = []
    for e in engineers:
        row = EngineerRow(
            id=e.id,
            name=e.name,
            territory_id=e.territory_id,
            skills=sorted(s.skill_code for s in e.skills),
            home=(e.home_lat, e.home_lon),
            last=(e.last_lat, e.last_lon) if e.last_lat is not None and e.last_lon is not None else None,
            last_seen_at=e.last_seen_at,
        )
        on = shift_on(e.shifts or [], day, zone)
        if on is not None:
            window, break_minutes = on
            row.shift_start, row.shift_end = window.start, window.end
            placed = place_break(window, break_minutes, busy.get(e.id, []))
            if placed is not None:
                row.break_start, row.break_end = placed.start, placed.end
        rows.append(row)
    return rows


def board(session: Session, now: datetime, day: date | None, territory_id: int | None = None) -> Board:
    """The board of `day` (None: today where the territory is, not in UTC)."""
    territories = [(t.id, t.name) for t in session.scalars(sa.select(Territory).order_by(Territory.id))]
    if territory_id is None and territories:
        territory_id = territories[0][0]
    territory = session.get(Territory, territory_id) if territory_id is not None else None
    zone = ZoneInfo(territory.timezone if territory else "UTC")
    day = day or now.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)

    engineers = sa.select(Engineer).where(Engineer.active.is_(True)).order_by(Engineer.name, Engineer.id)
    if territory_id is not None:
        engineers = engineers.where(Engineer.territory_id == territory_id)
    people = list(session.scalars(engineers.options(selectinload(Engineer.skills))).all())
    ids = [e.id for e in people]

    visits = session.execute(
        sa.select(
            Visit.id.label("visit_id"),
            Visit.engineer_id,
            Visit.status.label("visit_status"),
            Visit.planned_start,
            Visit.planned_end,
            Visit.eta,
            Visit.pinned,
            Visit.off_site,
            Visit.version,
            *JOB_COLUMNS,
        )
        .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
        .join(Site, Site.id == WorkOrder.site_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .where(
            Visit.engineer_id.in_(ids),
            Visit.status.in_(SHOWN_VISITS),
            Visit.planned_start >= start,
            Visit.planned_start < end,
        )
        .order_by(Visit.engineer_id, Visit.planned_start)
    ).all()
    blocks = [
        Block(
            visit_id=v.visit_id,
            engineer_id=v.engineer_id,
            status=v.visit_status,
            start=v.planned_start,
            end=v.planned_end,
            eta=v.eta,
            pinned=v.pinned,
            off_site=v.off_site,
            version=v.version,
            late=_late(v),
            job=_job(now, v),
        )
        for v in visits
    ]

    queue = (
        sa.select(*JOB_COLUMNS)
        .join(Site, Site.id == WorkOrder.site_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .where(WorkOrder.status.in_(UNPLANNED))
        .order_by(*_queue_order())
    )
    if territory_id is not None:
        queue = queue.where(WorkOrder.territory_id == territory_id)

    return Board(
        day=day,
        timezone=str(zone),
        day_start=start,
        day_end=end,
        now=now,
        territory_id=territory_id,
        territories=territories,
        engineers=_rows(people, blocks, day, zone),
        visits=blocks,
        queue=[_job(now, row) for row in session.execute(queue)],
    )
