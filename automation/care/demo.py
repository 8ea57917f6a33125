"""Demo data for proactive care: consumables and their meter history, and two years of closed work.

The core demo is one week of live work; care needs history: a forecast learns the year's season, churn
compares the last quarter with the one before. So this adds, deterministically (seeded):

- consumables for the demo's four asset models, a weekly meter reading per counter for 120 days, and the
  last replacement of each, spread so that some run out within their lead time (notices) and most later;
- ~110 weeks of closed work orders per customer with a seasonal volume (a summer peak for chillers, a dip
  at the Spring Festival, slow growth), each with its signed-off visit, SLA targets from the real
  policies (most met, some breached), and the ratings customers gave (sign-off ratings and NPS answers)
  as the domain events they are recorded as;
- three stories for the churn list: 静安食品厂 (JAF) — ratings falling, the same chiller back three times,
  late fixes; 徐家汇写字楼 (XJL) — a spike of tickets this month; 虹桥美罗商场 (HQM) — ratings slipping;
- a bronze contract for 闵行药业 (MLP) ending in seven weeks (a renewal reminder).

History is imported as a previous system's export would be: rows written in bulk (closed work orders with
their visits and audit rows, rating events in the outbox) — replaying 2,500 jobs through every step of the
lifecycle would take minutes, and the bus would send 2,500 survey mails. Nothing here is open work.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from automation.care.consumables import ConsumableInput, Notify, put_consumable
from automation.care.models import Consumable, Replacement, UsageReading
from core.domain.calendar import BusinessCalendar
from core.domain.sla import SlaTargets, compute_targets
from core.services import customers, sla
from core.services.context import ServiceContext
from core.store.models import (
    Asset,
    AssetModel,
    AuditEvent,
    Contract,
    Customer,
    Engineer,
    EngineerSkill,
    OutboxEvent,
    Site,
    SlaPolicy,
    Territory,
    Visit,
    WorkOrder,
)

WEEKS = 110
# Spring Festival (春节) first days: the week around it is quiet.
SPRING_FESTIVAL = [
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
]

# model code → consumables: (code, name, counter, capacity, unit, cycle_days, lead_days, notify, use per day)
CONSUMABLES: dict[str, list[tuple[str, str, str | None, float | None, str, int | None, int, str, float]]] = {
    "CH-500": [
        ("filter", "空气过滤网 air filter", "run_hours", 2000, "h", None, 21, "both", 16),
        ("compressor_oil", "压缩机油 compressor oil", None, None, "", 365, 30, "task", 0),
    ],
    "LF-1000": [("rope_lube", "钢丝绳润滑 rope lubrication", None, None, "", 90, 14, "portal", 0)],
    "PM-75": [("seal", "机械密封 mechanical seal", "run_hours", 8000, "h", None, 30, "both", 20)],
    "PR-9": [
        ("ribbon", "碳带 ribbon", "labels", 60000, "labels", None, 5, "portal", 2500),
        ("printhead", "打印头 printhead", "labels", 1_500_000, "labels", None, 30, "task", 2500),
    ],
}
SKILL_OF = {"chiller": "hvac", "lift": "lift", "pump": "pump", "printer": "printer"}
PROBLEMS = {
    "hvac": [
        "冷水机组排气温度过高 / Discharge temperature high",
        "冷机不制冷 / Chiller not cooling",
        "冷却水流量低 / Low condenser water flow",
        "压缩机异响 / Compressor noise",
        "冷机频繁启停 / Chiller short cycling",
    ],
    "lift": [
        "电梯门反复开关 / Lift door cycling",
        "电梯异响 / Lift noise in the shaft",
        "电梯平层不准 / Lift not levelling",
        "电梯困人 / Passenger trapped",
        "电梯按钮失灵 / Call button dead",
    ],
    "pump": [
        "水泵振动异常 / Pump vibration",
        "水泵漏水 / Pump seal leaking",
        "水泵压力不足 / Pump pressure low",
        "水泵电机过热 / Pump motor hot",
        "水泵无法启动 / Pump will not start",
    ],
    "printer": [
        "打印机卡纸报错 / Printer jam E42",
        "打印模糊 / Faint print",
        "标签错位 / Labels misaligned",
        "打印机无法联网 / Printer offline",
        "碳带断裂 / Ribbon snapped",
    ],
}
# Half the work is about the building, not one machine (no asset on the work order).
GENERAL = [
    "配电柜跳闸 / Distribution board tripping",
    "照明故障 / Lighting failure",
    "屋顶漏水 / Roof leaking",
    "门禁故障 / Access control fault",
    "插座无电 / Sockets dead",
    "消防报警误报 / False fire alarm",
]
CALLBACK = "冷机不制冷 / Chiller not cooling"
_FRESH = timedelta(days=60)
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
# How much of the volume each customer brings, and how they usually rate (mean of 1–5).
WEIGHT = {"SHC": 1.6, "HQM": 1.3, "PDH": 1.2, "JAF": 1.0, "XJL": 0.6, "ACM": 0.8, "MLP": 0.7, "YPW": 0.6}
BASE_PER_WEEK = 2.6


@dataclass(frozen=True, slots=True)
class _Asset:
    id: int
    site_id: int
    customer_id: int
    code: str
    model: str
    skill: str
    installed_on: date | None


@dataclass
class _History:
    orders: list[dict[str, Any]]
    ratings: list[tuple[int, int, datetime, str, int]]  # (order index, customer, at, kind, score)


def seed(ctx: ServiceContext, rng: random.Random, echo: Callable[[str], None]) -> None:
    s = ctx.session
    territory = s.scalars(sa.select(Territory).order_by(Territory.id)).first()
    if territory is None:
        return
    assets = _assets(ctx)
    if not assets:
        return
    echo("automation: consumables, 120 days of meter readings, their last replacements")
    _consumables(ctx, assets, rng)
    echo(f"automation: {WEEKS} weeks of closed work orders and ratings (forecast and churn history)")
    history = _history(ctx, territory, assets, rng)
    _write(ctx, territory, assets, history, rng)
    _renewal(ctx)


def _assets(ctx: ServiceContext) -> list[_Asset]:
    rows = ctx.session.execute(
        sa.select(
            Asset.id,
            Asset.site_id,
            Site.customer_id,
            Customer.code,
            AssetModel.code,
            AssetModel.category,
            Asset.installed_on,
        )
        .join(Site, Site.id == Asset.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .join(AssetModel, AssetModel.id == Asset.asset_model_id)
        .order_by(Asset.id)
    )
    return [
        _Asset(a, site, cust, code, model, SKILL_OF.get(cat, "electrical"), inst)
        for a, site, cust, code, model, cat, inst in rows
    ]


def _consumables(ctx: ServiceContext, assets: list[_Asset], rng: random.Random) -> None:
    made = _define(ctx)
    readings: list[dict[str, Any]] = []
    replacements: list[dict[str, Any]] = []
    for n, asset in enumerate(assets):
        # Spread the wear: every fourth asset's consumables are due within (or just past) their lead time.
        more_readings, more_replacements = _wear(ctx.now(), asset, made, rng, due_soon=n % 4 == 0)
        readings += more_readings
        replacements += more_replacements
    if readings:
        ctx.session.execute(sa.insert(UsageReading), readings)
    if replacements:
        ctx.session.execute(sa.insert(Replacement), replacements)
    ctx.session.commit()


def _define(ctx: ServiceContext) -> dict[tuple[str, str], Consumable]:
    models = dict(ctx.session.execute(sa.select(AssetModel.code, AssetModel.id)).tuples().all())
    made: dict[tuple[str, str], Consumable] = {}
    for model_code, items in CONSUMABLES.items():
        if model_code not in models:
            continue
        for code, name, counter, capacity, unit, cycle, lead, notify, _ in items:
            made[(model_code, code)] = put_consumable(
                ctx,
                ConsumableInput(
                    asset_model_id=models[model_code],
                    code=code,
                    name=name,
                    counter=counter,
                    capacity=capacity,
                    unit=unit,
                    cycle_days=cycle,
                    lead_days=lead,
                    notify=cast(Notify, notify),
                ),
            )
    return made


def _wear(
    now: datetime,
    asset: _Asset,
    made: dict[tuple[str, str], Consumable],
    rng: random.Random,
    due_soon: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An asset's weekly meter readings over 120 days, and when each consumable was last replaced."""
    installed = datetime.combine(asset.installed_on or (now.date() - timedelta(days=900)), time(), tzinfo=UTC)
    counters: dict[str, float] = {}
    replacements = []
    for code, _, counter, capacity, _, cycle, lead, _, per_day in CONSUMABLES.get(asset.model, []):
        left_days = rng.uniform(-0.2, 0.9) * lead if due_soon else rng.uniform(1.2, 6.0) * max(lead, 10)
        if counter is not None and capacity is not None:
            rate = counters.setdefault(counter, per_day * rng.uniform(0.6, 1.3))
            life = capacity / rate
        else:
            assert cycle is not None
            life = cycle
        # Never replaced in the future: at most 90 % of its life is left.
        replaced = now - timedelta(days=life - min(left_days, 0.9 * life))
        if replaced > installed:
            replacements.append(
                {
                    "asset_id": asset.id,
                    "consumable_id": made[(asset.model, code)].id,
                    "at": replaced,
                    "source": "import",
                    "recorded_by": "demo",
                    "created_at": now,
                }
            )
    readings = []
    for counter, rate in counters.items():
        value = rate * max((now - timedelta(days=120) - installed).days, 0)
        for week in range(18):
            value += rate * 7 * rng.uniform(0.8, 1.2)
            readings.append(
                {
                    "asset_id": asset.id,
                    "counter": counter,
                    "at": now - timedelta(days=120 - 7 * week, hours=rng.uniform(0, 8)),
                    "value": round(value, 1),
                    "source": "import",
                    "recorded_by": "demo",
                    "created_at": now,
                }
            )
    return readings, replacements


def _season(day: date) -> float:
    """Summer peak (chillers), winter trough, a quiet Spring Festival week, 8 % growth a year."""
    doy = day.timetuple().tm_yday
    summer = 1 + 0.35 * math.sin(2 * math.pi * (doy - 110) / 365.25)
    festival = 0.45 if any(abs((day - f).days) <= 4 for f in SPRING_FESTIVAL) else 1.0
    growth: float = 1.08 ** ((day - date(2026, 1, 1)).days / 365.25)
    return summer * festival * growth


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of one customer's week.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _history(ctx: ServiceContext, territory: Territory, assets: list[_Asset], rng: random.Random) -> _History:
    zone = ZoneInfo(territory.timezone)
    today = ctx.now().astimezone(zone).date()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS)
    by_customer: dict[str, list[_Asset]] = {}
    for a in assets:
        by_customer.setdefault(a.code, []).append(a)
    orders: list[dict[str, Any]] = []
    ratings: list[tuple[int, int, datetime, str, int]] = []

    seen: dict[tuple[int, str], datetime] = {}

    def pick(a: _Asset, created: datetime) -> str | None:
        """A fault this asset has not had for 60 days: healthy customers do not see the same one come back
        (the churn story plants its repeats on purpose). None: a job for the building instead."""
        faults = PROBLEMS.get(a.skill, PROBLEMS["hvac"])
        fresh = [t for t in faults if created - seen.get((a.id, t), _LONG_AGO) > _FRESH]
        return rng.choice(fresh) if fresh and rng.random() < 0.5 else None

    def order(a: _Asset, created: datetime, late: bool, rating_mean: float, title: str | None = None) -> None:
        title = title or pick(a, created)
        if title is not None:
            seen[(a.id, title)] = created
        orders.append(
            {
                "asset": a,
                "on_asset": title is not None,
                "created": created,
                "late": late,
                "title": title or rng.choice(GENERAL),
                "priority": rng.choice([1, 2, 2, 3, 3, 3, 4]),
                "kind": "preventive" if rng.random() < 0.15 else "corrective",
            }
        )
        idx = len(orders) - 1
        at = created + timedelta(days=1)
        if rng.random() < 0.6:
            ratings.append((idx, a.customer_id, at, "mobile", _rating(rng, rating_mean)))
        if rng.random() < 0.15:
            ratings.append((idx, a.customer_id, at + timedelta(hours=3), "nps", _nps(rng, rating_mean)))

    day = start
    while day < today:
        week_mean = BASE_PER_WEEK * _season(day + timedelta(days=3))
        recent = (today - day).days <= 90
        for code, weight in WEIGHT.items():
            pool = by_customer.get(code)
            if not pool:
                continue
            mean = week_mean * weight
            if code == "XJL" and (today - day).days <= 27:
                mean *= 4.5  # the spike
            for _ in range(_poisson(rng, mean)):
                created = _when(rng, day, zone)
                if created.date() >= today:
                    continue
                rating_mean = 4.5
                if code == "JAF" and recent:
                    rating_mean = 2.4
                elif code == "HQM" and recent:
                    rating_mean = 3.4
                late = rng.random() < (0.45 if code == "JAF" and recent else 0.05)
                order(rng.choice(pool), created, late, rating_mean)
        day += timedelta(weeks=1)
    # JAF's chiller (or first asset) back three times with the same fault, each 12 days after the last.
    jaf = by_customer.get("JAF")
    if jaf:
        target = next((a for a in jaf if a.skill == "hvac"), jaf[0])
        first = datetime.combine(today - timedelta(days=70), time(10), tzinfo=zone).astimezone(UTC)
        for n in range(4):
            order(target, first + timedelta(days=12 * n), n == 2, 2.2, CALLBACK)
    return _History(orders, ratings)


def _when(rng: random.Random, week: date, zone: ZoneInfo) -> datetime:
    day = week + timedelta(days=rng.choices(range(7), weights=[5, 5, 5, 5, 5, 2, 1])[0])
    local = datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59)), tzinfo=zone)
    return local.astimezone(UTC)


def _rating(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.7))))


def _nps(rng: random.Random, mean: float) -> int:
    return max(0, min(10, round(rng.gauss((mean - 1) * 2.5, 1.5))))


def _write(
    ctx: ServiceContext, territory: Territory, assets: list[_Asset], h: _History, rng: random.Random
) -> None:
    s = ctx.session
    crew: dict[str, list[int]] = {}
    for engineer_id, skill in s.execute(
        sa.select(EngineerSkill.engineer_id, EngineerSkill.skill_code).join(Engineer).where(Engineer.active)
    ):
        crew.setdefault(skill, []).append(engineer_id)
    anyone = sorted({e for ids in crew.values() for e in ids})
    if not anyone:
        return
    rows = _orders(ctx, territory, assets, h, rng)
    ids = list(s.scalars(sa.insert(WorkOrder).returning(WorkOrder.id, sort_by_parameter_order=True), rows))
    visits, audits = [], []
    for wo_id, row, o in zip(ids, rows, h.orders, strict=True):
        skill = o["asset"].skill if o["on_asset"] else "electrical"
        visits.append(_visit(wo_id, row, rng.choice(crew.get(skill) or anyone)))
        audits += _trail(wo_id, row)
    s.execute(sa.insert(Visit), visits)
    s.execute(sa.insert(AuditEvent), audits)
    events = _rating_events(ctx.now(), h, ids, rows, rng)
    if events:
        s.execute(sa.insert(OutboxEvent), events)
    s.commit()


def _orders(
    ctx: ServiceContext, territory: Territory, assets: list[_Asset], h: _History, rng: random.Random
) -> list[dict[str, Any]]:
    """Work-order rows with SLA targets from the real policies (the contract in force on the day)."""
    s = ctx.session
    policies = {(p.tier, p.priority): p for p in s.scalars(sa.select(SlaPolicy))}
    calendars = {
        False: BusinessCalendar.from_dict(territory.calendar),
        True: BusinessCalendar.around_the_clock(territory.timezone),
    }
    asset_rows = {a.id: s.get_one(Asset, a.id) for a in assets}
    rows = []
    for o in h.orders:
        a: _Asset = o["asset"]
        created: datetime = o["created"]
        contract = sla.active_contract(
            s, a.customer_id, asset_rows[a.id] if o["on_asset"] else None, created.date()
        )
        floor = contract.priority_floor if contract and contract.priority_floor else 9
        priority = min(o["priority"], floor)
        policy = policies.get((contract.tier if contract else "standard", priority)) or policies.get(
            ("standard", priority)
        )
        targets: SlaTargets | None = None
        if policy is not None:
            calendar = calendars[policy.around_the_clock]
            targets = compute_targets(
                created, policy.response_minutes, policy.resolution_minutes, calendar, sla.AT_RISK_FRACTION
            )
        respond_by = targets.respond_by if targets else created + timedelta(hours=8)
        resolve_by = targets.resolve_by if targets else created + timedelta(days=2)
        # Most jobs meet both targets; a late one misses both (by 10–80 %).
        late = o["late"]
        responded = created + (respond_by - created) * (
            rng.uniform(1.1, 1.8) if late else rng.uniform(0.2, 0.9)
        )
        share = rng.uniform(1.1, 1.8) if late else rng.uniform(0.25, 0.9)
        resolved = max(created + (resolve_by - created) * share, responded + timedelta(minutes=40))
        rows.append(
            {
                "title": o["title"],
                "description": "历史工单（演示数据导入）/ imported history",
                "customer_id": a.customer_id,
                "site_id": a.site_id,
                "asset_id": a.id if o["on_asset"] else None,
                "contract_id": contract.id if contract else None,
                "territory_id": territory.id,
                "source": rng.choice(["phone", "email", "portal", "telemetry"]),
                "kind": o["kind"],
                "priority": priority,
                "status": "closed",
                "estimated_minutes": rng.choice([60, 90, 120]),
                "windows": [],
                "required_parts": [],
                "respond_by": respond_by,
                "resolve_by": resolve_by,
                "respond_risk_at": targets.respond_risk_at if targets else respond_by,
                "resolve_risk_at": targets.resolve_risk_at if targets else resolve_by,
                "responded_at": responded,
                "resolved_at": resolved,
                "created_by": "history-import",
                "created_at": created,
                "updated_at": resolved + timedelta(days=1),
                "version": 1,
            }
        )
    return rows


def _visit(wo_id: int, row: dict[str, Any], engineer_id: int) -> dict[str, Any]:
    on_site, done, created = row["responded_at"], row["resolved_at"], row["created_at"]
    return {
        "work_order_id": wo_id,
        "engineer_id": engineer_id,
        "status": "signed_off",
        "planned_start": on_site - timedelta(minutes=30),
        "planned_end": done,
        "pinned": False,
        "assigned_at": created + timedelta(minutes=10),
        "accepted_at": created + timedelta(minutes=15),
        "en_route_at": on_site - timedelta(minutes=35),
        "on_site_at": on_site,
        "off_site": False,
        "work_done_at": done - timedelta(minutes=5),
        "signed_off_at": done,
        "version": 1,
    }


def _trail(wo_id: int, row: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"actor": "history-import", "subject_type": "work_order", "subject_id": wo_id}
    return [
        {**base, "at": row["created_at"], "action": "created", "to_state": "new", "data": {}},
        {
            **base,
            "at": row["updated_at"],
            "action": "imported",
            "to_state": "closed",
            "reason": "history imported for the demo",
            "data": {},
        },
    ]


def _rating_events(
    now: datetime, h: _History, ids: list[int], rows: list[dict[str, Any]], rng: random.Random
) -> list[dict[str, Any]]:
    """The ratings as the events they are recorded as: sign-off ratings and NPS survey answers."""
    events = []
    for idx, customer_id, at, kind, score in h.ratings:
        wo_id = ids[idx]
        when = max(at, rows[idx]["resolved_at"] + timedelta(hours=1))
        if when >= now:
            continue
        data: dict[str, Any] = {"work_order_id": wo_id, "customer_id": customer_id, "comment": None}
        if kind == "mobile":
            type_ = "work_order.rated"
            data.update(rating=score, source="mobile")
        else:
            type_ = "survey.answered"
            # The service desk's 0–10 → 1–5 (servicedesk.surveys.rating_of).
            data.update(rating=1 + round(Fraction(score, 10) * 4), source="survey", kind="nps", score=score)
        events.append(
            {
                "event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "type": type_,
                "subject_type": "work_order",
                "subject_id": wo_id,
                "occurred_at": when,
                "actor": "history-import",
                "data": data,
            }
        )
    return events


def _renewal(ctx: ServiceContext) -> None:
    s, today = ctx.session, ctx.now().date()
    customer = s.scalar(sa.select(Customer).where(Customer.code == "MLP"))
    if customer is None or s.scalar(sa.select(Contract.id).where(Contract.customer_id == customer.id)):
        return
    customers.create_contract(
        ctx,
        customers.ContractInput(
            customer_id=customer.id,
            number="SA-MLP-2025",
            tier="bronze",
            starts_on=today - timedelta(days=320),
            ends_on=today + timedelta(days=49),
        ),
    )
