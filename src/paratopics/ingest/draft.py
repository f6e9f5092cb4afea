"""What every door yields: a `Draft` (an article as parsed, before ids and hashes) and,
per file, a `Parsed` (its drafts and the problems of its bad records).

Kept apart from the doors and from the writer so that both import it and neither
imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paratopics.errors import Problem


@dataclass
class Draft:
    """An article as parsed, before it gets its id, hashes and offsets."""

    source: str
    title: str
    authors: list[str]
    published: str
    paragraphs: list[tuple[str | None, str]]
    url: str | None = None
    section: str | None = None
    language: str = "en"
    record: int | None = None
    #: the licence and attribution the input itself states (a JSON record's fields,
    #: a page's licence link), which nothing overrides
    license: str | None = None
    attribution: str | None = None
    #: the door's per-source default, used when neither the input nor --license says
    default_license: str | None = None
    default_attribution: str | None = None


@dataclass(frozen=True)
class Licensing:
    """`ingest --license ID --attribution TEXT`: the terms of articles whose input
    states none. `{url}` in the attribution becomes each article's URL."""

    license: str | None = None
    attribution: str | None = None


@dataclass
class Parsed:
    """Everything one raw file yielded: drafts and the problems of its bad records."""

    format: str
    drafts: list[Draft] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
