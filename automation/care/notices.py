"""The consumables step of the care pass: predict every (asset, consumable), raise or update notices.

Deduplicated like alarms: the partial unique index allows one open notice per (asset, consumable); a
pass that finds it still due updates it (new date, count + 1). A notice is resolved when the consumable is
replaced (by hand, or a stock consumption of its SKU on a work order for the asset), or withdrawn when its
run-out has moved beyond twice the lead time (hysteresis, so a wobbling rate does not flap it).
The account owner's task is made once per notice (`dedupe_key`); with nobody in that role yet, the next
pass tries again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from automation import people
from automation.care import runout, usage
from automation.care.consumables import add_replacement, last_replacements, resolve_open
from automation.care.models import CareNotice, Consumable, Prediction
from automation.models import Cursor, Task
from automation.store import insert_ignore, plain, skip_locked
from automation.tasks import new_task
from core.services.context import ServiceContext
from core.services.events import emit
from core.store import outbox
from core.store.models import Asset, Customer, OutboxEvent, Site, WorkOrder

STOCK_CURSOR = "care:stock"


@dataclass
class ConsumableStats:
    predicted: int = 0
    unknown: int = 0
    raised: int = 0
    updated: int = 0
    withdrawn: int = 0
    tasks: int = 0
    unassigned: int = 0
    replacements: int = 0


@dataclass(frozen=True, slots=True)
class _Subject:
    asset_id: int
    serial: str
    installed_on: Any
    customer_id: int
    customer: str
    territory_id: int


def run(ctx: ServiceContext) -> ConsumableStats:
    stats = ConsumableStats()
    stats.replacements = scan_stock(ctx)
    now = ctx.now()
    by_model: dict[int, list[Consumable]] = defaultdict(list)
    for c in ctx.session.scalars(
        sa.select(Consumable).where(Consumable.active.is_(True)).order_by(Consumable.id)
    ):
        by_model[c.asset_model_id].append(c)
    if not by_model:
        return stats
    rows = ctx.session.execute(
        sa.select(
            Asset.id,
            Asset.asset_model_id,
            Asset.serial,
            Asset.installed_on,
            Site.customer_id,
            Customer.name,
            Site.territory_id,
        )
        .join(Site, Site.id == Asset.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(Asset.asset_model_id.in_(sorted(by_model)))
        .order_by(Asset.id)
    ).all()
    subjects = [
        (_Subject(a, serial, inst, cust, cname, terr), model)
        for a, model, serial, inst, cust, cname, terr in rows
    ]
    replaced = last_replacements(ctx, [(s.asset_id, c.id) for s, model in subjects for c in by_model[model]])
    for subject, model in subjects:
        for consumable in by_model[model]:
            prediction = predict(
                ctx, subject, consumable, replaced.get((subject.asset_id, consumable.id)), now
            )
            _keep(ctx, subject.asset_id, consumable.id, prediction, now)
            if prediction.run_out_at is None:
                stats.unknown += 1
                continue
            stats.predicted += 1
            _notice(ctx, subject, consumable, prediction, now, stats)
        ctx.session.commit()
    return stats


def predict(
    ctx: ServiceContext,
    subject: _Subject,
    consumable: Consumable,
    replaced_at: datetime | None,
    now: datetime,
) -> runout.Prediction:
    if consumable.cycle_days is not None:
        installed = (
            datetime.combine(subject.installed_on, time(), tzinfo=UTC)
            if subject.installed_on is not None
            else None
        )
        return runout.by_cycle(consumable.cycle_days, replaced_at, installed)
    assert consumable.counter is not None and consumable.capacity is not None
    history = usage.readings(ctx.session, subject.asset_id, consumable.counter, now, replaced_at)
    return runout.by_usage(consumable.capacity, history, replaced_at)


def _keep(
    ctx: ServiceContext, asset_id: int, consumable_id: int, p: runout.Prediction, now: datetime
) -> None:
    values = {"run_out_at": p.run_out_at, "basis": p.basis, "computed_at": now}
    done = ctx.session.execute(
        sa.update(Prediction)
        .where(Prediction.asset_id == asset_id, Prediction.consumable_id == consumable_id)
        .values(**values)
    )
    if getattr(done, "rowcount", 0) == 0:
        insert_ignore(
            ctx.session,
            Prediction,
            {"asset_id": asset_id, "consumable_id": consumable_id, **values},
            Prediction.asset_id,
        )


def _notice(
    ctx: ServiceContext,
    subject: _Subject,
    consumable: Consumable,
    p: runout.Prediction,
    now: datetime,
    stats: ConsumableStats,
) -> None:
    assert p.run_out_at is not None
    lead = timedelta(days=consumable.lead_days)
    if p.run_out_at - lead > now:
        if (
            p.run_out_at - now > 2 * lead
            and resolve_open(ctx, subject.asset_id, consumable.id, "no longer due") is not None
        ):
            stats.withdrawn += 1
        return
    notice_id = insert_ignore(
        ctx.session,
        CareNotice,
        {
            "asset_id": subject.asset_id,
            "consumable_id": consumable.id,
            "customer_id": subject.customer_id,
            "status": "open",
            "run_out_at": p.run_out_at,
            "basis": p.basis,
            "portal": consumable.notify in ("portal", "both"),
            "raised_at": now,
            "updated_at": now,
            "count": 1,
        },
    )
    if notice_id is not None:
        stats.raised += 1
        notice = ctx.session.get_one(CareNotice, notice_id)
        emit(
            ctx,
            "care.notice_raised",
            "asset",
            subject.asset_id,
            notice_event(notice, consumable, subject.serial),
        )
    else:
        notice = ctx.session.execute(
            sa.select(CareNotice).where(
                CareNotice.asset_id == subject.asset_id,
                CareNotice.consumable_id == consumable.id,
                CareNotice.status == "open",
            )
        ).scalar_one()
        notice.run_out_at, notice.basis, notice.updated_at = p.run_out_at, p.basis, now
        notice.count += 1
        stats.updated += 1
    if consumable.notify in ("task", "both") and notice.task_id is None:
        notice.task_id = _task(ctx, notice, consumable, subject, now)
        if notice.task_id is None:
            stats.unassigned += 1
        else:
            stats.tasks += 1


def _task(
    ctx: ServiceContext, notice: CareNotice, consumable: Consumable, subject: _Subject, now: datetime
) -> int | None:
    owner = people.holder(ctx.session, "account_owner", subject.territory_id, subject.customer_id)
    if owner is None:
        return None
    key = f"care:notice:{notice.id}"
    day = notice.run_out_at.date().isoformat()
    task = new_task(
        ctx,
        title=f"更换{consumable.name} / replace {consumable.code}: "
        f"{subject.serial} ({subject.customer}) by {day}",
        kind="consumable",
        owner=owner,
        due_at=max(now, notice.run_out_at - timedelta(days=consumable.lead_days / 2)),
        customer_id=subject.customer_id,
        work_order_id=None,
        notes=f"predicted run-out {notice.run_out_at.isoformat()} ({notice.basis.get('method')}); "
        f"asset {subject.asset_id}",
        dedupe_key=key,
    )
    if task is not None:
        return task.id
    return ctx.session.scalar(sa.select(Task.id).where(Task.dedupe_key == key))


def notice_event(notice: CareNotice, consumable: Consumable, serial: str) -> dict[str, Any]:
    return plain(
        {
            "notice_id": notice.id,
            "asset_id": notice.asset_id,
            "serial": serial,
            "customer_id": notice.customer_id,
            "consumable_id": consumable.id,
            "consumable": consumable.code,
            "run_out_at": notice.run_out_at,
        }
    )


# ---------------------------------------------------------------- replacements seen in stock consumption


def scan_stock(ctx: ServiceContext, batch: int = 500) -> int:
    """Parts consumed on a work order for an asset whose model has a consumable with that SKU: replaced.

    Read from the outbox after our own cursor, which one worker at a time holds (as the rules reader does);
    the replacement's `source_key` is the event, so a re-read records nothing twice.
    """
    s = ctx.session
    insert_ignore(
        s, Cursor, {"name": STOCK_CURSOR, "tx_id": 0, "seq": 0, "updated_at": ctx.now()}, Cursor.name
    )
    s.commit()
    recorded = 0
    while True:
        cur = s.scalar(skip_locked(sa.select(Cursor).where(Cursor.name == STOCK_CURSOR), s))
        if cur is None:
            s.rollback()
            return recorded  # another worker is reading it
        position = (cur.tx_id, cur.seq)
        events = outbox.read_after(s, position, [OutboxEvent.type == "stock.consumed"], batch)
        for evt in events:
            recorded += _replaced_by(ctx, evt)
        new = outbox.cursor_of(events[-1]) if events else max(position, outbox.head(s))
        cur.tx_id, cur.seq, cur.updated_at = new[0], new[1], ctx.now()
        s.commit()
        if len(events) < batch:
            return recorded


def _replaced_by(ctx: ServiceContext, evt: OutboxEvent) -> int:
    if evt.subject_type != "work_order":
        return 0
    wo = ctx.session.get(WorkOrder, evt.subject_id)
    if wo is None or wo.asset_id is None:
        return 0
    skus = {str(line.get("sku")) for line in (evt.data or {}).get("lines", []) if isinstance(line, dict)}
    asset = ctx.session.get_one(Asset, wo.asset_id)
    found = 0
    for c in ctx.session.scalars(
        sa.select(Consumable).where(
            Consumable.asset_model_id == asset.asset_model_id, Consumable.sku.in_(sorted(skus))
        )
    ):
        key = f"stock:{evt.event_id}:{c.id}"
        found += add_replacement(ctx, asset.id, c.id, evt.occurred_at, "stock", key, wo.id) is not None
    return found
