"""Proactive care in the customer portal, in headless Chromium on a phone: the consumables of my equipment
that are about to run out (exactly what GET /portal/care-notices gives me, never another company's nor the
office-only ones), and a one-tap replacement request prefilled from the notice. The notices come from real
data through the real API: consumables defined, meter readings sent, a care pass run."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from playwright.sync_api import expect

from automation.care.runner import run_pass
from core.domain.clock import FixedClock
from core.services import customers
from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from tests.automation.conftest import seed
from tests.automation.test_care_consumables import _define
from tests.servicedesk.test_portal_browser import _fits_the_screen, _phone, _sign_in
from tests.world import World, login

RIBBON: dict[str, Any] = {
    "code": "ribbon",
    "name": "碳带 ribbon",
    "counter": "labels",
    "capacity": 60000,
    "unit": "labels",
    "lead_days": 10,
    "notify": "portal",
}


def _meter(
    client: TestClient, asset_id: int, counter: str, last: float, per_day: float, now: datetime
) -> None:
    """A reading every other day for a month, ending now at `last`, the counter growing `per_day`."""
    readings = [
        {
            "asset_id": asset_id,
            "counter": counter,
            "at": (now - timedelta(days=d)).isoformat(),
            "value": last - per_day * d,
        }
        for d in range(30, -1, -2)
    ]
    r = client.post("/care/readings", json={"readings": readings}, headers=login(client, "dispatcher"))
    assert r.status_code == 200 and r.json()["stored"] == len(readings), r.text


def _inside_the_cards(page: Any) -> None:
    """Nothing of a notice sticks out of its card (long English lines wrap instead)."""
    out = page.locator("#care .notice").evaluate_all(
        """cards => cards.flatMap(card => {
            const box = card.getBoundingClientRect();
            return [card, ...card.querySelectorAll("*")].filter(e => {
                const r = e.getBoundingClientRect();
                const spills = e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== "inline";
                return r.left < box.left - 0.5 || r.right > box.right + 0.5 || spills;
            }).map(e => e.outerHTML.slice(0, 80));
        })"""
    )
    assert out == []


def _care(system: System, client: TestClient, desk: World, clock: FixedClock) -> dict[str, int]:
    """Ribbons shown to customers: mine runs out in 4 days, my second printer's ran out 2 days ago, the
    other company's in 3 days; an air filter that only the account owner is told about (a task)."""
    seed(system, desk)
    with system.runtime.sessions() as s:
        ctx = ServiceContext(s, clock, Actor.system("t"))
        second = customers.create_asset(
            ctx,
            customers.AssetInput(site_id=desk.ids["site"], asset_model_id=desk.ids["model"], serial="SN-002"),
        ).id
    _define(client, desk, **RIBBON)
    _define(client, desk, notify="task")  # the air filter: run_hours, 1000 h, the owner's task only
    now = clock.now()
    _meter(client, desk.ids["asset"], "labels", 54000, 1500, now)  # 6,000 labels left: 4 days
    _meter(client, second, "labels", 63000, 1500, now)  # crossed 60,000 two days ago
    _meter(client, desk.ids["asset_b"], "labels", 55500, 1500, now)  # the other company's: 3 days
    _meter(client, desk.ids["asset"], "run_hours", 950, 10, now)  # 50 h left: 5 days
    result = run_pass(system.runtime.sessions, clock)
    assert result["consumables"]["raised"] == 4, result
    return {"second": second}


def test_a_customer_sees_their_care_notices_and_requests_a_replacement_in_one_tap(
    server: str, browser: Any, client: TestClient, system: System, desk: World, clock: FixedClock, shots: Path
) -> None:
    ids = {**desk.ids, **_care(system, client, desk, clock)}
    mine = client.get("/portal/care-notices", headers=login(client, "customer")).json()
    assert sorted(n["asset_id"] for n in mine) == sorted([ids["asset"], ids["second"]])
    office = client.get("/care/notices", headers=login(client, "dispatcher")).json()
    # The office sees four: the other company's ribbon and the task-only filter are not the customer's to see.
    assert len(office) == 4 and {n["consumable"] for n in office} == {"ribbon", "filter"}

    page = _phone(browser)
    _sign_in(page, server)
    page.locator("#care .notice").first.wait_for()
    shown = page.locator("#care .notice").evaluate_all("els => els.map(e => +e.dataset.notice)")
    assert shown == [n["id"] for n in mine]  # exactly what the API gives, soonest first
    text = page.locator("#care").inner_text()
    assert "AC-900" not in text and "filter" not in text and "过滤网" not in text
    expect(page.locator("#care-title")).to_contain_text("需要您留意")
    past = page.locator(f'#care .notice[data-asset="{ids["second"]}"]')
    soon = page.locator(f'#care .notice[data-asset="{ids["asset"]}"]')
    # Run-out dates on the server's clock: 23 Nov 09:30 in Shanghai, so 21 Nov (2 days ago) and 27 Nov.
    expect(past).to_have_class("notice past")
    expect(past.locator(".what")).to_have_text("碳带 ribbon预计已于11月21日左右用完")
    expect(past.locator(".chip-when")).to_have_text("前天")
    expect(soon.locator(".what")).to_have_text("碳带 ribbon预计11月27日左右用完")
    expect(soon.locator(".chip-when")).to_have_text("4天后")
    expect(soon.locator(".asset")).to_contain_text("SN-001")
    _fits_the_screen(page)
    _inside_the_cards(page)
    page.screenshot(path=str(shots / "portal-phone-care.png"))

    # One tap (here from the keyboard) opens the request form about it, prefilled.
    soon.locator("[data-request]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view-request")).to_be_visible()
    expect(page.locator("#asset")).to_have_value(str(ids["asset"]))
    expect(page.locator("#request-form [name=title]")).to_have_value("更换碳带 ribbon · SN-001")
    expect(page.locator("#description")).to_have_value(
        "系统预计 SN-001 的碳带 ribbon将于11月27日左右用完，请安排更换。"
    )
    assert "gold" in page.locator("#coverage").inner_text()  # the asset's contract, as for any request
    _fits_the_screen(page)
    page.screenshot(path=str(shots / "portal-phone-care-request.png"))
    page.click("#request-form button[type=submit]")
    page.locator("#toasts").filter(has_text="WO-").wait_for()

    (order,) = [
        wo
        for wo in client.get("/portal/work-orders", headers=login(client, "customer")).json()
        if wo["title"] == "更换碳带 ribbon · SN-001"
    ]
    assert order["asset_id"] == ids["asset"] and order["source"] == "portal"
    # Back on the home page the notice says it has been asked for, and leads to the request.
    asked = soon.locator(".asked")
    expect(asked).to_contain_text(f"已申请 {order['reference']}")
    assert soon.locator("[data-request]").count() == 0
    assert past.locator("[data-request]").count() == 1
    _inside_the_cards(page)
    page.screenshot(path=str(shots / "portal-phone-care-requested.png"))

    page.click("#lang")
    expect(soon.locator(".what")).to_have_text("The 碳带 ribbon runs out around 27 Nov")
    expect(past.locator(".what")).to_have_text("The 碳带 ribbon has probably run out (around 21 Nov)")
    expect(soon.locator(".chip-when")).to_have_text("in 4 days")
    expect(page.locator("#care-title")).to_contain_text("Needs your attention")
    _fits_the_screen(page)
    _inside_the_cards(page)
    page.screenshot(path=str(shots / "portal-phone-care-english.png"))
    asked.click()
    expect(page.locator("#order-ref")).to_have_text(order["reference"])
    page.click("#lang")
    page.context.close()


def test_the_other_company_sees_only_its_own_and_no_notices_means_no_section(
    server: str, browser: Any, client: TestClient, system: System, desk: World, clock: FixedClock
) -> None:
    _care(system, client, desk, clock)
    page = _phone(browser)
    _sign_in(page, server, "customer_b")
    page.locator("#care .notice").first.wait_for()
    assert page.locator("#care .notice").evaluate_all("els => els.map(e => +e.dataset.asset)") == [
        desk.ids["asset_b"]
    ]
    assert "SN-00" not in page.locator("#care").inner_text()
    page.context.close()

    # The ribbon is replaced: the notice is resolved, and the portal's section goes away.
    ribbon = next(
        c
        for c in client.get("/care/consumables", headers=login(client, "admin")).json()
        if c["code"] == "ribbon"
    )
    r = client.post(
        "/care/replacements",
        json={"asset_id": desk.ids["asset_b"], "consumable_id": ribbon["id"]},
        headers=login(client, "dispatcher"),
    )
    assert r.status_code == 201, r.text
    assert client.get("/portal/care-notices", headers=login(client, "customer_b")).json() == []
    page = _phone(browser, "en-US")
    _sign_in(page, server, "customer_b")
    page.locator("#orders-empty, #orders .order").first.wait_for()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#care")).to_be_hidden()
    page.context.close()
