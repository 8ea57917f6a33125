"""Request plumbing shared by the routes: the service context, ETags and pages."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import msgspec
import sqlalchemy as sa
from anyio.lowlevel import RunVar
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.security.jwt import JWTAuth, Token
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.errors import Invalid
from core.domain.geo import Point
from core.services.context import Actor, ServiceContext
from core.services.events import EventBus
from core.services.paging import Page
from core.store.models import IdempotencyRecord
from fieldwork.storage import BlobStore


@dataclass(frozen=True, slots=True)
class Runtime:
    """What the API needs from the composition root (fieldops.wiring builds it)."""

    sessions: sessionmaker[Session]
    clock: Clock
    bus: EventBus
    jwt_auth: JWTAuth[Actor, Token]
    access_ttl: timedelta
    refresh_ttl: timedelta
    blobs: BlobStore | None = None
    reject_off_site_check_ins: bool = False
    live_stream_seconds: float = 300.0
    # What features put here when wired (their settings and adapters), keyed by feature name.
    features: dict[str, object] = field(default_factory=dict)


# How handlers ask for the use-case context (provided per request by `provide_ctx`).
Ctx = NamedDependency[ServiceContext]

# The scope key under which the Idempotency-Key middleware leaves its claim's record id.
IDEMPOTENCY_CLAIM = "fieldops.idempotency_claim"


def runtime(state: State) -> Runtime:
    rt: Runtime = state.runtime
    return rt


async def provide_ctx(request: Request[Actor, Token, Any]) -> AsyncGenerator[ServiceContext, None]:
    rt = runtime(request.app.state)
    async with request_session(rt.sessions) as session:
        claim = request.scope.get(IDEMPOTENCY_CLAIM)
        if isinstance(claim, int):
            mark_applied_on_commit(session, claim, rt.clock)
        yield ServiceContext(session, rt.clock, request.user)


def mark_applied_on_commit(session: Session, record_id: int, clock: Clock) -> None:
    """Record, in the transaction of the keyed request's own change, that the change was made: then a
    crash before its answer is stored can never make a retry apply it twice (api/idempotency.py)."""
    marked = False

    def mark(s: Session) -> None:
        if not marked:
            s.execute(
                sa.update(IdempotencyRecord)
                .where(IdempotencyRecord.id == record_id, IdempotencyRecord.applied_at.is_(None))
                .values(applied_at=clock.now())
            )

    def done(_s: Session) -> None:
        nonlocal marked
        marked = True

    event.listen(session, "before_commit", mark)
    event.listen(session, "after_commit", done)


async def provide_session(request: Request[Any, Any, Any]) -> AsyncGenerator[Session, None]:
    async with request_session(runtime(request.app.state).sessions) as session:
        yield session


# A request's session must be closed (its connection given back) whatever else is waiting. Litestar
# runs sync handlers *and* the cleanup of sync generator dependencies on the same small executor (the
# event loop's default: min(32, CPUs + 4) threads). Under a burst, every one of those threads could be
# a handler waiting for a pooled connection while every connection belonged to a finished request whose
# cleanup was queued behind them: nothing could move again (bench/mobile/README.md). So the session is
# opened on the event loop (no I/O: it connects on first use, in the handler's thread) and closed on
# threads reserved for closing, which never wait for a connection themselves.
CLOSER_THREADS = 4
_closers: RunVar[anyio.CapacityLimiter] = RunVar("fieldops_session_closers")


def _closer_limiter() -> anyio.CapacityLimiter:
    # Per event loop: a limiter belongs to the loop that made it (tests run several loops in one process).
    try:
        return _closers.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(CLOSER_THREADS)
        _closers.set(limiter)
        return limiter


@asynccontextmanager
async def request_session(sessions: sessionmaker[Session]) -> AsyncIterator[Session]:
    """A session for one request, closed on a closer thread however the request ends."""
    session = sessions()
    try:
        yield session
    finally:
        await close_session(session)


async def close_session(session: Session) -> None:
    if not session.in_transaction():
        session.close()  # no transaction (unused, or committed last): no connection held, no I/O
        return
    # Shielded: a cancelled request (client gone, server stopping) must still give its connection back.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(session.close, limiter=_closer_limiter())


_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


def expected_version(if_match: str | None) -> int | None:
    """The version from an If-Match header (`"3"`); None when absent or `*` (then no check is made)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if not match:
        raise Invalid('If-Match must be an ETag this API sent, e.g. "3"', field="If-Match")
    return int(match.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


T = TypeVar("T")
B = TypeVar("B")


def tagged(body: B, version: int, status_code: int = 200) -> Response[B]:
    return Response(body, status_code=status_code, headers={"ETag": etag(version)})


def paged(
    request: Request[Any, Any, Any], page: Page[T], convert: Callable[[T], Any]
) -> Response[dict[str, Any]]:
    body = {"items": [convert(item) for item in page.items], "next_cursor": page.next_cursor}
    headers = {}
    if page.next_cursor:
        next_url = request.url.with_replacements(query=_with_cursor(request.url.query, page.next_cursor))
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Response(body, headers=headers)


def _with_cursor(query: str, cursor: str) -> str:
    from urllib.parse import parse_qsl, urlencode

    pairs: Sequence[tuple[str, str]] = [
        (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "cursor"
    ]
    return urlencode([*pairs, ("cursor", cursor)])


def to_builtins(obj: msgspec.Struct) -> Any:
    return msgspec.to_builtins(obj)


def parse_point(text: str) -> Point:
    try:
        lat_text, lon_text = text.split(",")
        return Point(float(lat_text), float(lon_text))
    except ValueError as exc:
        raise Invalid(
            f"near must be 'lat,lon' with -90≤lat≤90 and -180≤lon≤180 ({exc})", field="near"
        ) from exc
