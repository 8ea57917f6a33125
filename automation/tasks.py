"""Tasks: care calls (回访), care visits, callbacks, reminders — owner, due date, links; done or overdue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import Meta

from automation.models import Task
from automation.store import insert_ignore, plain
from core.domain.errors import Conflict, Invalid, NotFound
from core.services.common import Id, Input, Instant, LongText, Name, get_ref
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Customer, User, WorkOrder

KINDS = ("care_call", "care_visit", "callback", "follow_up", "consumable", "key_date", "other")
Kind = Literal["care_call", "care_visit", "callback", "follow_up", "consumable", "key_date", "other"]
State = Literal["open", "overdue", "done", "cancelled", "all"]


class TaskInput(Input):
    title: Name
    owner: Annotated[str, Meta(min_length=1, max_length=64)]
    due_at: Instant
    kind: Kind = "follow_up"
    customer_id: Id | None = None
    work_order_id: Id | None = None
    notes: LongText = ""


def create_task(ctx: ServiceContext, data: TaskInput) -> Task:
    session = ctx.session
    if session.scalar(sa.select(User.id).where(User.username == data.owner)) is None:
        raise Invalid(f"no user {data.owner!r}", field="owner")
    customer_id = data.customer_id
    if data.work_order_id is not None:
        wo = get_ref(session, WorkOrder, data.work_order_id, "work_order_id", "work order")
        if customer_id is not None and customer_id != wo.customer_id:
            raise Invalid(f"work order {wo.reference} is not for customer {customer_id}", field="customer_id")
        customer_id = wo.customer_id
    elif customer_id is not None:
        get_ref(session, Customer, customer_id, "customer_id", "customer")
    task = new_task(
        ctx,
        title=data.title,
        kind=data.kind,
        owner=data.owner,
        due_at=data.due_at,
        customer_id=customer_id,
        work_order_id=data.work_order_id,
        notes=data.notes,
    )
    assert task is not None
    session.commit()
    return task


def new_task(
    ctx: ServiceContext,
    *,
    title: str,
    kind: str,
    owner: str,
    due_at: datetime,
    customer_id: int | None,
    work_order_id: int | None,
    notes: str = "",
    dedupe_key: str | None = None,
) -> Task | None:
    """Create a task in the current transaction; with `dedupe_key`, at most once (None: it existed)."""
    values: dict[str, Any] = {
        "title": title[:200],
        "kind": kind,
        "owner": owner,
        "due_at": due_at,
        "customer_id": customer_id,
        "work_order_id": work_order_id,
        "notes": notes,
        "status": "open",
        "dedupe_key": dedupe_key,
        "created_by": ctx.actor.name,
        "created_at": ctx.now(),
    }
    task_id = insert_ignore(ctx.session, Task, values)
    if task_id is None:
        return None
    task = ctx.session.get_one(Task, task_id)
    if work_order_id is not None:
        audit(
            ctx,
            "work_order",
            work_order_id,
            "task_created",
            data={"task_id": task_id, "kind": kind, "owner": owner},
        )
    emit(
        ctx,
        "task.created",
        "task",
        task_id,
        {
            "kind": kind,
            "owner": owner,
            "work_order_id": work_order_id,
            "customer_id": customer_id,
            "due_at": due_at.isoformat(),
        },
    )
    return task


def list_tasks(
    ctx: ServiceContext, owner: str | None, state: State, limit: int = 100, work_order_id: int | None = None
) -> list[Task]:
    now = ctx.now()
    query = sa.select(Task)
    if owner is not None:
        query = query.where(Task.owner == owner)
    if work_order_id is not None:
        query = query.where(Task.work_order_id == work_order_id)
    if state == "open":
        query = query.where(Task.status == "open")
    elif state == "overdue":
        query = query.where(Task.status == "open", Task.due_at < now)
    elif state in ("done", "cancelled"):
        query = query.where(Task.status == state)
    return list(ctx.session.scalars(query.order_by(Task.due_at, Task.id).limit(limit)))


def get_task(ctx: ServiceContext, task_id: int) -> Task:
    task = ctx.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def finish(ctx: ServiceContext, task_id: int, status: Literal["done", "cancelled"], note: str | None) -> Task:
    task = get_task(ctx, task_id)
    if task.status != "open":
        raise Conflict(f"task {task_id} is already {task.status}")
    task.status = status
    task.done_at = ctx.now()
    task.done_by = ctx.actor.name
    if note:
        task.notes = (task.notes + "\n" + note).strip()
    if task.work_order_id is not None:
        audit(ctx, "work_order", task.work_order_id, f"task_{status}", reason=note, data={"task_id": task.id})
    emit(ctx, f"task.{status}", "task", task.id, {"owner": task.owner, "work_order_id": task.work_order_id})
    ctx.session.commit()
    return task


def task_out(task: Task, now: datetime) -> dict[str, Any]:
    return plain(
        {
            "id": task.id,
            "title": task.title,
            "kind": task.kind,
            "owner": task.owner,
            "due_at": task.due_at,
            "customer_id": task.customer_id,
            "work_order_id": task.work_order_id,
            "notes": task.notes,
            "status": task.status,
            "overdue": task.status == "open" and task.due_at < now,
            "created_by": task.created_by,
            "created_at": task.created_at,
            "done_at": task.done_at,
            "done_by": task.done_by,
        }
    )
