"""The IoT API: devices with once-shown credentials, alarms for dispatchers, counters and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.testing import TestClient

from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from iot import alarms, store
from iot.contract import Severity
from iot.registry import check_mosquitto_hash, verify_device
from tests.world import World, login


def test_register_list_and_disable_devices(client: TestClient, world: World, system: System) -> None:
    admin, dispatcher = login(client, "admin"), login(client, "dispatcher")
    body = {"id": "chiller-01", "asset_id": world.ids["asset"], "name": "冷机 1"}
    assert client.post("/devices", json=body, headers=dispatcher).status_code == 403
    created = client.post("/devices", json=body, headers=admin)
    assert created.status_code == 201, created.text
    mqtt = created.json()["mqtt"]
    assert (
        mqtt["username"] == "chiller-01"
        and mqtt["telemetry_topic"] == "fieldops/v1/devices/chiller-01/telemetry"
    )
    password = mqtt["password"]
    assert client.post("/devices", json=body, headers=admin).status_code == 409
    bad = client.post("/devices", json={**body, "id": "a/b"}, headers=admin)
    assert bad.status_code in (400, 422)

    listed = client.get("/devices", headers=dispatcher).json()
    assert [d["id"] for d in listed["items"]] == ["chiller-01"]
    assert "password" not in str(listed)
    shown = client.get("/devices/chiller-01", headers=dispatcher).json()
    assert shown["status"] == "unknown" and shown["active"] is True
    with system.runtime.sessions() as s:
        assert verify_device(s, "chiller-01", password)
        from iot.models import Device

        assert check_mosquitto_hash(password, s.get_one(Device, "chiller-01").broker_hash)

    rotated = client.post("/devices/chiller-01/credentials", headers=admin).json()["mqtt"]["password"]
    assert rotated != password
    with system.runtime.sessions() as s:
        assert not verify_device(s, "chiller-01", password) and verify_device(s, "chiller-01", rotated)
    assert (
        client.patch("/devices/chiller-01", json={"active": False}, headers=admin).json()["active"] is False
    )
    with system.runtime.sessions() as s:
        assert not verify_device(s, "chiller-01", rotated)
    assert client.get("/devices/nope", headers=dispatcher).status_code == 404


def test_dispatchers_list_acknowledge_and_clear_alarms(
    client: TestClient, world: World, system: System
) -> None:
    rt = system.runtime
    with rt.sessions() as s:
        outcome = alarms.raise_alarm(
            ServiceContext(s, rt.clock, Actor.system("telemetry")),
            alarms.Signal(
                asset_id=world.ids["asset"],
                alarm_type="threshold:temperature",
                source="detector",
                severity=Severity.MAJOR,
                message="temperature above 60 °C for 5 min",
                at=datetime.now(UTC),
                evidence={"metric": "temperature", "value": 63.0, "limit": 60.0, "series": [["t", 63.0]]},
            ),
        )
    headers = login(client, "dispatcher")
    page = client.get("/alarms?state=active", headers=headers).json()
    assert [a["id"] for a in page["items"]] == [outcome.alarm.id]
    item = page["items"][0]
    assert item["work_order_id"] == outcome.work_order_id and item["evidence"]["limit"] == 60.0
    wo = client.get(f"/work-orders/{outcome.work_order_id}", headers=headers).json()
    assert (
        wo["source"] == "telemetry" and wo["kind"] == "predictive" and wo["priority"] == "P1"
    )  # major + gold
    by_wo = client.get(f"/alarms?work_order_id={outcome.work_order_id}", headers=headers).json()
    assert len(by_wo["items"]) == 1

    got = client.get(f"/alarms/{outcome.alarm.id}", headers=headers)
    etag = got.headers["etag"]
    ack = client.post(f"/alarms/{outcome.alarm.id}/acknowledge", headers={**headers, "If-Match": etag})
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    stale = client.post(f"/alarms/{outcome.alarm.id}/clear", json={}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    cleared = client.post(
        f"/alarms/{outcome.alarm.id}/clear", json={"reason": "sensor replaced"}, headers=headers
    )
    assert cleared.json()["state"] == "cleared" and cleared.json()["clear_reason"] == "sensor replaced"
    assert client.post(f"/alarms/{outcome.alarm.id}/clear", json={}, headers=headers).status_code == 409
    assert client.get("/alarms", headers=login(client, "engineer")).status_code == 403


def test_stats_and_dead_letters(client: TestClient, world: World, system: System) -> None:
    now = datetime.now(UTC)
    with system.runtime.sessions() as s:
        store.register_worker(s, "w1", "host", 1, now)
        batch = store.Batch(received=3)
        batch.add_telemetry("d", world.ids["asset"], now, 1, {"t": 1.0}, now)
        batch.add_telemetry("d", world.ids["asset"], now, 1, {"t": 1.0}, now)
        batch.add_dead(
            "fieldops/v1/devices/d/telemetry", b"\xff\xfe", "not_utf8", "bad bytes", "d", "w1", now
        )
        store.write_batch(s, batch, "w1", now)
        s.commit()
    headers = login(client, "dispatcher")
    stats = client.get("/iot/stats", headers=headers).json()
    assert stats["totals"]["received"] == 3 and stats["totals"]["stored"] == 1
    assert stats["totals"]["duplicate"] == 1 and stats["totals"]["dead_lettered"] == 1
    assert stats["dead_letters_by_reason"] == {"not_utf8": 1}
    dead = client.get("/iot/dead-letters?reason=not_utf8", headers=headers).json()["items"]
    assert dead[0]["payload_base64"] == "//4=" and dead[0]["payload_text"] is None


def test_profiles_are_data(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    profile = {
        "detection": {},
        "faults": {
            "trend:vibration": {"title": "Bearing wear", "skills": [{"skill": "hvac", "min_level": 3}]}
        },
        "heartbeat_timeout_s": 120,
    }
    put = client.put(f"/iot/profiles/{world.ids['model']}", json=profile, headers=admin)
    assert put.status_code == 200, put.text
    got = client.get(f"/iot/profiles/{world.ids['model']}", headers=login(client, "dispatcher")).json()
    assert got["faults"]["trend:vibration"]["skills"] == [{"skill": "hvac", "min_level": 3}]
    assert client.put("/iot/profiles/999", json=profile, headers=admin).status_code == 404
