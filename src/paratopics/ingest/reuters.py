"""Converters from other collections to the JSON door of `paratopics ingest`.

Reuters-21578 (research-only terms: used for benchmarks and robustness tests,
never copied into the corpus) is real, messy newswire: SGML entities, control
characters, headline-only stories and one file with a byte that is not UTF-8.
Every story comes out either as a JSON record or as a `Skipped` with its
reason, so that the counts always add up.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from paratopics.corpus import licences

REUTERS_SOURCE = "reuters21578"
#: The collection's README asks users to name it "Reuters-21578, Distribution 1.0"
#: and say where it is; the text is Reuters Ltd.'s, free for research use only.
REUTERS_ATTRIBUTION = ("Reuters Ltd., Reuters-21578, Distribution 1.0 (research use only), "
                       "http://www.research.att.com/~lewis")
_STORY = re.compile(rb"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
# This copy marks paragraph starts with a literal "&\\t" (ampersand, backslash, t).
_PARAGRAPH_START = re.compile(r"^(?:&\\t|\t| {2,})")
_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")


@dataclass(frozen=True)
class Skipped:
    file: str
    newid: str
    reason: str


@dataclass(frozen=True)
class Decoded:
    text: str
    replaced_bytes: int  # bytes that were not UTF-8, read as cp1252 instead


def decode_sgml(raw: bytes) -> Decoded:
    """UTF-8 where it is, cp1252 for the stray bytes that are not (counted)."""
    try:
        return Decoded(raw.decode("utf-8"), 0)
    except UnicodeDecodeError:
        pass
    bad = 0
    parts: list[str] = []
    rest = raw
    while rest:
        try:
            parts.append(rest.decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            parts.append(rest[: exc.start].decode("utf-8"))
            chunk = rest[exc.start: exc.end]
            parts.append(chunk.decode("cp1252", errors="replace"))
            bad += len(chunk)
            rest = rest[exc.end:]
    return Decoded("".join(parts), bad)


def _field(tag: str, text: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return match.group(1) if match else None


def _date(text: str | None) -> str | None:
    if not text:
        return None
    match = _DATE.search(text)
    if match is None:
        return None
    try:
        return dt.datetime.strptime("-".join(match.groups()), "%d-%b-%Y").date().isoformat()
    except ValueError:
        return None


def split_paragraphs(body: str) -> list[str]:
    """Reuters bodies mark a new paragraph by an indented line (or '&' + tab)."""
    paragraphs: list[list[str]] = []
    for line in body.split("\n"):
        if not line.strip():
            if paragraphs and paragraphs[-1]:
                paragraphs.append([])
            continue
        if _PARAGRAPH_START.match(line) or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(_PARAGRAPH_START.sub("", line).strip())
    return [" ".join(p) for p in paragraphs if p]


def story_record(attrs: dict[str, str], inner: str, file: str) -> dict[str, object] | Skipped:
    newid = attrs.get("NEWID", "?")
    published = _date(_field("DATE", inner))
    if published is None:
        return Skipped(file, newid, "no parsable DATE")
    text_match = re.search(r"<TEXT([^>]*)>(.*?)</TEXT>", inner, re.S)
    if text_match is None:
        return Skipped(file, newid, "no TEXT element")
    kind = dict(_ATTR.findall(text_match.group(1))).get("TYPE", "NORM")
    text = text_match.group(2)
    title = _field("TITLE", text)
    body = _field("BODY", text)
    if kind == "UNPROC":
        lines = [ln for ln in html.unescape(text).split("\n") if ln.strip(" \x02\x03")]
        if len(lines) < 2:
            return Skipped(file, newid, "unprocessed text with no body")
        title, body = lines[0], "\n".join(lines[1:])
    elif body is None:
        return Skipped(file, newid, f"no BODY (TYPE={kind}: headline only)")
    else:
        title, body = html.unescape(title or ""), html.unescape(body)
    body = re.sub(r"\s*\bReuter\b[\s\x03]*$", "", body)
    paragraphs = [p for p in split_paragraphs(body) if p.strip(" \x02\x03\x7f")]
    if not (title or "").strip(" \x02\x03"):
        return Skipped(file, newid, "no TITLE")
    if not paragraphs:
        return Skipped(file, newid, "empty BODY")
    return {
        "source": REUTERS_SOURCE,
        "url": f"urn:reuters21578:newid:{newid}",
        "title": title,
        "authors": [],
        "published": published,
        "section": None,
        "license": licences.REUTERS_21578,
        "attribution": REUTERS_ATTRIBUTION,
        "paragraphs": paragraphs,
    }


def reuters_stories(path: Path) -> tuple[list[dict[str, object] | Skipped], int]:
    """Every story of one .sgm file, and how many of its bytes were not UTF-8."""
    raw = path.read_bytes()
    out: list[dict[str, object] | Skipped] = []
    replaced = 0
    for match in _STORY.finditer(raw):
        decoded = decode_sgml(match.group(2))
        replaced += decoded.replaced_bytes
        attrs = dict(_ATTR.findall(match.group(1).decode("ascii", errors="replace")))
        out.append(story_record(attrs, decoded.text, path.name))
    return out, replaced


def iter_reuters(folder: Path) -> Iterator[tuple[Path, list[dict[str, object] | Skipped], int]]:
    for path in sorted(folder.glob("reut2-*.sgm")):
        stories, replaced = reuters_stories(path)
        yield path, stories, replaced
