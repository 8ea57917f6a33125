"""Checklists: the questions a job asks (templates as data) and the engineer's answers to them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Invalid, NotFound
from core.services.common import Input
from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import WorkOrder
from fieldwork.models import ChecklistAnswer, ChecklistTemplate
from mobile_contract import wire

Key = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class Item(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: Key
    label: Annotated[str, Meta(min_length=1, max_length=200)]
    label_zh: Annotated[str, Meta(max_length=200)] | None = None
    type: Literal["yes_no", "number", "text", "choice"]
    required: bool = False
    options: (
        Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=50)] | None
    ) = None
    min: float | None = None
    max: float | None = None


class TemplateInput(Input):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    items: Annotated[list[Item], Meta(min_length=1, max_length=200)]
    asset_model_id: int | None = None
    kind: Annotated[str, Meta(max_length=16)] | None = None


def check_template(data: TemplateInput) -> None:
    if data.asset_model_id is None and data.kind is None:
        raise Invalid("a template applies to an asset model, a kind of work, or both", field="asset_model_id")
    seen: set[str] = set()
    for i, item in enumerate(data.items):
        if item.key in seen:
            raise Invalid(f"item key {item.key!r} is used twice", field=f"items[{i}].key")
        seen.add(item.key)
        if item.type == "choice" and not item.options:
            raise Invalid("a choice item needs options", field=f"items[{i}].options")
        if item.min is not None and item.max is not None and item.min > item.max:
            raise Invalid("min is above max", field=f"items[{i}].min")


def save_template(ctx: ServiceContext, data: TemplateInput) -> ChecklistTemplate:
    """Create the template for (asset model, kind), or replace its items (the version goes up)."""
    check_template(data)
    template = ctx.session.scalar(
        sa.select(ChecklistTemplate).where(
            _is(ChecklistTemplate.asset_model_id, data.asset_model_id), _is(ChecklistTemplate.kind, data.kind)
        )
    )
    items = msgspec.to_builtins(data.items)
    if template is None:
        template = ChecklistTemplate(
            name=data.name,
            asset_model_id=data.asset_model_id,
            kind=data.kind,
            items=items,
            version=1,
            updated_at=ctx.now(),
        )
        ctx.session.add(template)
    else:
        template.name, template.items, template.updated_at = data.name, items, ctx.now()
        template.version += 1
    ctx.session.flush()
    audit(ctx, "checklist_template", template.id, "saved", data={"version": template.version})
    ctx.session.commit()
    return template


def _is(column: Any, value: object) -> Any:
    return column.is_(None) if value is None else column == value


def template_for(ctx: ServiceContext, wo: WorkOrder) -> ChecklistTemplate | None:
    """The most specific template: asset model and kind, then the model, then the kind."""
    model_id = wo.asset.asset_model_id if wo.asset is not None else None
    candidates = ctx.session.scalars(
        sa.select(ChecklistTemplate).where(
            sa.or_(ChecklistTemplate.asset_model_id.is_(None), ChecklistTemplate.asset_model_id == model_id),
            sa.or_(ChecklistTemplate.kind.is_(None), ChecklistTemplate.kind == wo.kind),
        )
    ).all()
    ranked = sorted(candidates, key=lambda t: (t.asset_model_id is None, t.kind is None))
    return ranked[0] if ranked else None


def checklist(ctx: ServiceContext, wo: WorkOrder) -> wire.Checklist:
    template = template_for(ctx, wo)
    answers = {
        a.item_key: a.value
        for a in ctx.session.scalars(sa.select(ChecklistAnswer).where(ChecklistAnswer.work_order_id == wo.id))
    }
    items = [msgspec.convert(raw, Item) for raw in (template.items if template else [])]
    return wire.Checklist(
        work_order_id=wo.id,
        template_id=template.id if template else None,
        items=[
            wire.ChecklistItem(
                key=i.key,
                label=i.label,
                label_zh=i.label_zh,
                type=i.type,
                required=i.required,
                options=i.options,
                min=i.min,
                max=i.max,
                answer=answers.get(i.key),
            )
            for i in items
        ],
        complete=all(i.key in answers for i in items if i.required),
    )


def _check_value(item: Item, value: object, field: str) -> object:
    if item.type == "yes_no":
        if not isinstance(value, bool):
            raise Invalid(f"{item.key} is a yes/no question: answer true or false", field=field)
    elif item.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"{item.key} needs a number", field=field)
        if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
            raise Invalid(f"{item.key} must be between {item.min} and {item.max}", field=field)
    elif not isinstance(value, str) or not value.strip():
        raise Invalid(f"{item.key} needs a text answer", field=field)
    elif item.type == "choice" and value not in (item.options or []):
        raise Invalid(f"{item.key} must be one of {', '.join(item.options or [])}", field=field)
    return value


def answer(ctx: ServiceContext, wo: WorkOrder, answers: list[wire.Answer]) -> wire.Checklist:
    """Record answers (a later answer to the same item replaces the earlier one; the audit keeps both)."""
    template = template_for(ctx, wo)
    if template is None:
        raise NotFound(f"{wo.reference} has no checklist")
    items = {raw["key"]: msgspec.convert(raw, Item) for raw in template.items}
    for i, given in enumerate(answers):
        item = items.get(given.key)
        if item is None:
            raise Invalid(f"the checklist has no item {given.key!r}", field=f"answers[{i}].key")
        value = _check_value(item, given.value, f"answers[{i}].value")
        row = ctx.session.get(ChecklistAnswer, (wo.id, given.key))
        if row is None:
            row = ChecklistAnswer(work_order_id=wo.id, item_key=given.key)
            ctx.session.add(row)
        row.template_id, row.value = template.id, value
        row.answered_by, row.answered_at = ctx.actor.name, ctx.now()
    audit(
        ctx,
        "work_order",
        wo.id,
        "checklist_answered",
        data={"answers": {a.key: a.value for a in answers}, "template_version": template.version},
    )
    ctx.session.commit()
    return checklist(ctx, wo)


def missing_required(ctx: ServiceContext, wo: WorkOrder) -> list[str]:
    state = checklist(ctx, wo)
    return [i.key for i in state.items if i.required and i.answer is None]
