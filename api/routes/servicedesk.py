"""Service-desk routes: intake channels, the triage queue, the customer portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.concurrency import sync_to_thread
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody, PathParameter, QueryParameter
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.access import needs, public
from api.deps import Ctx, runtime
from api.problems import problem
from core.domain.errors import Conflict, NotFound
from core.services.context import Actor, ServiceContext
from core.services.workorders import get_work_order
from fieldwork.service_report import service_report
from servicedesk import chat, contacts, deflection, desk, insight, knowledge, portal, surveys
from servicedesk.attachments import MAX_ATTACHMENT_BYTES
from servicedesk.config import DeskConfig
from servicedesk.intake import Outcome
from servicedesk.models import TicketAttachment


def _cfg(request: Request[Any, Any, Any]) -> DeskConfig:
    cfg = runtime(request.app.state).features["servicedesk"]
    assert isinstance(cfg, DeskConfig)
    return cfg


def _outcome(result: Outcome) -> dict[str, Any]:
    wo = result.work_order
    return {
        "outcome": result.outcome,
        "inbound_message_id": result.message.id,
        "work_order_id": wo.id if wo else None,
        "reference": wo.reference if wo else None,
    }


class IntakeController(Controller):
    path = "/intake"
    tags = ["service desk"]

    @post("/phone", opt=needs("intake.write"), sync_to_thread=True)
    def log_call(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[desk.CallInput]
    ) -> dict[str, Any]:
        """Log a call: a note on the work order named by `reference`, else a new work order (or the
        existing one when the same asset/site reported the same problem recently), else triage."""
        return _outcome(desk.log_call(ctx, _cfg(request), data))

    @post("/chat/{channel:str}", opt=public(), status_code=200)
    async def chat_webhook(self, request: Request[Any, Any, Any], channel: FromPath[str]) -> Response[Any]:
        """A chat tool's webhook. Public, but every request must carry the channel's signature."""
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        return await sync_to_thread(_chat, request, channel[:64], headers, body)


def _chat(request: Request[Any, Any, Any], name: str, headers: dict[str, str], body: bytes) -> Response[Any]:
    rt = runtime(request.app.state)
    with rt.sessions() as session:
        ctx = ServiceContext(session, rt.clock, Actor.system(f"chat:{name}"))
        try:
            channel, result = desk.receive_chat(ctx, _cfg(request), name, headers, body, rt.clock.now())
        except chat.SignatureRejected:
            return problem(401, "the request is not signed with this channel's secret", slug="bad-signature")
        reference = result.work_order.reference if result.work_order else None
        return Response(chat.reply_for(channel.adapter, reference, result.outcome))


Limit = Annotated[int, QueryParameter(ge=1, le=500)]


@dataclass
class AttachmentForm:
    file: UploadFile


def _file(request: Request[Any, Any, Any], row: TicketAttachment) -> Response[bytes]:
    blobs = _cfg(request).blobs
    assert blobs is not None, "the blob store is wired at start-up"
    return Response(
        blobs.get(row.blob),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


class DeskController(Controller):
    path = "/desk"
    tags = ["service desk"]

    @post("/contacts", opt=needs("triage.write"), sync_to_thread=True)
    def create_contact(self, ctx: Ctx, data: JSONBody[contacts.ContactInput]) -> dict[str, Any]:
        return contacts.contact_out(contacts.create_contact(ctx, data))

    @get("/contacts", opt=needs("triage.read"), sync_to_thread=True)
    def list_contacts(self, ctx: Ctx, customer_id: FromQuery[int | None] = None) -> list[dict[str, Any]]:
        return [contacts.contact_out(c) for c in contacts.list_contacts(ctx, customer_id)]

    @put("/customers/{customer_id:int}/profile", opt=needs("setup.write"), sync_to_thread=True)
    def put_profile(
        self, ctx: Ctx, customer_id: FromPath[int], data: JSONBody[contacts.ProfileInput]
    ) -> dict[str, Any]:
        """Service profile of a customer: `vip` raises the proposed priority of its requests by one."""
        p = contacts.put_profile(ctx, customer_id, data)
        return {"customer_id": p.customer_id, "vip": p.vip, "note": p.note}

    @get("/customers/{customer_id:int}/overview", opt=needs("customers.insight"), sync_to_thread=True)
    def overview(self, ctx: Ctx, customer_id: FromPath[int]) -> dict[str, Any]:
        """The 360° view: sites, assets with cover, open and past orders, first-time fix, surveys, risks."""
        return insight.overview(ctx, customer_id)

    @post("/chat-channels", opt=needs("integrations.manage"), sync_to_thread=True)
    def create_channel(self, ctx: Ctx, data: JSONBody[desk.ChannelInput]) -> dict[str, Any]:
        """A chat webhook at /intake/chat/{name}; the secret is shown only in this answer."""
        channel, secret = desk.create_channel(ctx, data)
        return {
            "id": channel.id,
            "name": channel.name,
            "adapter": channel.adapter,
            "secret": secret,
            "webhook": f"/intake/chat/{channel.name}",
        }

    @get("/inbound", opt=needs("triage.read"), sync_to_thread=True)
    def list_inbound(
        self,
        ctx: Ctx,
        in_state: Annotated[str | None, QueryParameter(name="state", max_length=16)] = None,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Received messages, newest first; `state=triage` is the triage queue."""
        return [desk.inbound_out(m) for m in desk.list_inbound(ctx, in_state, limit)]

    @post("/inbound/{msg_id:int}/accept", opt=needs("triage.write"), sync_to_thread=True)
    def accept(self, ctx: Ctx, msg_id: FromPath[int], data: JSONBody[desk.AcceptInput]) -> dict[str, Any]:
        wo = desk.accept(ctx, msg_id, data)
        return {"work_order_id": wo.id, "reference": wo.reference}

    @post("/inbound/{msg_id:int}/link", opt=needs("triage.write"), sync_to_thread=True, status_code=200)
    def link(self, ctx: Ctx, msg_id: FromPath[int], data: JSONBody[desk.LinkInput]) -> dict[str, Any]:
        return desk.inbound_out(desk.link(ctx, msg_id, data))

    @post("/inbound/{msg_id:int}/dismiss", opt=needs("triage.write"), sync_to_thread=True, status_code=200)
    def dismiss(self, ctx: Ctx, msg_id: FromPath[int], data: JSONBody[desk.DismissInput]) -> dict[str, Any]:
        return desk.inbound_out(desk.dismiss(ctx, msg_id, data))

    @post("/inbound/{msg_id:int}/split", opt=needs("triage.write"), sync_to_thread=True)
    def split(self, ctx: Ctx, msg_id: FromPath[int]) -> dict[str, Any]:
        """Give a message wrongly linked as a duplicate its own work order."""
        wo = desk.split(ctx, msg_id)
        return {"work_order_id": wo.id, "reference": wo.reference}

    @post("/work-orders/{wo_id:int}/merge", opt=needs("triage.write"), sync_to_thread=True, status_code=200)
    def merge(self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[desk.MergeInput]) -> dict[str, Any]:
        """Fold this work order into another: messages and comments move, this one is cancelled."""
        into = desk.merge(ctx, wo_id, data)
        return {"work_order_id": into.id, "reference": into.reference}

    @get("/work-orders/{wo_id:int}/comments", opt=needs("triage.read"), sync_to_thread=True)
    def comments(self, ctx: Ctx, wo_id: FromPath[int]) -> list[dict[str, Any]]:
        get_work_order(ctx, wo_id)
        return [desk.comment_out(c) for c in desk.comments_of(ctx, wo_id, include_internal=True)]

    @post("/work-orders/{wo_id:int}/comments", opt=needs("triage.write"), sync_to_thread=True)
    def comment(self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[desk.CommentInput]) -> dict[str, Any]:
        wo = get_work_order(ctx, wo_id)
        return desk.comment_out(desk.add_comment(ctx, wo, data, author_kind="agent"))

    @get("/work-orders/{wo_id:int}/attachments", opt=needs("triage.read"), sync_to_thread=True)
    def attachments(self, ctx: Ctx, wo_id: FromPath[int]) -> list[dict[str, Any]]:
        """Files the customer added in the portal."""
        wo = get_work_order(ctx, wo_id)
        return [portal.attachment_out(a, "/desk") for a in portal.attachments_of(ctx, wo.id)]

    @get(
        "/work-orders/{wo_id:int}/attachments/{attachment_id:int}",
        opt=needs("triage.read"),
        sync_to_thread=True,
    )
    def attachment(
        self, request: Request[Any, Any, Any], ctx: Ctx, wo_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        wo = get_work_order(ctx, wo_id)
        return _file(request, portal.attachment(ctx, wo.id, attachment_id))

    @get("/deflection", opt=needs("triage.read"), sync_to_thread=True)
    def deflection_figures(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> dict[str, Any]:
        """Self-service: suggested articles customers opened, and how many spared a request (deflected:
        marked helpful or no request within the window; submitted: a request came anyway)."""
        return deflection.metric(ctx, _cfg(request), since, until)

    @get("/inbound/{msg_id:int}", opt=needs("triage.read"), sync_to_thread=True)
    def inbound(self, ctx: Ctx, msg_id: FromPath[int]) -> dict[str, Any]:
        from servicedesk.models import InboundMessage

        msg = ctx.session.get(InboundMessage, msg_id)
        if msg is None:
            raise NotFound(f"inbound message {msg_id} does not exist")
        return desk.inbound_out(msg)


Query = Annotated[str, QueryParameter(name="q", max_length=200)]


class KnowledgeController(Controller):
    """Staff's knowledge base: every article, drafts and internal ones included."""

    path = "/knowledge"
    tags = ["knowledge base"]

    @get(opt=needs("knowledge.read"), sync_to_thread=True)
    def search(
        self,
        ctx: Ctx,
        q: Query = "",
        drafts: FromQuery[bool] = False,
        asset_model: Annotated[str | None, QueryParameter(max_length=64)] = None,
        fault_code: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """Ranked search in Chinese or English (`q`), optionally boosted by asset model and fault code."""
        found = knowledge.search(
            ctx,
            q,
            public_only=False,
            include_drafts=drafts,
            asset_model=asset_model,
            fault_codes=[fault_code] if fault_code else [],
        )
        return [knowledge.article_out(a, score, full=False) for a, score in found]

    @get("/suggest/{wo_id:int}", opt=needs("knowledge.read"), sync_to_thread=True)
    def suggest(self, ctx: Ctx, wo_id: FromPath[int]) -> list[dict[str, Any]]:
        """Articles for a work order, from its text, its asset's model and the fault codes that raised it."""
        found = knowledge.suggest_for_work_order(ctx, get_work_order(ctx, wo_id))
        return [knowledge.article_out(a, score, full=False) for a, score in found]

    @post(opt=needs("knowledge.write"), sync_to_thread=True)
    def create(self, ctx: Ctx, data: JSONBody[knowledge.ArticleInput]) -> dict[str, Any]:
        return knowledge.article_out(knowledge.create(ctx, data))

    @get("/{article_id:int}", opt=needs("knowledge.read"), sync_to_thread=True)
    def read(self, ctx: Ctx, article_id: FromPath[int]) -> dict[str, Any]:
        return knowledge.article_out(knowledge.get(ctx, article_id, public_only=False))

    @patch("/{article_id:int}", opt=needs("knowledge.write"), sync_to_thread=True)
    def update(
        self, ctx: Ctx, article_id: FromPath[int], data: JSONBody[knowledge.ArticlePatch]
    ) -> dict[str, Any]:
        """A new title or body makes a new version; earlier ones stay readable."""
        return knowledge.article_out(knowledge.update(ctx, article_id, data))

    @get("/{article_id:int}/versions", opt=needs("knowledge.read"), sync_to_thread=True)
    def versions(self, ctx: Ctx, article_id: FromPath[int]) -> list[dict[str, Any]]:
        return [
            {
                "version": v.version,
                "title": v.title,
                "body": v.body,
                "author": v.author,
                "at": v.created_at.isoformat(),
            }
            for v in knowledge.versions(ctx, article_id)
        ]

    @post("/{article_id:int}/feedback", opt=needs("knowledge.read"), sync_to_thread=True, status_code=200)
    def feedback(
        self, ctx: Ctx, article_id: FromPath[int], data: JSONBody[knowledge.FeedbackInput]
    ) -> dict[str, Any]:
        return knowledge.article_out(knowledge.feedback(ctx, article_id, data, public_only=False), full=False)


Token = Annotated[str, PathParameter(max_length=200)]


class SurveyController(Controller):
    path = "/surveys"
    tags = ["surveys"]

    @post("/invitations", opt=needs("surveys.manage"), sync_to_thread=True)
    def invite(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[surveys.InviteInput]
    ) -> dict[str, Any]:
        """Ask a contact about a work order (throttled per contact); e-mailed unless `send` is false."""
        invited = surveys.invite(ctx, _cfg(request), data)
        return {
            "id": invited.invitation.id,
            "url": invited.url,
            "expires_at": invited.invitation.expires_at.isoformat(),
            "sent": invited.sent,
        }

    @get("/scores", opt=needs("surveys.read"), sync_to_thread=True)
    def scores(
        self,
        ctx: Ctx,
        by: FromQuery[surveys.GroupBy] = "all",
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
    ) -> list[dict[str, Any]]:
        """CSAT, NPS (= % promoters − % detractors) and CES by engineer, team (territory), customer,
        channel, ISO week or month."""
        return surveys.scores(ctx, by, since, until)

    @get("/{token:str}", opt=public(), sync_to_thread=True)
    def form(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        """The survey behind a link (no sign-in: the signed link is the credential)."""
        return _survey(request, token, None)

    @post("/{token:str}", opt=public(), sync_to_thread=True)
    def answer(
        self, request: Request[Any, Any, Any], token: Token, data: JSONBody[surveys.AnswerInput]
    ) -> Response[Any]:
        return _survey(request, token, data)


def _survey(request: Request[Any, Any, Any], token: str, data: surveys.AnswerInput | None) -> Response[Any]:
    rt = runtime(request.app.state)
    with rt.sessions() as session:
        ctx = ServiceContext(session, rt.clock, Actor.system("survey-link"))
        try:
            if data is None:
                inv = surveys.open_link(ctx, _cfg(request), token)
                low, high = surveys.SCALES[inv.kind]
                return Response(
                    {
                        "kind": inv.kind,
                        "question": surveys.QUESTIONS[inv.kind],
                        "min": low,
                        "max": high,
                        "reference": f"WO-{inv.work_order_id:07d}",
                        "expires_at": inv.expires_at.isoformat(),
                    }
                )
            surveys.answer(ctx, _cfg(request), token, data)
        except surveys.LinkGone as exc:
            return problem(410, str(exc), slug="survey-link-gone")
        return Response({"thanks": "感谢您的反馈 / Thank you for your feedback"}, status_code=201)


PORTAL = needs("portal")


class PortalController(Controller):
    """The customer's own view: only their company's records, ever."""

    path = "/portal"
    tags = ["customer portal"]

    @get("/sites", opt=PORTAL, sync_to_thread=True)
    def sites(self, ctx: Ctx) -> list[dict[str, Any]]:
        return portal.sites(ctx)

    @get("/assets", opt=PORTAL, sync_to_thread=True)
    def assets(self, ctx: Ctx) -> list[dict[str, Any]]:
        """The asset picker: each asset with its warranty and contract status."""
        return portal.assets(ctx)

    @get("/work-orders", opt=PORTAL, sync_to_thread=True)
    def work_orders(self, ctx: Ctx, open_only: FromQuery[bool] = False) -> list[dict[str, Any]]:
        return portal.list_work_orders(ctx, open_only)

    @get("/work-orders/{wo_id:int}", opt=PORTAL, sync_to_thread=True)
    def work_order(self, ctx: Ctx, wo_id: FromPath[int]) -> dict[str, Any]:
        """Status timeline, the engineer's ETA once dispatched, whether the service report is ready."""
        return portal.detail(ctx, wo_id)

    @get("/work-orders/{wo_id:int}/report.pdf", opt=PORTAL, sync_to_thread=True)
    def report(self, request: Request[Any, Any, Any], ctx: Ctx, wo_id: FromPath[int]) -> Response[bytes]:
        """The service report (PDF) of a finished job: what was done, parts, photos, the signature."""
        wo = portal.work_order(ctx, wo_id)
        if not portal.report_ready(wo):
            raise Conflict(f"{wo.reference} is not finished yet; its service report comes when it is")
        blobs = runtime(request.app.state).blobs
        assert blobs is not None, "the blob store is wired at start-up"
        return Response(
            service_report(ctx, blobs, wo),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{wo.reference}.pdf"'},
        )

    @get("/work-orders/{wo_id:int}/comments", opt=PORTAL, sync_to_thread=True)
    def comments(self, ctx: Ctx, wo_id: FromPath[int]) -> list[dict[str, Any]]:
        wo = portal.work_order(ctx, wo_id)
        return [desk.comment_out(c) for c in desk.comments_of(ctx, wo.id, include_internal=False)]

    @post("/work-orders/{wo_id:int}/comments", opt=PORTAL, sync_to_thread=True)
    def comment(self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[desk.CommentInput]) -> dict[str, Any]:
        wo = portal.work_order(ctx, wo_id)
        return desk.comment_out(desk.add_comment(ctx, wo, data, author_kind="customer"))

    @get("/knowledge", opt=PORTAL, sync_to_thread=True)
    def knowledge_search(self, ctx: Ctx, q: Query = "") -> list[dict[str, Any]]:
        """Self-service: published public articles only."""
        return [
            knowledge.article_out(a, sc, full=False) for a, sc in knowledge.search(ctx, q, public_only=True)
        ]

    @get("/knowledge/suggest", opt=PORTAL, sync_to_thread=True)
    def knowledge_suggest(
        self, ctx: Ctx, q: Query = "", asset_id: FromQuery[int | None] = None
    ) -> list[dict[str, Any]]:
        """Articles for the request being written (its text, the picked asset's model): self-service
        before a request is sent. Open one with `?suggested=true` so the deflection is counted."""
        return [knowledge.article_out(a, sc, full=False) for a, sc in portal.suggest(ctx, q, asset_id)]

    @get("/knowledge/{article_id:int}", opt=PORTAL, sync_to_thread=True)
    def knowledge_article(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        article_id: FromPath[int],
        suggested: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        article = knowledge.get(ctx, article_id, public_only=True)
        if suggested:
            deflection.record_read(ctx, _cfg(request), portal.tenant(ctx), article.id)
        return knowledge.article_out(article)

    @post("/knowledge/{article_id:int}/feedback", opt=PORTAL, sync_to_thread=True, status_code=200)
    def knowledge_feedback(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        article_id: FromPath[int],
        data: JSONBody[knowledge.FeedbackInput],
    ) -> dict[str, Any]:
        """Did this help? (yes or no per article)"""
        article = knowledge.feedback(ctx, article_id, data, public_only=True)
        deflection.mark_helpful(ctx, _cfg(request), portal.tenant(ctx), article.id, data.helpful)
        return knowledge.article_out(article, full=False)

    @get("/surveys", opt=PORTAL, sync_to_thread=True)
    def pending_surveys(self, ctx: Ctx) -> list[dict[str, Any]]:
        """The company's surveys waiting for an answer."""
        return portal.pending_surveys(ctx)

    @post("/surveys/{survey_id:int}", opt=PORTAL, sync_to_thread=True)
    def answer_survey(
        self, ctx: Ctx, survey_id: FromPath[int], data: JSONBody[surveys.AnswerInput]
    ) -> dict[str, Any]:
        try:
            surveys.answer_in_portal(ctx, portal.tenant(ctx), survey_id, data)
        except surveys.LinkGone as exc:
            raise Conflict(str(exc)) from exc
        return {"thanks": "感谢您的反馈 / Thank you for your feedback"}

    @get("/work-orders/{wo_id:int}/attachments", opt=PORTAL, sync_to_thread=True)
    def attachments(self, ctx: Ctx, wo_id: FromPath[int]) -> list[dict[str, Any]]:
        wo = portal.work_order(ctx, wo_id)
        return [portal.attachment_out(a, "/portal") for a in portal.attachments_of(ctx, wo.id)]

    @post(
        "/work-orders/{wo_id:int}/attachments",
        opt=PORTAL,
        sync_to_thread=True,
        request_max_body_size=MAX_ATTACHMENT_BYTES + 64 * 1024,
    )
    def add_attachment(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        wo_id: FromPath[int],
        data: MultipartBody[AttachmentForm],
    ) -> dict[str, Any]:
        """A photo (or PDF, document, text) for one's own work order: at most 10 MB, checked by content."""
        row = portal.add_attachment(
            ctx, _cfg(request), wo_id, data.file.filename or "", data.file.file.read()
        )
        return portal.attachment_out(row, "/portal")

    @get("/work-orders/{wo_id:int}/attachments/{attachment_id:int}", opt=PORTAL, sync_to_thread=True)
    def attachment(
        self, request: Request[Any, Any, Any], ctx: Ctx, wo_id: FromPath[int], attachment_id: FromPath[int]
    ) -> Response[bytes]:
        wo = portal.work_order(ctx, wo_id)
        return _file(request, portal.attachment(ctx, wo.id, attachment_id))

    @post("/requests", opt=PORTAL, sync_to_thread=True)
    def open_request(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[portal.PortalRequestInput]
    ) -> dict[str, Any]:
        """Open a service request (asset picker, description, preferred windows)."""
        return _outcome(portal.open_request(ctx, _cfg(request), data))


# The portal page's files live beside the feature; found from the source tree until they are package data.
STATIC = Path(__file__).resolve().parents[2] / "servicedesk" / "static"
PAGE_HEADERS = {
    # Our own script only, talking only to this server; photos previewed from blob: URLs.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@get("/portal", opt=public(), include_in_schema=False, media_type="text/html")
async def portal_page() -> Response[bytes]:
    """The customer portal (public: the page holds no data; everything comes from /portal/* signed in)."""
    return Response(_page(), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@cache
def _page() -> bytes:
    return (STATIC / "portal.html").read_bytes()


ROUTES: list[ControllerRouterHandler] = [
    IntakeController,
    DeskController,
    KnowledgeController,
    SurveyController,
    PortalController,
    portal_page,
    create_static_files_router("/portal/static", directories=[STATIC], opt=public(), include_in_schema=False),
]
