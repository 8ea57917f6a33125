"""/visits: one engineer's trip, and the dispatcher's moves on it."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from api.access import needs
from api.deps import Ctx, expected_version, tagged
from api.routes.work_orders import IfMatch
from api.views import VisitOut, view
from core.services import visits


class VisitController(Controller):
    path = "/visits"
    tags = ["visits"]

    @get("/{visit_id:int}", opt=needs("visits.read"), sync_to_thread=True)
    def get_visit(self, ctx: Ctx, visit_id: FromPath[int]) -> Response[VisitOut]:
        visit = visits.get_visit(ctx, visit_id)
        return tagged(view(visit, VisitOut), visit.version)

    @post("/{visit_id:int}/transitions", opt=needs("visits.write"), sync_to_thread=True, status_code=200)
    def transition(
        self,
        ctx: Ctx,
        visit_id: FromPath[int],
        data: JSONBody[visits.VisitTransitionInput],
        if_match: IfMatch = None,
    ) -> Response[VisitOut]:
        """Move a visit along its timeline (the work order follows); e.g. cancel it with a reason."""
        visit = visits.transition_visit(
            ctx, visit_id, data.to, reason=data.reason, expected_version=expected_version(if_match)
        )
        return tagged(view(visit, VisitOut), visit.version)
