"""Automation routes: rules (admin), firings, assignees, notices, tasks, escalations, webhooks, care."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from api.access import needs, public
from api.deps import Ctx, expected_version, runtime, tagged
from api.problems import problem
from automation import definition, erp, escalation, people, rules, tasks, tokens, webhooks
from automation.care import churn as care_churn
from automation.care import consumables as care_consumables
from automation.care import forecast as care_forecast
from automation.care import views as care_views
from automation.dryrun import dry_run
from core.domain.errors import Invalid
from core.services.common import Input
from core.services.context import Actor, ServiceContext

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Days = Annotated[int, QueryParameter(ge=1, le=366)]


class DryRunInput(Input):
    trigger: dict[str, Any]
    conditions: dict[str, Any] = msgspec.field(default_factory=lambda: {"all": []})
    actions: list[Any] = msgspec.field(default_factory=lambda: [{"type": "add_comment", "text": "dry run"}])
    days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 30


class NoteInput(Input):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class RuleController(Controller):
    path = "/automation"
    tags = ["automation"]

    @get("/rules", opt=needs("rules.read"), sync_to_thread=True)
    def list_rules(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [rules.rule_out(r) for r in rules.list_rules(ctx)]

    @post("/rules", opt=needs("rules.manage"), sync_to_thread=True)
    def create_rule(self, ctx: Ctx, data: JSONBody[rules.RuleInput]) -> Response[dict[str, Any]]:
        """A rule: trigger (event or time) + conditions + actions; invalid → 422 naming the field."""
        rule = rules.create_rule(ctx, data)
        return tagged(rules.rule_out(rule), rule.version, 201)

    @get("/rules/{rule_id:int}", opt=needs("rules.read"), sync_to_thread=True)
    def get_rule(self, ctx: Ctx, rule_id: FromPath[int]) -> Response[dict[str, Any]]:
        rule = rules.get_rule(ctx, rule_id)
        return tagged(rules.rule_out(rule), rule.version)

    @put("/rules/{rule_id:int}", opt=needs("rules.manage"), sync_to_thread=True)
    def update_rule(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        rule_id: FromPath[int],
        data: JSONBody[rules.RuleInput],
    ) -> Response[dict[str, Any]]:
        """A new version of the rule (send If-Match with the ETag you read to refuse lost updates)."""
        rule = rules.update_rule(ctx, rule_id, data, expected_version(request.headers.get("if-match")))
        return tagged(rules.rule_out(rule), rule.version)

    @post("/rules/{rule_id:int}/enable", opt=needs("rules.manage"), sync_to_thread=True, status_code=200)
    def enable(
        self, request: Request[Any, Any, Any], ctx: Ctx, rule_id: FromPath[int]
    ) -> Response[dict[str, Any]]:
        rule = rules.set_enabled(ctx, rule_id, True, expected_version(request.headers.get("if-match")))
        return tagged(rules.rule_out(rule), rule.version)

    @post("/rules/{rule_id:int}/disable", opt=needs("rules.manage"), sync_to_thread=True, status_code=200)
    def disable(
        self, request: Request[Any, Any, Any], ctx: Ctx, rule_id: FromPath[int]
    ) -> Response[dict[str, Any]]:
        rule = rules.set_enabled(ctx, rule_id, False, expected_version(request.headers.get("if-match")))
        return tagged(rules.rule_out(rule), rule.version)

    @get("/rules/{rule_id:int}/versions", opt=needs("rules.read"), sync_to_thread=True)
    def versions(self, ctx: Ctx, rule_id: FromPath[int]) -> list[dict[str, Any]]:
        return [
            msgspec.to_builtins(
                {
                    "version": v.version,
                    "definition": v.definition,
                    "saved_at": v.saved_at,
                    "saved_by": v.saved_by,
                }
            )
            for v in rules.versions(ctx, rule_id)
        ]

    @post("/rules/{rule_id:int}/dry-run", opt=needs("rules.read"), sync_to_thread=True, status_code=200)
    def dry_run_saved(self, ctx: Ctx, rule_id: FromPath[int], days: Days = 30) -> dict[str, Any]:
        """What this rule would have fired over the last `days` days (nothing is changed)."""
        rule = rules.get_rule(ctx, rule_id)
        parsed = definition.parse(rule.trigger, rule.conditions, rule.actions)
        hits = dry_run(ctx.session, parsed, ctx.now(), days, rule.id)
        return {"rule_id": rule.id, "days": days, "matches": hits, "count": len(hits)}

    @post("/rules/dry-run", opt=needs("rules.read"), sync_to_thread=True, status_code=200)
    def dry_run_draft(self, ctx: Ctx, data: JSONBody[DryRunInput]) -> dict[str, Any]:
        """Try a rule before saving it."""
        parsed = definition.parse(data.trigger, data.conditions, data.actions)
        hits = dry_run(ctx.session, parsed, ctx.now(), data.days)
        return {"days": data.days, "matches": hits, "count": len(hits)}

    @get("/firings", opt=needs("rules.read"), sync_to_thread=True)
    def firings(
        self,
        ctx: Ctx,
        rule_id: FromQuery[int | None] = None,
        status: FromQuery[Literal["pending", "done", "failed"] | None] = None,
        work_order_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Every firing with its actions' results; `status=failed` lists what needs a person."""
        return [rules.firing_out(f) for f in rules.list_firings(ctx, rule_id, status, work_order_id, limit)]

    @post("/firings/{firing_id:int}/retry", opt=needs("rules.manage"), sync_to_thread=True, status_code=200)
    def retry(self, ctx: Ctx, firing_id: FromPath[int]) -> dict[str, Any]:
        return rules.firing_out(rules.retry_firing(ctx, firing_id))

    @get("/assignees", opt=needs("rules.read"), sync_to_thread=True)
    def assignees(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [people.assignee_out(a) for a in people.list_assignees(ctx)]

    @put("/assignees", opt=needs("rules.manage"), sync_to_thread=True)
    def put_assignee(self, ctx: Ctx, data: JSONBody[people.AssigneeInput]) -> dict[str, Any]:
        """Who is the supervisor (per territory), service manager, account owner (per customer)."""
        return people.assignee_out(people.put_assignee(ctx, data))

    @get("/tags", opt=needs("rules.read"), sync_to_thread=True)
    def list_tags(
        self, ctx: Ctx, subject_type: FromQuery[Literal["work_order", "customer"]], subject_id: FromQuery[int]
    ) -> list[str]:
        return people.tags_of(ctx.session, subject_type, subject_id)

    @get("/notifications", opt=needs("tasks.read"), sync_to_thread=True)
    def notifications(
        self, ctx: Ctx, unread: FromQuery[bool] = False, limit: Limit = 100
    ) -> list[dict[str, Any]]:
        """My notices (escalations, rule notices, disabled webhooks)."""
        return [
            people.notification_out(n) for n in people.list_notifications(ctx, ctx.actor.name, unread, limit)
        ]

    @post(
        "/notifications/{notification_id:int}/read",
        opt=needs("tasks.read"),
        sync_to_thread=True,
        status_code=200,
    )
    def read(self, ctx: Ctx, notification_id: FromPath[int]) -> dict[str, Any]:
        return people.notification_out(people.mark_read(ctx, ctx.actor.name, notification_id))


class TaskController(Controller):
    path = "/tasks"
    tags = ["automation"]

    @post("/", opt=needs("tasks.write"), sync_to_thread=True)
    def create(self, ctx: Ctx, data: JSONBody[tasks.TaskInput]) -> Response[dict[str, Any]]:
        task = tasks.create_task(ctx, data)
        return Response(tasks.task_out(task, ctx.now()), status_code=201)

    @get("/", opt=needs("tasks.read"), sync_to_thread=True)
    def list_tasks(
        self,
        ctx: Ctx,
        owner: Annotated[str | None, QueryParameter(max_length=64)] = None,
        task_state: Annotated[tasks.State, QueryParameter(name="state")] = "open",
        work_order_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Tasks by due date; `owner=me` for mine; `state=overdue` for open ones past due."""
        who = ctx.actor.name if owner == "me" else owner
        now = ctx.now()
        return [tasks.task_out(t, now) for t in tasks.list_tasks(ctx, who, task_state, limit, work_order_id)]

    @post("/{task_id:int}/done", opt=needs("tasks.write"), sync_to_thread=True, status_code=200)
    def done(self, ctx: Ctx, task_id: FromPath[int], data: JSONBody[NoteInput]) -> dict[str, Any]:
        return tasks.task_out(tasks.finish(ctx, task_id, "done", data.note), ctx.now())

    @post("/{task_id:int}/cancel", opt=needs("tasks.write"), sync_to_thread=True, status_code=200)
    def cancel(self, ctx: Ctx, task_id: FromPath[int], data: JSONBody[NoteInput]) -> dict[str, Any]:
        return tasks.task_out(tasks.finish(ctx, task_id, "cancelled", data.note), ctx.now())


class EscalationController(Controller):
    path = "/escalations"
    tags = ["automation"]

    @get("/policies", opt=needs("rules.read"), sync_to_thread=True)
    def policies(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [escalation.policy_out(p) for p in escalation.list_policies(ctx)]

    @put("/policies", opt=needs("rules.manage"), sync_to_thread=True)
    def put_policy(self, ctx: Ctx, data: JSONBody[escalation.PolicyInput]) -> dict[str, Any]:
        """The matrix row for a contract tier (`*` for any) × priority: levels with their delays."""
        return escalation.policy_out(escalation.put_policy(ctx, data))

    @get("/", opt=needs("tasks.read"), sync_to_thread=True)
    def list_escalations(
        self,
        ctx: Ctx,
        open_only: FromQuery[bool] = True,
        work_order_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        return [
            escalation.escalation_out(ctx, e)
            for e in escalation.list_escalations(ctx, open_only, work_order_id, limit)
        ]

    @post("/{esc_id:int}/acknowledge", opt=needs("tasks.write"), sync_to_thread=True, status_code=200)
    def acknowledge(self, ctx: Ctx, esc_id: FromPath[int], data: JSONBody[NoteInput]) -> dict[str, Any]:
        """I have it: the chain stops here."""
        esc = escalation.acknowledge(ctx, esc_id, data.note)
        return escalation.escalation_out(ctx, esc)


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["integrations"]

    @post("/", opt=needs("integrations.manage"), sync_to_thread=True)
    def create(self, ctx: Ctx, data: JSONBody[webhooks.SubscriptionInput]) -> Response[dict[str, Any]]:
        """Subscribe a URL to event types; the signing secret is in this answer only."""
        sub, secret = webhooks.create_subscription(ctx, data)
        return Response({**webhooks.subscription_out(sub), "secret": secret}, status_code=201)

    @get("/", opt=needs("integrations.manage"), sync_to_thread=True)
    def list_subscriptions(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [webhooks.subscription_out(s) for s in webhooks.list_subscriptions(ctx)]

    @post("/{sub_id:int}/enable", opt=needs("integrations.manage"), sync_to_thread=True, status_code=200)
    def enable(self, ctx: Ctx, sub_id: FromPath[int]) -> dict[str, Any]:
        return webhooks.subscription_out(webhooks.set_active(ctx, sub_id, True))

    @post("/{sub_id:int}/disable", opt=needs("integrations.manage"), sync_to_thread=True, status_code=200)
    def disable(self, ctx: Ctx, sub_id: FromPath[int]) -> dict[str, Any]:
        return webhooks.subscription_out(webhooks.set_active(ctx, sub_id, False))

    @get("/{sub_id:int}/deliveries", opt=needs("integrations.manage"), sync_to_thread=True)
    def deliveries(
        self,
        ctx: Ctx,
        sub_id: FromPath[int],
        status: FromQuery[Literal["pending", "delivered", "dead"] | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """The delivery log (newest first) with the last response code of each."""
        return [webhooks.delivery_out(ctx, d) for d in webhooks.list_deliveries(ctx, sub_id, status, limit)]

    @get("/deliveries/{delivery_id:int}", opt=needs("integrations.manage"), sync_to_thread=True)
    def delivery(self, ctx: Ctx, delivery_id: FromPath[int]) -> dict[str, Any]:
        return webhooks.delivery_out(ctx, webhooks.get_delivery(ctx, delivery_id), with_attempts=True)

    @post(
        "/deliveries/{delivery_id:int}/redeliver",
        opt=needs("integrations.manage"),
        sync_to_thread=True,
        status_code=202,
    )
    def redeliver(self, ctx: Ctx, delivery_id: FromPath[int]) -> dict[str, Any]:
        return webhooks.delivery_out(ctx, webhooks.redeliver(ctx, delivery_id))


DocKind = Literal["stock-issues", "invoice-drafts"]
_KIND: dict[str, erp.Kind] = {"stock-issues": "stock_issue", "invoice-drafts": "invoice_draft"}


def _export(ctx: ServiceContext, kind: str, start: datetime, end: datetime, fmt: str) -> Response[Any]:
    docs = erp.documents(ctx, _KIND[kind], start, end)
    if fmt == "csv":
        return Response(
            erp.to_csv(_KIND[kind], docs),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
        )
    return Response(
        {"kind": _KIND[kind], "from": start.isoformat(), "to": end.isoformat(), "documents": docs}
    )


def _confirmed(row: Any, created: bool) -> Response[dict[str, Any]]:
    return Response(
        {**erp.confirmation_out(row), "duplicate": not created}, status_code=201 if created else 200
    )


From = Annotated[datetime, QueryParameter(name="from")]
To = Annotated[datetime, QueryParameter(name="to")]
Format = Annotated[Literal["json", "csv"], QueryParameter(name="format")]


class IntegrationController(Controller):
    path = "/integrations"
    tags = ["integrations"]

    @post("/tokens", opt=needs("integrations.manage"), sync_to_thread=True)
    def create_token(self, ctx: Ctx, data: JSONBody[tokens.TokenInput]) -> Response[dict[str, Any]]:
        """A scoped API token for an integration; the token is in this answer only, never again."""
        row, token = tokens.create_token(ctx, data)
        return Response({**tokens.token_out(row), "token": token}, status_code=201)

    @get("/tokens", opt=needs("integrations.manage"), sync_to_thread=True)
    def list_tokens(self, ctx: Ctx) -> list[dict[str, Any]]:
        return [tokens.token_out(t) for t in tokens.list_tokens(ctx)]

    @post(
        "/tokens/{token_id:int}/revoke",
        opt=needs("integrations.manage"),
        sync_to_thread=True,
        status_code=200,
    )
    def revoke_token(self, ctx: Ctx, token_id: FromPath[int]) -> dict[str, Any]:
        return tokens.token_out(tokens.revoke(ctx, token_id))

    @get("/erp/exports/{kind:str}", opt=needs("integrations.manage"), sync_to_thread=True)
    def export(
        self, ctx: Ctx, kind: FromPath[DocKind], start: From, end: To, fmt: Format = "json"
    ) -> Response[Any]:
        """Stock issues (parts consumed) or invoice drafts (settlements) of a period, as JSON or CSV."""
        return _export(ctx, kind, _aware(start, "from"), _aware(end, "to"), fmt)

    @post("/erp/confirmations", opt=needs("integrations.manage"), sync_to_thread=True)
    def confirm(self, ctx: Ctx, data: JSONBody[erp.ConfirmationInput]) -> Response[dict[str, Any]]:
        """The ERP's answer for one document; the same answer twice is fine, a different one is a 409."""
        return _confirmed(*erp.confirm(ctx, data, None))


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None:
        raise Invalid("give a time zone, e.g. 2026-11-23T00:00:00+08:00", field=field)
    return at


class ErpTokenController(Controller):
    """The same ERP endpoints for an integration signed in with an API token (`Bearer fo_…`)."""

    path = "/integrations/v1/erp"
    tags = ["integrations"]

    @get("/exports/{kind:str}", opt=public(), sync_to_thread=True)
    def export(
        self,
        request: Request[Any, Any, Any],
        kind: FromPath[DocKind],
        start: From,
        end: To,
        fmt: Format = "json",
    ) -> Response[Any]:
        """Needs an API token with the `erp.export` scope."""
        rt = runtime(request.app.state)
        with rt.sessions() as session:
            try:
                token = tokens.authenticate(
                    session, rt.clock, request.headers.get("authorization"), "erp.export"
                )
            except tokens.TokenRejected as exc:
                return problem(exc.status, exc.detail)
            ctx = ServiceContext(session, rt.clock, Actor.system(f"token:{token.prefix}"))
            return _export(ctx, kind, _aware(start, "from"), _aware(end, "to"), fmt)

    @post("/confirmations", opt=public(), sync_to_thread=True)
    def confirm(
        self, request: Request[Any, Any, Any], data: JSONBody[erp.ConfirmationInput]
    ) -> Response[Any]:
        """Needs an API token with the `erp.confirm` scope; idempotent per document."""
        rt = runtime(request.app.state)
        with rt.sessions() as session:
            try:
                token = tokens.authenticate(
                    session, rt.clock, request.headers.get("authorization"), "erp.confirm"
                )
            except tokens.TokenRejected as exc:
                return problem(exc.status, exc.detail)
            ctx = ServiceContext(session, rt.clock, Actor.system(f"token:{token.prefix}"))
            return _confirmed(*erp.confirm(ctx, data, token.id))


Level = Literal["low", "medium", "high"]


class CareController(Controller):
    """Proactive care: consumables and their run-out, notices, churn risk, the volume forecast."""

    path = "/care"
    tags = ["proactive care"]

    @get("/consumables", opt=needs("tasks.read"), sync_to_thread=True)
    def consumables(self, ctx: Ctx, asset_model_id: FromQuery[int | None] = None) -> list[dict[str, Any]]:
        return [
            care_consumables.consumable_out(c) for c in care_consumables.list_consumables(ctx, asset_model_id)
        ]

    @put("/consumables", opt=needs("rules.manage"), sync_to_thread=True)
    def put_consumable(self, ctx: Ctx, data: JSONBody[care_consumables.ConsumableInput]) -> dict[str, Any]:
        """What wears out on an asset model: by use (`counter` + `capacity`) or by time (`cycle_days`)."""
        return care_consumables.consumable_out(care_consumables.put_consumable(ctx, data))

    @post("/readings", opt=needs("tasks.write"), sync_to_thread=True, status_code=200)
    def readings(self, ctx: Ctx, data: JSONBody[care_consumables.ReadingsInput]) -> dict[str, int]:
        """Counter readings that arrive as data (meter reads, exports); a repeated reading is kept once."""
        return care_consumables.record_readings(ctx, data)

    @post("/replacements", opt=needs("tasks.write"), sync_to_thread=True)
    def replacement(
        self, ctx: Ctx, data: JSONBody[care_consumables.ReplacementInput]
    ) -> Response[dict[str, Any]]:
        """A consumable was replaced: its open notice is resolved and the next run-out counts from here."""
        row = care_consumables.record_replacement(ctx, data)
        return Response(
            {
                "id": row.id,
                "asset_id": row.asset_id,
                "consumable_id": row.consumable_id,
                "at": row.at.isoformat(),
            },
            status_code=201,
        )

    @get("/run-outs", opt=needs("tasks.read"), sync_to_thread=True)
    def run_outs(
        self,
        ctx: Ctx,
        within_days: Annotated[int | None, QueryParameter(ge=0, le=3660)] = None,
        customer_id: FromQuery[int | None] = None,
        asset_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """The predicted run-out date per asset and consumable, soonest first, with how it was worked out."""
        return care_views.predictions(ctx, within_days, customer_id, asset_id, limit)

    @get("/notices", opt=needs("tasks.read"), sync_to_thread=True)
    def notices(
        self,
        ctx: Ctx,
        notice_state: Annotated[care_views.NoticeState, QueryParameter(name="state")] = "open",
        customer_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Consumables about to run out: one open notice per asset and consumable."""
        return care_views.notices(ctx, notice_state, customer_id, False, limit)

    @get("/churn", opt=needs("tasks.read"), sync_to_thread=True)
    def churn(
        self,
        ctx: Ctx,
        owner: Annotated[str | None, QueryParameter(max_length=64)] = None,
        level: FromQuery[list[Level] | None] = None,
        customer_id: FromQuery[int | None] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Customers by churn risk with the reasons; `owner=me` for my accounts, `level=high` to narrow,
        `customer_id` for one customer (its 360° view)."""
        who = ctx.actor.name if owner == "me" else owner
        return care_churn.list_scores(ctx, who, frozenset(level or ()), limit, customer_id)

    @get("/forecast", opt=needs("tasks.read"), sync_to_thread=True)
    def forecast(self, ctx: Ctx, territory_id: FromQuery[int | None] = None) -> list[dict[str, Any]]:
        """Work orders expected per territory and week, with the backtest error against seasonal naive."""
        return care_forecast.list_forecasts(ctx, territory_id)

    @get("/status", opt=needs("tasks.read"), sync_to_thread=True)
    def status(self, ctx: Ctx) -> dict[str, Any]:
        """When the care pass last ran, on which worker, and what it did."""
        return care_views.status(ctx)


class PortalCareController(Controller):
    path = "/portal"
    tags = ["customer portal"]

    @get("/care-notices", opt=needs("portal"), sync_to_thread=True)
    def care_notices(self, ctx: Ctx) -> list[dict[str, Any]]:
        """My company's consumables about to run out (the ones meant for customers)."""
        customer_id = ctx.actor.customer_id
        if customer_id is None:
            return []
        return care_views.notices(ctx, "open", customer_id, portal_only=True)


ROUTES: list[ControllerRouterHandler] = [
    RuleController,
    TaskController,
    EscalationController,
    WebhookController,
    IntegrationController,
    ErpTokenController,
    CareController,
    PortalCareController,
]
