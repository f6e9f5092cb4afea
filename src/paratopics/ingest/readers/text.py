"""The text door: page dumps in the GlobalSecurity.org layout (banner, section, title,
byline, body with subheadings, footer), one article per file.

A layout is data (`Layout`), not code, so that another site with the same shape
needs a new instance, not a new parser.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from paratopics.corpus import licences
from paratopics.errors import fail
from paratopics.ingest.draft import Draft, Parsed
from paratopics.ingest.normalize import normalize_document, text_blocks
from paratopics.ingest.readers.base import Reader, decode


@dataclass(frozen=True)
class Layout:
    """What a GlobalSecurity.org text dump looks like; one instance per site layout."""

    source: str = "globalsecurity.org"
    banner: tuple[str, ...] = (r"^UNITED24\b", r"^Make a charitable donation", r"^Support Ukraine")
    footer: tuple[str, ...] = (
        r"^Join the GlobalSecurity\.org mailing list",
        r"^Copyright\b",
        r"^©",
        r"^Site Map\b",
        r"^Privacy Policy\b",
    )
    byline: str = (
        r"^By\s+(?P<authors>.+?)\s+(?P<date>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
        r"[a-z]*\.?\s+\d{1,2},\s+\d{4})$"
    )
    dateline: str = (
        r"^(?P<date>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},\s+\d{4})$"
    )
    max_heading_words: int = 8
    #: The terms of the pages this layout reads, when the input states none (a text
    #: dump keeps no licence line). GlobalSecurity.org republishes Voice of America
    #: reports, and those are the only dumps in the corpus; for any other page pass
    #: --license and --attribution, which take precedence (docs/sources.md).
    license: str = licences.VOA_PUBLIC_DOMAIN
    #: `{authors}` is the byline; the dump does not record the page's own URL.
    attribution: str = ("{authors}Voice of America, as republished by GlobalSecurity.org, "
                        "https://www.globalsecurity.org/")


GLOBALSECURITY = Layout()

# A heading never ends like a sentence nor opens with a quote.
_CLOSERS = ".!?:;,\"')\u00bb\u201d\u2019"
_OPENERS = "\"'(\u00ab\u201c\u2018"


def _parse_date(text: str) -> str:
    cleaned = re.sub(r"\.", "", text).replace("Sept ", "Sep ")
    for fmt in ("%B %d, %Y", "%b %d, %Y"):
        try:
            return dt.datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(text)


def _split_authors(text: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+and\s+|\s*&\s*", text)
    return [p for p in (part.strip() for part in parts) if p]


def _is_heading(block: str, layout: Layout) -> bool:
    words = block.split()
    return (
        0 < len(words) <= layout.max_heading_words
        and block[-1] not in _CLOSERS
        and block[0] not in _OPENERS
        and not block.startswith("- ")
    )


def parse_globalsecurity(text: str, file: str, layout: Layout = GLOBALSECURITY) -> Draft:
    blocks = text_blocks(normalize_document(text))
    blocks = [b for b in blocks if not any(re.search(p, b) for p in layout.banner)]
    while blocks and any(re.search(p, blocks[-1]) for p in layout.footer):
        blocks.pop()
    byline = next(
        (i for i, b in enumerate(blocks)
         if re.match(layout.byline, b) or re.match(layout.dateline, b)),
        None,
    )
    if byline is None:
        raise fail("no-byline", file=file,
                   detail="expected a line like 'By NAME Month DD, YYYY' after the title")
    if byline == 0:
        raise fail("no-byline", file=file, detail="the byline has no title above it")
    match = re.match(layout.byline, blocks[byline]) or re.match(layout.dateline, blocks[byline])
    assert match is not None
    try:
        published = _parse_date(match.group("date"))
    except ValueError:
        raise fail("no-byline", file=file,
                   detail=f"the byline's date {match.group('date')!r} is not a real date") from None
    authors = _split_authors(match.groupdict().get("authors") or "")
    title = blocks[byline - 1]
    section = blocks[byline - 2] if byline >= 2 else None
    paragraphs: list[tuple[str | None, str]] = []
    heading: str | None = None
    body = blocks[byline + 1:]
    for i, block in enumerate(body):
        followed_by_text = i + 1 < len(body) and not _is_heading(body[i + 1], layout)
        if _is_heading(block, layout) and followed_by_text and paragraphs:
            heading = block
        else:
            paragraphs.append((heading, block))
    if not paragraphs:
        raise fail("no-body", file=file)
    credit = ", ".join(authors) + ", " if authors else ""
    return Draft(source=layout.source, title=title, authors=authors, published=published,
                 paragraphs=paragraphs, section=section, default_license=layout.license,
                 default_attribution=layout.attribution.format(authors=credit))


class TextReader(Reader):
    """Any file no other door claims: the text door is the fallback."""

    format = "globalsecurity"

    def claims(self, name: str, fmt: str, raw: bytes) -> bool:
        return True

    def read(self, raw: bytes, file: str, fmt: str, source: str | None,
             max_line_bytes: int) -> Parsed:
        return Parsed(format=fmt if fmt != "auto" else self.format,
                      drafts=[parse_globalsecurity(decode(raw, file), file)])
