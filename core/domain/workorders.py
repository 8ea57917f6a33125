"""Work-order vocabulary: where it came from, what kind of job, how urgent."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    TELEMETRY = "telemetry"
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    PORTAL = "portal"
    CHAT = "chat"
    MANUAL = "manual"


class Kind(StrEnum):
    CORRECTIVE = "corrective"
    PREDICTIVE = "predictive"
    PREVENTIVE = "preventive"
    INSTALLATION = "installation"


class Priority(StrEnum):
    """P1 is the most urgent. Stored as its number so that sorting by urgency is sorting by value."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])

    @classmethod
    def of(cls, rank: int) -> Priority:
        return cls(f"P{rank}")


def effective_priority(requested: Priority, contract_floor: int | None) -> Priority:
    """A contract can promise faster service: its floor raises (never lowers) the urgency."""
    if contract_floor is None:
        return requested
    return Priority.of(min(requested.rank, contract_floor))
