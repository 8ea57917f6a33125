"""The customer portal: each company sees and writes only its own records (an authorization matrix)."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.world import World, login


def _request(client: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    r = client.post("/portal/requests", json={"description": "冷水机不制冷", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_customer_opens_and_follows_a_request(desk: World, client: TestClient) -> None:
    me = login(client, "customer")
    assets = client.get("/portal/assets", headers=me).json()
    assert [a["serial"] for a in assets] == ["SN-001"] and assets[0]["coverage"]["contract"]["tier"] == "gold"
    window = {"start": "2026-11-24T01:00:00Z", "end": "2026-11-24T04:00:00Z"}
    opened = _request(client, me, asset_id=desk.ids["asset"], preferred_windows=[window])
    assert opened["outcome"] == "created"
    detail = client.get(f"/portal/work-orders/{opened['work_order_id']}", headers=me).json()
    assert detail["source"] == "portal" and detail["timeline"][0]["status"] == "new" and detail["eta"] is None
    dispatcher = login(client, "dispatcher")
    wo = client.get(f"/work-orders/{opened['work_order_id']}", headers=dispatcher).json()
    assert wo["windows"] == [window]
    client.post(
        f"/desk/work-orders/{opened['work_order_id']}/comments",
        json={"body": "internal: VIP, call first", "internal": True},
        headers=dispatcher,
    )
    client.post(
        f"/portal/work-orders/{opened['work_order_id']}/comments", json={"body": "gate 3 please"}, headers=me
    )
    seen = client.get(f"/portal/work-orders/{opened['work_order_id']}/comments", headers=me).json()
    assert [c["body"] for c in seen] == ["gate 3 please"]


def test_no_read_or_write_across_companies(desk: World, client: TestClient) -> None:
    a, b = login(client, "customer"), login(client, "customer_b")
    mine = _request(client, a, asset_id=desk.ids["asset"])
    theirs = _request(client, b, asset_id=desk.ids["asset_b"])
    wo_a, wo_b = mine["work_order_id"], theirs["work_order_id"]
    missing = 999_999
    for me, own, other, other_asset, other_site in (
        (a, wo_a, wo_b, desk.ids["asset_b"], desk.ids["site_b"]),
        (b, wo_b, wo_a, desk.ids["asset"], desk.ids["site"]),
    ):
        # Lists: only one's own.
        assert [w["id"] for w in client.get("/portal/work-orders", headers=me).json()] == [own]
        site_ids = {s["id"] for s in client.get("/portal/sites", headers=me).json()}
        assert other_site not in site_ids
        assert other_asset not in {x["id"] for x in client.get("/portal/assets", headers=me).json()}
        # Records: another company's looks exactly like one that does not exist.
        for path in (
            "/portal/work-orders/{}",
            "/portal/work-orders/{}/comments",
            "/portal/work-orders/{}/report.pdf",
        ):
            foreign, absent = (
                client.get(path.format(other), headers=me),
                client.get(path.format(missing), headers=me),
            )
            assert foreign.status_code == absent.status_code == 404
            assert foreign.json()["detail"].replace(str(other), "N") == absent.json()["detail"].replace(
                str(missing), "N"
            )
        post = client.post(f"/portal/work-orders/{other}/comments", json={"body": "hi"}, headers=me)
        assert post.status_code == 404
        for body in ({"asset_id": other_asset}, {"site_id": other_site}):
            r = client.post("/portal/requests", json={"description": "x", **body}, headers=me)
            assert r.status_code == 422 and "does not exist" in r.json()["detail"]
    # Nothing was written across: each order has only its owner's comments (none).
    dispatcher = login(client, "dispatcher")
    for wo in (wo_a, wo_b):
        assert client.get(f"/desk/work-orders/{wo}/comments", headers=dispatcher).json() == []


def test_staff_cannot_use_the_portal_and_customers_cannot_use_the_desk(
    desk: World, client: TestClient
) -> None:
    assert client.get("/portal/work-orders", headers=login(client, "dispatcher")).status_code == 403
    customer = login(client, "customer")
    for path in ("/desk/inbound", "/desk/contacts", "/work-orders"):
        assert client.get(path, headers=customer).status_code == 403
    assert client.get("/portal/work-orders").status_code == 401


def test_the_service_report_comes_when_the_job_is_done(desk: World, client: TestClient) -> None:
    from core.domain.lifecycle import WorkOrderStatus
    from core.store.models import WorkOrder

    me = login(client, "customer")
    opened = _request(client, me, asset_id=desk.ids["asset"])
    path = f"/portal/work-orders/{opened['work_order_id']}"
    assert client.get(path, headers=me).json()["service_report_path"] is None
    early = client.get(f"{path}/report.pdf", headers=me)
    assert early.status_code == 409 and "not finished" in early.json()["detail"]
    ctx = desk.ctx()
    with ctx.session:
        ctx.session.get_one(WorkOrder, opened["work_order_id"]).status = WorkOrderStatus.COMPLETED
        ctx.session.commit()
    detail = client.get(path, headers=me).json()
    assert detail["service_report_available"] and detail["service_report_path"] == f"{path}/report.pdf"
    pdf = client.get(detail["service_report_path"], headers=me)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
