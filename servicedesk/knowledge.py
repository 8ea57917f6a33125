"""Knowledge base: Markdown articles with versions, draft/published, internal/public, and ranked search
in Chinese and English (servicedesk.knowledge_index), the same on both backends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from core.domain.errors import NotFound
from core.services import annex
from core.services.common import Input, Name
from core.services.context import ServiceContext
from core.services.events import audit
from core.store.models import Asset, WorkOrder
from servicedesk import knowledge_index
from servicedesk.models import KbArticle, KbArticleVersion

Body = Annotated[str, Meta(min_length=1, max_length=100_000)]
Tag = Annotated[str, Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Meta(max_length=30)]
Status = Annotated[str, Meta(pattern="^(draft|published)$")]
Visibility = Annotated[str, Meta(pattern="^(internal|public)$")]


class ArticleInput(Input):
    title: Name
    body: Body
    status: Status = "draft"
    visibility: Visibility = "internal"
    tags: Tags = []
    asset_models: Tags = []
    fault_codes: Tags = []


class ArticlePatch(Input):
    title: Name | UnsetType = UNSET
    body: Body | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    visibility: Visibility | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    asset_models: Tags | UnsetType = UNSET
    fault_codes: Tags | UnsetType = UNSET


class FeedbackInput(Input):
    helpful: bool


def create(ctx: ServiceContext, data: ArticleInput) -> KbArticle:
    now = ctx.now()
    a = KbArticle(
        title=data.title,
        body=data.body,
        status=data.status,
        visibility=data.visibility,
        tags=list(data.tags),
        asset_models=list(data.asset_models),
        fault_codes=list(data.fault_codes),
        version=1,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(a)
    ctx.session.flush()
    knowledge_index.reindex(ctx.session, a)
    _snapshot(ctx, a)
    audit(ctx, "kb_article", a.id, "created", data={"status": a.status, "visibility": a.visibility})
    ctx.session.commit()
    return a


def update(ctx: ServiceContext, article_id: int, patch: ArticlePatch) -> KbArticle:
    a = get(ctx, article_id, public_only=False)
    for name in patch.__struct_fields__:
        value = getattr(patch, name)
        if value is not UNSET:
            setattr(a, name, list(value) if isinstance(value, list) else value)
    if patch.title is not UNSET or patch.body is not UNSET:
        a.version += 1
        _snapshot(ctx, a)
    knowledge_index.reindex(ctx.session, a)
    a.updated_at = ctx.now()
    audit(ctx, "kb_article", a.id, "updated", data={"version": a.version, "status": a.status})
    ctx.session.commit()
    return a


def _snapshot(ctx: ServiceContext, a: KbArticle) -> None:
    ctx.session.add(
        KbArticleVersion(
            article_id=a.id,
            version=a.version,
            title=a.title,
            body=a.body,
            author=ctx.actor.name,
            created_at=ctx.now(),
        )
    )


def get(ctx: ServiceContext, article_id: int, *, public_only: bool) -> KbArticle:
    a = ctx.session.get(KbArticle, article_id)
    if a is None or (public_only and (a.visibility != "public" or a.status != "published")):
        raise NotFound(f"article {article_id} does not exist")
    return a


def versions(ctx: ServiceContext, article_id: int) -> list[KbArticleVersion]:
    get(ctx, article_id, public_only=False)
    return list(
        ctx.session.scalars(
            sa.select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article_id)
            .order_by(KbArticleVersion.version)
        )
    )


def search(
    ctx: ServiceContext,
    query: str,
    *,
    public_only: bool,
    include_drafts: bool = False,
    asset_model: str | None = None,
    fault_codes: Iterable[str] = (),
    limit: int = 20,
) -> list[tuple[KbArticle, float]]:
    """Articles for a query, best first, with their scores; an empty query lists the newest."""
    visible: sa.ColumnElement[bool] = sa.true()
    if public_only:
        visible = sa.and_(visible, KbArticle.visibility == "public")
    if public_only or not include_drafts:
        visible = sa.and_(visible, KbArticle.status == "published")
    wanted = knowledge_index.Query.of(query, asset_model, fault_codes)
    if not wanted.text_terms and not wanted.boosts:
        newest = ctx.session.scalars(
            sa.select(KbArticle)
            .where(visible)
            .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
            .limit(limit)
        )
        return [(a, 0.0) for a in newest]
    top = knowledge_index.rank(ctx.session, wanted, visible)[:limit]
    by_id = {
        a.id: a
        for a in ctx.session.scalars(sa.select(KbArticle).where(KbArticle.id.in_([i for i, _ in top])))
    }
    return [(by_id[i], round(score, 4)) for i, score in top]


def suggest_for_work_order(
    ctx: ServiceContext, wo: WorkOrder, limit: int = 5
) -> list[tuple[KbArticle, float]]:
    """Articles for a job: its text, its asset's model, and the fault codes of what raised it."""
    codes = [f.code for f in annex.work_order_facts(ctx.session, [wo.id])[wo.id] if f.code]
    model = wo.asset.model.code if wo.asset else None
    text = f"{wo.title} {wo.description}"[:200]
    return search(ctx, text, public_only=False, asset_model=model, fault_codes=codes, limit=limit)


ADVICE_PER_JOB = 3


def advice_for_work_orders(session: Session, work_order_ids: Sequence[int]) -> dict[int, list[annex.Advice]]:
    """The annex reader: published articles (internal ones too: this is for staff) for each job, from its
    text, its asset's model and its fault codes, ranked for all the jobs in one go."""
    # Whoever shows the jobs has usually loaded them (with their assets) already: read those from the
    # session, and only the others from the database.
    loaded = [session.identity_map.get(identity_key(WorkOrder, i)) for i in work_order_ids]
    orders = [wo for wo in loaded if isinstance(wo, WorkOrder)]
    missing = [i for i, wo in zip(work_order_ids, loaded, strict=True) if not isinstance(wo, WorkOrder)]
    if missing:
        orders += session.scalars(
            sa.select(WorkOrder)
            .where(WorkOrder.id.in_(missing))
            .options(joinedload(WorkOrder.asset).joinedload(Asset.model))
        ).all()
    facts = annex.work_order_facts(session, [wo.id for wo in orders])
    queries = {
        wo.id: knowledge_index.Query.of(
            f"{wo.title} {wo.description}"[:200],
            wo.asset.model.code if wo.asset else None,
            [f.code for f in facts[wo.id] if f.code],
        )
        for wo in orders
    }
    ranked = knowledge_index.rank_many(session, queries, KbArticle.status == "published")
    top = {wo_id: found[:ADVICE_PER_JOB] for wo_id, found in ranked.items()}
    ids = sorted({article_id for found in top.values() for article_id, _ in found})
    if not ids:
        return {}
    articles = {a.id: a for a in session.scalars(sa.select(KbArticle).where(KbArticle.id.in_(ids)))}
    return {
        wo_id: [
            annex.Advice(
                source="servicedesk",
                ref=article_id,
                title=articles[article_id].title,
                excerpt=articles[article_id].body[:200],
                link=f"/knowledge/{article_id}",
                score=round(score, 4),
            )
            for article_id, score in found
        ]
        for wo_id, found in top.items()
    }


def feedback(ctx: ServiceContext, article_id: int, data: FeedbackInput, *, public_only: bool) -> KbArticle:
    a = get(ctx, article_id, public_only=public_only)
    column = KbArticle.helpful_yes if data.helpful else KbArticle.helpful_no
    # An UPDATE … SET n = n + 1: concurrent votes are all counted.
    ctx.session.execute(sa.update(KbArticle).where(KbArticle.id == a.id).values({column: column + 1}))
    ctx.session.commit()
    ctx.session.refresh(a)
    return a


def article_out(a: KbArticle, score: float | None = None, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "title": a.title,
        "status": a.status,
        "visibility": a.visibility,
        "tags": a.tags,
        "asset_models": a.asset_models,
        "fault_codes": a.fault_codes,
        "version": a.version,
        "helpful_yes": a.helpful_yes,
        "helpful_no": a.helpful_no,
        "updated_at": a.updated_at.isoformat(),
    }
    if full:
        out["body"] = a.body
    else:
        out["excerpt"] = a.body[:200]
    if score is not None:
        out["score"] = score
    return out
