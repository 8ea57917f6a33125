"""The service desk's tables: contacts, every inbound message, comments, chat channels, knowledge, surveys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _ref(target: str, *, nullable: bool = True, index: bool = True) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


class CustomerContact(Base):
    """A person who speaks for a customer: how an e-mail, a call or a chat message finds its company."""

    __tablename__ = "customer_contacts"
    id: Mapped[int] = _pk()
    customer_id: Mapped[int] = _ref("customers.id", nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Stored lower-case: addresses are matched case-insensitively.
    email: Mapped[str | None] = mapped_column(sa.String(320), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # {"dingtalk": "staff id", "wecom": "userid", "json:<channel>": "sender"}
    im_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class CustomerProfile(Base):
    """Service-desk facts about a customer that core does not keep (e.g. high value → raised priority)."""

    __tablename__ = "customer_profiles"
    customer_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("customers.id"), primary_key=True)
    vip: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    note: Mapped[str | None] = mapped_column(sa.String(500))


class InboundMessage(Base):
    """One received message on any channel, kept whatever happens to it: nothing a customer sends is lost."""

    __tablename__ = "inbound_messages"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = _pk()
    channel: Mapped[str] = mapped_column(sa.String(32))
    # The channel's own id (Message-ID, chat msgId): a redelivery is recognised, not stored twice.
    external_id: Mapped[str | None] = mapped_column(sa.String(400))
    sender: Mapped[str] = mapped_column(sa.String(320))
    sender_name: Mapped[str | None] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    # The raw message in the blob store (e-mail source), when there is one.
    raw_blob: Mapped[str | None] = mapped_column(sa.String(64))
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    # received → linked | threaded | duplicate | triage | ignored | dismissed
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    note: Mapped[str | None] = mapped_column(sa.String(500))
    auto_reply: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    customer_id: Mapped[int | None] = _ref("customers.id")
    contact_id: Mapped[int | None] = _ref("customer_contacts.id", index=False)
    site_id: Mapped[int | None] = _ref("sites.id", index=False)
    asset_id: Mapped[int | None] = _ref("assets.id", index=False)
    work_order_id: Mapped[int | None] = _ref("work_orders.id")
    proposal: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Message-ID of our acknowledgement: a reply's In-Reply-To/References finds the work order by it.
    ack_message_id: Mapped[str | None] = mapped_column(sa.String(400), index=True)
    received_at: Mapped[datetime]


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id", nullable=False)
    author: Mapped[str] = mapped_column(sa.String(200))
    # customer | agent | system
    author_kind: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    # Internal comments are never shown in the portal.
    internal: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    inbound_message_id: Mapped[int | None] = _ref("inbound_messages.id", index=False)
    created_at: Mapped[datetime]


class ChatChannel(Base):
    """A chat webhook: its adapter (message format + signature) and its shared secret."""

    __tablename__ = "chat_channels"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    adapter: Mapped[str] = mapped_column(sa.String(16))
    secret: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime]


class KbArticle(Base):
    __tablename__ = "kb_articles"
    id: Mapped[int] = _pk()
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # draft | published
    status: Mapped[str] = mapped_column(sa.String(16))
    # internal | public
    visibility: Mapped[str] = mapped_column(sa.String(16))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    asset_models: Mapped[list[Any]] = mapped_column(default=list)
    fault_codes: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    helpful_yes: Mapped[int] = mapped_column(sa.Integer, default=0)
    helpful_no: Mapped[int] = mapped_column(sa.Integer, default=0)
    views: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class KbTerm(Base):
    """The search index (servicedesk.knowledge_index): which articles hold a term, and how strongly."""

    __tablename__ = "kb_terms"
    term: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        IdType, sa.ForeignKey("kb_articles.id"), primary_key=True, index=True
    )
    weight: Mapped[int] = mapped_column(sa.Integer)


class KbArticleVersion(Base):
    __tablename__ = "kb_article_versions"
    article_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("kb_articles.id"), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    author: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]


class SurveyInvitation(Base):
    """A signed, single-use, expiring link; the token itself is never stored, only its hash."""

    __tablename__ = "survey_invitations"
    id: Mapped[int] = _pk()
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    work_order_id: Mapped[int] = _ref("work_orders.id", nullable=False)
    customer_id: Mapped[int] = _ref("customers.id", nullable=False, index=False)
    contact_email: Mapped[str] = mapped_column(sa.String(320), index=True)
    engineer_id: Mapped[int | None] = _ref("engineers.id", index=False)
    channel: Mapped[str] = mapped_column(sa.String(16))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    id: Mapped[int] = _pk()
    invitation_id: Mapped[int] = mapped_column(IdType, sa.ForeignKey("survey_invitations.id"), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    score: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    work_order_id: Mapped[int] = _ref("work_orders.id", nullable=False, index=False)
    customer_id: Mapped[int] = _ref("customers.id", nullable=False)
    engineer_id: Mapped[int | None] = _ref("engineers.id", index=False)
    channel: Mapped[str] = mapped_column(sa.String(16))
    answered_at: Mapped[datetime]


class TicketAttachment(Base):
    """A file a customer added to their work order in the portal (photos first), kept in the blob store."""

    __tablename__ = "ticket_attachments"
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id", nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200))
    # What the bytes are (sniffed), never what the uploader said.
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    blob: Mapped[str] = mapped_column(sa.String(64))
    author: Mapped[str] = mapped_column(sa.String(200))
    # customer | agent
    author_kind: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime]


class KbSuggestionRead(Base):
    """A customer opened an article the portal suggested while they were writing a request.

    If no request follows within the deflection window (or they say it helped) the article answered the
    question: a deflection. A request opened after it records which work order came anyway.
    """

    __tablename__ = "kb_suggestion_reads"
    id: Mapped[int] = _pk()
    article_id: Mapped[int] = _ref("kb_articles.id", nullable=False)
    customer_id: Mapped[int] = _ref("customers.id", nullable=False)
    user_id: Mapped[int | None] = _ref("users.id", index=False)
    read_at: Mapped[datetime]
    helpful: Mapped[bool | None] = mapped_column(sa.Boolean)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", index=False)
    submitted_at: Mapped[datetime | None]
