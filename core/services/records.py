"""The create / change / list steps every master-data record shares (customers, sites, assets, …)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.domain.errors import Conflict
from core.services.common import apply_patch, check_version
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.services.paging import Page, check_limit, decode_cursor, encode_cursor

R = TypeVar("R")


def add_record(ctx: ServiceContext, record: R, subject_type: str, *, unique_hint: str = "") -> R:
    ctx.session.add(record)
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        ctx.session.rollback()
        raise Conflict(
            f"a {subject_type.replace('_', ' ')} with the same {unique_hint or 'key'} already exists"
        ) from exc
    record_id: int = record.id  # type: ignore[attr-defined]
    audit(ctx, subject_type, record_id, "created")
    emit(ctx, f"{subject_type}.created", subject_type, record_id, {})
    ctx.session.commit()
    return record


def change_record(
    ctx: ServiceContext,
    record: R,
    patch: msgspec.Struct,
    expected_version: int | None,
    subject_type: str,
    *,
    extra_changes: dict[str, Any] | None = None,
    unique_hint: str = "",
) -> R:
    """Apply a patch (only the fields sent), check the version the client saw, audit what changed."""
    check_version(record.version, expected_version)  # type: ignore[attr-defined]
    changed = apply_patch(record, patch)
    changed.update(extra_changes or {})
    if changed:
        record_id: int = record.id  # type: ignore[attr-defined]
        try:
            ctx.session.flush()
        except IntegrityError as exc:
            ctx.session.rollback()
            raise Conflict(
                f"another {subject_type.replace('_', ' ')} already has that {unique_hint or 'key'}"
            ) from exc
        audit(ctx, subject_type, record_id, "updated", data={"changed": sorted(changed)})
        emit(ctx, f"{subject_type}.updated", subject_type, record_id, {"changed": sorted(changed)})
    ctx.session.commit()
    return record


def list_records(
    ctx: ServiceContext,
    model: type[R],
    conditions: Sequence[sa.ColumnElement[bool]] = (),
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[R]:
    """Records in id order, a page at a time."""
    check_limit(limit)
    id_col = model.id  # type: ignore[attr-defined]
    where = list(conditions)
    if cursor:
        _, last_id = decode_cursor(cursor, "id")
        where.append(id_col > last_id)
    rows = list(ctx.session.scalars(sa.select(model).where(*where).order_by(id_col).limit(limit + 1)))
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor("id", None, rows[-1].id))  # type: ignore[attr-defined]
    return Page(rows, None)


def remove_record(
    ctx: ServiceContext, record: object, subject_type: str, expected_version: int | None
) -> None:
    """Delete a record nothing refers to; one with history (work orders, visits…) stays and says why."""
    check_version(record.version, expected_version)  # type: ignore[attr-defined]
    record_id: int = record.id  # type: ignore[attr-defined]
    ctx.session.delete(record)
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        ctx.session.rollback()
        raise Conflict(
            f"this {subject_type.replace('_', ' ')} is still referenced (work orders, sites, assets…); "
            "it stays for the record"
        ) from exc
    audit(ctx, subject_type, record_id, "deleted")
    emit(ctx, f"{subject_type}.deleted", subject_type, record_id, {})
    ctx.session.commit()
