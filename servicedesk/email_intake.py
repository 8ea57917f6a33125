"""An e-mail in: parse, store, route, and acknowledge with the reference (never answering a machine)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.workorders import Source
from core.services.context import Actor, ServiceContext
from core.store.models import WorkOrder
from servicedesk import intake, mail, outmail
from servicedesk.config import DeskConfig
from servicedesk.models import InboundMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Received:
    inbound_id: int
    outcome: str
    reference: str | None
    acknowledged: bool


def receive_mail(
    sessions: sessionmaker[Session], clock: Clock, cfg: DeskConfig, raw: bytes, envelope_from: str | None
) -> Received:
    parsed = mail.parse(raw, envelope_from)
    item = intake.Incoming(
        channel="email",
        source=Source.EMAIL,
        sender=parsed.sender or (envelope_from or ""),
        sender_name=parsed.sender_name or None,
        subject=parsed.subject,
        body=parsed.body,
        external_id=parsed.message_id,
        raw=raw,
        attachments=parsed.attachments,
        auto_reason=parsed.auto_reason,
        reference_id=parsed.reference_id,
        in_reply_to=parsed.in_reply_to,
        problems=parsed.problems,
    )
    with sessions() as session:
        ctx = ServiceContext(session, clock, Actor.system("mail-intake"))
        result = intake.receive(ctx, cfg, item)
        wo = result.work_order
        acknowledged = False
        if wo is not None and result.outcome in ("created", "duplicate") and parsed.sender:
            acknowledged = _acknowledge(ctx, cfg, result.message, wo, parsed)
        log.info(
            "mail_received",
            inbound_id=result.message.id,
            outcome=result.outcome,
            reference=wo.reference if wo else None,
            sender=parsed.sender,
        )
        return Received(result.message.id, result.outcome, wo.reference if wo else None, acknowledged)


def _acknowledge(
    ctx: ServiceContext, cfg: DeskConfig, msg: InboundMessage, wo: WorkOrder, parsed: mail.ParsedMail
) -> bool:
    domain = cfg.mail_from.rsplit("@", 1)[-1] or "fieldops.local"
    message_id = outmail.new_message_id(domain)
    msg.ack_message_id = message_id
    ctx.session.commit()  # recorded before sending: a reply can thread even if we crash right after
    topic = parsed.subject or "(无主题 / no subject)"
    text = (
        f"您好，我们已收到您的服务请求，编号 {wo.reference}。回复本邮件即可补充信息。\n"
        f"Hello, we have received your service request; its reference is {wo.reference}. "
        "Reply to this e-mail to add information.\n\n"
        f"> {topic}\n"
    )
    ack = outmail.compose(
        mail_from=cfg.mail_from,
        to=parsed.sender,
        subject=f"[{wo.reference}] 已受理 / Received: {topic}"[:300],
        text=text,
        message_id=message_id,
        in_reply_to=parsed.message_id,
    )
    return outmail.send(cfg.smtp_url, ack)
