"""The engineer's app, driven through the typed client against the real app: accept → en route → check in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from litestar.testing import TestClient

from core.domain.clock import FixedClock
from mobile_contract import wire
from mobile_contract.client import MobileApiError, MobileClient
from tests.conftest import T0
from tests.world import PASSWORD, World

Client = TestClient
TOWER = (31.2335, 121.5055)  # world's site "Tower"


@pytest.fixture
def job(client: Client, world: World, as_dispatcher: dict[str, str]) -> dict:
    wo = client.post(
        "/work-orders",
        headers=as_dispatcher,
        json={
            "title": "冷水机组报警",
            "site_id": world.ids["site"],
            "asset_id": world.ids["asset"],
            "required_parts": [{"sku": "FLT-01", "quantity": 2}],
        },
    ).json()
    visit = client.post(
        f"/work-orders/{wo['id']}/visits",
        headers=as_dispatcher,
        json={
            "engineer_id": world.ids["engineer"],
            "dispatch": True,
            "planned_start": (T0 + timedelta(hours=2)).isoformat(),
            "planned_end": (T0 + timedelta(hours=3)).isoformat(),
        },
    ).json()
    return {"wo": wo, "visit": visit}


@pytest.fixture
def app(client: Client, world: World) -> MobileClient:
    mobile = MobileClient(client, app_version="fieldops-android/3.2.1")
    mobile.sign_in("engineer", PASSWORD, device_id="phone-1")
    return mobile


def test_my_day_has_everything_needed_on_site(app: MobileClient, job: dict, world: World) -> None:
    plan = app.day(T0.date())
    assert [v.visit_id for v in plan.visits] == [job["visit"]["id"]]
    card = plan.visits[0]
    assert card.sequence == 1 and card.status == "assigned"
    assert card.site.location.lat == TOWER[0] and card.site.geofence_radius_m == 200
    assert card.customer.contract_tier == "gold"
    assert card.asset is not None and card.asset.serial == "SN-001"
    assert card.job.suggested_parts[0].sku == "FLT-01"
    assert card.job.priority == "P2"  # the gold contract's floor


def test_accept_en_route_check_in_then_replay_changes_nothing(
    app: MobileClient, job: dict, client: Client, as_dispatcher: dict[str, str], clock: FixedClock
) -> None:
    vid = job["visit"]["id"]
    at = T0 + timedelta(minutes=5)
    calls: list[Callable[[], wire.VisitState]] = [
        lambda: app.accept(vid, wire.Move(occurred_at=at), key="k1"),
        lambda: app.en_route(
            vid, wire.EnRoute(occurred_at=at + timedelta(minutes=1), eta=at + timedelta(minutes=30)), key="k2"
        ),
        lambda: app.check_in(
            vid,
            wire.CheckIn(occurred_at=at + timedelta(minutes=25), lat=31.2340, lon=121.5050, accuracy_m=15),
            key="k3",
        ),
    ]
    clock.advance(timedelta(hours=3))  # the phone was offline; its queue arrives late
    first = [call() for call in calls]
    assert [s.status for s in first] == ["accepted", "en_route", "on_site"]
    assert first[-1].work_order_status == "in_progress"
    assert first[-1].off_site is False and first[-1].distance_m is not None and first[-1].distance_m < 100

    audit_before = client.get(f"/work-orders/{job['wo']['id']}/audit", headers=as_dispatcher).json()
    again = [call() for call in calls]  # a flaky network sends the whole queue again
    assert again == first
    assert client.get(f"/work-orders/{job['wo']['id']}/audit", headers=as_dispatcher).json() == audit_before

    wo = client.get(f"/work-orders/{job['wo']['id']}", headers=as_dispatcher).json()
    # The response counts from when the engineer arrived, not from when the phone got signal back.
    assert wo["sla"]["responded_at"] == (at + timedelta(minutes=25)).isoformat().replace("+00:00", "Z")


def test_off_site_check_in_is_flagged(app: MobileClient, job: dict) -> None:
    vid = job["visit"]["id"]
    app.accept(vid, wire.Move(occurred_at=T0))
    state = app.check_in(vid, wire.CheckIn(occurred_at=T0, lat=31.30, lon=121.50, accuracy_m=20))
    assert state.status == "on_site"
    assert state.off_site is True
    assert state.distance_m is not None and state.distance_m > 5_000


def test_off_site_check_in_can_be_refused(app: MobileClient, job: dict, system: object) -> None:
    import dataclasses

    from fieldops.wiring import System

    assert isinstance(system, System)
    object.__setattr__(system, "runtime", dataclasses.replace(system.runtime, reject_off_site_check_ins=True))
    vid = job["visit"]["id"]
    app.accept(vid, wire.Move(occurred_at=T0))
    # The app was built before the flag changed; build a new one on the same system.
    client = TestClient(app=__import__("fieldops.wiring", fromlist=["build_app"]).build_app(system))
    with client:
        fresh = MobileClient(client)
        fresh.sign_in("engineer", PASSWORD)
        with pytest.raises(MobileApiError) as err:
            fresh.check_in(vid, wire.CheckIn(occurred_at=T0, lat=31.30, lon=121.50, accuracy_m=20))
    assert err.value.status == 409
    assert "geofence" in err.value.problem["detail"]


@pytest.mark.parametrize(
    ("occurred", "field"),
    [
        ("1970-01-01T00:00:00Z", "occurred_at"),
        ("2030-01-01T00:00:00Z", "occurred_at"),
        ("2026-11-23T01:35:00", "occurred_at"),
    ],
)
def test_bad_times_are_refused(
    client: Client, app: MobileClient, job: dict, occurred: str, field: str
) -> None:
    assert app.session is not None
    r = client.post(
        f"/mobile/v1/visits/{job['visit']['id']}/accept",
        json={"occurred_at": occurred},
        headers={"Authorization": f"Bearer {app.session.access_token}"},
    )
    assert r.status_code in (400, 422)
    assert r.json()["field"] == field


def test_gps_out_of_range_is_refused(app: MobileClient, job: dict) -> None:
    with pytest.raises(MobileApiError) as err:
        app.check_in(job["visit"]["id"], wire.CheckIn(occurred_at=T0, lat=123.0, lon=121.5, accuracy_m=5))
    assert err.value.status == 400
    assert err.value.problem["field"] == "lat"


def test_unknown_fields_from_a_newer_app_are_ignored(client: Client, app: MobileClient, job: dict) -> None:
    assert app.session is not None
    r = client.post(
        f"/mobile/v1/visits/{job['visit']['id']}/accept",
        json={"occurred_at": T0.isoformat(), "battery_level": 0.4},
        headers={"Authorization": f"Bearer {app.session.access_token}"},
    )
    assert r.status_code == 200


def test_someone_elses_visit_does_not_exist_for_me(client: Client, world: World, job: dict) -> None:
    other = MobileClient(client)
    other.sign_in("engineer_b", PASSWORD)
    assert other.day(T0.date()).visits == []
    with pytest.raises(MobileApiError) as err:
        other.accept(job["visit"]["id"], wire.Move(occurred_at=T0))
    assert err.value.status == 404
    assert "冷水" not in str(err.value.problem)


def test_a_visit_withdrawn_while_offline_says_so(
    app: MobileClient, job: dict, client: Client, as_dispatcher: dict[str, str]
) -> None:
    client.post(
        f"/visits/{job['visit']['id']}/transitions",
        headers=as_dispatcher,
        json={"to": "cancelled", "reason": "customer rescheduled"},
    )
    with pytest.raises(MobileApiError) as err:
        app.accept(job["visit"]["id"], wire.Move(occurred_at=T0))
    assert err.value.status == 409
    assert "customer rescheduled" in err.value.problem["detail"]


def test_only_engineers_use_the_app(client: Client, world: World) -> None:
    with pytest.raises(MobileApiError) as err:
        MobileClient(client).sign_in("dispatcher", PASSWORD)
    assert err.value.status == 403
    dispatcher = client.post("/auth/token", json={"username": "dispatcher", "password": PASSWORD}).json()
    r = client.get("/mobile/v1/visits", headers={"Authorization": f"Bearer {dispatcher['access_token']}"})
    assert r.status_code == 403


def test_refresh_keeps_the_app_signed_in(app: MobileClient) -> None:
    old = app.session
    new = app.refresh()
    assert old is not None and new.engineer_id == old.engineer_id
    assert app.day(T0.date()).engineer_id == new.engineer_id
