"""Validation of article records and annotation files: the schema, then the meaning.

Every problem is collected, not just the first, each with file, line, JSON
pointer, message and hint (see errors.CATALOG). Annotation files are read as a
stream of lines with a cap on line length, so a file of millions of lines or
one enormous line is checked in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import codebook as codebook_module
from .codebook import Codebook, load_json_resource
from .errors import Problem, problem
from .normalize import is_normalized, sha256_text
from .records import BODY_SEPARATOR, Annotation, Article
from .store import Corpus, inside, sha256_file

#: Annotation lines longer than this are reported and skipped unread.
MAX_ANNOTATION_LINE_BYTES = 1024 * 1024
_CHUNK = 1 << 16


def make_validator(schema_name: str) -> Draft202012Validator:
    schema = load_json_resource(schema_name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclass
class Checker:
    """What validation needs to know, built once per run."""

    codebook: Codebook
    article_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("article.schema.json"))
    annotation_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("annotation.schema.json"))


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path) or "/"


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def schema_problems(validator: Draft202012Validator, record: object, file: str,
                    line: int | None = None) -> list[Problem]:
    found = []
    for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
        detail = error.message
        if len(detail) > 300:
            detail = f"{_short(error.instance)} does not match the schema ({error.validator})"
        found.append(problem("schema", file=file, line=line, pointer=_pointer(error),
                             detail=detail))
    return found


# -- articles -----------------------------------------------------------------


def article_problems(article: Article, file: str, checker: Checker,
                     expected_id: str | None = None) -> list[Problem]:
    """Schema and internal consistency of one article record (no I/O)."""
    found = schema_problems(checker.article_schema, article, file)
    if found:
        return found
    aid = article["article_id"]
    if expected_id is not None and aid != expected_id:
        found.append(problem("article-id-mismatch", file=file, pointer="/article_id",
                             detail=f"the record's id {aid!r} is not its file name "
                             f"{expected_id!r}"))
    for where in ("title", "section"):
        value = article[where]  # type: ignore[literal-required]
        if value is not None and not is_normalized(value):
            found.append(problem("not-normalized", file=file, pointer=f"/{where}", where=where))
    offset = 0
    for position, para in enumerate(article["paragraphs"]):
        pointer = f"/paragraphs/{position}"
        if para["index"] != position:
            found.append(problem("paragraph-offsets", file=file, pointer=f"{pointer}/index",
                                 index=para["index"], detail=f"index should be {position}"))
        if not is_normalized(para["text"]):
            found.append(problem("not-normalized", file=file, pointer=f"{pointer}/text",
                                 where=f"paragraph {position}"))
        actual = sha256_text(para["text"])
        if actual != para["sha256"]:
            found.append(problem("paragraph-hash", file=file, pointer=f"{pointer}/sha256",
                                 index=position, stored=para["sha256"][:12] + "…",
                                 actual=actual[:12] + "…"))
        end = offset + len(para["text"])
        if (para["start"], para["end"]) != (offset, end):
            found.append(problem("paragraph-offsets", file=file, pointer=f"{pointer}/start",
                                 index=position,
                                 detail=f"start/end are {para['start']}/{para['end']}, "
                                 f"expected {offset}/{end}"))
        offset = end + len(BODY_SEPARATOR)
    return found


def source_problems(article: Article, corpus: Corpus, file: str) -> list[Problem]:
    """The raw file the record came from is still there, unchanged."""
    provenance = article["ingested_from"]
    path = corpus.root / provenance["path"]
    if not inside(corpus.root, path):
        return [problem("unsafe-path", file=file, pointer="/ingested_from/path",
                        detail=f"{provenance['path']} leads outside the corpus")]
    if not path.is_file():
        return [problem("source-missing", file=file, pointer="/ingested_from/path",
                        detail=f"raw file {provenance['path']} is missing")]
    if sha256_file(path) != provenance["sha256"]:
        return [problem("source-missing", file=file, pointer="/ingested_from/sha256",
                        detail=f"raw file {provenance['path']} has changed since ingest")]
    return []


@dataclass
class ArticleIndex:
    """Per article, its paragraphs' hashes and texts: what annotations are checked against."""

    hashes: dict[str, list[str]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, article: Article) -> None:
        aid = article["article_id"]
        self.hashes[aid] = [p["sha256"] for p in article["paragraphs"]]
        self.texts[aid] = [p["text"] for p in article["paragraphs"]]


def read_json_file(path: Path, file: str) -> tuple[object | None, list[Problem]]:
    try:
        return json.loads(path.read_bytes().decode("utf-8")), []
    except UnicodeDecodeError as exc:
        return None, [problem("not-utf8", file=file, offset=exc.start, detail=exc.reason)]
    except json.JSONDecodeError as exc:
        return None, [problem("json-syntax", file=file, line=exc.lineno, detail=exc.msg)]
    except RecursionError:
        return None, [problem("json-syntax", file=file, detail="nested too deeply")]


def check_articles(corpus: Corpus, paths: Iterable[Path], checker: Checker,
                   index: ArticleIndex) -> Iterator[Problem]:
    for path in paths:
        file = display_path(path)
        record, found = read_json_file(path, file)
        if record is not None:
            found = article_problems(record, file, checker, expected_id=path.stem)  # type: ignore[arg-type]
            if not found:
                found = source_problems(record, corpus, file)  # type: ignore[arg-type]
                index.add(record)  # type: ignore[arg-type]
        yield from found


# -- annotations --------------------------------------------------------------


def _read_lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None, bool]]:
    """(line number, content or None if over `limit`, ended by a newline)."""
    number = 0
    while True:
        chunk = handle.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):  # skip the rest, bounded memory
                chunk = handle.readline(_CHUNK)
            yield number, None, True
            continue
        ended = chunk.endswith(b"\n")
        yield number, chunk.rstrip(b"\n"), ended


@dataclass
class AnnotationState:
    """What must be remembered across lines: one entry per judged (annotator, paragraph)."""

    judged: dict[tuple[str, str, int], str] = field(default_factory=dict)
    lines: int = 0


def annotation_problems(record: Annotation, file: str, line: int, checker: Checker,
                        index: ArticleIndex, state: AnnotationState) -> list[Problem]:
    """The meaning of one schema-valid judgement (no I/O)."""
    found: list[Problem] = []
    where = {"file": file, "line": line}
    aid, position = record["article_id"], record["paragraph_index"]
    hashes = index.hashes.get(aid)
    if hashes is None:
        found.append(problem("unknown-article", pointer="/article_id", article_id=aid, **where))
    elif position >= len(hashes):
        found.append(problem("unknown-paragraph", pointer="/paragraph_index", article_id=aid,
                             index=position, count=len(hashes), **where))
    elif hashes[position] != record["paragraph_sha256"]:
        judged = record["paragraph_sha256"][:12] + "…"
        current = index.texts[aid][position]
        found.append(problem("stale-annotation", pointer="/paragraph_sha256", article_id=aid,
                             index=position, judged=judged,
                             current=f"{hashes[position][:12]}… {_short(current, 120)}",
                             **where))
    for i, label in enumerate(record["labels"]):
        pointer = f"/labels/{i}"
        if label not in checker.codebook:
            guess = checker.codebook.suggest(label)
            suggestion = f"; did you mean '{guess}'?" if guess else ""
            found.append(problem("unknown-label", pointer=pointer, label=label,
                                 suggestion=suggestion, **where))
        elif checker.codebook.is_retired(label):
            node = checker.codebook.by_id[label]
            replacement = node.get("replaced_by", "an active node")
            found.append(problem("retired-label", pointer=pointer, label=label,
                                 name=node["name"], replacement=replacement, **where))
    key = (record["annotator"], aid, position)
    if key in state.judged:
        found.append(problem("duplicate-judgement", pointer="/annotator",
                             annotator=record["annotator"], index=position, article_id=aid,
                             other=state.judged[key], **where))
    else:
        state.judged[key] = f"{file}:{line}"
    return found


def check_annotation_file(path: Path, corpus: Corpus, checker: Checker, index: ArticleIndex,
                          state: AnnotationState,
                          on_progress: Callable[[int], None] | None = None,
                          max_line_bytes: int = MAX_ANNOTATION_LINE_BYTES,
                          ) -> Iterator[Problem]:
    file = display_path(path)
    if not inside(corpus.annotations, path):
        yield problem("annotation-outside", file=file,
                      detail=f"annotation file is not in {display_path(corpus.annotations)}/")
    with path.open("rb") as handle:
        for number, raw, ended in _read_lines(handle, max_line_bytes):
            state.lines += 1
            if on_progress is not None and state.lines % 100_000 == 0:
                on_progress(state.lines)
            yield from _check_line(raw, ended, number, file, checker, index, state,
                                   max_line_bytes)


def _check_line(raw: bytes | None, ended: bool, number: int, file: str, checker: Checker,
                index: ArticleIndex, state: AnnotationState,
                max_line_bytes: int) -> Iterator[Problem]:
    where = {"file": file, "line": number}
    if raw is None:
        yield problem("line-too-long", size=f"over {max_line_bytes}", limit=max_line_bytes,
                      **where)
        return
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        yield problem("encoding-marks", detail="the file starts with a UTF-8 byte-order mark",
                      **where)
        raw = raw[3:]
    if raw.endswith(b"\r"):
        yield problem("encoding-marks", detail="the line ends with CRLF, not LF", **where)
        raw = raw.rstrip(b"\r")
    if not raw.strip():
        yield problem("json-syntax", detail="empty line (one JSON object per line)", **where)
        return
    try:
        text = raw.decode("utf-8")
        record = json.loads(text)
    except UnicodeDecodeError as exc:
        yield problem("not-utf8", offset=exc.start, detail=exc.reason, **where)
        return
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = getattr(exc, "msg", "nested too deeply")
        if not ended:
            detail += " (the last line is incomplete: was the file truncated?)"
        yield problem("json-syntax", detail=f"{detail} at column {getattr(exc, 'colno', '?')}",
                      **where)
        return
    schema_found = schema_problems(checker.annotation_schema, record, file, number)
    if schema_found:
        yield from schema_found
        return
    yield from annotation_problems(record, file, number, checker, index, state)


# -- the whole corpus ---------------------------------------------------------


def display_path(path: Path) -> str:
    """Paths as people typed them: relative to the current folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Summary:
    articles: int = 0
    annotation_files: int = 0
    annotation_lines: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def codebook_problems(codebook: Codebook) -> list[Problem]:
    validator = make_validator("codebook.schema.json")
    data = load_json_resource("codebook.json")
    found = schema_problems(validator, data, "schema/codebook.json")
    found += [problem("codebook", file="schema/codebook.json", detail=d)
              for d in codebook_module.tree_problems(codebook)]
    return found


def validate_corpus(corpus: Corpus, paths: list[Path] | None = None,
                    codebook: Codebook | None = None,
                    on_progress: Callable[[int], None] | None = None) -> Summary:
    """Check the corpus, or only `paths` (articles are always indexed for annotations)."""
    book = codebook or codebook_module.load()
    checker = Checker(book)
    summary = Summary(problems=codebook_problems(book))
    index = ArticleIndex()
    all_articles = corpus.article_files()
    if paths is None:
        article_paths, annotation_paths = all_articles, corpus.annotation_files()
    else:
        article_paths = [p for p in paths if p.suffix == ".json"]
        annotation_paths = [p for p in paths if p.suffix == ".jsonl"]
    summary.problems += list(check_articles(corpus, article_paths, checker, index))
    summary.articles = len(article_paths)
    if annotation_paths:
        named = {p.resolve() for p in article_paths}
        rest = [p for p in all_articles if p.resolve() not in named]
        for _ in check_articles(corpus, rest, checker, index):
            pass  # problems in articles not asked about are not reported here
    state = AnnotationState()
    for path in annotation_paths:
        summary.annotation_files += 1
        summary.problems += list(
            check_annotation_file(path, corpus, checker, index, state, on_progress))
    summary.annotation_lines = state.lines
    return summary
