"""My day: the engineer's visits in route order, each with what they need on site."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload

from core.domain.errors import Forbidden
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.domain.workorders import Priority
from core.services import annex
from core.services.context import ServiceContext
from core.store import outbox
from core.store.models import Asset, Engineer, Site, Visit, WorkOrder
from mobile_contract import wire

HISTORY = 5


def my_engineer_id(ctx: ServiceContext) -> int:
    if ctx.actor.engineer_id is None:
        raise Forbidden("this account is not an engineer's")
    return ctx.actor.engineer_id


def my_engineer(ctx: ServiceContext) -> Engineer:
    # The territory (time zone) comes along; the skills only if asked for.
    return ctx.session.get_one(
        Engineer, my_engineer_id(ctx), options=[joinedload(Engineer.territory), lazyload(Engineer.skills)]
    )


# Everything a card shows is many-to-one from the visit: one joined query with the visits. The work
# order's own collections (its skills, every visit it ever had) are not shown, so they are not loaded.
CARD_LOADING = joinedload(Visit.work_order).options(
    joinedload(WorkOrder.site).joinedload(Site.customer),
    joinedload(WorkOrder.asset).joinedload(Asset.model),
    joinedload(WorkOrder.contract),
    lazyload(WorkOrder.skills),
    lazyload(WorkOrder.visits),
)


def day_window(engineer: Engineer, on: date) -> tuple[datetime, datetime]:
    """The engineer's local calendar day as UTC instants (their territory's time zone)."""
    zone = ZoneInfo(engineer.territory.timezone)
    start = datetime.combine(on, time(0), zone)
    return start, datetime.combine(on + timedelta(days=1), time(0), zone)


def my_day(ctx: ServiceContext, on: date, van: Mapping[str, int] | None = None) -> wire.DayPlan:
    """Visits planned for `on`, plus open visits with no time yet, in route order (planned start)."""
    engineer = my_engineer(ctx)
    start, end = day_window(engineer, on)
    # Taken before reading: whatever changes after it reaches the phone through /sync, at worst twice.
    cursor = outbox.head(ctx.session)
    visits = ctx.session.scalars(
        sa.select(Visit)
        .where(
            Visit.engineer_id == engineer.id,
            sa.or_(
                sa.and_(Visit.planned_start >= start, Visit.planned_start < end),
                sa.and_(Visit.planned_start.is_(None), Visit.status.in_(sorted(ACTIVE_VISIT_STATUSES))),
            ),
        )
        .options(CARD_LOADING)
        .order_by(Visit.planned_start.is_(None), Visit.planned_start, Visit.id)
    ).all()
    today = ctx.now().date()
    facts = Facts.of(ctx, visits)
    histories = History.of(ctx, visits)
    return wire.DayPlan(
        date=on,
        engineer_id=engineer.id,
        visits=[card(ctx, v, n, today, van, facts, histories) for n, v in enumerate(visits, start=1)],
        sync_cursor=outbox.encode(cursor),
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """Evidence, open alarms and advice for a batch of visits, read in one go per feature."""

    by_work_order: dict[int, list[annex.Fact]]
    by_asset: dict[int, list[annex.Fact]]
    advice: dict[int, list[annex.Advice]]

    @classmethod
    def of(cls, ctx: ServiceContext, visits: Sequence[Visit]) -> Facts:
        wo_ids = [v.work_order_id for v in visits]
        asset_ids = sorted({v.work_order.asset_id for v in visits if v.work_order.asset_id is not None})
        return cls(
            annex.work_order_facts(ctx.session, wo_ids),
            annex.asset_facts(ctx.session, asset_ids),
            annex.work_order_advice(ctx.session, wo_ids),
        )


@dataclass(frozen=True, slots=True)
class History:
    """The latest jobs on each asset of a batch of visits, read in one query (not one per card)."""

    by_asset: dict[int, list[tuple[int, wire.PastJob]]]

    @classmethod
    def of(cls, ctx: ServiceContext, visits: Sequence[Visit]) -> History:
        per_asset = Counter(v.work_order.asset_id for v in visits if v.work_order.asset_id is not None)
        if not per_asset:
            return cls({})
        # Each card leaves out its own work order, so an asset visited k times in the batch needs k more.
        keep = HISTORY + max(per_asset.values())
        latest = sa.func.row_number().over(
            partition_by=WorkOrder.asset_id, order_by=(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        )
        ranked = (
            sa.select(
                WorkOrder.id,
                WorkOrder.asset_id,
                WorkOrder.title,
                WorkOrder.status,
                WorkOrder.resolved_at,
                latest.label("rank"),
            )
            .where(WorkOrder.asset_id.in_(sorted(per_asset)))
            .subquery()
        )
        rows = ctx.session.execute(
            sa.select(ranked).where(ranked.c.rank <= keep).order_by(ranked.c.asset_id, ranked.c.rank)
        )
        by_asset: dict[int, list[tuple[int, wire.PastJob]]] = {}
        for row in rows:
            job = wire.PastJob(
                reference=f"WO-{row.id:07d}", title=row.title, status=row.status, resolved_at=row.resolved_at
            )
            by_asset.setdefault(row.asset_id, []).append((row.id, job))
        return cls(by_asset)

    def of_asset(self, asset_id: int, current_wo: int) -> list[wire.PastJob]:
        jobs = [job for wo_id, job in self.by_asset.get(asset_id, []) if wo_id != current_wo]
        return jobs[:HISTORY]


def finding(fact: annex.Fact) -> wire.Finding:
    return wire.Finding(
        source=fact.source,
        kind=fact.kind,
        summary=fact.summary,
        raised_at=fact.raised_at,
        severity=fact.severity,
        details=dict(fact.details),
    )


def card(
    ctx: ServiceContext,
    visit: Visit,
    sequence: int,
    today: date,
    van: Mapping[str, int] | None = None,
    facts: Facts | None = None,
    histories: History | None = None,
) -> wire.VisitCard:
    facts = facts or Facts.of(ctx, [visit])
    histories = histories or History.of(ctx, [visit])
    wo = visit.work_order
    site, contract, asset = wo.site, wo.contract, wo.asset
    return wire.VisitCard(
        visit_id=visit.id,
        status=visit.status,
        sequence=sequence,
        planned_start=visit.planned_start,
        planned_end=visit.planned_end,
        eta=visit.eta,
        version=visit.version,
        job=wire.JobInfo(
            work_order_id=wo.id,
            reference=wo.reference,
            title=wo.title,
            description=wo.description,
            kind=wo.kind,
            priority=Priority.of(wo.priority).value,
            status=wo.status,
            estimated_minutes=wo.estimated_minutes,
            respond_by=wo.respond_by,
            resolve_by=wo.resolve_by,
            suggested_parts=[
                wire.PartSuggestion(
                    sku=p["sku"],
                    quantity=p["quantity"],
                    in_my_van=None if van is None else van.get(p["sku"], 0) >= p["quantity"],
                )
                for p in wo.required_parts
            ],
            evidence=[finding(f) for f in facts.by_work_order.get(wo.id, [])],
            suggested_articles=[
                wire.ArticleHint(article_id=a.ref, title=a.title, excerpt=a.excerpt)
                for a in facts.advice.get(wo.id, [])
                if a.source == "servicedesk"
            ],
        ),
        site=wire.SiteInfo(
            id=site.id,
            name=site.name,
            address=site.address,
            location=wire.GeoPoint(lat=site.lat, lon=site.lon),
            access_notes=site.access_notes,
            geofence_radius_m=site.geofence_radius_m,
            contact_name=site.contact_name,
            contact_phone=site.contact_phone,
        ),
        customer=wire.CustomerInfo(
            id=site.customer.id,
            name=site.customer.name,
            phone=site.customer.phone,
            contract_tier=contract.tier if contract else None,
            covers_labour=bool(contract and contract.covers_labour),
            covers_parts=bool(contract and contract.covers_parts),
        ),
        asset=_asset(asset, today, histories.of_asset(asset.id, wo.id), facts.by_asset.get(asset.id, []))
        if asset
        else None,
    )


def _asset(
    asset: Asset, today: date, history: list[wire.PastJob], alarms: Sequence[annex.Fact]
) -> wire.AssetInfo:
    return wire.AssetInfo(
        id=asset.id,
        model_code=asset.model.code,
        model_name=asset.model.name,
        serial=asset.serial,
        installed_on=asset.installed_on,
        warranty_ends_on=asset.warranty_ends_on,
        under_warranty=asset.warranty_ends_on is not None and asset.warranty_ends_on >= today,
        history=history,
        open_alarms=[finding(f) for f in alarms],
    )
