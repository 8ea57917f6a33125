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
from typing import Annotated

import msgspec
from msgspec import Meta

CONTRACT_VERSION = "1.0"

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


class PartSuggestion(Wire):
    sku: str
    quantity: int
    # Whether my van holds enough right now (None when stock is not tracked for this part).
    in_my_van: bool | None = None


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
