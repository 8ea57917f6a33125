"""Domain events: facts others care about, recorded with the change that caused them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """`type` is dotted, subject first (e.g. `work_order.transitioned`); `data` is JSON-able.

    `id` lets at-least-once consumers (webhooks, ERP sync) deduplicate.
    """

    type: str
    subject_type: str
    subject_id: int
    occurred_at: datetime
    data: dict[str, Any]
    actor: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
