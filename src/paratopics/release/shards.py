"""Shards: the planned Parquet files of a release, and the writer of one.

In article-id order, each config and split is cut after content-defined
boundaries (`ends_shard`), so that adding or changing an article changes only
the shards it falls in, and each shard gets a key hashed from everything its
bytes depend on (see `build_cache`). A `ShardWriter` writes one shard a row
group at a time, compressed on a `Background` thread.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from paratopics.release.inputs import ArticleFile, JudgementFile
from paratopics.release.layout import CONFIGS, UNLABELED, split_names
from paratopics.release.rows import rows_to_table, split_of
from paratopics.release.tally import Tally

#: Rows per Parquet row group: a few MB of text, small enough to stream.
ROW_GROUP_ROWS = 10_000
#: Rows turned from dicts into Arrow at a time while building (not a file property).
ROWS_PER_BATCH = 500
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 9


# -- shards: content-defined, so that one new article changes one shard ---------

#: A shard ends after an article whose id hashes to 0 modulo this: shards hold
#: this many articles on average, and adding or changing an article changes only
#: the shards it falls in (content-defined chunking, as in backup tools).
SEGMENT_ARTICLES = 8192
#: ... and at most this many.
MAX_SEGMENT_ARTICLES = 4 * SEGMENT_ARTICLES
SHARD_SALT = "paratopics-shard-v1:"


def ends_shard(article_id: str) -> bool:
    digest = hashlib.blake2b((SHARD_SALT + article_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % SEGMENT_ARTICLES == 0


def segments(article_ids: Iterable[str]) -> list[list[str]]:
    """`article_ids` (in id order) cut after each shard-ending id, and at the maximum."""
    out: list[list[str]] = []
    current: list[str] = []
    for aid in article_ids:
        current.append(aid)
        if ends_shard(aid) or len(current) == MAX_SEGMENT_ARTICLES:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


@dataclass(frozen=True)
class Shard:
    """One Parquet file of a release to be: the rows of `article_ids` in one config and split."""

    config: str
    split: str
    position: int  # among its config and split's shards, those left empty included
    article_ids: tuple[str, ...]
    key: str  # hash of everything its bytes depend on (see build_cache)

    def partial(self, folder: Path) -> Path:
        return folder / self.config / f"{self.split}-{self.position:05d}.partial"


def judged_by(files: Iterable[JudgementFile]) -> dict[str, list[str]]:
    """Per judged article, the digests of its lines in each file (files in name order)."""
    judged: dict[str, list[str]] = {}
    for file in files:
        for aid, digest in file.digests.items():
            judged.setdefault(aid, []).append(digest)
    return judged


def plan_shards(articles: Iterable[ArticleFile], judged: Mapping[str, list[str]],
                codebook_sha: str) -> list[Shard]:
    """Every shard of the release, with the articles whose rows it holds and its key.

    Judged articles have rows in their split of every config; every article may
    have unjudged paragraphs, and an article nobody judged is an `unlabeled` article.
    """
    keys: dict[str, str] = {}
    members: dict[tuple[str, str], list[str]] = {}
    for article in articles:
        aid = article.article_id
        keys[aid] = hashlib.sha256(
            "\0".join([article.sha256, *judged.get(aid, [])]).encode()).hexdigest()
        homes = ([(config, split_of(aid)) for config in CONFIGS] if aid in judged
                 else [("articles", UNLABELED)])
        for home in [*homes, ("paragraphs", UNLABELED)]:
            members.setdefault(home, []).append(aid)
    layout = f"{ROW_GROUP_ROWS}:{COMPRESSION}:{COMPRESSION_LEVEL}:{codebook_sha}"
    shards = []
    for config in CONFIGS:
        for split in split_names():
            for position, ids in enumerate(segments(members.get((config, split), []))):
                digest = hashlib.sha256(f"{layout}\0{config}\0{split}\n".encode())
                for aid in ids:
                    digest.update(f"{aid}\0{keys[aid]}\n".encode())
                shards.append(Shard(config, split, position, tuple(ids), digest.hexdigest()))
    return shards


def shard_names(split: str, count: int) -> list[str]:
    return [f"{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


class Background:
    """One thread that writes Parquet while the main thread makes rows.

    pyarrow compresses without holding the GIL, so on two cores zstd runs
    beside the Python work. Jobs run in submission order; the tables waiting
    are capped at `limit` bytes, which bounds memory.
    """

    def __init__(self, limit: int = 128 * 2**20) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet")
        self.pending: deque[tuple[Future[None], int]] = deque()
        self.limit = limit
        self.waiting = 0

    def submit(self, job: Callable[[], None], size: int = 0) -> None:
        self.pending.append((self.pool.submit(job), size))
        self.waiting += size
        while self.pending and (self.waiting > self.limit or self.pending[0][0].done()):
            self._retire()

    def _retire(self) -> None:
        future, size = self.pending.popleft()
        future.result()
        self.waiting -= size

    def finish(self) -> None:
        while self.pending:
            self._retire()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Counts(NamedTuple):
    """What a finished shard holds: its rows, and its share of the manifest's tally."""

    rows: int
    tally: Tally


@dataclass
class ShardWriter:
    """One shard's Parquet file, written a row group at a time as rows arrive.

    Row groups hold ROW_GROUP_ROWS rows counted from the start of the shard,
    exactly as one `pq.write_table` of the shard would cut them. Used as a
    context manager, like `datasets`' ArrowWriter: `finalize()` ends the shard
    and returns its counts; leaving the `with` waits for the shard's writes, or
    after an exception stops them, closes the file and removes it, so that a
    failed build leaves no half-written shard.
    """

    path: Path
    schema: pa.Schema
    background: Background
    tally: Tally = field(default_factory=Tally)
    rows: list[dict[str, object]] = field(default_factory=list)
    tables: list[pa.Table] = field(default_factory=list)
    queued: int = 0  # rows in self.tables
    written: int = 0
    writer: pq.ParquetWriter | None = None

    def add_row(self, row: dict[str, object]) -> None:
        """Rows become Arrow a few hundred at a time: a row group of articles as
        dicts would take several times the memory of its Arrow columns."""
        self.rows.append(row)
        if len(self.rows) == ROWS_PER_BATCH:
            self._convert()

    def _convert(self) -> None:
        self.add_table(rows_to_table(self.rows, self.schema))
        self.rows = []

    def add_table(self, table: pa.Table) -> None:
        self.tables.append(table)
        self.queued += table.num_rows
        while self.queued >= ROW_GROUP_ROWS:
            self._cut(ROW_GROUP_ROWS)

    def _cut(self, count: int) -> None:
        whole = pa.concat_tables(self.tables)
        group = whole.slice(0, count).combine_chunks()
        rest = whole.slice(count)
        self.tables, self.queued = ([rest] if rest.num_rows else []), rest.num_rows
        self.written += count
        self.background.submit(lambda: self._write_now(group), group.nbytes)

    def _write_now(self, table: pa.Table) -> None:
        """Runs on the background thread."""
        if self.writer is None:
            self.writer = pq.ParquetWriter(
                self.path, self.schema, compression=COMPRESSION,
                compression_level=COMPRESSION_LEVEL, write_statistics=True, store_schema=True)
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def finalize(self) -> Counts:
        """Queue what is left and the file's close (in the background, after the
        rest), and return the shard's counts: known now, written by the time the
        background has finished."""
        if self.rows:
            self._convert()
        if self.queued:
            self._cut(self.queued)
        self.background.submit(self._close)
        return Counts(self.written, self.tally)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.background.finish()  # this shard's writes and close among them
            self._close()
            return
        self.background.close()  # no write of this file runs any more
        with contextlib.suppress(OSError, pa.ArrowException):  # the exception is the news
            self._close()
        self.path.unlink(missing_ok=True)


def parquet_settings() -> dict[str, object]:
    """How a release's Parquet files are cut and compressed, as its manifest records it."""
    return {"compression": f"{COMPRESSION}({COMPRESSION_LEVEL})",
            "row_group_rows": ROW_GROUP_ROWS, "pyarrow": pa.__version__,
            "shards": {"by": "blake2b-64 of the salted article id, 0 modulo "
                       "mean_articles, ends a shard", "salt": SHARD_SALT,
                       "mean_articles": SEGMENT_ARTICLES,
                       "max_articles": MAX_SEGMENT_ARTICLES}}
