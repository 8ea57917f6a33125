"""E-mail over real SMTP to our intake; acknowledgements caught by a real local SMTP sink."""

from __future__ import annotations

import smtplib
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from core.store.models import WorkOrder
from fieldops.wiring import System
from servicedesk.models import InboundMessage, TicketComment
from tests.servicedesk.conftest import Sink, rows
from tests.world import World

ZHANG = "zhang@shanghai-tower.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def send(port: int, msg: EmailMessage | MIMEMultipart | bytes, sender: str = ZHANG) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        if isinstance(msg, bytes):
            smtp.sendmail(sender, ["service@fieldops.test"], msg)
        else:
            smtp.send_message(msg, from_addr=sender, to_addrs=["service@fieldops.test"])


def mail(subject: str, body: str, sender: str = ZHANG, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@fieldops.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, body, sender)))}@customer.example>"
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content(body)
    return msg


def test_a_known_sender_gets_a_work_order_and_an_acknowledgement(
    desk: World, system: System, intake_port: int, sink: tuple[Sink, int]
) -> None:
    msg = mail("冷水机不制冷 SN-001", "3号冷水机停机，压缩机报警。")
    msg.add_attachment(PNG, maintype="image", subtype="png", filename="报警.png")
    send(intake_port, msg)

    [wo] = rows(system, WorkOrder)
    assert (
        wo.source == "email" and wo.asset_id == desk.ids["asset"] and wo.customer_id == desk.ids["customer"]
    )
    assert {s.skill_code for s in wo.skills} == {"hvac"}
    assert wo.priority == 2  # "停机" → P2 (the gold floor is P2 as well)
    [inbound] = rows(system, InboundMessage)
    assert inbound.state == "linked" and inbound.work_order_id == wo.id and inbound.raw_blob
    assert inbound.attachments[0]["content_type"] == "image/png"
    assert (
        system.runtime.blobs is not None and system.runtime.blobs.get(inbound.attachments[0]["blob"]) == PNG
    )
    assert inbound.proposal["coverage"]["contract"]["tier"] == "gold"
    [ack] = sink[0].messages
    assert ack["To"] == ZHANG and f"[{wo.reference}]" in ack["Subject"]
    assert ack["Auto-Submitted"] == "auto-replied" and ack["In-Reply-To"] == msg["Message-ID"]
    assert ack["Message-ID"] == inbound.ack_message_id


def test_replies_thread_onto_the_same_work_order(
    desk: World, system: System, intake_port: int, sink: tuple[Sink, int]
) -> None:
    send(intake_port, mail("Chiller SN-001 not cooling", "It stopped this morning."))
    [wo] = rows(system, WorkOrder)
    ack = sink[0].messages[0]
    send(intake_port, mail("Re: whatever", "Still down, please hurry.", In_Reply_To=ack["Message-ID"]))
    send(intake_port, mail(f"Re: [{wo.reference}] Received", "Engineer may use gate 3."))

    assert len(rows(system, WorkOrder)) == 1
    comments = rows(system, TicketComment)
    assert [c.work_order_id for c in comments] == [wo.id, wo.id]
    assert "gate 3" in comments[1].body
    assert [m.state for m in rows(system, InboundMessage)] == ["linked", "threaded", "threaded"]
    assert len(sink[0].messages) == 1  # replies are not acknowledged again


def test_a_stranger_cannot_write_into_a_ticket_by_guessing_its_reference(
    desk: World, system: System, intake_port: int
) -> None:
    send(intake_port, mail("Chiller SN-001 not cooling", "stopped"))
    [wo] = rows(system, WorkOrder)
    send(intake_port, mail(f"Re: [{wo.reference}]", "spam", sender="mallory@evil.example"))
    assert rows(system, TicketComment) == []
    assert rows(system, InboundMessage)[-1].state == "triage"


def test_an_unknown_sender_lands_in_triage_and_is_not_acknowledged(
    desk: World, system: System, intake_port: int, sink: tuple[Sink, int]
) -> None:
    send(intake_port, mail("电梯困人！", "B座2号电梯困人", sender="someone@unknown.example"))
    [inbound] = rows(system, InboundMessage)
    assert inbound.state == "triage" and inbound.work_order_id is None
    assert inbound.proposal["priority"] == "P1" and inbound.proposal["skills"] == ["lift"]
    assert rows(system, WorkOrder) == [] and sink[0].messages == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X_Autoreply": "yes"},
        {"Return_Path": "<>"},
    ],
)
def test_auto_replies_are_stored_but_never_answered(
    desk: World, system: System, intake_port: int, sink: tuple[Sink, int], headers: dict[str, str]
) -> None:
    send(intake_port, mail("Out of office", "I am away until Monday.", **headers))
    [inbound] = rows(system, InboundMessage)
    assert inbound.state == "ignored" and inbound.auto_reply
    assert rows(system, WorkOrder) == [] and sink[0].messages == []


def test_a_bounce_from_the_mailer_daemon_does_not_loop(
    desk: World, system: System, intake_port: int, sink: tuple[Sink, int]
) -> None:
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("Delivery failed"))
    send(intake_port, report, sender="")
    [inbound] = rows(system, InboundMessage)
    assert inbound.state == "ignored" and sink[0].messages == []


RAW_CASES = {
    "no body": b"From: zhang@shanghai-tower.example\r\nSubject: SN-001\r\n\r\n",
    "broken MIME": (
        b"From: zhang@shanghai-tower.example\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@\r\n--YY--\r\n"
    ),
    "unknown charset": (
        b"From: zhang@shanghai-tower.example\r\nSubject: =?x-klingon?B?cXVlc3Rpb24=?=\r\n"
        b"Content-Type: text/plain; charset=x-klingon\r\n\r\nqapla' SN-001 \xff\xfe\r\n"
    ),
    "GB18030 subject": (
        b"From: zhang@shanghai-tower.example\r\nSubject: =?gb18030?B?"
        + __import__("base64").b64encode("空调漏水".encode("gb18030"))
        + b"?=\r\nContent-Type: text/plain; charset=gb18030\r\n\r\n"
        + "机房空调漏水 SN-001".encode("gb18030")
        + b"\r\n"
    ),
}


@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_malformed_mail_is_stored_never_lost(
    desk: World, system: System, intake_port: int, case: str
) -> None:
    send(intake_port, RAW_CASES[case])
    [inbound] = rows(system, InboundMessage)
    assert inbound.state in ("linked", "triage")
    if case == "GB18030 subject":
        assert inbound.subject == "空调漏水" and "机房空调漏水" in inbound.body
        assert inbound.proposal["priority"] == "P2"  # 漏水 → P2


def test_utf8_chinese_subject(desk: World, system: System, intake_port: int) -> None:
    msg = mail("", "ignored")
    del msg["Subject"]
    msg["Subject"] = Header("冷水机报警 SN-001", "utf-8").encode()
    send(intake_port, msg)
    [inbound] = rows(system, InboundMessage)
    assert inbound.subject == "冷水机报警 SN-001" and inbound.state == "linked"


def test_a_30_mb_attachment_is_refused_clearly(desk: World, system: System, intake_port: int) -> None:
    msg = mail("big", "see attachment")
    msg.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x01" * (30 * 1024 * 1024), maintype="image", subtype="png")
    with pytest.raises(smtplib.SMTPException) as exc:
        send(intake_port, msg)
    assert "552" in str(exc.value) or "Too much" in str(exc.value)
    assert rows(system, InboundMessage) == []


def test_unwanted_attachments_are_dropped_with_a_note(desk: World, system: System, intake_port: int) -> None:
    msg = mail("SN-001 broken", "see attached")
    msg.add_attachment(
        b"MZ\x90\x00" + b"\x00" * 100, maintype="application", subtype="octet-stream", filename="x.exe"
    )
    send(intake_port, msg)
    [inbound] = rows(system, InboundMessage)
    assert "rejected" in inbound.attachments[0] and "blob" not in inbound.attachments[0]
    assert inbound.state == "linked"
