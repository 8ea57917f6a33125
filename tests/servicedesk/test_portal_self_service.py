"""The portal beyond the basics: the page itself, photo attachments, surveys sent on completion and
answered in the portal, and the deflection count of suggested articles — each across two companies."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

from litestar.testing import TestClient

from core.domain.clock import FixedClock
from fieldops.wiring import System
from servicedesk.attachments import MAX_ATTACHMENT_BYTES
from servicedesk.models import SurveyInvitation
from tests.servicedesk.conftest import Sink, finish_job, open_request, rows, wait_for
from tests.world import World, login


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- the page


def test_the_page_and_its_files_are_public_but_the_api_is_not(client: TestClient, world: World) -> None:
    page = client.get("/portal")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert b"/portal/static/portal.js" in page.content
    for name, kind in (("portal.js", "javascript"), ("portal.css", "text/css")):
        asset = client.get(f"/portal/static/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
    # The page being public opens nothing else below /portal.
    for path in ("/portal/assets", "/portal/work-orders", "/portal/surveys", "/portal/knowledge/suggest"):
        assert client.get(path).status_code == 401, path
    assert client.get("/portal/static/../../api/app.py").status_code == 404


# ---------------------------------------------------------------- attachments


def test_photos_are_checked_kept_and_shown_to_their_company_only(desk: World, client: TestClient) -> None:
    a, b = login(client, "customer"), login(client, "customer_b")
    mine = open_request(client, a, asset_id=desk.ids["asset"])["work_order_id"]
    theirs = open_request(client, b, asset_id=desk.ids["asset_b"])["work_order_id"]
    photo = png()
    up = client.post(
        f"/portal/work-orders/{mine}/attachments",
        files={"file": ("../../现场照片.png", photo, "application/octet-stream")},
        headers=a,
    )
    assert up.status_code == 201, up.text
    info = up.json()
    # The bytes decide the type, and the name loses its path.
    assert info["content_type"] == "image/png" and info["size"] == len(photo)
    assert info["filename"] == "现场照片.png"
    got = client.get(info["path"], headers=a)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in got.headers["content-disposition"]
    detail = client.get(f"/portal/work-orders/{mine}", headers=a).json()
    assert [x["id"] for x in detail["attachments"]] == [info["id"]]
    # The desk sees it too.
    dispatcher = login(client, "dispatcher")
    staff = client.get(f"/desk/work-orders/{mine}/attachments", headers=dispatcher).json()
    assert [x["id"] for x in staff] == [info["id"]]
    assert client.get(staff[0]["path"], headers=dispatcher).content == photo

    # Not a photo, PDF, document or text: refused by content, whatever it claims to be.
    exe = client.post(
        f"/portal/work-orders/{mine}/attachments",
        files={"file": ("cat.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)) * 4, "image/jpeg")},
        headers=a,
    )
    assert exe.status_code == 422 and exe.json()["field"] == "file"
    big = client.post(
        f"/portal/work-orders/{mine}/attachments",
        files={"file": ("big.png", photo + b"\x00" * MAX_ATTACHMENT_BYTES, "image/png")},
        headers=a,
    )
    assert big.status_code == 422 and "larger than" in big.json()["detail"]
    huge = client.post(
        f"/portal/work-orders/{mine}/attachments",
        files={"file": ("huge.png", photo + b"\x00" * (MAX_ATTACHMENT_BYTES + 200_000), "image/png")},
        headers=a,
    )
    assert huge.status_code == 413

    # Across companies: exactly like a missing work order or attachment; nothing written.
    missing = 999_999
    for method, path in (
        ("GET", "/portal/work-orders/{}/attachments"),
        ("GET", "/portal/work-orders/{}/attachments/" + str(info["id"])),
        ("POST", "/portal/work-orders/{}/attachments"),
    ):
        files = {"file": ("x.png", photo, "image/png")} if method == "POST" else None
        foreign = client.request(method, path.format(mine), headers=b, files=files)
        absent = client.request(method, path.format(missing), headers=b, files=files)
        assert foreign.status_code == absent.status_code == 404, path
        assert foreign.json()["detail"].replace(str(mine), "N") == absent.json()["detail"].replace(
            str(missing), "N"
        )
    # Their own work order with our attachment's id: still nothing.
    assert client.get(f"/portal/work-orders/{theirs}/attachments/{info['id']}", headers=b).status_code == 404
    assert client.get(f"/portal/work-orders/{theirs}/attachments", headers=b).json() == []
    assert len(client.get(f"/portal/work-orders/{mine}/attachments", headers=a).json()) == 1


# ---------------------------------------------------------------- surveys


def test_a_finished_job_sends_a_survey_answered_in_the_portal(
    desk: World, client: TestClient, system: System, sink: tuple[Sink, int]
) -> None:
    a, b = login(client, "customer"), login(client, "customer_b")
    dispatcher = login(client, "dispatcher")
    wo = open_request(client, a, asset_id=desk.ids["asset"])["work_order_id"]
    r = client.post(
        f"/work-orders/{wo}/visits",
        json={
            "engineer_id": desk.ids["engineer"],
            "planned_start": "2026-11-23T06:00:00Z",
            "planned_end": "2026-11-23T08:00:00Z",
            "dispatch": True,
        },
        headers=dispatcher,
    )
    assert r.status_code == 201, r.text
    # Once dispatched, the customer sees who comes and when.
    detail = client.get(f"/portal/work-orders/{wo}", headers=a).json()
    assert detail["status"] == "dispatched" and detail["engineer"] == "王工"
    assert detail["eta"] == "2026-11-23T06:00:00+00:00"
    assert client.get("/portal/surveys", headers=a).json() == []
    for step in ("accepted", "en_route", "on_site", "work_done", "signed_off"):
        assert client.post(
            f"/visits/{r.json()['id']}/transitions", json={"to": step}, headers=dispatcher
        ).is_success

    # The survey mail reaches the contact, through the outgoing-mail path.
    handler, _ = sink
    wait_for(lambda: any("服务评价" in str(m["Subject"]) for m in handler.messages))
    (mail,) = [m for m in handler.messages if "服务评价" in str(m["Subject"])]
    assert mail["To"] == "zhang@shanghai-tower.example" and f"WO-{wo:07d}" in str(mail["Subject"])
    assert "/surveys/" in mail.get_body().get_content()  # type: ignore[union-attr]

    pending = client.get("/portal/surveys", headers=a).json()
    assert [(s["work_order_id"], s["kind"], s["min"], s["max"]) for s in pending] == [(wo, "csat", 1, 5)]
    survey_id = pending[0]["id"]
    # The other company neither sees nor answers it (same answer as a survey that does not exist).
    assert client.get("/portal/surveys", headers=b).json() == []
    foreign = client.post(f"/portal/surveys/{survey_id}", json={"score": 1}, headers=b)
    absent = client.post("/portal/surveys/999999", json={"score": 1}, headers=b)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json()["detail"].replace(str(survey_id), "N") == absent.json()["detail"].replace(
        "999999", "N"
    )
    out_of_scale = client.post(f"/portal/surveys/{survey_id}", json={"score": 9}, headers=a)
    assert out_of_scale.status_code == 422 and out_of_scale.json()["field"] == "score"
    answered = client.post(f"/portal/surveys/{survey_id}", json={"score": 5, "comment": "很及时"}, headers=a)
    assert answered.status_code == 201, answered.text
    assert client.get("/portal/surveys", headers=a).json() == []
    again = client.post(f"/portal/surveys/{survey_id}", json={"score": 1}, headers=a)
    assert again.status_code == 409
    scores = client.get("/surveys/scores?by=customer", headers=dispatcher).json()
    assert scores == [
        {
            "customer": str(desk.ids["customer"]),
            "kind": "csat",
            "responses": 1,
            "average": 5.0,
            "satisfied_pct": 100.0,
        }
    ]
    # Closing the completed job does not ask again.
    closed = client.post(f"/work-orders/{wo}/transitions", json={"to": "closed"}, headers=dispatcher)
    assert closed.status_code == 200, closed.text
    assert len(rows(system, SurveyInvitation)) == 1


def test_surveys_on_completion_respect_the_throttle_and_need_a_contact(
    desk: World, client: TestClient, system: System, clock: FixedClock
) -> None:
    a, b = login(client, "customer"), login(client, "customer_b")
    dispatcher = login(client, "dispatcher")
    first = open_request(client, a, asset_id=desk.ids["asset"])["work_order_id"]
    finish_job(client, dispatcher, first, desk.ids["engineer"], at="2026-11-23T06:00:00Z")
    clock.advance(timedelta(days=3))
    second = open_request(client, a, asset_id=desk.ids["asset"], description="冷却塔风机异响")[
        "work_order_id"
    ]
    finish_job(client, dispatcher, second, desk.ids["engineer"], at="2026-11-26T06:00:00Z")
    # One survey per contact per 30 days: the second job is not asked about.
    assert [i.work_order_id for i in rows(system, SurveyInvitation)] == [first]
    clock.advance(timedelta(days=31))
    third = open_request(client, a, asset_id=desk.ids["asset"], description="水泵振动")["work_order_id"]
    finish_job(client, dispatcher, third, desk.ids["engineer"], at="2026-12-27T06:00:00Z")
    assert [i.work_order_id for i in rows(system, SurveyInvitation)] == [first, third]
    # Company B's only contact (bob@) gets B's survey — never A's contact.
    theirs = open_request(client, b, asset_id=desk.ids["asset_b"])["work_order_id"]
    finish_job(client, dispatcher, theirs, desk.ids["engineer"], at="2026-12-28T06:00:00Z")
    by_wo = {i.work_order_id: i.contact_email for i in rows(system, SurveyInvitation)}
    assert by_wo[theirs] == "bob@acme.example" and by_wo[third] == "zhang@shanghai-tower.example"


# ---------------------------------------------------------------- deflection


def test_deflection_counts_suggested_reads_that_spared_a_request(
    desk: World, client: TestClient, clock: FixedClock
) -> None:
    admin, dispatcher = login(client, "admin"), login(client, "dispatcher")
    a, b = login(client, "customer"), login(client, "customer_b")
    ids = []
    for title, body in (
        ("冷水机不制冷自查", "检查冷却水流量。"),
        ("Chiller not cooling: self-check", "Check the condenser water flow."),
    ):
        r = client.post(
            "/knowledge",
            json={"title": title, "body": body, "status": "published", "visibility": "public"},
            headers=admin,
        )
        ids.append(r.json()["id"])
    cn, en = ids
    suggested = client.get(
        "/portal/knowledge/suggest", params={"q": "冷水机不制冷了", "asset_id": desk.ids["asset"]}, headers=a
    ).json()
    assert suggested[0]["id"] == cn

    def figures() -> dict:
        return dict(client.get("/desk/deflection", headers=dispatcher).json())

    # Read (twice: one read), then a request anyway → submitted, not deflected.
    for _ in range(2):
        assert client.get(f"/portal/knowledge/{cn}?suggested=true", headers=a).status_code == 200
    client.get(f"/portal/knowledge/{en}", headers=a)  # browsing the knowledge base is not a suggestion read
    assert figures()["reads"] == 1 and figures()["pending"] == 1
    open_request(client, a, asset_id=desk.ids["asset"])
    # Read and said it helped → deflected at once.
    client.get(f"/portal/knowledge/{en}?suggested=true", headers=a)
    client.post(f"/portal/knowledge/{en}/feedback", json={"helpful": True}, headers=a)
    # Read, nothing else yet → pending; another company's request does not decide it.
    client.get(f"/portal/knowledge/{cn}?suggested=true", headers=a)
    open_request(client, b, asset_id=desk.ids["asset_b"])
    now = figures()
    assert {k: now[k] for k in ("reads", "deflected", "submitted", "pending", "marked_helpful")} == {
        "reads": 3,
        "deflected": 1,
        "submitted": 1,
        "pending": 1,
        "marked_helpful": 1,
    }
    assert now["deflection_rate"] == 0.5
    by_article = {x["article_id"]: x for x in now["by_article"]}
    assert (by_article[cn]["submitted"], by_article[cn]["pending"], by_article[en]["deflected"]) == (1, 1, 1)
    # A day later with no request: the pending read spared one.
    clock.advance(timedelta(hours=25))
    later = figures()
    assert (later["deflected"], later["submitted"], later["pending"]) == (2, 1, 0)
    assert later["deflection_rate"] == 2 / 3
    # Staff only; customers see nothing of it.
    assert client.get("/desk/deflection", headers=a).status_code == 403
    # Another company's internal or missing article: the same 404 with or without the suggestion flag.
    assert client.get("/portal/knowledge/999999?suggested=true", headers=b).status_code == 404
