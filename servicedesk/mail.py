"""Reading an inbound e-mail defensively: always text, a sender and a verdict; never a crash."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

_REFERENCE = re.compile(r"\[?\b(WO-(\d{7,}))\b\]?")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")


@dataclass
class Attachment:
    filename: str
    declared_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str | None
    subject: str
    sender: str
    sender_name: str
    body: str
    in_reply_to: list[str]
    attachments: list[Attachment] = field(default_factory=list)
    auto_reason: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def reference_id(self) -> int | None:
        match = _REFERENCE.search(self.subject)
        return int(match.group(2)) if match else None


def parse(raw: bytes, envelope_from: str | None = None) -> ParsedMail:
    problems: list[str] = []
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if msg.defects:
        problems.extend(type(d).__name__ for d in msg.defects)
    name, addr = parseaddr(_header(msg, "From", problems))
    if not addr and envelope_from:
        addr = envelope_from
    refs = " ".join(filter(None, (msg.get("In-Reply-To"), msg.get("References"))))
    body, attachments = _walk(msg, problems)
    parsed = ParsedMail(
        message_id=(msg.get("Message-ID") or "").strip() or None,
        subject=_header(msg, "Subject", problems)[:500],
        sender=addr.strip().lower()[:320],
        sender_name=name[:200],
        body=body,
        in_reply_to=re.findall(r"<[^<>\s]+>", refs),
        attachments=attachments,
        problems=problems,
    )
    parsed.auto_reason = _auto_reason(msg, parsed, envelope_from)
    return parsed


def _header(msg: Message, name: str, problems: list[str]) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value)))).strip()
    except (LookupError, UnicodeDecodeError, ValueError) as exc:
        # Unknown charset or damaged encoded-word: keep what can be read rather than drop the header.
        problems.append(f"{name} header: {exc}")
        return _lenient_header(str(value))


def _lenient_header(value: str) -> str:
    parts: list[str] = []
    for chunk, charset in decode_header(value):
        if isinstance(chunk, str):
            parts.append(chunk)
        else:
            parts.append(_decode(chunk, charset))
    return "".join(parts).strip()


def _decode(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8", "gb18030"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _walk(msg: Message, problems: list[str]) -> tuple[str, list[Attachment]]:
    texts: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        try:
            payload = part.get_payload(decode=True)
        except Exception as exc:  # a damaged transfer encoding must not lose the rest of the message
            problems.append(f"part {ctype}: {exc}")
            continue
        if not isinstance(payload, bytes):
            continue
        if filename or part.get_content_disposition() == "attachment" or not ctype.startswith("text/"):
            if ctype in ("message/delivery-status", "message/rfc822"):
                continue
            try:
                name = str(make_header(decode_header(filename))) if filename else "attachment"
            except (LookupError, UnicodeDecodeError, ValueError):
                name = filename or "attachment"
            attachments.append(Attachment(name[:200], ctype, payload))
            continue
        charset = part.get_content_charset()
        text = _decode(payload, charset)
        if charset and _decode_fails(payload, charset):
            problems.append(f"unknown or wrong charset {charset!r}")
        (html if ctype == "text/html" else texts).append(text)
    body = "\n".join(t.strip() for t in texts if t.strip())
    if not body and html:
        body = re.sub(r"<[^>]+>", " ", "\n".join(html))
        body = re.sub(r"[ \t]+", " ", body).strip()
    return body[:20_000], attachments


def _decode_fails(data: bytes, charset: str) -> bool:
    try:
        data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return True
    return False


def _auto_reason(msg: Message, parsed: ParsedMail, envelope_from: str | None) -> str | None:
    """Why this mail is machine-made (RFC 3834 and the usual vendor headers), or None for a person."""
    auto_submitted = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if msg.get(header) is not None:
            return header
    if (msg.get("Return-Path") or "").strip() == "<>" or envelope_from == "":
        return "empty return path"
    local = parsed.sender.split("@", 1)[0]
    if local in _BOUNCE_SENDERS:
        return f"sender {local}"
    if msg.get_content_type() == "multipart/report":
        return "delivery status notification"
    return None
