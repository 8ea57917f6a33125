"""What an admin sets up once: territories with their calendars, skills, SLA policies, asset models."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.calendar import BusinessCalendar
from core.domain.errors import Invalid
from core.services.common import Code, Input, Name, SkillCode, get_or_404
from core.services.context import ServiceContext
from core.services.customers import Tier
from core.services.records import add_record
from core.store.models import AssetModel, Skill, SlaPolicy, Territory

TargetMinutes = Annotated[int, Meta(ge=1, le=365 * 24 * 60)]


class TerritoryInput(Input):
    name: Name
    # BusinessCalendar.to_dict() shape; its time zone is the territory's.
    calendar: dict[str, Any]


class TerritoryPatch(Input):
    name: Name | UnsetType = UNSET
    calendar: dict[str, Any] | UnsetType = UNSET


def _calendar(raw: dict[str, Any]) -> BusinessCalendar:
    try:
        return BusinessCalendar.from_dict(raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise Invalid(f"calendar: {exc}", field="calendar") from exc


def create_territory(ctx: ServiceContext, data: TerritoryInput) -> Territory:
    calendar = _calendar(data.calendar)
    territory = Territory(name=data.name, timezone=calendar.timezone, calendar=calendar.to_dict())
    return add_record(ctx, territory, "territory", unique_hint="name")


def update_territory(ctx: ServiceContext, territory_id: int, patch: TerritoryPatch) -> Territory:
    territory = get_or_404(ctx.session, Territory, territory_id, "territory")
    if patch.name is not UNSET:
        territory.name = patch.name
    if patch.calendar is not UNSET:
        calendar = _calendar(patch.calendar)
        territory.calendar, territory.timezone = calendar.to_dict(), calendar.timezone
    ctx.session.commit()
    return territory


class SkillInput(Input):
    code: SkillCode
    name: Name


def create_skill(ctx: ServiceContext, data: SkillInput) -> Skill:
    if ctx.session.get(Skill, data.code) is not None:
        raise Invalid(f"skill {data.code!r} already exists", field="code")
    skill = Skill(code=data.code, name=data.name)
    ctx.session.add(skill)
    ctx.session.commit()
    return skill


class SlaPolicyInput(Input):
    tier: Tier
    priority: Annotated[int, Meta(ge=1, le=4)]
    response_minutes: TargetMinutes
    resolution_minutes: TargetMinutes
    around_the_clock: bool = False


def put_sla_policy(ctx: ServiceContext, data: SlaPolicyInput) -> SlaPolicy:
    """Create or replace the policy for (tier, priority). Existing work orders keep their due times."""
    if data.resolution_minutes < data.response_minutes:
        raise Invalid("resolution cannot be due before the response", field="resolution_minutes")
    policy = ctx.session.scalars(
        sa.select(SlaPolicy).where(SlaPolicy.tier == data.tier, SlaPolicy.priority == data.priority)
    ).first() or SlaPolicy(tier=data.tier, priority=data.priority)
    policy.response_minutes = data.response_minutes
    policy.resolution_minutes = data.resolution_minutes
    policy.around_the_clock = data.around_the_clock
    ctx.session.add(policy)
    ctx.session.commit()
    return policy


class AssetModelInput(Input):
    code: Code
    name: Name
    category: Annotated[str, Meta(min_length=1, max_length=64)]
    manufacturer: Name | None = None


class AssetModelPatch(Input):
    name: Name | UnsetType = UNSET
    category: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    manufacturer: Name | UnsetType | None = UNSET


def create_asset_model(ctx: ServiceContext, data: AssetModelInput) -> AssetModel:
    model = AssetModel(code=data.code, name=data.name, category=data.category, manufacturer=data.manufacturer)
    return add_record(ctx, model, "asset_model", unique_hint="code")


def update_asset_model(ctx: ServiceContext, model_id: int, patch: AssetModelPatch) -> AssetModel:
    model = get_or_404(ctx.session, AssetModel, model_id, "asset model")
    for name in ("name", "category", "manufacturer"):
        value = getattr(patch, name)
        if value is not UNSET:
            setattr(model, name, value)
    ctx.session.commit()
    return model
