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

from core.domain.lifecycle import ACTIVE_VISIT_STATUSES, VisitStatus, WorkOrderStatus
from core.domain.sla import SlaTargets, sla_state
from core.domain.workorders import Priority
from core.store.models import Engineer, Site, Territory, Visit, WorkOrder

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
    shift: list[Any]


class Job(msgspec.Struct, kw_only=True):
    work_order_id: int
    reference: str
    title: str
    priority: str
    status: str
    sla: str | None
    respond_by: datetime | None
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
    job: Job


class Board(msgspec.Struct, kw_only=True):
    day: date
    timezone: str
    day_start: datetime
    day_end: datetime
    now: datetime
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
)


def _job(now: datetime, row: Any) -> Job:
    return Job(
        work_order_id=row.id,
        reference=f"WO-{row.id:07d}",
        title=row.title,
        priority=Priority.of(row.priority).value,
        status=row.status,
        sla=_sla(now, row),
        respond_by=row.respond_by,
        site=row.site_name,
        point=(row.lat, row.lon),
        estimated_minutes=row.estimated_minutes,
    )


def board(session: Session, now: datetime, day: date, territory_id: int | None = None) -> Board:
    territory = (
        session.get(Territory, territory_id)
        if territory_id is not None
        else session.scalars(sa.select(Territory).order_by(Territory.id).limit(1)).first()
    )
    zone = ZoneInfo(territory.timezone if territory else "UTC")
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)

    engineers = sa.select(Engineer).where(Engineer.active.is_(True)).order_by(Engineer.name, Engineer.id)
    if territory_id is not None:
        engineers = engineers.where(Engineer.territory_id == territory_id)
    rows = session.scalars(engineers.options(selectinload(Engineer.skills))).all()
    ids = [e.id for e in rows]

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
        .where(
            Visit.engineer_id.in_(ids),
            Visit.status.in_(SHOWN_VISITS),
            Visit.planned_start >= start,
            Visit.planned_start < end,
        )
        .order_by(Visit.engineer_id, Visit.planned_start)
    ).all()

    queue = (
        sa.select(*JOB_COLUMNS)
        .join(Site, Site.id == WorkOrder.site_id)
        .where(WorkOrder.status.in_(UNPLANNED))
    )
    if territory_id is not None:
        queue = queue.where(WorkOrder.territory_id == territory_id)
    # Most urgent first: the earliest response due, then the highest priority.
    queue = queue.order_by(
        WorkOrder.respond_by.is_(None), WorkOrder.respond_by, WorkOrder.priority, WorkOrder.id
    )

    return Board(
        day=day,
        timezone=str(zone),
        day_start=start,
        day_end=end,
        now=now,
        engineers=[
            EngineerRow(
                id=e.id,
                name=e.name,
                territory_id=e.territory_id,
                skills=sorted(s.skill_code for s in e.skills),
                home=(e.home_lat, e.home_lon),
                last=(e.last_lat, e.last_lon) if e.last_lat is not None and e.last_lon is not None else None,
                last_seen_at=e.last_seen_at,
                shift=list(e.shifts or []),
            )
            for e in rows
        ],
        visits=[
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
                job=_job(now, v),
            )
            for v in visits
        ],
        queue=[_job(now, row) for row in session.execute(queue)],
    )
