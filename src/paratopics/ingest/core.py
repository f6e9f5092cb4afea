"""From a raw file to article records: read, parse by the door that claims the file,
identify, write (with undo).

The doors live in `ingest.readers`, one module per format; each yields `Draft`s,
which `make_article` turns into records. The feed door reads many snapshots at
once and is driven by `ingest.feeds`. Only `read_raw` and the writers in `store`
do I/O.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from paratopics.corpus import licences
from paratopics.corpus.records import (
    ARTICLE_SCHEMA_VERSION,
    BODY_SEPARATOR,
    Article,
    Paragraph,
    Provenance,
    date_out_of_range,
)
from paratopics.corpus.store import (
    Corpus,
    atomic_write,
    check_inside,
    check_name,
    claim_raw_copy,
    raw_copy_origin,
    sync_filesystem,
)
from paratopics.errors import CATALOG, ParatopicsError, Problem, fail, problem
from paratopics.ingest.chunks import (
    CHUNK_BYTES,
    IN_FLIGHT_PER_WORKER,
    ChunkOptions,
    is_chunked,
    store_chunked,
)
from paratopics.ingest.draft import Draft, Licensing, Parsed
from paratopics.ingest.normalize import (
    hidden_character,
    normalize_paragraph,
    sha256_text,
)
from paratopics.ingest.readers import readers
from paratopics.ingest.readers.json_records import as_problem
from paratopics.workers import die_with_parent, ordered_map, serial_map

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

#: Inputs larger than this are refused (README "Limits"); --max-bytes raises it.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: One JSON Lines record larger than this is refused; --max-line-bytes raises it.
MAX_LINE_BYTES = 5 * 1024 * 1024

FORMATS = ("auto", "globalsecurity", "json", "jsonl", "rss", "atom", "html")

def resolve_licence(draft: Draft, given: Licensing | None = None) -> None:
    """Fix `draft.license` and `draft.attribution`: what the input states, else what
    the command line gives, else the door's default for the source; else refuse.

    Raises ParatopicsError (code `licence`, pointer to the field) so that the
    caller can name the file and the record."""
    given = given or Licensing()
    options = given.attribution.replace("{url}", draft.url or "") if given.attribution else None
    chosen = {
        "license": draft.license or given.license or draft.default_license,
        "attribution": draft.attribution or options or draft.default_attribution,
    }
    for name, value in chosen.items():
        if not value:
            raise fail("licence", pointer=f"/{name}", field=name,
                       detail=f"no {name}: the input states none and no default is known "
                       f"for source {draft.source!r}")
    license_id, credit = chosen["license"], normalize_paragraph(chosen["attribution"] or "")
    assert license_id is not None
    if not licences.is_licence_id(license_id):
        raise fail("licence", pointer="/license", field="license",
                   detail=f"{license_id!r} is not an SPDX licence id (e.g. CC-BY-4.0) or a "
                   "LicenseRef- id")
    if not licences.has_link(credit):
        raise fail("licence", pointer="/attribution", field="attribution",
                   detail=f"{credit!r} has no link: name whom to credit and give the "
                   "work's URL (https://...)")
    draft.license, draft.attribution = license_id, credit


# -- bytes to text ------------------------------------------------------------


def read_raw(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one regular file of at most `max_bytes`.

    The size is checked before reading and the read itself is capped, so a huge
    or still-growing file is refused without being read.
    """
    if not path.exists():
        raise fail("file-missing", file=str(path), path=str(path))
    if not path.is_file():
        raise fail("not-a-file", file=str(path), path=str(path))
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise fail("file-too-large", file=str(path), size=size, limit=max_bytes)
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise fail("read-failed", file=str(path), detail=exc.strerror or str(exc)) from None
    if len(raw) > max_bytes:
        raise fail("file-too-large", file=str(path), size=f"over {max_bytes}", limit=max_bytes)
    return raw


def parse(raw: bytes, file: str, fmt: str = "auto", source: str | None = None,
          max_line_bytes: int = MAX_LINE_BYTES) -> Parsed:
    """Bytes of one file to drafts, by the first door that claims the file. Raises
    ParatopicsError if the whole file is bad."""
    reader = next(r for r in readers() if r.claims(file, fmt, raw))
    return reader.read(raw, file, fmt, source, max_line_bytes)


# -- drafts to records --------------------------------------------------------


def slugify(text: str, max_words: int = 6, max_length: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    slug = "-".join(words)[:max_length].strip("-")
    return slug or "article"


def identity_key(draft: Draft) -> str:
    """What makes two inputs the same article: the URL, else the date and title.

    The title is compared casefolded and stripped to letters and digits, so
    that punctuation, spacing and encoding noise do not split one article in two.
    """
    if draft.url:
        return f"{draft.source}\n{draft.url}"
    title = "".join(ch for ch in draft.title.casefold() if ch.isalnum())
    return f"{draft.source}\n{draft.published}\n{title}"


def article_id(draft: Draft) -> str:
    digest = hashlib.sha256(identity_key(draft).encode("utf-8")).hexdigest()[:10]
    return f"{slugify(draft.title)}-{digest}"


def make_article(draft: Draft, provenance: Provenance) -> Article:
    paragraphs: list[Paragraph] = []
    offset = 0
    for index, (heading, text) in enumerate(draft.paragraphs):
        paragraphs.append(
            Paragraph(index=index, heading=heading, text=text, sha256=sha256_text(text),
                      start=offset, end=offset + len(text))
        )
        offset += len(text) + len(BODY_SEPARATOR)
    return Article(
        schema_version=ARTICLE_SCHEMA_VERSION,
        article_id=article_id(draft),
        source=draft.source,
        url=draft.url,
        title=draft.title,
        authors=draft.authors,
        published=draft.published,
        section=draft.section,
        language=draft.language,
        license=draft.license,  # type: ignore[typeddict-item]
        attribution=draft.attribution,  # type: ignore[typeddict-item]
        ingested_from=provenance,
        paragraphs=paragraphs,
    )


def source_folder_name(source: str) -> str:
    """A file-system-safe folder name for a source, e.g. 'globalsecurity.org'."""
    name = re.sub(r"[^a-z0-9._-]+", "-", source.lower())
    name = re.sub(r"^[^a-z0-9]+", "", name)[:64].rstrip(".-_")
    return name or "unknown"


@dataclass(frozen=True)
class Change:
    """How ingesting one article changed the corpus."""

    article_id: str
    status: str  # "new" | "updated" | "unchanged"
    changed: tuple[int, ...] = ()
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


def compare(old: Article | None, new: Article) -> Change:
    aid = new["article_id"]
    if old is None:
        return Change(aid, "new")
    if old == new:
        return Change(aid, "unchanged")
    old_p, new_p = old["paragraphs"], new["paragraphs"]
    common = min(len(old_p), len(new_p))
    changed = tuple(i for i in range(common) if old_p[i]["sha256"] != new_p[i]["sha256"])
    added = tuple(range(common, len(new_p)))
    removed = tuple(range(common, len(old_p)))
    return Change(aid, "updated", changed, added, removed)


# -- the edge: files in, records out ------------------------------------------


@dataclass
class IngestReport:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    paragraphs: int = 0


@dataclass
class Prepared:
    """One file made ready to store: its raw bytes and its serialized records."""

    path: Path
    raw: bytes = b""
    rel: str = ""
    records: list[tuple[str, int | None, bytes]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    paragraphs: int = 0


def prepare_file(path: Path, fmt: str = "auto", source: str | None = None,
                 max_bytes: int = MAX_FILE_BYTES,
                 max_line_bytes: int = MAX_LINE_BYTES,
                 licensing: Licensing | None = None) -> Prepared:
    """Read, parse, normalize and serialize one file; no corpus access.

    This is the expensive part of ingest and it depends on nothing but the
    file, so `ingest_files` runs it in worker processes.
    """
    prepared = Prepared(path)
    try:
        raw = read_raw(path, max_bytes)
        parsed = parse(raw, str(path), fmt, source, max_line_bytes)
        check_name(path.name, "source file name")
    except ParatopicsError as exc:
        prepared.problems.append(exc.problem)
        return prepared
    prepared.problems.extend(parsed.problems)
    if not parsed.drafts:
        if not parsed.problems:
            prepared.problems.append(problem("no-body", file=str(path)))
        return prepared
    folder = source_folder_name(source or parsed.drafts[0].source)
    prepared.raw = raw
    prepared.rel = f"sources/{folder}/{path.name}"
    digest = hashlib.sha256(raw).hexdigest()
    prepared.records, found, prepared.paragraphs = serialize(
        parsed.drafts, str(path), Provenance(path=prepared.rel, sha256=digest,
                                             format=parsed.format, record=None), licensing)
    prepared.problems.extend(found)
    return prepared


def serialize(drafts: Iterable[Draft], file: str, provenance: Provenance,
              licensing: Licensing | None,
              ) -> tuple[list[tuple[str, int | None, bytes]], list[Problem], int]:
    """Drafts to records as stored (id, line, bytes), with the problems of those that
    cannot be stored (no licence, invalid) and the paragraphs of those that can.
    `provenance` is the input file's; each record gets its own line in it."""
    from paratopics.corpus.store import dump_json

    records: list[tuple[str, int | None, bytes]] = []
    problems: list[Problem] = []
    paragraphs = 0
    for draft in drafts:
        try:
            resolve_licence(draft, licensing)
        except ParatopicsError as exc:
            problems.append(as_problem(exc, file, draft.record))
            continue
        article = make_article(draft, Provenance(
            path=provenance["path"], sha256=provenance["sha256"], format=provenance["format"],
            record=draft.record))
        found = record_problems(article, file, draft.record)
        if found:
            problems.extend(found)
            continue
        paragraphs += len(article["paragraphs"])
        records.append((article["article_id"], draft.record, dump_json(article)))
    return records, problems, paragraphs


def prepare_in_task(fmt: str, source: str | None, max_bytes: int, max_line_bytes: int,
                    licensing: Licensing | None, path: Path) -> Prepared:
    """prepare_file with its path last, as an engine's map passes it."""
    return prepare_file(path, fmt, source, max_bytes, max_line_bytes, licensing)


@functools.lru_cache(maxsize=1)
def _article_validator() -> Draft202012Validator:
    from paratopics.validate.schema import make_validator

    return make_validator("article.schema.json")


@functools.lru_cache(maxsize=1)
def _article_valid() -> Callable[[object], bool]:
    from paratopics.validate.schema import fast_path

    return fast_path(_article_validator())


def record_problems(article: Article, file: str, line: int | None) -> list[Problem]:
    """Schema problems of a record about to be written: nothing invalid enters the corpus.

    Metadata comes from the input and is checked in full. Paragraph items are
    built by make_article from normalized, non-empty text, so one of them
    proves their shape; checking all would triple the cost of ingest. The
    compiled fast path answers for valid records (a tenth of jsonschema's
    cost); jsonschema itself finds and words the errors of any other.
    """
    sample = {**article, "paragraphs": article["paragraphs"][:1]}
    found = [] if _article_valid()(sample) else [
        Problem("schema", f"{e.message} (fix the input field; the record was not written)",
                file, line, "".join(f"/{p}" for p in e.absolute_path) or "/",
                CATALOG["schema"].hint)
        for e in _article_validator().iter_errors(sample)
    ]
    return found + metadata_problems(article, file, line)


def metadata_problems(article: Article, file: str, line: int | None = None) -> list[Problem]:
    """Hidden characters in the metadata people read, and an implausible date: what
    the schema cannot say. Shared by ingest (before writing) and validate."""
    found: list[Problem] = []
    fields: list[tuple[str, object, bool]] = [
        ("source", article.get("source"), False), ("title", article.get("title"), True),
        ("section", article.get("section"), True),
        *((f"authors/{i}", a, True) for i, a in enumerate(article.get("authors") or []))]
    for name, value, joiners in fields:
        hidden = hidden_character(value, joiners=joiners) if isinstance(value, str) else None
        if hidden is not None:
            found.append(problem("hidden-characters", file=file, line=line, pointer=f"/{name}",
                                 field=name, detail=hidden))
    published = article.get("published")
    wrong = date_out_of_range(published) if isinstance(published, str) else None
    if wrong is not None:
        found.append(problem("date-out-of-range", file=file, line=line, pointer="/published",
                             field="published", value=published, detail=wrong))
    return found


def _parsed(record: bytes) -> Article | None:
    """An existing record, or None when it is garbled (a hand edit): never a crash."""
    try:
        parsed = json.loads(record)
    except (ValueError, RecursionError):
        return None
    return cast("Article", parsed) if isinstance(parsed, dict) else None


def _recorded_path(record: bytes) -> str:
    """The raw file an existing record names, or a note that it cannot be read."""
    parsed = _parsed(record)
    try:
        return str(parsed["ingested_from"]["path"])  # type: ignore[index]
    except (KeyError, TypeError):
        return "an unreadable record (pass --replace to overwrite it)"


def same_input(record: bytes, rel: str, digest: str) -> bool:
    """Whether a stored record came from a file of the same name in the same source
    folder as the raw copy `rel` (with sha256 `digest`): a corrected version of that
    file, which may update the record. Raw copies kept under their content-addressed
    name (`raw_copy_name`) count under the name they were ingested by."""
    parsed = _parsed(record)
    try:
        old_rel = str(parsed["ingested_from"]["path"])  # type: ignore[index]
        old_sha = str(parsed["ingested_from"]["sha256"])  # type: ignore[index]
    except (KeyError, TypeError):
        return False
    old_folder, _, old_name = old_rel.rpartition("/")
    folder, _, name = rel.rpartition("/")
    return old_folder == folder and \
        raw_copy_origin(old_name, old_sha) == raw_copy_origin(name, digest)


def _existing(corpus: Corpus, article_id: str) -> bytes | None:
    path = corpus.article_path(article_id)
    return path.read_bytes() if path.is_file() else None


def superseded(before: Article, after: Article) -> list[dict[str, object]]:
    """Paragraphs of `before` whose text no longer occurs in `after`."""
    kept = {p["sha256"] for p in after["paragraphs"]}
    return [{"paragraph_index": p["index"], "sha256": p["sha256"], "text": p["text"],
             "replaced_by_source": after["ingested_from"]["sha256"]}
            for p in before["paragraphs"] if p["sha256"] not in kept]


def keep_history(corpus: Corpus, before: Article, after: Article,
                 ) -> tuple[Path, bytes | None] | None:
    """Append superseded texts to corpus/history/<id>.jsonl, so that validate can show
    a stale judgement the text that was judged (the record keeps only current text).

    Returns (the file, its bytes before) when it wrote, so that a failed ingest can
    undo it."""
    lines = superseded(before, after)
    if not lines:
        return None
    name = check_name(after["article_id"], "article id")
    path = check_inside(corpus.root, corpus.history / f"{name}.jsonl")
    known = path.read_bytes() if path.is_file() else None
    added = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    atomic_write(path, (known or b"") + added.encode("utf-8"), durable=False)
    return path, known


def identity_of(article_id: str) -> str:
    """The hash suffix of an id: the article's identity (the slug is for people)."""
    return article_id.rsplit("-", 1)[-1]


def identity_index(corpus: Corpus) -> dict[str, str]:
    """identity -> stored article id, so that a retitled article keeps its first id."""
    if not corpus.articles.is_dir():
        return {}
    return {identity_of(name[:-5]): name[:-5] for name in os.listdir(corpus.articles)
            if name.endswith(".json") and not name.startswith(".")}


def _with_id(data: bytes, article_id: str) -> bytes:
    from paratopics.corpus.store import dump_json

    record = json.loads(data)
    record["article_id"] = article_id
    return dump_json(record)


def _with_path(data: bytes, rel: str) -> bytes:
    from paratopics.corpus.store import dump_json

    record = json.loads(data)
    record["ingested_from"]["path"] = rel
    return dump_json(record)


@dataclass
class Batch:
    """What storing one file needs to know of the files stored before it in the same
    ingest: the identities taken (and where), and the ids in the corpus by identity."""

    corpus: Corpus
    replace: bool
    report: IngestReport
    index: dict[str, str]
    seen: dict[str, str] = field(default_factory=dict)


@dataclass
class FileWriter:
    """The records of one input file, stored as they come: all at once for a small
    file, piece by piece (in input order) for a large JSON Lines file.

    Each record is checked against the records taken before it (in this file or an
    earlier one) and against the corpus, then written; the raw copy goes in before
    the first record. Once a write fails nothing more is written, what this file
    wrote is undone, and `finish` raises the failure after the file's other
    problems. `raw` is the file's bytes, or a private copy of the file that is
    renamed into place."""

    batch: Batch
    path: Path
    rel: str  # where the raw copy is kept
    digest: str
    raw: bytes | Path
    serialized_rel: str  # the raw copy's path as the records name it
    duplicates: list[Problem] = field(default_factory=list)
    written: list[tuple[Path, bytes | None]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    accepted: int = 0
    failed: ParatopicsError | None = None

    def add(self, records: Iterable[tuple[str, int | None, bytes]]) -> None:
        accepted = self._accept(records)
        if not accepted or self.failed is not None:
            return
        try:
            if self.accepted == len(accepted):  # the file's first records
                self._place_raw()
            for aid, old, data in accepted:
                self._write(aid, old, data)
        except ParatopicsError as exc:
            _undo(self.written)
            self.failed = exc

    def _accept(self, records: Iterable[tuple[str, int | None, bytes]],
                ) -> list[tuple[str, bytes | None, bytes]]:
        batch, path = self.batch, self.path
        accepted: list[tuple[str, bytes | None, bytes]] = []
        for aid, record, data in records:
            if self.rel != self.serialized_rel:
                data = _with_path(data, self.rel)
            where = f"{path}:{record}" if record else str(path)
            identity = identity_of(aid)
            if identity in batch.seen:
                self.duplicates.append(problem("duplicate-article", file=str(path),
                                               line=record, article_id=aid,
                                               other=batch.seen[identity]))
                continue
            stored_id = batch.index.get(identity)
            if stored_id is not None and stored_id != aid:
                aid, data = stored_id, _with_id(data, stored_id)
            old = _existing(batch.corpus, aid)
            if old is not None and not batch.replace and not same_input(old, self.rel,
                                                                        self.digest):
                self.duplicates.append(problem("duplicate-article", file=str(path),
                                               line=record, article_id=aid,
                                               other=_recorded_path(old)))
                continue
            batch.seen[identity] = where
            batch.index[identity] = aid
            accepted.append((aid, old, data))
        self.accepted += len(accepted)
        return accepted

    def _place_raw(self) -> None:
        target = self.batch.corpus.root / self.rel
        if target.is_file():  # (claim_raw_copy checked that it holds these bytes)
            return
        if isinstance(self.raw, bytes):
            atomic_write(target, self.raw, durable=False)
        else:  # the copy stays where it is until the last piece has been read from it
            link_or_copy(self.raw, target)
        self.written.append((target, None))

    def _write(self, aid: str, old: bytes | None, data: bytes) -> None:
        if old == data:
            self.changes.append(Change(aid, "unchanged"))
            return
        corpus = self.batch.corpus
        record_path = corpus.article_path(aid)
        before = _parsed(old) if old is not None else None
        if before is not None:
            kept = keep_history(corpus, before, json.loads(data))
            if kept is not None:
                self.written.append(kept)
        atomic_write(record_path, data, durable=False)
        self.written.append((record_path, old))
        self.changes.append(Change(aid, "new") if old is None
                            else compare(_parsed(old), json.loads(data)))

    def finish(self, paragraphs: int) -> None:
        """Report what the file added (`paragraphs`: of all its serialized records),
        after its duplicates; raises the write that failed, if one did."""
        report = self.batch.report
        report.problems.extend(self.duplicates)
        if self.failed is not None:
            raise self.failed
        if self.accepted:
            report.paragraphs += paragraphs
            report.changes.extend(self.changes)


def link_or_copy(source: Path, target: Path) -> None:
    """`target` as a hard link to `source` (the same bytes, nothing copied), else as a
    copy written by atomic rename (a file system without hard links)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
        return
    except OSError:
        pass
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        shutil.copyfile(source, temporary, follow_symlinks=False)
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise fail("write-failed", file=str(target), detail=f"could not write: "
                   f"{exc.strerror or exc}; nothing was changed") from None


def claim(corpus: Corpus, path: Path, rel: str, digest: str) -> str | Problem:
    """Where the raw copy of `path` is kept (see claim_raw_copy), else why it cannot be."""
    folder, _, name = rel[len("sources/"):].rpartition("/")
    try:
        return claim_raw_copy(corpus.root, folder, name, digest)
    except ParatopicsError as exc:
        return dataclasses.replace(exc.problem, file=str(path))


def store_prepared(batch: Batch, prepared: Prepared) -> None:
    """Decide and write one prepared file's records; runs in the main process only."""
    batch.report.problems.extend(prepared.problems)
    if not prepared.records:
        return
    digest = hashlib.sha256(prepared.raw).hexdigest()
    rel = claim(batch.corpus, prepared.path, prepared.rel, digest)
    if isinstance(rel, Problem):
        batch.report.problems.append(rel)
        return
    writer = FileWriter(batch, prepared.path, rel, digest, prepared.raw, prepared.rel)
    writer.add(prepared.records)
    writer.finish(prepared.paragraphs)


def _undo(written: list[tuple[Path, bytes | None]]) -> None:
    """Put back what one file's ingest wrote before a write failed (disk full,
    read-only folder), so that its raw copy and records stay consistent and the
    failure really changed nothing. Best effort: the disk may still refuse."""
    for path, before in reversed(written):
        with contextlib.suppress(OSError, ParatopicsError):
            if before is None:
                path.unlink()
            else:
                atomic_write(path, before, durable=False)


def ingest_files(corpus: Corpus, paths: list[Path], fmt: str = "auto",
                 source: str | None = None, replace: bool = False,
                 max_bytes: int = MAX_FILE_BYTES,
                 max_line_bytes: int = MAX_LINE_BYTES, jobs: int = 1,
                 on_progress: Callable[[int, int], None] | None = None,
                 mapper: Callable[..., Iterator[Any]] | None = None,
                 licensing: Licensing | None = None,
                 chunk_bytes: int = CHUNK_BYTES) -> IngestReport:
    """Ingest each file on its own: a bad file is reported, the others still go in.

    Files are prepared in `jobs` worker processes and stored by this process in
    input order, so the result is identical whatever `jobs` is; with a `mapper`
    (an engine's map, paratopics.engine) they are prepared in its tasks. A JSON
    Lines file larger than `chunk_bytes` is prepared in pieces of about that size,
    in parallel too (ingest.chunks), to the same records. For each file the raw
    copy is written before its records, each by atomic rename, and one
    file-system sync at the end makes the batch durable.
    """
    from paratopics.ingest.feeds import FeedReport, ingest_feeds, is_feed

    report = FeedReport()
    unique: dict[Path, Path] = {}
    for path in paths:
        unique.setdefault(path.resolve(), path)  # a file named twice is read once
    feeds = [p for p in unique.values() if is_feed(p, fmt)]
    paths = [p for p in unique.values() if not is_feed(p, fmt)]
    if feeds:
        ingest_feeds(corpus, feeds, max_bytes=max_bytes, jobs=jobs, report=report,
                     replace=replace, on_progress=on_progress, licensing=licensing)
        if not paths:
            return report
    options = ChunkOptions(fmt, source, max_bytes, max_line_bytes, licensing, chunk_bytes)
    large = [is_chunked(p, fmt, max_bytes, options.chunk_bytes) for p in paths]
    batch = Batch(corpus, replace, report, identity_index(corpus))
    with _mapping(jobs, mapper, len(paths) > 1 or any(large)) as run:
        for chunked, group in itertools.groupby(zip(large, paths, strict=True),
                                                key=lambda pair: pair[0]):
            files = [p for _, p in group]
            if not chunked:
                _store_all(batch, run(prepare_in_task, files, fmt, source, max_bytes,
                                      max_line_bytes, licensing), on_progress)
                continue
            for path in files:
                report.files += 1
                try:
                    store_chunked(batch, path, run, options, _within(on_progress, report))
                except ParatopicsError as exc:
                    report.problems.append(exc.problem)
                if on_progress is not None:
                    on_progress(report.files, report.paragraphs)
    if any(c.status != "unchanged" for c in report.changes):
        sync_filesystem(corpus.root)
    return report


def _within(on_progress: Callable[[int, int], None] | None, report: IngestReport,
            ) -> Callable[[int], None] | None:
    """Progress within a file being read in pieces: its paragraphs so far count."""
    if on_progress is None:
        return None
    files, done = report.files - 1, report.paragraphs
    return lambda paragraphs: on_progress(files, done + paragraphs)


@contextlib.contextmanager
def _mapping(jobs: int, mapper: Callable[..., Iterator[Any]] | None,
             parallel: bool) -> Iterator[Callable[..., Iterator[Any]]]:
    """How pieces of work run: `map(func, items, *shared)`, results in item order.
    An engine's map when given, else `jobs` worker processes (when there is more than
    one piece of work), else this process."""
    if mapper is not None:
        yield mapper
    elif jobs > 1 and parallel:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            yield functools.partial(ordered_map, pool, window=jobs * IN_FLIGHT_PER_WORKER)
    else:
        yield serial_map


def _store_all(batch: Batch, prepared: Iterable[Prepared],
               on_progress: Callable[[int, int], None] | None) -> None:
    report = batch.report
    for item in prepared:
        report.files += 1
        try:
            store_prepared(batch, item)
        except ParatopicsError as exc:
            report.problems.append(exc.problem)
        if on_progress is not None:
            on_progress(report.files, report.paragraphs)
