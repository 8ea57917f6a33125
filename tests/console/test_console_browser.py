"""The dispatcher's console in headless Chromium: sign in, see the board, drag a work order onto an
engineer and find it persisted, watch a new work order arrive live, and keep screenshots for people."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.conftest import T0
from tests.world import PASSWORD, World

DAY = "2026-11-23"


def _x_at(page: Any, hour: int, minute: int = 0) -> float:
    """Where a local time is on the board: the timeline states its own geometry (it fits the screen)."""
    g = page.locator("#timeline").evaluate(
        "s => ({label: +s.dataset.labelWidth, px: +s.dataset.pxPerMinute, first: +s.dataset.firstHour})"
    )
    return float(g["label"] + (hour * 60 + minute - g["first"] * 60) * g["px"])


def _sign_in(browser: Any, server: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page.goto(f"{server}/console?day={DAY}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    return page


def _work_order(client: TestClient, headers: dict[str, str], world: World, title: str) -> dict[str, Any]:
    response = client.post(
        "/work-orders",
        headers=headers,
        json={"title": title, "site_id": world.ids["site"], "asset_id": world.ids["asset"], "priority": "P1"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_drag_a_work_order_onto_an_engineer(
    server: str, browser: Any, client: TestClient, world: World, as_dispatcher: dict[str, str], shots: Path
) -> None:
    wo = _work_order(client, as_dispatcher, world, "冷水机组高压报警")
    page = _sign_in(browser, server, "dispatcher")
    card = page.locator(f'.job[data-wo="{wo["id"]}"]')
    card.wait_for()
    page.screenshot(path=str(shots / "console-board.png"), full_page=True)

    row = page.locator(f'.row[data-engineer="{world.ids["engineer"]}"]')
    card.drag_to(row, target_position={"x": _x_at(page, 11), "y": 15})
    page.locator(f'.block[data-wo="{wo["id"]}"]').wait_for()
    page.screenshot(path=str(shots / "console-assigned.png"), full_page=True)

    (visit,) = client.get(f"/work-orders/{wo['id']}/visits", headers=as_dispatcher).json()
    assert visit["engineer_id"] == world.ids["engineer"]
    # Dropped at 11:00 in Shanghai: the move keeps it within the pin tolerance (±15 min), and pins it.
    eleven = T0 + timedelta(hours=1, minutes=30)
    assert abs(datetime.fromisoformat(visit["planned_start"]) - eleven) <= timedelta(minutes=15)
    assert visit["pinned"] is True
    assert page.locator(f'.job[data-wo="{wo["id"]}"]').count() == 0
    page.close()


def test_a_refused_move_says_why(
    server: str, browser: Any, client: TestClient, world: World, as_dispatcher: dict[str, str]
) -> None:
    wo = _work_order(client, as_dispatcher, world, "电梯异响")
    page = _sign_in(browser, server, "dispatcher")
    page.locator(f'.job[data-wo="{wo["id"]}"]').wait_for()
    # Someone cancels it in another window before the drop.
    client.post(
        f"/work-orders/{wo['id']}/transitions",
        headers=as_dispatcher,
        json={"to": "cancelled", "reason": "dup"},
    ).raise_for_status()
    page.locator(f'.job[data-wo="{wo["id"]}"]').drag_to(
        page.locator(f'.row[data-engineer="{world.ids["engineer"]}"]'),
        target_position={"x": _x_at(page, 11), "y": 15},
    )
    page.locator(".toast.bad").wait_for()
    assert "cancelled" in page.locator(".toast.bad").inner_text()
    page.close()


def test_a_new_work_order_appears_without_reloading(
    server: str, browser: Any, client: TestClient, world: World, as_dispatcher: dict[str, str], shots: Path
) -> None:
    page = _sign_in(browser, server, "dispatcher")
    page.locator("#live").filter(has_text="●").wait_for()
    wo = _work_order(client, as_dispatcher, world, "IoT: 振动趋势预测 7 天内超限")
    page.locator(f'.job[data-wo="{wo["id"]}"]').wait_for(timeout=10_000)
    page.locator(".toast").first.wait_for()
    page.screenshot(path=str(shots / "console-live.png"), full_page=True)
    page.close()


def test_engineers_cannot_open_the_console(server: str, browser: Any, world: World, shots: Path) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page.goto(f"{server}/console")
    page.locator("#login-form").wait_for()
    page.screenshot(path=str(shots / "console-login.png"))
    page.click("#login-lang")
    page.locator("#login-form button[type=submit]").filter(has_text="Sign in").wait_for()
    page.click("#login-lang")
    page.close()
    page = _sign_in(browser, server, "engineer")
    page.locator("#login-error").filter(has_text="手机").wait_for()
    assert page.locator("#app").is_hidden()
    page.close()


def test_the_board_data_is_for_dispatchers_only(client: TestClient, world: World) -> None:
    from tests.world import login

    assert client.get("/board", headers=login(client, "engineer")).status_code == 403
    assert client.get("/board").status_code == 401
    # The page itself holds no data and is served to anyone.
    page = client.get("/console")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
