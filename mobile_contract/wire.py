"""The wire format of /mobile/v1: every request and response body, and nothing else.

Rules that keep old apps working (tests/mobile/test_contract_snapshot.py enforces them against the
committed OpenAPI snapshot):
- responses may gain fields, never lose or narrow them; new response fields are optional for clients;
- requests may gain optional fields only; unknown request fields are ignored (not rejected), so a newer
  app talking to an older server still works;
- a breaking change needs a new version (/mobile/v2) and a bump of CONTRACT_VERSION.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

CONTRACT_VERSION = "1.1"

Instant = Annotated[datetime, Meta(tz=True)]
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]


class Wire(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base of all mobile bodies. Unknown fields are ignored on purpose (see the module rules)."""


# ---------------------------------------------------------------- sign-in


class SignIn(Wire):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=256)]
    device_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None


class Refresh(Wire):
    refresh_token: Annotated[str, Meta(min_length=10, max_length=4096)]


class Session(Wire):
    access_token: str
    refresh_token: str
    expires_in: int
    engineer_id: int
    engineer_name: str
    contract_version: str = CONTRACT_VERSION


# ---------------------------------------------------------------- the day


class GeoPoint(Wire):
    lat: float
    lon: float


class SiteInfo(Wire):
    id: int
    name: str
    address: str
    location: GeoPoint
    access_notes: str | None
    geofence_radius_m: int
    contact_name: str | None
    contact_phone: str | None


class CustomerInfo(Wire):
    id: int
    name: str
    phone: str | None
    contract_tier: str | None
    covers_labour: bool
    covers_parts: bool


class PastJob(Wire):
    reference: str
    title: str
    status: str
    resolved_at: datetime | None


class AssetInfo(Wire):
    id: int
    model_code: str
    model_name: str
    serial: str
    installed_on: date | None
    warranty_ends_on: date | None
    under_warranty: bool
    history: list[PastJob]
    open_alarms: list[Finding] = []


class PartSuggestion(Wire):
    sku: str
    quantity: int
    # Whether my van holds enough right now (None when stock is not tracked for this part).
    in_my_van: bool | None = None


class Finding(Wire):
    """A fact behind a job or about an asset: an alarm with the telemetry that raised it, a fault code."""

    source: str
    kind: str
    summary: str
    raised_at: datetime | None = None
    severity: str | None = None
    # Chart-ready, e.g. {"metric": "vibration_mm_s", "series": [["2026-11-23T01:00:00Z", 4.1], …]}
    details: dict[str, Any] = {}


class ArticleHint(Wire):
    """A knowledge article that may help with a job; the whole of it at /mobile/v1/articles/{article_id}."""

    article_id: int
    title: str
    excerpt: str


class Article(Wire):
    """A knowledge article (Markdown), as the app shows it."""

    id: int
    title: str
    body: str
    tags: list[str]
    version: int
    updated_at: datetime


class JobInfo(Wire):
    work_order_id: int
    reference: str
    title: str
    description: str
    kind: str
    priority: str
    status: str
    estimated_minutes: int
    respond_by: datetime | None
    resolve_by: datetime | None
    suggested_parts: list[PartSuggestion]
    # Why this job exists, when a device raised it (empty for a customer's call).
    evidence: list[Finding] = []
    # Knowledge articles for this job (its text, its asset's model, the fault codes that raised it).
    suggested_articles: list[ArticleHint] = []


class VisitCard(Wire):
    """One stop of my day: everything needed on site without another request."""

    visit_id: int
    status: str
    sequence: int
    planned_start: datetime | None
    planned_end: datetime | None
    eta: datetime | None
    version: int
    job: JobInfo
    site: SiteInfo
    customer: CustomerInfo
    asset: AssetInfo | None


class DayPlan(Wire):
    date: date
    engineer_id: int
    visits: list[VisitCard]
    # Pass to /sync to get only what changes after this plan was read.
    sync_cursor: str | None = None


class RemovedVisit(Wire):
    """A visit that is no longer mine to work: withdrawn, reassigned, declined or finished elsewhere."""

    visit_id: int
    status: str
    reason: str | None


class SyncPage(Wire):
    cursor: str
    changed: list[VisitCard]
    removed: list[RemovedVisit]
    # More changes are waiting: call again with `cursor` straight away.
    more: bool


# ---------------------------------------------------------------- moves on a visit


class Move(Wire):
    """Every move says when it happened on the phone: an offline queue may deliver it hours later."""

    occurred_at: Instant


class Decline(Move):
    reason: Reason


class EnRoute(Move):
    eta: Instant | None = None


class CheckIn(Move):
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Meta(ge=0, le=10_000)]


class PhotoInfo(Wire):
    """An uploaded photo. Upload: multipart/form-data with `file` and optional `category`
    (before/after/other), `caption`, `taken_at`, `lat`, `lon`."""

    photo_id: int
    work_order_id: int
    content_type: str
    size_bytes: int
    sha256: str
    category: str
    caption: str | None
    taken_at: datetime | None
    # True when these exact bytes were already on the job (a retried upload): nothing new was stored.
    duplicate: bool


class VisitState(Wire):
    visit_id: int
    status: str
    work_order_status: str
    version: int
    # Set on check-in: how far the fix was from the site, and whether it counted as on site.
    distance_m: float | None = None
    off_site: bool = False


# ---------------------------------------------------------------- parts from my van

Sku = Annotated[str, Meta(min_length=1, max_length=64)]
Note = Annotated[str, Meta(min_length=1, max_length=4000)]


class PartLine(Wire):
    sku: Sku
    quantity: Annotated[int, Meta(ge=1, le=10_000)] = 1
    # Serial-tracked parts: exactly `quantity` scanned serial numbers.
    serials: Annotated[list[Annotated[str, Meta(min_length=1, max_length=120)]], Meta(max_length=1000)] = []


class PartsMove(Move):
    lines: Annotated[list[PartLine], Meta(min_length=1, max_length=200)]
    # Omitted: my van. A warehouse I picked from on the way may be named by its id.
    location_id: int | None = None
    note: Annotated[str, Meta(max_length=500)] | None = None


class StockLine(Wire):
    sku: str
    quantity: int


class PartsState(Wire):
    work_order_id: int
    # Net of returns: what the job will be charged for.
    used_on_job: list[StockLine]
    # What is left in my van that nobody has reserved.
    my_van: list[StockLine]


# ---------------------------------------------------------------- checklist and notes


class ChecklistItem(Wire):
    key: str
    label: str
    label_zh: str | None
    type: str
    required: bool
    options: list[str] | None
    min: float | None
    max: float | None
    # The current answer on this job, if any.
    answer: bool | float | str | None


class Checklist(Wire):
    work_order_id: int
    template_id: int | None
    items: list[ChecklistItem]
    complete: bool


class Answer(Wire):
    key: Annotated[str, Meta(min_length=1, max_length=64)]
    value: bool | float | Annotated[str, Meta(max_length=2000)]


class ChecklistAnswers(Move):
    answers: Annotated[list[Answer], Meta(min_length=1, max_length=200)]


class NewNote(Move):
    text: Note


class NoteInfo(Wire):
    note_id: int
    work_order_id: int
    text: str
    author: str
    written_at: datetime


# ---------------------------------------------------------------- time on the job


class TimeEntryInfo(Wire):
    kind: str
    started_at: datetime
    ended_at: datetime
    minutes: int
    # Derived from the visit's timeline until someone corrects it (with a reason).
    edited: bool
    edited_reason: str | None


class TimeEntryEdit(Wire):
    started_at: Instant
    ended_at: Instant
    reason: Reason


# ---------------------------------------------------------------- finishing the job

RESOLUTION_CODES = (
    "fixed",
    "part_replaced",
    "adjusted",
    "preventive_done",
    "no_fault_found",
    "temporary_fix",
    "customer_declined",
)


class WorkDone(Move):
    resolution_code: Annotated[str, Meta(min_length=1, max_length=32)]
    resolution_notes: Annotated[str, Meta(max_length=4000)] = ""
    # Parts still to book against the job, in the same step (an offline app often batches them).
    parts: Annotated[list[PartLine], Meta(max_length=200)] = []


Stroke = Annotated[list[Annotated[list[float], Meta(min_length=2, max_length=2)]], Meta(max_length=5000)]


class SignOffBody(Move):
    signer_name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    # The signature as a PNG (base64), or the strokes drawn on the screen (points in a 0–1000 box).
    signature_png: Annotated[str, Meta(max_length=2_000_000)] | None = None
    signature_strokes: Annotated[list[Stroke], Meta(max_length=500)] | None = None
    # When nobody can sign (site unattended): why, instead of a signature.
    customer_absent_reason: Reason | None = None
    rating: Annotated[int, Meta(ge=1, le=5)] | None = None
    rating_comment: Annotated[str, Meta(max_length=2000)] | None = None


class SettlementLine(Wire):
    kind: str
    description: str
    quantity: str
    unit_price: str
    amount: str
    # "warranty", "contract <number>" or None when the customer pays.
    covered_by: str | None


class SettlementInfo(Wire):
    currency: str
    labour_amount: str
    parts_amount: str
    covered_amount: str
    customer_amount: str
    lines: list[SettlementLine]


class SignedOff(Wire):
    state: VisitState
    settlement: SettlementInfo
    # Where the dispatcher (and the customer's portal) fetch the service report.
    report_path: str
