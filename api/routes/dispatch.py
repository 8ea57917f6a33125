"""/dispatch: optimisation proposals (plan, diff, explanations), commit or discard, pins, moves, the plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from api.access import needs
from api.deps import Ctx, runtime
from core.domain.errors import Invalid
from core.services.common import Id, Input
from dispatch.planning import pins, proposals
from dispatch.planning.config import PlanningConfig
from dispatch.planning.feature import DispatchFeature
from dispatch.planning.models import PlanProposal


class OptimisationInput(Input):
    territory_id: Id
    day: date
    # Capped by the optimizer_seconds setting; omitted: that setting.
    time_limit_seconds: Annotated[float, Meta(gt=0, le=600)] | None = None
    # Bound on visits that may change engineer against the current plan (omitted: no bound).
    max_moved: Annotated[int, Meta(ge=0, le=10_000)] | None = None


class CommitInput(Input):
    # Release the planned visits to the engineers' phones at once (dispatched) rather than scheduled.
    release: bool = False


class ProposalOut(msgspec.Struct, kw_only=True):
    id: int
    territory_id: int
    day: date
    status: str
    kind: str
    objective: float
    solver_status: str
    solve_seconds: float
    time_limit_seconds: float
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    plan: dict[str, Any]
    diff: dict[str, Any]


def _out(p: PlanProposal) -> ProposalOut:
    return ProposalOut(
        id=p.id,
        territory_id=p.territory_id,
        day=p.day,
        status=p.status,
        kind=p.kind,
        objective=p.objective,
        solver_status=p.solver_status,
        solve_seconds=p.solve_seconds,
        time_limit_seconds=p.time_limit_s,
        created_by=p.created_by,
        created_at=p.created_at,
        decided_by=p.decided_by,
        decided_at=p.decided_at,
        plan=p.plan,
        diff=p.diff,
    )


def _config(request: Request[Any, Any, Any]) -> PlanningConfig:
    feature = runtime(request.app.state).features.get("dispatch")
    if not isinstance(feature, DispatchFeature):
        raise RuntimeError("the dispatch feature is not wired")
    return feature.config


class DispatchController(Controller):
    path = "/dispatch"
    tags = ["dispatch"]

    @post("/optimisations", opt=needs("plans.write"), sync_to_thread=True)
    def optimise(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[OptimisationInput]
    ) -> Response[ProposalOut]:
        """Optimise a territory's day into a proposal: the plan, its diff against the current one, and why."""
        config = _config(request)
        if data.time_limit_seconds is not None and data.time_limit_seconds > config.optimizer_seconds:
            raise Invalid(
                f"time_limit_seconds may be at most {config.optimizer_seconds:g} (setting optimizer_seconds)",
                field="time_limit_seconds",
            )
        p = proposals.optimise(
            ctx,
            config,
            data.territory_id,
            data.day,
            time_limit=data.time_limit_seconds,
            max_moved=data.max_moved,
        )
        return Response(_out(p), status_code=201)

    @get("/optimisations/{proposal_id:int}", opt=needs("plans.read"), sync_to_thread=True)
    def get_proposal(self, ctx: Ctx, proposal_id: FromPath[int]) -> ProposalOut:
        return _out(proposals.get_proposal(ctx, proposal_id))

    @post(
        "/optimisations/{proposal_id:int}/commit",
        opt=needs("plans.write"),
        sync_to_thread=True,
        status_code=200,
    )
    def commit(
        self, ctx: Ctx, proposal_id: FromPath[int], data: JSONBody[CommitInput | None] = None
    ) -> ProposalOut:
        """Make the proposal the plan (visits created, moved, retimed, withdrawn); 412 if things changed."""
        release = data.release if data is not None else False
        return _out(proposals.commit(ctx, proposal_id, release=release))

    @post(
        "/optimisations/{proposal_id:int}/discard",
        opt=needs("plans.write"),
        sync_to_thread=True,
        status_code=200,
    )
    def discard(self, ctx: Ctx, proposal_id: FromPath[int]) -> Response[ProposalOut]:
        return Response(_out(proposals.discard(ctx, proposal_id)), status_code=200)

    @put("/pins/{work_order_id:int}", opt=needs("plans.write"), sync_to_thread=True)
    def pin(self, ctx: Ctx, work_order_id: FromPath[int], data: JSONBody[pins.PinInput]) -> pins.PinOut:
        """Hold a work order to an engineer and/or a start time through later optimisations."""
        row = pins.pin(ctx, work_order_id, data)
        return pins.PinOut(row.work_order_id, row.engineer_id, row.start)

    @delete("/pins/{work_order_id:int}", opt=needs("plans.write"), sync_to_thread=True)
    def unpin(self, ctx: Ctx, work_order_id: FromPath[int]) -> None:
        pins.unpin(ctx, work_order_id)

    @post("/moves", opt=needs("plans.write"), sync_to_thread=True, status_code=200)
    def move(self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[pins.MoveInput]) -> pins.MoveOut:
        """Assign or move a work order by hand; refused (409, with the reason) when it breaks a rule."""
        return pins.move(ctx, _config(request), data)

    @get("/plan", opt=needs("plans.read"), sync_to_thread=True)
    def current_plan(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        territory_id: Annotated[int, QueryParameter(ge=1)],
        day: Annotated[date, QueryParameter()],
    ) -> dict[str, Any]:
        """The committed plan of a day, per engineer, with ETAs, travel and lateness."""
        return proposals.current_plan(ctx, _config(request), territory_id, day)


ROUTES: list[ControllerRouterHandler] = [DispatchController]
