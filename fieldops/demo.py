"""The demo data set: a Shanghai service company's customers, engineers and a week of work orders.

Deterministic (seeded), loaded through the same use cases as real data, so it obeys every rule.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

import msgspec
import sqlalchemy as sa

from core.domain.lifecycle import VisitStatus, WorkOrderStatus
from core.domain.workorders import Kind, Priority, Source
from core.services import customers, engineers, setup, users, visits, workorders
from core.services.context import Actor, Role, ServiceContext
from core.store.models import Engineer, User
from fieldops.wiring import System

WORKDAY = [["09:00", "12:00"], ["13:00", "18:00"]]
SHANGHAI = {
    "timezone": "Asia/Shanghai",
    "week": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WORKDAY),
    # 2027 New Year and Spring Festival; 2027-02-20 (a Saturday) is a make-up working day (调休).
    "holidays": ["2027-01-01", *[f"2027-02-{d:02d}" for d in range(6, 13)]],
    "extra_workdays": {"2027-02-20": WORKDAY},
}
DEMO_PASSWORDS = {"admin": "admin-demo", "dispatcher": "dispatcher-demo", "engineer": "engineer-demo"}

SKILLS = {
    "hvac": "Chillers & HVAC / 冷水机组与暖通",
    "lift": "Lifts & escalators / 电梯与扶梯",
    "pump": "Pumps / 水泵",
    "electrical": "Electrical / 电气",
    "printer": "Industrial printers / 工业打印机",
}
MODELS = [
    ("CH-500", "Chiller 500 kW / 500千瓦冷水机组", "chiller", "Haier", "hvac"),
    ("LF-1000", "Passenger lift 1000 kg / 客梯", "lift", "Shanghai Mitsubishi", "lift"),
    ("PM-75", "Booster pump 75 kW / 增压泵", "pump", "Grundfos", "pump"),
    ("PR-9", "Label printer PR-9 / 标签打印机", "printer", "Zebra", "printer"),
]
CUSTOMERS = [
    ("SHC", "上海中心大厦物业", "gold"),
    ("HQM", "虹桥美罗商场", "gold"),
    ("PDH", "浦东第一人民医院", "silver"),
    ("JAF", "静安食品厂", "silver"),
    ("XJL", "徐家汇写字楼", "bronze"),
    ("ACM", "Acme Logistics Shanghai", "bronze"),
    ("MLP", "闵行药业", "standard"),
    ("YPW", "杨浦水务", "standard"),
]
ENGINEERS = [
    ("王建国", {"hvac": 5, "electrical": 3}),
    ("李娜", {"lift": 4, "electrical": 2}),
    ("张伟", {"pump": 4, "hvac": 2}),
    ("刘洋", {"printer": 3, "electrical": 2}),
    ("陈静", {"hvac": 3, "pump": 2}),
    ("杨帆", {"lift": 5}),
    ("赵磊", {"electrical": 5, "hvac": 2}),
    ("Chen Mei", {"printer": 4, "pump": 2}),
    ("周杰", {"hvac": 4, "lift": 2}),
    ("吴敏", {"pump": 3, "electrical": 3}),
]
DISTRICTS = ["浦东新区", "静安区", "徐汇区", "长宁区", "闵行区", "杨浦区"]
SLA = {"gold": (60, 240), "silver": (120, 480), "bronze": (240, 960), "standard": (480, 1920)}
PROBLEMS = [
    ("冷水机组排气温度过高", "Discharge temperature high on chiller", "hvac"),
    ("电梯门反复开关", "Lift door cycling", "lift"),
    ("水泵振动异常", "Pump vibration above normal", "pump"),
    ("打印机卡纸报错", "Printer jam error E42", "printer"),
    ("配电柜跳闸", "Distribution board tripping", "electrical"),
    ("年度预防性维护", "Annual preventive maintenance", "hvac"),
]


def load_demo(system: System, *, force: bool = False, echo: Callable[[str], None] = print) -> bool:
    """Load the demo data unless the database already has users. Returns whether it loaded."""
    rt = system.runtime
    with rt.sessions() as session:
        if not force and session.scalar(sa.select(sa.func.count()).select_from(User)):
            echo("demo: the database already has data; leaving it as it is")
            return False
        ctx = ServiceContext(session, rt.clock, Actor.system("demo"))
        rng = random.Random(20261122)
        _load(ctx, rng, echo)
        from fieldops.features import seed_feature_demos

        seed_feature_demos(system, ctx, echo)
    echo(
        "demo: sign in as dispatcher / dispatcher-demo "
        "(admin / admin-demo; engineers eng1…eng10 / engineer-demo)"
    )
    return True


def _load(ctx: ServiceContext, rng: random.Random, echo: Callable[[str], None]) -> None:
    today = ctx.now().date()
    echo("demo: territories, skills, SLA policies, asset models")
    shanghai = setup.create_territory(ctx, setup.TerritoryInput(name="上海 Shanghai", calendar=SHANGHAI))
    for code, name in SKILLS.items():
        setup.create_skill(ctx, setup.SkillInput(code=code, name=name))
    for tier, (respond, resolve) in SLA.items():
        for priority in range(1, 5):
            scale = {1: 1, 2: 2, 3: 4, 4: 8}[priority]
            setup.put_sla_policy(
                ctx,
                setup.SlaPolicyInput(
                    tier=tier,
                    priority=priority,
                    response_minutes=respond * scale,
                    resolution_minutes=resolve * scale,
                    around_the_clock=tier == "gold" and priority <= 2,
                ),
            )
    models = [
        (
            setup.create_asset_model(
                ctx, setup.AssetModelInput(code=c, name=n, category=cat, manufacturer=mf)
            ),
            skill,
        )
        for c, n, cat, mf, skill in MODELS
    ]
    _fieldwork_setup(ctx)

    echo("demo: customers, contracts, sites, assets")
    assets = []
    for code, name, tier in CUSTOMERS:
        customer = customers.create_customer(ctx, customers.CustomerInput(code=code, name=name))
        contract = None
        if tier != "standard":
            contract = customers.create_contract(
                ctx,
                customers.ContractInput(
                    customer_id=customer.id,
                    number=f"SA-{code}-2026",
                    tier=tier,
                    starts_on=date(today.year, 1, 1),
                    ends_on=date(today.year + 1, 12, 31),
                    covers_parts=tier == "gold",
                    priority_floor=2 if tier == "gold" else None,
                ),
            )
        for n in range(rng.randint(2, 3)):
            site = customers.create_site(
                ctx,
                customers.SiteInput(
                    customer_id=customer.id,
                    territory_id=shanghai.id,
                    name=f"{name} #{n + 1}",
                    address=f"上海市 {rng.choice(DISTRICTS)}",
                    lat=round(31.23 + rng.uniform(-0.15, 0.15), 5),
                    lon=round(121.47 + rng.uniform(-0.2, 0.2), 5),
                    access_notes=rng.choice(
                        [None, "地下二层机房，找物业王师傅开门", "Badge at reception; loading dock B"]
                    ),
                ),
            )
            for _ in range(rng.randint(1, 3)):
                model, skill = rng.choice(models)
                assets.append(
                    (
                        customers.create_asset(
                            ctx,
                            customers.AssetInput(
                                site_id=site.id,
                                asset_model_id=model.id,
                                serial=f"{model.code}-{rng.randint(10000, 99999)}",
                                contract_id=contract.id if contract else None,
                                installed_on=today - timedelta(days=rng.randint(200, 3000)),
                                warranty_ends_on=today + timedelta(days=rng.randint(-400, 700)),
                            ),
                        ),
                        skill,
                    )
                )

    echo("demo: engineers and their accounts")
    crew = []
    for i, (name, skills) in enumerate(ENGINEERS, start=1):
        engineer = engineers.create_engineer(
            ctx,
            engineers.EngineerInput(
                name=name,
                territory_id=shanghai.id,
                home_lat=round(31.23 + rng.uniform(-0.12, 0.12), 5),
                home_lon=round(121.47 + rng.uniform(-0.15, 0.15), 5),
                skills=[engineers.SkillLevel(s, lvl) for s, lvl in skills.items()],
                shifts=[
                    engineers.Shift(weekday=d, start="08:30", end="17:30", break_minutes=60) for d in range(5)
                ],
                phone=f"+86 138 0000 {i:04d}",
            ),
        )
        crew.append(engineer)
        users.create_user(
            ctx,
            users.UserInput(
                username=f"eng{i}",
                password=DEMO_PASSWORDS["engineer"],
                role=Role.ENGINEER,
                display_name=name,
                engineer_id=engineer.id,
            ),
        )
    users.create_user(
        ctx,
        users.UserInput(
            username="admin", password=DEMO_PASSWORDS["admin"], role=Role.ADMIN, display_name="管理员 Admin"
        ),
    )
    users.create_user(
        ctx,
        users.UserInput(
            username="dispatcher",
            password=DEMO_PASSWORDS["dispatcher"],
            role=Role.DISPATCHER,
            display_name="调度员 Dispatcher",
        ),
    )

    echo("demo: work orders")
    for n in range(40):
        asset, skill = rng.choice(assets)
        zh, en, problem_skill = rng.choice([p for p in PROBLEMS if p[2] == skill] or PROBLEMS)
        wo = workorders.create_work_order(
            ctx,
            workorders.WorkOrderInput(
                title=f"{zh} / {en}",
                site_id=asset.site_id,
                asset_id=asset.id,
                source=rng.choice(
                    [Source.PHONE, Source.EMAIL, Source.PORTAL, Source.TELEMETRY, Source.MANUAL]
                ),
                kind=Kind.PREVENTIVE if "维护" in zh else Kind.CORRECTIVE,
                priority=rng.choice([Priority.P1, Priority.P2, Priority.P3, Priority.P3, Priority.P4]),
                estimated_minutes=rng.choice([45, 60, 90, 120]),
                required_skills=[workorders.SkillRequirement(problem_skill, rng.randint(1, 3))],
            ),
        )
        _advance(ctx, wo.id, problem_skill, crew, rng, n)


def _advance(
    ctx: ServiceContext, wo_id: int, skill: str, crew: list[Engineer], rng: random.Random, n: int
) -> None:
    """Move some work orders along so the board shows every state."""
    stage = n % 5
    if stage == 0:
        return
    qualified = [e for e in crew if any(s.skill_code == skill and s.level >= 3 for s in e.skills)]
    if not qualified:
        return
    engineer = rng.choice(qualified)
    start = ctx.now() + timedelta(hours=rng.randint(1, 8))
    visit = visits.assign(
        ctx,
        wo_id,
        visits.AssignInput(
            engineer_id=engineer.id,
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            dispatch=stage >= 2,
        ),
        None,
    )
    if stage >= 3:
        visits.transition_visit(ctx, visit.id, VisitStatus.ACCEPTED)
        visits.transition_visit(ctx, visit.id, VisitStatus.EN_ROUTE)
    if stage >= 4:
        visits.transition_visit(ctx, visit.id, VisitStatus.ON_SITE)
        if n % 2:
            workorders.transition_work_order(
                ctx, wo_id, WorkOrderStatus.ON_HOLD, "等待客户确认备件 / waiting for parts", None
            )


def _fieldwork_setup(ctx: ServiceContext) -> None:
    """What finishing a job needs: the labour rates and a checklist for preventive maintenance."""
    from decimal import Decimal

    from fieldwork import checklists
    from fieldwork.models import RateCard

    ctx.session.add(
        RateCard(
            currency="CNY",
            call_out_fee=Decimal("150.00"),
            hourly_rate=Decimal("320.00"),
            travel_hourly_rate=Decimal("120.00"),
            increment_minutes=15,
            minimum_minutes=30,
        )
    )
    items = [
        {
            "key": "power_isolated",
            "label": "Power isolated before work",
            "label_zh": "作业前已断电挂牌",
            "type": "yes_no",
            "required": True,
        },
        {
            "key": "filters",
            "label": "Filters",
            "label_zh": "滤网状况",
            "type": "choice",
            "options": ["clean", "cleaned", "replaced"],
            "required": True,
        },
        {
            "key": "reading",
            "label": "Main reading after service",
            "label_zh": "保养后主要读数",
            "type": "number",
            "required": False,
        },
        {"key": "advice", "label": "Advice to the customer", "label_zh": "给客户的建议", "type": "text"},
    ]
    checklists.save_template(
        ctx,
        msgspec.convert(
            {"name": "Preventive maintenance / 预防性维护", "kind": "preventive", "items": items},
            checklists.TemplateInput,
        ),
    )
