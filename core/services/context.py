"""What every use case needs: the unit of work (a Session), the clock, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from core.domain.clock import Clock


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    ENGINEER = "engineer"
    DEVICE = "device"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    name: str
    role: Role
    engineer_id: int | None = None
    customer_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, name=name, role=Role.ADMIN)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    session: Session
    clock: Clock
    actor: Actor

    def now(self) -> datetime:
        return self.clock.now()
