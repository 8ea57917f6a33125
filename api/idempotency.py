"""Idempotency-Key: a phone that replays its offline queue gets the first answer again, not a second effect.

For POST/PUT/PATCH/DELETE with an `Idempotency-Key` header:
- first time: the request runs and its response (status, ETag, body) is stored under (user, key);
- again with the same method, path and body: the stored response is replayed (`Idempotent-Replayed: true`);
- again with a different request: 422, the key is not reused;
- again while the first is still running: 409, retry later.
A 5xx outcome is not stored, so the client may retry with the same key.

The request's own change marks the record *applied* in the change's transaction (api/deps.py), so a
request is never applied twice, even if the process dies between its commit and storing its answer:
- a claim that never finished and never applied anything (the process died, the request was cut off)
  is taken over by the next try after CLAIM_LEASE: the key cannot stay stuck;
- a request that was applied but whose answer was lost is not run again: the replay gets a 409 of its
  own type telling the app to sync instead of retrying.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any, cast

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)
from sqlalchemy.exc import IntegrityError

from api.deps import IDEMPOTENCY_CLAIM, runtime
from core.services.context import Actor
from core.store.models import IdempotencyRecord

HEADER = b"idempotency-key"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY = 200
# A keyed request is read whole before it runs (to fingerprint it); nothing larger is buffered.
MAX_BODY = 20 * 1024 * 1024
# Headers worth replaying: the representation and its version.
KEPT_HEADERS = frozenset({b"content-type", b"etag", b"location"})
# How long an unfinished claim is taken to be still running; longer than any request may take.
CLAIM_LEASE = timedelta(minutes=5)
APPLIED_PROBLEM = "/problems/idempotency-applied"


class IdempotencyMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        http = cast("HTTPScope", scope)
        key = _header(scope, HEADER)
        actor = scope.get("user")
        if (
            http["method"] not in MUTATING
            or key is None
            or not isinstance(actor, Actor)
            or actor.user_id is None
        ):
            await next_app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY:
            await _problem(send, 400, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
            return
        store = _Store(scope)
        body = await _read_body(receive)
        if body is None:
            await _problem(send, 413, f"the request body is larger than {MAX_BODY // (1024 * 1024)} MB")
            return
        fingerprint = _fingerprint(http, body)
        claim = await anyio.to_thread.run_sync(store.claim, actor.user_id, key, http, fingerprint)
        if isinstance(claim, IdempotencyRecord):
            await _replay_or_refuse(send, claim, fingerprint)
            return
        scope[IDEMPOTENCY_CLAIM] = claim  # type: ignore[literal-required]
        captured = _Captured()
        try:
            await next_app(scope, _replaying(body), captured.wrap(send))
        finally:
            # Shielded: a cut-off request must still settle its claim.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.finish, claim, captured)


class _Store:
    def __init__(self, scope: Scope) -> None:
        rt = runtime(scope["litestar_app"].state)
        self.sessions, self.clock = rt.sessions, rt.clock

    def claim(self, user_id: int, key: str, scope: HTTPScope, fingerprint: str) -> int | IdempotencyRecord:
        """Our row id if this request is the first with the key, else the existing record."""
        with self.sessions() as session:
            session.add(
                record := IdempotencyRecord(
                    user_id=user_id,
                    key=key,
                    method=scope["method"],
                    path=scope["path"][:500],
                    fingerprint=fingerprint,
                    created_at=self.clock.now(),
                )
            )
            try:
                session.commit()
                return record.id
            except IntegrityError:
                session.rollback()
            existing = session.scalars(
                sa.select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            ).one()
            if existing.fingerprint != fingerprint or not self._abandoned(existing):
                return existing
            # Abandoned before it changed anything: this try runs it, unless another try got there first.
            taken = session.execute(
                sa.update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == existing.id,
                    IdempotencyRecord.created_at == existing.created_at,
                    IdempotencyRecord.applied_at.is_(None),
                    IdempotencyRecord.completed_at.is_(None),
                )
                .values(created_at=self.clock.now())
            )
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return existing.id
            session.refresh(existing)
            return existing

    def _abandoned(self, record: IdempotencyRecord) -> bool:
        return (
            record.completed_at is None
            and record.applied_at is None
            and record.created_at < self.clock.now() - CLAIM_LEASE
        )

    def finish(self, record_id: int, captured: _Captured) -> None:
        with self.sessions() as session:
            record = session.get_one(IdempotencyRecord, record_id)
            if captured.status >= 500:
                if record.applied_at is None:
                    # Nothing is promised for a failure on our side: free the key for a retry.
                    session.delete(record)
                # Else the change was made but its answer is lost: keep the claim, never run it again.
            else:
                record.status_code = captured.status
                record.response_headers = captured.headers
                record.response_body = bytes(captured.body)
                record.completed_at = self.clock.now()
            session.commit()


class _Captured:
    def __init__(self) -> None:
        self.status = 500
        self.headers: dict[str, str] = {}
        self.body = bytearray()

    def wrap(self, send: Send) -> Send:
        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {
                    k.decode("latin-1"): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                    if k.lower() in KEPT_HEADERS
                }
            elif message["type"] == "http.response.body":
                self.body += message.get("body", b"")
            await send(message)

        return capture


async def _replay_or_refuse(send: Send, record: IdempotencyRecord, fingerprint: str) -> None:
    if record.fingerprint != fingerprint:
        await _problem(
            send,
            422,
            "this Idempotency-Key was already used for a different request; use a new key",
            field="Idempotency-Key",
        )
    elif record.completed_at is None and record.applied_at is not None:
        await _problem(
            send,
            409,
            "this request was applied, but its answer was lost; do not send it again: sync to see the result",
            type_=APPLIED_PROBLEM,
        )
    elif record.completed_at is None:
        await _problem(
            send, 409, "a request with this Idempotency-Key is still being processed; retry shortly"
        )
    else:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record.response_headers.items()]
        headers.append((b"idempotent-replayed", b"true"))
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": record.status_code or 200,
            "headers": headers,
        }
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": record.response_body or b"",
            "more_body": False,
        }
        await send(start)
        await send(end)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None as soon as it exceeds MAX_BODY (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> ReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            event: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
            return event
        return {"type": "http.disconnect"}

    return receive


_BOUNDARY = re.compile(rb'boundary="?([^";,\s]+)"?', re.IGNORECASE)


def _fingerprint(scope: HTTPScope, body: bytes) -> str:
    # A retried multipart upload is the same request under a fresh random boundary: judge the parts,
    # not the separator.
    content_type = _header(scope, b"content-type") or ""
    if content_type.lower().startswith("multipart/"):
        found = _BOUNDARY.search(content_type.encode("latin-1"))
        if found:
            body = body.replace(found.group(1), b"<boundary>")
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


async def _problem(
    send: Send, status: int, detail: str, field: str | None = None, type_: str = "/problems/idempotency"
) -> None:
    body: dict[str, Any] = {
        "type": type_,
        "title": "Idempotency-Key",
        "status": status,
        "detail": detail,
    }
    if field:
        body["field"] = field
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/problem+json")],
    }
    end: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": msgspec.json.encode(body),
        "more_body": False,
    }
    await send(start)
    await send(end)
