"""Checking article record files: the schema, then what a schema cannot say (hashes,
offsets, normalization, provenance), sequentially or in a pool of workers.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paratopics.codebook import Codebook
from paratopics.corpus.records import (
    BODY_SEPARATOR,
    Article,
)
from paratopics.corpus.store import (
    Corpus,
    folder_inside,
    inside,
    load_json,
    sha256_file,
)
from paratopics.errors import Problem, problem
from paratopics.ingest.core import metadata_problems
from paratopics.ingest.normalize import is_normalized, sha256_text
from paratopics.ingest.readers.base import wide_encoding
from paratopics.validate.cache import (
    RecordEntry,
    ValidCache,
    _name_digest,
    record_entry,
    record_line,
)
from paratopics.validate.index import ArticleIndex, hash_list_digest
from paratopics.validate.schema import Checker, schema_problems
from paratopics.validate.summary import display_path
from paratopics.workers import in_worker, start_worker

#: An engine's map (paratopics.engine): `mapper(func, items, *shared)` runs
#: `func(*shared, item)` for each item, wherever it likes, and yields the results in order.
Mapper = Callable[..., Iterable[Any]]


def article_problems(article: Article, file: str, checker: Checker,
                     expected_id: str | None = None) -> list[Problem]:
    """Schema and internal consistency of one article record (no I/O)."""
    version = article.get("schema_version") if isinstance(article, dict) else None
    version = version if isinstance(version, str) else None
    schema, valid = checker.legacy_articles.get(
        version, (checker.article_schema, checker.article_valid))
    found = [] if valid(article) else schema_problems(schema, article, file)
    if found:
        return found
    if version in checker.legacy_articles:
        found.append(dataclasses.replace(
            problem("legacy-record", file=file, pointer="/schema_version", version=version),
            severity="warning"))
    aid = article["article_id"]
    if expected_id is not None and aid != expected_id:
        found.append(problem("article-id-mismatch", file=file, pointer="/article_id",
                             detail=f"the record's id {aid!r} is not its file name "
                             f"{expected_id!r}"))
    for where in ("title", "section"):
        value = article[where]
        if value is not None and not is_normalized(value):
            found.append(problem("not-normalized", file=file, pointer=f"/{where}", where=where))
    found += metadata_problems(article, file)
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


def source_state(corpus: Corpus, rel: str) -> str:
    """"outside", "missing", or the sha256 of the raw file at corpus-relative `rel`."""
    path = corpus.root / rel
    if not inside(corpus.root, path):
        return "outside"
    if not path.is_file():
        return "missing"
    return sha256_file(path)


def source_problems(article: Article, corpus: Corpus, file: str,
                    states: dict[str, str] | None = None) -> list[Problem]:
    """The raw file the record came from is still there, unchanged.

    `states` remembers each raw file's state for one run: a JSON Lines source
    holds thousands of articles, and hashing it once per article made
    validation quadratic.
    """
    provenance = article["ingested_from"]
    return provenance_problems(provenance["path"], provenance["sha256"], corpus, file, states)


def provenance_problems(rel: str, sha256: str, corpus: Corpus, file: str,
                        states: dict[str, str] | None = None) -> list[Problem]:
    """source_problems from the record's `ingested_from` path and sha256 alone, as a
    cached record gives them without being parsed."""
    state = states.get(rel) if states is not None else None
    if state is None:
        state = source_state(corpus, rel)
        if states is not None:
            states[rel] = state
    if state == "outside":
        return [problem("unsafe-path", file=file, pointer="/ingested_from/path",
                        detail=f"{rel} leads outside the corpus")]
    if state == "missing":
        return [problem("source-missing", file=file, pointer="/ingested_from/path",
                        detail=f"raw file {rel} is missing")]
    if state != sha256:
        return [problem("source-missing", file=file, pointer="/ingested_from/sha256",
                        detail=f"raw file {rel} has changed since ingest")]
    return []


def read_json_file(path: Path, file: str) -> tuple[object | None, list[Problem]]:
    return parse_json_bytes(path.read_bytes(), file)


def parse_json_bytes(raw: bytes, file: str) -> tuple[object | None, list[Problem]]:
    try:
        return load_json(raw), []
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        wide = wide_encoding(raw[:512])
        if wide is not None:
            return None, [problem("utf16-file", file=file, encoding=wide)]
        if isinstance(exc, UnicodeDecodeError):
            return None, [problem("not-utf8", file=file, offset=exc.start, detail=exc.reason)]
        return None, [problem("json-syntax", file=file, line=exc.lineno, detail=exc.msg)]
    except RecursionError:
        return None, [problem("json-syntax", file=file, detail="nested too deeply")]
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return None, [problem("json-syntax", file=file, detail=str(exc))]


def _display_in(path: Path | str, folders: dict[str, str], link: bool | None = None) -> str:
    """display_path, resolving each folder once rather than every file in it.

    A file that is not a symlink resolves to its resolved folder plus its
    name, so both give the same text; resolving cost more than reading the file.
    `link` says whether `path` is a symlink, if the caller already asked.
    """
    if os.path.islink(path) if link is None else link:
        return display_path(Path(path))
    folder, name = os.path.split(path)
    base = folders.get(folder)
    if base is None:
        base = folders[folder] = display_path(Path(folder))
    return name if base == "." else f"{base.rstrip('/')}/{name}"


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_record(name: str, unsafe: bool) -> tuple[int | None, bool]:
    """(a descriptor open on the file, or None; whether it is a symlink), never
    opening one in an `unsafe` folder. O_NOFOLLOW tells a symlink apart in the
    call that opens a plain file: no system call to look first, and no moment
    between looking and opening in which the file could become a link."""
    if unsafe or not _NOFOLLOW:
        return None, os.path.islink(name)
    try:
        return os.open(name, os.O_RDONLY | _NOFOLLOW), False
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        return None, True


def _read_all(fd: int) -> bytes:
    """Every byte of the open file `fd`, which is then closed: read in one call sized
    by fstat, as FileIO.readall does, without making a file object per record."""
    try:
        want = os.fstat(fd).st_size + 1  # one more: a short read is the end
        parts = []
        while True:
            part = os.read(fd, want)
            parts.append(part)
            if len(part) < want:
                return b"".join(parts)
            want = 1 << 16  # the file grew since fstat
    finally:
        os.close(fd)


def check_articles(corpus: Corpus, paths: Iterable[Path | str], checker: Checker,
                   index: ArticleIndex, cache: ValidCache | None = None) -> Iterator[Problem]:
    # paths as text, Path objects only where needed: building 100,000 of them cost
    # as much as a warm run's reading and hashing
    folders: dict[str, str] = {}
    unsafe_folders: dict[str, bool] = {}
    cache = cache or ValidCache()
    for path in paths:
        name = os.fspath(path)
        folder = os.path.dirname(name)
        unsafe = unsafe_folders.get(folder)
        if unsafe is None:
            unsafe = unsafe_folders[folder] = (Path(folder) == corpus.articles and not
                                               folder_inside(corpus.root, Path(folder)))
        fd, link = _open_record(name, unsafe)
        if unsafe or (link and not inside(corpus.root, Path(name))):
            # never read an outside file (a hostile checkout can commit such a link)
            file = _display_in(name, folders, link)
            yield problem("unsafe-path", file=file,
                          detail=f"{file} is a symlink or leads outside the corpus")
            continue
        if fd is None:  # a link that stays inside the corpus
            fd = os.open(name, os.O_RDONLY)
        raw = _read_all(fd)
        digest = _name_digest(name)
        digest.update(raw)
        key = digest.hexdigest()
        line = cache.known.get(key)
        entry = record_entry(line) if line is not None else None
        if entry is not None:  # passed before: index it unparsed, check only its source
            cache.seen.add(key)
            index.add_record(entry.article_id, name, entry.paragraphs, entry.hash_list)
            if checker.source_states.get(entry.source_path) != entry.source_sha256:
                yield from provenance_problems(entry.source_path, entry.source_sha256, corpus,
                                               _display_in(name, folders, link),
                                               checker.source_states)
            continue
        file = _display_in(name, folders, link)
        checker.records_parsed += 1
        record, found = parse_json_bytes(raw, file)
        if not found:  # any JSON, null too (the schema refuses it)
            stem = os.path.splitext(os.path.basename(name))[0]
            found = article_problems(record, file, checker, expected_id=stem)  # type: ignore[arg-type]
        hashes = _paragraph_hashes(record)
        if hashes is None:  # not even indexable, so certainly not valid
            yield from found
            continue
        # even a faulty record is indexed, so that its judgements are not all
        # reported again as judgements of an unknown article
        article: Article = record  # type: ignore[assignment]
        listed = hash_list_digest(hashes)
        index.add_record(article["article_id"], name, len(hashes), listed, hashes)
        if not found:
            provenance = article["ingested_from"]
            line = record_line(key, RecordEntry(article["article_id"], len(hashes), listed,
                                                provenance["path"], provenance["sha256"]))
            if line is not None:
                cache.new[key] = line
            found = source_problems(article, corpus, file, checker.source_states)
        yield from found


def _paragraph_hashes(record: object) -> list[str] | None:
    """The paragraph hashes of a record that can be indexed (maybe a faulty one), else None."""
    if not isinstance(record, dict) or not isinstance(record.get("article_id"), str):
        return None
    paragraphs = record.get("paragraphs")
    if not isinstance(paragraphs, list) or not all(
            isinstance(p, dict) and isinstance(p.get("sha256"), str)
            and isinstance(p.get("text"), str) for p in paragraphs):
        return None
    return [p["sha256"] for p in paragraphs]


#: add_record's arguments, as a worker sends them back
_Record = tuple[str, str, int, str, list[str] | None]


#: What a worker sends back for one chunk: its problems, records to index, new cache
#: entries (as their lines) and known ones seen, and how many records it parsed.
_ChunkResult = tuple[list[Problem], list[_Record], dict[str, str], set[str], int]


@dataclass(frozen=True)
class ChunkChecker:
    """check_articles over one chunk of records, as a worker runs it.

    A pool builds one per worker, in its initializer (paratopics.workers), so
    that its Checker hashes each raw source once per worker rather than once per
    chunk, and the cache's known records cross to a worker once, not with every
    chunk.
    """

    checker: Checker
    known: Mapping[str, str]

    @classmethod
    def build(cls, known: Mapping[str, str], book: Codebook) -> ChunkChecker:
        return cls(Checker(book), known)

    def __call__(self, root: str, paths: list[str]) -> _ChunkResult:
        parsed = self.checker.records_parsed
        index = _Collected()
        cache = ValidCache(known=self.known)
        problems = list(check_articles(Corpus(Path(root)), paths, self.checker, index, cache))
        return (problems, index.records, cache.new, cache.seen,
                self.checker.records_parsed - parsed)


@dataclass
class _Collected(ArticleIndex):
    """An index that only lists what it is given, to send back from a worker."""

    records: list[_Record] = field(default_factory=list)

    def add_record(self, article_id: str, path: Path | str, count: int, digest: str,
                   hashes: list[str] | None = None) -> None:
        self.records.append((article_id, str(path), count, digest, hashes))


def check_chunk_alone(known: Mapping[str, str], book: Codebook, root: str, paths: list[str]
                      ) -> _ChunkResult:
    """One chunk as a task of an engine (paratopics.engine), whose workers run no
    pool initializer: the task builds its own checker."""
    return ChunkChecker.build(known, book)(root, paths)


#: Chunks an engine's map cuts the article records into (at least MIN_ENGINE_CHUNK each).
ENGINE_CHUNKS, MIN_ENGINE_CHUNK = 64, 200


def check_articles_parallel(corpus: Corpus, paths: Sequence[Path | str], checker: Checker,
                            index: ArticleIndex, cache: ValidCache, jobs: int,
                            mapper: Mapper | None = None) -> Iterator[Problem]:
    """check_articles over `jobs` processes, or over the tasks of `mapper` (an
    engine's map), with the same output in the same order."""
    if mapper is not None and paths:
        size = max(MIN_ENGINE_CHUNK, -(-len(paths) // ENGINE_CHUNKS))
        chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, len(paths), size)]
        yield from _collect(mapper(check_chunk_alone, chunks, cache.known, checker.codebook,
                                   str(corpus.root)), checker, index, cache)
        return
    if jobs <= 1 or len(paths) < 2000:
        yield from check_articles(corpus, paths, checker, index, cache)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(500, -(-len(paths) // (jobs * 4)))
    chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=start_worker,
                             initargs=(os.getpid(), ChunkChecker.build, cache.known,
                                       checker.codebook)) as pool:
        yield from _collect(pool.map(in_worker, [str(corpus.root)] * len(chunks), chunks),
                            checker, index, cache)


def _collect(results: Iterable[_ChunkResult],
             checker: Checker, index: ArticleIndex, cache: ValidCache) -> Iterator[Problem]:
    """What the chunks' workers found, taken in as if checked here, in chunk order."""
    for problems, records, new, seen, parsed in results:
        for record in records:
            index.add_record(*record)
        cache.new.update(new)
        cache.seen |= seen
        checker.records_parsed += parsed
        yield from problems
