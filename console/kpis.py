"""Service KPIs over a period, by day or week, in total, per territory or per engineer.

Everything is counted in SQL over the core tables (work orders, visits, engineers) and the outbox (the
ratings features record as domain events), as additive sums and counts per (bucket, group), so totals,
series and groups are exact combinations of the same cells. Definitions (also in the README):

- first response: created → first on site (`responded_at`), mean minutes; by when the response happened,
  per engineer: whoever reached the site first.
- MTTR (mean time to repair): created → resolved, mean minutes; by when it was resolved.
- first-time fix: of the work resolved, the share that needed exactly one visit on site.
- SLA attainment: of the work due in the bucket (`resolve_by`) that is resolved or already overdue,
  the share that met both the response and the resolution target. Cancelled work does not count.
- utilisation: time on site (on site → work done) over the shift minutes less breaks (weekly pattern);
  a visit counts for at most 12 h of work or travel (a forgotten tap is not days of work).
- travel share: travel (en route → on site) over travel plus time on site.
- CSAT: of the customer ratings (sign-off ratings and CSAT surveys, both on a 1–5 scale), the share of
  4 and 5; the mean rating beside it.
Work-order figures per engineer belong to the engineer of the signed-off visit (the one who fixed it).
Visit times are the engineers' taps (core), not the corrected time entries of the field-work feature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from console.shifts import shift_on
from core.domain.errors import Invalid
from core.domain.lifecycle import VisitStatus
from core.store.base import UTCDateTime
from core.store.models import Engineer, OutboxEvent, Territory, Visit, WorkOrder

Bucket = Literal["day", "week"]
GroupBy = Literal["none", "territory", "engineer"]
MAX_DAYS = 366
MAX_VISIT_MINUTES = 12 * 60.0
RATING_EVENTS = ("work_order.rated", "survey.answered")


@dataclass(slots=True)
class Cell:
    """Additive counters: cells add up into any coarser view."""

    response_minutes: float = 0.0
    responses: int = 0
    repair_minutes: float = 0.0
    repairs: int = 0
    first_time_fixes: int = 0
    sla_met: int = 0
    sla_due: int = 0
    work_minutes: float = 0.0
    travel_minutes: float = 0.0
    available_minutes: float = 0.0
    ratings: int = 0
    rating_sum: int = 0
    good_ratings: int = 0

    def add(self, other: Cell) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def figures(self) -> dict[str, Any]:
        def ratio(a: float, b: float, digits: int = 4) -> float | None:
            return round(a / b, digits) if b else None

        busy = self.work_minutes + self.travel_minutes
        return {
            "first_response_minutes": ratio(self.response_minutes, self.responses, 1),
            "mttr_minutes": ratio(self.repair_minutes, self.repairs, 1),
            "first_time_fix_rate": ratio(self.first_time_fixes, self.repairs),
            "sla_attainment": ratio(self.sla_met, self.sla_due),
            "utilisation": ratio(self.work_minutes, self.available_minutes),
            "travel_share": ratio(self.travel_minutes, busy),
            "csat": ratio(self.good_ratings, self.ratings),
            "csat_mean": ratio(self.rating_sum, self.ratings, 2),
            "counts": {
                "responses": self.responses,
                "repairs": self.repairs,
                "sla_due": self.sla_due,
                "ratings": self.ratings,
                "work_minutes": round(self.work_minutes),
                "travel_minutes": round(self.travel_minutes),
                "available_minutes": round(self.available_minutes),
            },
        }


@dataclass(slots=True)
class Grid:
    cells: dict[tuple[int, int | None], Cell] = field(default_factory=dict)

    def at(self, bucket: int, group: int | None) -> Cell:
        return self.cells.setdefault((bucket, group), Cell())


@dataclass(frozen=True, slots=True)
class Query:
    start: date
    end: date  # inclusive
    bucket: Bucket = "day"
    group_by: GroupBy = "none"
    territory_id: int | None = None


def _minutes(session: Session, a: Any, b: Any) -> ColumnElement[Any]:
    """Minutes from a to b, in SQL on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", b - a) / 60.0
    return (sa.func.julianday(b) - sa.func.julianday(a)) * 1440.0


def _bounds(q: Query, zone: ZoneInfo) -> list[datetime]:
    """Bucket edges as instants in the territory's time zone; weeks start on Monday."""
    first = q.start if q.bucket == "day" else q.start - timedelta(days=q.start.weekday())
    step = timedelta(days=1 if q.bucket == "day" else 7)
    edges, d = [], first
    while d <= q.end:
        edges.append(d)
        d += step
    edges.append(d)
    return [datetime.combine(x, time(0), zone) for x in edges]


def _bucket(col: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    # Callers filter `col` to [edges[0], edges[-1]); each row falls in exactly one bucket.
    whens = [(col < sa.literal(e, UTCDateTime()), i) for i, e in enumerate(edges[1:])]
    return sa.case(*whens, else_=len(edges) - 2)


def _in(col: Any, edges: Sequence[datetime]) -> ColumnElement[bool]:
    return sa.and_(col >= sa.literal(edges[0], UTCDateTime()), col < sa.literal(edges[-1], UTCDateTime()))


class _Kpis:
    def __init__(self, session: Session, q: Query, edges: list[datetime]) -> None:
        self.s, self.q, self.edges = session, q, edges
        self.grid = Grid()

    def _territory(self, stmt: sa.Select[Any], territory_col: Any) -> sa.Select[Any]:
        return stmt if self.q.territory_id is None else stmt.where(territory_col == self.q.territory_id)

    def _group(self, territory_col: Any, engineer_col: Any) -> ColumnElement[Any]:
        if self.q.group_by == "territory":
            return sa.cast(territory_col, sa.Integer)
        if self.q.group_by == "engineer":
            return sa.cast(engineer_col, sa.Integer)
        return sa.literal(None, sa.Integer)

    def _fill(self, stmt: sa.Select[Any], put: Callable[[Cell, Any], None]) -> None:
        for row in self.s.execute(stmt):
            put(self.grid.at(int(row.bucket), None if row.grp is None else int(row.grp)), row)

    def _resolver(self) -> Any:
        """Per work order, the engineer of its last signed-off visit: who fixed it."""
        last = (
            sa.select(Visit.work_order_id, sa.func.max(Visit.id).label("visit_id"))
            .where(Visit.status == VisitStatus.SIGNED_OFF.value)
            .group_by(Visit.work_order_id)
            .subquery()
        )
        v = aliased(Visit)
        return (
            sa.select(last.c.work_order_id, v.engineer_id)
            .join(v, v.id == last.c.visit_id)
            .subquery("resolver")
        )

    def responses(self) -> None:
        # Who responded: the engineer of the visit that reached the site first.
        earliest = (
            sa.select(Visit.work_order_id, sa.func.min(Visit.on_site_at).label("at"))
            .where(Visit.on_site_at.is_not(None))
            .group_by(Visit.work_order_id)
            .subquery("earliest")
        )
        v = aliased(Visit)
        first = (
            sa.select(v.work_order_id, sa.func.min(v.engineer_id).label("engineer_id"))
            .join(
                earliest, sa.and_(earliest.c.work_order_id == v.work_order_id, earliest.c.at == v.on_site_at)
            )
            .group_by(v.work_order_id)
            .subquery("first_on_site")
        )
        w = WorkOrder
        stmt = (
            sa.select(
                _bucket(w.responded_at, self.edges).label("bucket"),
                self._group(w.territory_id, first.c.engineer_id).label("grp"),
                sa.func.count().label("n"),
                sa.func.sum(_minutes(self.s, w.created_at, w.responded_at)).label("minutes"),
            )
            .select_from(w)
            .outerjoin(first, first.c.work_order_id == w.id)
            .where(w.responded_at.is_not(None), _in(w.responded_at, self.edges))
            .group_by(sa.literal_column("bucket"), sa.literal_column("grp"))
        )

        def put(c: Cell, r: Any) -> None:
            c.responses += r.n
            c.response_minutes += float(r.minutes or 0)

        self._fill(self._territory(stmt, w.territory_id), put)

    def repairs(self) -> None:
        on_site = (
            sa.select(Visit.work_order_id, sa.func.count().label("n"))
            .where(Visit.on_site_at.is_not(None))
            .group_by(Visit.work_order_id)
            .subquery("on_site_visits")
        )
        resolver = self._resolver()
        w = WorkOrder
        stmt = (
            sa.select(
                _bucket(w.resolved_at, self.edges).label("bucket"),
                self._group(w.territory_id, resolver.c.engineer_id).label("grp"),
                sa.func.count().label("n"),
                sa.func.sum(_minutes(self.s, w.created_at, w.resolved_at)).label("minutes"),
                sa.func.sum(sa.case((sa.func.coalesce(on_site.c.n, 0) <= 1, 1), else_=0)).label("ftf"),
            )
            .select_from(w)
            .outerjoin(on_site, on_site.c.work_order_id == w.id)
            .outerjoin(resolver, resolver.c.work_order_id == w.id)
            .where(w.resolved_at.is_not(None), w.cancelled_at.is_(None), _in(w.resolved_at, self.edges))
            .group_by(sa.literal_column("bucket"), sa.literal_column("grp"))
        )

        def put(c: Cell, r: Any) -> None:
            c.repairs += r.n
            c.repair_minutes += float(r.minutes or 0)
            c.first_time_fixes += int(r.ftf or 0)

        self._fill(self._territory(stmt, w.territory_id), put)

    def sla(self, now: datetime) -> None:
        resolver = self._resolver()
        w = WorkOrder
        response_at = sa.func.coalesce(w.responded_at, w.resolved_at)
        met = sa.and_(
            w.resolved_at.is_not(None),
            w.resolved_at <= w.resolve_by,
            sa.or_(w.respond_by.is_(None), response_at <= w.respond_by),
        )
        stmt = (
            sa.select(
                _bucket(w.resolve_by, self.edges).label("bucket"),
                self._group(w.territory_id, resolver.c.engineer_id).label("grp"),
                sa.func.count().label("n"),
                sa.func.sum(sa.case((met, 1), else_=0)).label("met"),
            )
            .select_from(w)
            .outerjoin(resolver, resolver.c.work_order_id == w.id)
            .where(
                w.resolve_by.is_not(None),
                w.cancelled_at.is_(None),
                _in(w.resolve_by, self.edges),
                # Not yet decided: open and not yet due (a clock on hold stands still).
                sa.or_(
                    w.resolved_at.is_not(None),
                    w.resolve_by < sa.func.coalesce(w.on_hold_since, sa.literal(now, UTCDateTime())),
                ),
            )
            .group_by(sa.literal_column("bucket"), sa.literal_column("grp"))
        )

        def put(c: Cell, r: Any) -> None:
            c.sla_due += r.n
            c.sla_met += int(r.met or 0)

        self._fill(self._territory(stmt, w.territory_id), put)

    def time_use(self) -> None:
        v, e = Visit, Engineer

        def capped(a: Any, b: Any) -> ColumnElement[Any]:
            # A forgotten tap (on site for days) must not count as days of work: one visit counts for
            # at most a long shift.
            m = _minutes(self.s, a, b)
            return sa.case((m > MAX_VISIT_MINUTES, MAX_VISIT_MINUTES), else_=m)

        stmt = (
            sa.select(
                _bucket(v.on_site_at, self.edges).label("bucket"),
                self._group(e.territory_id, v.engineer_id).label("grp"),
                sa.func.sum(
                    sa.case(
                        (v.work_done_at.is_not(None), capped(v.on_site_at, v.work_done_at)),
                        else_=0.0,
                    )
                ).label("work"),
                sa.func.sum(
                    sa.case(
                        (v.en_route_at.is_not(None), capped(v.en_route_at, v.on_site_at)),
                        else_=0.0,
                    )
                ).label("travel"),
            )
            .join(e, e.id == v.engineer_id)
            .where(v.on_site_at.is_not(None), _in(v.on_site_at, self.edges))
            .group_by(sa.literal_column("bucket"), sa.literal_column("grp"))
        )

        def put(c: Cell, r: Any) -> None:
            c.work_minutes += max(0.0, float(r.work or 0))
            c.travel_minutes += max(0.0, float(r.travel or 0))

        self._fill(self._territory(stmt, e.territory_id), put)

    def ratings(self) -> None:
        o, w = OutboxEvent, WorkOrder
        resolver = self._resolver()
        rating = o.data["rating"].as_integer()
        is_csat = sa.or_(o.type == "work_order.rated", o.data["kind"].as_string() == "csat")
        stmt = (
            sa.select(
                _bucket(o.occurred_at, self.edges).label("bucket"),
                self._group(w.territory_id, resolver.c.engineer_id).label("grp"),
                sa.func.count().label("n"),
                sa.func.sum(rating).label("total"),
                sa.func.sum(sa.case((rating >= 4, 1), else_=0)).label("good"),
            )
            .join(w, w.id == o.subject_id)
            .outerjoin(resolver, resolver.c.work_order_id == w.id)
            .where(
                o.type.in_(RATING_EVENTS),
                o.subject_type == "work_order",
                is_csat,
                rating.is_not(None),
                _in(o.occurred_at, self.edges),
            )
            .group_by(sa.literal_column("bucket"), sa.literal_column("grp"))
        )

        def put(c: Cell, r: Any) -> None:
            c.ratings += r.n
            c.rating_sum += int(r.total or 0)
            c.good_ratings += int(r.good or 0)

        self._fill(self._territory(stmt, w.territory_id), put)

    def availability(self, zone: ZoneInfo) -> None:
        """Shift minutes less breaks per engineer and day, from the weekly pattern (holidays count too)."""
        people = sa.select(Engineer.id, Engineer.territory_id, Engineer.shifts).where(
            Engineer.active.is_(True)
        )
        if self.q.territory_id is not None:
            people = people.where(Engineer.territory_id == self.q.territory_id)
        days = [self.q.start + timedelta(days=i) for i in range((self.q.end - self.q.start).days + 1)]
        for person in self.s.execute(people):
            group = {"territory": person.territory_id, "engineer": person.id}.get(self.q.group_by)
            for day in days:
                on = shift_on(person.shifts or [], day, zone)
                if on is None:
                    continue
                window, break_minutes = on
                index = _index_of(datetime.combine(day, time(12), zone), self.edges)
                self.grid.at(index, group).available_minutes += max(0.0, window.minutes - break_minutes)


def _index_of(at: datetime, edges: Sequence[datetime]) -> int:
    return next(i for i, e in enumerate(edges[1:]) if at < e)


def _names(session: Session, q: Query, keys: Iterable[int | None]) -> dict[int | None, str]:
    ids = [k for k in keys if k is not None]
    names: dict[int | None, str] = {None: "—"}
    if q.group_by == "territory":
        names.update((i, n) for i, n in session.execute(sa.select(Territory.id, Territory.name)))
    elif q.group_by == "engineer":
        rows = session.execute(sa.select(Engineer.id, Engineer.name).where(Engineer.id.in_(ids)))
        names.update((i, n) for i, n in rows)
    return names


def kpis(session: Session, now: datetime, q: Query) -> dict[str, Any]:
    if q.end < q.start:
        raise Invalid("the period ends before it starts", field="to")
    if (q.end - q.start).days >= MAX_DAYS:
        raise Invalid(f"a period is at most {MAX_DAYS} days", field="to")
    territory = (
        session.get(Territory, q.territory_id)
        if q.territory_id is not None
        else session.scalars(sa.select(Territory).order_by(Territory.id).limit(1)).first()
    )
    if q.territory_id is not None and territory is None:
        raise Invalid(f"territory {q.territory_id} does not exist", field="territory_id")
    zone = ZoneInfo(territory.timezone if territory else "UTC")
    edges = _bounds(q, zone)
    k = _Kpis(session, q, edges)
    k.responses()
    k.repairs()
    k.sla(now)
    k.time_use()
    k.ratings()
    k.availability(zone)

    total = Cell()
    per_bucket = [Cell() for _ in edges[:-1]]
    per_group: dict[int | None, Cell] = {}
    for (b, g), cell in k.grid.cells.items():
        total.add(cell)
        per_bucket[b].add(cell)
        per_group.setdefault(g, Cell()).add(cell)
    names = _names(session, q, per_group)
    groups = [
        {"id": g, "name": names.get(g, str(g)), **cell.figures()}
        for g, cell in sorted(per_group.items(), key=lambda kv: names.get(kv[0], "") or "")
    ]
    return {
        "from": q.start.isoformat(),
        "to": q.end.isoformat(),
        "bucket": q.bucket,
        "group_by": q.group_by,
        "territory_id": q.territory_id,
        "timezone": str(zone),
        "totals": total.figures(),
        "series": [
            {"start": edges[i].date().isoformat(), **cell.figures()} for i, cell in enumerate(per_bucket)
        ],
        "groups": groups if q.group_by != "none" else [],
    }
