"""Outgoing mail (acknowledgements, survey links) through the `smtp_url` setting; failures are logged."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import structlog

log = structlog.get_logger(__name__)


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def compose(
    *,
    mail_from: str,
    to: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    # RFC 3834: marks our mail as automatic, so well-behaved auto-responders do not answer it.
    msg["Auto-Submitted"] = "auto-replied" if in_reply_to else "auto-generated"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(text)
    return msg


def send(smtp_url: str, msg: EmailMessage) -> bool:
    """Deliver `msg`; False (and a log line) when there is no server or it refuses, never an exception."""
    if not smtp_url:
        log.info("mail_not_sent_no_smtp_url", to=msg["To"], subject=msg["Subject"])
        return False
    parts = urlsplit(smtp_url)
    try:
        with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=15) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls()
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail_send_failed", to=msg["To"], error=str(exc))
        return False
    log.info("mail_sent", to=msg["To"], subject=msg["Subject"])
    return True
