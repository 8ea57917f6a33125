"""Knowledge base: Markdown articles with versions, draft/published, internal/public, and search.

Search is the same on both backends: candidate rows by `LIKE` over a lower-cased search text, ranked here
by matched terms (title counts thrice). Chinese has no spaces, so a Chinese run is searched by its
character bigrams (a 1-character query by the character itself); English by words.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import NotFound
from core.services.common import Input, Name
from core.services.context import ServiceContext
from core.services.events import audit
from servicedesk.models import KbArticle, KbArticleVersion

Body = Annotated[str, Meta(min_length=1, max_length=100_000)]
Tag = Annotated[str, Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Meta(max_length=30)]
Status = Annotated[str, Meta(pattern="^(draft|published)$")]
Visibility = Annotated[str, Meta(pattern="^(internal|public)$")]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-_.]*")


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


def terms(query: str) -> list[str]:
    q = query.lower()
    out: list[str] = [w for w in _WORD.findall(q) if len(w) >= 2]
    for run in _CJK.findall(q):
        out.extend([run] if len(run) <= 2 else [run[i : i + 2] for i in range(len(run) - 1)])
    return list(dict.fromkeys(out))[:20]


def _search_text(a: KbArticle) -> str:
    return " ".join(
        [a.title, " ".join(a.tags), " ".join(a.fault_codes), " ".join(a.asset_models), a.body]
    ).lower()


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
    a.search_text = _search_text(a)
    ctx.session.add(a)
    ctx.session.flush()
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
    a.search_text = _search_text(a)
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
    fault_code: str | None = None,
    limit: int = 20,
) -> list[tuple[KbArticle, float]]:
    words = terms(query)
    q = sa.select(KbArticle)
    if public_only:
        q = q.where(KbArticle.visibility == "public")
    if public_only or not include_drafts:
        q = q.where(KbArticle.status == "published")
    if words:
        q = q.where(sa.or_(*(KbArticle.search_text.contains(w, autoescape=True) for w in words)))
    ranked: list[tuple[KbArticle, float]] = []
    for a in ctx.session.scalars(q.limit(500)):
        title = a.title.lower()
        score = sum(3.0 if w in title else 1.0 for w in words if w in a.search_text)
        if asset_model and asset_model in a.asset_models:
            score += 2
        if fault_code and fault_code in a.fault_codes:
            score += 4
        if words and score == 0:
            continue
        ranked.append((a, score + a.helpful_yes * 0.01 - a.helpful_no * 0.01))
    ranked.sort(key=lambda pair: (-pair[1], pair[0].id))
    return ranked[:limit]


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
