"""Satisfaction surveys: CSAT (1–5), NPS (0–10), CES (1–7), answered once through a signed, expiring link.

The link is `{id}.{nonce}.{signature}`: the signature (HMAC over id and nonce) rejects forged links
before any lookup, only a hash of the whole token is stored, and answering flips `used_at` with a
conditional UPDATE, so two clicks at once still record one answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Any, Literal

import sqlalchemy as sa
import structlog
from msgspec import Meta
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.events import DomainEvent
from core.services.common import Email, Id, Input, get_ref
from core.services.context import Actor, ServiceContext
from core.services.events import audit, emit
from core.store.models import Engineer, Territory, WorkOrder
from servicedesk import outmail
from servicedesk.config import DeskConfig
from servicedesk.models import CustomerContact, InboundMessage, SurveyInvitation, SurveyResponse

log = structlog.get_logger(__name__)

Kind = Literal["csat", "nps", "ces"]
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
QUESTIONS = {
    "csat": "您对本次服务满意吗？(1–5) / How satisfied are you with this service? (1–5)",
    "nps": "您向同事推荐我们的可能性有多大？(0–10) / How likely are you to recommend us? (0–10)",
    "ces": "解决您的问题有多容易？(1–7) / How easy was it to get your issue resolved? (1–7)",
}


class LinkGone(Exception):
    """The link was real but is used up or expired (410)."""


class InviteInput(Input):
    work_order_id: Id
    contact_email: Email
    kind: Kind = "csat"
    send: bool = True


class AnswerInput(Input):
    score: Annotated[int, Meta(ge=0, le=10)]
    comment: Annotated[str, Meta(max_length=4000)] = ""


@dataclass(frozen=True, slots=True)
class Invited:
    invitation: SurveyInvitation
    token: str
    url: str
    sent: bool


def _sign(secret: str, inv_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"survey:{inv_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(ctx: ServiceContext, cfg: DeskConfig, data: InviteInput) -> Invited:
    wo = get_ref(ctx.session, WorkOrder, data.work_order_id, "work_order_id", "work order")
    email = data.contact_email.lower()
    now = ctx.now()
    recent = ctx.session.scalars(
        sa.select(SurveyInvitation.id).where(
            SurveyInvitation.contact_email == email, SurveyInvitation.created_at > now - cfg.survey_throttle
        )
    ).first()
    if recent is not None:
        # Asking the same person too often spoils the answers and the relationship.
        raise Conflict(f"{email} was already asked within {cfg.survey_throttle.days} days")
    engineer_id = wo.visits[-1].engineer_id if wo.visits else None
    inv = SurveyInvitation(
        token_hash="pending-" + secrets.token_hex(16),
        kind=data.kind,
        work_order_id=wo.id,
        customer_id=wo.customer_id,
        contact_email=email,
        engineer_id=engineer_id,
        channel=wo.source,
        expires_at=now + cfg.survey_ttl,
        created_at=now,
    )
    ctx.session.add(inv)
    ctx.session.flush()
    nonce = secrets.token_urlsafe(12)
    token = f"{inv.id}.{nonce}.{_sign(cfg.secret, inv.id, nonce)}"
    inv.token_hash = _hash(token)
    audit(ctx, "survey_invitation", inv.id, "created", data={"work_order_id": wo.id, "kind": data.kind})
    ctx.session.commit()
    # The link opens the portal page, which answers it without sign-in through /surveys/{token}.
    url = f"{cfg.public_url.rstrip('/')}/portal#/surveys/{token}"
    sent = mail_invitation(cfg, wo.reference, email, data.kind, url) if data.send else False
    return Invited(inv, token, url, sent)


def open_link(ctx: ServiceContext, cfg: DeskConfig, token: str) -> SurveyInvitation:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        raise NotFound("this survey link does not exist")
    inv_id, nonce, sig = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(sig, _sign(cfg.secret, inv_id, nonce)):
        raise NotFound("this survey link does not exist")
    inv = ctx.session.scalars(
        sa.select(SurveyInvitation).where(SurveyInvitation.token_hash == _hash(token))
    ).first()
    if inv is None:
        raise NotFound("this survey link does not exist")
    if inv.used_at is not None:
        raise LinkGone("this survey was already answered — thank you / 已提交，谢谢")
    if inv.expires_at <= ctx.now():
        raise LinkGone("this survey link has expired / 链接已过期")
    return inv


def answer(ctx: ServiceContext, cfg: DeskConfig, token: str, data: AnswerInput) -> SurveyResponse:
    return record(ctx, open_link(ctx, cfg, token), data)


def record(ctx: ServiceContext, inv: SurveyInvitation, data: AnswerInput) -> SurveyResponse:
    """Store the answer once: the conditional UPDATE on `used_at` lets only the first of two clicks in."""
    low, high = SCALES[inv.kind]
    if not low <= data.score <= high:
        raise Invalid(f"a {inv.kind} score is {low}–{high}", field="score")
    now = ctx.now()
    claimed = ctx.session.execute(
        sa.update(SurveyInvitation)
        .where(SurveyInvitation.id == inv.id, SurveyInvitation.used_at.is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        ctx.session.rollback()
        raise LinkGone("this survey was already answered — thank you / 已提交，谢谢")
    resp = SurveyResponse(
        invitation_id=inv.id,
        kind=inv.kind,
        score=data.score,
        comment=data.comment,
        work_order_id=inv.work_order_id,
        customer_id=inv.customer_id,
        engineer_id=inv.engineer_id,
        channel=inv.channel,
        answered_at=now,
    )
    ctx.session.add(resp)
    ctx.session.flush()
    emit(
        ctx,
        "survey.answered",
        "work_order",
        inv.work_order_id,
        {
            "work_order_id": inv.work_order_id,
            "customer_id": inv.customer_id,
            "rating": rating_of(inv.kind, data.score),
            "comment": data.comment,
            "source": "survey",
            "kind": inv.kind,
            "score": data.score,
        },
    )
    ctx.session.commit()
    return resp


# ---------------------------------------------------------------- in the portal


def pending_for(ctx: ServiceContext, customer_id: int) -> list[SurveyInvitation]:
    """The company's unanswered, unexpired surveys, newest first (any of its people may answer)."""
    return list(
        ctx.session.scalars(
            sa.select(SurveyInvitation)
            .where(
                SurveyInvitation.customer_id == customer_id,
                SurveyInvitation.used_at.is_(None),
                SurveyInvitation.expires_at > ctx.now(),
            )
            .order_by(SurveyInvitation.id.desc())
            .limit(50)
        )
    )


def invitation_of(ctx: ServiceContext, customer_id: int, inv_id: int) -> SurveyInvitation:
    """Another company's survey is answered exactly like a missing one."""
    inv = ctx.session.get(SurveyInvitation, inv_id)
    if inv is None or inv.customer_id != customer_id:
        raise NotFound(f"survey {inv_id} does not exist")
    return inv


def answer_in_portal(ctx: ServiceContext, customer_id: int, inv_id: int, data: AnswerInput) -> SurveyResponse:
    inv = invitation_of(ctx, customer_id, inv_id)
    if inv.used_at is not None:
        raise LinkGone("this survey was already answered — thank you / 已提交，谢谢")
    if inv.expires_at <= ctx.now():
        raise LinkGone("this survey has expired / 调查已过期")
    return record(ctx, inv, data)


def pending_out(inv: SurveyInvitation, reference: str) -> dict[str, Any]:
    low, high = SCALES[inv.kind]
    return {
        "id": inv.id,
        "kind": inv.kind,
        "question": QUESTIONS[inv.kind],
        "min": low,
        "max": high,
        "work_order_id": inv.work_order_id,
        "reference": reference,
        "expires_at": inv.expires_at.isoformat(),
    }


# ---------------------------------------------------------------- sent on completion


def contact_for(ctx: ServiceContext, wo: WorkOrder) -> str | None:
    """Who to ask: the contact whose message opened the work order, else the company's first contact."""
    opener = ctx.session.scalars(
        sa.select(CustomerContact)
        .join(InboundMessage, InboundMessage.contact_id == CustomerContact.id)
        .where(InboundMessage.work_order_id == wo.id, CustomerContact.email.is_not(None))
        .order_by(InboundMessage.id)
    ).first()
    if opener is None:
        opener = ctx.session.scalars(
            sa.select(CustomerContact)
            .where(CustomerContact.customer_id == wo.customer_id, CustomerContact.email.is_not(None))
            .order_by(CustomerContact.id)
        ).first()
    return opener.email if opener is not None else None


def invite_on_completion(ctx: ServiceContext, cfg: DeskConfig, wo_id: int) -> Invited | None:
    """The survey for a finished job, once per work order, within the per-contact throttle; not mailed
    here (the caller mails it, so a slow mail server never holds up the sign-off)."""
    if cfg.auto_survey_kind is None:
        return None
    wo = ctx.session.get(WorkOrder, wo_id)
    if wo is None:
        return None
    asked = ctx.session.scalars(
        sa.select(SurveyInvitation.id).where(SurveyInvitation.work_order_id == wo.id)
    ).first()
    if asked is not None:
        return None  # completed → closed, or a revisit completed again: one survey per job
    email = contact_for(ctx, wo)
    if email is None:
        log.info("survey_not_sent_no_contact", work_order_id=wo.id)
        return None
    try:
        return invite(
            ctx,
            cfg,
            InviteInput(work_order_id=wo.id, contact_email=email, kind=cfg.auto_survey_kind, send=False),
        )
    except Conflict as exc:
        log.info("survey_not_sent_throttled", work_order_id=wo.id, reason=str(exc))
        return None


def mail_invitation(cfg: DeskConfig, reference: str, email: str, kind: str, url: str) -> bool:
    domain = cfg.mail_from.rsplit("@", 1)[-1] or "fieldops.local"
    return outmail.send(
        cfg.smtp_url,
        outmail.compose(
            mail_from=cfg.mail_from,
            to=email,
            subject=f"[{reference}] 服务评价 / How did we do?",
            text=f"{QUESTIONS[kind]}\n\n{url}\n\n链接 {cfg.survey_ttl.days} 天内有效，仅可使用一次。"
            f"\nThe link works once, for {cfg.survey_ttl.days} days.",
            message_id=outmail.new_message_id(domain),
        ),
    )


def rating_of(kind: str, score: int) -> int:
    """The answer on the 1–5 scale the sign-off rating uses, so rules can treat every rating alike."""
    low, high = SCALES[kind]
    return 1 + round(Fraction(score - low, high - low) * 4)


# ---------------------------------------------------------------- scores

# "team" is the engineer's territory (the crew that works it); weeks are ISO weeks in the given zone.
GroupBy = Literal["engineer", "team", "customer", "channel", "week", "month", "all"]


def figures(scores: list[int], kind: str) -> dict[str, Any]:
    n = len(scores)
    out: dict[str, Any] = {"responses": n}
    if n == 0:
        return out
    out["average"] = float(Fraction(sum(scores), n))
    if kind == "nps":
        promoters = sum(1 for s in scores if s >= 9)
        detractors = sum(1 for s in scores if s <= 6)
        out.update(
            promoters=promoters,
            passives=n - promoters - detractors,
            detractors=detractors,
            # % promoters − % detractors, from exact fractions (rounded only for display).
            nps=float(Fraction(100 * (promoters - detractors), n)),
        )
    elif kind == "csat":
        out["satisfied_pct"] = float(Fraction(100 * sum(1 for s in scores if s >= 4), n))
    else:
        out["easy_pct"] = float(Fraction(100 * sum(1 for s in scores if s >= 5), n))
    return out


def scores(
    ctx: ServiceContext,
    by: GroupBy,
    since: datetime | None,
    until: datetime | None,
    tz: str = "Asia/Shanghai",
) -> list[dict[str, Any]]:
    from zoneinfo import ZoneInfo

    query = sa.select(SurveyResponse)
    if since is not None:
        query = query.where(SurveyResponse.answered_at >= since)
    if until is not None:
        query = query.where(SurveyResponse.answered_at < until)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    zone = ZoneInfo(tz)
    team_of: dict[int, str] = {}
    if by == "team":
        rows = ctx.session.execute(
            sa.select(Engineer.id, Territory.name).join(Territory, Engineer.territory_id == Territory.id)
        )
        team_of = dict(rows.tuples().all())
    for r in ctx.session.scalars(query):
        local = r.answered_at.astimezone(zone)
        if by == "engineer":
            key = str(r.engineer_id)
        elif by == "team":
            # A response about no engineer (e.g. a portal request closed remotely) has no team.
            key = team_of.get(r.engineer_id, "none") if r.engineer_id is not None else "none"
        elif by == "customer":
            key = str(r.customer_id)
        elif by == "channel":
            key = r.channel
        elif by == "week":
            year, week, _ = local.isocalendar()
            key = f"{year}-W{week:02d}"
        elif by == "month":
            key = local.strftime("%Y-%m")
        else:
            key = "all"
        groups[(key, r.kind)].append(r.score)
    return [{by: key, "kind": kind, **figures(vals, kind)} for (key, kind), vals in sorted(groups.items())]


FINISHED = ("completed", "closed")


def on_completion(
    sessions: sessionmaker[Session], clock: Clock, cfg: DeskConfig
) -> Callable[[DomainEvent], None]:
    """The bus subscriber: a work order reaching completed (or closed) gets its survey, mailed in the
    background so the engineer's sign-off does not wait on the mail server."""

    def handle(evt: DomainEvent) -> None:
        if evt.data.get("to") not in FINISHED:
            return
        with sessions() as session:
            ctx = ServiceContext(session, clock, Actor.system("survey-on-completion"))
            invited = invite_on_completion(ctx, cfg, evt.subject_id)
            if invited is None:
                return
            inv = invited.invitation
            args = (cfg, f"WO-{inv.work_order_id:07d}", inv.contact_email, inv.kind, invited.url)
        threading.Thread(target=mail_invitation, args=args, name="survey-mail", daemon=True).start()

    return handle
