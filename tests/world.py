"""A small, explicit world for tests: one Shanghai territory, skills, SLA policies, people and places."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar.testing import TestClient

from core.services import customers, engineers, setup, users
from core.services.context import Actor, Role, ServiceContext
from fieldops.wiring import System

SHANGHAI_CALENDAR: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "week": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2027-01-01"],
    "extra_workdays": {},
}
PASSWORD = "correct-horse-battery"


@dataclass
class World:
    system: System
    ids: dict[str, int] = field(default_factory=dict)

    def ctx(self) -> ServiceContext:
        rt = self.system.runtime
        return ServiceContext(rt.sessions(), rt.clock, Actor.system("test-setup"))


def build_world(system: System) -> World:
    world = World(system)
    ids = world.ids
    with world.ctx().session as s:
        ctx = ServiceContext(s, system.runtime.clock, Actor.system("test-setup"))
        ids["territory"] = setup.create_territory(
            ctx, setup.TerritoryInput(name="上海", calendar=SHANGHAI_CALENDAR)
        ).id
        ids["territory_b"] = setup.create_territory(
            ctx, setup.TerritoryInput(name="Beijing", calendar={**SHANGHAI_CALENDAR})
        ).id
        for code, name in (("hvac", "Chiller / HVAC"), ("lift", "Lifts"), ("electrical", "Electrical")):
            setup.create_skill(ctx, setup.SkillInput(code=code, name=name))
        for tier, base in (("standard", 240), ("gold", 60)):
            for priority in range(1, 5):
                setup.put_sla_policy(
                    ctx,
                    setup.SlaPolicyInput(
                        tier=tier,
                        priority=priority,
                        response_minutes=base * priority,
                        resolution_minutes=base * priority * 4,
                        around_the_clock=tier == "gold" and priority == 1,
                    ),
                )
        ids["model"] = setup.create_asset_model(
            ctx, setup.AssetModelInput(code="CH-500", name="Chiller 500 kW", category="chiller")
        ).id
        ids["customer"] = customers.create_customer(
            ctx, customers.CustomerInput(code="C1", name="上海中心大厦")
        ).id
        ids["customer_b"] = customers.create_customer(
            ctx, customers.CustomerInput(code="C2", name="Acme Pumps")
        ).id
        ids["gold_contract"] = customers.create_contract(
            ctx,
            customers.ContractInput(
                customer_id=ids["customer"],
                number="K-1",
                tier="gold",
                starts_on=date(2026, 1, 1),
                ends_on=date(2027, 12, 31),
                priority_floor=2,
            ),
        ).id
        ids["site"] = customers.create_site(
            ctx,
            customers.SiteInput(
                customer_id=ids["customer"],
                territory_id=ids["territory"],
                name="Tower",
                address="陆家嘴银城中路501号",
                lat=31.2335,
                lon=121.5055,
            ),
        ).id
        ids["site_b"] = customers.create_site(
            ctx,
            customers.SiteInput(
                customer_id=ids["customer_b"],
                territory_id=ids["territory"],
                name="Plant",
                address="Songjiang",
                lat=31.0300,
                lon=121.2270,
            ),
        ).id
        ids["asset"] = customers.create_asset(
            ctx,
            customers.AssetInput(
                site_id=ids["site"],
                asset_model_id=ids["model"],
                serial="SN-001",
                contract_id=ids["gold_contract"],
            ),
        ).id
        ids["engineer"] = engineers.create_engineer(
            ctx,
            engineers.EngineerInput(
                name="王工",
                territory_id=ids["territory"],
                home_lat=31.22,
                home_lon=121.48,
                skills=[engineers.SkillLevel("hvac", 4), engineers.SkillLevel("electrical", 2)],
                shifts=[
                    engineers.Shift(weekday=d, start="08:30", end="17:30", break_minutes=60) for d in range(5)
                ],
            ),
        ).id
        ids["engineer_b"] = engineers.create_engineer(
            ctx,
            engineers.EngineerInput(
                name="Li",
                territory_id=ids["territory"],
                home_lat=31.03,
                home_lon=121.23,
                skills=[engineers.SkillLevel("lift", 3)],
            ),
        ).id
        accounts: tuple[tuple[str, Role, dict[str, Any]], ...] = (
            ("admin", Role.ADMIN, {}),
            ("dispatcher", Role.DISPATCHER, {}),
            ("engineer", Role.ENGINEER, {"engineer_id": ids["engineer"]}),
            ("engineer_b", Role.ENGINEER, {"engineer_id": ids["engineer_b"]}),
            ("customer", Role.CUSTOMER, {"customer_id": ids["customer"]}),
        )
        for username, role, extra in accounts:
            users.create_user(ctx, users.UserInput(username=username, password=PASSWORD, role=role, **extra))
    return world


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
