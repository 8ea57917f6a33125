"""Self-service deflection: did a suggested article save a request?

While a customer writes a request, the portal suggests public articles. Each suggested article they open
is one *read*. A read is then:
- **submitted** when the same person opens a request within the window after it (the article did not
  answer the question), even if they also said it helped;
- **deflected** when they said it helped, or the window passed with no request from them;
- **pending** until one of those is known.

The rate is deflected / (deflected + submitted): pending reads are left out, not guessed. The same
article opened again by the same person while a read is pending counts once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from core.services.context import ServiceContext
from servicedesk.config import DeskConfig
from servicedesk.models import KbArticle, KbSuggestionRead


def _who(ctx: ServiceContext, customer_id: int) -> list[sa.ColumnElement[bool]]:
    clauses = [KbSuggestionRead.customer_id == customer_id]
    if ctx.actor.user_id is not None:
        clauses.append(KbSuggestionRead.user_id == ctx.actor.user_id)
    return clauses


def record_read(ctx: ServiceContext, cfg: DeskConfig, customer_id: int, article_id: int) -> None:
    now = ctx.now()
    open_read = ctx.session.scalars(
        sa.select(KbSuggestionRead.id).where(
            *_who(ctx, customer_id),
            KbSuggestionRead.article_id == article_id,
            KbSuggestionRead.work_order_id.is_(None),
            KbSuggestionRead.read_at > now - cfg.deflection_window,
        )
    ).first()
    if open_read is None:
        ctx.session.add(
            KbSuggestionRead(
                article_id=article_id, customer_id=customer_id, user_id=ctx.actor.user_id, read_at=now
            )
        )
        ctx.session.commit()


def mark_helpful(
    ctx: ServiceContext, cfg: DeskConfig, customer_id: int, article_id: int, helpful: bool
) -> None:
    """The answer to "did this help?" on the person's latest undecided read of this article, if any."""
    latest = ctx.session.scalars(
        sa.select(KbSuggestionRead)
        .where(
            *_who(ctx, customer_id),
            KbSuggestionRead.article_id == article_id,
            KbSuggestionRead.work_order_id.is_(None),
            KbSuggestionRead.read_at > ctx.now() - cfg.deflection_window,
        )
        .order_by(KbSuggestionRead.id.desc())
    ).first()
    if latest is not None:
        latest.helpful = helpful
        ctx.session.commit()


def mark_submitted(ctx: ServiceContext, cfg: DeskConfig, customer_id: int, work_order_id: int) -> None:
    """A request was opened: the person's reads within the window did not deflect it."""
    now = ctx.now()
    ctx.session.execute(
        sa.update(KbSuggestionRead)
        .where(
            *_who(ctx, customer_id),
            KbSuggestionRead.work_order_id.is_(None),
            KbSuggestionRead.read_at > now - cfg.deflection_window,
        )
        .values(work_order_id=work_order_id, submitted_at=now)
    )
    ctx.session.commit()


def outcome(read: KbSuggestionRead, now: datetime, cfg: DeskConfig) -> str:
    if read.work_order_id is not None:
        return "submitted"
    if read.helpful or read.read_at <= now - cfg.deflection_window:
        return "deflected"
    return "pending"


def _figures(outcomes: list[str]) -> dict[str, Any]:
    counts = {k: outcomes.count(k) for k in ("deflected", "submitted", "pending")}
    decided = counts["deflected"] + counts["submitted"]
    return {
        "reads": len(outcomes),
        **counts,
        "deflection_rate": float(Fraction(counts["deflected"], decided)) if decided else None,
    }


def metric(
    ctx: ServiceContext, cfg: DeskConfig, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    now = ctx.now()
    query = sa.select(KbSuggestionRead, KbArticle.title).join(
        KbArticle, KbArticle.id == KbSuggestionRead.article_id
    )
    if since is not None:
        query = query.where(KbSuggestionRead.read_at >= since)
    if until is not None:
        query = query.where(KbSuggestionRead.read_at < until)
    everything: list[str] = []
    helpful = 0
    by_article: dict[tuple[int, str], list[str]] = defaultdict(list)
    for read, title in ctx.session.execute(query.order_by(KbSuggestionRead.id)).tuples():
        result = outcome(read, now, cfg)
        everything.append(result)
        helpful += bool(read.helpful)
        by_article[(read.article_id, title)].append(result)
    return {
        "window_hours": cfg.deflection_window.total_seconds() / 3600,
        **_figures(everything),
        "marked_helpful": helpful,
        "by_article": [
            {"article_id": aid, "title": title, **_figures(results)}
            for (aid, title), results in sorted(by_article.items())
        ],
    }
