"""An engineer's day shows why an IoT work order exists (the alarm's telemetry) and open alarms."""

from __future__ import annotations

from litestar.testing import TestClient

from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from iot import alarms
from iot.contract import Severity
from mobile_contract.client import MobileClient
from tests.conftest import T0
from tests.world import PASSWORD, World, login

SERIES = [["2026-11-22T08:00:00Z", 4.1], ["2026-11-22T09:00:00Z", 5.3], ["2026-11-22T10:00:00Z", 6.8]]


def test_the_engineers_day_carries_the_alarm_evidence(
    client: TestClient, world: World, system: System
) -> None:
    rt = system.runtime
    with rt.sessions() as s:
        outcome = alarms.raise_alarm(
            ServiceContext(s, rt.clock, Actor.system("telemetry")),
            alarms.Signal(
                asset_id=world.ids["asset"],
                alarm_type="trend:vibration_mm_s",
                source="detector",
                severity=Severity.MAJOR,
                message="vibration rising: limit in 30 h",
                at=T0,
                evidence={
                    "metric": "vibration_mm_s",
                    "limit": 11.2,
                    "time_to_limit_s": 108000,
                    "series": SERIES,
                },
            ),
        )
    assert outcome.work_order_id is not None
    visit = client.post(
        f"/work-orders/{outcome.work_order_id}/visits",
        headers=login(client, "dispatcher"),
        json={"engineer_id": world.ids["engineer"], "dispatch": True},
    )
    assert visit.status_code == 201, visit.text

    app = MobileClient(client)
    app.sign_in("engineer", PASSWORD)
    (card,) = [c for c in app.day(T0.date()).visits if c.job.work_order_id == outcome.work_order_id]
    (why,) = card.job.evidence
    assert why.source == "iot" and why.severity == "major" and why.summary.startswith("vibration rising")
    assert why.details["series"] == SERIES and why.details["alarm_id"] == outcome.alarm.id
    assert card.asset is not None
    assert [a.details["alarm_type"] for a in card.asset.open_alarms] == ["trend:vibration_mm_s"]

    with rt.sessions() as s:
        alarms.clear(ServiceContext(s, rt.clock, Actor.system("test")), outcome.alarm.id, "fixed", None)
    (card,) = [c for c in app.day(T0.date()).visits if c.job.work_order_id == outcome.work_order_id]
    assert card.asset is not None and card.asset.open_alarms == []
    assert len(card.job.evidence) == 1  # the reason the job exists stays
