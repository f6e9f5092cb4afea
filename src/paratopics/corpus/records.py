"""The plain records that flow between modules, as they appear in JSON.

Their JSON Schemas are in schema/; these types are the same shapes for the
type checker. Records are plain dicts so that they serialize without glue.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

#: The earliest publication or judgement date accepted; the latest is tomorrow (UTC).
EARLIEST_DATE = dt.date(1800, 1, 1)


def date_out_of_range(day: str, today: dt.date | None = None) -> str | None:
    """Why the YYYY-MM-DD date that `day` starts with is not plausible, else None.

    Tomorrow, not today, bounds it so that a date in a time zone ahead of UTC passes;
    a record valid today stays valid (the bound only moves later)."""
    try:
        date = dt.date.fromisoformat(day[:10])
    except ValueError:
        return None  # the schema's format check reports it
    latest = (today or dt.datetime.now(dt.timezone.utc).date()) + dt.timedelta(days=1)
    if date < EARLIEST_DATE:
        return f"before {EARLIEST_DATE.isoformat()}"
    if date > latest:
        return f"after tomorrow ({latest.isoformat()}, UTC)"
    return None


ARTICLE_SCHEMA_VERSION = "1.1.0"
ANNOTATION_SCHEMA_VERSION = "1.0.0"
#: Earlier article schema versions still read, and the schema file each is checked
#: against. A 1.0.0 record has no `license` or `attribution`: it stays valid (a
#: minor version never invalidates data), validate warns about it, releases carry
#: nulls for it, and ingesting its source again rewrites it as the current version.
LEGACY_ARTICLE_SCHEMAS = {"1.0.0": "article-1.0.0.schema.json"}
#: The article schema version from which records carry `license` and `attribution`.
LICENSED_FROM = "1.1.0"

#: Paragraphs are joined with this separator to form the article body; the
#: paragraph offsets `start`/`end` index into that body.
BODY_SEPARATOR = "\n\n"


class Paragraph(TypedDict):
    index: int
    heading: str | None
    text: str
    sha256: str
    start: int
    end: int


class Provenance(TypedDict):
    path: str
    sha256: str
    format: str
    record: int | None


class Article(TypedDict):
    schema_version: str
    article_id: str
    source: str
    url: str | None
    title: str
    authors: list[str]
    published: str
    section: str | None
    language: str
    license: str
    attribution: str
    ingested_from: Provenance
    paragraphs: list[Paragraph]


class _AnnotationRequired(TypedDict):
    article_id: str
    paragraph_index: int
    paragraph_sha256: str
    labels: list[str]
    annotator: str
    created: str


class Annotation(_AnnotationRequired, total=False):
    """One annotator's judgement of one paragraph (one JSON line)."""

    role: str
    confidence: float
    note: str


def article_body(article: Article) -> str:
    return BODY_SEPARATOR.join(p["text"] for p in article["paragraphs"])
