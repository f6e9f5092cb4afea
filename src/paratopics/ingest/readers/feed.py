"""The feed door: RSS 2.0 and Atom files, one file holding many articles.

`feedparser` reads the feed (any RSS or Atom dialect, any RFC 822 or ISO 8601
date); `lxml` turns each item's HTML body into paragraphs. Site chrome that
the publisher puts inside the body (bylines repeated from the metadata,
venue and time lines, hidden inputs, scripts, end marks, contact lines,
signature blocks) is dropped by rules per source, and items whose text is not
the publisher's own work (transcripts with journalists' questions or other
speakers' turns) are excluded whole, with a recorded reason: never half-kept.

Everything here is a pure function of the file's bytes; `ingest` does the I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from paratopics.corpus import licences
from paratopics.ingest.normalize import normalize_paragraph

#: Elements whose content is never article text.
_DROP_TAGS = frozenset(("script", "style", "noscript", "template", "iframe", "object", "embed",
                        "form", "input", "button", "select", "textarea", "svg", "canvas",
                        "video", "audio", "figure", "img", "picture", "nav", "aside", "footer",
                        "header", "head"))
#: Block elements: each one starts a new paragraph.
_BLOCKS = frozenset(("p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
                     "tr", "table", "ul", "ol", "dl", "dt", "dd", "pre", "section", "article",
                     "hr", "address", "center", "caption", "tbody", "thead"))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BOLD = frozenset(("strong", "b"))
_CELLS = frozenset(("td", "th"))
#: Class or id fragments of share widgets and similar chrome inside a body.
_CHROME = re.compile(r"share|social|sharedaddy|addtoany|related|newsletter|subscribe|"
                     r"advert|sponsor|cookie|comment|byline|author-box|hidden|visually-hidden",
                     re.I)
#: A bold-only block longer than this is emphasis, not a heading.
MAX_HEADING_WORDS = 20


@dataclass(frozen=True)
class Block:
    """One line of text from the body, before the source's rules run."""

    text: str
    heading: bool = False
    centered: bool = False


@dataclass
class FeedItem:
    """One item of one feed file, as read."""

    position: int
    link: str | None
    guid: str | None
    title: str | None
    authors: list[str]
    published: str | None
    categories: list[str]
    html: str | None
    date_text: str | None = None
    #: the SPDX id of the item's own licence link (creativeCommons:license, Atom
    #: rel="license"), when it has one
    license: str | None = None


@dataclass
class Feed:
    """One feed file: its channel's build date and its items in file order."""

    kind: str  # "rss" | "atom"
    built: str | None  # ISO 8601 UTC of lastBuildDate / <updated>, when given
    title: str | None
    link: str | None
    items: list[FeedItem] = field(default_factory=list)
    #: the channel's <language> (Atom: xml:lang) as a record language ("en-US" -> "en")
    language: str | None = None
    #: the SPDX id of the channel's licence link, when it has one
    license: str | None = None


# -- the feed file --------------------------------------------------------------


def _iso(parsed: object) -> str | None:
    """A feedparser time tuple (always UTC) as ISO 8601, or None."""
    if parsed is None:
        return None
    try:
        seconds = calendar.timegm(parsed)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(entry: dict[str, object]) -> str | None:
    """The item's full HTML: content:encoded / Atom content, else the description."""
    contents = entry.get("content")
    if isinstance(contents, list):
        values = [c.get("value") for c in contents if isinstance(c, dict)]
        texts = [v for v in values if isinstance(v, str) and v.strip()]
        if texts:
            return max(texts, key=len)
    summary = entry.get("summary")
    return summary if isinstance(summary, str) and summary.strip() else None


def parse_feed(raw: bytes) -> Feed:
    """The channel and items of one RSS or Atom file.

    Raises ValueError with a reason when the bytes are not a feed, so the
    caller can name the file; feedparser's own tolerance of broken XML
    (`bozo`) is accepted only when it still found a channel with items.
    """
    import feedparser

    parsed = feedparser.parse(raw, sanitize_html=False, resolve_relative_uris=False)
    version = str(parsed.get("version") or "")
    if not version:
        reason = parsed.get("bozo_exception")
        detail = f" ({reason})" if reason else ""
        raise ValueError(f"it is not an RSS or Atom feed{detail}")
    if parsed.get("bozo") and not parsed.entries:
        raise ValueError(f"the XML is broken ({parsed.get('bozo_exception')})")
    channel = parsed.feed
    feed = Feed(kind="atom" if version.startswith("atom") else "rss",
                built=_iso(channel.get("updated_parsed")),
                title=channel.get("title"), link=channel.get("link"),
                language=licences.language_tag(channel.get("language")),
                license=licences.from_url(channel.get("license")))
    for position, entry in enumerate(parsed.entries, start=1):
        authors = [a.get("name") for a in entry.get("authors", []) if isinstance(a, dict)]
        if not any(authors) and entry.get("author"):
            authors = [entry.get("author")]
        feed.items.append(FeedItem(
            position=position,
            link=entry.get("link") or None,
            guid=entry.get("id") or None,
            title=entry.get("title"),
            authors=[a for a in authors if isinstance(a, str) and a.strip()],
            published=_iso(entry.get("published_parsed") or entry.get("updated_parsed")),
            date_text=entry.get("published") or entry.get("updated"),
            categories=[str(t["term"]) for t in entry.get("tags", [])
                        if isinstance(t, dict) and isinstance(t.get("term"), str)
                        and str(t["term"]).strip()],
            html=_body(entry),
            license=licences.from_url(entry.get("license")),
        ))
    return feed


# -- the HTML body ----------------------------------------------------------------


def _is_chrome(element: object) -> bool:
    get = getattr(element, "get", None)
    if get is None:
        return False
    if get("hidden") is not None or get("aria-hidden") == "true":
        return True
    style = (get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    marks = f"{get('class') or ''} {get('id') or ''}"
    return bool(marks.strip()) and _CHROME.search(marks) is not None


def _centered(element: object) -> bool:
    get = getattr(element, "get", None)
    if get is None:
        return False
    marks = f"{get('class') or ''} {get('style') or ''} {get('align') or ''}"
    return "center" in marks.lower()


_LATIN1_LETTERS = re.compile("[\u00c0-\u00ff]")
_WIDE_SPACES = re.compile("[\u00a0\u202f\u2009\u2002\u2003]")


def _spaces_first(text: str) -> str:
    """No-break and thin spaces as plain spaces before normalization, which does
    the same (rule 4) but only after ftfy's slow path, which any such space takes.

    Done only when no Latin-1 letter is present: mojibake holding U+00A0 (read
    from a UTF-8 continuation byte) always follows such a letter (a lead byte
    read as cp1252), and ftfy must still see it whole to repair it.
    """
    if text.isascii() or _LATIN1_LETTERS.search(text):
        return text
    return _WIDE_SPACES.sub(" ", text)


class _Collector:
    """Walks an lxml tree and cuts its text into blocks at block elements and <br>."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._bold: list[bool] = []
        self._heading = False
        self._centered = False

    def flush(self) -> None:
        if not self._parts:  # nothing since the last cut: no block, as for ""
            self._heading = False
            return
        text = normalize_paragraph(_spaces_first("".join(self._parts)))
        if text:
            bold_only = bool(self._bold) and all(self._bold)
            heading = self._heading or (bold_only and len(text.split()) <= MAX_HEADING_WORDS)
            self.blocks.append(Block(text, heading, self._centered))
        self._parts, self._bold = [], []
        self._heading = False

    def add(self, text: str | None, bold: bool) -> None:
        if text:
            self._parts.append(text)
            if text.strip():
                self._bold.append(bold)

    def walk(self, element: object, bold: bool = False, centered: bool = False) -> None:
        tag = element.tag  # type: ignore[attr-defined]
        tag = tag.lower() if isinstance(tag, str) else ""  # comments and the like: no tag
        # An element without attributes is neither chrome nor centered: most are so.
        marked = bool(element.attrib)  # type: ignore[attr-defined]
        if tag in _DROP_TAGS or (marked and _is_chrome(element)):
            return
        block = tag in _BLOCKS
        if block:
            self.flush()
            centered = centered or (marked and _centered(element))
            self._centered = centered
            self._heading = tag in _HEADINGS
        elif tag == "br":
            self.flush()
            self._centered = centered
            return
        inner_bold = bold or tag in _BOLD or tag in _HEADINGS
        self.add(element.text, inner_bold)  # type: ignore[attr-defined]
        for child in element:  # type: ignore[attr-defined]
            self.walk(child, inner_bold, centered)
            if tag == "tr" and child.tag in _CELLS:
                self.add("; ", inner_bold)
            self.add(child.tail, inner_bold)
        if tag == "tr" and self._parts and self._parts[-1] == "; ":
            self._parts.pop()
        if block:
            self.flush()
            self._centered = centered


def html_blocks(html: str) -> list[Block]:
    """The text blocks of an HTML fragment, in reading order, chrome removed.

    Entities are decoded by the HTML parser (undefined ones are kept as
    written), inline markup is flattened, and each <p>, list item, table row
    and <br>-separated line becomes a block; h1-h6 and bold-only blocks are
    marked as headings.
    """
    import lxml.html

    if not html.strip():
        return []
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    collector = _Collector()
    collector.walk(root)
    collector.flush()
    return collector.blocks


# -- source rules -----------------------------------------------------------------

_END_MARK = re.compile(r"^(?:#\s*){3}$|^\*\s*\*\s*\*$|^-\s*30\s*-$"
                       r"|^END(?:\s+\d{1,2}:\d{2}\s*[AP]\.?M\.?.*)?$")
_TIME_LINE = re.compile(r"^\d{1,2}:\d{2}\s*[AaPp]\.?\s*[Mm]\.?(?:\s+[A-Z]{2,5})?\.?$")
_LEAD_IN = re.compile(r"^The (?:below|following)(?: statement)? is attributable to .{0,120}:"
                      r"[\u200e\u200f]*$", re.I)
_TEXT_MARK = re.compile(r"^(?:Begin|End)(?: of)? Text[.:]?$", re.I)
_CONTACT = re.compile(
    r"^(?:For (?:further |more |any )?(?:media |press )?(?:inquiries|information|questions)\b"
    r"[^.]{0,160}\bcontact\b|Please submit any media inquiries\b|Media contact\b|"
    r"For (?:media|press) inquiries\b)", re.I)
_CONCLUDED = re.compile(r"^\((?:The )?(?:briefing|call|press conference|event|meeting)"
                        r"[^)]{0,80}(?:concluded|ended|adjourned)[^)]*\)\.?$", re.I)
_SIGNATURE = re.compile(r"^(?:Sincerely,\s*)?JOSEPH R\. BIDEN,? JR\.?$|^(?i:THE WHITE HOUSE),?\s*"
                        r"(?:[A-Z][a-z]+\.? \d{1,2}, \d{4}\.?)?$|^[A-Z][a-z]+\.? \d{1,2}, \d{4}\.$"
                        r"|^Sincerely,$")
#: A place line at the top: "Washington, D.C.", "Geneva, Switzerland".
_PLACE = re.compile(r"^[A-Z][\w.'\u2019\- ]{1,40},\s*[A-Z][\w.'\u2019\- ]{1,40}$")
#: A turn in a transcript: an upper-case speaker label, a colon, then words.
_SPEAKER = re.compile(r"^(?:[A-Z][A-Za-z.'\u2019\- ]{0,60},\s*)?"
                      r"(?:[A-Z][A-Z.'\u2019\-]*(?:\s+[A-Z][A-Z.'\u2019\-]*){0,6}|"
                      r"Moderator|Participant|Operator|Question|Audience Member)\s*:\s+\S")
#: An upper-case line that only announces what follows ("NOMINATIONS SENT TO THE SENATE:").
_CAPS_LABEL = re.compile(r"^[^a-z:]{3,120}:$")
_QUESTION_STATE = re.compile(r"^QUESTION\s*:")
_QUESTION_WH = re.compile(r"^Q(?:\s+|\s*[.:]\s*)\S")


@dataclass(frozen=True)
class SourceRules:
    """How one publisher's feed is cleaned and what of it may not go in."""

    source: str
    #: the licence of the publisher's own items, and whom to credit: an item's
    #: attribution is "<publisher>, <item link>" (docs/sources.md)
    license: str
    publisher: str
    excluded_paths: tuple[str, ...] = ()
    question: re.Pattern[str] = _QUESTION_STATE
    drop_top_centered: bool = False


STATE = SourceRules(
    source="state.gov",
    license=licences.US_GOVERNMENT_WORK,
    publisher="U.S. Department of State",
    excluded_paths=("/briefings/",),
    question=_QUESTION_STATE,
)
WHITE_HOUSE = SourceRules(
    source="whitehouse.gov",
    license=licences.US_GOVERNMENT_WORK,
    publisher="The White House",
    excluded_paths=("/press-briefings/", "/speeches-remarks/"),
    question=_QUESTION_WH,
    drop_top_centered=True,
)
GENERIC = SourceRules(source="", license="", publisher="")


def rules_for(url: str | None, channel_link: str | None) -> SourceRules:
    """The rules of the publisher a feed or item belongs to, by host name."""
    for candidate in (url, channel_link):
        host = urlsplit(candidate or "").hostname or ""
        if host == "state.gov" or host.endswith(".state.gov"):
            return STATE
        if host == "whitehouse.gov" or host.endswith(".whitehouse.gov"):
            return WHITE_HOUSE
    return GENERIC


#: Titles of items that quote press coverage and outside figures at length.
_PRESS_QUOTES = re.compile(r"^ICYMI\b|\bWhat (?:They|People) Are Saying\b", re.I)


def exclusion(rules: SourceRules, url: str | None, blocks: list[Block],
              title: str | None = None) -> str | None:
    """Why an item may not go in, or None: checked on every line, headings included."""
    if rules is not GENERIC and title and _PRESS_QUOTES.search(title):
        return "press-coverage-quotes"
    lines = [b.text for b in blocks]
    if any(rules.question.match(line) or _QUESTION_STATE.match(line) for line in lines):
        return "question-turns"
    path = urlsplit(url or "").path
    for part in rules.excluded_paths:
        if part in path:
            return f"section {part.strip('/')}"
    if sum(1 for line in lines if _SPEAKER.match(line)) >= 2:
        return "speaker-labelled-transcript"
    return None


def _is_top_chrome(block: Block, rules: SourceRules, bylines: set[str]) -> bool:
    """Lines before the first real paragraph: byline, venue, place and time."""
    text = block.text
    key = re.sub(r"\W+", "", text).casefold()
    if key in bylines or any(key and b.startswith(key) for b in bylines):
        return True
    if _TIME_LINE.match(text):
        return True
    if rules.drop_top_centered and block.centered and len(text.split()) <= 14:
        return True
    words = text.split()
    # A place or venue line: short, no sentence punctuation, not a heading to keep.
    return (rules is not GENERIC and not block.heading
            and ((len(words) <= 8 and text[-1] not in ".!?:;\"\u201d\u2019")
                 or (len(words) <= 5 and _PLACE.match(text) is not None)))


def clean_blocks(rules: SourceRules, blocks: list[Block], authors: list[str],
                 ) -> list[tuple[str | None, str]]:
    """(heading, text) paragraphs of an item, the source's chrome removed."""
    bylines = {re.sub(r"\W+", "", a).casefold() for a in authors if a.strip()}
    kept: list[Block] = []
    top = True
    for block in blocks:
        text = block.text
        if (_END_MARK.match(text) or _LEAD_IN.match(text) or _TEXT_MARK.match(text)
                or _CONCLUDED.match(text) or _CONTACT.match(text)):
            continue
        if top and _is_top_chrome(block, rules, bylines):
            continue
        top = False
        kept.append(block)
    while kept and (_SIGNATURE.match(kept[-1].text) or _TIME_LINE.match(kept[-1].text)):
        kept.pop()
    out: list[tuple[str | None, str]] = []
    heading: str | None = None
    for block in kept:
        if block.heading or _CAPS_LABEL.match(block.text):
            heading = block.text
        elif _SIGNATURE.match(block.text):
            continue
        else:
            out.append((heading, block.text))
    return out


def item_paragraphs(rules: SourceRules, item: FeedItem) -> tuple[list[tuple[str | None, str]],
                                                                  str | None]:
    """The paragraphs of one item and, when it may not go in, why (then no paragraphs)."""
    blocks = html_blocks(item.html or "")
    reason = exclusion(rules, item.link, blocks, item.title)
    if reason is not None:
        return [], reason
    return clean_blocks(rules, blocks, item.authors), None


def iter_lines(blocks: list[Block]) -> Iterator[str]:
    yield from (b.text for b in blocks)


# -- items to drafts ----------------------------------------------------------------

_BUILT = re.compile(rb"<(?:lastBuildDate|updated)>\s*([^<]{1,80}?)\s*</(?:lastBuildDate|updated)>")


def channel_built(raw: bytes) -> str:
    """The channel's build date as ISO 8601 UTC ('' when absent or unreadable).

    Found with a pattern on the first 64 KiB, not a parse, so that the date of
    a stored snapshot costs nothing; Atom's <updated> of the feed comes before
    any entry's, and RSS items have no lastBuildDate.
    """
    import email.utils

    match = _BUILT.search(raw[:65536])
    if match is None:
        return ""
    text = match.group(1).decode("utf-8", "replace").strip()
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ItemResult:
    """What one item became: a draft, an exclusion reason, or a problem."""

    position: int
    key: str  # identity: source and link (else guid)
    link: str | None
    title: str | None
    draft: object | None = None  # ingest.Draft (kept untyped to avoid an import cycle)
    excluded: str | None = None
    problem: str | None = None


def item_label(item: FeedItem) -> str:
    """How a message names an item: its link, else its guid, else its position."""
    return item.link or item.guid or f"item {item.position}"


def item_source(item: FeedItem, feed: Feed) -> str:
    """The source an item is filed under: its publisher's, else its host name."""
    rules = rules_for(item.link, feed.link)
    source = rules.source or (urlsplit(item.link or feed.link or "").hostname or "feed")
    return source[4:] if source.startswith("www.") else source


def item_key(item: FeedItem, feed: Feed) -> str:
    """An item's identity across snapshots: its source and link (else guid).

    Cheap, and independent of the body, so that the newest occurrence of each
    item can be chosen before any body is cleaned."""
    return f"{item_source(item, feed)}\n{item.link or item.guid}"


def item_result(item: FeedItem, feed: Feed, draft_type: type) -> ItemResult:
    """One item to a draft, or the reason it may not go in, or what is wrong with it."""
    rules = rules_for(item.link, feed.link)
    source = item_source(item, feed)
    ident = item.link or item.guid
    result = ItemResult(item.position, item_key(item, feed), item.link,
                        normalize_paragraph(item.title or "") or None)
    if not ident:
        result.problem = "the item has neither <link> nor <guid>; give it one"
        return result
    if not result.title:
        result.problem = "the item has no title; give it a <title>"
        return result
    if not item.published:
        shown = (f" ({item.date_text!r} is not an RFC 822 or ISO 8601 date)"
                 if item.date_text else "")
        result.problem = (f"the item has no readable date{shown}; "
                          "give it a <pubDate> or <published>")
        return result
    if not (item.html or "").strip():
        result.problem = "the item has no body; give it <content:encoded> or <content>"
        return result
    blocks = html_blocks(item.html or "")
    reason = exclusion(rules, item.link, blocks, result.title)
    if reason is not None:
        result.excluded = reason
        return result
    paragraphs = clean_blocks(rules, blocks, item.authors)
    if not paragraphs:
        result.problem = "the item's body holds no text once markup and boilerplate are removed"
        return result
    result.draft = draft_type(
        source=source,
        title=result.title,
        authors=[a for a in (normalize_paragraph(x) for x in item.authors) if a],
        published=item.published[:10],
        paragraphs=paragraphs,
        url=item.link or None,
        section=next((c for c in (normalize_paragraph(t) for t in item.categories) if c), None),
        language=feed.language or "en",
        record=item.position,
        **item_licence(rules, item, feed),
    )
    return result


def item_licence(rules: SourceRules, item: FeedItem, feed: Feed) -> dict[str, str | None]:
    """The draft's licence fields: a licence link in the item or channel is what the
    input states; otherwise the publisher's terms known for the source are the
    default (an unknown publisher has none: --license decides, or the item is refused)."""
    link = item.link or item.guid or feed.link or ""
    stated = item.license or feed.license
    credit = rules.publisher or normalize_paragraph(feed.title or "") or None
    return {
        "license": stated,
        "attribution": f"{credit}, {link}" if stated and credit and link else None,
        "default_license": rules.license or None,
        "default_attribution": f"{rules.publisher}, {link}" if rules.publisher and link
        else None,
    }
