"""/mobile/v1: the engineer's app. Bodies are exactly the types of `mobile_contract.wire`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import FromPath, HeaderParameter, JSONBody, MultipartBody, QueryParameter
from sqlalchemy.orm import Session

from api.access import needs, public
from api.auth import issue_tokens
from api.deps import Ctx, expected_version, runtime
from api.problems import problem
from api.routes.auth import refreshed_user
from core.domain.errors import Invalid, NotFound
from core.services.context import Actor, Role, ServiceContext
from core.services.events import audit
from core.services.users import authenticate
from core.store.models import Engineer, User
from fieldwork import checklists, completion, day, moves, notes, parts, photos, sync, timesheet
from inventory.read_model import van_stock_of
from mobile_contract import wire
from servicedesk import knowledge

MOBILE = needs("mobile")
IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]
AppVersion = Annotated[str | None, HeaderParameter(name="X-App-Version", required=False, max_length=100)]


def _session_for(request: Request[Any, Any, Any], session: Session, user: User) -> wire.Session:
    if user.role != Role.ENGINEER or user.engineer_id is None:
        raise PermissionDeniedException("the mobile app is for engineers; dispatchers use the console")
    rt = runtime(request.app.state)
    tokens = issue_tokens(rt.jwt_auth, user, rt.access_ttl, rt.refresh_ttl)
    engineer = session.get_one(Engineer, user.engineer_id)
    return wire.Session(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_in=tokens["expires_in"],
        engineer_id=engineer.id,
        engineer_name=engineer.name,
    )


async def _multipart_only(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """A photo comes as multipart/form-data: anything else is refused before its body is parsed."""
    if request.content_type[0] != "multipart/form-data":
        return problem(
            415, "send the photo as multipart/form-data, the image in its `file` part", field="file"
        )
    return None


@dataclass
class PhotoForm:
    file: UploadFile
    category: str = "other"
    caption: str | None = None
    taken_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None


class MobileController(Controller):
    path = "/mobile/v1"
    tags = ["mobile v1"]

    @post("/auth/token", opt=public(), sync_to_thread=True, status_code=200)
    def sign_in(
        self,
        request: Request[Any, Any, Any],
        session: NamedDependency[Session],
        data: JSONBody[wire.SignIn],
        app_version: AppVersion = None,
    ) -> wire.Session:
        rt = runtime(request.app.state)
        ctx = ServiceContext(session, rt.clock, Actor.system(data.username))
        user = authenticate(ctx, data.username, data.password)
        if user is None:
            raise NotAuthorizedException("wrong username or password")
        result = _session_for(request, session, user)
        # Which app build and phone an engineer uses matters when a bug report comes in.
        audit(
            ctx, "user", user.id, "signed_in", data={"app_version": app_version, "device_id": data.device_id}
        )
        session.commit()
        return result

    @post("/auth/refresh", opt=public(), sync_to_thread=True, status_code=200)
    def refresh(
        self, request: Request[Any, Any, Any], session: NamedDependency[Session], data: JSONBody[wire.Refresh]
    ) -> wire.Session:
        return _session_for(request, session, refreshed_user(request, session, data.refresh_token))

    @get("/visits", opt=MOBILE, sync_to_thread=True)
    def my_day(
        self, ctx: Ctx, on: Annotated[date | None, QueryParameter(name="date")] = None
    ) -> wire.DayPlan:
        """My visits for a day (default: today in my territory), in route order, ready to work offline."""
        engineer = day.my_engineer(ctx)
        return day.my_day(ctx, on or ctx.now().date(), van=van_stock_of(ctx.session, engineer.id))

    @get("/sync", opt=MOBILE, sync_to_thread=True)
    def sync(
        self, ctx: Ctx, since: Annotated[str | None, QueryParameter(max_length=60)] = None
    ) -> wire.SyncPage:
        """What changed for me after `since` (a cursor from /visits or /sync): new or changed visits to
        reload, and visits to drop — withdrawn, reassigned or declined while I was offline."""
        return sync.changes(ctx, since)

    @post("/visits/{visit_id:int}/accept", opt=MOBILE, sync_to_thread=True, status_code=200)
    def accept(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.Move], if_match: IfMatch = None
    ) -> wire.VisitState:
        return moves.accept(ctx, visit_id, data, expected_version(if_match))

    @post("/visits/{visit_id:int}/decline", opt=MOBILE, sync_to_thread=True, status_code=200)
    def decline(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.Decline], if_match: IfMatch = None
    ) -> wire.VisitState:
        """Turn a visit down (with a reason); it goes back to the dispatcher's queue."""
        return moves.decline(ctx, visit_id, data, expected_version(if_match))

    @post("/visits/{visit_id:int}/en-route", opt=MOBILE, sync_to_thread=True, status_code=200)
    def en_route(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.EnRoute], if_match: IfMatch = None
    ) -> wire.VisitState:
        return moves.en_route(ctx, visit_id, data, expected_version(if_match))

    @post("/visits/{visit_id:int}/check-in", opt=MOBILE, sync_to_thread=True, status_code=200)
    def check_in(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        visit_id: FromPath[int],
        data: JSONBody[wire.CheckIn],
        if_match: IfMatch = None,
    ) -> wire.VisitState:
        """Arrive on site with a GPS fix; outside the site's geofence it is flagged to the dispatcher."""
        reject = runtime(request.app.state).reject_off_site_check_ins
        return moves.check_in(ctx, visit_id, data, expected_version(if_match), reject_off_site=reject)

    @post(
        "/visits/{visit_id:int}/photos",
        opt=MOBILE,
        sync_to_thread=True,
        request_max_body_size=photos.MAX_PHOTO_BYTES + 64 * 1024,
        before_request=_multipart_only,
    )
    def add_photo(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        visit_id: FromPath[int],
        data: MultipartBody[PhotoForm],
    ) -> Response[wire.PhotoInfo]:
        """Upload a photo (JPEG, PNG or HEIC by content, at most 15 MB); the same bytes twice: kept once."""
        store = runtime(request.app.state).blobs
        assert store is not None, "the blob store is wired at start-up"
        if len(data.caption or "") > 500:
            raise Invalid("a caption may be at most 500 characters", field="caption")
        photo, created = photos.add_photo(
            ctx,
            store,
            visit_id,
            data.file.file.read(),
            category=data.category,
            caption=data.caption,
            taken_at=data.taken_at,
            lat=data.lat,
            lon=data.lon,
        )
        info = wire.PhotoInfo(
            photo_id=photo.id,
            work_order_id=photo.work_order_id,
            content_type=photo.content_type,
            size_bytes=photo.size_bytes,
            sha256=photo.content_hash,
            category=photo.category,
            caption=photo.caption,
            taken_at=photo.taken_at,
            duplicate=not created,
        )
        return Response(info, status_code=201 if created else 200)

    @get("/articles/{article_id:int}", opt=MOBILE, sync_to_thread=True)
    def article(self, ctx: Ctx, article_id: FromPath[int]) -> wire.Article:
        """A knowledge article suggested for one of my jobs (published ones only)."""
        a = knowledge.get(ctx, article_id, public_only=False)
        if a.status != "published":
            raise NotFound(f"article {article_id} does not exist")
        return wire.Article(
            id=a.id, title=a.title, body=a.body, tags=list(a.tags), version=a.version, updated_at=a.updated_at
        )

    # ------------------------------------------------------------ on site

    @get("/van", opt=MOBILE, sync_to_thread=True)
    def my_van(self, ctx: Ctx) -> list[wire.StockLine]:
        """What my van holds that nobody has reserved, by SKU."""
        engineer = day.my_engineer(ctx)
        return [
            wire.StockLine(sku=s, quantity=q)
            for s, q in sorted(van_stock_of(ctx.session, engineer.id).items())
        ]

    @post("/visits/{visit_id:int}/parts/consume", opt=MOBILE, sync_to_thread=True, status_code=200)
    def consume_parts(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.PartsMove]
    ) -> wire.PartsState:
        """Parts used on the job (my van unless a location is named); serials scanned for tracked parts."""
        return parts.consume(ctx, visit_id, data)

    @post("/visits/{visit_id:int}/parts/return", opt=MOBILE, sync_to_thread=True, status_code=200)
    def return_parts(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.PartsMove]
    ) -> wire.PartsState:
        """Parts booked on the job but not used go back (never more than the job used)."""
        return parts.give_back(ctx, visit_id, data)

    @get("/visits/{visit_id:int}/checklist", opt=MOBILE, sync_to_thread=True)
    def checklist(self, ctx: Ctx, visit_id: FromPath[int]) -> wire.Checklist:
        return checklists.checklist(ctx, moves.my_visit(ctx, visit_id).work_order)

    @post("/visits/{visit_id:int}/checklist", opt=MOBILE, sync_to_thread=True, status_code=200)
    def answer_checklist(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.ChecklistAnswers]
    ) -> wire.Checklist:
        moves.check_time(ctx, data.occurred_at)
        return checklists.answer(ctx, moves.working_visit(ctx, visit_id).work_order, data.answers)

    @post("/visits/{visit_id:int}/notes", opt=MOBILE, sync_to_thread=True, status_code=201)
    def add_note(self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.NewNote]) -> wire.NoteInfo:
        moves.check_time(ctx, data.occurred_at)
        return notes.add_note(ctx, moves.my_visit(ctx, visit_id), data)

    @get("/visits/{visit_id:int}/time-entries", opt=MOBILE, sync_to_thread=True)
    def time_entries(self, ctx: Ctx, visit_id: FromPath[int]) -> list[wire.TimeEntryInfo]:
        """Travel and work time, derived from my taps; correct them with a reason until sign-off."""
        return timesheet.listing(ctx, moves.my_visit(ctx, visit_id))

    @put("/visits/{visit_id:int}/time-entries/{kind:str}", opt=MOBILE, sync_to_thread=True)
    def edit_time_entry(
        self, ctx: Ctx, visit_id: FromPath[int], kind: FromPath[str], data: JSONBody[wire.TimeEntryEdit]
    ) -> list[wire.TimeEntryInfo]:
        return timesheet.edit(ctx, moves.my_visit(ctx, visit_id), kind, data)

    @post("/visits/{visit_id:int}/work-done", opt=MOBILE, sync_to_thread=True, status_code=200)
    def work_done(
        self, ctx: Ctx, visit_id: FromPath[int], data: JSONBody[wire.WorkDone], if_match: IfMatch = None
    ) -> wire.VisitState:
        """The job is done: resolution code and notes (and any parts still to book). Required checklist
        items must be answered first."""
        return completion.work_done(ctx, visit_id, data, expected_version(if_match))

    @post("/visits/{visit_id:int}/sign-off", opt=MOBILE, sync_to_thread=True, status_code=200)
    def sign_off(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        visit_id: FromPath[int],
        data: JSONBody[wire.SignOffBody],
        if_match: IfMatch = None,
    ) -> wire.SignedOff:
        """The customer signs (PNG or strokes) and may rate the job; the work order completes and the
        settlement is computed in the same step."""
        store = runtime(request.app.state).blobs
        assert store is not None, "the blob store is wired at start-up"
        return completion.sign_off(ctx, store, visit_id, data, expected_version(if_match))
