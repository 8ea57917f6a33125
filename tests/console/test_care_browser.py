"""The console's Care view in headless Chromium, over data made the way the care tests make it: two years of
closed work (the forecast's history), jobs through the real lifecycle with survey answers (churn), and
consumables with meter readings and a replacement (run-outs), then a care pass. What the page shows is
checked against what the /care API says; screenshots are kept for people."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import TestClient
from playwright.sync_api import expect

from automation.care.runner import run_pass
from core.domain.clock import FixedClock
from core.services import customers
from core.services.context import Actor, ServiceContext
from fieldops.wiring import System
from tests.automation.conftest import seed
from tests.automation.test_care_consumables import _define
from tests.automation.test_care_insight import _job, _orders, _rate
from tests.world import PASSWORD, World, login


def _num(value: float, digits: int = 1) -> str:
    """As the page writes a number (Intl): at most `digits` decimals, halves up, no trailing zeros."""
    text = str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _history(system: System, world: World) -> None:
    """Two years of a seasonal week in Shanghai (30 ± 10 over the year), as closed work orders."""
    rng = random.Random(7)
    monday = datetime(2026, 11, 23, tzinfo=ZoneInfo("Asia/Shanghai"))
    at = []
    for w in range(1, 105):
        start = monday - timedelta(weeks=w)
        mean = 30 + 10 * math.sin(2 * math.pi * (104 - w) / 52.18)
        at += [
            start + timedelta(hours=rng.uniform(0, 24 * 7)) for _ in range(max(0, round(rng.gauss(mean, 3))))
        ]
    _orders(system, world.ids["territory"], world.ids["site"], world.ids["customer"], at)


def _churn(client: TestClient, system: System, world: World, clock: FixedClock) -> int:
    """Acme Pumps (C2): good service half a year ago; lately the same fault back twice after its fix, poor
    ratings: falling (30) + low (10) + repeat work (16) = high."""
    with system.runtime.sessions() as s:
        pump = customers.create_asset(
            ServiceContext(s, clock, Actor.system("t")),
            customers.AssetInput(
                site_id=world.ids["site_b"], asset_model_id=world.ids["model"], serial="P-1"
            ),
        ).id
    admin, site, n, now = login(client, "admin"), world.ids["site_b"], [0], clock.now()
    clock.set(now - timedelta(days=200))
    for k in range(3):
        _rate(client, admin, _job(system, clock, site, pump, f"保养 service {k}", 2), "csat", 5, n)
        clock.advance(timedelta(days=15))
    clock.set(now - timedelta(days=60))
    first = _job(system, clock, site, pump, "冷机不制冷 / not cooling", 2)
    clock.advance(timedelta(days=10))
    again = _job(system, clock, site, pump, "冷机不制冷 / not cooling", 2)
    clock.advance(timedelta(days=10))
    third = _job(system, clock, site, pump, "冷机不制冷 / not cooling", 2)
    for wo, score in ((first, 2), (again, 1), (third, 2)):
        _rate(client, admin, wo, "csat", score, n)
    clock.set(now)
    return pump


def _meter(client: TestClient, asset_id: int, last: float, per_day: float, now: datetime) -> None:
    readings = [
        {
            "asset_id": asset_id,
            "counter": "labels",
            "at": (now - timedelta(days=d)).isoformat(),
            "value": last - per_day * d,
        }
        for d in range(30, -1, -2)
    ]
    r = client.post("/care/readings", json={"readings": readings}, headers=login(client, "dispatcher"))
    assert r.status_code == 200, r.text


def _consumables(client: TestClient, world: World, clock: FixedClock, pump: int) -> None:
    """A ribbon (customers are told) on SN-001 running out in 4 days and on the pump in 20 (not yet within
    its 10 days' lead); rope lubrication every 90 days (the owner's task), done 80 days ago on the pump."""
    _define(
        client,
        world,
        code="ribbon",
        name="碳带 ribbon",
        counter="labels",
        capacity=60000,
        unit="labels",
        notify="portal",
    )
    lube = _define(
        client,
        world,
        code="lube",
        name="钢丝绳润滑 rope lubrication",
        counter=None,
        capacity=None,
        unit="",
        cycle_days=90,
        lead_days=14,
        notify="task",
    )
    now = clock.now()
    _meter(client, world.ids["asset"], 54000, 1500, now)
    _meter(client, pump, 40000, 1000, now)
    r = client.post(
        "/care/replacements",
        json={"asset_id": pump, "consumable_id": lube["id"], "at": (now - timedelta(days=80)).isoformat()},
        headers=login(client, "dispatcher"),
    )
    assert r.status_code == 201, r.text


def _sign_in(browser: Any, server: str, hash_: str = "care") -> Any:
    page = browser.new_page(
        viewport={"width": 1440, "height": 1700}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page.goto(f"{server}/console#{hash_}")
    page.fill("input[name=username]", "dispatcher")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    return page


def _nothing_spills(page: Any) -> None:
    """No panel of the view is wider than its box (tables and charts fit a laptop screen)."""
    wide = page.locator("#page .panel").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
        ".map(e => `${e.id} ${e.scrollWidth} > ${e.clientWidth}`)"
    )
    assert wide == []


def _rows(page: Any, selector: str, *attributes: str) -> list[Any]:
    script = "(els, names) => els.map(e => names.map(n => e.dataset[n]))"
    return [tuple(r) for r in page.locator(selector).evaluate_all(script, list(attributes))]


def test_the_care_view_shows_forecast_churn_and_run_outs_as_the_api_says(
    server: str,
    browser: Any,
    client: TestClient,
    system: System,
    world: World,
    clock: FixedClock,
    shots: Path,
) -> None:
    seed(system, world)  # account owner: admin for both customers
    _history(system, world)
    pump = _churn(client, system, world, clock)
    _consumables(client, world, clock, pump)
    result = run_pass(system.runtime.sessions, clock)
    assert all("error" not in v for v in result.values() if isinstance(v, dict)), result
    h = login(client, "dispatcher")
    (forecast,) = client.get(f"/care/forecast?territory_id={world.ids['territory']}", headers=h).json()
    churn = client.get("/care/churn?level=high&level=medium", headers=h).json()
    run_outs = client.get("/care/run-outs?within_days=30", headers=h).json()
    notices = {(n["asset_id"], n["consumable"]): n for n in client.get("/care/notices", headers=h).json()}
    assert churn[0]["customer_id"] == world.ids["customer_b"] and churn[0]["level"] == "high"
    assert {(r["serial"], r["consumable"]) for r in run_outs} == {
        ("SN-001", "ribbon"),
        ("P-1", "ribbon"),
        ("P-1", "lube"),
    }

    page = _sign_in(browser, server)
    page.locator("#forecast .chart").wait_for()
    page.locator("#churn tbody tr").first.wait_for()
    page.locator("#runouts tbody tr").first.wait_for()
    expect(page.locator('nav .tab[data-view="care"]')).to_have_attribute("aria-current", "page")
    expect(page.locator("#care-status")).to_contain_text("关怀任务计算于")

    # (a) The forecast: 12 weeks of history, 8 ahead with the band, last year, this week so far.
    chart = page.locator("#forecast .chart")
    assert chart.locator("circle.dot").count() == len(forecast["history"]) == 12
    assert chart.locator("circle.forecast-dot").count() == len(forecast["weeks"]) == 8
    assert chart.locator("polygon.band").count() == 1
    assert chart.locator("circle.series-dot.last-year").count() == 8
    assert chart.locator("circle.mark.so-far").count() == 1
    assert "2026-W48" in str(chart.get_attribute("aria-label"))
    weeks = forecast["weeks"]
    assert [r[0] for r in _rows(page, "#forecast tbody tr", "week")] == [w["week_start"] for w in weeks]
    for row, w in zip(page.locator("#forecast tbody tr").all(), weeks, strict=True):
        cells = row.locator("td").all_inner_texts()
        assert cells[0].split("\n")[0] == _num(w["expected"])
        assert cells[1] == f"{_num(w['low'], 0)}–{_num(w['high'], 0)}"
        assert cells[2].startswith(f"{_num(w['expected_hours'], 0)} h")
        assert cells[3] == str(w["last_year"])
    expect(page.locator('[data-tile="next_8_weeks"] .tile-value')).to_have_text(
        f"≈ {_num(sum(w['expected'] for w in weeks), 0)} 单"
    )
    bt = forecast["backtest"]
    expect(page.locator("#backtest [data-error=model]")).to_contain_text(
        f"平均每周偏差 {_num(bt['model']['mae'])} 单"
    )
    expect(page.locator("#backtest [data-error=seasonal_naive]")).to_contain_text(
        f"平均偏差 {_num(bt['seasonal_naive']['mae'])} 单"
    )
    better = bt["model"]["mae"] < bt["seasonal_naive"]["mae"]
    expect(page.locator("#backtest .verdict")).to_have_attribute(
        "data-verdict", "better" if better else "worse"
    )

    # (b) Churn: medium and high by score, each with its reasons, linking to the 360° view.
    assert _rows(page, "#churn tbody tr", "customer", "level") == [
        (str(r["customer_id"]), r["level"]) for r in churn
    ]
    first = page.locator("#churn tbody tr").first
    assert first.locator(".reasons-list li").all_inner_texts() == [
        f"{r['reason_zh']} +{r['points']} 分" for r in churn[0]["reasons"]
    ]
    expect(first.locator("a")).to_have_attribute("href", f"#customer/{world.ids['customer_b']}")

    # (c) Consumables running out within 30 days, soonest first, with their notices.
    assert _rows(page, "#runouts tbody tr", "asset", "consumable") == [
        (str(r["asset_id"]), r["consumable"]) for r in run_outs
    ]
    ribbon = page.locator(f'#runouts tr[data-asset="{world.ids["asset"]}"][data-consumable="ribbon"]')
    expect(ribbon).to_have_attribute("data-notice", str(notices[(world.ids["asset"], "ribbon")]["id"]))
    expect(ribbon.locator(".chip.notice")).to_have_text(["客户门户"])
    expect(ribbon.locator(".chip.when-soon")).to_have_text("4 天后")
    expect(ribbon).to_contain_text("已用 54,000 / 60,000 labels · 每天 1,500 labels")
    lube = page.locator(f'#runouts tr[data-asset="{pump}"][data-consumable="lube"]')
    expect(lube.locator(".chip.notice")).to_have_text(["客户经理任务"])
    expect(lube).to_contain_text("每 90 天更换 · 自 2026-09-04 更换起")
    later = page.locator(f'#runouts tr[data-asset="{pump}"][data-consumable="ribbon"]')
    expect(later).to_contain_text("用完前 10 天提醒")
    expect(later.locator(".chip.when-later")).to_have_text("20 天后")
    _nothing_spills(page)
    page.screenshot(path=str(shots / "console-care.png"), full_page=True)

    # From the keyboard: only the high ones; all; only my accounts (the dispatcher owns none).
    page.focus('[data-levels="high"]')
    page.keyboard.press("Enter")
    expect(page.locator('[data-levels="high"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#churn tbody tr")).to_have_count(len([r for r in churn if r["level"] == "high"]))
    page.click('[data-levels="all"]')
    expect(page.locator("#churn tbody tr")).to_have_count(len(client.get("/care/churn", headers=h).json()))
    page.check("#churn-mine")
    expect(page.locator("#churn-body")).to_have_text("没有符合条件的客户")
    page.uncheck("#churn-mine")
    page.locator("#churn tbody tr").first.wait_for()

    # A territory without any history: no backtest yet, and why.
    page.select_option("#forecast-territory", str(world.ids["territory_b"]))
    expect(page.locator("#backtest")).to_contain_text("暂无回测")
    expect(page.locator("#backtest")).to_contain_text("回测至少需要")
    page.select_option("#forecast-territory", str(world.ids["territory"]))

    # The 360° view of the risky customer carries its score, reasons and run-outs.
    page.locator(f'#churn a[href="#customer/{world.ids["customer_b"]}"]').click()
    page.locator("#customer-churn").wait_for()
    expect(page.locator("#customer-churn .chip")).to_have_text(f"高 · {churn[0]['score']}")
    expect(page.locator("#customer-churn .reasons-list li")).to_have_count(len(churn[0]["reasons"]))
    assert _rows(page, "#customer-runouts tbody tr", "asset", "consumable") == [
        (str(r["asset_id"]), r["consumable"]) for r in run_outs if r["customer_id"] == world.ids["customer_b"]
    ]
    _nothing_spills(page)
    page.screenshot(path=str(shots / "console-customer-care.png"), full_page=True)

    # In English.
    page.go_back()
    page.locator("#forecast .chart").wait_for()
    page.click("#lang")
    expect(page.locator("#forecast-title")).to_have_text("Service-volume forecast")
    expect(page.locator("#backtest [data-error=model]")).to_contain_text(
        f"off by {_num(bt['model']['mae'])} jobs a week on average"
    )
    expect(page.locator("#churn tbody tr").first.locator(".reasons-list li").first).to_have_text(
        f"{churn[0]['reasons'][0]['reason']} +{churn[0]['reasons'][0]['points']} pts"
    )
    expect(ribbon.locator(".chip.when-soon")).to_have_text("in 4 d")
    _nothing_spills(page)
    page.set_viewport_size({"width": 1280, "height": 1700})
    _nothing_spills(page)
    page.screenshot(path=str(shots / "console-care-english.png"), full_page=True)
    page.click("#lang")
    page.close()


def test_before_any_care_pass_the_view_says_so(server: str, browser: Any, world: World) -> None:
    page = _sign_in(browser, server)
    page.locator("#forecast").wait_for()
    expect(page.locator("#care-status")).to_have_text("关怀任务尚未运行")
    expect(page.locator("#churn-body")).to_have_text("没有符合条件的客户")
    expect(page.locator("#runout-body")).to_have_text("这段时间内没有耗材用完")
    page.close()
