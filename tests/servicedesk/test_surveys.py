"""Surveys: signed single-use expiring links, throttling, exact NPS/CSAT/CES, the survey.answered event."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from core.store.models import OutboxEvent
from fieldops.wiring import System
from tests.servicedesk.conftest import Sink
from tests.world import World, login


def _work_order(client: TestClient, admin: dict[str, str]) -> int:
    r = client.post(
        "/intake/phone",
        json={"caller_phone": "1", "summary": "报警", "asset_serial": "SN-001"},
        headers=admin,
    )
    return int(r.json()["work_order_id"])


def _invite(client: TestClient, admin: dict[str, str], wo: int, email: str, kind: str = "csat") -> str:
    r = client.post(
        "/surveys/invitations",
        json={"work_order_id": wo, "contact_email": email, "kind": kind},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["url"]).rsplit("/surveys/", 1)[1]


def test_a_link_is_answered_once_and_emits_the_event(
    desk: World, client: TestClient, system: System, sink: tuple[Sink, int]
) -> None:
    admin = login(client, "admin")
    wo = _work_order(client, admin)
    token = _invite(client, admin, wo, "zhang@shanghai-tower.example")
    assert token in sink[0].messages[-1].get_content()
    form = client.get(f"/surveys/{token}")
    assert form.status_code == 200 and form.json()["max"] == 5
    assert client.post(f"/surveys/{token}", json={"score": 6}).status_code == 422
    first = client.post(f"/surveys/{token}", json={"score": 4, "comment": "准时"})
    assert first.status_code == 201
    again = client.post(f"/surveys/{token}", json={"score": 5})
    assert again.status_code == 410 and again.json()["type"].endswith("survey-link-gone")
    with system.runtime.sessions() as s:
        [evt] = s.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "survey.answered"))
    assert evt.data == {
        "work_order_id": wo,
        "customer_id": desk.ids["customer"],
        "rating": 4,
        "comment": "准时",
        "source": "survey",
        "kind": "csat",
        "score": 4,
    }
    forged = token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    assert client.get(f"/surveys/{forged}").status_code == 404


def test_links_expire_and_contacts_are_throttled(desk: World, client: TestClient, clock: FixedClock) -> None:
    admin = login(client, "admin")
    wo = _work_order(client, admin)
    token = _invite(client, admin, wo, "a@x.example")
    again = client.post(
        "/surveys/invitations", json={"work_order_id": wo, "contact_email": "A@x.example"}, headers=admin
    )
    assert again.status_code == 409
    clock.advance(timedelta(days=15))
    assert client.post(f"/surveys/{token}", json={"score": 5}).status_code == 410
    clock.advance(timedelta(days=16))
    _invite(client, admin, wo, "a@x.example")  # past the 30-day throttle


def test_scores_equal_a_hand_computed_fixture(desk: World, client: TestClient) -> None:
    admin = login(client, "admin")
    wo = _work_order(client, admin)
    nps = [10, 9, 9, 8, 7, 6, 3, 10, 0, 9, 5]  # 5 promoters, 2 passives, 4 detractors of 11
    csat = [5, 4, 3, 5, 1, 4]
    ces = [7, 6, 2]
    for kind, answers in (("nps", nps), ("csat", csat), ("ces", ces)):
        for i, score in enumerate(answers):
            token = _invite(client, admin, wo, f"{kind}{i}@x.example", kind)
            assert client.post(f"/surveys/{token}", json={"score": score}).status_code == 201
    rows = {r["kind"]: r for r in client.get("/surveys/scores", headers=admin).json()}
    assert rows["nps"]["promoters"] == 5 and rows["nps"]["passives"] == 2 and rows["nps"]["detractors"] == 4
    assert rows["nps"]["nps"] == 100 * (5 - 4) / 11
    assert rows["csat"]["satisfied_pct"] == 100 * 4 / 6 and rows["csat"]["average"] == 22 / 6
    assert rows["ces"]["easy_pct"] == 100 * 2 / 3
    by_channel = client.get("/surveys/scores", params={"by": "channel"}, headers=admin).json()
    assert {r["channel"] for r in by_channel} == {"phone"}
    assert client.get("/surveys/scores", headers=login(client, "engineer")).status_code == 403


def test_scores_by_team_and_week(desk: World, client: TestClient, clock: FixedClock) -> None:
    admin = login(client, "admin")
    assigned = _work_order(client, admin)
    engineer = {"engineer_id": desk.ids["engineer"]}
    r = client.post(f"/work-orders/{assigned}/visits", json=engineer, headers=admin)
    assert r.status_code == 201, r.text
    # Not through the phone intake, which would link a second identical report to the first.
    r = client.post("/work-orders", json={"title": "门禁故障", "site_id": desk.ids["site"]}, headers=admin)
    unassigned = int(r.json()["id"])
    for wo, email, score in ((assigned, "a@x.example", 5), (unassigned, "b@x.example", 2)):
        token = _invite(client, admin, wo, email)
        assert client.post(f"/surveys/{token}", json={"score": score}).status_code == 201
    clock.advance(timedelta(days=7))  # the next ISO week
    token = _invite(client, admin, assigned, "c@x.example")
    assert client.post(f"/surveys/{token}", json={"score": 3}).status_code == 201

    def scores(by: str) -> list[dict]:
        return client.get("/surveys/scores", params={"by": by}, headers=admin).json()

    by_team = {r["team"]: r for r in scores("team")}
    assert set(by_team) == {"上海", "none"}
    assert by_team["上海"]["responses"] == 2 and by_team["上海"]["average"] == 4
    assert by_team["none"]["responses"] == 1
    by_week = {r["week"]: r["responses"] for r in scores("week")}
    assert by_week == {"2026-W48": 2, "2026-W49": 1}


def test_the_360_view(desk: World, client: TestClient) -> None:
    admin = login(client, "admin")
    wo = _work_order(client, admin)
    token = _invite(client, admin, wo, "z@x.example", "nps")
    client.post(f"/surveys/{token}", json={"score": 2})
    view = client.get(f"/desk/customers/{desk.ids['customer']}/overview", headers=admin).json()
    assert [w["id"] for w in view["open_work_orders"]] == [wo]
    assert view["assets"][0]["contract"]["tier"] == "gold"
    assert view["surveys"][0]["nps"] == -100.0
    assert "unhappy" in {f["flag"] for f in view["risk_flags"]}
    assert (
        client.get(
            f"/desk/customers/{desk.ids['customer']}/overview", headers=login(client, "customer")
        ).status_code
        == 403
    )
    assert client.get("/desk/customers/999/overview", headers=admin).status_code == 404


def test_the_demo_seed_runs(desk: World, system: System) -> None:
    from core.services.context import Actor, ServiceContext
    from fieldops.commands.servicedesk import desk_config
    from servicedesk.demo import seed

    with system.runtime.sessions() as s:
        seed(
            ServiceContext(s, system.runtime.clock, Actor.system("demo")),
            desk_config(system),
            echo=lambda _: None,
        )
