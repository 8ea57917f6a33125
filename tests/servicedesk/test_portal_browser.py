"""The customer portal in headless Chromium on a phone-sized screen: the real app over HTTP (uvicorn),
signed in as a customer; screenshots kept in artifacts/screenshots for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from playwright.sync_api import expect

from tests.servicedesk.conftest import Sink, finish_job, open_request, wait_for
from tests.servicedesk.test_portal_self_service import png
from tests.world import PASSWORD, World, login

PHONE = {"width": 390, "height": 844}


def _phone(browser: Any, locale: str = "zh-CN") -> Any:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )
    return context.new_page()


def _sign_in(page: Any, server: str, username: str = "customer") -> None:
    page.goto(f"{server}/portal")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.locator("#orders-title").wait_for()


def _fits_the_screen(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _order_ids(page: Any) -> list[int]:
    return [int(x) for x in page.locator("#orders .order").evaluate_all("els => els.map(e => e.dataset.wo)")]


def test_a_customer_on_a_phone_sees_only_their_orders_and_opens_a_request(
    server: str, browser: Any, client: TestClient, desk: World, shots: Path
) -> None:
    a, b = login(client, "customer"), login(client, "customer_b")
    mine = open_request(
        client, a, asset_id=desk.ids["asset"], title="冷却塔风机异响", description="冷却塔风机皮带异响"
    )["work_order_id"]
    open_request(client, b, asset_id=desk.ids["asset_b"], title="Acme pump noise")
    client.post(
        "/knowledge",
        json={
            "title": "冷水机不制冷自查",
            "body": "## 处理\n1. 检查冷却水流量。\n2. **清洗**冷凝器。",
            "status": "published",
            "visibility": "public",
        },
        headers=login(client, "admin"),
    )

    page = _phone(browser)
    _sign_in(page, server)
    page.locator(f'#orders .order[data-wo="{mine}"]').wait_for()
    assert _order_ids(page) == [mine]  # the other company's order is nowhere
    expect(page.locator("#orders-title")).to_have_text("我的工单")
    _fits_the_screen(page)
    page.screenshot(path=str(shots / "portal-phone-orders.png"))

    # Open a request: asset picker, description (with a suggested article), a time window, a photo.
    page.click('#tabs button[data-go="request"]')
    page.select_option("#asset", str(desk.ids["asset"]))
    assert "gold" in page.locator("#coverage").inner_text()
    page.fill("#description", "冷水机不制冷，出水温度高")
    page.locator("#suggest-list button").first.wait_for()
    # Self-service first: read the suggestion, say it helped, come back to the request as it was.
    page.click("#suggest-list button")
    expect(page.locator("#article-title")).to_have_text("冷水机不制冷自查")
    page.click('[data-helpful="true"]')
    expect(page.locator('[data-helpful="true"]')).to_be_disabled()
    page.click("#article-back")
    expect(page.locator("#description")).to_have_value("冷水机不制冷，出水温度高")
    page.fill("#win-start", "2026-11-24T09:00")
    page.fill("#win-end", "2026-11-24T12:00")
    page.set_input_files(
        "#photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(8, 8)}]
    )
    _fits_the_screen(page)
    page.screenshot(path=str(shots / "portal-phone-request.png"), full_page=True)
    page.click("#request-form button[type=submit]")
    page.locator("#orders .order").nth(1).wait_for()
    ids = _order_ids(page)
    assert len(ids) == 2 and ids[1] == mine
    new = ids[0]
    assert "WO-" in page.locator("#toasts").inner_text()
    page.screenshot(path=str(shots / "portal-phone-listed.png"))

    dispatcher = login(client, "dispatcher")
    wo = client.get(f"/work-orders/{new}", headers=dispatcher).json()
    # 09:00–12:00 in Shanghai, as typed on the phone.
    assert wo["windows"] == [{"start": "2026-11-24T01:00:00Z", "end": "2026-11-24T04:00:00Z"}]
    assert wo["source"] == "portal"
    (photo,) = client.get(f"/desk/work-orders/{new}/attachments", headers=dispatcher).json()
    assert photo["filename"] == "现场.png" and photo["content_type"] == "image/png"

    # Its page: the timeline and the photo.
    page.click(f'#orders .order[data-wo="{new}"]')
    page.locator("#timeline li").first.wait_for()
    expect(page.locator("#order-status")).to_have_text("已受理")
    assert page.locator("#files li").count() == 1

    # Switch to English and back; the choice is remembered across a reload.
    page.click("#lang")
    expect(page.locator("#order-status")).to_have_text("Received")
    expect(page.locator('#tabs button[data-go="orders"]')).to_contain_text("Orders")
    page.click('#tabs button[data-go="orders"]')
    expect(page.locator("#orders-title")).to_have_text("My work orders")
    page.screenshot(path=str(shots / "portal-phone-english.png"))
    page.reload()
    page.locator("#orders .order").first.wait_for()
    expect(page.locator("#orders-title")).to_have_text("My work orders")
    page.click("#lang")
    expect(page.locator("#orders-title")).to_have_text("我的工单")

    # The knowledge base: search, read (Markdown rendered as text nodes, never as HTML).
    page.click('#tabs button[data-go="help"]')
    page.fill("#kb-q", "冷水机")
    page.click("#kb-form button[type=submit]")
    page.click("#kb-results button")
    expect(page.locator("#article-body h3")).to_have_text("处理")
    expect(page.locator("#article-body ol li")).to_have_count(2)
    expect(page.locator("#article-body strong")).to_have_text("清洗")
    page.screenshot(path=str(shots / "portal-phone-article.png"))
    figures = client.get("/desk/deflection", headers=dispatcher).json()
    # The suggestion was read and marked helpful, but a request followed: not a deflection.
    assert (figures["reads"], figures["submitted"], figures["marked_helpful"]) == (1, 1, 1)
    page.context.close()


def test_the_language_follows_the_browser(server: str, browser: Any, desk: World, shots: Path) -> None:
    for locale, title, button in (
        ("en-US", "Welcome to the customer portal", "Sign in"),
        ("zh-CN", "欢迎使用客户服务门户", "登录"),
    ):
        page = _phone(browser, locale)
        page.goto(f"{server}/portal")
        page.locator("#login-title").wait_for()
        assert page.locator("#login-title").inner_text() == title
        assert page.locator("#login-form button[type=submit]").inner_text() == button
        if locale == "en-US":
            page.screenshot(path=str(shots / "portal-phone-signin-en.png"))
        page.context.close()


def test_follow_a_job_to_the_report_and_answer_the_survey(
    server: str, browser: Any, client: TestClient, desk: World, sink: tuple[Sink, int], shots: Path
) -> None:
    a = login(client, "customer")
    dispatcher = login(client, "dispatcher")
    wo = open_request(client, a, asset_id=desk.ids["asset"], title="冷水机组高压报警")["work_order_id"]
    visit = client.post(
        f"/work-orders/{wo}/visits",
        json={
            "engineer_id": desk.ids["engineer"],
            "planned_start": "2026-11-23T06:00:00Z",
            "planned_end": "2026-11-23T08:00:00Z",
            "dispatch": True,
        },
        headers=dispatcher,
    ).json()

    page = _phone(browser)
    _sign_in(page, server)
    page.click(f'#orders .order[data-wo="{wo}"]')
    page.locator("#order-eta").wait_for()
    # Dispatched: who comes, and when (14:00 in Shanghai).
    eta = page.locator("#order-eta").inner_text()
    assert "王工" in eta and "14:00" in eta
    assert page.locator("#report").is_hidden()
    page.fill("#comment-body", "请从3号门进入")
    page.click("#comment-form button[type=submit]")
    page.locator("#comments li").first.wait_for()
    assert "请从3号门进入" in page.locator("#comments").inner_text()
    _fits_the_screen(page)
    page.screenshot(path=str(shots / "portal-phone-dispatched.png"), full_page=True)

    # The engineer finishes; the customer gets the report and the survey.
    for step in ("accepted", "en_route", "on_site", "work_done", "signed_off"):
        assert client.post(
            f"/visits/{visit['id']}/transitions", json={"to": step}, headers=dispatcher
        ).is_success
    handler, _ = sink
    wait_for(lambda: any("服务评价" in str(m["Subject"]) for m in handler.messages))
    page.click('#tabs button[data-go="orders"]')
    page.click(f'#orders .order[data-wo="{wo}"]')
    page.locator("#report").wait_for(state="visible")
    expect(page.locator("#order-status")).to_have_text("已完成")
    with page.expect_download() as info:
        page.click("#report")
    download = info.value
    assert download.suggested_filename == f"WO-{wo:07d}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(shots / "portal-phone-completed.png"), full_page=True)

    expect(page.locator("#survey-count")).to_have_text("1")
    page.click('#tabs button[data-go="surveys"]')
    card = page.locator("#surveys form.survey")
    card.wait_for()
    card.locator("label.pick", has_text="5").click()
    card.locator("textarea").fill("工程师很专业")
    page.screenshot(path=str(shots / "portal-phone-survey.png"), full_page=True)
    card.locator("button[type=submit]").click()
    page.locator("#surveys-empty").wait_for()
    assert page.locator("#survey-count").is_hidden()
    scores = client.get("/surveys/scores?by=customer", headers=dispatcher).json()
    assert [(s["customer"], s["kind"], s["responses"], s["average"]) for s in scores] == [
        (str(desk.ids["customer"]), "csat", 1, 5.0)
    ]
    page.context.close()


def test_a_finished_job_of_another_company_cannot_be_reached(
    server: str, browser: Any, client: TestClient, desk: World
) -> None:
    """The page asks only /portal/*: the other company's finished job is not in the list, and its
    report is refused to this customer exactly like a missing one."""
    b = login(client, "customer_b")
    theirs = open_request(client, b, asset_id=desk.ids["asset_b"])["work_order_id"]
    finish_job(client, login(client, "dispatcher"), theirs, desk.ids["engineer"], at="2026-11-23T06:00:00Z")
    page = _phone(browser)
    _sign_in(page, server)
    page.locator("#orders-empty").wait_for()
    status = page.evaluate(
        """async (id) => {
             const token = sessionStorage.getItem("fieldops.portal.token");
             const r = await fetch(`/portal/work-orders/${id}/report.pdf`,
                                   {headers: {Authorization: `Bearer ${token}`}});
             return r.status;
           }""",
        theirs,
    )
    assert status == 404
    page.context.close()


def test_the_mailed_survey_link_is_answered_on_a_phone_without_signing_in(
    server: str, browser: Any, client: TestClient, desk: World, sink: tuple[Sink, int], shots: Path
) -> None:
    a = login(client, "customer")
    wo = open_request(client, a, asset_id=desk.ids["asset"])["work_order_id"]
    finish_job(client, login(client, "dispatcher"), wo, desk.ids["engineer"], at="2026-11-23T06:00:00Z")
    handler, _ = sink
    wait_for(lambda: any("服务评价" in str(m["Subject"]) for m in handler.messages))
    (mail,) = [m for m in handler.messages if "服务评价" in str(m["Subject"])]
    text = mail.get_body().get_content()  # type: ignore[union-attr]
    url = next(line for line in text.splitlines() if "/portal#/surveys/" in line).strip()
    token = url.rsplit("/surveys/", 1)[1]

    page = _phone(browser, "en-US")
    page.goto(f"{server}/portal#/surveys/{token}")
    card = page.locator("#linked-survey form.survey")
    card.wait_for()
    assert page.locator("#login").is_hidden() and page.locator("#tabs").is_hidden()
    expect(card).to_contain_text("How satisfied are you with this service?")
    card.locator("label.pick", has_text="4").click()
    page.screenshot(path=str(shots / "portal-phone-survey-link.png"))
    card.locator("button[type=submit]").click()
    expect(page.locator("#linked-note")).to_have_text("Thank you for your feedback")
    # Single use: the same link again says so.
    page.reload()
    expect(page.locator("#linked-note")).to_contain_text("already answered")
    assert client.get(f"/surveys/{token}").status_code == 410
    page.context.close()
