"""The knowledge base's search index: an inverted index in one plain table, the same on SQLite and PostgreSQL.

Chinese has no spaces, so a Chinese run is indexed by its characters and its character bigrams (what the
CJK analyzers of search engines do); a query uses the bigrams of each run, or the character of a
one-character run. Other text is indexed by words. An article's asset models and fault codes are indexed
as prefixed terms (`model:…`, `fault:…`), so a work order's model and fault code are simply more query
terms with their own weight.

Ranking is BM25-like: each matched term adds idf × a saturating function of its weight in the article,
where a term counts three times in the title, twice in the tags and once in the body. Both backends
read the same rows and rank them with the same arithmetic here, so they answer in the same order.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from servicedesk.models import KbArticle, KbTerm

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9\-_.]*")
MAX_TERM = 64  # the column's width; longer "words" (hashes, URLs) are cut, still matching themselves
MAX_QUERY_TERMS = 24
TITLE, TAGS, BODY = 3, 2, 1
SATURATION = 1.2  # BM25's k1: the tenth mention of a term adds little over the third
MODEL_BOOST, FAULT_BOOST = 2.0, 4.0
K = TypeVar("K")


def _words(text: str) -> list[str]:
    return [w[:MAX_TERM] for w in _WORD.findall(text.lower()) if len(w) >= 2]


def _cjk_grams(text: str) -> list[str]:
    grams: list[str] = []
    for run in _CJK.findall(text):
        grams.extend(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def query_terms(text: str) -> list[str]:
    """The terms a typed query looks for, in order, without repeats."""
    out = _words(text)
    for run in _CJK.findall(text):
        out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return list(dict.fromkeys(out))[:MAX_QUERY_TERMS]


def model_term(code: str) -> str:
    return f"model:{code.lower()}"[:MAX_TERM]


def fault_term(code: str) -> str:
    # A device's "fault:E101" alarm and an article filed under "E101" mean the same fault.
    return f"fault:{code.lower().removeprefix('fault:')}"[:MAX_TERM]


def article_terms(
    title: str, body: str, tags: Iterable[str], asset_models: Iterable[str], fault_codes: Iterable[str]
) -> dict[str, int]:
    """Term → weight for one article."""
    weights: Counter[str] = Counter()
    tag_text = " ".join(tags)
    for text, weight in ((title, TITLE), (tag_text, TAGS), (body, BODY)):
        for term in (*_words(text), *_cjk_grams(text)):
            weights[term] += weight
    # Codes are searchable as words too (a dispatcher types "E101"), and boost as codes.
    for code in fault_codes:
        weights[fault_term(code)] = 1
        for term in _words(code):
            weights[term] += TAGS
    for code in asset_models:
        weights[model_term(code)] = 1
        for term in _words(code):
            weights[term] += TAGS
    return dict(weights)


def reindex(session: Session, article: KbArticle) -> None:
    """Replace the article's terms (in the caller's transaction, so the index never lags the article)."""
    session.execute(sa.delete(KbTerm).where(KbTerm.article_id == article.id))
    terms = article_terms(
        article.title, article.body, article.tags, article.asset_models, article.fault_codes
    )
    if terms:
        session.execute(
            sa.insert(KbTerm),
            [{"term": t, "article_id": article.id, "weight": w} for t, w in sorted(terms.items())],
        )


@dataclass(frozen=True, slots=True)
class Query:
    text_terms: Sequence[str]
    # Terms that raise an article's rank without being required (its model, the job's fault codes).
    boosts: Mapping[str, float]

    @classmethod
    def of(cls, text: str, asset_model: str | None = None, fault_codes: Iterable[str] = ()) -> Query:
        boosts = {fault_term(code): FAULT_BOOST for code in fault_codes if code}
        if asset_model:
            boosts[model_term(asset_model)] = MODEL_BOOST
        return cls(query_terms(text), boosts)

    def weights(self) -> dict[str, float]:
        out = dict.fromkeys(self.text_terms, 1.0)
        for term, boost in self.boosts.items():
            out[term] = out.get(term, 0.0) + boost
        return out


def rank(session: Session, query: Query, visible: sa.ColumnElement[bool]) -> list[tuple[int, float]]:
    """(article id, score), best first, over the articles `visible` admits. With text terms, an article
    must match at least one of them; with only boosts, any boosted article qualifies."""
    return rank_many(session, {0: query}, visible)[0]


def rank_many(
    session: Session, queries: Mapping[K, Query], visible: sa.ColumnElement[bool]
) -> dict[K, list[tuple[int, float]]]:
    """`rank` for several queries (e.g. every job of an engineer's day) in the same three statements."""
    wanted = {key: q.weights() for key, q in queries.items()}
    terms = sorted({t for w in wanted.values() for t in w})
    out: dict[K, list[tuple[int, float]]] = {key: [] for key in queries}
    if not terms:
        return out
    postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
    votes: dict[int, int] = {}
    for article_id, term, weight, net_votes in session.execute(
        sa.select(KbTerm.article_id, KbTerm.term, KbTerm.weight, KbArticle.helpful_yes - KbArticle.helpful_no)
        .join(KbArticle, KbArticle.id == KbTerm.article_id)
        .where(KbTerm.term.in_(terms), visible)
    ).tuples():
        postings[term].append((article_id, weight))
        votes[article_id] = net_votes
    if not postings:
        return out  # nothing matches: no need to weigh the terms
    total = session.scalar(sa.select(sa.func.count()).select_from(KbArticle)) or 0
    frequency = dict(
        session.execute(
            sa.select(KbTerm.term, sa.func.count())
            .where(KbTerm.term.in_(list(postings)))
            .group_by(KbTerm.term)
        )
        .tuples()
        .all()
    )
    for key, query in queries.items():
        scores: dict[int, float] = defaultdict(float)
        matched_text: set[int] = set()
        text_terms = set(query.text_terms)
        for term, query_weight in wanted[key].items():
            df = frequency.get(term, 1)
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            for article_id, weight in postings.get(term, ()):
                scores[article_id] += query_weight * idf * weight * (SATURATION + 1) / (weight + SATURATION)
                if term in text_terms:
                    matched_text.add(article_id)
        # "Did this help" nudges the order between near-equals; it never outweighs a matched term.
        ranked = [
            (article_id, score + 0.05 * math.tanh(votes[article_id] / 10))
            for article_id, score in scores.items()
            if not text_terms or article_id in matched_text
        ]
        out[key] = sorted(ranked, key=lambda pair: (-pair[1], pair[0]))
    return out
