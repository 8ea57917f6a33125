"""Signing in: a username and password for a pair of tokens; a refresh token for a new pair."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody
from litestar.security.jwt import Token
from msgspec import Meta
from sqlalchemy.orm import Session

from api.access import needs, public
from api.auth import REFRESH, issue_tokens
from api.deps import runtime
from core.services.context import Actor, ServiceContext
from core.services.users import authenticate
from core.store.models import User


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]


class RefreshInput(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=10, max_length=4096)]


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/token", opt=public(), sync_to_thread=True, status_code=200)
    def sign_in(
        self, request: Request[Any, Any, Any], session: NamedDependency[Session], data: JSONBody[Credentials]
    ) -> dict[str, Any]:
        rt = runtime(request.app.state)
        user = authenticate(
            ServiceContext(session, rt.clock, Actor.system(data.username)), data.username, data.password
        )
        if user is None:
            raise NotAuthorizedException("wrong username or password")
        return issue_tokens(rt.jwt_auth, user, rt.access_ttl, rt.refresh_ttl)

    @post("/refresh", opt=public(), sync_to_thread=True, status_code=200)
    def refresh(
        self, request: Request[Any, Any, Any], session: NamedDependency[Session], data: JSONBody[RefreshInput]
    ) -> dict[str, Any]:
        rt = runtime(request.app.state)
        user = refreshed_user(request, session, data.refresh_token)
        return issue_tokens(rt.jwt_auth, user, rt.access_ttl, rt.refresh_ttl)

    @get("/me", opt=needs("account"))
    async def me(self, request: Request[Actor, Any, Any]) -> dict[str, Any]:
        return dataclasses.asdict(request.user)


def refreshed_user(request: Request[Any, Any, Any], session: Session, refresh_token: str) -> User:
    """The user a refresh token still speaks for; revoked, expired or forged tokens are 401."""
    rt = runtime(request.app.state)
    try:
        token = Token.decode(refresh_token, rt.jwt_auth.token_secret, rt.jwt_auth.algorithm)
    except Exception as exc:  # litestar raises NotAuthorizedException subclasses for every JWT fault
        raise NotAuthorizedException("the refresh token is invalid or expired: sign in again") from exc
    user = session.get(User, int(token.sub)) if token.sub.isdigit() else None
    if (
        token.extras.get("typ") != REFRESH
        or user is None
        or not user.active
        or token.extras.get("ver") != user.token_version
    ):
        raise NotAuthorizedException("the refresh token has been revoked: sign in again")
    return user
