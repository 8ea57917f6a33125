"""User accounts: roles, argon2 password hashes, sign-in."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from msgspec import Meta

from core.domain.errors import Invalid
from core.services.common import Id, Input, Name, get_ref
from core.services.context import Role, ServiceContext
from core.services.events import audit
from core.store.models import Customer, Engineer, User

Username = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=256)]

_hasher = PasswordHasher()
# Verifying against this when the user is unknown makes "no such user" as slow as "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserInput(Input):
    username: Username
    password: Password
    role: Role
    display_name: Name | None = None
    engineer_id: Id | None = None
    customer_id: Id | None = None


def create_user(ctx: ServiceContext, data: UserInput) -> User:
    session = ctx.session
    if data.role is Role.ENGINEER and data.engineer_id is None:
        raise Invalid("an engineer account must name its engineer", field="engineer_id")
    if data.role is Role.CUSTOMER and data.customer_id is None:
        raise Invalid("a customer account must name its customer", field="customer_id")
    if data.engineer_id is not None:
        get_ref(session, Engineer, data.engineer_id, "engineer_id", "engineer")
    if data.customer_id is not None:
        get_ref(session, Customer, data.customer_id, "customer_id", "customer")
    if session.scalars(sa.select(User.id).where(User.username == data.username)).first() is not None:
        raise Invalid(f"username {data.username!r} is taken", field="username")
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        password_hash=_hasher.hash(data.password),
        role=data.role,
        engineer_id=data.engineer_id if data.role is Role.ENGINEER else None,
        customer_id=data.customer_id if data.role is Role.CUSTOMER else None,
        created_at=ctx.now(),
    )
    session.add(user)
    session.flush()
    audit(ctx, "user", user.id, "created", data={"role": data.role.value})
    session.commit()
    return user


def authenticate(ctx: ServiceContext, username: str, password: str) -> User | None:
    user = ctx.session.scalars(sa.select(User).where(User.username == username)).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = ctx.now()
    ctx.session.commit()
    return user


def set_password(ctx: ServiceContext, user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    # Every refresh token issued before this moment stops working.
    user.token_version += 1
    audit(ctx, "user", user.id, "password_changed")
    ctx.session.commit()
