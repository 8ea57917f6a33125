"""Who a rule or an escalation means ("the supervisor", "the account owner"), tags and in-app notices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import Meta
from sqlalchemy.orm import Session

from automation.models import Assignee, Notification, Tag
from automation.store import insert_ignore, plain
from core.domain.errors import Invalid, NotFound
from core.services.common import Id, Input
from core.services.context import ServiceContext
from core.services.events import emit
from core.store.models import User, WorkOrder

RoleName = Literal["supervisor", "service_manager", "account_owner"]
Username = Annotated[str, Meta(min_length=1, max_length=64)]


class Unresolvable(Exception):
    """Nobody holds the role for this work order: the action fails (and is retried, and reported)."""


class AssigneeInput(Input):
    role: RoleName
    username: Username
    territory_id: Id | None = None
    customer_id: Id | None = None


def put_assignee(ctx: ServiceContext, data: AssigneeInput) -> Assignee:
    if ctx.session.scalar(sa.select(User.id).where(User.username == data.username)) is None:
        raise Invalid(f"no user {data.username!r}", field="username")
    row = ctx.session.scalar(
        sa.select(Assignee).where(
            Assignee.role == data.role,
            _eq(Assignee.territory_id, data.territory_id),
            _eq(Assignee.customer_id, data.customer_id),
        )
    )
    if row is None:
        row = Assignee(
            role=data.role, territory_id=data.territory_id, customer_id=data.customer_id, username=""
        )
        ctx.session.add(row)
    row.username = data.username
    ctx.session.commit()
    return row


def list_assignees(ctx: ServiceContext) -> list[Assignee]:
    return list(ctx.session.scalars(sa.select(Assignee).order_by(Assignee.role, Assignee.id)))


def assignee_out(a: Assignee) -> dict[str, Any]:
    return {
        "id": a.id,
        "role": a.role,
        "username": a.username,
        "territory_id": a.territory_id,
        "customer_id": a.customer_id,
    }


def _eq(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


def holder(session: Session, role: str, territory_id: int | None, customer_id: int | None) -> str | None:
    """The most specific holder of a role: for this customer, else this territory, else everyone."""
    rows = session.execute(
        sa.select(Assignee.username, Assignee.customer_id, Assignee.territory_id).where(Assignee.role == role)
    ).all()
    best: tuple[int, str] | None = None
    for username, cust, terr in rows:
        if cust is not None and cust != customer_id:
            continue
        if terr is not None and terr != territory_id:
            continue
        rank = (2 if cust is not None else 0) + (1 if terr is not None else 0)
        if best is None or rank > best[0]:
            best = (rank, username)
    return best[1] if best else None


def resolve(session: Session, recipient: str, wo: WorkOrder | None, customer_id: int | None = None) -> str:
    """A recipient spec (`role:supervisor`, `user:li`) → a username, or Unresolvable."""
    kind, _, name = recipient.partition(":")
    if kind == "user":
        if session.scalar(sa.select(User.id).where(User.username == name, User.active.is_(True))) is None:
            raise Unresolvable(f"no active user {name!r}")
        return name
    territory = wo.territory_id if wo is not None else None
    customer = wo.customer_id if wo is not None else customer_id
    if name == "engineer":
        engineer_id = _engineer_of(wo)
        if engineer_id is None:
            raise Unresolvable("the work order has no engineer yet")
        username = session.scalar(sa.select(User.username).where(User.engineer_id == engineer_id))
        if username is None:
            raise Unresolvable(f"engineer {engineer_id} has no user account")
        return username
    username = holder(session, name, territory, customer)
    if username is None:
        where = f"customer {customer}" if name == "account_owner" else f"territory {territory}"
        raise Unresolvable(f"nobody is the {name} for {where}: set one at PUT /automation/assignees")
    return username


def _engineer_of(wo: WorkOrder | None) -> int | None:
    if wo is None:
        return None
    from core.services.workorders import current_visit

    visit = current_visit(wo)
    if visit is not None:
        return visit.engineer_id
    return wo.visits[-1].engineer_id if wo.visits else None


# ---------------------------------------------------------------- tags


def tags_of(session: Session, subject_type: str, subject_id: int) -> list[str]:
    return list(
        session.scalars(
            sa.select(Tag.tag)
            .where(Tag.subject_type == subject_type, Tag.subject_id == subject_id)
            .order_by(Tag.tag)
        )
    )


def add_tag(ctx: ServiceContext, subject_type: str, subject_id: int, tag: str) -> bool:
    new = insert_ignore(
        ctx.session,
        Tag,
        {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "tag": tag,
            "added_at": ctx.now(),
            "added_by": ctx.actor.name,
        },
    )
    if new is not None:
        emit(ctx, "automation.tagged", subject_type, subject_id, {"tag": tag})
    return new is not None


def remove_tag(ctx: ServiceContext, subject_type: str, subject_id: int, tag: str) -> bool:
    result = ctx.session.execute(
        sa.delete(Tag).where(Tag.subject_type == subject_type, Tag.subject_id == subject_id, Tag.tag == tag)
    )
    return bool(getattr(result, "rowcount", 0))


# ---------------------------------------------------------------- notices


def notify(
    ctx: ServiceContext,
    username: str,
    subject: str,
    body: str,
    *,
    source: str,
    work_order_id: int | None = None,
    channel: str = "in_app",
) -> Notification:
    """An in-app notice, and a domain event (`automation.notified`) that webhooks/IM bridges deliver."""
    n = Notification(
        username=username,
        channel=channel,
        subject=subject[:300],
        body=body,
        work_order_id=work_order_id,
        source=source,
        created_at=ctx.now(),
    )
    ctx.session.add(n)
    ctx.session.flush()
    emit(
        ctx,
        "automation.notified",
        "notification",
        n.id,
        {
            "username": username,
            "channel": channel,
            "subject": n.subject,
            "body": body,
            "work_order_id": work_order_id,
            "source": source,
        },
    )
    return n


def list_notifications(ctx: ServiceContext, username: str, unread: bool, limit: int) -> list[Notification]:
    query = sa.select(Notification).where(Notification.username == username)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(ctx.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(ctx: ServiceContext, username: str, notification_id: int) -> Notification:
    n = ctx.session.get(Notification, notification_id)
    if n is None or n.username != username:
        raise NotFound(f"notification {notification_id} does not exist")
    if n.read_at is None:
        n.read_at = ctx.now()
        ctx.session.commit()
    return n


def notification_out(n: Notification) -> dict[str, Any]:
    return plain(
        {
            "id": n.id,
            "username": n.username,
            "channel": n.channel,
            "subject": n.subject,
            "body": n.body,
            "work_order_id": n.work_order_id,
            "source": n.source,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
    )
