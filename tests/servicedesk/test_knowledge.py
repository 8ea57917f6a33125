"""Knowledge search in Chinese and English on the suite's backend; internal articles stay internal."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from core.domain.clock import FixedClock
from core.services.context import Actor, ServiceContext
from core.store.db import make_engine
from fieldops.migrate import alembic_config, upgrade
from fieldops.wiring import System
from mobile_contract.client import MobileApiError, MobileClient
from servicedesk import knowledge
from tests.conftest import T0
from tests.servicedesk.conftest import raise_fault
from tests.world import PASSWORD, World, login

ARTICLES = [
    {
        "title": "冷水机高压报警处理",
        "body": "冷凝器结垢会导致高压报警。先检查冷却水流量，再清洗冷凝器。",
        "status": "published",
        "visibility": "public",
        "tags": ["冷水机"],
        "asset_models": ["CH-500"],
        "fault_codes": ["E101"],
    },
    {
        "title": "Resetting a tripped lift controller",
        "body": "Isolate power, wait 30 seconds, then reset the controller breaker.",
        "status": "published",
        "visibility": "public",
        "tags": ["lift"],
    },
    {
        "title": "冷水机内部维修密码",
        "body": "服务模式密码：仅限工程师。",
        "status": "published",
        "visibility": "internal",
    },
    {"title": "冷水机草稿", "body": "未完成", "status": "draft", "visibility": "public"},
]


def _seed(client: TestClient) -> list[int]:
    admin = login(client, "admin")
    ids = []
    for a in ARTICLES:
        r = client.post("/knowledge", json=a, headers=admin)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def test_chinese_and_english_search(desk: World, client: TestClient) -> None:
    ids = _seed(client)
    staff = login(client, "engineer")
    zh = client.get("/knowledge", params={"q": "高压报警"}, headers=staff).json()
    assert zh[0]["id"] == ids[0]
    en = client.get("/knowledge", params={"q": "lift controller reset"}, headers=staff).json()
    assert [a["id"] for a in en] == [ids[1]]
    short = client.get("/knowledge", params={"q": "冷"}, headers=staff).json()  # one character
    assert {a["id"] for a in short} == {ids[0], ids[2]}
    assert (
        client.get("/knowledge", params={"q": "冷水机", "drafts": "true"}, headers=staff).json()[-1]["id"]
        == ids[3]
    )


def test_customers_never_see_internal_or_draft_articles(desk: World, client: TestClient) -> None:
    ids = _seed(client)
    me = login(client, "customer")
    found = client.get("/portal/knowledge", params={"q": "冷水机"}, headers=me).json()
    assert [a["id"] for a in found] == [ids[0]]
    assert client.get(f"/portal/knowledge/{ids[2]}", headers=me).status_code == 404
    assert client.get(f"/portal/knowledge/{ids[3]}", headers=me).status_code == 404
    assert client.get(f"/knowledge/{ids[2]}", headers=me).status_code == 403
    voted = client.post(f"/portal/knowledge/{ids[0]}/feedback", json={"helpful": True}, headers=me)
    assert voted.json()["helpful_yes"] == 1


def test_versions_and_suggestions(desk: World, client: TestClient) -> None:
    ids = _seed(client)
    admin = login(client, "admin")
    r = client.patch(f"/knowledge/{ids[0]}", json={"body": "新版：先检查冷却塔风机。高压报警"}, headers=admin)
    assert r.json()["version"] == 2
    versions = client.get(f"/knowledge/{ids[0]}/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [1, 2] and "冷凝器" in versions[0]["body"]
    call = client.post(
        "/intake/phone",
        json={"caller_phone": "1", "summary": "冷水机高压报警", "asset_serial": "SN-001"},
        headers=admin,
    ).json()
    suggested = client.get(f"/knowledge/suggest/{call['work_order_id']}", headers=admin).json()
    assert suggested[0]["id"] == ids[0]


def test_migrating_indexes_the_articles_already_there(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0012_servicedesk_more")
        conn.execute(
            sa.text(
                "INSERT INTO kb_articles (title, body, status, visibility, tags, asset_models, fault_codes,"
                " version, search_text, helpful_yes, helpful_no, views, created_at, updated_at) VALUES"
                " ('冷水机高压报警', 'clean the condenser', 'published', 'public', '[]', '[\"CH-500\"]',"
                " '[\"E101\"]', 1, '', 0, 0, 0, '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        ctx = ServiceContext(session, FixedClock(T0), Actor.system("test"))
        for query in ("高压", "condenser", "e101"):
            assert [a.title for a, _ in knowledge.search(ctx, query, public_only=True)] == ["冷水机高压报警"]
    assert "search_text" not in {c["name"] for c in sa.inspect(engine).get_columns("kb_articles")}
    engine.dispose()


def test_a_job_raised_by_a_fault_code_is_offered_the_article_for_that_code(
    desk: World, client: TestClient, system: System
) -> None:
    ids = _seed(client)
    admin = login(client, "admin")
    generic = {"status": "published", "visibility": "internal", "title": "Chiller maintenance overview"}
    for n in range(3):  # articles that share the job's words but not its fault code
        body = f"Chiller alarm handling, part {n}: pressure, flow, condenser."
        assert client.post("/knowledge", json={**generic, "body": body}, headers=admin).status_code == 201
    work_order_id = raise_fault(system, desk.ids["asset"], "E101", "Chiller alarm E101")
    suggested = client.get(f"/knowledge/suggest/{work_order_id}", headers=admin).json()
    assert suggested[0]["id"] == ids[0]  # filed under E101, though written in Chinese


def test_ranking_reads_every_match_not_the_first_few_hundred(desk: World, system: System) -> None:
    rt = system.runtime
    with rt.sessions() as s:
        ctx = ServiceContext(s, rt.clock, Actor.system("test"))
        for n in range(520):
            knowledge.create(
                ctx,
                knowledge.ArticleInput(
                    title=f"巡检记录 {n}", body="例行巡检，设备运行正常。", status="published"
                ),
            )
        best = knowledge.create(
            ctx,
            knowledge.ArticleInput(
                title="冷却塔风机异响处理", body="冷却塔风机异响：检查轴承和皮带。", status="published"
            ),
        )
        found = knowledge.search(ctx, "冷却塔风机异响 巡检", public_only=False, limit=5)
    assert found[0][0].id == best.id
    assert len(found) == 5 and found[0][1] > found[1][1]


def test_the_engineers_day_carries_the_articles_for_each_job(
    desk: World, client: TestClient, system: System
) -> None:
    ids = _seed(client)
    work_order_id = raise_fault(system, desk.ids["asset"], "E101", "E101")
    visit = client.post(
        f"/work-orders/{work_order_id}/visits",
        headers=login(client, "dispatcher"),
        json={"engineer_id": desk.ids["engineer"], "dispatch": True},
    )
    assert visit.status_code == 201, visit.text

    app = MobileClient(client)
    app.sign_in("engineer", PASSWORD)
    (card,) = [c for c in app.day(T0.date()).visits if c.job.work_order_id == work_order_id]
    hints = card.job.suggested_articles
    assert hints[0].article_id == ids[0] and hints[0].title == "冷水机高压报警处理"
    assert ids[3] not in {h.article_id for h in hints}  # a draft is never suggested
    article = app.article(ids[0])
    assert article.body.startswith("冷凝器结垢") and article.version == 1
    with pytest.raises(MobileApiError) as draft:
        app.article(ids[3])
    assert draft.value.problem["status"] == 404
