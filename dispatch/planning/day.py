"""Load one territory's day from the database as the optimizer's plain input.

Rules (what a dispatcher expects, decided once here):
- Engineers: active, in the territory, with a shift on that weekday (the weekly pattern, local
  time). On the current day nobody starts before now; an engineer seen recently starts from
  where they were seen. A shift's break may be taken from 3 h after the start to 2 h before the
  end (lunch, flexibly placed).
- Locked: visits under way (en route, on site, work done) stay first in their engineer's day.
- Re-plannable: visits planned but not started (assigned, accepted) on that day form the current
  plan, which warm-starts the optimizer and which the diff compares against.
- To place: open work orders with no active visit (new, needs revisit) whose appointment windows,
  if any, touch the day.
- Pins: `plan_pins` rows, and visits marked pinned (engineer and planned start).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.domain.errors import Invalid
from core.domain.lifecycle import OPEN_STATUSES, PLANNABLE_STATUSES, VisitStatus
from core.services.context import ServiceContext
from core.services.workorders import current_visit
from core.store.models import Engineer, Territory, Visit, WorkOrder
from dispatch.optimizer import Break, Job, Location, LockedVisit, TimeWindow
from dispatch.optimizer import Engineer as Eng
from dispatch.planning.models import PlanPin
from inventory.read_model import van_stock

UNDER_WAY = frozenset({VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.WORK_DONE})
PLANNED = frozenset({VisitStatus.ASSIGNED, VisitStatus.ACCEPTED})
RECENTLY_SEEN = timedelta(hours=2)
BREAK_AFTER_START = timedelta(hours=3)
BREAK_BEFORE_END = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class CurrentVisit:
    visit_id: int
    engineer_id: str
    status: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class DayInput:
    territory_id: int
    day: date
    now: datetime
    engineers: tuple[Eng, ...]
    jobs: tuple[Job, ...]
    current: dict[str, list[str]]  # engineer id -> work-order ids planned (not locked), in order
    visits: dict[str, CurrentVisit]  # work-order id -> its active visit (planned or locked)
    names: dict[str, str]  # engineer id -> name
    references: dict[str, str]  # work-order id -> WO-0000001
    basis: str
    has_vans: bool = False
    locations: dict[str, Location] = field(default_factory=dict)  # work-order id -> site


def local_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, start + timedelta(days=1)


def load_day(ctx: ServiceContext, territory_id: int, day: date) -> DayInput:
    session = ctx.session
    territory = session.get(Territory, territory_id)
    if territory is None:
        raise Invalid(f"territory {territory_id} does not exist", field="territory_id")
    zone = ZoneInfo(territory.timezone)
    now = ctx.now()
    day_start, day_end = local_bounds(zone, day)
    people = list(
        session.scalars(
            sa.select(Engineer)
            .where(Engineer.territory_id == territory_id, Engineer.active)
            .order_by(Engineer.id)
        )
    )
    orders = list(
        session.scalars(
            sa.select(WorkOrder)
            .options(selectinload(WorkOrder.site))
            .where(WorkOrder.territory_id == territory_id, WorkOrder.status.in_(_OPEN))
            .order_by(WorkOrder.id)
        )
    )
    pins = {p.work_order_id: p for p in session.scalars(sa.select(PlanPin))}
    skus = {str(p["sku"]) for wo in orders for p in wo.required_parts}
    stock = van_stock(session, include_reserved=True, skus=skus, engineer_ids=[e.id for e in people])

    visits: dict[str, CurrentVisit] = {}
    locked: dict[str, list[tuple[datetime, LockedVisit]]] = {}
    current: dict[str, list[tuple[datetime, str]]] = {}
    jobs: list[Job] = []
    locations: dict[str, Location] = {}
    for wo in orders:
        wid = str(wo.id)
        site = Location(wo.site.lat, wo.site.lon)
        locations[wid] = site
        visit = current_visit(wo)
        if visit is not None and VisitStatus(visit.status) in UNDER_WAY | PLANNED:
            if not _on_day(visit, day_start, day_end, now):
                continue
            cv = CurrentVisit(
                visit.id, str(visit.engineer_id), visit.status, visit.planned_start, visit.planned_end
            )
            visits[wid] = cv
            if VisitStatus(visit.status) in UNDER_WAY:
                locked.setdefault(cv.engineer_id, []).append(
                    (_started(visit, now), _locked(wo, visit, site, now))
                )
                continue
            current.setdefault(cv.engineer_id, []).append((visit.planned_start or now, wid))
        elif visit is not None or wo.status not in _PLANNABLE:
            continue
        job = _job(wo, site, pins.get(wo.id), visit, day_start, day_end)
        if job is not None:
            jobs.append(job)

    engineers = []
    for person in people:
        eng = _engineer(
            person, zone, day, now, stock, tuple(lv for _, lv in sorted(locked.get(str(person.id), [])))
        )
        if eng is not None:
            engineers.append(eng)
    present = {e.id for e in engineers}
    # Planned work of someone not working that day stays to be placed with the rest.
    return DayInput(
        territory_id=territory_id,
        day=day,
        now=now,
        engineers=tuple(engineers),
        jobs=tuple(jobs),
        current={e: [w for _, w in sorted(ws)] for e, ws in current.items() if e in present},
        visits=visits,
        names={str(p.id): p.name for p in people},
        references={str(wo.id): wo.reference for wo in orders},
        basis=_basis(orders, people, pins),
        has_vans=bool(stock),
        locations=locations,
    )


_OPEN = sorted(s.value for s in OPEN_STATUSES)
_PLANNABLE = {s.value for s in PLANNABLE_STATUSES}


def _on_day(visit: Visit, start: datetime, end: datetime, now: datetime) -> bool:
    if VisitStatus(visit.status) in UNDER_WAY:
        return start <= now < end
    when = visit.planned_start
    return when is None or start <= when < end


def _started(visit: Visit, now: datetime) -> datetime:
    return visit.on_site_at or visit.en_route_at or now


def _locked(wo: WorkOrder, visit: Visit, site: Location, now: datetime) -> LockedVisit:
    duration = timedelta(minutes=wo.estimated_minutes)
    if visit.status == VisitStatus.EN_ROUTE:
        return LockedVisit(str(wo.id), site, duration, max(now, visit.eta or now))
    began = visit.on_site_at or now
    remaining = (
        max(timedelta(0), began + duration - now) if visit.status == VisitStatus.ON_SITE else timedelta(0)
    )
    return LockedVisit(str(wo.id), site, remaining, now)


def _job(
    wo: WorkOrder, site: Location, pin: PlanPin | None, visit: Visit | None, start: datetime, end: datetime
) -> Job | None:
    windows = []
    for w in wo.windows:
        a, b = datetime.fromisoformat(str(w["start"])), datetime.fromisoformat(str(w["end"]))
        if a < end and b > start:
            windows.append(TimeWindow(a, b))
    if wo.windows and not windows:
        return None  # its appointment is another day
    pinned_engineer = str(pin.engineer_id) if pin is not None and pin.engineer_id is not None else None
    pinned_start = pin.start if pin is not None else None
    if visit is not None and visit.pinned:
        pinned_engineer = pinned_engineer or str(visit.engineer_id)
        pinned_start = pinned_start or visit.planned_start
    return Job(
        id=str(wo.id),
        location=site,
        duration=timedelta(minutes=wo.estimated_minutes),
        required_skills={s.skill_code: s.min_level for s in wo.skills},
        windows=tuple(windows),
        priority=min(4, max(1, wo.priority)),
        respond_by=wo.respond_by if wo.responded_at is None else None,
        required_parts={str(p["sku"]): int(p.get("quantity", 1)) for p in wo.required_parts},
        pinned_engineer=pinned_engineer,
        pinned_start=pinned_start,
    )


def _engineer(
    person: Engineer,
    zone: ZoneInfo,
    day: date,
    now: datetime,
    stock: dict[int, dict[str, int]],
    locked: tuple[LockedVisit, ...],
) -> Eng | None:
    shift = next((s for s in person.shifts if int(s["weekday"]) == day.weekday()), None)
    if shift is None:
        return None
    start = _at(zone, day, str(shift["start"]))
    end = _at(zone, day, str(shift["end"]))
    begin = max(start, now.replace(microsecond=0))
    if begin >= end and not locked:
        return None
    home = Location(person.home_lat, person.home_lon)
    here = home
    seen = person.last_seen_at
    if begin > start and seen is not None and now - seen <= RECENTLY_SEEN and person.last_lat is not None:
        here = Location(person.last_lat, float(person.last_lon or 0.0))
    breaks: tuple[Break, ...] = ()
    minutes = int(shift.get("break_minutes", 0))
    if minutes:
        earliest, latest = start + BREAK_AFTER_START, end - BREAK_BEFORE_END
        if latest - timedelta(minutes=minutes) >= max(earliest, begin):
            breaks = (Break(max(earliest, begin), latest, timedelta(minutes=minutes)),)
    return Eng(
        id=str(person.id),
        skills={s.skill_code: s.level for s in person.skills},
        shift=TimeWindow(begin, max(begin, end)),
        start=here,
        end=home,
        breaks=breaks,
        max_work=timedelta(minutes=person.max_work_minutes) if person.max_work_minutes else None,
        van_parts=stock.get(person.id, {}),
        locked=locked,
    )


def _at(zone: ZoneInfo, day: date, clock: str) -> datetime:
    if clock == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    hh, mm = clock.split(":")
    return datetime.combine(day, time(int(hh), int(mm)), tzinfo=zone)


def _basis(orders: list[WorkOrder], people: list[Engineer], pins: dict[int, PlanPin]) -> str:
    """A fingerprint of everything the plan depends on: any change makes a proposal stale."""
    h = hashlib.sha256()
    for wo in orders:
        h.update(f"w{wo.id}:{wo.version}:{wo.status};".encode())
        for v in wo.visits:
            h.update(f"v{v.id}:{v.version}:{v.status};".encode())
    for e in people:
        h.update(f"e{e.id}:{e.version};".encode())
    for wid in sorted(pins):
        p = pins[wid]
        h.update(f"p{wid}:{p.engineer_id}:{p.start};".encode())
    return h.hexdigest()
