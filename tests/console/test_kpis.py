"""KPIs from real work: two jobs carried through the API on a controlled clock, a survey answered, and the
figures checked by hand (times, first-time fix, SLA, utilisation, travel share, CSAT) on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from tests.world import World, login


def _work_order(client: TestClient, headers: dict[str, str], world: World, title: str) -> dict[str, Any]:
    r = client.post(
        "/work-orders",
        headers=headers,
        json={"title": title, "site_id": world.ids["site"], "asset_id": world.ids["asset"], "priority": "P1"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _step(client: TestClient, headers: dict[str, str], visit_id: int, to: str) -> None:
    r = client.post(f"/visits/{visit_id}/transitions", json={"to": to}, headers=headers)
    assert r.status_code == 200, r.text


def test_kpis_from_real_jobs(
    client: TestClient, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    fixed = _work_order(client, as_dispatcher, world, "冷机不制冷")
    late = _work_order(client, as_dispatcher, world, "电梯异响")
    start = clock.now()
    r = client.post(
        f"/work-orders/{fixed['id']}/visits",
        headers=as_dispatcher,
        json={
            "engineer_id": world.ids["engineer"],
            "planned_start": (start + timedelta(minutes=30)).isoformat(),
            "planned_end": (start + timedelta(minutes=90)).isoformat(),
            "dispatch": True,
        },
    )
    assert r.status_code == 201, r.text
    visit = r.json()["id"]
    # Accepted at +5, en route at +10, on site at +40 (30 min travel), done at +100 (60 min), signed at +105.
    for minutes, to in (
        (5, "accepted"),
        (5, "en_route"),
        (30, "on_site"),
        (60, "work_done"),
        (5, "signed_off"),
    ):
        clock.advance(timedelta(minutes=minutes))
        _step(client, as_dispatcher, visit, to)

    admin = login(client, "admin")
    invited = client.post(
        "/surveys/invitations",
        headers=admin,
        json={"work_order_id": fixed["id"], "contact_email": "zhang@example.com", "send": False},
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["url"].rsplit("/", 1)[-1]
    assert client.post(f"/surveys/{token}", json={"score": 5}).status_code == 201

    # A week on: the second job is still open, long past its resolution target.
    clock.advance(timedelta(days=7))
    due = client.get(f"/work-orders/{late['id']}", headers=as_dispatcher).json()["sla"]["resolve_by"]
    assert due is not None

    q = {"from": "2026-11-23", "to": "2026-12-06", "bucket": "week", "group_by": "engineer"}
    r = client.get("/kpis", params=q, headers=as_dispatcher)
    assert r.status_code == 200, r.text
    k = r.json()
    t = k["totals"]
    assert t["first_response_minutes"] == 40.0
    assert t["mttr_minutes"] == 105.0
    assert t["first_time_fix_rate"] == 1.0
    assert t["sla_attainment"] == 0.5 and t["counts"]["sla_due"] == 2
    # 王工 works 08:30–17:30 with an hour's break, Monday to Friday: 480 min a day, 10 days in the period.
    assert t["counts"]["available_minutes"] == 4800
    assert t["utilisation"] == pytest.approx(60 / 4800, abs=1e-4)
    assert t["travel_share"] == pytest.approx(30 / 90, abs=1e-4)
    assert t["csat"] == 1.0 and t["csat_mean"] == 5.0
    assert [s["start"] for s in k["series"]] == ["2026-11-23", "2026-11-30"]
    assert k["series"][0]["mttr_minutes"] == 105.0 and k["series"][1]["mttr_minutes"] is None
    by_name = {g["name"]: g for g in k["groups"]}
    assert by_name["王工"]["mttr_minutes"] == 105.0 and by_name["王工"]["csat"] == 1.0
    assert by_name["王工"]["first_response_minutes"] == 40.0
    # The overdue job has nobody who fixed it: it counts under no engineer.
    assert by_name["—"]["sla_attainment"] == 0.0

    daily = client.get(
        "/kpis",
        params={"from": "2026-11-23", "to": "2026-11-23", "group_by": "territory"},
        headers=as_dispatcher,
    ).json()
    assert [g["id"] for g in daily["groups"]] == [world.ids["territory"]]
    assert daily["totals"]["utilisation"] == pytest.approx(60 / 480, abs=1e-4)


def test_bad_kpi_queries_name_the_field(
    client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    backwards = client.get("/kpis", params={"from": "2026-11-23", "to": "2026-11-01"}, headers=as_dispatcher)
    assert backwards.status_code == 422
    assert backwards.headers["content-type"].startswith("application/problem+json")
    assert backwards.json()["field"] == "to"
    too_long = client.get("/kpis", params={"from": "2025-01-01", "to": "2026-11-01"}, headers=as_dispatcher)
    assert too_long.status_code == 422 and too_long.json()["field"] == "to"
    bucket = client.get(
        "/kpis", params={"from": "2026-11-01", "to": "2026-11-02", "bucket": "hour"}, headers=as_dispatcher
    )
    assert bucket.status_code == 400 and "bucket" in bucket.text
    assert (
        client.get(
            "/kpis", params={"from": "2026-11-01", "to": "2026-11-02"}, headers=login(client, "engineer")
        ).status_code
        == 403
    )
