"""List filters, keyset pagination and the geographic filter, on whichever backend the suite runs."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient

from core.domain.clock import FixedClock
from tests.world import World

Client = TestClient


def make(client: Client, h: dict[str, str], **body: object) -> dict:
    r = client.post("/work-orders", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def titles(client: Client, h: dict[str, str], query: str) -> list[str]:
    r = client.get(f"/work-orders?{query}", headers=h)
    assert r.status_code == 200, r.text
    return [w["title"] for w in r.json()["items"]]


def test_filters_combine(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    h, ids = as_dispatcher, world.ids
    make(client, h, title="a", site_id=ids["site"], priority="P1", required_skills=[{"skill": "hvac"}])
    clock.advance(timedelta(minutes=1))
    b = make(client, h, title="b", site_id=ids["site_b"], priority="P3", required_skills=[{"skill": "lift"}])
    clock.advance(timedelta(minutes=1))
    make(client, h, title="c", site_id=ids["site_b"], priority="P4")
    client.post(f"/work-orders/{b['id']}/transitions", json={"to": "cancelled", "reason": "dup"}, headers=h)

    assert titles(client, h, "") == ["c", "b", "a"]
    assert titles(client, h, "sort=created_at") == ["a", "b", "c"]
    assert titles(client, h, "status=new") == ["c", "a"]
    assert titles(client, h, "status=new&status=cancelled") == ["c", "b", "a"]
    assert titles(client, h, "priority=P1") == ["a"]  # gold floor: a is P1 anyway
    assert titles(client, h, "skill=lift") == ["b"]
    assert titles(client, h, f"customer_id={ids['customer_b']}") == ["c", "b"]
    assert titles(client, h, f"territory_id={ids['territory_b']}") == []
    assert titles(client, h, "created_from=2026-11-23T01:30:30Z") == ["c", "b"]
    assert titles(client, h, "created_to=2026-11-23T01:31:00Z") == ["a"]


def test_sla_state_filter_follows_the_clock(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    h = as_dispatcher
    make(
        client, h, title="urgent", site_id=world.ids["site_b"], priority="P1"
    )  # respond within 240 business min
    make(client, h, title="later", site_id=world.ids["site_b"], priority="P4")
    assert titles(client, h, "sla_state=ok") == ["later", "urgent"]
    clock.advance(timedelta(hours=3, minutes=30))  # 13:00 local: 150 of 240 minutes gone (lunch is free)
    assert titles(client, h, "sla_state=at_risk") == []
    clock.advance(timedelta(minutes=45))  # 13:45: 195 minutes ≥ 75 % of 240
    assert titles(client, h, "sla_state=at_risk") == ["urgent"]
    clock.advance(timedelta(hours=1))  # 14:45: past 14:30
    assert titles(client, h, "sla_state=breached") == ["urgent"]
    assert titles(client, h, "sla_state=ok&sla_state=at_risk") == ["later"]


def test_on_hold_stops_the_clock(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    h = as_dispatcher
    wo = make(client, h, title="held", site_id=world.ids["site_b"], priority="P1")
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
        headers=h,
    ).json()
    for step in ("accepted", "en_route", "on_site"):
        client.post(f"/visits/{visit['id']}/transitions", json={"to": step}, headers=h)
    r = client.post(
        f"/work-orders/{wo['id']}/transitions", json={"to": "on_hold", "reason": "customer away"}, headers=h
    )
    resolve_by = r.json()["sla"]["resolve_by"]
    clock.advance(timedelta(days=2))  # Wednesday 09:30: two business days on hold
    assert titles(client, h, "sla_state=breached") == []
    r = client.post(f"/work-orders/{wo['id']}/transitions", json={"to": "in_progress"}, headers=h)
    assert r.json()["sla"]["resolve_by"] > resolve_by
    assert r.json()["sla"]["paused"] is False


def test_keyset_pages_cover_everything_once(
    client: Client, world: World, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    h = as_dispatcher
    for i in range(23):
        make(client, h, title=f"wo{i:02d}", site_id=world.ids["site_b"])
        if i % 3 == 0:
            clock.advance(timedelta(seconds=1))  # some share a timestamp: the id breaks the tie
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=5" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(f"/work-orders?{query}", headers=h)
        body = r.json()
        seen += [w["title"] for w in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            assert "link" not in r.headers
            break
        assert 'rel="next"' in r.headers["link"]
    assert seen == [f"wo{i:02d}" for i in reversed(range(23))]


def test_near_filter(client: Client, world: World, as_dispatcher: dict[str, str]) -> None:
    h = as_dispatcher
    make(client, h, title="tower", site_id=world.ids["site"])  # Lujiazui
    make(client, h, title="plant", site_id=world.ids["site_b"])  # Songjiang, ~33 km away
    # The Bund is ~1.5 km from Lujiazui's tower.
    assert titles(client, h, "near=31.2400,121.4900&within_km=3") == ["tower"]
    assert titles(client, h, "near=31.2400,121.4900&within_km=50") == ["plant", "tower"]
    assert titles(client, h, "near=31.2400,121.4900&within_km=50&status=cancelled") == []
    near = client.get("/engineers/near?near=31.03,121.22&within_km=5", headers=h).json()
    assert [n["engineer_id"] for n in near] == [world.ids["engineer_b"]]
