"""Key dates → one reminder task each for the customer's account owner.

- contract renewal: `LEAD["renewal"]` days before the contract ends;
- warranty end: `LEAD["warranty"]` days before an asset's warranty ends;
- installation anniversary: `LEAD["anniversary"]` days before each full year since installation.

"Once each" is the task's `dedupe_key` (`keydate:<kind>:<id>:<date>`): any number of workers, any number
of passes, one task; a renewed contract or an extended warranty has a new date, hence a new reminder.
Dates come into view `LEAD` days ahead and stay in view `CATCH_UP` days after (a worker that was down
still reminds); older dates are history, not reminders. Days are the territory's calendar days.
With nobody holding the account-owner role for the customer, nothing is recorded and a later pass tries
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from automation import people
from automation.tasks import new_task
from core.services.context import ServiceContext
from core.store.models import Asset, Contract, Customer, Site, Territory

LEAD = {"renewal": 60, "warranty": 30, "anniversary": 14}
CATCH_UP = timedelta(days=7)


@dataclass
class KeyDateStats:
    reminded: int = 0
    unassigned: int = 0


@dataclass(frozen=True, slots=True)
class KeyDate:
    kind: str  # renewal | warranty | anniversary
    on: date
    customer_id: int
    territory_id: int | None
    subject_id: int
    title: str
    zone: ZoneInfo


def anniversary(installed: date, today: date) -> tuple[int, date]:
    """The next full-year anniversary on or after `today` (29 February falls on the 28th in other years)."""
    years = max(today.year - installed.year, 1)
    while True:
        try:
            on = installed.replace(year=installed.year + years)
        except ValueError:
            on = date(installed.year + years, 2, 28)
        if on >= today:
            return years, on
        years += 1


def due(ctx: ServiceContext) -> list[KeyDate]:
    """The key dates now in view (not yet filtered by whether they were reminded)."""
    s = ctx.session
    zones = {t: ZoneInfo(z) for t, z in s.execute(sa.select(Territory.id, Territory.timezone))}
    now = ctx.now()

    def zone(territory_id: int | None) -> ZoneInfo:
        return zones.get(territory_id, ZoneInfo("UTC")) if territory_id is not None else ZoneInfo("UTC")

    def today(territory_id: int | None) -> date:
        return now.astimezone(zone(territory_id)).date()

    out: list[KeyDate] = []
    first_site = (
        sa.select(Site.customer_id, sa.func.min(Site.territory_id).label("territory_id"))
        .group_by(Site.customer_id)
        .subquery()
    )
    horizon = now.date() + timedelta(days=LEAD["renewal"] + 1)
    for c_id, number, ends, cust, name, terr in s.execute(
        sa.select(
            Contract.id,
            Contract.number,
            Contract.ends_on,
            Contract.customer_id,
            Customer.name,
            first_site.c.territory_id,
        )
        .join(Customer, Customer.id == Contract.customer_id)
        .outerjoin(first_site, first_site.c.customer_id == Contract.customer_id)
        .where(Contract.ends_on <= horizon, Contract.ends_on >= now.date() - CATCH_UP - timedelta(days=1))
    ):
        if _in_view(ends, today(terr), LEAD["renewal"]):
            out.append(
                KeyDate(
                    "renewal",
                    ends,
                    cust,
                    terr,
                    c_id,
                    f"续约提醒 / contract {number} ({name}) ends {ends.isoformat()}: renew",
                    zone(terr),
                )
            )
    assets = s.execute(
        sa.select(
            Asset.id,
            Asset.serial,
            Asset.installed_on,
            Asset.warranty_ends_on,
            Site.customer_id,
            Customer.name,
            Site.territory_id,
        )
        .join(Site, Site.id == Asset.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(sa.or_(Asset.installed_on.is_not(None), Asset.warranty_ends_on.is_not(None)))
        .order_by(Asset.id)
    )
    for a_id, serial, installed, warranty, cust, name, terr in assets:
        local = today(terr)
        if warranty is not None and _in_view(warranty, local, LEAD["warranty"]):
            out.append(
                KeyDate(
                    "warranty",
                    warranty,
                    cust,
                    terr,
                    a_id,
                    f"保修到期 / warranty of {serial} ({name}) ends {warranty.isoformat()}: offer a contract",
                    zone(terr),
                )
            )
        if installed is not None:
            years, on = anniversary(installed, local - CATCH_UP)
            if _in_view(on, local, LEAD["anniversary"]):
                out.append(
                    KeyDate(
                        "anniversary",
                        on,
                        cust,
                        terr,
                        a_id,
                        f"安装{years}周年 / {years}-year anniversary of {serial} ({name}) "
                        f"on {on.isoformat()}: offer an inspection",
                        zone(terr),
                    )
                )
    return out


def _in_view(on: date, today: date, lead_days: int) -> bool:
    return today - CATCH_UP <= on <= today + timedelta(days=lead_days)


def run(ctx: ServiceContext) -> KeyDateStats:
    stats = KeyDateStats()
    now = ctx.now()
    for key_date in due(ctx):
        owner = people.holder(ctx.session, "account_owner", key_date.territory_id, key_date.customer_id)
        if owner is None:
            stats.unassigned += 1
            continue
        act_by = key_date.on - timedelta(days=LEAD[key_date.kind] // 2)
        task = new_task(
            ctx,
            title=key_date.title,
            kind="key_date",
            owner=owner,
            due_at=max(now, datetime.combine(act_by, time(9), tzinfo=key_date.zone)),
            customer_id=key_date.customer_id,
            work_order_id=None,
            notes=f"{key_date.kind} on {key_date.on.isoformat()}",
            dedupe_key=f"keydate:{key_date.kind}:{key_date.subject_id}:{key_date.on.isoformat()}",
        )
        stats.reminded += task is not None
    ctx.session.commit()
    return stats
