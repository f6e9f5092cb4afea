"""The JSON door: JSON or JSON Lines records with explicit fields, for any source
without a door of its own. A bad record is a problem of its line (or array
position); the file's other records still go in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

from paratopics.corpus.store import strict_json
from paratopics.errors import ParatopicsError, Problem, fail, problem
from paratopics.ingest.draft import Draft, Parsed
from paratopics.ingest.normalize import normalize_document, normalize_paragraph, text_blocks
from paratopics.ingest.readers.base import Reader, decode, first_character


def _text_field(record: dict[str, object], name: str, *, required: bool) -> str | None:
    value = record.get(name)
    if value is None:
        if required:
            raise fail("missing-field", pointer=f"/{name}", field=name)
        return None
    if not isinstance(value, str):
        raise fail("bad-field", pointer=f"/{name}", field=name, detail="must be a string")
    cleaned = normalize_paragraph(value)
    if required and not cleaned:
        raise fail("bad-field", pointer=f"/{name}", field=name, detail="must not be empty")
    return cleaned or None


def _json_paragraphs(record: dict[str, object]) -> list[tuple[str | None, str]]:
    if "paragraphs" in record:
        items = record["paragraphs"]
        if not isinstance(items, list):
            raise fail("bad-field", pointer="/paragraphs", field="paragraphs",
                       detail="must be a list of strings or of {text, heading} objects")
        out: list[tuple[str | None, str]] = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                heading, text = None, item
            elif isinstance(item, dict) and isinstance(item.get("text"), str):
                heading, text = item.get("heading"), item["text"]
                if heading is not None and not isinstance(heading, str):
                    raise fail("bad-field", pointer=f"/paragraphs/{i}/heading",
                               field="heading", detail="must be a string or null")
            else:
                raise fail("bad-field", pointer=f"/paragraphs/{i}", field="paragraphs",
                           detail="items must be strings or objects with a 'text' string")
            text = normalize_paragraph(text)
            if text:
                out.append((normalize_paragraph(heading) or None if heading else None, text))
        return out
    body = record.get("body")
    if body is None:
        raise fail("missing-field", pointer="/body", field="body' or 'paragraphs")
    if not isinstance(body, str):
        raise fail("bad-field", pointer="/body", field="body", detail="must be a string")
    return [(None, b) for b in text_blocks(normalize_document(body))]


def _published(record: dict[str, object]) -> str:
    value = _text_field(record, "published", required=True)
    assert value is not None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise fail("bad-field", pointer="/published", field="published",
                   detail=f"{value!r} is not an ISO 8601 date (YYYY-MM-DD) or date-time") from None


def draft_from_json(record: object, source: str | None = None) -> Draft:
    if not isinstance(record, dict):
        raise fail("bad-field", field="record", detail="must be a JSON object")
    authors = record.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise fail("bad-field", pointer="/authors", field="authors",
                   detail="must be a list of strings")
    paragraphs = _json_paragraphs(record)
    if not paragraphs:
        raise fail("no-body")
    src = _text_field(record, "source", required=source is None) or source
    assert src is not None
    title = _text_field(record, "title", required=True)
    assert title is not None
    language = _text_field(record, "language", required=False) or "en"
    return Draft(
        source=src,
        title=title,
        authors=[a for a in (normalize_paragraph(a) for a in authors) if a],
        published=_published(record),
        paragraphs=paragraphs,
        url=_text_field(record, "url", required=False),
        section=_text_field(record, "section", required=False),
        language=language,
        license=_text_field(record, "license", required=False),
        attribution=_text_field(record, "attribution", required=False),
    )


def as_problem(exc: Exception, file: str, line: int | None) -> Problem:
    if isinstance(exc, ParatopicsError):
        p = exc.problem
        return Problem(p.code, p.message, file, line, p.pointer, p.hint)
    if isinstance(exc, RecursionError):
        return problem("json-syntax", file=file, line=line, detail="nested too deeply")
    return problem("json-syntax", file=file, line=line, detail=str(exc))


def _json_lines(text: str, max_chars: int) -> Iterator[tuple[int, str | None, int]]:
    """(number, line, length) of each non-blank line, found without copying `text`.

    A line of more than `max_chars` characters is not sliced out (None): its
    UTF-8 form is at least that long, so it is over the limit anyway, and a
    50 MB line then costs no memory beyond the text itself.
    """
    start, number = 0, 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        number += 1
        if end - start > max_chars:
            yield number, None, end - start
        else:
            line = text[start:end]
            if line.strip():
                yield number, line, len(line.encode("utf-8"))
        start = end + 1


def json_lines_items(text: str, file: str, max_line_bytes: int, first_line: int = 1,
                     ) -> tuple[list[tuple[int | None, object]], list[Problem]]:
    """The parsed records of JSON Lines text, numbered from `first_line` (the text may
    be one piece of a larger file), and the problems of its unreadable lines."""
    items: list[tuple[int | None, object]] = []
    problems: list[Problem] = []
    for number, line, size in _json_lines(text, max_line_bytes):
        number += first_line - 1
        if line is None or size > max_line_bytes:
            problems.append(problem("line-too-long", file=file, line=number,
                                    size=size if line else f"at least {size}",
                                    limit=max_line_bytes))
            continue
        try:
            items.append((number, strict_json(line)))
        except (ValueError, RecursionError) as exc:
            problems.append(as_problem(exc, file, number))
    return items, problems


def drafts_of(items: Iterable[tuple[int | None, object]], file: str, source: str | None,
              ) -> tuple[list[Draft], list[Problem]]:
    """A draft of each record (`at`: its line, or position in an array, else None),
    and the problems of the records that are not articles."""
    drafts: list[Draft] = []
    problems: list[Problem] = []
    for at, record in items:
        try:
            draft = draft_from_json(record, source)
        except ParatopicsError as exc:
            problems.append(as_problem(exc, file, at))
            continue
        draft.record = at
        drafts.append(draft)
    return drafts, problems


def first_draft(text: str, source: str | None, max_line_bytes: int) -> Draft | None:
    """The first record of JSON Lines text that is an article, reading no further."""
    for _, line, size in _json_lines(text, max_line_bytes):
        if line is None or size > max_line_bytes:
            continue
        try:
            return draft_from_json(strict_json(line), source)
        except (ValueError, RecursionError, ParatopicsError):
            continue
    return None


def parse_json(text: str, file: str, fmt: str, source: str | None,
               max_line_bytes: int) -> Parsed:
    """Every record of a JSON or JSON Lines file; bad records become problems: first
    the lines that are not JSON, then the records that are not articles."""
    parsed = Parsed(format=fmt)
    if fmt == "jsonl":
        items, parsed.problems = json_lines_items(text, file, max_line_bytes)
    else:
        try:
            data = strict_json(text)
        except (ValueError, RecursionError) as exc:
            line = getattr(exc, "lineno", None)
            parsed.problems.append(as_problem(exc, file, line))
            return parsed
        records = data if isinstance(data, list) else [data]
        items = [(i + 1 if isinstance(data, list) else None, r) for i, r in enumerate(records)]
    parsed.drafts, problems = drafts_of(items, file, source)
    parsed.problems += problems
    return parsed


def json_format(name: str, text: str) -> str:
    """"json" or "jsonl": by the suffix, else by the text (records one per line)."""
    suffix = Path(name).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".json":
        return "json"
    if text.lstrip()[:1] == "{":
        first = text.lstrip().split("\n", 1)[0].strip()
        return "jsonl" if first.endswith("}") and "\n{" in text.strip() else "json"
    return "json"


class JsonReader(Reader):
    format = "json"

    def claims(self, name: str, fmt: str, raw: bytes) -> bool:
        if fmt in {"json", "jsonl"}:
            return True
        return fmt == "auto" and (Path(name).suffix.lower() in {".json", ".jsonl", ".ndjson"}
                                  or first_character(raw) in {"[", "{"})

    def read(self, raw: bytes, file: str, fmt: str, source: str | None,
             max_line_bytes: int) -> Parsed:
        text = decode(raw, file)
        return parse_json(text, file, json_format(file, text) if fmt == "auto" else fmt,
                          source, max_line_bytes)
