"""Service-desk fixtures: a real local SMTP sink for our mail, the real SMTP intake, two companies."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.engine import Engine

from core.domain.clock import FixedClock
from core.services import customers, users
from core.services.context import Role
from fieldops.commands.servicedesk import desk_config
from fieldops.settings import Settings
from fieldops.wiring import System, build_system
from servicedesk import contacts
from servicedesk.smtp_server import make_controller

# The console's real-browser fixtures (uvicorn on a free port, Debian's Chromium, the screenshot folder),
# used here by the portal's browser tests; `server` serves this package's `system` (with the mail sink).
from tests.world import PASSWORD, World


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sink:
    """What our outgoing mail server received."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def system(engine: Engine, clock: FixedClock, tmp_path: Path, sink: tuple[Sink, int]) -> System:
    settings = Settings(
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-of-sufficient-length-32b",
        smtp_url=f"smtp://127.0.0.1:{sink[1]}",
        mail_from="service@fieldops.test",
    )
    return build_system(settings, clock=clock, engine=engine)


@pytest.fixture
def intake_port(system: System) -> Iterator[int]:
    port = free_port()
    controller = make_controller(
        system.runtime.sessions, system.runtime.clock, desk_config(system), "127.0.0.1", port
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def desk(world: World) -> World:
    """The test world plus contacts for both companies and a portal user of the second company."""
    ids = world.ids
    with world.ctx().session as s:
        from core.services.context import Actor, ServiceContext

        ctx = ServiceContext(s, world.system.runtime.clock, Actor.system("test-setup"))
        ids["contact"] = contacts.create_contact(
            ctx,
            contacts.ContactInput(
                customer_id=ids["customer"],
                name="张经理",
                email="zhang@shanghai-tower.example",
                phone="+86 138 0000 0001",
                im_ids={"dingtalk": "staff-zhang", "acme-json": "zhang"},
            ),
        ).id
        ids["contact_b"] = contacts.create_contact(
            ctx,
            contacts.ContactInput(customer_id=ids["customer_b"], name="Bob", email="bob@acme.example"),
        ).id
        ids["asset_b"] = customers.create_asset(
            ctx, customers.AssetInput(site_id=ids["site_b"], asset_model_id=ids["model"], serial="AC-900")
        ).id
        users.create_user(
            ctx,
            users.UserInput(
                username="customer_b", password=PASSWORD, role=Role.CUSTOMER, customer_id=ids["customer_b"]
            ),
        )
    return world


def rows(system: System, model: Any) -> list[Any]:
    import sqlalchemy as sa

    with system.runtime.sessions() as s:
        return list(s.scalars(sa.select(model).order_by(model.id)))


def open_request(client: Any, headers: dict[str, str], **body: object) -> dict[str, Any]:
    r = client.post("/portal/requests", json={"description": "冷水机不制冷", **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def finish_job(client: Any, dispatcher: dict[str, str], wo_id: int, engineer_id: int, *, at: str) -> int:
    """Through the dispatcher's API: assign and release, then the visit to signed off (→ completed)."""
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(at)
    r = client.post(
        f"/work-orders/{wo_id}/visits",
        json={
            "engineer_id": engineer_id,
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(hours=2)).isoformat(),
            "dispatch": True,
        },
        headers=dispatcher,
    )
    assert r.status_code == 201, r.text
    visit_id = int(r.json()["id"])
    for step in ("accepted", "en_route", "on_site", "work_done", "signed_off"):
        moved = client.post(f"/visits/{visit_id}/transitions", json={"to": step}, headers=dispatcher)
        assert moved.status_code == 200, moved.text
    return visit_id


def wait_for(predicate: Any, seconds: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def raise_fault(system: System, asset_id: int, code: str, message: str) -> int:
    """A device's fault code, as ingest raises it: an alarm and its corrective work order (returned)."""
    from core.services.context import Actor, ServiceContext
    from iot import alarms
    from iot.contract import Severity
    from tests.conftest import T0

    rt = system.runtime
    with rt.sessions() as s:
        outcome = alarms.raise_alarm(
            ServiceContext(s, rt.clock, Actor.system("telemetry")),
            alarms.Signal(
                asset_id=asset_id,
                alarm_type=f"fault:{code}",
                source="fault_code",
                severity=Severity.MAJOR,
                message=message,
                at=T0,
                evidence={},
            ),
        )
    assert outcome.work_order_id is not None
    return outcome.work_order_id
