"""Bearer tokens: short-lived access JWTs carrying the actor, and refresh JWTs checked against the DB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from api.access import PUBLIC_PATHS
from core.services.context import Actor, Role
from core.store.models import User

ACCESS, REFRESH = "access", "refresh"


def actor_from_token(token: Token, _connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    extras = token.extras
    if extras.get("typ") != ACCESS:
        # A refresh token is only good at /auth/refresh.
        return None
    try:
        return Actor(
            user_id=int(token.sub),
            name=str(extras["name"]),
            role=Role(extras["role"]),
            engineer_id=extras.get("eng"),
            customer_id=extras.get("cust"),
        )
    except (KeyError, ValueError):
        return None


def make_jwt_auth(secret: str, access_ttl: timedelta) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=actor_from_token,
        token_secret=secret,
        default_token_expiration=access_ttl,
        exclude=[f"^{path}" for path in PUBLIC_PATHS],
        description="Get a token from POST /auth/token.",
    )


def issue_tokens(
    jwt_auth: JWTAuth[Actor, Token], user: User, access_ttl: timedelta, refresh_ttl: timedelta
) -> dict[str, Any]:
    access = jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=access_ttl,
        token_extras={
            "typ": ACCESS,
            "role": user.role,
            "name": user.username,
            "eng": user.engineer_id,
            "cust": user.customer_id,
        },
    )
    refresh = jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=refresh_ttl,
        token_extras={"typ": REFRESH, "ver": user.token_version},
    )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(access_ttl.total_seconds()),
        "refresh_token": refresh,
        "role": user.role,
    }
