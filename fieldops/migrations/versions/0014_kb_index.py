"""service desk: the knowledge base's inverted search index replaces the LIKE-scanned search text

Revision ID: 0014_kb_index
Revises: 0012_servicedesk_more
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014_kb_index"
down_revision = "0012_servicedesk_more"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _list(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def upgrade() -> None:
    op.create_table(
        "kb_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name=op.f("fk_kb_terms_article_id_kb_articles")
        ),
        sa.PrimaryKeyConstraint("term", "article_id", name=op.f("pk_kb_terms")),
    )
    op.create_index(op.f("ix_kb_terms_article_id"), "kb_terms", ["article_id"], unique=False)
    # Index the articles already there with today's tokenizer (a later tokenizer change reindexes too).
    from servicedesk.knowledge_index import article_terms

    bind = op.get_bind()
    articles = bind.execute(
        sa.text("SELECT id, title, body, tags, asset_models, fault_codes FROM kb_articles")
    ).all()
    terms = sa.table("kb_terms", sa.column("term"), sa.column("article_id"), sa.column("weight"))
    for a in articles:
        weights = article_terms(a.title, a.body, _list(a.tags), _list(a.asset_models), _list(a.fault_codes))
        if weights:
            bind.execute(
                sa.insert(terms), [{"term": t, "article_id": a.id, "weight": w} for t, w in weights.items()]
            )
    # Both backends drop a column in place (SQLite since 3.35): no table rebuild under the foreign keys.
    op.execute("ALTER TABLE kb_articles DROP COLUMN search_text")


def downgrade() -> None:
    op.add_column("kb_articles", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.drop_index(op.f("ix_kb_terms_article_id"), table_name="kb_terms")
    op.drop_table("kb_terms")
