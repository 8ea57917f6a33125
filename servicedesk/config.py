"""What the service desk needs from the composition root: blob storage, outgoing mail, a signing key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol


class Blobs(Protocol):
    """The part of the shared blob store we use (the store itself belongs to the composition root)."""

    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class DeskConfig:
    blobs: Blobs | None
    smtp_url: str
    mail_from: str
    # Signs survey links; the same secret that signs access tokens is fine (different message domain).
    secret: str
    duplicate_window: timedelta = timedelta(hours=48)
    duplicate_similarity: float = 0.3
    survey_ttl: timedelta = timedelta(days=14)
    survey_throttle: timedelta = timedelta(days=30)
    public_url: str = "http://127.0.0.1:8000"
    # The survey sent when a job is completed (None: none is sent automatically).
    auto_survey_kind: Literal["csat", "nps", "ces"] | None = "csat"
    # A suggested article read with no request from that person within this time counts as a deflection.
    deflection_window: timedelta = timedelta(hours=24)
