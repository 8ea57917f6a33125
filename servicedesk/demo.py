"""Service-desk demo data, for `fieldops demo` to call after the core demo (customers and work orders exist).

Contacts and a portal user per customer, one VIP, knowledge articles in Chinese and English (public
and internal), two chat channels with known demo secrets, and survey answers on completed work orders.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sqlalchemy as sa

from core.services import users
from core.services.context import Role, ServiceContext
from core.store.models import Customer, WorkOrder
from servicedesk import contacts, desk, knowledge, surveys
from servicedesk.config import DeskConfig

# Published demo credentials, like the core demo's: a demo database is not for production.
DEMO_SECRETS = {"portal": "customer-demo", "chat": "demo-chat-secret-change-me"}
PORTAL_PASSWORD = DEMO_SECRETS["portal"]
DEMO_CHANNEL_SECRET = DEMO_SECRETS["chat"]

ARTICLES: list[knowledge.ArticleInput] = [
    knowledge.ArticleInput(
        title="冷水机高压报警的处理步骤",
        body=(
            "## 现象\n冷水机高压报警、停机。\n\n"
            "## 处理\n1. 检查冷却水流量与冷却塔风机。\n2. 冷凝器结垢时安排清洗。"
        ),
        status="published",
        visibility="public",
        tags=["冷水机", "报警"],
        fault_codes=["HP-01"],
    ),
    knowledge.ArticleInput(
        title="What to do when a lift stops between floors",
        body="Stay calm and press the alarm button. **Do not** force the doors; our engineer is on the way.",
        status="published",
        visibility="public",
        tags=["lift", "safety"],
    ),
    knowledge.ArticleInput(
        title="空调不制冷自查 / AC not cooling: self-check",
        body="先确认遥控器模式为制冷、滤网清洁；Check the mode is COOL and the filter is clean.",
        status="published",
        visibility="public",
        tags=["空调", "hvac"],
    ),
    knowledge.ArticleInput(
        title="控制器维修模式密码（内部）",
        body="仅限工程师：维修模式进入方法见内部手册第 4 章。",
        status="published",
        visibility="internal",
        tags=["internal"],
    ),
]


def seed(ctx: ServiceContext, cfg: DeskConfig, echo: Callable[[str], None] = print) -> None:
    echo("demo: service desk — contacts, portal users, knowledge base, chat channels, surveys")
    rng = random.Random(9)  # noqa: S311 (repeatable demo scores, not security)
    customers = list(ctx.session.scalars(sa.select(Customer).order_by(Customer.id)))
    for i, c in enumerate(customers):
        slug = c.code.lower()
        contacts.create_contact(
            ctx,
            contacts.ContactInput(
                customer_id=c.id,
                name=f"{c.name} 联系人",
                email=f"service@{slug}.example.com",
                phone=f"+86 139 0000 {i:04d}",
                im_ids={"dingtalk": f"{slug}-staff", "demo-json": slug},
            ),
        )
        users.create_user(
            ctx,
            users.UserInput(
                username=f"portal-{slug}",
                password=PORTAL_PASSWORD,
                role=Role.CUSTOMER,
                display_name=f"{c.name} (portal)",
                customer_id=c.id,
            ),
        )
    if customers:
        contacts.put_profile(ctx, customers[0].id, contacts.ProfileInput(vip=True, note="高价值客户优先响应"))
    for article in ARTICLES:
        knowledge.create(ctx, article)
    for name, adapter in (("dingtalk", "dingtalk"), ("demo-json", "json")):
        desk.create_channel(ctx, desk.ChannelInput(name=name, adapter=adapter, secret=DEMO_CHANNEL_SECRET))
    done = ctx.session.scalars(
        sa.select(WorkOrder).where(WorkOrder.status.in_(["completed", "closed"])).order_by(WorkOrder.id)
    )
    for n, wo in enumerate(done):
        kind: surveys.Kind = ("csat", "nps", "ces")[n % 3]
        invited = surveys.invite(
            ctx,
            cfg,
            surveys.InviteInput(
                work_order_id=wo.id, contact_email=f"survey{n}@demo.example.com", kind=kind, send=False
            ),
        )
        low, high = surveys.SCALES[kind]
        score = rng.choice([high, high, high - 1, (low + high) // 2, low + 1])
        surveys.answer(ctx, cfg, invited.token, surveys.AnswerInput(score=score))
    echo(f"demo: portal users portal-<customer code> / {PORTAL_PASSWORD}")
