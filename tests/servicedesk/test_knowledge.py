"""Knowledge search in Chinese and English on the suite's backend; internal articles stay internal."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.world import World, login

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
