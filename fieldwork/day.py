"""My day: the engineer's visits in route order, each with what they need on site."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.domain.errors import Forbidden
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.domain.workorders import Priority
from core.services import annex
from core.services.context import ServiceContext
from core.store import outbox
from core.store.models import Asset, Engineer, Site, Visit, WorkOrder
from mobile_contract import wire

HISTORY = 5


def my_engineer(ctx: ServiceContext) -> Engineer:
    if ctx.actor.engineer_id is None:
        raise Forbidden("this account is not an engineer's")
    return ctx.session.get_one(Engineer, ctx.actor.engineer_id)


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
        .options(
            selectinload(Visit.work_order).selectinload(WorkOrder.site).selectinload(Site.customer),
            selectinload(Visit.work_order).selectinload(WorkOrder.asset).selectinload(Asset.model),
            selectinload(Visit.work_order).selectinload(WorkOrder.contract),
        )
        .order_by(Visit.planned_start.is_(None), Visit.planned_start, Visit.id)
    ).all()
    today = ctx.now().date()
    facts = Facts.of(ctx, visits)
    return wire.DayPlan(
        date=on,
        engineer_id=engineer.id,
        visits=[card(ctx, v, n, today, van, facts) for n, v in enumerate(visits, start=1)],
        sync_cursor=outbox.encode(cursor),
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """Evidence and open alarms for a batch of visits, read in one go per feature."""

    by_work_order: dict[int, list[annex.Fact]]
    by_asset: dict[int, list[annex.Fact]]

    @classmethod
    def of(cls, ctx: ServiceContext, visits: Sequence[Visit]) -> Facts:
        wo_ids = [v.work_order_id for v in visits]
        asset_ids = sorted({v.work_order.asset_id for v in visits if v.work_order.asset_id is not None})
        return cls(annex.work_order_facts(ctx.session, wo_ids), annex.asset_facts(ctx.session, asset_ids))


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
) -> wire.VisitCard:
    facts = facts or Facts.of(ctx, [visit])
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
        asset=_asset(ctx, asset, wo.id, today, facts.by_asset.get(asset.id, [])) if asset else None,
    )


def _asset(
    ctx: ServiceContext, asset: Asset, current_wo: int, today: date, alarms: Sequence[annex.Fact]
) -> wire.AssetInfo:
    history = ctx.session.scalars(
        sa.select(WorkOrder)
        .where(WorkOrder.asset_id == asset.id, WorkOrder.id != current_wo)
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(HISTORY)
    )
    return wire.AssetInfo(
        id=asset.id,
        model_code=asset.model.code,
        model_name=asset.model.name,
        serial=asset.serial,
        installed_on=asset.installed_on,
        warranty_ends_on=asset.warranty_ends_on,
        under_warranty=asset.warranty_ends_on is not None and asset.warranty_ends_on >= today,
        history=[
            wire.PastJob(reference=w.reference, title=w.title, status=w.status, resolved_at=w.resolved_at)
            for w in history
        ],
        open_alarms=[finding(f) for f in alarms],
    )
