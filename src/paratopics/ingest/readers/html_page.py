"""The HTML page door: a saved article page (`.html`) to one article.

A news page is mostly not the article: navigation, cookie banners, share
bars, related links, comments. `trafilatura` is made to find the main text
and the page's metadata (title, authors, date, canonical URL), so this door
asks it for its XML output, which keeps headings (<head>) apart from
paragraphs (<p>, list items), and turns that into a draft. A page where it
finds no article body is refused, not stored as an empty shell.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from paratopics.corpus import licences
from paratopics.errors import ParatopicsError, fail
from paratopics.ingest.draft import Draft, Parsed
from paratopics.ingest.normalize import normalize_paragraph
from paratopics.ingest.readers.base import Reader, decode

HTML_SUFFIXES = frozenset((".html", ".htm", ".xhtml"))
_LANG = re.compile(rb"<html[^>]*?\slang=[\"']?([a-zA-Z]{2,3})\b")
#: A licence link: <link rel="license" href> in the head, <a rel="license" href> in the page.
_LICENCE_LINK = re.compile(rb"<(?:a|link)\b[^>]*?\brel=[\"']?[^\"'>]*\blicense\b[^>]*>", re.I)
_HREF = re.compile(rb"\bhref=[\"']?([^\"'\s>]+)", re.I)
#: Fewer characters of main text than this is a teaser or an index page, not an article.
MIN_BODY_CHARS = 200


def is_html_page(name: str, fmt: str) -> bool:
    from pathlib import Path

    return fmt == "html" or (fmt == "auto" and Path(name).suffix.lower() in HTML_SUFFIXES)


def _paragraphs(main: object, title: str) -> list[tuple[str | None, str]]:
    """(heading, text) of trafilatura's <main>: heads become headings (the page's
    own <h1> repeating the title is not one), the rest text."""
    out: list[tuple[str | None, str]] = []
    heading: str | None = None
    for element in main.iter("head", "p", "item", "quote", "row"):  # type: ignore[attr-defined]
        if element.tag in ("p", "quote") and element.getparent() is not None \
                and element.getparent().tag in ("item", "quote", "cell"):
            continue  # its text is read with its container
        text = normalize_paragraph(" ".join(element.itertext()))
        if not text:
            continue
        if element.tag == "head":
            heading = None if text == title else text
        else:
            out.append((heading, text))
    return out


def page_licence(raw: bytes, named: str | None) -> str | None:
    """The SPDX id of the licence the page states: a rel="license" link to a Creative
    Commons licence, else trafilatura's reading of one (`named`); never a guess."""
    for tag in _LICENCE_LINK.finditer(raw):
        href = _HREF.search(tag.group(0))
        found = licences.from_url(href.group(1).decode("ascii", "replace")) if href else None
        if found:
            return found
    return licences.from_text(named)


def parse_html_page(raw: bytes, file: str, source: str | None = None) -> Draft:
    """One saved page to a draft, or a ParatopicsError saying why it is not an article."""
    import lxml.etree
    import trafilatura


    extracted = trafilatura.extract(raw, output_format="xml", with_metadata=True,
                                    include_comments=False, include_tables=True,
                                    favor_precision=True,
                                    # no guessing from a copyright line or the clock
                                    date_extraction_params={"extensive_search": False,
                                                            "original_date": True})
    if not extracted:
        raise fail("html-no-article", file=file, detail="no main text was found")
    root = lxml.etree.fromstring(extracted.encode("utf-8"))
    main = root.find("main")
    title = normalize_paragraph(root.get("title") or "")
    paragraphs = _paragraphs(main, title) if main is not None else []
    size = sum(len(text) for _, text in paragraphs)
    if size < MIN_BODY_CHARS:
        raise fail("html-no-article", file=file,
                   detail=f"the main text is {size} characters, under {MIN_BODY_CHARS}")
    if not title:
        raise fail("html-no-article", file=file, detail="the page has no title")
    date = (root.get("date") or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise fail("html-no-article", file=file,
                   detail="no publication date was found (no date meta tag, <time> or dateline)")
    url = (root.get("url") or "").strip() or None
    host = urlsplit(url or "").hostname or ""
    name = source or (host[4:] if host.startswith("www.") else host) or root.get("sitename")
    if not name:
        raise fail("html-no-article", file=file,
                   detail="the page names no site or URL; pass --source NAME")
    authors = [normalize_paragraph(a) for a in re.split(r";|\s+and\s+", root.get("author") or "")]
    lang = _LANG.search(raw[:8192])
    language = lang.group(1).decode("ascii").lower() if lang else "en"
    stated = page_licence(raw, root.get("license"))
    credit = ", ".join(a for a in authors if a) or normalize_paragraph(
        root.get("sitename") or "") or normalize_paragraph(name)
    return Draft(source=normalize_paragraph(name), title=title,
                 authors=[a for a in authors if a], published=date, paragraphs=paragraphs,
                 url=url, section=normalize_paragraph(root.get("categories") or "") or None,
                 language=language, license=stated,
                 attribution=f"{credit}, {url}" if stated and url else None)


class HtmlPageReader(Reader):
    format = "html"

    def claims(self, name: str, fmt: str, raw: bytes) -> bool:
        return is_html_page(name, fmt)

    def read(self, raw: bytes, file: str, fmt: str, source: str | None,
             max_line_bytes: int) -> Parsed:
        try:  # binary, not UTF-8, empty: refused as for any door; markup is expected here
            decode(raw, file)
        except ParatopicsError as exc:
            if exc.problem.code != "html-page":
                raise
        return Parsed(format=self.format, drafts=[parse_html_page(raw, file, source)])
