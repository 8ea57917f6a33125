"""API tokens for integrations: scoped, revocable, shown once (only a SHA-256 of the token is stored).

A token reads `fo_<prefix>_<secret>`; the prefix (kept in clear) lets people tell tokens apart in lists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import Meta
from sqlalchemy.orm import Session

from automation.models import ApiToken
from automation.store import plain
from core.domain.clock import Clock
from core.domain.errors import Conflict, NotFound
from core.services.common import Input, Name
from core.services.context import ServiceContext

Scope = Literal[
    "work_orders.read",
    "work_orders.write",
    "stock.read",
    "stock.write",
    "erp.export",
    "erp.confirm",
]
SCOPES: tuple[str, ...] = Scope.__args__  # type: ignore[attr-defined]


class TokenInput(Input):
    name: Name
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=len(SCOPES))]


class TokenRejected(Exception):
    """Missing, unknown, revoked, or without the scope (401 or 403)."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.detail, self.status = detail, status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: ServiceContext, data: TokenInput) -> tuple[ApiToken, str]:
    prefix = secrets.token_hex(4)
    token = f"fo_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        name=data.name,
        prefix=prefix,
        token_hash=_hash(token),
        scopes=sorted(set(data.scopes)),
        created_at=ctx.now(),
        created_by=ctx.actor.name,
    )
    ctx.session.add(row)
    ctx.session.commit()
    return row, token


def list_tokens(ctx: ServiceContext) -> list[ApiToken]:
    return list(ctx.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


def revoke(ctx: ServiceContext, token_id: int) -> ApiToken:
    row = ctx.session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} is already revoked")
    row.revoked_at = ctx.now()
    ctx.session.commit()
    return row


def authenticate(session: Session, clock: Clock, authorization: str | None, scope: str) -> ApiToken:
    """The token in an `Authorization: Bearer fo_…` header, if it is live and carries `scope`."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise TokenRejected("send Authorization: Bearer <API token>", 401)
    token = authorization[7:].strip()
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "fo":
        raise TokenRejected("this is not an API token", 401)
    row = session.scalar(sa.select(ApiToken).where(ApiToken.prefix == parts[1]))
    if row is None or not hmac.compare_digest(row.token_hash, _hash(token)) or row.revoked_at is not None:
        raise TokenRejected("unknown or revoked API token", 401)
    if scope not in row.scopes:
        raise TokenRejected(f"this token lacks the {scope} scope", 403)
    row.last_used_at = clock.now()
    session.commit()
    return row


def token_out(row: ApiToken) -> dict[str, Any]:
    return plain(
        {
            "id": row.id,
            "name": row.name,
            "prefix": row.prefix,
            "scopes": row.scopes,
            "created_at": row.created_at,
            "created_by": row.created_by,
            "revoked_at": row.revoked_at,
            "last_used_at": row.last_used_at,
        }
    )
