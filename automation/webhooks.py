"""Outbound webhooks from the transactional outbox.

- **Fan-out**: one reader (cursor `webhooks`, held with `FOR UPDATE SKIP LOCKED` on PostgreSQL) turns each
  settled outbox event into one delivery row per matching active subscription — unique per
  (subscription, event), so a re-read never doubles anything, and a rolled-back change has no event.
- **Delivery**: due rows are claimed under a lease and POSTed with
  `X-Fieldops-Event-Id` (receivers deduplicate on it, per `X-Fieldops-Subscription` when one URL serves
  several subscriptions), `X-Fieldops-Timestamp` (unix seconds) and
  `X-Fieldops-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.
  2xx is delivered; anything else is retried with exponential backoff and jitter, every try logged
  (`webhook_attempts`). A worker that dies mid-delivery leaves the lease to expire: the event goes again
  (at least once; the event id makes it exactly once for the receiver).
- A subscription failing for `DISABLE_AFTER` and at least `DISABLE_AFTER_FAILURES` tries in a row is
  disabled with a notice (`integration.webhook_disabled` event + in-app notice to the admins).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
import sqlalchemy as sa
import structlog
from msgspec import Meta
from sqlalchemy.orm import Session, sessionmaker

from automation import people
from automation.models import Cursor, WebhookAttempt, WebhookDelivery, WebhookSubscription
from automation.store import insert_ignore, insert_ignore_many, plain, skip_locked
from core.domain.clock import Clock
from core.domain.errors import Conflict, Invalid, NotFound
from core.services.common import Input, Name
from core.services.context import Actor, Role, ServiceContext
from core.services.events import emit
from core.store import outbox
from core.store.models import OutboxEvent, User

log = structlog.get_logger(__name__)

CURSOR = "webhooks"
BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 15
DISABLE_AFTER = timedelta(hours=24)
DISABLE_AFTER_FAILURES = 10
TIMEOUT = 10.0


class SubscriptionInput(Input):
    name: Name
    url: Annotated[str, Meta(min_length=8, max_length=2000)]
    event_types: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(min_length=1, max_length=50)
    ]


def create_subscription(ctx: ServiceContext, data: SubscriptionInput) -> tuple[WebhookSubscription, str]:
    if not data.url.startswith(("http://", "https://")):
        raise Invalid("a webhook URL is http:// or https://", field="url")
    for i, pattern in enumerate(data.event_types):
        if not all(c.isalnum() or c in "._*" for c in pattern):
            raise Invalid(
                "an event type or glob, e.g. work_order.* or stock.consumed", field=f"event_types[{i}]"
            )
    secret = "whsec_" + secrets.token_urlsafe(32)
    start = outbox.head(ctx.session)
    sub = WebhookSubscription(
        name=data.name,
        url=data.url,
        secret=secret,
        event_types=list(data.event_types),
        active=True,
        start_tx=start[0],
        start_seq=start[1],
        consecutive_failures=0,
        created_at=ctx.now(),
        created_by=ctx.actor.name,
    )
    ctx.session.add(sub)
    ctx.session.commit()
    return sub, secret


def get_subscription(ctx: ServiceContext, sub_id: int) -> WebhookSubscription:
    sub = ctx.session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound(f"webhook subscription {sub_id} does not exist")
    return sub


def set_active(ctx: ServiceContext, sub_id: int, active: bool) -> WebhookSubscription:
    sub = get_subscription(ctx, sub_id)
    sub.active = active
    if active:
        sub.disabled_reason, sub.consecutive_failures, sub.failing_since = None, 0, None
    else:
        sub.disabled_reason = f"disabled by {ctx.actor.name}"
    ctx.session.commit()
    return sub


def list_subscriptions(ctx: ServiceContext) -> list[WebhookSubscription]:
    return list(ctx.session.scalars(sa.select(WebhookSubscription).order_by(WebhookSubscription.id)))


def subscription_out(sub: WebhookSubscription) -> dict[str, Any]:
    return plain(
        {
            "id": sub.id,
            "name": sub.name,
            "url": sub.url,
            "event_types": sub.event_types,
            "active": sub.active,
            "disabled_reason": sub.disabled_reason,
            "consecutive_failures": sub.consecutive_failures,
            "failing_since": sub.failing_since,
            "created_at": sub.created_at,
        }
    )


def list_deliveries(
    ctx: ServiceContext, sub_id: int, status: str | None, limit: int
) -> list[WebhookDelivery]:
    get_subscription(ctx, sub_id)
    query = sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(ctx.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def delivery_out(ctx: ServiceContext, d: WebhookDelivery, with_attempts: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "event_id": str(d.event_id),
        "event_type": d.event_type,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    }
    if with_attempts:
        out["log"] = [
            {"at": a.at, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
            for a in ctx.session.scalars(
                sa.select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == d.id)
                .order_by(WebhookAttempt.id)
            )
        ]
    return plain(out)


def get_delivery(ctx: ServiceContext, delivery_id: int) -> WebhookDelivery:
    d = ctx.session.get(WebhookDelivery, delivery_id)
    if d is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    return d


def redeliver(ctx: ServiceContext, delivery_id: int) -> WebhookDelivery:
    """Send it again now (whatever happened before); the receiver deduplicates on the event id."""
    d = get_delivery(ctx, delivery_id)
    sub = ctx.session.get_one(WebhookSubscription, d.subscription_id)
    if not sub.active:
        raise Conflict(f"subscription {sub.id} is disabled: enable it first")
    if d.lease_until is not None and d.lease_until > ctx.now() and d.status == "pending":
        raise Conflict("this delivery is being sent right now")
    d.status, d.next_attempt_at, d.lease_until = "pending", ctx.now(), None
    ctx.session.commit()
    return d


# ---------------------------------------------------------------- signing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does: check the signature and refuse stale timestamps (replays)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential (10 s × 2^(n−1), at most an hour) with equal jitter: half fixed, half random."""
    r: random.Random = rng or random.Random()  # noqa: S311 (jitter)
    full = min(MAX_DELAY, BASE_DELAY * (1 << min(max(attempts - 1, 0), 20)))
    return full / 2 + full / 2 * r.random()


# ---------------------------------------------------------------- the worker's side


@dataclass(frozen=True, slots=True)
class _Request:
    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    attempt: int
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class _Outcome:
    delivery_id: int
    code: int | None
    error: str | None
    duration_ms: int


@dataclass
class Deliverer:
    sessions: sessionmaker[Session]
    clock: Clock
    worker: str = "worker"
    batch: int = 50
    # Per claimed delivery: a batch is sent one by one, so its lease covers every try timing out.
    lease: timedelta = timedelta(seconds=TIMEOUT)
    client: httpx.Client | None = None
    # Outcomes written per transaction (the POSTs themselves go one by one on a kept-alive connection).
    record_every: int = 25

    def fan_out(self) -> int:
        with self.sessions() as s:
            now = self.clock.now()
            insert_ignore(s, Cursor, {"name": CURSOR, "tx_id": 0, "seq": 0, "updated_at": now}, Cursor.name)
            s.commit()
            cur = s.scalar(skip_locked(sa.select(Cursor).where(Cursor.name == CURSOR), s))
            if cur is None:
                return 0
            position = (cur.tx_id, cur.seq)
            subs = list(s.scalars(sa.select(WebhookSubscription).where(WebhookSubscription.active.is_(True))))
            settled = outbox.head(s)
            events = outbox.read_after(s, position, [], self.batch) if subs else []
            rows = [
                {
                    "subscription_id": sub.id,
                    "event_id": evt.event_id,
                    "event_seq": evt.seq,
                    "event_type": evt.type,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for evt in events
                for sub in subs
                if outbox.cursor_of(evt) > (sub.start_tx, sub.start_seq)
                and any(fnmatch.fnmatchcase(evt.type, p) for p in sub.event_types)
            ]
            # One statement for the batch; the unique key still makes a re-read queue nothing twice.
            queued = len(insert_ignore_many(s, WebhookDelivery, rows))
            new_position = outbox.cursor_of(events[-1]) if events else max(position, settled)
            if new_position != position:
                cur.tx_id, cur.seq, cur.updated_at = new_position[0], new_position[1], now
            s.commit()
        return queued

    def _claim(self) -> list[int]:
        with self.sessions() as s:
            now = self.clock.now()
            free = sa.or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
            ids = list(
                s.scalars(
                    skip_locked(
                        sa.select(WebhookDelivery.id)
                        .where(
                            WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free
                        )
                        .order_by(WebhookDelivery.id)
                        .limit(self.batch),
                        s,
                    )
                )
            )
            if not ids:
                return []
            # Conditional: a row another worker took since the SELECT (SQLite has no SKIP LOCKED) stays its.
            claimed = s.scalars(
                sa.update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == "pending", free)
                .values(lease_until=now + self.lease * (len(ids) + 2))
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            ).all()
            s.commit()
            return sorted(claimed)

    def deliver_due(self) -> int:
        """POST every due delivery this worker can claim; the bookkeeping goes in chunks of `record_every`.

        What is sent is read once for the whole batch (deliveries, subscriptions, events: three queries),
        and the outcomes are written `record_every` at a time, not one transaction per POST. A worker that
        dies between a POST and its record leaves the delivery leased; it goes again when the lease runs
        out — at least once, as always, and the receiver's dedup on the event id makes it once.
        """
        claimed = self._claim()
        if not claimed:
            return 0
        sent = 0
        client = self.client or httpx.Client(timeout=TIMEOUT)
        try:
            outcomes: list[_Outcome] = []
            for request in self._requests(claimed):
                outcomes.append(self._post(client, request))
                if len(outcomes) >= self.record_every:
                    sent += self._record(outcomes)
                    outcomes = []
            sent += self._record(outcomes)
        finally:
            if self.client is None:
                client.close()
        return sent

    def _requests(self, claimed: list[int]) -> list[_Request]:
        """What to send for each claimed delivery; a disabled subscription or a vanished event ends it."""
        out: list[_Request] = []
        with self.sessions() as s:
            deliveries = {
                d.id: d for d in s.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed)))
            }
            subs = {
                sub.id: sub
                for sub in s.scalars(
                    sa.select(WebhookSubscription).where(
                        WebhookSubscription.id.in_({d.subscription_id for d in deliveries.values()})
                    )
                )
            }
            events = {
                e.event_id: e
                for e in s.scalars(
                    sa.select(OutboxEvent).where(
                        OutboxEvent.event_id.in_({d.event_id for d in deliveries.values()})
                    )
                )
            }
            for delivery_id in claimed:
                d = deliveries[delivery_id]
                sub, evt = subs[d.subscription_id], events.get(d.event_id)
                if not sub.active or evt is None:
                    d.status, d.lease_until = "dead", None
                    d.last_error = "subscription disabled" if not sub.active else "event no longer exists"
                    continue
                body = json.dumps(
                    {
                        "id": str(evt.event_id),
                        "type": evt.type,
                        "subject_type": evt.subject_type,
                        "subject_id": evt.subject_id,
                        "occurred_at": evt.occurred_at.isoformat(),
                        "actor": evt.actor,
                        "data": evt.data,
                    },
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode()
                out.append(
                    _Request(
                        delivery_id,
                        sub.id,
                        sub.url,
                        sub.secret,
                        d.attempts + 1,
                        str(evt.event_id),
                        evt.type,
                        body,
                    )
                )
            s.commit()
        return out

    def _post(self, client: httpx.Client, r: _Request) -> _Outcome:
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "content-type": "application/json; charset=utf-8",
            "user-agent": "fieldops-webhooks/1",
            "x-fieldops-event-id": r.event_id,
            "x-fieldops-subscription": str(r.subscription_id),
            "x-fieldops-event-type": r.event_type,
            "x-fieldops-delivery": str(r.delivery_id),
            "x-fieldops-attempt": str(r.attempt),
            "x-fieldops-timestamp": str(timestamp),
            "x-fieldops-signature": sign(r.secret, timestamp, r.body),
        }
        started = time.monotonic()
        code: int | None = None
        error: str | None = None
        try:
            response = client.post(r.url, content=r.body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        return _Outcome(r.delivery_id, code, error, int((time.monotonic() - started) * 1000))

    def _record(self, outcomes: list[_Outcome]) -> int:
        """Log the tries and settle each delivery, in order, in one transaction; how many were delivered."""
        if not outcomes:
            return 0
        delivered = 0
        with self.sessions() as s:
            now = self.clock.now()
            rows = {
                d.id: d
                for d in s.scalars(
                    sa.select(WebhookDelivery).where(
                        WebhookDelivery.id.in_([o.delivery_id for o in outcomes])
                    )
                )
            }
            subs = {
                sub.id: sub
                for sub in s.scalars(
                    sa.select(WebhookSubscription).where(
                        WebhookSubscription.id.in_({d.subscription_id for d in rows.values()})
                    )
                )
            }
            for o in outcomes:
                d = rows[o.delivery_id]
                sub = subs[d.subscription_id]
                s.add(
                    WebhookAttempt(
                        delivery_id=d.id, at=now, status_code=o.code, error=o.error, duration_ms=o.duration_ms
                    )
                )
                d.attempts += 1
                d.last_status_code, d.last_error, d.lease_until = o.code, o.error, None
                if o.error is None:
                    d.status, d.delivered_at = "delivered", now
                    sub.consecutive_failures, sub.failing_since = 0, None
                    delivered += 1
                    continue
                sub.consecutive_failures += 1
                sub.failing_since = sub.failing_since or now
                if d.attempts >= MAX_ATTEMPTS:
                    d.status = "dead"
                else:
                    d.next_attempt_at = now + backoff(d.attempts)
                if (
                    sub.active
                    and sub.consecutive_failures >= DISABLE_AFTER_FAILURES
                    and now - sub.failing_since >= DISABLE_AFTER
                ):
                    self._disable(s, sub, now)
            s.commit()
        return delivered

    def _disable(self, s: Session, sub: WebhookSubscription, now: datetime) -> None:
        sub.active = False
        sub.disabled_reason = (
            f"failing since {sub.failing_since.isoformat() if sub.failing_since else now.isoformat()} "
            f"({sub.consecutive_failures} failed tries in a row)"
        )
        ctx = ServiceContext(s, self.clock, Actor.system("webhooks"))
        emit(
            ctx,
            "integration.webhook_disabled",
            "webhook_subscription",
            sub.id,
            {"name": sub.name, "url": sub.url, "reason": sub.disabled_reason},
        )
        for admin in s.scalars(
            sa.select(User.username).where(User.role == Role.ADMIN, User.active.is_(True))
        ):
            people.notify(
                ctx,
                admin,
                f"Webhook disabled / 已停用: {sub.name}",
                f"{sub.url}: {sub.disabled_reason}. Fix the receiver, then POST /webhooks/{sub.id}/enable.",
                source=f"webhook:{sub.id}",
            )
        log.warning("webhook_disabled", subscription_id=sub.id, reason=sub.disabled_reason)
