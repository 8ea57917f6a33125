"""Small storage helpers that both backends share: insert-if-absent, claim-without-waiting."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignore(session: Session, model: Any, values: dict[str, Any], returning: Any = None) -> Any | None:
    """INSERT … ON CONFLICT DO NOTHING; the new row's `returning` column, or None when it already existed.

    The unique constraint decides, so two workers racing for the same key get one row between them.
    """
    dialect = postgresql if postgres(session) else sqlite
    stmt = dialect.insert(model).values(**values).on_conflict_do_nothing()
    column = returning if returning is not None else model.id
    return session.execute(stmt.returning(column)).scalar()


def insert_ignore_many(
    session: Session, model: Any, rows: list[dict[str, Any]], returning: Any = None
) -> list[Any]:
    """`insert_ignore` for many rows in one statement; the `returning` column of the rows that were new."""
    if not rows:
        return []
    dialect = postgresql if postgres(session) else sqlite
    stmt = dialect.insert(model).values(rows).on_conflict_do_nothing()
    column = returning if returning is not None else model.id
    return list(session.execute(stmt.returning(column)).scalars())


def skip_locked(query: sa.Select[Any], session: Session) -> sa.Select[Any]:
    """On PostgreSQL, rows another worker has locked are skipped, not waited for (SQLite has one writer)."""
    return query.with_for_update(skip_locked=True) if postgres(session) else query


def plain(obj: Any) -> dict[str, Any]:
    """JSON-able output (datetimes as ISO text)."""
    out: dict[str, Any] = msgspec.to_builtins(obj)
    return out
