"""What admins set up and dispatchers consult: territories, skills, SLA policies, asset models, users."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody

from api.access import needs
from api.deps import Ctx
from api.views import AssetModelOut, SkillOut, SlaPolicyOut, TerritoryOut, UserOut, view
from core.services import setup, users
from core.services.common import get_or_404
from core.store.models import AssetModel, Skill, SlaPolicy, Territory, User

READ, WRITE = needs("setup.read"), needs("setup.write")


class SetupController(Controller):
    tags = ["setup"]

    @get("/territories", opt=READ, sync_to_thread=True)
    def list_territories(self, ctx: Ctx) -> list[TerritoryOut]:
        return [
            view(t, TerritoryOut) for t in ctx.session.scalars(sa.select(Territory).order_by(Territory.id))
        ]

    @post("/territories", opt=WRITE, sync_to_thread=True)
    def create_territory(self, ctx: Ctx, data: JSONBody[setup.TerritoryInput]) -> TerritoryOut:
        return view(setup.create_territory(ctx, data), TerritoryOut)

    @get("/territories/{territory_id:int}", opt=READ, sync_to_thread=True)
    def get_territory(self, ctx: Ctx, territory_id: FromPath[int]) -> TerritoryOut:
        return view(get_or_404(ctx.session, Territory, territory_id, "territory"), TerritoryOut)

    @patch("/territories/{territory_id:int}", opt=WRITE, sync_to_thread=True)
    def update_territory(
        self, ctx: Ctx, territory_id: FromPath[int], data: JSONBody[setup.TerritoryPatch]
    ) -> TerritoryOut:
        return view(setup.update_territory(ctx, territory_id, data), TerritoryOut)

    @get("/skills", opt=READ, sync_to_thread=True)
    def list_skills(self, ctx: Ctx) -> list[SkillOut]:
        return [view(s, SkillOut) for s in ctx.session.scalars(sa.select(Skill).order_by(Skill.code))]

    @post("/skills", opt=WRITE, sync_to_thread=True)
    def create_skill(self, ctx: Ctx, data: JSONBody[setup.SkillInput]) -> SkillOut:
        return view(setup.create_skill(ctx, data), SkillOut)

    @get("/sla-policies", opt=READ, sync_to_thread=True)
    def list_sla_policies(self, ctx: Ctx) -> list[SlaPolicyOut]:
        rows = ctx.session.scalars(sa.select(SlaPolicy).order_by(SlaPolicy.tier, SlaPolicy.priority))
        return [view(p, SlaPolicyOut) for p in rows]

    @put("/sla-policies", opt=WRITE, sync_to_thread=True)
    def put_sla_policy(self, ctx: Ctx, data: JSONBody[setup.SlaPolicyInput]) -> SlaPolicyOut:
        """Create or replace the targets for one (tier, priority)."""
        return view(setup.put_sla_policy(ctx, data), SlaPolicyOut)

    @get("/asset-models", opt=READ, sync_to_thread=True)
    def list_asset_models(self, ctx: Ctx) -> list[AssetModelOut]:
        return [
            view(a, AssetModelOut) for a in ctx.session.scalars(sa.select(AssetModel).order_by(AssetModel.id))
        ]

    @post("/asset-models", opt=WRITE, sync_to_thread=True)
    def create_asset_model(self, ctx: Ctx, data: JSONBody[setup.AssetModelInput]) -> AssetModelOut:
        return view(setup.create_asset_model(ctx, data), AssetModelOut)

    @patch("/asset-models/{model_id:int}", opt=WRITE, sync_to_thread=True)
    def update_asset_model(
        self, ctx: Ctx, model_id: FromPath[int], data: JSONBody[setup.AssetModelPatch]
    ) -> AssetModelOut:
        return view(setup.update_asset_model(ctx, model_id, data), AssetModelOut)

    @get("/users", opt=needs("users.manage"), sync_to_thread=True)
    def list_users(self, ctx: Ctx) -> list[UserOut]:
        return [view(u, UserOut) for u in ctx.session.scalars(sa.select(User).order_by(User.id))]

    @post("/users", opt=needs("users.manage"), sync_to_thread=True)
    def create_user(self, ctx: Ctx, data: JSONBody[users.UserInput]) -> UserOut:
        return view(users.create_user(ctx, data), UserOut)
