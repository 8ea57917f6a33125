"""What agents do at the desk: log a call, work the triage queue, merge and split, comment, chat channels."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import WorkOrderStatus
from core.domain.workorders import Priority, Source
from core.services import workorders
from core.services.common import Id, Input, LongText, Name, Phone, get_or_404, get_ref
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Asset, Customer, Site, WorkOrder
from servicedesk import chat, intake
from servicedesk.config import DeskConfig
from servicedesk.models import ChatChannel, InboundMessage, TicketComment
from servicedesk.triage import Proposal

Serial = Annotated[str, Meta(min_length=1, max_length=120)]
Reference = Annotated[str, Meta(max_length=32)]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]


class CallInput(Input):
    caller_phone: Phone
    summary: Name
    notes: LongText = ""
    caller_name: Annotated[str, Meta(max_length=200)] | None = None
    # Any one of these points at what the call is about; a reference makes the call a note on that order.
    reference: Reference | None = None
    customer_id: Id | None = None
    site_id: Id | None = None
    asset_serial: Serial | None = None


class AcceptInput(Input):
    site_id: Id
    asset_id: Id | None = None
    priority: Priority | None = None
    title: Name | None = None


class LinkInput(Input):
    work_order_id: Id


class DismissInput(Input):
    reason: Reason


class MergeInput(Input):
    into_work_order_id: Id


class CommentInput(Input):
    body: Annotated[str, Meta(min_length=1, max_length=20_000)]
    internal: bool = False


class ChannelInput(Input):
    name: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9\-_]*$")]
    adapter: Annotated[str, Meta(pattern="^(dingtalk|json)$")]
    # Omitted: one is generated and shown once.
    secret: Annotated[str, Meta(min_length=16, max_length=200)] | None = None


def parse_reference(text: str) -> int:
    match = re.fullmatch(r"\s*(?:WO-)?0*(\d{1,15})\s*", text, re.IGNORECASE)
    if not match:
        raise Invalid("a reference looks like WO-0000123", field="reference")
    return int(match.group(1))


# ---------------------------------------------------------------- phone


def log_call(ctx: ServiceContext, cfg: DeskConfig, data: CallInput) -> intake.Outcome:
    if data.customer_id is not None:
        get_ref(ctx.session, Customer, data.customer_id, "customer_id", "customer")
    if data.site_id is not None:
        site = get_ref(ctx.session, Site, data.site_id, "site_id", "site")
        if data.customer_id is not None and site.customer_id != data.customer_id:
            raise Invalid(f"site {site.id} is not the customer's", field="site_id")
    customer_id = data.customer_id
    if customer_id is None and data.site_id is not None:
        customer_id = ctx.session.get_one(Site, data.site_id).customer_id
    if customer_id is None and data.asset_serial:
        asset = ctx.session.scalars(sa.select(Asset).where(Asset.serial == data.asset_serial)).first()
        customer_id = asset.site.customer_id if asset else None
    reference_id = None
    if data.reference:
        reference_id = parse_reference(data.reference)
        wo = ctx.session.get(WorkOrder, reference_id)
        if wo is None:
            raise Invalid(f"work order {data.reference} does not exist", field="reference")
        customer_id = wo.customer_id
    item = intake.Incoming(
        channel="phone",
        source=Source.PHONE,
        sender=data.caller_phone,
        sender_name=data.caller_name,
        subject=data.summary,
        body=data.notes or data.summary,
        reference_id=reference_id,
        customer_id=customer_id,
        site_id=data.site_id,
        asset_serial=data.asset_serial,
    )
    return intake.receive(ctx, cfg, item)


# ---------------------------------------------------------------- chat


def create_channel(ctx: ServiceContext, data: ChannelInput) -> tuple[ChatChannel, str]:
    if ctx.session.scalars(sa.select(ChatChannel).where(ChatChannel.name == data.name)).first():
        raise Conflict(f"channel {data.name!r} exists")
    secret = data.secret or secrets.token_urlsafe(32)
    channel = ChatChannel(
        name=data.name, adapter=data.adapter, secret=secret, active=True, created_at=ctx.now()
    )
    ctx.session.add(channel)
    ctx.session.flush()
    audit(ctx, "chat_channel", channel.id, "created", data={"name": data.name, "adapter": data.adapter})
    ctx.session.commit()
    return channel, secret


def receive_chat(
    ctx: ServiceContext, cfg: DeskConfig, name: str, headers: dict[str, str], body: bytes, now: datetime
) -> tuple[ChatChannel, intake.Outcome]:
    channel = ctx.session.scalars(
        sa.select(ChatChannel).where(ChatChannel.name == name, ChatChannel.active.is_(True))
    ).first()
    if channel is None:
        # Same answer as a bad signature would get from a caller's point of view: nothing to probe.
        raise chat.SignatureRejected("unknown channel")
    msg = chat.read(channel.adapter, channel.secret, headers, body, now)
    item = intake.Incoming(
        channel=channel.name,
        source=Source.CHAT,
        sender=msg.sender,
        sender_name=msg.sender_name,
        subject=msg.subject,
        body=msg.text,
        external_id=msg.external_id,
        reference_id=_reference_in(msg.text),
    )
    if channel.adapter == "dingtalk":
        # Contacts name their DingTalk id once, whichever DingTalk robot they write to.
        from servicedesk import contacts

        item.contact = contacts.by_im(ctx, "dingtalk", msg.sender)
    return channel, intake.receive(ctx, cfg, item)


def _reference_in(text: str) -> int | None:
    match = re.search(r"\bWO-(\d{7,})\b", text)
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- triage


def list_inbound(ctx: ServiceContext, state: str | None, limit: int) -> list[InboundMessage]:
    query = sa.select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if state:
        query = query.where(InboundMessage.state == state)
    return list(ctx.session.scalars(query))


def _triage_item(ctx: ServiceContext, msg_id: int) -> InboundMessage:
    msg = get_or_404(ctx.session, InboundMessage, msg_id, "inbound message")
    if msg.state != "triage":
        raise Conflict(f"message {msg_id} is {msg.state}, not waiting in triage")
    return msg


def accept(ctx: ServiceContext, msg_id: int, data: AcceptInput) -> WorkOrder:
    msg = _triage_item(ctx, msg_id)
    site = get_ref(ctx.session, Site, data.site_id, "site_id", "site")
    proposal = Proposal(**{k: v for k, v in msg.proposal.items() if k in Proposal.__slots__})
    if data.priority is not None:
        proposal = Proposal(**{**msg.proposal, "priority": data.priority.value})
    if data.title:
        msg.subject = data.title
    msg.customer_id = site.customer_id
    msg.site_id = site.id
    msg.asset_id = data.asset_id
    source = (
        Source.EMAIL if msg.channel == "email" else Source.PHONE if msg.channel == "phone" else Source.CHAT
    )
    return intake.create_from(ctx, msg, source, site.id, data.asset_id, proposal)


def link(ctx: ServiceContext, msg_id: int, data: LinkInput) -> InboundMessage:
    msg = _triage_item(ctx, msg_id)
    wo = get_ref(ctx.session, WorkOrder, data.work_order_id, "work_order_id", "work order")
    _copy_as_comment(ctx, msg, wo)
    msg.state = "threaded"
    msg.work_order_id = wo.id
    audit(ctx, "inbound_message", msg.id, "linked_by_agent", data={"work_order_id": wo.id})
    ctx.session.commit()
    return msg


def dismiss(ctx: ServiceContext, msg_id: int, data: DismissInput) -> InboundMessage:
    msg = _triage_item(ctx, msg_id)
    msg.state = "dismissed"
    msg.note = data.reason
    audit(ctx, "inbound_message", msg.id, "dismissed", reason=data.reason)
    ctx.session.commit()
    return msg


def _copy_as_comment(ctx: ServiceContext, msg: InboundMessage, wo: WorkOrder) -> None:
    ctx.session.add(
        TicketComment(
            work_order_id=wo.id,
            author=msg.sender_name or msg.sender,
            author_kind="customer",
            body=(msg.body or msg.subject or "(empty message)")[:20_000],
            internal=False,
            inbound_message_id=msg.id,
            created_at=ctx.now(),
        )
    )


# ---------------------------------------------------------------- merge and split


def merge(ctx: ServiceContext, wo_id: int, data: MergeInput) -> WorkOrder:
    """Fold a doubled work order into the first: its messages and comments move, it is cancelled."""
    if wo_id == data.into_work_order_id:
        raise Invalid("a work order cannot be merged into itself", field="into_work_order_id")
    dup = get_or_404(ctx.session, WorkOrder, wo_id, "work order")
    into = get_ref(ctx.session, WorkOrder, data.into_work_order_id, "into_work_order_id", "work order")
    if dup.customer_id != into.customer_id:
        raise Invalid("both work orders must belong to the same customer", field="into_work_order_id")
    ctx.session.execute(
        sa.update(InboundMessage)
        .where(InboundMessage.work_order_id == dup.id)
        .values(work_order_id=into.id, state="duplicate")
    )
    ctx.session.execute(
        sa.update(TicketComment).where(TicketComment.work_order_id == dup.id).values(work_order_id=into.id)
    )
    emit(ctx, "work_order.merged", "work_order", into.id, {"merged_work_order_id": dup.id})
    audit(ctx, "work_order", into.id, "merged", data={"merged_work_order_id": dup.id})
    workorders.transition_work_order(
        ctx, dup.id, WorkOrderStatus.CANCELLED, f"merged into {into.reference}", None
    )  # commits the moves above with the cancellation
    return into


def split(ctx: ServiceContext, msg_id: int) -> WorkOrder:
    """A message wrongly linked as a duplicate gets a work order of its own."""
    msg = get_or_404(ctx.session, InboundMessage, msg_id, "inbound message")
    if msg.work_order_id is None or msg.state not in ("duplicate", "threaded"):
        raise Conflict(f"message {msg_id} is {msg.state}; only linked duplicates or replies can be split")
    first = ctx.session.get_one(WorkOrder, msg.work_order_id)
    ctx.session.execute(sa.delete(TicketComment).where(TicketComment.inbound_message_id == msg.id))
    proposal = Proposal(**{k: v for k, v in msg.proposal.items() if k in Proposal.__slots__})
    source = (
        Source.EMAIL if msg.channel == "email" else Source.PHONE if msg.channel == "phone" else Source.CHAT
    )
    audit(ctx, "inbound_message", msg.id, "split", data={"from_work_order_id": first.id})
    return intake.create_from(
        ctx,
        msg,
        source,
        msg.site_id or first.site_id,
        msg.asset_id if msg.site_id else first.asset_id,
        proposal,
    )


# ---------------------------------------------------------------- comments


def comments_of(ctx: ServiceContext, wo_id: int, *, include_internal: bool) -> list[TicketComment]:
    query = sa.select(TicketComment).where(TicketComment.work_order_id == wo_id).order_by(TicketComment.id)
    if not include_internal:
        query = query.where(TicketComment.internal.is_(False))
    return list(ctx.session.scalars(query))


def add_comment(ctx: ServiceContext, wo: WorkOrder, data: CommentInput, *, author_kind: str) -> TicketComment:
    comment = TicketComment(
        work_order_id=wo.id,
        author=ctx.actor.name,
        author_kind=author_kind,
        body=data.body,
        internal=data.internal and author_kind == "agent",
        created_at=ctx.now(),
    )
    ctx.session.add(comment)
    ctx.session.flush()
    emit(
        ctx,
        "work_order.commented",
        "work_order",
        wo.id,
        {"comment_id": comment.id, "author_kind": author_kind, "customer_id": wo.customer_id},
    )
    ctx.session.commit()
    return comment


def inbound_out(m: InboundMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "channel": m.channel,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "subject": m.subject,
        "body": m.body,
        "state": m.state,
        "note": m.note,
        "auto_reply": m.auto_reply,
        "customer_id": m.customer_id,
        "site_id": m.site_id,
        "asset_id": m.asset_id,
        "work_order_id": m.work_order_id,
        "reference": f"WO-{m.work_order_id:07d}" if m.work_order_id else None,
        "proposal": m.proposal,
        "attachments": [
            {k: a.get(k) for k in ("filename", "content_type", "size", "rejected")} for a in m.attachments
        ],
        "received_at": m.received_at.isoformat(),
    }


def comment_out(c: TicketComment) -> dict[str, Any]:
    return {
        "id": c.id,
        "work_order_id": c.work_order_id,
        "author": c.author,
        "author_kind": c.author_kind,
        "body": c.body,
        "internal": c.internal,
        "created_at": c.created_at.isoformat(),
    }


def require(found: object, what: str) -> None:
    if found is None:
        raise NotFound(f"{what} does not exist")
