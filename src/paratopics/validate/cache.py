"""The two validation caches (article records and annotation files), keyed by the
fingerprint of all of the package's code and schemas, so that an unchanged input is
not checked twice and a code change starts both afresh.

Both are cache files of one format (paratopics.cachefile): a sealed header line,
then one tab-separated row per entry; a garbled or foreign file is ignored, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from paratopics.cachefile import CacheFile, row_line
from paratopics.corpus.store import Corpus, inside
from paratopics.fingerprint import fingerprint as code_fingerprint
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker


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
class ValidCache(CacheFile[str]):
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

    Entries are kept as their lines, made an entry (record_entry) only when
    their record is met: loading a 100k-record cache is then one split per
    line, and known lines are written back as they were read.
    """

    @staticmethod
    def decode(lines: list[str]) -> Mapping[str, str]:
        return {line.partition("\t")[0]: line for line in lines}

    @staticmethod
    def encode(key: str, entry: str) -> str:
        return entry


def record_line(key: str, entry: RecordEntry) -> str | None:
    """The cache line of a record that passed; None if it cannot be one (a tab or
    newline in its provenance path): the record is then checked again next time."""
    return row_line([key, entry.article_id, str(entry.paragraphs), entry.hash_list,
                     entry.source_path, entry.source_sha256])


def record_entry(line: str) -> RecordEntry | None:
    """A cache line as an entry; None if it is of another shape (written by other
    code): its record is then checked as if it were not in the cache."""
    fields = line.split("\t")
    if len(fields) != 6 or not (fields[2].isascii() and fields[2].isdigit()):
        return None
    return RecordEntry(fields[1], int(fields[2]), fields[3], fields[4], fields[5])


#: The libraries a verdict depends on: the text checks, both schema validators (the
#: fast path decides what passes) and the JSON reader.
LIBRARIES = ("ftfy", "jsonschema", "jsonschema-rs", "orjson")


def cache_fingerprint() -> str:
    """Names the article cache: all of the package's code and schemas, and the
    libraries deciding a record's validity (LIBRARIES)."""
    return code_fingerprint(LIBRARIES)


def cache_dir() -> Path:
    chosen = os.environ.get("PARATOPICS_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paratopics"


def open_cache() -> ValidCache:
    return ValidCache.open(cache_dir(), "valid-articles", cache_fingerprint())


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
class AnnotationCache(CacheFile[FileEntry]):
    """Annotation files that had no problem at all, by the sha256 of name and bytes.

    Such a file still has none as long as the articles it judges have the same
    paragraph hashes (its entry's `depends`) and none of its judgements is
    repeated in another file (check_annotations sees to both); the schema and
    the active labels are in the cache's name (annotation_fingerprint). Same
    place and rules as ValidCache.
    """

    @staticmethod
    def decode(lines: list[str]) -> Mapping[str, FileEntry]:
        """Every row, or ValueError at the first of another shape (written by other
        code: none of the file is then trusted)."""
        known: dict[str, FileEntry] = {}
        for key, count, depends, *flat in (line.split("\t") for line in lines):
            pairs = tuple(zip(flat[::2], flat[1::2], strict=True))  # ValueError if odd
            known[key] = FileEntry(int(count), depends, pairs)
        return known

    @staticmethod
    def encode(key: str, entry: FileEntry) -> str | None:
        return row_line([key, str(entry.lines), entry.depends,
                         *(part for pair in entry.judged for part in pair)])

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
    return AnnotationCache.open(cache_dir(), "valid-annotations",
                                annotation_fingerprint(checker))
