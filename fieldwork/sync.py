"""Delta sync: what changed for me since my last sync, from the outbox, in commit-safe order."""

from __future__ import annotations

import sqlalchemy as sa

from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.services.context import ServiceContext
from core.store import outbox
from core.store.models import OutboxEvent, Visit
from fieldwork.day import CARD_LOADING, Facts, History, card, my_engineer
from inventory.read_model import van_stock_of
from mobile_contract import wire

PAGE = 200


def changes(ctx: ServiceContext, since: str | None) -> wire.SyncPage:
    """Visits to (re)load and visits to drop. Without `since`: every open visit of mine, from scratch."""
    session = ctx.session
    engineer = my_engineer(ctx)
    today = ctx.now().date()
    if since is None:
        cursor = outbox.head(session)
        mine = session.scalars(
            sa.select(Visit)
            .where(Visit.engineer_id == engineer.id, Visit.status.in_(sorted(ACTIVE_VISIT_STATUSES)))
            .options(CARD_LOADING)
            .order_by(Visit.planned_start.is_(None), Visit.planned_start, Visit.id)
        ).all()
        facts, history = Facts.of(ctx, mine), History.of(ctx, mine)
        van = van_stock_of(session, engineer.id)
        return wire.SyncPage(
            cursor=outbox.encode(cursor),
            changed=[card(ctx, v, n, today, van, facts, history) for n, v in enumerate(mine, 1)],
            removed=[],
            more=False,
        )
    my_orders = sa.select(Visit.work_order_id).where(Visit.engineer_id == engineer.id).scalar_subquery()
    events = outbox.read_after(
        session,
        outbox.decode(since),
        [
            sa.or_(
                sa.and_(
                    OutboxEvent.subject_type == "visit",
                    OutboxEvent.data["engineer_id"].as_integer() == engineer.id,
                ),
                sa.and_(OutboxEvent.subject_type == "work_order", OutboxEvent.subject_id.in_(my_orders)),
            )
        ],
        limit=PAGE,
    )
    more = len(events) == PAGE
    cursor = outbox.cursor_of(events[-1]) if more else max(outbox.head(session), outbox.decode(since))
    visit_ids = {e.subject_id for e in events if e.subject_type == "visit"}
    order_ids = {e.subject_id for e in events if e.subject_type == "work_order"}
    if order_ids:
        visit_ids |= set(
            session.scalars(
                sa.select(Visit.id).where(
                    Visit.engineer_id == engineer.id, Visit.work_order_id.in_(order_ids)
                )
            )
        )
    visits = session.scalars(
        sa.select(Visit).where(Visit.id.in_(visit_ids)).options(CARD_LOADING).order_by(Visit.id)
    ).all()
    changed, removed = [], []
    live = [v for v in visits if v.engineer_id == engineer.id and v.status in ACTIVE_VISIT_STATUSES]
    facts, history = Facts.of(ctx, live), History.of(ctx, live)
    van = van_stock_of(session, engineer.id)
    for visit in visits:
        if visit in live:
            changed.append(card(ctx, visit, 0, today, van, facts, history))
        else:
            removed.append(
                wire.RemovedVisit(visit_id=visit.id, status=visit.status, reason=visit.ended_reason)
            )
    return wire.SyncPage(cursor=outbox.encode(cursor), changed=changed, removed=removed, more=more)
