"""What a build reads: judgement files as Arrow tables, article files, and the
fingerprint of them all.

Judgements are held as Arrow columns rather than Python objects, and cached by
the bytes of their file, because a large corpus has a million of them and
every build needs them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from paratopics.codebook import Codebook
from paratopics.corpus.records import Article
from paratopics.corpus.store import Corpus, load_validated_json, sha256_file
from paratopics.errors import fail
from paratopics.release.build_cache import BuildCache
from paratopics.release.rows import annotation_row, rows_to_table


def fingerprint(files: Iterable[tuple[str, str]]) -> str:
    """One hash over (name, sha256) of every input: equal inputs, equal fingerprint."""
    digest = hashlib.sha256()
    for name, sha in sorted(files):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def codebook_digest(codebook: Codebook) -> tuple[str, str]:
    return (f"codebook@{codebook.version}", hashlib.sha256(
        json.dumps(list(codebook.nodes), sort_keys=True).encode()).hexdigest())


#: Judgements converted to Arrow at a time while reading (bounds the Python objects held).
READ_BATCH = 50_000


@dataclass(frozen=True)
class JudgementFile:
    """One annotation file: its name, sha256 and, per article it judges, a digest
    of its lines about that article (what a shard's key needs of it)."""

    name: str  # corpus-relative
    sha256: str
    digests: dict[str, str]


def parse_judgements(lines: Iterable[bytes], schema: pa.Schema
                     ) -> tuple[pa.Table, dict[str, str], str]:
    """Rows, per-article line digests and the sha256 of all of `lines`.

    Rows are held as Arrow columns rather than as dicts, which take several
    times the memory (docs/build-design.md).
    """
    whole = hashlib.sha256()
    per_article: dict[str, Any] = {}
    tables: list[pa.Table] = []
    rows: list[dict[str, object]] = []
    for line in lines:
        whole.update(line)
        if not line.strip():
            continue
        row = annotation_row(load_validated_json(line))
        rows.append(row)
        aid = row["article_id"]
        hasher = per_article.get(aid)  # type: ignore[call-overload]
        if hasher is None:
            hasher = per_article[aid] = hashlib.blake2b(digest_size=16)  # type: ignore[index]
        hasher.update(line.rstrip(b"\n") + b"\n")
        if len(rows) == READ_BATCH:
            tables.append(rows_to_table(rows, schema))
            rows = []
    tables.append(rows_to_table(rows, schema))
    digests = {aid: hasher.hexdigest() for aid, hasher in per_article.items()}
    return pa.concat_tables(tables), digests, whole.hexdigest()


def held_schema(schema: pa.Schema) -> pa.Schema:
    """The annotations config's columns as held while building: without
    paragraph_id, derived from article id and index when written, since it
    repeats them at a sizeable share of the memory (docs/build-design.md)."""
    return pa.schema([f for f in schema.remove_metadata() if f.name != "paragraph_id"])


def with_paragraph_ids(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` (held_schema) with its paragraph_id column, in `schema`'s column order."""
    ids = pc.binary_join_element_wise(table.column("article_id"),
                                      pc.cast(table.column("paragraph_index"), pa.string()), "/")
    columns = {name: table.column(name) for name in table.column_names}
    columns["paragraph_id"] = ids
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def read_judgement_file(path: Path, schema: pa.Schema, cache: BuildCache
                        ) -> tuple[JudgementFile, pa.Table]:
    """A judgement file and its rows (in file order): from the cache when its
    bytes were parsed before, else parsed (and cached)."""
    digest = sha256_file(path)
    bare = held_schema(schema)
    cached = cache.fetch_judgements(digest)
    if cached is not None and cached[0].schema.equals(bare):
        table, digests = cached
    else:
        with path.open("rb") as handle:
            table, digests, read = parse_judgements(handle, bare)
        if read == digest:  # the file did not change while it was read
            cache.store_judgements(digest, table, digests)
        digest = read
    return JudgementFile(f"annotations/{path.name}", digest, digests), table


@dataclass(frozen=True)
class ArticleFile:
    article_id: str
    path: Path
    sha256: str


def article_paths(corpus: Corpus) -> list[Path]:
    """Article records in article-id order (a file is named by its record's id)."""
    return sorted(corpus.article_files(), key=lambda p: p.name[:-len(".json")])


def read_article_file(path: Path) -> Article:
    article: Article = load_validated_json(path.read_bytes())
    if article["article_id"] != path.stem:
        raise fail("article-id-mismatch", file=str(path), pointer="/article_id",
                   detail=f"the record's id {article['article_id']!r} is not its file name "
                   f"{path.stem!r}")
    return article


def give_back_memory() -> None:
    """Return Arrow's freed memory to the system. Its allocator (mimalloc) keeps
    what it freed for reuse: after the judgements are sorted, written and
    dropped, that would be counted in RSS as if still in use (docs/build-design.md)."""
    pa.default_memory_pool().release_unused()
