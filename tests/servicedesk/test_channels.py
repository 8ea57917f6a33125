"""Phone, chat and portal intake through the real HTTP API; duplicates across channels; triage work."""

from __future__ import annotations

import json
import smtplib

from litestar.testing import TestClient

from core.store.models import WorkOrder
from fieldops.wiring import System
from servicedesk.chat import dingtalk_sign, json_sign
from servicedesk.models import InboundMessage, TicketComment
from tests.servicedesk.conftest import rows
from tests.servicedesk.test_email_intake import mail
from tests.world import World, login

T0_MS = str(1795397400 * 1000)  # 2026-11-23T01:30:00Z, the tests' clock


def test_a_phone_call_creates_a_work_order_found_by_asset_serial(desk: World, client: TestClient) -> None:
    headers = login(client, "dispatcher")
    r = client.post(
        "/intake/phone",
        json={"caller_phone": "13800000001", "summary": "冷水机不制冷", "asset_serial": "SN-001"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "created"
    wo = client.get(f"/work-orders/{r.json()['work_order_id']}", headers=headers).json()
    assert wo["source"] == "phone" and wo["asset_id"] == desk.ids["asset"]


def test_a_call_naming_a_reference_is_a_note(desk: World, client: TestClient, system: System) -> None:
    headers = login(client, "dispatcher")
    first = client.post(
        "/intake/phone",
        json={"caller_phone": "1", "summary": "lift noise", "site_id": desk.ids["site"]},
        headers=headers,
    ).json()
    r = client.post(
        "/intake/phone",
        json={
            "caller_phone": "1",
            "summary": "update",
            "notes": "now stopped",
            "reference": first["reference"],
        },
        headers=headers,
    )
    assert r.json()["outcome"] == "threaded" and r.json()["work_order_id"] == first["work_order_id"]
    assert [c.body for c in rows(system, TicketComment)] == ["now stopped"]
    bad = client.post(
        "/intake/phone",
        json={"caller_phone": "1", "summary": "x", "reference": "WO-9999999"},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "reference"


def test_engineers_and_customers_may_not_log_calls(desk: World, client: TestClient) -> None:
    for user in ("engineer", "customer"):
        r = client.post(
            "/intake/phone", json={"caller_phone": "1", "summary": "x"}, headers=login(client, user)
        )
        assert r.status_code == 403


def test_the_same_fault_by_email_and_phone_is_one_work_order(
    desk: World, client: TestClient, system: System, intake_port: int
) -> None:
    with smtplib.SMTP("127.0.0.1", intake_port) as smtp:
        smtp.send_message(mail("3号冷水机不制冷 SN-001", "冷水机不制冷，出水温度过高"))
    r = client.post(
        "/intake/phone",
        json={
            "caller_phone": "13800000001",
            "summary": "冷水机不制冷",
            "notes": "3号冷水机不制冷，出水温度高",
        },
        headers=login(client, "dispatcher"),
    )
    assert r.json()["outcome"] == "duplicate"
    [wo] = rows(system, WorkOrder)
    linked = [m for m in rows(system, InboundMessage) if m.work_order_id == wo.id]
    assert sorted(m.channel for m in linked) == ["email", "phone"]
    # A different problem at the same site is not a duplicate.
    other = client.post(
        "/intake/phone",
        json={"caller_phone": "13800000001", "summary": "大堂电梯门关不上", "notes": "door will not close"},
        headers=login(client, "dispatcher"),
    )
    assert other.json()["outcome"] == "created"


def test_split_and_merge(desk: World, client: TestClient, system: System) -> None:
    headers = login(client, "dispatcher")
    call = {"caller_phone": "13800000001", "summary": "冷水机不制冷 SN-001"}
    first = client.post("/intake/phone", json=call, headers=headers).json()
    dup = client.post("/intake/phone", json=call, headers=headers).json()
    assert dup["outcome"] == "duplicate"
    split = client.post(f"/desk/inbound/{dup['inbound_message_id']}/split", headers=headers)
    assert split.status_code == 201 and split.json()["work_order_id"] != first["work_order_id"]
    merged = client.post(
        f"/desk/work-orders/{split.json()['work_order_id']}/merge",
        json={"into_work_order_id": first["work_order_id"]},
        headers=headers,
    )
    assert merged.status_code == 200, merged.text
    statuses = {w.id: w.status for w in rows(system, WorkOrder)}
    assert statuses[split.json()["work_order_id"]] == "cancelled"
    assert {m.work_order_id for m in rows(system, InboundMessage)} == {first["work_order_id"]}


def test_triage_queue_accept_link_dismiss(desk: World, client: TestClient) -> None:
    headers = login(client, "dispatcher")
    ids = []
    for n in range(3):
        r = client.post(
            "/intake/phone", json={"caller_phone": f"1999{n}", "summary": f"漏水 {n}"}, headers=headers
        )
        assert r.json()["outcome"] == "triage"
        ids.append(r.json()["inbound_message_id"])
    queue = client.get("/desk/inbound", params={"state": "triage"}, headers=headers).json()
    assert {m["id"] for m in queue} == set(ids) and queue[0]["proposal"]["priority"] == "P2"
    accepted = client.post(
        f"/desk/inbound/{ids[0]}/accept", json={"site_id": desk.ids["site_b"]}, headers=headers
    )
    assert accepted.status_code == 201, accepted.text
    linked = client.post(
        f"/desk/inbound/{ids[1]}/link",
        json={"work_order_id": accepted.json()["work_order_id"]},
        headers=headers,
    )
    assert linked.json()["state"] == "threaded"
    dismissed = client.post(f"/desk/inbound/{ids[2]}/dismiss", json={"reason": "spam"}, headers=headers)
    assert dismissed.json()["state"] == "dismissed"
    again = client.post(f"/desk/inbound/{ids[2]}/dismiss", json={"reason": "spam"}, headers=headers)
    assert again.status_code == 409


def test_vip_customers_are_raised(desk: World, client: TestClient) -> None:
    admin = login(client, "admin")
    assert (
        client.put(
            f"/desk/customers/{desk.ids['customer_b']}/profile", json={"vip": True}, headers=admin
        ).status_code
        == 200
    )
    r = client.post(
        "/intake/phone",
        json={"caller_phone": "1", "summary": "quote for maintenance", "customer_id": desk.ids["customer_b"]},
        headers=admin,
    ).json()
    wo = client.get(f"/work-orders/{r['work_order_id']}", headers=admin).json()
    assert wo["priority"] == "P3"  # "maintenance" → P4, raised one level for a VIP


def _channel(client: TestClient, name: str, adapter: str) -> str:
    r = client.post(
        "/desk/chat-channels",
        json={"name": name, "adapter": adapter, "secret": "s3cret-s3cret-s3cret"},
        headers=login(client, "admin"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


def test_dingtalk_robot_webhook(desk: World, client: TestClient, system: System) -> None:
    secret = _channel(client, "dingtalk", "dingtalk")
    body = json.dumps(
        {
            "msgtype": "text",
            "text": {"content": "冷水机 SN-001 漏水"},
            "msgId": "msg-1",
            "senderStaffId": "staff-zhang",
            "senderNick": "张经理",
            "conversationId": "cid",
        },
        ensure_ascii=False,
    ).encode()
    headers = {"timestamp": T0_MS, "sign": dingtalk_sign(secret, T0_MS), "content-type": "application/json"}
    r = client.post("/intake/chat/dingtalk", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["msgtype"] == "text" and "WO-" in r.json()["text"]["content"]
    again = client.post("/intake/chat/dingtalk", content=body, headers=headers)  # a redelivery
    assert again.status_code == 200
    [wo] = rows(system, WorkOrder)
    assert wo.source == "chat" and len(rows(system, InboundMessage)) == 1
    bad = client.post("/intake/chat/dingtalk", content=body, headers={**headers, "sign": "AAAA"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")
    old = str(int(T0_MS) - 2 * 3600 * 1000)
    stale = client.post(
        "/intake/chat/dingtalk", content=body, headers={"timestamp": old, "sign": dingtalk_sign(secret, old)}
    )
    assert stale.status_code == 401


def test_plain_json_webhook(desk: World, client: TestClient, system: System) -> None:
    secret = _channel(client, "acme-json", "json")
    body = json.dumps({"message_id": "m1", "sender": "zhang", "text": "SN-001 compressor down"}).encode()
    ts = "1795397400"
    r = client.post(
        "/intake/chat/acme-json",
        content=body,
        headers={"x-fieldops-timestamp": ts, "x-fieldops-signature": json_sign(secret, ts, body)},
    )
    assert r.status_code == 200 and r.json()["outcome"] == "created"
    unknown = client.post("/intake/chat/nope", content=body, headers={"x-fieldops-timestamp": ts})
    assert unknown.status_code == 401
    bad_body = b"{not json"
    r = client.post(
        "/intake/chat/acme-json",
        content=bad_body,
        headers={"x-fieldops-timestamp": ts, "x-fieldops-signature": json_sign(secret, ts, bad_body)},
    )
    assert r.status_code == 422 and r.json()["field"] == "body"
