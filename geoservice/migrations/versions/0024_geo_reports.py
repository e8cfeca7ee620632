"""Geological information (issue 12): the reports of geological studies, with access levels and search.

Revision ID: 0024_geo_reports
Revises: 0023_obligation_decisions
"""
from alembic import op

revision = "0024_geo_reports"
down_revision = "0023_obligation_decisions"
branch_labels = None
depends_on = None

UPGRADE: list[str] = [
    # Trigram similarity for misspelt and transliterated search words.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """
CREATE TABLE geo_reports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inventory text NOT NULL UNIQUE CHECK (length(inventory) BETWEEN 1 AND 100),
    -- The geological-studies feature's key (its study_id, the feature id in every version).
    study_key text NOT NULL CHECK (length(study_key) BETWEEN 1 AND 200),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 2000),
    title_lang text CHECK (title_lang IN ('kk', 'ru', 'en')),
    authors text[] NOT NULL DEFAULT '{}',
    organisation text CHECK (organisation IS NULL OR length(organisation) <= 500),
    year integer CHECK (year IS NULL OR year BETWEEN 1800 AND 2200),
    minerals text[] NOT NULL DEFAULT '{}',
    access_level text NOT NULL CHECK (access_level IN ('public', 'official-use', 'confidential')),
    authority text NOT NULL,
    -- The study's outline when the report was added (searching by place needs no layer version).
    outline geometry(MultiPolygon, 4326) NOT NULL CHECK (NOT ST_IsEmpty(outline)),
    -- Title, organisation and minerals (their kk/ru/en names), with Latin transliterations:
    -- what full-text and trigram search read.
    search_text text NOT NULL,
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector('russian', search_text)) STORED,
    added_by text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT clock_timestamp()
)""",
    "CREATE INDEX geo_reports_study ON geo_reports (study_key)",
    "CREATE INDEX geo_reports_outline ON geo_reports USING gist (outline)",
    "CREATE INDEX geo_reports_fts ON geo_reports USING gin (search_vector)",
    # Every word of the reports' search texts, once: a misspelt query word is matched against
    # these (trigram similarity on short words, fast) and searched as the words it resembles.
    """
CREATE TABLE geo_report_words (
    word text PRIMARY KEY CHECK (length(word) BETWEEN 1 AND 100)
)""",
    "CREATE INDEX geo_report_words_trgm ON geo_report_words USING gin (word gin_trgm_ops)",
    """
CREATE TABLE geo_report_files (
    report_id bigint NOT NULL REFERENCES geo_reports (id),
    document_id bigint NOT NULL UNIQUE REFERENCES documents (id),
    kind text NOT NULL CHECK (kind IN ('report', 'scan', 'appendix')),
    PRIMARY KEY (report_id, document_id)
)""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS geo_report_files, geo_reports, geo_report_words")
