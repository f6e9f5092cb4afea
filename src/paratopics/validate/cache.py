"""The two validation caches (article records and annotation files), keyed by the
fingerprint of all of the package's code and schemas, so that an unchanged input is
not checked twice and a code change starts both afresh.

A cache file is a header line naming its format, then one tab-separated row per
entry; a garbled or foreign file is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypeVar

from paratopics.corpus.store import (
    Corpus,
    atomic_write,
    inside,
)
from paratopics.errors import ParatopicsError
from paratopics.fingerprint import fingerprint as code_fingerprint
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker

_CACHE_HEAD = b"paratopics-cache"


_Entry = TypeVar("_Entry")


def read_cache_lines(path: Path) -> list[str]:
    """The lines of a cache file; none if it is missing, unreadable or damaged.

    Its first line holds the sha256 of the rest, so a torn, truncated or edited
    file is ignored whole instead of being trusted in part.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return []
    head, _, body = data.partition(b"\n")
    if head != _CACHE_HEAD + b"\t" + hashlib.sha256(body).hexdigest().encode():
        return []
    try:
        text = body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return []
    return text.split("\n")[:-1]


def read_cache_rows(path: Path) -> list[list[str]]:
    """The tab-separated rows of a cache file (see read_cache_lines)."""
    return [line.split("\t") for line in read_cache_lines(path)]


def cache_lines(rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows as cache lines, tab-separated. A row with a tab or newline in a field is
    left out: it would not read back."""
    rows = list(rows)
    lines = ["\t".join(row) for row in rows]
    text = "\n".join(lines)
    # one count over the whole text; row by row only when some field has a tab or newline
    if (text.count("\n") != len(lines) - 1
            or text.count("\t") != sum(len(row) for row in rows) - len(rows)):
        lines = [line for line, row in zip(lines, rows, strict=True)
                 if line.count("\t") == len(row) - 1 and "\n" not in line]
    return lines


def write_cache_lines(path: Path, lines: Sequence[str]) -> None:
    """Replace the cache file at `path` by `lines`, atomically; a cache that cannot
    be written is no cache, never an error."""
    body = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
    data = _CACHE_HEAD + b"\t" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    with contextlib.suppress(ParatopicsError, OSError):
        atomic_write(path, data, durable=False)


class RecordEntry(NamedTuple):
    """What a record that passed the record checks tells the rest of validation."""

    article_id: str
    paragraphs: int
    #: hash_list_digest of its paragraph hashes
    hash_list: str
    #: its `ingested_from` path and sha256, checked against the raw file every run
    source_path: str
    source_sha256: str


@dataclass
class ValidCache:
    """Article record files known to pass the record checks, by the sha256 of their
    name and bytes, each with what the rest of validation needs of the record.

    A record found here is read and hashed but not parsed: the entry gives its
    id, paragraph count and hash-list digest for the index, and its provenance
    for the raw source check, which runs every time because a source can change
    under a valid record.

    Lives in $PARATOPICS_CACHE (default: ~/.cache/paratopics), never in the
    corpus, and is safe to delete. Being keyed by content, a partial run only
    adds to it; a whole-corpus run keeps only the files it saw, so that it does
    not grow with every edit. Its name carries a fingerprint of the schema and
    of the code that decides validity, so a change to either starts a fresh
    cache instead of trusting a stale one.
    """

    path: Path | None = None
    #: digest -> its line in the cache file, made an entry (record_entry) only when
    #: its record is met: loading a 100k-record cache is then one split per line
    known: Mapping[str, str] = field(default_factory=dict)
    #: records that passed the checks this run and were not known
    new: dict[str, RecordEntry] = field(default_factory=dict)
    #: known records found this run
    seen: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> ValidCache:
        return cls(path, {line.partition("\t")[0]: line for line in read_cache_lines(path)})

    def save(self, prune: bool = False) -> None:
        """Add this run's records; `prune` (after a whole-corpus run) also drops the
        records not seen in it. Known lines are written back as they were read."""
        if self.path is None:
            return
        kept = [line for digest, line in self.known.items()
                if digest not in self.new and (not prune or digest in self.seen)]
        if not self.new and len(kept) == len(self.known):
            return
        added = cache_lines([digest, e.article_id, str(e.paragraphs), e.hash_list,
                             e.source_path, e.source_sha256] for digest, e in self.new.items())
        write_cache_lines(self.path, sorted(kept + added))


def record_entry(line: str) -> RecordEntry | None:
    """A cache line as an entry; None if it is of another shape (written by other
    code): its record is then checked as if it were not in the cache."""
    fields = line.split("\t")
    if len(fields) != 6 or not (fields[2].isascii() and fields[2].isdigit()):
        return None
    return RecordEntry(fields[1], int(fields[2]), fields[3], fields[4], fields[5])


def _kept(path: Path | None, known: Mapping[str, _Entry], new: Mapping[str, _Entry],
          seen: set[str] | None) -> list[tuple[str, _Entry]] | None:
    """The entries a cache file should hold after a run, sorted; None if unchanged."""
    kept = {k: e for k, e in known.items() if k in seen} if seen is not None else known
    if path is None or (not new and len(kept) == len(known)):
        return None
    return sorted({**kept, **new}.items())


def cache_fingerprint() -> str:
    """Names the article cache: all of the package's code and schemas, and the
    libraries deciding a record's validity."""
    return code_fingerprint(("ftfy", "jsonschema"))


def cache_dir() -> Path:
    chosen = os.environ.get("PARATOPICS_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paratopics"


def open_cache() -> ValidCache:
    return ValidCache.load(cache_dir() / f"valid-articles-{cache_fingerprint()}.txt")


def file_key(path: Path) -> str:
    """What both caches key a file by: sha256 of its name, a NUL and its bytes (the
    name matters: a record's id must be its file name)."""
    digest = _name_digest(path)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _name_digest(path: Path | str) -> hashlib._Hash:
    name = os.path.basename(os.fspath(path))
    return hashlib.sha256(name.encode("utf-8", "surrogateescape") + b"\0")


class FileEntry(NamedTuple):
    """An annotation file that had no problem: what it adds to a run unread."""

    lines: int
    #: depends_digest of the articles it judges, as they were when it passed
    depends: str
    #: the (annotator, article id) pairs it judges, sorted
    judged: tuple[tuple[str, str], ...]


def depends_digest(article_ids: Iterable[str], digests: Mapping[str, str]) -> str | None:
    """One digest over the paragraph hashes of the articles `article_ids`; None if
    one of them is not in the index."""
    ids = sorted(set(article_ids))
    try:
        values = list(map(digests.__getitem__, ids))
    except KeyError:
        return None
    text = "".join(line + "\n" for line in map("\t".join, zip(ids, values, strict=True)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class AnnotationCache:
    """Annotation files that had no problem at all, by the sha256 of name and bytes.

    Such a file still has none as long as the articles it judges have the same
    paragraph hashes (its entry's `depends`) and none of its judgements is
    repeated in another file (check_annotations sees to both); the schema and
    the active labels are in the cache's name (annotation_fingerprint). Same
    place and rules as ValidCache.
    """

    path: Path | None = None
    known: dict[str, FileEntry] = field(default_factory=dict)
    #: files that passed this run and were not known
    new: dict[str, FileEntry] = field(default_factory=dict)
    #: known files vouched for this run
    seen: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> AnnotationCache:
        known: dict[str, FileEntry] = {}
        try:
            for key, lines, depends, *flat in read_cache_rows(path):
                pairs = tuple(zip(flat[::2], flat[1::2], strict=True))  # ValueError if odd
                known[key] = FileEntry(int(lines), depends, pairs)
        except ValueError:  # a row of another shape: written by other code, ignore it all
            known = {}
        return cls(path, known)

    def save(self, prune: bool = False) -> None:
        """As ValidCache.save."""
        entries = _kept(self.path, self.known, self.new, self.seen if prune else None)
        if self.path is not None and entries is not None:
            write_cache_lines(self.path, cache_lines(
                [key, str(e.lines), e.depends, *(part for pair in e.judged for part in pair)]
                for key, e in entries))

    def vouched(self, paths: Sequence[Path], corpus: Corpus, index: ArticleIndex
                ) -> list[FileEntry | None]:
        """The entry of each file that passed before and still does alone (else None):
        same name and bytes, in the corpus, judging articles whose paragraphs have
        not changed. The files are hashed by a few threads (hashing and reading
        release the GIL), as 300 files of 1.8 million lines are 0.5 GB."""
        if not self.known:
            return [None] * len(paths)
        inner = [path for path in paths if inside(corpus.annotations, path)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys = dict(zip(inner, pool.map(file_key, inner), strict=True))
        found: list[FileEntry | None] = []
        for path in paths:
            key = keys.get(path)  # None: not in the corpus's annotations/, never vouched
            entry = None if key is None else self.known.get(key)
            if key is not None and entry is not None and entry.depends == depends_digest(
                    (aid for _, aid in entry.judged), index.digests):
                self.seen.add(key)
                found.append(entry)
            else:
                found.append(None)
        return found


def annotation_fingerprint(checker: Checker) -> str:
    """Names the annotation cache: what names the article cache, plus the annotation
    schema and the labels the codebook in use allows, all else that a verdict of
    "no problem" depends on (so a codebook given by the caller counts, not the file)."""
    digest = hashlib.sha256(cache_fingerprint().encode())
    digest.update(json.dumps(checker.annotation_schema.schema, sort_keys=True).encode())
    digest.update("\n".join(sorted(checker.active_labels)).encode())
    return digest.hexdigest()[:16]


def open_annotation_cache(checker: Checker) -> AnnotationCache:
    return AnnotationCache.load(
        cache_dir() / f"valid-annotations-{annotation_fingerprint(checker)}.txt")
