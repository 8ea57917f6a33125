"""Every error as an RFC 9457 problem document (application/problem+json), naming the field at fault."""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.orm.exc import StaleDataError

from core.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, StaleVersion
from core.domain.lifecycle import IllegalTransition, ReasonRequired

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
_STATUS = {NotFound: 404, Invalid: 422, Conflict: 409, StaleVersion: 412, Forbidden: 403}
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    412: "Stale version",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
}
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")
_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")
_AT_PATH = re.compile(r"\s*-\s*at `\$\.?(?P<path>[^`]*)`")


def problem(
    status: int, detail: str, *, slug: str | None = None, field: str | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"/problems/{slug or _TITLES.get(status, 'error').lower().replace(' ', '-')}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar reports msgspec errors as messages ending in "- at `$.a.b[0]`"; lift the path out."""
    missing = _MISSING_PARAMETER.search(str(exc.detail))
    if missing and not exc.extra:
        # A missing parameter comes with no details, only a sentence that names it.
        return [{"field": missing.group(2), "message": "is required", "source": missing.group(1)}]
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "invalid value"))
        match = _AT_PATH.search(message)
        if match:
            field, message = match.group("path"), message[: match.start()]
        else:
            # For bodies Litestar's key is just "data"; the path is in the message, if anywhere.
            field = "" if item.get("key") in (None, "data") else str(item.get("key"))
        # "Object missing required field `x`" is reported at the object; the field at fault is x.
        named = _NAMED_FIELD.search(message)
        if named:
            field = f"{field}.{named.group(1)}" if field else named.group(1)
        errors.append(
            {"field": field or "(body)", "message": message, "source": str(item.get("source", "body"))}
        )
    return errors


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, IllegalTransition):
        return problem(
            409,
            str(exc),
            slug="illegal-transition",
            current=exc.current,
            requested=exc.target,
            allowed=exc.allowed,
        )
    if isinstance(exc, ReasonRequired):
        return problem(422, str(exc), slug="reason-required", field="reason")
    if isinstance(exc, DomainError):
        status = (
            next(code for kind, code in _STATUS.items() if isinstance(exc, kind))
            if type(exc) is not DomainError
            else 400
        )
        return problem(status, exc.detail, field=exc.field)
    if isinstance(exc, StaleDataError):
        return problem(
            412, "someone else changed this at the same moment: reload and retry", slug="stale-version"
        )
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"field": None, "message": exc.detail}
        # 400: the request does not match the schema. (422 is kept for input that matches but breaks a rule.)
        detail = f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
        return problem(400, detail, slug="validation", field=first["field"], errors=errors)
    if isinstance(exc, HTTPException):
        return problem(exc.status_code, str(exc.detail))
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled_error", path=request.url.path, method=request.method, incident=incident)
    return problem(
        500,
        f"something went wrong on our side; quote incident {incident} when reporting it",
        incident=incident,
    )
