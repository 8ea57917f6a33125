"""Engineers: skills with levels, home base, weekly shifts, territory."""

from __future__ import annotations

from typing import Annotated

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import Invalid
from core.services.common import (
    Email,
    Id,
    Input,
    Latitude,
    Level,
    Longitude,
    Name,
    Phone,
    SkillCode,
    get_or_404,
    get_ref,
)
from core.services.context import ServiceContext
from core.services.records import add_record, change_record
from core.store.models import Engineer, EngineerSkill, Skill, Territory

ClockTime = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


class SkillLevel(msgspec.Struct, forbid_unknown_fields=True):
    skill: SkillCode
    level: Level


class Shift(msgspec.Struct, forbid_unknown_fields=True):
    """One working day of the weekly pattern, in the territory's local time."""

    weekday: Annotated[int, Meta(ge=0, le=6)]  # 0 = Monday
    start: ClockTime
    end: ClockTime
    break_minutes: Annotated[int, Meta(ge=0, le=240)] = 0


Shifts = Annotated[list[Shift], Meta(max_length=21)]
Skills = Annotated[list[SkillLevel], Meta(max_length=50)]


class EngineerInput(Input):
    name: Name
    territory_id: Id
    home_lat: Latitude
    home_lon: Longitude
    skills: Skills = []
    shifts: Shifts = []
    email: Email | None = None
    phone: Phone | None = None
    max_work_minutes: Annotated[int, Meta(ge=30, le=24 * 60)] | None = None


class EngineerPatch(Input):
    name: Name | UnsetType = UNSET
    territory_id: Id | UnsetType = UNSET
    home_lat: Latitude | UnsetType = UNSET
    home_lon: Longitude | UnsetType = UNSET
    skills: Skills | UnsetType = UNSET
    shifts: Shifts | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    max_work_minutes: Annotated[int, Meta(ge=30, le=24 * 60)] | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


def _check_shifts(shifts: list[Shift]) -> None:
    for i, shift in enumerate(shifts):
        if shift.end != "24:00" and shift.end <= shift.start:
            raise Invalid(
                f"shift ends at {shift.end}, not after its start {shift.start}", field=f"shifts[{i}].end"
            )


def _skill_rows(ctx: ServiceContext, skills: list[SkillLevel]) -> list[EngineerSkill]:
    codes = [s.skill for s in skills]
    known = set(ctx.session.scalars(sa.select(Skill.code).where(Skill.code.in_(codes))))
    for i, code in enumerate(codes):
        if code not in known:
            raise Invalid(f"unknown skill {code!r}", field=f"skills[{i}].skill")
        if codes.index(code) != i:
            raise Invalid(f"skill {code!r} is listed twice", field=f"skills[{i}].skill")
    return [EngineerSkill(skill_code=s.skill, level=s.level) for s in skills]


def create_engineer(ctx: ServiceContext, data: EngineerInput) -> Engineer:
    get_ref(ctx.session, Territory, data.territory_id, "territory_id", "territory")
    _check_shifts(data.shifts)
    engineer = Engineer(
        name=data.name,
        territory_id=data.territory_id,
        home_lat=data.home_lat,
        home_lon=data.home_lon,
        skills=_skill_rows(ctx, data.skills),
        shifts=msgspec.to_builtins(data.shifts),
        email=data.email,
        phone=data.phone,
        max_work_minutes=data.max_work_minutes,
        created_at=ctx.now(),
    )
    return add_record(ctx, engineer, "engineer")


def update_engineer(
    ctx: ServiceContext, engineer_id: int, patch: EngineerPatch, version: int | None
) -> Engineer:
    engineer = get_or_404(ctx.session, Engineer, engineer_id, "engineer")
    extra: dict[str, object] = {}
    if patch.territory_id is not UNSET:
        get_ref(ctx.session, Territory, patch.territory_id, "territory_id", "territory")
    if patch.skills is not UNSET:
        engineer.skills = _skill_rows(ctx, patch.skills)
        extra["skills"] = True
    if patch.shifts is not UNSET:
        _check_shifts(patch.shifts)
        engineer.shifts = msgspec.to_builtins(patch.shifts)
        extra["shifts"] = True
    simple = msgspec.structs.replace(patch, skills=UNSET, shifts=UNSET)
    return change_record(ctx, engineer, simple, version, "engineer", extra_changes=extra)
