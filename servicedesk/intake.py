"""Every channel's message → one work order (or a comment on one, or the triage queue). Nothing is dropped.

The message is committed first, as received; everything after that (matching, threading, duplicates, the
work order) is a second step, so a failure there leaves a stored message to retry, never a lost one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from core.domain.lifecycle import OPEN_STATUSES
from core.domain.workorders import Priority, Source
from core.services import sla, workorders
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Asset, AssetModel, Site, Skill, WorkOrder
from servicedesk import attachments as att
from servicedesk import contacts
from servicedesk.config import DeskConfig
from servicedesk.mail import Attachment
from servicedesk.models import CustomerContact, InboundMessage, TicketComment
from servicedesk.similarity import jaccard
from servicedesk.triage import Proposal, coverage_of, propose

log = structlog.get_logger(__name__)

_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/]{2,}")


@dataclass
class Incoming:
    channel: str
    source: Source
    sender: str
    subject: str = ""
    body: str = ""
    sender_name: str | None = None
    external_id: str | None = None
    raw: bytes | None = None
    attachments: list[Attachment] = field(default_factory=list)
    auto_reason: str | None = None
    reference_id: int | None = None
    in_reply_to: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What an agent (phone) or a signed-in customer (portal) already knows.
    contact: CustomerContact | None = None
    customer_id: int | None = None
    site_id: int | None = None
    asset_id: int | None = None
    asset_serial: str | None = None
    windows: list[workorders.Window] = field(default_factory=list)


@dataclass
class Outcome:
    message: InboundMessage
    outcome: str
    work_order: WorkOrder | None = None

    @property
    def is_new_work_order(self) -> bool:
        return self.outcome == "created"


def receive(ctx: ServiceContext, cfg: DeskConfig, item: Incoming) -> Outcome:
    s = ctx.session
    if item.external_id:
        seen = s.scalars(
            sa.select(InboundMessage).where(
                InboundMessage.channel == item.channel, InboundMessage.external_id == item.external_id
            )
        ).first()
        if seen is not None:
            wo = s.get(WorkOrder, seen.work_order_id) if seen.work_order_id else None
            return Outcome(seen, "repeat", wo)
    msg = _store(ctx, cfg, item)
    try:
        return _process(ctx, cfg, item, msg)
    except Exception:
        # The message stays stored (state "received" or "triage"): an agent sees it, nothing is lost.
        s.rollback()
        log.exception("intake_processing_failed", inbound_id=msg.id, channel=item.channel)
        kept = s.get_one(InboundMessage, msg.id)
        kept.state = "triage"
        kept.note = "processing failed; please handle by hand"
        s.commit()
        return Outcome(kept, "triage")


def _store(ctx: ServiceContext, cfg: DeskConfig, item: Incoming) -> InboundMessage:
    stored: list[dict[str, Any]] = []
    notes = list(item.problems)
    for a in item.attachments[: att.MAX_ATTACHMENTS]:
        verdict = att.check(a.data)
        entry: dict[str, Any] = {
            "filename": a.filename,
            "declared_type": a.declared_type,
            "size": len(a.data),
        }
        if not verdict.ok:
            entry["rejected"] = verdict.reason
        elif cfg.blobs is None:
            entry["rejected"] = "no blob storage configured"
        else:
            entry["content_type"] = verdict.content_type
            entry["blob"] = cfg.blobs.put(a.data)
        stored.append(entry)
    if len(item.attachments) > att.MAX_ATTACHMENTS:
        notes.append(f"only the first {att.MAX_ATTACHMENTS} attachments were kept")
    raw_blob = cfg.blobs.put(item.raw) if (item.raw is not None and cfg.blobs is not None) else None
    msg = InboundMessage(
        channel=item.channel,
        external_id=item.external_id[:400] if item.external_id else None,
        sender=item.sender[:320] or "(unknown)",
        sender_name=item.sender_name,
        subject=item.subject[:500],
        body=item.body[:20_000],
        raw_blob=raw_blob,
        attachments=stored,
        state="received",
        note="; ".join(notes)[:500] or None,
        auto_reply=item.auto_reason is not None,
        customer_id=item.customer_id,
        contact_id=item.contact.id if item.contact else None,
        received_at=ctx.now(),
    )
    ctx.session.add(msg)
    ctx.session.flush()
    audit(ctx, "inbound_message", msg.id, "received", data={"channel": item.channel, "sender": msg.sender})
    ctx.session.commit()
    return msg


def _process(ctx: ServiceContext, cfg: DeskConfig, item: Incoming, msg: InboundMessage) -> Outcome:
    if item.auto_reason:
        return _finish(ctx, msg, "ignored", note=f"automatic mail ({item.auto_reason}); not answered")
    contact = item.contact or _match_contact(ctx, item)
    customer_id = item.customer_id or (contact.customer_id if contact else None)
    msg.contact_id = contact.id if contact else None
    msg.customer_id = customer_id
    threaded = _thread_target(ctx, item, customer_id)
    if threaded is not None:
        _comment(ctx, threaded, msg, item)
        return _finish(ctx, msg, "threaded", work_order=threaded)
    if customer_id is None:
        msg.proposal = propose(_text(item)).as_dict()
        return _finish(ctx, msg, "triage", note="sender is not a known contact")
    site, asset = _locate(ctx, item, customer_id)
    msg.site_id = site.id if site else None
    msg.asset_id = asset.id if asset else None
    proposal = _proposal(ctx, item, customer_id, asset)
    msg.proposal = proposal.as_dict()
    if site is None:
        return _finish(ctx, msg, "triage", note="customer has several sites; which one is meant?")
    first = find_duplicate(ctx, cfg, customer_id, site.id, asset.id if asset else None, _text(item))
    if first is not None:
        _comment(ctx, first, msg, item)
        emit(ctx, "inbound.duplicate", "work_order", first.id, {"inbound_message_id": msg.id})
        return _finish(ctx, msg, "duplicate", work_order=first)
    wo = create_from(ctx, msg, item.source, site.id, asset.id if asset else None, proposal, item.windows)
    return Outcome(msg, "created", wo)


def create_from(
    ctx: ServiceContext,
    msg: InboundMessage,
    source: Source,
    site_id: int,
    asset_id: int | None,
    proposal: Proposal,
    windows: list[workorders.Window] | None = None,
) -> WorkOrder:
    known = set(ctx.session.scalars(sa.select(Skill.code).where(Skill.code.in_(proposal.skills or [""]))))
    first_line = msg.body.strip().splitlines()[0] if msg.body.strip() else ""
    title = (msg.subject or first_line).strip()
    data = workorders.WorkOrderInput(
        title=(title or f"{msg.channel} request from {msg.sender}")[:200],
        site_id=site_id,
        asset_id=asset_id,
        description=msg.body[:20_000],
        source=source,
        priority=Priority(proposal.priority),
        windows=windows or [],
        required_skills=[workorders.SkillRequirement(skill=k) for k in proposal.skills if k in known],
    )
    msg.state = "linked"
    wo = workorders.create_work_order(ctx, data)  # commits the message's new state with the work order
    msg.work_order_id = wo.id
    audit(ctx, "inbound_message", msg.id, "linked", data={"work_order_id": wo.id})
    ctx.session.commit()
    return wo


def _finish(
    ctx: ServiceContext, msg: InboundMessage, state: str, *, note: str | None = None, work_order: Any = None
) -> Outcome:
    msg.state = state
    if note:
        msg.note = f"{msg.note}; {note}"[:500] if msg.note else note
    if work_order is not None:
        msg.work_order_id = work_order.id
    audit(ctx, "inbound_message", msg.id, state, data={"work_order_id": msg.work_order_id})
    if state == "triage":
        emit(ctx, "inbound.triage", "inbound_message", msg.id, {"channel": msg.channel, "sender": msg.sender})
    ctx.session.commit()
    return Outcome(msg, state, work_order)


def _text(item: Incoming) -> str:
    return f"{item.subject}\n{item.body}"


def _match_contact(ctx: ServiceContext, item: Incoming) -> CustomerContact | None:
    if item.channel == "email":
        return contacts.by_email(ctx, item.sender)
    if item.channel == "phone":
        return contacts.by_phone(ctx, item.sender)
    return contacts.by_im(ctx, item.channel, item.sender)


def _thread_target(ctx: ServiceContext, item: Incoming, customer_id: int | None) -> WorkOrder | None:
    """The work order a reply belongs to: by reference in the subject, or by our acknowledgement's id.

    Only a sender of the same company (or the address the thread started from) may add to a work order,
    so guessing a reference number does not let a stranger write into someone else's ticket.
    """
    s = ctx.session
    candidate: WorkOrder | None = None
    if item.in_reply_to:
        acked = s.scalars(
            sa.select(InboundMessage).where(InboundMessage.ack_message_id.in_(item.in_reply_to[:50]))
        ).first()
        if acked is not None and acked.work_order_id is not None:
            candidate = s.get(WorkOrder, acked.work_order_id)
    if candidate is None and item.reference_id is not None:
        candidate = s.get(WorkOrder, item.reference_id)
    if candidate is None:
        return None
    if customer_id is not None and candidate.customer_id == customer_id:
        return candidate
    started_here = s.scalars(
        sa.select(InboundMessage.id).where(
            InboundMessage.work_order_id == candidate.id, InboundMessage.sender == item.sender
        )
    ).first()
    return candidate if started_here is not None else None


def _locate(ctx: ServiceContext, item: Incoming, customer_id: int) -> tuple[Site | None, Asset | None]:
    s = ctx.session
    assets = list(
        s.scalars(
            sa.select(Asset).join(Site, Asset.site_id == Site.id).where(Site.customer_id == customer_id)
        )
    )
    asset: Asset | None = None
    if item.asset_id is not None:
        asset = next((a for a in assets if a.id == item.asset_id), None)
    if asset is None and item.asset_serial:
        asset = next((a for a in assets if a.serial.lower() == item.asset_serial.strip().lower()), None)
    if asset is None:
        words = {w.lower() for w in _SERIAL.findall(_text(item))}
        asset = next((a for a in assets if a.serial.lower() in words), None)
    if asset is not None:
        return asset.site, asset
    sites = list(s.scalars(sa.select(Site).where(Site.customer_id == customer_id).order_by(Site.id)))
    if item.site_id is not None:
        return next((x for x in sites if x.id == item.site_id), None), None
    return (sites[0] if len(sites) == 1 else None), None


def _proposal(ctx: ServiceContext, item: Incoming, customer_id: int, asset: Asset | None) -> Proposal:
    today = ctx.now().date()
    contract = sla.active_contract(ctx.session, customer_id, asset, today)
    model = ctx.session.get(AssetModel, asset.asset_model_id) if asset else None
    coverage = coverage_of(
        today,
        asset.warranty_ends_on if asset else None,
        (contract.number, contract.tier, contract.ends_on, contract.covers_labour, contract.covers_parts)
        if contract
        else None,
    )
    return propose(
        _text(item),
        asset_category=model.category if model else None,
        contract_tier=contract.tier if contract else None,
        vip=contacts.is_vip(ctx, customer_id),
        coverage=coverage,
    )


def find_duplicate(
    ctx: ServiceContext, cfg: DeskConfig, customer_id: int, site_id: int, asset_id: int | None, text: str
) -> WorkOrder | None:
    """The first open work order of the same asset (or site) within the window whose text is alike."""
    since = ctx.now() - cfg.duplicate_window
    query = sa.select(WorkOrder).where(
        WorkOrder.customer_id == customer_id,
        WorkOrder.status.in_(sorted(OPEN_STATUSES)),
        WorkOrder.created_at >= since,
    )
    if asset_id is not None:
        query = query.where(sa.or_(WorkOrder.asset_id == asset_id, WorkOrder.asset_id.is_(None)))
    query = query.where(WorkOrder.site_id == site_id).order_by(WorkOrder.id)
    for wo in ctx.session.scalars(query.limit(200)):
        if jaccard(f"{wo.title}\n{wo.description}", text) >= cfg.duplicate_similarity:
            return wo
    return None


def _comment(ctx: ServiceContext, wo: WorkOrder, msg: InboundMessage, item: Incoming) -> TicketComment:
    body = item.body.strip() or item.subject or "(empty message)"
    comment = TicketComment(
        work_order_id=wo.id,
        author=item.sender_name or item.sender,
        author_kind="customer",
        body=body[:20_000],
        internal=False,
        inbound_message_id=msg.id,
        created_at=ctx.now(),
    )
    ctx.session.add(comment)
    ctx.session.flush()
    emit(
        ctx,
        "work_order.commented",
        "work_order",
        wo.id,
        {"comment_id": comment.id, "channel": item.channel, "customer_id": wo.customer_id},
    )
    return comment
