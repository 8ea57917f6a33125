"""The console's flows in headless Chromium against the real app: optimise and accept (or discard), a new
IoT work order arriving live, the work order record, an alarm's telemetry chart, KPIs, the 360° customer
view, pins, the keyboard and the English interface. Screenshots go to artifacts/screenshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar.testing import TestClient

from core.services.context import Actor, ServiceContext
from core.store.models import Visit
from fieldops.wiring import System
from iot import alarms, store
from iot.contract import Severity
from iot.detection_adapter import Detector
from iot.monitor import Monitor, MonitorConfig
from tests.conftest import T0
from tests.console.scene import build_scene
from tests.iot.helpers import register
from tests.world import PASSWORD, World

DAY = "2026-11-23"


def _sign_in(browser: Any, server: str, *, hash_: str = "", locale: str = "zh-CN") -> Any:
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale=locale)
    page.goto(f"{server}/console?day={DAY}{hash_}")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("#live[data-state=on]").wait_for()
    return page


def _visits(system: System, wo_id: int) -> list[Visit]:
    with system.runtime.sessions() as s:
        return list(s.scalars(sa.select(Visit).where(Visit.work_order_id == wo_id).order_by(Visit.id)))


def test_optimise_shows_the_diff_then_discard_or_accept(
    server: str,
    browser: Any,
    client: TestClient,
    world: World,
    as_dispatcher: dict[str, str],
    system: System,
    shots: Path,
) -> None:
    scene = build_scene(client, as_dispatcher, world, T0)
    page = _sign_in(browser, server)
    page.locator(f'.job[data-wo="{scene.queued[0]}"]').wait_for()
    page.locator(f'.block[data-wo="{scene.planned[0]["work_order_id"]}"]').wait_for()
    page.screenshot(path=str(shots / "console-board-day.png"))

    page.locator("#optimise-seconds").evaluate("s => { s.value = '3'; }")
    page.click("#optimise-run")
    page.locator("#optimise-accept:enabled").wait_for(timeout=30_000)
    page.click("#optimise-discard")
    page.locator(".toast").filter(has_text="已放弃方案").wait_for()

    page.click("#optimise-run")
    page.locator("#optimise-accept:enabled").wait_for(timeout=30_000)
    body = page.locator("#optimise-body")
    # The diff: what is added or moved, travel and lateness before and after, and what is left and why.
    assert "新派" in body.inner_text() and "路程" in body.inner_text() and "迟到" in body.inner_text()
    page.screenshot(path=str(shots / "console-optimise.png"))
    page.click("#optimise-accept")
    page.locator(".toast").filter(has_text="已采用方案").wait_for()
    placed = [wo for wo in scene.queued if any(v.status != "cancelled" for v in _visits(system, wo))]
    assert placed, "the accepted plan assigns queued work"
    for wo in placed:
        page.locator(f'.block[data-wo="{wo}"]').wait_for()
        assert page.locator(f'.job[data-wo="{wo}"]').count() == 0
    page.screenshot(path=str(shots / "console-optimised.png"))

    # The same day on the map: every engineer with work has a route line, queued sites are marked.
    page.click('nav .tab[data-view="map"]')
    page.locator("#map polyline.route").first.wait_for()
    day = client.get("/board", params={"day": DAY}, headers=as_dispatcher).json()
    assert page.locator("#map polyline.route").count() == len({v["engineer_id"] for v in day["visits"]})
    assert page.locator("#map .engineer").count() == len(day["engineers"])
    page.screenshot(path=str(shots / "console-map.png"))
    page.close()


class NoDetectors:
    def create(self, config: dict[str, Any], metric: str) -> Detector | None:
        return None

    def restore(self, config: dict[str, Any], metric: str, snapshot: bytes) -> Detector | None:
        return None


def test_a_new_iot_work_order_appears_live(
    server: str, browser: Any, world: World, system: System, shots: Path
) -> None:
    page = _sign_in(browser, server)
    # A device reports a fault code: stored by the ingest path, turned into an alarm and a corrective work
    # order by the monitor, announced in the outbox — and the open page shows it without reloading.
    register(system, "chiller-7", world.ids["asset"])
    monitor = Monitor(
        system.runtime.sessions, system.runtime.clock, MonitorConfig("m1"), factory=NoDetectors()
    )
    monitor.claim()
    now = datetime.now(UTC)
    batch = store.Batch(received=1)
    batch.events.append(
        {
            "device_id": "chiller-7",
            "asset_id": world.ids["asset"],
            "ts": now,
            "seq": 1,
            "code": "HP-01",
            "severity": "critical",
            "detail": "高压保护",
            "received_at": now,
        }
    )
    with system.runtime.sessions() as s:
        store.register_worker(s, "w", "h", 1, now)
        store.write_batch(s, batch, "w", now)
        s.commit()
    monitor.step()
    card = page.locator(".job").filter(has=page.locator(".chip.iot"))
    card.wait_for(timeout=10_000)
    page.locator(".toast").filter(has_text="新物联网工单").wait_for()
    page.screenshot(path=str(shots / "console-live-iot.png"))
    page.close()


def test_the_work_order_view_shows_the_record_and_the_trail(
    server: str,
    browser: Any,
    finished: dict[str, Any],
    shots: Path,
) -> None:
    wo = finished["wo"]
    page = _sign_in(browser, server, hash_=f"#wo/{wo['id']}")
    page.locator("h2").filter(has_text=wo["reference"]).wait_for()
    page.locator(".photos img[src^=blob]").first.wait_for()
    page.locator("img.signature[src^=blob]").wait_for()
    text = page.locator("#page").inner_text()
    for expected in (
        "王经理",
        "part_replaced",
        "客户支付",
        "到达现场",
        "客户签字",
        "客户要求下次提前电话联系",
    ):
        assert expected in text, expected
    assert page.locator(".timeline li").count() >= 4
    page.screenshot(path=str(shots / "console-work-order.png"), full_page=True)
    page.close()


def test_an_alarm_shows_the_telemetry_that_raised_it(
    server: str, browser: Any, world: World, system: System, shots: Path
) -> None:
    start = T0 - timedelta(hours=12)
    values = [
        [(start + timedelta(minutes=20 * i)).isoformat(), 6.0 + 0.05 * i + (0.2 if i % 5 == 0 else 0)]
        for i in range(36)
    ]
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, system.runtime.clock, Actor.system("iot"))
        evidence = {
            "metric": "vibration",
            "unit": "mm/s",
            "values": values,
            "limit": 11.0,
            "predicted_at": (T0 + timedelta(days=1)).isoformat(),
            "value": values[-1][1],
        }
        signal = alarms.Signal(
            asset_id=world.ids["asset"],
            alarm_type="trend:vibration",
            source="detector",
            severity=Severity("major"),
            message="vibration trending up: predicted to reach 11 mm/s in 1 d",
            at=T0,
            evidence=evidence,
        )
        outcome = alarms.raise_alarm(ctx, signal)
    page = _sign_in(browser, server, hash_=f"#alarm/{outcome.alarm.id}")
    page.locator(".alarm-chart svg path.line").wait_for()
    assert page.locator(".alarm-chart svg .limit").count() == 1
    assert page.locator(".alarm-chart svg .forecast").count() == 1
    page.screenshot(path=str(shots / "console-alarm.png"), full_page=True)
    page.get_by_role("button", name="确认").click()
    page.locator(".chip.state-acknowledged").wait_for()
    page.click('nav .tab[data-view="alarms"]')
    page.locator(f'a[href="#alarm/{outcome.alarm.id}"]').wait_for()
    page.screenshot(path=str(shots / "console-alarms.png"))
    # The predictive work order it raised carries the same chart.
    page.goto(f"{server}/console?day={DAY}#wo/{outcome.work_order_id}")
    page.locator(".alarm-chart svg path.line").wait_for()
    page.close()


def test_kpis_and_the_customer_360(
    server: str,
    browser: Any,
    finished: dict[str, Any],
    world: World,
    shots: Path,
) -> None:
    page = _sign_in(browser, server, hash_="#kpis")
    page.locator('.tile[data-kpi="mttr_minutes"] .tile-value').wait_for()
    assert page.locator('.tile[data-kpi="first_time_fix_rate"] .tile-value').inner_text() == "100%"
    assert page.locator(".chart-grid svg.chart").count() == 7
    page.click('.tile[data-kpi="csat"]')
    page.locator('.tile[data-kpi="csat"][aria-pressed="true"]').wait_for()
    page.screenshot(path=str(shots / "console-kpis.png"), full_page=True)

    page.click('nav .tab[data-view="customers"]')
    page.get_by_role("link", name="上海中心大厦").click()
    page.locator(".page-head h2").filter(has_text="上海中心大厦").wait_for()
    text = page.locator("#page").inner_text()
    assert "SN-001" in text and finished["wo"]["reference"] in text
    assert page.locator("svg.chart.bars rect.bar").count() == 1  # the finished job's month of spend
    page.screenshot(path=str(shots / "console-customer-360.png"), full_page=True)
    page.close()


def test_pin_unpin_keyboard_and_english(
    server: str,
    browser: Any,
    client: TestClient,
    world: World,
    as_dispatcher: dict[str, str],
    system: System,
    shots: Path,
) -> None:
    scene = build_scene(client, as_dispatcher, world, T0)
    page = _sign_in(browser, server, locale="en-US")
    # The browser said English; the page follows it.
    page.locator("nav .tab").filter(has_text="Board").wait_for()
    planned = scene.planned[-1]
    block = page.locator(f'.block[data-wo="{planned["work_order_id"]}"]')
    block.click()
    page.get_by_role("button", name="Pin", exact=True).click()
    page.locator(f'.block[data-wo="{planned["work_order_id"]}"][data-pinned]').wait_for()
    assert _visits(system, planned["work_order_id"])[-1].pinned
    page.locator(f'.block[data-wo="{planned["work_order_id"]}"]').click()
    page.get_by_role("button", name="Unpin").click()
    page.locator(f'.block[data-wo="{planned["work_order_id"]}"]:not([data-pinned])').wait_for()
    assert not _visits(system, planned["work_order_id"])[-1].pinned

    # From the keyboard: focus a queued job, Enter, pick the engineer and time, Enter. 14:00 clashes with
    # 陈师傅's 12:40–14:10 visit (and the travel after it): refused, and the toast says why.
    wo = scene.queued[0]

    def assign_by_keyboard(at: str) -> None:
        page.locator(f'.job[data-wo="{wo}"]').focus()
        page.keyboard.press("Enter")
        page.locator("#assign[open]").wait_for()
        page.select_option("#assign-form select[name=engineer]", str(scene.engineers[1]))
        page.fill("#assign-form input[name=start]", at)
        page.locator("#assign-form button[value=ok]").press("Enter")

    assign_by_keyboard("14:00")
    refused = page.locator(".toast.bad").filter(has_text="does not fit")
    refused.wait_for()
    assert "陈师傅" in refused.inner_text()
    page.screenshot(path=str(shots / "console-refused.png"))
    assign_by_keyboard("15:30")
    page.locator(f'.block[data-wo="{wo}"]').wait_for()
    (visit,) = [v for v in _visits(system, wo) if v.status != "cancelled"]
    assert visit.engineer_id == scene.engineers[1]
    page.screenshot(path=str(shots / "console-board-en.png"))

    # Switched back to Chinese, remembered on this computer.
    page.click("#lang")
    page.locator("nav .tab").filter(has_text="排班板").wait_for()
    page.close()


def test_drag_a_planned_visit_to_another_engineer(
    server: str,
    browser: Any,
    client: TestClient,
    world: World,
    as_dispatcher: dict[str, str],
    system: System,
    shots: Path,
) -> None:
    scene = build_scene(client, as_dispatcher, world, T0)
    page = _sign_in(browser, server)
    moving = scene.planned[-1]
    target = scene.engineers[3] if moving["engineer_id"] != scene.engineers[3] else scene.engineers[4]
    block = page.locator(f'.block[data-wo="{moving["work_order_id"]}"] rect')
    box = block.bounding_box()
    row = page.locator(f'.row[data-engineer="{target}"]').bounding_box()
    assert box is not None and row is not None
    geometry = page.locator("#timeline").evaluate(
        "s => ({label: +s.dataset.labelWidth, px: +s.dataset.pxPerMinute, first: +s.dataset.firstHour})"
    )
    timeline = page.locator("#timeline").bounding_box()
    assert timeline is not None
    # Grab the block and drop it on the other engineer's row at 15:00.
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    page.mouse.down()
    x_15 = timeline["x"] + geometry["label"] + (15 * 60 - geometry["first"] * 60) * geometry["px"]
    page.mouse.move(x_15, row["y"] + row["height"] / 2, steps=8)
    page.mouse.up()
    page.locator(".toast").filter(has_text="已调整").wait_for()
    live = [v for v in _visits(system, moving["work_order_id"]) if v.status not in ("cancelled", "declined")]
    assert [v.engineer_id for v in live] == [target]
    page.close()


def test_check_ins_and_completions_show_live(
    server: str, browser: Any, client: TestClient, world: World, as_dispatcher: dict[str, str], shots: Path
) -> None:
    scene = build_scene(client, as_dispatcher, world, T0)
    page = _sign_in(browser, server)
    job = scene.planned[2]  # en route in the scene
    page.locator(f'.block[data-wo="{job["work_order_id"]}"][data-status="en_route"]').wait_for()
    for to in ("on_site", "work_done", "signed_off"):
        r = client.post(f"/visits/{job['visit_id']}/transitions", json={"to": to}, headers=as_dispatcher)
        assert r.status_code == 200, r.text
        if to == "on_site":
            page.locator(f'.block[data-wo="{job["work_order_id"]}"][data-status="on_site"]').wait_for()
            page.locator(".toast").filter(has_text="已到达现场").wait_for()
    page.locator(f'.block[data-wo="{job["work_order_id"]}"][data-status="signed_off"]').wait_for()
    page.locator(".toast").filter(has_text="已签字完成").wait_for()
    page.screenshot(path=str(shots / "console-live-visits.png"))
    page.close()


def test_optimise_with_no_moves_allowed_only_adds(
    server: str, browser: Any, client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    build_scene(client, as_dispatcher, world, T0)
    page = _sign_in(browser, server)
    page.locator("#optimise-seconds").evaluate("s => { s.value = '3'; }")
    page.locator("#optimise-max-moved").evaluate("s => { s.value = '0'; }")
    page.click("#optimise-run")
    page.locator("#optimise-accept:enabled").wait_for(timeout=30_000)
    rows = page.locator("#optimise-changes tbody tr").all_inner_texts()
    assert rows and not any("改派" in r for r in rows), rows
    page.click("#optimise-discard")
    page.close()
