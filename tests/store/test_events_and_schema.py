"""Events leave with their commit and never without it; audit is append-only; models match migrations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.domain.events import DomainEvent
from core.domain.lifecycle import WorkOrderStatus
from core.services import workorders
from core.store.models import AuditEvent, OutboxEvent
from fieldops.models import metadata
from fieldops.wiring import System
from tests.world import World


def test_events_are_published_after_commit_and_recorded_in_the_outbox(system: System, world: World) -> None:
    seen: list[DomainEvent] = []
    system.runtime.bus.subscribe("work_order.*", seen.append)
    ctx = world.ctx()
    with ctx.session:
        wo = workorders.create_work_order(
            ctx, workorders.WorkOrderInput(title="t", site_id=world.ids["site"])
        )
        workorders.transition_work_order(ctx, wo.id, WorkOrderStatus.CANCELLED, "dup", None)
    assert [e.type for e in seen] == ["work_order.created", "work_order.transitioned"]
    assert seen[1].data["from"] == "new" and seen[1].data["to"] == "cancelled"
    with system.runtime.sessions() as s:
        stored = s.scalars(sa.select(OutboxEvent).where(OutboxEvent.subject_type == "work_order")).all()
        assert [o.event_id for o in stored] == [e.id for e in seen]


def test_a_rolled_back_change_announces_nothing(system: System, world: World) -> None:
    seen: list[DomainEvent] = []
    system.runtime.bus.subscribe("*", seen.append)
    ctx = world.ctx()
    with ctx.session:
        before = ctx.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
        # A subscriber-free failure mid-use-case: the site is fine, the asset is at another site.
        with pytest.raises(Exception, match="not at site"):
            workorders.create_work_order(
                ctx,
                workorders.WorkOrderInput(
                    title="t", site_id=world.ids["site_b"], asset_id=world.ids["asset"]
                ),
            )
        ctx.session.rollback()
        after = ctx.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
    assert seen == []
    assert before == after


def test_a_failing_subscriber_does_not_undo_or_block(system: System, world: World) -> None:
    seen: list[str] = []

    def broken(_: DomainEvent) -> None:
        raise RuntimeError("subscriber bug")

    system.runtime.bus.subscribe("work_order.created", broken)
    system.runtime.bus.subscribe("work_order.created", lambda e: seen.append(e.type))
    ctx = world.ctx()
    with ctx.session:
        wo = workorders.create_work_order(
            ctx, workorders.WorkOrderInput(title="t", site_id=world.ids["site"])
        )
    assert seen == ["work_order.created"]
    with system.runtime.sessions() as s:
        assert s.get(type(wo), wo.id) is not None


def test_audit_trail_is_append_only(system: System, world: World) -> None:
    with system.runtime.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), system.engine.begin() as conn:
            conn.execute(sa.text(statement))


def test_models_match_the_migrations(engine: Engine) -> None:
    """A model change without its migration (or the reverse) fails here, on both backends."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        # PostGIS bookkeeping and our generated geography columns live only in the database.
        if type_ == "table" and name in ("spatial_ref_sys", "alembic_version"):
            return False
        if type_ == "index" and name in ("ix_sites_geog", "ix_engineers_home_geog"):
            return False
        return not (type_ == "column" and name in ("geog", "home_geog"))

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
