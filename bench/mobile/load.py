"""The mobile API under concurrent load: "today" and "check-in" for N engineers, beside a bare Litestar
"hello" as the ceiling, all in the same run, on PostgreSQL + PostGIS.

    python bench/mobile/load.py --database-url postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_mobile
    python bench/mobile/load.py --smoke          # CI: 20 engineers, 3 s per row, well under 40 s

1. Data (`--reuse` keeps what a previous run with the same number of engineers left): the database's
   `public` schema is dropped and recreated (with postgis and pg_trgm), migrated, and filled with one
   Shanghai territory, 20 customers (10 with contracts), N engineers each with a user account
   `eng0001`… (password below) and 6 sites with one asset each, and 6 visits a day per engineer, today
   first, then the following days (assigned, work order dispatched). Engineers and users go through the
   use cases (argon2 hashes included). Engineer 1's sites and visits go through the use cases too; the
   rest are bulk-inserted rows built the way the use cases build them (audit and outbox rows, the
   inventory handler's processed-event row), and before the bulk load the script checks that engineer 2
   (bulk) got exactly the rows engineer 1 (use cases) got, table by table.
2. Check-in visits are never reset: every check-in request moves a distinct visit from `assigned`
   through accepted and en route to on site. Enough future days of visits are created up front (and
   topped up on `--reuse`) that the pool cannot run out at `--max-rate` requests/s.
3. The real app runs as `fieldops serve` (one uvicorn worker) in a subprocess, the hello app
   (`bench/mobile/hello.py`) under uvicorn in another; all N engineers sign in through
   `POST /mobile/v1/auth/token`.
4. For each concurrency: hello, then "today" (`GET /mobile/v1/visits?date=…`, engineers round-robin),
   then "check-in" (`POST /mobile/v1/visits/{id}/check-in` with an Idempotency-Key, each engineer's
   next visit), each for a warm-up then `--duration` seconds, from one asyncio + httpx process.

The load generator shares the machine with the servers and PostgreSQL, so the table also gives the CPU
each of them used during the row (in % of one core): the hello row at each concurrency is the ceiling of
this generator on this machine, not of Litestar.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import psutil  # type: ignore[import-untyped]
import sqlalchemy as sa

from core.domain.clock import FixedClock
from core.domain.lifecycle import VisitStatus, WorkOrderStatus
from core.domain.sla import SlaTargets
from core.domain.workorders import Kind, Priority, Source, effective_priority
from core.services import customers, engineers, setup, sla, users, visits, workorders
from core.services.context import Actor, Role, ServiceContext
from core.store.db import make_engine
from core.store.models import (
    Asset,
    AuditEvent,
    OutboxEvent,
    Site,
    Territory,
    User,
    Visit,
    WorkOrder,
    WorkOrderSkill,
)
from fieldops.migrate import upgrade
from fieldops.settings import Settings
from fieldops.wiring import System, build_system
from inventory.models import ProcessedEvent

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/fieldops_bench_mobile"
PASSWORD = "bench-mobile-password"
SECRET = "bench-mobile-secret-not-for-production-use"
ACTOR = Actor.system("bench")
ZONE = ZoneInfo("Asia/Shanghai")
WORKDAY = [["09:00", "12:00"], ["13:00", "18:00"]]
CALENDAR: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "week": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WORKDAY),
    "holidays": [],
    "extra_workdays": {},
}
SKILLS = ("hvac", "lift", "pump", "electrical")
MODELS = (
    ("CH-500", "Chiller 500 kW / 500千瓦冷水机组", "chiller", "hvac"),
    ("LF-1000", "Passenger lift 1000 kg / 客梯", "lift", "lift"),
    ("PM-75", "Booster pump 75 kW / 增压泵", "pump", "pump"),
    ("DB-400", "Distribution board 400 A / 配电柜", "switchgear", "electrical"),
)
PROBLEMS = {
    "hvac": "冷水机组排气温度过高 / Discharge temperature high",
    "lift": "电梯门反复开关 / Lift door cycling",
    "pump": "水泵振动异常 / Pump vibration above normal",
    "electrical": "配电柜跳闸 / Distribution board tripping",
}
TIERS = ("gold", "silver", "bronze", "standard")
SLA_MINUTES = {"gold": (60, 240), "silver": (120, 480), "bronze": (240, 960), "standard": (480, 1920)}
N_CUSTOMERS = 20
REQUEST_TIMEOUT = 30.0  # seconds; a request slower than this counts as an error
SITES_PER_ENGINEER = 6  # one visit a day at each: 6 visits a day
# Tables every run writes to but whose size the row check leaves aside (nothing else may differ).
UNCOUNTED = {"alembic_version", "spatial_ref_sys"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ================================================================ data


@dataclass(frozen=True, slots=True)
class ContractRef:
    id: int
    tier: str
    priority_floor: int | None


@dataclass(frozen=True, slots=True)
class Base:
    territory_id: int
    customers: list[tuple[int, ContractRef | None]]
    models: list[tuple[int, str]]  # (asset model id, skill)


@dataclass(frozen=True, slots=True)
class SiteSpec:
    engineer_index: int
    slot: int
    customer_id: int
    contract: ContractRef | None
    model_id: int
    skill: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class JobSpec:
    engineer_id: int
    site_id: int
    asset_id: int
    customer_id: int
    contract: ContractRef | None
    skill: str
    slot: int
    day: date
    priority: Priority

    @property
    def planned_start(self) -> datetime:
        local = datetime.combine(self.day, clock_time(9, 0), ZONE) + timedelta(minutes=75 * self.slot)
        return local.astimezone(UTC)


def reset_schema(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
        conn.execute(sa.text("CREATE EXTENSION postgis"))
        conn.execute(sa.text("CREATE EXTENSION pg_trgm"))


def seed_base(system: System) -> Base:
    """Territory, skills, SLA policies, asset models, customers and contracts: through the use cases."""
    with system.runtime.sessions() as session:
        ctx = ServiceContext(session, system.runtime.clock, ACTOR)
        today = ctx.now().date()
        territory = setup.create_territory(ctx, setup.TerritoryInput(name="上海 Shanghai", calendar=CALENDAR))
        for code in SKILLS:
            setup.create_skill(ctx, setup.SkillInput(code=code, name=code))
        for tier, (respond, resolve) in SLA_MINUTES.items():
            for priority in range(1, 5):
                setup.put_sla_policy(
                    ctx,
                    setup.SlaPolicyInput(
                        tier=tier,
                        priority=priority,
                        response_minutes=respond * priority,
                        resolution_minutes=resolve * priority,
                        around_the_clock=tier == "gold" and priority == 1,
                    ),
                )
        models = [
            (
                setup.create_asset_model(
                    ctx, setup.AssetModelInput(code=code, name=name, category=category)
                ).id,
                skill,
            )
            for code, name, category, skill in MODELS
        ]
        custs: list[tuple[int, ContractRef | None]] = []
        for i in range(N_CUSTOMERS):
            customer = customers.create_customer(
                ctx, customers.CustomerInput(code=f"BC{i:03d}", name=f"客户 Customer {i}")
            )
            contract = None
            if i < N_CUSTOMERS // 2:
                tier = TIERS[i % 3]
                floor = 2 if tier == "gold" else None
                made = customers.create_contract(
                    ctx,
                    customers.ContractInput(
                        customer_id=customer.id,
                        number=f"BK-{i:03d}",
                        tier=tier,
                        starts_on=date(today.year - 1, 1, 1),
                        ends_on=date(today.year + 2, 12, 31),
                        priority_floor=floor,
                    ),
                )
                contract = ContractRef(made.id, tier, floor)
            custs.append((customer.id, contract))
        return Base(territory.id, custs, models)


def load_base(engine: sa.Engine) -> Base:
    from core.store.models import AssetModel, Contract, Customer

    with engine.connect() as conn:
        territory_id = conn.scalar(sa.select(Territory.id).order_by(Territory.id).limit(1))
        assert territory_id is not None
        contracts = {
            row.customer_id: ContractRef(row.id, row.tier, row.priority_floor)
            for row in conn.execute(sa.select(Contract))
        }
        custs = [
            (cid, contracts.get(cid))
            for cid in conn.scalars(
                sa.select(Customer.id).where(Customer.code.like("BC%")).order_by(Customer.id)
            )
        ]
        by_code = {row.code: row.id for row in conn.execute(sa.select(AssetModel.code, AssetModel.id))}
    return Base(territory_id, custs, [(by_code[code], skill) for code, _, _, skill in MODELS])


def username(index: int) -> str:
    return f"eng{index + 1:04d}"


def create_engineers(system: System, base: Base, n: int) -> list[int]:
    """Engineers and their accounts through the use cases (the van comes from the inventory handler)."""

    def one(index: int) -> int:
        with system.runtime.sessions() as session:
            ctx = ServiceContext(session, system.runtime.clock, ACTOR)
            engineer = engineers.create_engineer(
                ctx,
                engineers.EngineerInput(
                    name=f"工程师 Engineer {index + 1}",
                    territory_id=base.territory_id,
                    home_lat=round(31.23 + 0.15 * math.sin(index * 1.7), 5),
                    home_lon=round(121.47 + 0.2 * math.cos(index * 1.3), 5),
                    skills=[engineers.SkillLevel(s, 3) for s in SKILLS],
                    shifts=[
                        engineers.Shift(weekday=d, start="08:30", end="17:30", break_minutes=60)
                        for d in range(5)
                    ],
                ),
            )
            users.create_user(
                ctx,
                users.UserInput(
                    username=username(index),
                    password=PASSWORD,
                    role=Role.ENGINEER,
                    display_name=engineer.name,
                    engineer_id=engineer.id,
                ),
            )
            return engineer.id

    ids: list[int] = []
    with ThreadPoolExecutor(4) as pool:  # argon2 releases the GIL: hashing runs on both cores
        for done, engineer_id in enumerate(pool.map(one, range(n)), start=1):
            ids.append(engineer_id)
            if done % 100 == 0 or done == n:
                log(f"seed: {done}/{n} engineers and accounts (use cases)")
    return ids


def site_specs(base: Base, index: int) -> list[SiteSpec]:
    # Engineers 2k and 2k+1 share customers, so the bulk check compares like with like.
    specs = []
    for slot in range(SITES_PER_ENGINEER):
        customer_id, contract = base.customers[((index // 2) * SITES_PER_ENGINEER + slot) % N_CUSTOMERS]
        model_id, skill = base.models[slot % len(base.models)]
        angle = index * 0.37 + slot
        specs.append(
            SiteSpec(
                engineer_index=index,
                slot=slot,
                customer_id=customer_id,
                contract=contract,
                model_id=model_id,
                skill=skill,
                lat=round(31.23 + 0.12 * math.sin(angle), 5),
                lon=round(121.47 + 0.16 * math.cos(angle * 1.1), 5),
            )
        )
    return specs


def _site_input(base: Base, spec: SiteSpec) -> customers.SiteInput:
    return customers.SiteInput(
        customer_id=spec.customer_id,
        territory_id=base.territory_id,
        name=f"站点 Site {spec.engineer_index + 1}-{spec.slot + 1}",
        address=f"上海市 路 {spec.engineer_index + 1} 号 / No. {spec.slot + 1}",
        lat=spec.lat,
        lon=spec.lon,
        access_notes="找物业开门 / ask the front desk",
    )


def _asset_input(spec: SiteSpec, site_id: int) -> customers.AssetInput:
    return customers.AssetInput(
        site_id=site_id,
        asset_model_id=spec.model_id,
        serial=f"SN-{spec.engineer_index + 1:04d}-{spec.slot + 1}",
        contract_id=spec.contract.id if spec.contract else None,
        installed_on=date(2020, 1, 1) + timedelta(days=spec.slot * 97),
        warranty_ends_on=date(2026, 1, 1) + timedelta(days=spec.slot * 120),
    )


def sites_by_use_cases(system: System, base: Base, specs: Sequence[SiteSpec]) -> list[tuple[int, int]]:
    out = []
    with system.runtime.sessions() as session:
        ctx = ServiceContext(session, system.runtime.clock, ACTOR)
        for spec in specs:
            site = customers.create_site(ctx, _site_input(base, spec))
            asset = customers.create_asset(ctx, _asset_input(spec, site.id))
            out.append((site.id, asset.id))
    return out


def _audit(now: datetime, subject_type: str, subject_id: int, action: str, **kw: Any) -> dict[str, Any]:
    return {
        "at": now,
        "actor": ACTOR.name,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "action": action,
        "from_state": kw.get("from_state"),
        "to_state": kw.get("to_state"),
        "reason": kw.get("reason"),
        "data": kw.get("data", {}),
    }


def _outbox(
    now: datetime, type_: str, subject_type: str, subject_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "type": type_,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "occurred_at": now,
        "actor": ACTOR.name,
        "data": data,
    }


def _returning_ids(conn: sa.Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = conn.execute(sa.insert(table).returning(table.id, sort_by_parameter_order=True), rows)
    return [r[0] for r in result]


def sites_in_bulk(engine: sa.Engine, base: Base, specs: Sequence[SiteSpec]) -> list[tuple[int, int]]:
    """What customers.create_site + create_asset write (row, audit "created", outbox "<x>.created")."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        site_rows = []
        for spec in specs:
            data = msgspec.to_builtins(_site_input(base, spec))
            site_rows.append({**data, "created_at": now, "version": 1})
        site_ids = _returning_ids(conn, Site, site_rows)
        asset_rows = []
        for spec, site_id in zip(specs, site_ids, strict=True):
            a = _asset_input(spec, site_id)
            asset_rows.append(
                {
                    "site_id": a.site_id,
                    "asset_model_id": a.asset_model_id,
                    "serial": a.serial,
                    "name": a.name,
                    "contract_id": a.contract_id,
                    "installed_on": a.installed_on,
                    "warranty_ends_on": a.warranty_ends_on,
                    "created_at": now,
                    "version": 1,
                }
            )
        asset_ids = _returning_ids(conn, Asset, asset_rows)
        audits, events = [], []
        for kind, ids in (("site", site_ids), ("asset", asset_ids)):
            for subject_id in ids:
                audits.append(_audit(now, kind, subject_id, "created"))
                events.append(_outbox(now, f"{kind}.created", kind, subject_id, {}))
        conn.execute(sa.insert(AuditEvent), audits)
        conn.execute(sa.insert(OutboxEvent), events)
    return list(zip(site_ids, asset_ids, strict=True))


def job_specs(
    engineer_id: int,
    index: int,
    specs: Sequence[SiteSpec],
    places: Sequence[tuple[int, int]],
    days: Sequence[date],
) -> list[JobSpec]:
    jobs = []
    for day in days:
        for spec, (site_id, asset_id) in zip(specs, places, strict=True):
            jobs.append(
                JobSpec(
                    engineer_id=engineer_id,
                    site_id=site_id,
                    asset_id=asset_id,
                    customer_id=spec.customer_id,
                    contract=spec.contract,
                    skill=spec.skill,
                    slot=spec.slot,
                    day=day,
                    priority=Priority.of(1 + (spec.slot + day.toordinal()) % 4),
                )
            )
    return jobs


def _wo_input(job: JobSpec) -> workorders.WorkOrderInput:
    return workorders.WorkOrderInput(
        title=PROBLEMS[job.skill],
        site_id=job.site_id,
        asset_id=job.asset_id,
        description="客户报修 / reported by the customer",
        source=Source.PHONE,
        kind=Kind.CORRECTIVE,
        priority=job.priority,
        estimated_minutes=60,
        required_skills=[workorders.SkillRequirement(job.skill, 2)],
    )


def jobs_by_use_cases(system: System, jobs: Sequence[JobSpec]) -> None:
    with system.runtime.sessions() as session:
        ctx = ServiceContext(session, system.runtime.clock, ACTOR)
        for job in jobs:
            wo = workorders.create_work_order(ctx, _wo_input(job))
            visits.assign(
                ctx,
                wo.id,
                visits.AssignInput(
                    engineer_id=job.engineer_id,
                    planned_start=job.planned_start,
                    planned_end=job.planned_start + timedelta(minutes=60),
                    dispatch=True,
                ),
                None,
            )


def jobs_in_bulk(system: System, jobs: Sequence[JobSpec], batch: int = 3000) -> None:
    """What create_work_order + assign(dispatch=True) write, and the inventory handler's row for
    `visit.assigned` (these jobs need no parts, so no reservation): work order + skill, audit "created",
    outbox "work_order.created"; visit, audit "assigned", outbox "visit.assigned", processed event;
    new → scheduled → dispatched, an audit row and an outbox event each."""
    targets: dict[tuple[str | None, int], SlaTargets | None] = {}
    for start in range(0, len(jobs), batch):
        chunk = jobs[start : start + batch]
        now = system.runtime.clock.now()
        with system.runtime.sessions() as session:
            territory = session.get_one(Territory, session.scalar(sa.select(Territory.id).limit(1)))
            for job in chunk:
                floor = job.contract.priority_floor if job.contract else None
                rank = effective_priority(job.priority, floor).rank
                tier = job.contract.tier if job.contract else None
                if (tier, rank) not in targets:
                    targets[(tier, rank)] = sla.targets_for(session, territory, tier, rank, now)
            territory_id = territory.id
        with system.engine.begin() as conn:
            wo_rows: list[dict[str, Any]] = []
            for job in chunk:
                data = _wo_input(job)
                rank = effective_priority(
                    job.priority, job.contract.priority_floor if job.contract else None
                ).rank
                t = targets[(job.contract.tier if job.contract else None, rank)]
                wo_rows.append(
                    {
                        "title": data.title,
                        "description": data.description,
                        "customer_id": job.customer_id,
                        "site_id": job.site_id,
                        "asset_id": job.asset_id,
                        "contract_id": job.contract.id if job.contract else None,
                        "territory_id": territory_id,
                        "source": data.source,
                        "kind": data.kind,
                        "priority": rank,
                        "status": WorkOrderStatus.DISPATCHED,
                        "estimated_minutes": data.estimated_minutes,
                        "windows": [],
                        "required_parts": [],
                        "respond_by": t.respond_by if t else None,
                        "resolve_by": t.resolve_by if t else None,
                        "respond_risk_at": t.respond_risk_at if t else None,
                        "resolve_risk_at": t.resolve_risk_at if t else None,
                        "created_by": ACTOR.name,
                        "created_at": now,
                        "updated_at": now,
                        # created (1), then both transitions in assign's one flush (2)
                        "version": 2,
                    }
                )
            wo_ids = _returning_ids(conn, WorkOrder, wo_rows)
            conn.execute(
                sa.insert(WorkOrderSkill),
                [
                    {"work_order_id": wo_id, "skill_code": job.skill, "min_level": 2}
                    for wo_id, job in zip(wo_ids, chunk, strict=True)
                ],
            )
            visit_ids = _returning_ids(
                conn,
                Visit,
                [
                    {
                        "work_order_id": wo_id,
                        "engineer_id": job.engineer_id,
                        "status": VisitStatus.ASSIGNED,
                        "planned_start": job.planned_start,
                        "planned_end": job.planned_start + timedelta(minutes=60),
                        "pinned": False,
                        "assigned_at": now,
                        "off_site": False,
                        "version": 1,
                    }
                    for wo_id, job in zip(wo_ids, chunk, strict=True)
                ],
            )
            audits: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            processed: list[dict[str, Any]] = []
            for wo_id, visit_id, job, row in zip(wo_ids, visit_ids, chunk, wo_rows, strict=True):
                priority = Priority.of(row["priority"]).value

                def event_data(
                    status: str,
                    wo_id: int = wo_id,
                    job: JobSpec = job,
                    p: str = priority,
                    t: int = territory_id,
                ) -> dict[str, Any]:
                    return {
                        "reference": f"WO-{wo_id:07d}",
                        "status": status,
                        "priority": p,
                        "territory_id": t,
                        "customer_id": job.customer_id,
                        "site_id": job.site_id,
                        "asset_id": job.asset_id,
                        "source": Source.PHONE.value,
                        "kind": Kind.CORRECTIVE.value,
                    }

                audits.append(
                    _audit(now, "work_order", wo_id, "created", to_state="new", data={"priority": priority})
                )
                events.append(_outbox(now, "work_order.created", "work_order", wo_id, event_data("new")))
                link = {"work_order_id": wo_id, "engineer_id": job.engineer_id}
                audits.append(_audit(now, "visit", visit_id, "assigned", to_state="assigned", data=link))
                assigned = _outbox(now, "visit.assigned", "visit", visit_id, dict(link))
                events.append(assigned)
                processed.append(
                    {"event_id": assigned["event_id"], "type": "visit.assigned", "processed_at": now}
                )
                for frm, to in (("new", "scheduled"), ("scheduled", "dispatched")):
                    audits.append(
                        _audit(now, "work_order", wo_id, "transitioned", from_state=frm, to_state=to)
                    )
                    events.append(
                        _outbox(
                            now,
                            "work_order.transitioned",
                            "work_order",
                            wo_id,
                            {**event_data(to), "from": frm, "to": to, "reason": None},
                        )
                    )
            conn.execute(sa.insert(AuditEvent), audits)
            conn.execute(sa.insert(OutboxEvent), events)
            conn.execute(sa.insert(ProcessedEvent), processed)
        log(f"seed: {min(start + batch, len(jobs))}/{len(jobs)} visits (bulk)")


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = conn.scalars(
            sa.text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            )
        ).all()
        return {
            name: int(conn.scalar(sa.text(f'SELECT count(*) FROM "{name}"')) or 0)
            for name in names
            if name not in UNCOUNTED
        }


def _trail(engine: sa.Engine, audit_after: int, seq_after: int) -> tuple[list[Any], list[Any]]:
    """The shape of the audit and outbox rows written since a point: everything but ids and times."""
    with engine.connect() as conn:
        audit_rows = sorted(
            (r.subject_type, r.action, r.from_state or "", r.to_state or "", r.reason or "", sorted(r.data))
            for r in conn.execute(sa.select(AuditEvent).where(AuditEvent.id > audit_after))
        )
        outbox_rows = sorted(
            (
                r.type,
                r.subject_type,
                r.actor or "",
                sorted(r.data),
                str(r.data.get("status")),
                str(r.data.get("priority")),
            )
            for r in conn.execute(sa.select(OutboxEvent).where(OutboxEvent.seq > seq_after))
        )
    return audit_rows, outbox_rows


def _marks(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0))) or 0),
            int(conn.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxEvent.seq), 0))) or 0),
        )


def _work_order_shape(engine: sa.Engine, engineer_id: int) -> list[tuple[Any, ...]]:
    skip = {"id", "site_id", "asset_id", "customer_id", "created_at", "updated_at"}
    skip |= {"respond_by", "resolve_by", "respond_risk_at", "resolve_risk_at"}  # from `now`, seconds apart
    cols = [c for c in WorkOrder.__table__.columns if c.name not in skip]
    vcols = [
        c
        for c in Visit.__table__.columns
        if c.name not in {"id", "work_order_id", "engineer_id", "assigned_at"}
    ]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*cols, *vcols, WorkOrder.respond_by - WorkOrder.created_at)
            .join(Visit, Visit.work_order_id == WorkOrder.id)
            .where(Visit.engineer_id == engineer_id)
            .order_by(Visit.planned_start)
        ).all()
    return [tuple(r) for r in rows]


def seed(system: System, n_engineers: int) -> tuple[Base, list[int]]:
    engine = system.engine
    t0 = time.perf_counter()
    log("seed: dropping and recreating the public schema (postgis, pg_trgm), migrating")
    reset_schema(engine)
    upgrade(engine)
    base = seed_base(system)
    engineer_ids = create_engineers(system, base, n_engineers)
    today = datetime.now(ZONE).date()
    # Engineer 1 through the use cases, engineer 2 in bulk: the same rows in every table, or stop.
    checks = []
    for index, bulk in ((0, False), (1, True)):
        before, marks = table_counts(engine), _marks(engine)
        specs = site_specs(base, index)
        places = sites_in_bulk(engine, base, specs) if bulk else sites_by_use_cases(system, base, specs)
        jobs = job_specs(engineer_ids[index], index, specs, places, [today])
        if bulk:
            jobs_in_bulk(system, jobs)
        else:
            jobs_by_use_cases(system, jobs)
        after = table_counts(engine)
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        checks.append((delta, *_trail(engine, *marks), _work_order_shape(engine, engineer_ids[index])))
    (d1, a1, o1, w1), (d2, a2, o2, w2) = checks
    if d1 != d2 or a1 != a2 or o1 != o2 or w1 != w2:
        for label, x, y in (("rows", d1, d2), ("audit", a1, a2), ("outbox", o1, o2), ("work orders", w1, w2)):
            if x != y:
                print(f"use cases: {label}: {x}\nbulk:      {label}: {y}", file=sys.stderr)
        raise SystemExit("the bulk rows differ from the use cases' rows: fix the bulk path first")
    log(f"seed: bulk rows match the use cases' for one engineer, table by table: {d1}")
    all_jobs: list[JobSpec] = []
    specs_all = [site_specs(base, i) for i in range(2, n_engineers)]
    flat = [s for specs in specs_all for s in specs]
    places_all = sites_in_bulk(engine, base, flat)
    for n, (index, specs) in enumerate(zip(range(2, n_engineers), specs_all, strict=True)):
        places = places_all[n * SITES_PER_ENGINEER : (n + 1) * SITES_PER_ENGINEER]
        all_jobs += job_specs(engineer_ids[index], index, specs, places, [today])
    jobs_in_bulk(system, all_jobs)
    log(
        f"seed: {n_engineers} engineers, {SITES_PER_ENGINEER} visits each today, "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    return base, engineer_ids


def bench_engineers(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(User.engineer_id)
                .where(User.role == Role.ENGINEER, User.username.like("eng____"))
                .order_by(User.username)
            )
        )


def plan_days(engine: sa.Engine) -> tuple[date, date]:
    """The first planned day (the day "today" is asked for) and the last."""
    with engine.connect() as conn:
        first, last = conn.execute(
            sa.select(sa.func.min(Visit.planned_start), sa.func.max(Visit.planned_start))
        ).one()
    return first.astimezone(ZONE).date(), last.astimezone(ZONE).date()


def ensure_pool(system: System, base: Base, engineer_ids: Sequence[int], need: int) -> int:
    """Add whole days of visits (6 per engineer per day, bulk) until every engineer has `need` visits
    still `assigned`; returns the smallest number any engineer has."""
    engine = system.engine
    while True:
        with engine.connect() as conn:
            counts: dict[int, int] = dict(
                conn.execute(
                    sa.select(Visit.engineer_id, sa.func.count())
                    .where(Visit.status == VisitStatus.ASSIGNED, Visit.engineer_id.in_(engineer_ids))
                    .group_by(Visit.engineer_id)
                )
                .tuples()
                .all()
            )
        fewest = min(counts.get(e, 0) for e in engineer_ids)
        if fewest >= need:
            return fewest
        days_more = math.ceil((need - fewest) / SITES_PER_ENGINEER)
        _, last = plan_days(engine)
        days = [last + timedelta(days=d) for d in range(1, days_more + 1)]
        log(
            f"pool: {fewest} assigned visits for the engineer with fewest, {need} wanted: "
            f"adding {days_more} day(s)"
        )
        with engine.connect() as conn:
            sites_by_engineer: dict[int, list[tuple[int, int]]] = {}
            first_day_start = datetime.combine(plan_days(engine)[0], clock_time(0), ZONE)
            for row in conn.execute(
                sa.select(Visit.engineer_id, WorkOrder.site_id, WorkOrder.asset_id)
                .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
                .where(
                    Visit.planned_start < first_day_start + timedelta(days=1),
                    Visit.engineer_id.in_(engineer_ids),
                )
                .order_by(Visit.engineer_id, Visit.planned_start)
            ):
                sites_by_engineer.setdefault(row.engineer_id, []).append((row.site_id, row.asset_id))
        jobs: list[JobSpec] = []
        for index, engineer_id in enumerate(engineer_ids):
            jobs += job_specs(
                engineer_id, index, site_specs(base, index), sites_by_engineer[engineer_id], days
            )
        jobs_in_bulk(system, jobs)


# ================================================================ servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str

    def cpu_seconds(self) -> float:
        try:
            p = psutil.Process(self.process.pid)
            procs = [p, *p.children(recursive=True)]
            return sum(sum(q.cpu_times()[:2]) for q in procs)
        except psutil.NoSuchProcess:
            return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(name: str, argv: list[str], env: dict[str, str], port: int, probe: str) -> Server:
    log(f"server: starting {name} on port {port}: {' '.join(argv[1:])}")
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=Path(__file__).resolve().parents[2])
    server = Server(name, process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} before it answered")
        try:
            if httpx.get(server.base_url + probe, timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} did not answer {probe} within 60 s")


def start_servers(database_url: str, data_dir: str) -> tuple[Server, Server]:
    app_port, hello_port = free_port(), free_port()
    app = start_server(
        "fieldops",
        [sys.executable, "-m", "fieldops.cli", "serve", "--port", str(app_port)],
        {
            "FIELDOPS_DATABASE_URL": database_url,
            "FIELDOPS_SECRET_KEY": SECRET,
            "FIELDOPS_DATA_DIR": data_dir,
            "FIELDOPS_LOG_LEVEL": "warning",  # no access log line per request
            "FIELDOPS_ACCESS_TOKEN_MINUTES": "240",
        },
        app_port,
        "/health",
    )
    hello = start_server(
        "hello",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "hello:app",
            "--app-dir",
            str(Path(__file__).parent),
            "--port",
            str(hello_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {},
        hello_port,
        "/hello",
    )
    return app, hello


# ================================================================ load


@dataclass
class SignedIn:
    engineer_id: int
    headers: dict[str, str]


@dataclass
class Row:
    endpoint: str
    concurrency: int
    duration: float
    seconds: float = 0.0  # wall time, including the last requests after `duration`
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    client_cpu: float = 0.0
    app_cpu: float = 0.0
    hello_cpu: float = 0.0
    postgres_cpu: float = 0.0
    machine_busy: float = 0.0
    ran_out: bool = False
    in_window: int = 0  # answered (200) before the row's time was up

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def rate(self) -> float:
        return self.in_window / self.duration

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class PoolEmpty(Exception):
    pass


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (all databases: other sessions' work shows up too)."""
    out: dict[int, float] = {}
    for p in psutil.process_iter(["name"]):
        if p.info["name"] in ("postgres", "postmaster"):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                out[p.pid] = float(sum(p.cpu_times()[:2]))
    return out


def postgres_cpu_since(before: dict[int, float]) -> float:
    """Backends that exited during the interval are lost; new ones count from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


async def drive(
    client: httpx.AsyncClient,
    endpoint: str,
    next_call: Callable[[], Call],
    concurrency: int,
    seconds: float,
    servers: tuple[Server, Server],
    record: bool = True,
) -> Row:
    row = Row(endpoint, concurrency, seconds)
    me = psutil.Process()
    cpu0 = (sum(me.cpu_times()[:2]), servers[0].cpu_seconds(), servers[1].cpu_seconds())
    pg0 = postgres_cpu()
    machine0 = psutil.cpu_times()
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            try:
                call = next_call()
            except PoolEmpty:
                row.ran_out = True
                return
            t = time.perf_counter()
            try:
                response = await asyncio.wait_for(call(client), REQUEST_TIMEOUT)
                ok = response.status_code == 200
                problem = "" if ok else f"{response.status_code} {response.text[:200]}"
            except (httpx.HTTPError, TimeoutError) as exc:
                ok, problem = False, f"{type(exc).__name__}: {exc}"
            if ok:
                done = time.perf_counter()
                row.latencies_ms.append((done - t) * 1000)
                row.in_window += done <= deadline
            else:
                row.errors += 1
                if len(row.error_samples) < 3:
                    row.error_samples.append(problem)

    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    # A server that stops answering must not stop the run: the row ends REQUEST_TIMEOUT after its time.
    _, stuck = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT + 5)
    for task in stuck:
        task.cancel()
        row.errors += 1
    if stuck and len(row.error_samples) < 3:
        row.error_samples.append(f"{len(stuck)} requests still unanswered at the end of the row")
    row.seconds = time.perf_counter() - start
    machine1 = psutil.cpu_times()
    busy = sum(machine1) - machine1.idle - machine1.iowait - (sum(machine0) - machine0.idle - machine0.iowait)
    cores = psutil.cpu_count() or 1
    row.machine_busy = busy / row.seconds / cores
    cpu1 = (sum(me.cpu_times()[:2]), servers[0].cpu_seconds(), servers[1].cpu_seconds())
    row.client_cpu, row.app_cpu, row.hello_cpu = (
        (b - a) / row.seconds for a, b in zip(cpu0, cpu1, strict=True)
    )
    row.postgres_cpu = postgres_cpu_since(pg0) / row.seconds
    if record:
        log(
            f"{endpoint:>9} c={concurrency:<4} {row.requests:>7} requests  {row.rate:8.1f}/s  "
            f"p50 {row.pct(0.5):7.2f} ms  p99 {row.pct(0.99):7.2f} ms  errors {row.errors}"
            + ("  (check-in pool ran out)" if row.ran_out else "")
        )
        for sample in row.error_samples:
            log(f"    error: {sample}")
    return row


async def sign_in_all(app: Server, n: int, concurrency: int) -> tuple[list[SignedIn], float]:
    """Every engineer signs in through the mobile API (argon2 verification: the server's slowest path)."""
    out: list[SignedIn | None] = [None] * n
    indices = iter(range(n))
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=app.base_url, timeout=60) as client:

        async def worker() -> None:
            for i in indices:
                r = await client.post(
                    "/mobile/v1/auth/token",
                    json={"username": username(i), "password": PASSWORD, "device_id": f"bench-{i}"},
                    headers={"X-App-Version": "bench/1.0"},
                )
                if r.status_code != 200:
                    raise SystemExit(f"sign-in of {username(i)} failed: {r.status_code} {r.text}")
                body = r.json()
                out[i] = SignedIn(body["engineer_id"], {"Authorization": f"Bearer {body['access_token']}"})
                done = sum(1 for x in out if x is not None)
                if done % 100 == 0 or done == n:
                    log(f"sign-in: {done}/{n} engineers")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    signed = [e for e in out if e is not None]
    return signed, time.perf_counter() - t0


@dataclass(frozen=True, slots=True)
class PoolVisit:
    visit_id: int
    engineer_id: int
    lat: float
    lon: float


def checkin_pool(engine: sa.Engine, engineer_ids: Sequence[int]) -> Iterator[PoolVisit]:
    """Every engineer's next assigned visit, round-robin: all engineers' next, then all their next…"""
    per: dict[int, list[PoolVisit]] = {e: [] for e in engineer_ids}
    with engine.connect() as conn:
        for r in conn.execute(
            sa.select(Visit.id, Visit.engineer_id, Site.lat, Site.lon)
            .join(WorkOrder, WorkOrder.id == Visit.work_order_id)
            .join(Site, Site.id == WorkOrder.site_id)
            .where(Visit.status == VisitStatus.ASSIGNED, Visit.engineer_id.in_(engineer_ids))
            .order_by(Visit.planned_start, Visit.id)
        ):
            per[r.engineer_id].append(PoolVisit(r.id, r.engineer_id, r.lat, r.lon))
    for wave in itertools.zip_longest(*per.values()):
        yield from (v for v in wave if v is not None)


async def run_load(
    app: Server,
    hello: Server,
    signed: list[SignedIn],
    pool: Iterator[PoolVisit],
    on: date,
    concurrencies: Sequence[int],
    seconds: float,
    warmup: float,
) -> list[Row]:
    rows: list[Row] = []
    by_engineer = {e.engineer_id: e for e in signed}
    turn = itertools.cycle(signed)

    def hello_call() -> Call:
        return lambda c: c.get(hello.base_url + "/hello")

    def today_call() -> Call:
        e = next(turn)
        url = f"{app.base_url}/mobile/v1/visits?date={on.isoformat()}"
        return lambda c: c.get(url, headers=e.headers)

    def checkin_call() -> Call:
        v = next(pool, None)
        if v is None:
            raise PoolEmpty
        headers = {
            **by_engineer[v.engineer_id].headers,
            "Idempotency-Key": str(uuid.uuid4()),
            "X-App-Version": "bench/1.0",
        }
        url = f"{app.base_url}/mobile/v1/visits/{v.visit_id}/check-in"

        def call(c: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            body = {
                "occurred_at": datetime.now(UTC).isoformat(),
                "lat": v.lat + 0.0001,  # ~11 m north: inside the 200 m geofence
                "lon": v.lon,
                "accuracy_m": 12.0,
            }
            return c.post(url, json=body, headers=headers)

        return call

    endpoints: list[tuple[str, Callable[[], Call]]] = [
        ("hello", hello_call),
        ("today", today_call),
        ("check-in", checkin_call),
    ]
    servers = (app, hello)
    for concurrency in concurrencies:
        # uvicorn closes a connection idle for 5 s; httpx keeps one 5 s too, so a request sent just as the
        # server closes it failed with a ReadError (seen at concurrency 200). Drop idle ones sooner.
        limits = httpx.Limits(
            max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
        )
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            for name, make in endpoints:
                if warmup > 0:
                    await drive(client, name, make, concurrency, warmup, servers, record=False)
                rows.append(await drive(client, name, make, concurrency, seconds, servers))
    return rows


def table(rows: Sequence[Row]) -> str:
    hello_rate = {r.concurrency: r.rate for r in rows if r.endpoint == "hello"}
    lines = [
        "| endpoint | concurrency | requests | req/s | p50 ms | p99 ms | errors | req/s ÷ hello "
        "| load gen CPU | app CPU | hello CPU | postgres CPU | machine busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.rate / hello_rate[r.concurrency] if hello_rate.get(r.concurrency) else math.nan
        lines.append(
            f"| {r.endpoint}{' ¹' if r.ran_out else ''} | {r.concurrency} | {r.requests:,} | {r.rate:,.0f} "
            f"| {r.pct(0.5):.1f} | {r.pct(0.99):.1f} | {r.errors} | {ratio:.2f}× "
            f"| {r.client_cpu:.0%} | {r.app_cpu:.0%} | {r.hello_cpu:.0%} | {r.postgres_cpu:.0%} "
            f"| {r.machine_busy:.0%} |"
        )
    if any(r.ran_out for r in rows):
        lines.append("\n¹ the check-in pool ran out before the end of the row")
    return "\n".join(lines)


# ================================================================ main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--engineers", type=int, default=500)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per row")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of unmeasured load before each row"
    )
    parser.add_argument("--concurrency", default="50,200", help="comma-separated, e.g. 50,200")
    parser.add_argument("--sign-in-concurrency", type=int, default=8)
    parser.add_argument(
        "--max-rate", type=float, default=600.0, help="check-ins/s the visit pool is sized for (no resets)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the data of a previous run if it fits")
    parser.add_argument("--smoke", action="store_true", help="20 engineers, 3 s rows, concurrency 20 (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.engineers, args.duration, args.warmup, args.concurrency = 20, 3.0, 0.5, "20"
        args.max_rate = min(args.max_rate, 400.0)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.engineers < 2:
        parser.error("--engineers must be at least 2")

    t_start = time.perf_counter()
    data_dir = tempfile.mkdtemp(prefix="fieldops-bench-mobile-")
    engine = make_engine(args.database_url)
    # One instant for all the seeding: the use cases and the bulk rows then compute the same SLA targets,
    # even outside business hours (where respond_by - created_at depends on the exact second).
    clock = FixedClock(datetime.now(UTC))
    system = build_system(Settings(secret_key=SECRET, data_dir=data_dir), clock=clock, engine=engine)
    engineer_ids: list[int] = []
    if args.reuse:
        try:
            engineer_ids = bench_engineers(engine)
        except sa.exc.ProgrammingError:
            engineer_ids = []
        if len(engineer_ids) == args.engineers:
            upgrade(engine)
            base = load_base(engine)
            log(f"seed: reusing {len(engineer_ids)} engineers in {engine.url.database}")
        else:
            log(
                f"seed: --reuse, but the database has {len(engineer_ids)} bench engineers, "
                f"not {args.engineers}: seeding afresh"
            )
            engineer_ids = []
    if not engineer_ids:
        base, engineer_ids = seed(system, args.engineers)
    need = math.ceil(args.max_rate * (args.duration + args.warmup) * len(concurrencies) / args.engineers)
    fewest = ensure_pool(system, base, engineer_ids, need)
    on, last = plan_days(engine)
    with engine.connect() as conn:
        n_visits = conn.scalar(sa.select(sa.func.count()).select_from(Visit))
        conn.execute(sa.text("ANALYZE"))
    log(
        f"data: {args.engineers} engineers, {n_visits:,} visits {on}…{last}; at least {fewest} still "
        f"assigned per engineer (pool for {args.max_rate:.0f} check-ins/s); 'today' asks for {on}"
    )
    pool = checkin_pool(engine, engineer_ids)
    engine.dispose()

    app, hello = start_servers(args.database_url, data_dir)
    try:
        signed, sign_in_seconds = asyncio.run(sign_in_all(app, args.engineers, args.sign_in_concurrency))
        log(
            f"sign-in: {len(signed)} engineers in {sign_in_seconds:.1f} s "
            f"({len(signed) / sign_in_seconds:.1f}/s)"
        )
        rows = asyncio.run(run_load(app, hello, signed, pool, on, concurrencies, args.duration, args.warmup))
    finally:
        app.stop()
        hello.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"\n{args.engineers} engineers, {n_visits:,} visits; {args.duration:g} s per row "
        f"after {args.warmup:g} s "
        f"warm-up; fieldops serve (1 uvicorn worker) and hello (1 worker) on {psutil.cpu_count()} CPUs "
        f"shared with the load generator and PostgreSQL; sign-in of all engineers: "
        f"{sign_in_seconds:.1f} s ({len(signed) / sign_in_seconds:.1f}/s, "
        f"concurrency {args.sign_in_concurrency})\n"
    )
    print(table(rows))
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    if any(r.errors for r in rows) or any(r.ran_out for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
