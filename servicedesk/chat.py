"""Chat webhooks: per-channel adapters that check the signature and read the message.

- `dingtalk`: DingTalk outgoing robot. Headers `timestamp` (ms) and `sign` =
  base64(HMAC-SHA256(key=app secret, msg=f"{timestamp}\\n{app secret}")); a timestamp more than an hour
  away is refused. Body: {"msgtype": "text", "text": {"content"}, "msgId", "senderStaffId"/"senderId",
  "senderNick", …}.
- `json`: any tool that can sign. Headers `X-Fieldops-Timestamp` (Unix seconds) and
  `X-Fieldops-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`; body
  {"message_id", "sender", "sender_name"?, "text", "subject"?}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core.domain.errors import Invalid

ADAPTERS = ("dingtalk", "json")
_SKEW_SECONDS = 3600


class SignatureRejected(Exception):
    """The request is not from the channel's owner (or is too old to trust)."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    external_id: str
    sender: str
    sender_name: str | None
    text: str
    subject: str


class _DingText(msgspec.Struct, frozen=True):
    content: Annotated[str, Meta(max_length=20_000)] = ""


class _DingTalk(msgspec.Struct):
    msgId: Annotated[str, Meta(min_length=1, max_length=200)]  # noqa: N815 (the vendor's field names)
    text: _DingText = _DingText()
    msgtype: str = "text"
    senderStaffId: str | None = None  # noqa: N815
    senderId: str | None = None  # noqa: N815
    senderNick: str | None = None  # noqa: N815


class _Json(msgspec.Struct, forbid_unknown_fields=True):
    message_id: Annotated[str, Meta(min_length=1, max_length=200)]
    sender: Annotated[str, Meta(min_length=1, max_length=200)]
    text: Annotated[str, Meta(min_length=1, max_length=20_000)]
    sender_name: Annotated[str, Meta(max_length=200)] | None = None
    subject: Annotated[str, Meta(max_length=500)] = ""


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def json_sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def _fresh(timestamp_s: float, now: datetime) -> None:
    if abs(now.timestamp() - timestamp_s) > _SKEW_SECONDS:
        raise SignatureRejected("timestamp too far from now")


def read(adapter: str, secret: str, headers: dict[str, str], body: bytes, now: datetime) -> ChatMessage:
    if adapter == "dingtalk":
        ts, sign = headers.get("timestamp", ""), headers.get("sign", "")
        if not ts.isdigit() or not hmac.compare_digest(sign, dingtalk_sign(secret, ts)):
            raise SignatureRejected("bad DingTalk signature")
        _fresh(int(ts) / 1000, now)
        ding = _decode(body, _DingTalk)
        sender = ding.senderStaffId or ding.senderId or "unknown"
        text = ding.text.content.strip()
        return ChatMessage(
            ding.msgId, sender, ding.senderNick, text, text.splitlines()[0][:200] if text else ""
        )
    if adapter == "json":
        ts, sign = headers.get("x-fieldops-timestamp", ""), headers.get("x-fieldops-signature", "")
        if not ts.isdigit() or not hmac.compare_digest(sign, json_sign(secret, ts, body)):
            raise SignatureRejected("bad signature")
        _fresh(int(ts), now)
        msg = _decode(body, _Json)
        return ChatMessage(msg.message_id, msg.sender, msg.sender_name, msg.text, msg.subject)
    raise Invalid(f"unknown adapter {adapter!r}", field="adapter")


def _decode(body: bytes, type_: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        raise Invalid(f"the message does not match the channel's format: {exc}", field="body") from exc
    except msgspec.DecodeError as exc:
        raise Invalid("the body is not JSON", field="body") from exc


def reply_for(adapter: str, reference: str | None, outcome: str) -> dict[str, Any]:
    """What the chat tool shows back to the sender (DingTalk posts a robot's JSON reply into the chat)."""
    text = (
        f"已收到，工单 {reference} / Received: {reference}"
        if reference
        else "已收到，客服将尽快处理 / Received; an agent will follow up"
    )
    if adapter == "dingtalk":
        return {"msgtype": "text", "text": {"content": text}}
    return {"outcome": outcome, "reference": reference, "message": text}
