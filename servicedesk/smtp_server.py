"""`fieldops intake smtp`: an SMTP server (aiosmtpd) that turns mail to the service address into tickets."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from core.domain.clock import Clock
from servicedesk.config import DeskConfig
from servicedesk.email_intake import receive_mail

log = structlog.get_logger(__name__)

# Above this the sender gets a clear 552 during DATA; nothing half-read is stored.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class IntakeHandler:
    def __init__(self, sessions: sessionmaker[DbSession], clock: Clock, cfg: DeskConfig) -> None:
        self.sessions = sessions
        self.clock = clock
        self.cfg = cfg

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", errors="replace")
        sender = envelope.mail_from or ""
        loop = asyncio.get_running_loop()
        try:
            # Database and blob work is blocking: off the event loop, so one slow mail never stalls others.
            received = await loop.run_in_executor(
                None, receive_mail, self.sessions, self.clock, self.cfg, raw, sender
            )
        except Exception:
            log.exception("smtp_intake_failed", mail_from=sender)
            # A temporary failure: the sending server keeps the mail and retries, so nothing is lost.
            return "451 4.3.0 Could not store the message now; please retry"
        return f"250 2.0.0 Stored as request {received.inbound_id}"


def make_controller(
    sessions: sessionmaker[DbSession], clock: Clock, cfg: DeskConfig, host: str, port: int
) -> Controller:
    handler = IntakeHandler(sessions, clock, cfg)
    kwargs: dict[str, Any] = {"data_size_limit": MAX_MESSAGE_BYTES, "enable_SMTPUTF8": True}
    return Controller(handler, hostname=host, port=port, **kwargs)
