"""A typed client for /mobile/v1, used by the tests and the simulator (and a model for app developers).

Every mutating call takes an idempotency key: replaying the same call with the same key is safe.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
import msgspec

from mobile_contract import wire

T = TypeVar("T")
BASE = "/mobile/v1"


class MobileApiError(Exception):
    """The server said no; `problem` is its RFC 9457 body (`status`, `detail`, `field`, …)."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(f"{problem.get('status')}: {problem.get('detail')}")
        self.problem = problem
        self.status = int(problem.get("status", 0))


class MobileClient:
    def __init__(self, http: httpx.Client, *, app_version: str = "fieldops-client/1.0") -> None:
        self.http = http
        self.app_version = app_version
        self.session: wire.Session | None = None

    # ------------------------------------------------------------ plumbing

    def _headers(self, idempotency_key: str | None = None, version: int | None = None) -> dict[str, str]:
        headers = {"X-App-Version": self.app_version}
        if self.session is not None:
            headers["Authorization"] = f"Bearer {self.session.access_token}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        return headers

    def _call(
        self, method: str, path: str, result: type[T], body: msgspec.Struct | None = None, **headers: Any
    ) -> T:
        content = msgspec.json.encode(body) if body is not None else None
        response = self.http.request(
            method,
            BASE + path,
            content=content,
            headers={**self._headers(**headers), "Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            try:
                raise MobileApiError(response.json())
            except ValueError:
                raise MobileApiError({"status": response.status_code, "detail": response.text}) from None
        return msgspec.json.decode(response.content, type=result)

    # ------------------------------------------------------------ calls

    def sign_in(self, username: str, password: str, device_id: str | None = None) -> wire.Session:
        self.session = self._call(
            "POST",
            "/auth/token",
            wire.Session,
            wire.SignIn(username=username, password=password, device_id=device_id),
        )
        return self.session

    def refresh(self) -> wire.Session:
        assert self.session is not None, "sign in first"
        self.session = self._call(
            "POST", "/auth/refresh", wire.Session, wire.Refresh(refresh_token=self.session.refresh_token)
        )
        return self.session

    def day(self, on: date) -> wire.DayPlan:
        return self._call("GET", f"/visits?date={on.isoformat()}", wire.DayPlan)

    def article(self, article_id: int) -> wire.Article:
        return self._call("GET", f"/articles/{article_id}", wire.Article)

    def sync(self, since: str | None) -> wire.SyncPage:
        return self._call("GET", "/sync" + (f"?since={since}" if since else ""), wire.SyncPage)

    def accept(
        self, visit_id: int, move: wire.Move, *, key: str | None = None, version: int | None = None
    ) -> wire.VisitState:
        return self._move(visit_id, "accept", move, key, version)

    def decline(
        self, visit_id: int, move: wire.Decline, *, key: str | None = None, version: int | None = None
    ) -> wire.VisitState:
        return self._move(visit_id, "decline", move, key, version)

    def en_route(
        self, visit_id: int, move: wire.EnRoute, *, key: str | None = None, version: int | None = None
    ) -> wire.VisitState:
        return self._move(visit_id, "en-route", move, key, version)

    def check_in(
        self, visit_id: int, move: wire.CheckIn, *, key: str | None = None, version: int | None = None
    ) -> wire.VisitState:
        return self._move(visit_id, "check-in", move, key, version)

    def _move(
        self, visit_id: int, action: str, move: msgspec.Struct, key: str | None, version: int | None
    ) -> wire.VisitState:
        return self._call(
            "POST",
            f"/visits/{visit_id}/{action}",
            wire.VisitState,
            move,
            idempotency_key=key or str(uuid.uuid4()),
            version=version,
        )

    # ------------------------------------------------------------ on site

    def my_van(self) -> list[wire.StockLine]:
        return self._call("GET", "/van", list[wire.StockLine])

    def consume_parts(
        self, visit_id: int, move: wire.PartsMove, *, key: str | None = None
    ) -> wire.PartsState:
        return self._post(f"/visits/{visit_id}/parts/consume", wire.PartsState, move, key)

    def return_parts(self, visit_id: int, move: wire.PartsMove, *, key: str | None = None) -> wire.PartsState:
        return self._post(f"/visits/{visit_id}/parts/return", wire.PartsState, move, key)

    def checklist(self, visit_id: int) -> wire.Checklist:
        return self._call("GET", f"/visits/{visit_id}/checklist", wire.Checklist)

    def answer_checklist(
        self, visit_id: int, answers: wire.ChecklistAnswers, *, key: str | None = None
    ) -> wire.Checklist:
        return self._post(f"/visits/{visit_id}/checklist", wire.Checklist, answers, key)

    def add_note(self, visit_id: int, note: wire.NewNote, *, key: str | None = None) -> wire.NoteInfo:
        return self._post(f"/visits/{visit_id}/notes", wire.NoteInfo, note, key)

    def time_entries(self, visit_id: int) -> list[wire.TimeEntryInfo]:
        return self._call("GET", f"/visits/{visit_id}/time-entries", list[wire.TimeEntryInfo])

    def edit_time_entry(
        self, visit_id: int, kind: str, change: wire.TimeEntryEdit, *, key: str | None = None
    ) -> list[wire.TimeEntryInfo]:
        return self._call(
            "PUT",
            f"/visits/{visit_id}/time-entries/{kind}",
            list[wire.TimeEntryInfo],
            change,
            idempotency_key=key or str(uuid.uuid4()),
        )

    def work_done(
        self, visit_id: int, body: wire.WorkDone, *, key: str | None = None, version: int | None = None
    ) -> wire.VisitState:
        return self._move(visit_id, "work-done", body, key, version)

    def sign_off(
        self, visit_id: int, body: wire.SignOffBody, *, key: str | None = None, version: int | None = None
    ) -> wire.SignedOff:
        return self._call(
            "POST",
            f"/visits/{visit_id}/sign-off",
            wire.SignedOff,
            body,
            idempotency_key=key or str(uuid.uuid4()),
            version=version,
        )

    def upload_photo(
        self,
        visit_id: int,
        data: bytes,
        *,
        category: str = "other",
        caption: str | None = None,
        taken_at: datetime | None = None,
        lat: float | None = None,
        lon: float | None = None,
        key: str | None = None,
    ) -> wire.PhotoInfo:
        form = {"category": category, "caption": caption, "lat": lat, "lon": lon}
        if taken_at is not None:
            form["taken_at"] = taken_at.isoformat()
        response = self.http.post(
            f"{BASE}/visits/{visit_id}/photos",
            headers=self._headers(idempotency_key=key or str(uuid.uuid4())),
            files={"file": ("photo", data, "application/octet-stream")},
            data={k: str(v) for k, v in form.items() if v is not None},
        )
        if response.status_code >= 400:
            raise MobileApiError(response.json())
        return msgspec.json.decode(response.content, type=wire.PhotoInfo)

    def _post(self, path: str, result: type[T], body: msgspec.Struct, key: str | None) -> T:
        return self._call("POST", path, result, body, idempotency_key=key or str(uuid.uuid4()))
