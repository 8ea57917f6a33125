"""Errors a use case can raise; the API maps each to one HTTP status and an RFC 9457 problem."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. `field` names the input at fault when there is one (as a JSON path, e.g. `site_id`)."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know it exists (404)."""


class Invalid(DomainError):
    """Well-formed input that breaks a rule (422)."""


class Conflict(DomainError):
    """The request clashes with the current state (409)."""


class StaleVersion(DomainError):
    """The caller's copy is out of date (412)."""


class Forbidden(DomainError):
    """Authenticated, but this role may not do this (403)."""
