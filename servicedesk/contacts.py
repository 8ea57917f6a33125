"""Customer contacts (who speaks for which company) and service profiles (VIP)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import Meta

from core.services.common import Email, Id, Input, Name, Phone, get_ref
from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import Customer
from servicedesk.models import CustomerContact, CustomerProfile

ImIds = Annotated[dict[str, Annotated[str, Meta(max_length=200)]], Meta(max_length=10)]


class ContactInput(Input):
    customer_id: Id
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    im_ids: ImIds = {}


class ProfileInput(Input):
    vip: bool = False
    note: Annotated[str, Meta(max_length=500)] | None = None


def normalise_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    # +86 138… and 138… are the same mobile number.
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def create_contact(ctx: ServiceContext, data: ContactInput) -> CustomerContact:
    get_ref(ctx.session, Customer, data.customer_id, "customer_id", "customer")
    contact = CustomerContact(
        customer_id=data.customer_id,
        name=data.name,
        email=data.email.strip().lower() if data.email else None,
        phone=normalise_phone(data.phone) if data.phone else None,
        im_ids=dict(data.im_ids),
        created_at=ctx.now(),
    )
    ctx.session.add(contact)
    ctx.session.flush()
    audit(ctx, "customer_contact", contact.id, "created", data={"customer_id": data.customer_id})
    ctx.session.commit()
    return contact


def list_contacts(ctx: ServiceContext, customer_id: int | None) -> list[CustomerContact]:
    query = sa.select(CustomerContact).order_by(CustomerContact.id)
    if customer_id is not None:
        query = query.where(CustomerContact.customer_id == customer_id)
    return list(ctx.session.scalars(query))


def by_email(ctx: ServiceContext, address: str) -> CustomerContact | None:
    if not address:
        return None
    return ctx.session.scalars(
        sa.select(CustomerContact)
        .where(CustomerContact.email == address.lower())
        .order_by(CustomerContact.id)
    ).first()


def by_phone(ctx: ServiceContext, phone: str) -> CustomerContact | None:
    number = normalise_phone(phone)
    if not number:
        return None
    return ctx.session.scalars(
        sa.select(CustomerContact).where(CustomerContact.phone == number).order_by(CustomerContact.id)
    ).first()


def by_im(ctx: ServiceContext, key: str, sender: str) -> CustomerContact | None:
    # im_ids is small JSON; contacts are few per company, so reading them is cheaper than a JSON index.
    for contact in ctx.session.scalars(sa.select(CustomerContact).order_by(CustomerContact.id)):
        if contact.im_ids.get(key) == sender:
            return contact
    return None


def put_profile(ctx: ServiceContext, customer_id: int, data: ProfileInput) -> CustomerProfile:
    get_ref(ctx.session, Customer, customer_id, "customer_id", "customer")
    profile = ctx.session.get(CustomerProfile, customer_id) or CustomerProfile(customer_id=customer_id)
    profile.vip = data.vip
    profile.note = data.note
    ctx.session.add(profile)
    audit(ctx, "customer", customer_id, "service_profile", data={"vip": data.vip})
    ctx.session.commit()
    return profile


def is_vip(ctx: ServiceContext, customer_id: int) -> bool:
    profile = ctx.session.get(CustomerProfile, customer_id)
    return bool(profile and profile.vip)


def contact_out(c: CustomerContact) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "im_ids": c.im_ids,
    }
