"""A dispatcher's morning for the console's browser tests: a handful of engineers with shifts, sites around
Shanghai, work planned through the API at various stages, and a queue. Everything goes through the same
API and services as in production; only the numbers are made up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from core.services import customers, engineers
from core.services.context import Actor, ServiceContext
from tests.world import World

NAMES = ("陈师傅", "刘工", "Zhang Wei", "赵工", "孙师傅")
SITES = (
    ("陆家嘴中心", 31.2397, 121.4998),
    ("徐家汇商场", 31.1950, 121.4370),
    ("虹桥枢纽", 31.1940, 121.3200),
    ("张江园区", 31.2040, 121.5900),
    ("静安寺广场", 31.2230, 121.4460),
    ("五角场", 31.3000, 121.5130),
    ("世博园", 31.1860, 121.4900),
    ("七宝古镇", 31.1560, 121.3520),
)
TITLES = (
    "冷水机组高压报警",
    "空调不制冷",
    "电梯异响",
    "配电柜跳闸",
    "例行保养",
    "冷却塔风机振动",
    "新风机组漏水",
)


@dataclass
class Scene:
    engineers: list[int] = field(default_factory=list)
    sites: list[int] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)


def build_scene(client: TestClient, headers: dict[str, str], world: World, start: datetime) -> Scene:
    scene = Scene(engineers=[world.ids["engineer"]])
    ctx = world.ctx()
    with ctx.session as s:
        c = ServiceContext(s, ctx.clock, Actor.system("scene"))
        for i, name in enumerate(NAMES):
            scene.engineers.append(
                engineers.create_engineer(
                    c,
                    engineers.EngineerInput(
                        name=name,
                        territory_id=world.ids["territory"],
                        home_lat=31.15 + 0.03 * i,
                        home_lon=121.35 + 0.05 * i,
                        skills=[engineers.SkillLevel("hvac", 3), engineers.SkillLevel("electrical", 2)],
                        shifts=[
                            engineers.Shift(weekday=d, start="08:00", end="17:00", break_minutes=45)
                            for d in range(6)
                        ],
                    ),
                ).id
            )
        for name, lat, lon in SITES:
            scene.sites.append(
                customers.create_site(
                    c,
                    customers.SiteInput(
                        customer_id=world.ids["customer"],
                        territory_id=world.ids["territory"],
                        name=name,
                        address=f"上海市 {name}",
                        lat=lat,
                        lon=lon,
                    ),
                ).id
            )
    steps = {0: [], 1: ["accepted"], 2: ["accepted", "en_route"], 3: ["accepted", "en_route", "on_site"]}
    for n in range(14):
        site = scene.sites[n % len(scene.sites)]
        wo = client.post(
            "/work-orders",
            headers=headers,
            json={"title": TITLES[n % len(TITLES)], "site_id": site, "priority": f"P{1 + n % 4}"},
        )
        assert wo.status_code == 201, wo.text
        wo_id = wo.json()["id"]
        if n >= 10:
            scene.queued.append(wo_id)
            continue
        engineer = scene.engineers[1 + n % (len(scene.engineers) - 1)]
        at = start + timedelta(minutes=30 + 150 * (n // (len(scene.engineers) - 1)) + 20 * (n % 3))
        visit = client.post(
            f"/work-orders/{wo_id}/visits",
            headers=headers,
            json={
                "engineer_id": engineer,
                "planned_start": at.isoformat(),
                "planned_end": (at + timedelta(minutes=60)).isoformat(),
                "dispatch": True,
            },
        )
        assert visit.status_code == 201, visit.text
        for to in steps[n % 4] if n < 5 else []:
            moved = client.post(f"/visits/{visit.json()['id']}/transitions", json={"to": to}, headers=headers)
            assert moved.status_code == 200, moved.text
        scene.planned.append(
            {"work_order_id": wo_id, "visit_id": visit.json()["id"], "engineer_id": engineer}
        )
    return scene
