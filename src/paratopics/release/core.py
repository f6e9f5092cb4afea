"""Releases: validated records in, an immutable folder of Parquet files out.

A release `corpus/releases/vX.Y.Z/` holds one folder per config (paragraphs,
articles, annotations) with Parquet files per split, named as the Hub names
them, and `manifest.json` recording versions, counts, the label distribution,
the adjudication rule and every file's sha256, bytes and rows.

Rows are computed by pure functions from records (`paragraph_rows`,
`article_row`, `annotation_row`). `write_tree` plans the shards first: in
article-id order, each config and split is cut after content-defined
boundaries (`ends_shard`), and each shard gets a key hashed from its inputs.
Shards whose key is in the build cache (`build_cache`) are copied; the rest
are built: the judgements they need are sorted, streamed into their shards and
reduced to each paragraph's gold decision, then their articles are read one
at a time in id order and their rows written row group by row group,
compressed on a background thread. Memory is bounded by the judgements and a
few row groups, not by the number of articles. Nothing in a release depends
on the clock or on the cache, so the same inputs and library versions give
the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import json
import multiprocessing
import os
import secrets
import shutil
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from paratopics.codebook import Codebook
from paratopics.corpus import licences as licences_module
from paratopics.corpus.records import (
    ANNOTATION_SCHEMA_VERSION,
    Annotation,
    Article,
    article_body,
)
from paratopics.corpus.store import (
    Corpus,
    atomic_write,
    fsync_dir,
    load_json,
    sha256_file,
    sha256_files,
)
from paratopics.errors import ParatopicsError, fail
from paratopics.release import judgements as annotations_module
from paratopics.release.build_cache import BuildCache, ShardEntry
from paratopics.release.changelog import (
    append_changelog,
    changelog_path,
    confirm_pending,
)
from paratopics.release.changelog import changelog_digests as changelog_digests
from paratopics.release.changelog import pending_versions as pending_versions
from paratopics.release.layout import (
    CONFIGS,
    DEFAULT_CONFIG,
    SPLITS,
    STRICT_VERSION_RE,
    UNLABELED,
    VERSION_RE,
    Layout,
    features,
    read_manifest,
    release_dir,
    split_names,
)
from paratopics.release.layout import list_versions as list_versions
from paratopics.release.layout import parse_version as parse_version
from paratopics.release.manifest import Manifest, meaning_problems, schema_problems
from paratopics.release.verify import checked_files, class_names
from paratopics.release.verify import verify as verify
from paratopics.validate.cache import cache_dir
from paratopics.validate.core import validate_corpus
from paratopics.validate.summary import Summary
from paratopics.workers import die_with_parent

if TYPE_CHECKING:
    from paratopics.engine.ray_engine import RayEngine as Engine

SPLIT_SALT = "paratopics-split-v1:"
#: Rows per Parquet row group: a few MB of text, small enough to stream.
ROW_GROUP_ROWS = 10_000
#: Rows turned from dicts into Arrow at a time while building (not a file property).
ROWS_PER_BATCH = 500
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 9


# -- splits -------------------------------------------------------------------


#: The licence column's stand-in in the manifest for records that name none.
UNLICENSED = "unlicensed"


def split_of(article_id: str) -> str:
    """The split an article belongs to, forever: a hash of its id, not of the corpus."""
    digest = hashlib.sha256((SPLIT_SALT + article_id).encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, share in SPLITS:
        bound += share
        if point < bound:
            return name
    return SPLITS[-1][0]


def arrow_schema(config: str, codebook: Codebook, layout: Layout | None = None) -> pa.Schema:
    """The explicit Arrow schema, carrying the features in its metadata."""
    return features(config, codebook, layout).arrow_schema


# -- rows (pure) --------------------------------------------------------------


def paragraph_id(article_id: str, index: int) -> str:
    return f"{article_id}/{index}"


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class Classes:
    """Codebook ids as class indexes, looked up once per build rather than per row."""

    label: dict[str, int]
    level1: dict[str, int]
    parent: dict[str, str]  # label id -> its level-1 id
    label_ids: tuple[str, ...] = ()  # class index -> codebook id
    level1_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, codebook: Codebook) -> Classes:
        return cls({code: i for i, code in enumerate(codebook.label_ids)},
                   {code: i for i, code in enumerate(codebook.level1_ids)},
                   {code: codebook.level1(code) for code in codebook.label_ids},
                   tuple(codebook.label_ids), tuple(codebook.level1_ids))

    def indexes(self, labels: Iterable[str]) -> list[int]:
        """Class indexes of gold labels; a code that is no class is refused by name."""
        try:
            return [self.label[code] for code in labels]
        except KeyError as exc:
            raise fail("unknown-label", pointer="/labels", label=exc.args[0],
                       suggestion=" among the classes of a release: gold labels must be "
                       "level-2 or project nodes") from None


class Decided(NamedTuple):
    """What a release keeps of a paragraph's gold decision (see annotations.Gold)."""

    labels: tuple[str, ...]
    annotators: int
    method: str = "single"  # how it was reached; with the two below, only counted
    tied: bool = False
    disputed: bool = False


def paragraph_rows(article: Article, gold: Mapping[int, Decided], classes: Classes, home: str,
                   ) -> Iterator[tuple[str, dict[str, object]]]:
    """(split, row) per paragraph; `gold` by paragraph index, `home` the article's split."""
    aid = article["article_id"]
    published = _date(article["published"])
    for para in article["paragraphs"]:
        decided = gold.get(para["index"])
        labels = classes.indexes(decided.labels) if decided else []
        parents = sorted({classes.level1[classes.parent[code]] for code in decided.labels}
                         ) if decided else []
        yield (home if decided else UNLABELED), {
            "paragraph_id": paragraph_id(aid, para["index"]),
            "article_id": aid,
            "paragraph_index": para["index"],
            "heading": para["heading"],
            "text": para["text"],
            "sha256": para["sha256"],
            "title": article["title"],
            "source": article["source"],
            "published": published,
            "labels": labels,
            "labels_level1": parents,
            "annotators": decided.annotators if decided else 0,
            # the class names of the two above, item by item (layouts with label names)
            "label_names": list(decided.labels) if decided else [],
            "label_names_level1": [classes.level1_ids[i] for i in parents],
        }


def article_row(article: Article, gold: Mapping[int, Decided], classes: Classes, home: str,
                ) -> tuple[str, dict[str, object]]:
    """(split, row) of the article: metadata, paragraphs and the union of their labels."""
    decided = [gold[p["index"]] for p in article["paragraphs"] if p["index"] in gold]
    union = {code for g in decided for code in g.labels if code in classes.label}
    labels = sorted(classes.label[code] for code in union)
    parents = sorted({classes.level1[classes.parent[code]] for code in union})
    return (home if decided else UNLABELED), {
        "article_id": article["article_id"],
        "source": article["source"],
        "url": article["url"],
        "title": article["title"],
        "authors": article["authors"],
        "published": _date(article["published"]),
        "section": article["section"],
        "language": article["language"],
        # null for a record of article schema 1.0.0, which names no licence
        "license": article.get("license"),
        "attribution": article.get("attribution"),
        "body": article_body(article),
        "paragraphs": [{"index": p["index"], "heading": p["heading"], "text": p["text"]}
                       for p in article["paragraphs"]],
        "judged_paragraphs": len(decided),
        "labels": labels,
        "labels_level1": parents,
        "label_names": [classes.label_ids[i] for i in labels],
        "label_names_level1": [classes.level1_ids[i] for i in parents],
    }


def annotation_row(record: Annotation) -> dict[str, object]:
    """The row of one raw judgement; its split is its article's."""
    aid = record["article_id"]
    return {
        "paragraph_id": paragraph_id(aid, record["paragraph_index"]),
        "article_id": aid,
        "paragraph_index": record["paragraph_index"],
        "paragraph_sha256": record["paragraph_sha256"],
        "labels": list(record["labels"]),
        "annotator": record["annotator"],
        "role": record.get("role", "annotator"),
        "created": record["created"],
        "confidence": record.get("confidence"),
        "note": record.get("note"),
    }


#: Judgements are ordered by these columns (they are unique per valid judgement).
ANNOTATION_ORDER = (("article_id", "ascending"), ("paragraph_index", "ascending"),
                    ("annotator", "ascending"), ("created", "ascending"))


# -- inputs -------------------------------------------------------------------


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


def rows_to_table(rows: list[dict[str, object]], schema: pa.Schema) -> pa.Table:
    """`pa.Table.from_pylist(rows, schema=schema)`, column by column: the same
    table, twenty times faster (from_pylist converts row by row)."""
    return pa.Table.from_arrays([pa.array([row[f.name] for row in rows], type=f.type)
                                 for f in schema], schema=schema)


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

    Rows are held as Arrow columns (a few hundred bytes each) rather than as
    dicts (about three times that).
    """
    whole = hashlib.sha256()
    per_article: dict[str, Any] = {}
    tables: list[pa.Table] = []
    rows: list[dict[str, object]] = []
    for line in lines:
        whole.update(line)
        if not line.strip():
            continue
        row = annotation_row(load_json(line))
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
    paragraph_id, derived from article id and index when written (a tenth of
    the memory of a million judgements)."""
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


def compact(tables: list[pa.Table]) -> pa.Table:
    """`tables` as one table in buffers of their exact size, `tables` emptied.

    Arrow builders grow their buffers by doubling; a million judgements held
    as a few hundred files' tables keep about 60% more memory than their data.
    """
    whole = pa.concat_tables(tables).combine_chunks()
    tables.clear()
    give_back_memory()
    return whole


@dataclass(frozen=True)
class ArticleFile:
    article_id: str
    path: Path
    sha256: str


def _article_files(corpus: Corpus) -> list[Path]:
    """Article records in article-id order (a file is named by its record's id)."""
    return sorted(corpus.article_files(), key=lambda p: p.name[:-len(".json")])


def read_article_file(path: Path) -> Article:
    article: Article = load_json(path.read_bytes())
    if article["article_id"] != path.stem:
        raise fail("article-id-mismatch", file=str(path), pointer="/article_id",
                   detail=f"the record's id {article['article_id']!r} is not its file name "
                   f"{path.stem!r}")
    return article


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


def articles_of(shards: Iterable[Shard]) -> set[str]:
    """The articles whose records the shards' rows are made from (annotations rows
    are made from judgements alone)."""
    return {aid for shard in shards if shard.config != "annotations"
            for aid in shard.article_ids}


def shard_names(split: str, count: int) -> list[str]:
    return [f"{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


# -- judgements to gold decisions -----------------------------------------------


def sorted_chunks(table: pa.Table, order: pa.Array, size: int = READ_BATCH
                  ) -> Iterator[pa.Table]:
    """`table` in the row order `order`, a chunk at a time (no sorted copy of it all).

    Rows are taken from each of the table's record batches apart: a take from a
    chunked column first concatenates the whole column, which for a million
    judgements is a copy of the largest column, made again for every chunk.
    """
    batches = table.to_batches()
    starts = np.cumsum([0] + [batch.num_rows for batch in batches])
    for start in range(0, len(order), size):
        rows = order.slice(start, size).to_numpy().astype(np.int64)
        home = np.searchsorted(starts, rows, side="right") - 1  # each row's batch
        grouped = np.argsort(home, kind="stable")  # the rows, batch by batch
        homes, counts = np.unique(home[grouped], return_counts=True)
        pieces = np.split(rows[grouped], np.cumsum(counts)[:-1])
        parts = [batches[b].take(pa.array(piece - starts[b]))
                 for b, piece in zip(homes, pieces, strict=True)]
        taken = pa.Table.from_batches(parts, schema=table.schema)
        yield taken.take(pa.array(np.argsort(grouped)))  # back into `order`
        if start % (10 * size) == 0:
            give_back_memory()  # the chunks taken and dropped so far


def judgement_groups(chunks: Iterable[pa.Table]) -> Iterator[list[Annotation]]:
    """The judgements of each paragraph together, from chunks of sorted judgements."""
    columns = ("article_id", "paragraph_index", "labels", "annotator", "role", "created")
    group: list[Annotation] = []
    for chunk in chunks:
        for values in zip(*(chunk.column(c).to_pylist() for c in columns), strict=True):
            record: Annotation = dict(zip(columns, values, strict=True))  # type: ignore[assignment]
            if group and (group[0]["article_id"], group[0]["paragraph_index"]) != (
                    record["article_id"], record["paragraph_index"]):
                yield group
                group = []
            group.append(record)
    if group:
        yield group


GOLD_SCHEMA = pa.schema([("article_id", pa.string()), ("paragraph_index", pa.int32()),
                         ("labels", pa.list_(pa.string())), ("annotators", pa.int32()),
                         ("method", pa.string()), ("tied", pa.bool_()),
                         ("disputed", pa.bool_())])


def decide_all(groups: Iterable[list[Annotation]], codebook: Codebook) -> pa.Table:
    """Every judged paragraph's gold labels (by the adjudication rule), in the
    order of `groups`, as compact Arrow columns."""
    order = {code: i for i, code in enumerate(n["id"] for n in codebook.nodes)}
    tables: list[pa.Table] = []
    rows: list[dict[str, object]] = []
    for group in groups:
        decided = annotations_module.adjudicate(group, order)
        rows.append({"article_id": decided.article_id,
                     "paragraph_index": decided.paragraph_index,
                     "labels": decided.labels, "annotators": decided.annotators,
                     "method": decided.method, "tied": bool(decided.ties),
                     "disputed": bool(decided.disputed)})
        if len(rows) == READ_BATCH:
            tables.append(rows_to_table(rows, GOLD_SCHEMA))
            rows = []
    tables.append(rows_to_table(rows, GOLD_SCHEMA))
    return pa.concat_tables(tables)


def gold_by_article(gold: pa.Table) -> Iterator[tuple[str, dict[int, Decided]]]:
    """(article id, decisions by paragraph index) from `decide_all`'s table, in its order."""
    current: str | None = None
    decisions: dict[int, Decided] = {}
    for start in range(0, gold.num_rows, READ_BATCH):
        chunk = gold.slice(start, READ_BATCH)
        for aid, index, labels, annotators, method, tied, disputed in zip(
                *(chunk.column(c).to_pylist() for c in GOLD_SCHEMA.names), strict=True):
            if aid != current:
                if current is not None:
                    yield current, decisions
                current, decisions = aid, {}
            decisions[index] = Decided(tuple(labels), annotators, method, tied, disputed)
    if current is not None:
        yield current, decisions


# -- writing ------------------------------------------------------------------


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


@dataclass
class Tally:
    """What the manifest counts; each shard counts its own rows, and the release sums them."""

    articles: int = 0
    judgements: int = 0
    published: list[str] = field(default_factory=list)  # first and last date seen
    labels: dict[int, Counter[str]] = field(default_factory=dict)  # class -> split -> count
    methods: Counter[str] = field(default_factory=Counter)
    ties: int = 0
    disputed: int = 0
    hashed: list[tuple[str, str]] = field(default_factory=list)  # inputs, for the fingerprint
    #: source -> licence id -> articles ("unlicensed": a record of article schema 1.0.0)
    licences: dict[str, Counter[str]] = field(default_factory=dict)

    def saw_licence(self, source: str, licence: str | None) -> None:
        self.licences.setdefault(source, Counter())[licence or UNLICENSED] += 1

    def saw_published(self, date: str) -> None:
        if not self.published:
            self.published = [date, date]
        else:
            self.published = [min(self.published[0], date), max(self.published[1], date)]

    def saw_paragraph(self, split: str, labels: Iterable[int], decided: Decided | None) -> None:
        for label in labels:
            self.labels.setdefault(label, Counter())[split] += 1
        if decided is not None:
            self.methods[decided.method] += 1
            self.ties += decided.tied
            self.disputed += decided.disputed

    def add(self, other: Tally) -> None:
        self.articles += other.articles
        self.judgements += other.judgements
        for date in other.published:
            self.saw_published(date)
        for label, splits in other.labels.items():
            self.labels.setdefault(label, Counter()).update(splits)
        self.methods.update(other.methods)
        self.ties += other.ties
        self.disputed += other.disputed
        for source, counts in other.licences.items():
            self.licences.setdefault(source, Counter()).update(counts)

    def as_json(self) -> dict[str, object]:
        """The counts (not the inputs), for a shard's cache entry."""
        return {"articles": self.articles, "judgements": self.judgements,
                "published": self.published, "methods": dict(self.methods),
                "labels": {str(k): dict(v) for k, v in self.labels.items()},
                "ties": self.ties, "disputed": self.disputed,
                "licences": {k: dict(v) for k, v in self.licences.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls(data["articles"], data["judgements"], list(data["published"]),
                   {int(k): Counter(v) for k, v in data["labels"].items()},
                   Counter(data["methods"]), data["ties"], data["disputed"],
                   licences={k: Counter(v) for k, v in data.get("licences", {}).items()})


@dataclass
class ShardWriter:
    """One shard's Parquet file, written a row group at a time as rows arrive.

    Row groups hold ROW_GROUP_ROWS rows counted from the start of the shard,
    exactly as one `pq.write_table` of the shard would cut them.
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

    def finish(self) -> None:
        """Write what is left and close the file (in the background, after the rest)."""
        if self.rows:
            self._convert()
        if self.queued:
            self._cut(self.queued)
        self.background.submit(self._close)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


@dataclass
class Written:
    """A release folder's files and counts, before its manifest is written."""

    files: list[dict[str, object]]
    rows: dict[str, dict[str, int]]  # config -> split -> rows, splits in split_names() order
    tally: Tally
    shards: int = 0  # planned, empty ones included
    reused: int = 0  # of those, copied from the build cache


def give_back_memory() -> None:
    """Return Arrow's freed memory to the system. Its allocator (mimalloc) keeps
    what it freed for reuse: after the judgements are sorted, written and
    dropped, that is over a gigabyte at a million paragraphs, counted in RSS."""
    pa.default_memory_pool().release_unused()


class Cancelled(Exception):
    """The build was stopped from outside (its corpus failed validation meanwhile)."""


#: What writes the shards a build misses: `build_shards` here, or an engine's map
#: of it over the shards (paratopics.engine), with the same arguments and result.
ShardBuilder = Callable[[Path, Corpus, Codebook, dict[str, pa.Schema], list["Shard"],
                         list[pa.Table], dict[str, Any], Callable[[], bool]],
                        dict[str, ShardEntry]]


def write_tree(folder: Path, corpus: Corpus, codebook: Codebook,
               cancelled: Callable[[], bool] = lambda: False,
               cache: BuildCache | None = None,
               build_missing: ShardBuilder | None = None,
               layout: Layout | None = None) -> Written:
    """Every config's Parquet files under `folder`: copied from `cache` where a
    shard's inputs are unchanged, built (and cached) where they are not; in the
    columns of `layout` (an existing release's, when it is built again; default:
    the current one)."""
    cache = cache or BuildCache()
    layout = layout or Layout()
    schemas = {config: arrow_schema(config, codebook, layout) for config in CONFIGS}
    judgements, tables, recent = [], [], []
    for path in corpus.annotation_files():
        judgement_file, table = read_judgement_file(path, schemas["annotations"], cache)
        judgements.append(judgement_file)
        recent.append(table)
        if sum(t.num_rows for t in recent) >= READ_BATCH * 4:
            tables.append(compact(recent))
    if recent:
        tables.append(compact(recent))
    paths = _article_files(corpus)
    articles = [ArticleFile(path.stem, path, digest)
                for path, digest in zip(paths, sha256_files(paths), strict=True)]
    book = codebook_digest(codebook)
    judged = judged_by(judgements)
    hashed = [*((j.name, j.sha256) for j in judgements),
              *((f"articles/{a.path.name}", a.sha256) for a in articles), book]
    shards = plan_shards(articles, judged, f"{book[1]}:{layout.key}")
    del judgements, articles  # their per-file digests are in `judged` and the shard keys
    for config in CONFIGS:
        (folder / config).mkdir(parents=True, exist_ok=True)
    done: dict[str, ShardEntry] = {}
    for shard in shards:
        entry = cache.fetch_shard(shard.key, shard.partial(folder))
        if entry is not None:
            done[shard.key] = entry
    missing = [shard for shard in shards if shard.key not in done]
    if build_missing is None:  # this process writes every shard: say how far it is
        from paratopics.report import Progress

        progress = Progress("build: articles", total=len(articles_of(missing)))
        built = build_shards(folder, corpus, codebook, schemas, missing, tables, judged,
                             cancelled, on_progress=progress)
    else:
        built = build_missing(folder, corpus, codebook, schemas, missing, tables, judged,
                              cancelled)
    for shard in missing:
        entry = built[shard.key]
        cache.store_shard(shard.key, shard.partial(folder) if entry.rows else None, entry)
    done.update(built)
    tally = Tally(hashed=hashed)
    files: list[dict[str, object]] = []
    rows: dict[str, dict[str, int]] = {config: {} for config in CONFIGS}
    # plan_shards lists shards by config, then split, then position
    for (config, split), group in itertools.groupby(shards, lambda s: (s.config, s.split)):
        planned = list(group)
        for shard in planned:
            tally.add(Tally.from_json(done[shard.key].tally))
        full = [shard for shard in planned if done[shard.key].rows]
        for shard, name in zip(full, shard_names(split, len(full)), strict=True):
            entry = done[shard.key]
            os.rename(shard.partial(folder), folder / config / name)
            files.append({"path": f"{config}/{name}", "sha256": entry.sha256,
                          "bytes": entry.bytes, "rows": entry.rows})
            rows[config][split] = rows[config].get(split, 0) + entry.rows
    return Written(files, rows, tally, len(shards), len(shards) - len(missing))


def build_shards(folder: Path, corpus: Corpus, codebook: Codebook,
                 schemas: Mapping[str, pa.Schema], missing: list[Shard],
                 tables: list[pa.Table], judged: Mapping[str, Any],
                 cancelled: Callable[[], bool],
                 on_progress: Callable[[int], None] | None = None) -> dict[str, ShardEntry]:
    """Write the `missing` shards: their judgements first, then their articles' rows.

    `tables` holds every judgement file's rows; it is emptied, so that they are
    freed once the decisions are made.

    Judgements are filtered to the articles needed and reduced to each
    paragraph's gold decision; then those articles are read one at a time in
    id order and their rows go to the writers of their shards, each closed
    after its last article. Memory holds the judgements (then only the
    decisions) and a few row groups, never every row of the corpus.
    """
    judgements = pa.concat_tables(tables) if tables else (
        held_schema(schemas["annotations"]).empty_table())
    tables.clear()
    if not missing:
        return {}
    classes = Classes.of(codebook)
    background = Background()
    writers = {shard.key: ShardWriter(shard.partial(folder), schemas[shard.config], background)
               for shard in missing}
    routes: dict[tuple[str, str], dict[str, Shard]] = {}
    for shard in missing:
        routes.setdefault((shard.config, shard.split), {}).update(
            dict.fromkeys(shard.article_ids, shard))
    left = {shard.key: len(shard.article_ids) for shard in missing}
    needed = sorted({aid for (config, _), by_id in routes.items() if config != "annotations"
                     for aid in by_id})
    wanted = {aid for by_id in routes.values() for aid in by_id}
    try:
        if not wanted.issuperset(judged):
            judgements = judgements.filter(pc.is_in(
                judgements.column("article_id"), value_set=pa.array(sorted(wanted), pa.string())))
        ranking = pc.sort_indices(judgements, sort_keys=list(ANNOTATION_ORDER))
        chunks = route_judgements(judgements, ranking, [s for s in missing
                                                        if s.config == "annotations"], writers)
        del judgements
        gold = decide_all(judgement_groups(chunks), codebook)
        del ranking, chunks  # the articles' pass needs only the decisions
        give_back_memory()
        golds = gold_by_article(gold)
        pending = next(golds, None)
        for count, aid in enumerate(needed):
            if count % 1000 == 999:
                if cancelled():
                    raise Cancelled
                if on_progress is not None:
                    on_progress(count + 1)
                if count % 10_000 == 9_999:
                    give_back_memory()
            while pending is not None and pending[0] < aid:  # decisions of articles not needed
                pending = next(golds, None)
            decisions: dict[int, Decided] = {}
            if pending is not None and pending[0] == aid:
                decisions, pending = pending[1], next(golds, None)
            article = read_article_file(corpus.articles / f"{aid}.json")
            home = split_of(aid)
            for split, row in paragraph_rows(article, decisions, classes, home):
                target = routes.get(("paragraphs", split), {}).get(aid)
                if target is not None:
                    writers[target.key].add_row(row)
                    writers[target.key].tally.saw_paragraph(
                        split, row["labels"], decisions.get(row["paragraph_index"]))  # type: ignore[arg-type, call-overload]
            split, row = article_row(article, decisions, classes, home)
            if split != (home if aid in judged else UNLABELED):
                raise RuntimeError(f"{aid}: its judgements name no paragraph of it; "
                                   "run paratopics validate")
            target = routes.get(("articles", split), {}).get(aid)
            if target is not None:
                writers[target.key].add_row(row)
                writers[target.key].tally.articles += 1
                writers[target.key].tally.saw_published(article["published"])
                writers[target.key].tally.saw_licence(article["source"], article.get("license"))
            for config, split in (("paragraphs", home), ("paragraphs", UNLABELED),
                                  ("articles", home), ("articles", UNLABELED)):
                target = routes.get((config, split), {}).get(aid)
                if target is not None:
                    left[target.key] -= 1
                    if not left[target.key]:
                        writers[target.key].finish()
        background.finish()
    finally:
        background.close()
    built = {}
    for shard in missing:
        writer, path = writers[shard.key], shard.partial(folder)
        built[shard.key] = ShardEntry(
            sha256_file(path) if writer.written else "",
            path.stat().st_size if writer.written else 0, writer.written, writer.tally.as_json())
    return built


def route_judgements(judgements: pa.Table, ranking: pa.Array, shards: list[Shard],
                     writers: Mapping[str, ShardWriter]) -> Iterator[pa.Table]:
    """Sorted chunks of `judgements` (in `ranking` order), each chunk's rows also
    written to the annotations shards among `shards`, a shard closed as soon as
    the chunks have passed its last article."""
    ids = [aid for shard in shards for aid in shard.article_ids]
    positions = pa.array([i for i, shard in enumerate(shards) for _ in shard.article_ids],
                         pa.int32())
    where = pc.take(positions, pc.index_in(judgements.column("article_id"),
                                           value_set=pa.array(ids, pa.string())))
    tagged = judgements.append_column("shard", where)
    del judgements, where
    open_shards = sorted(range(len(shards)), key=lambda i: shards[i].article_ids[-1])
    columns = [name for name in tagged.column_names if name != "shard"]
    for chunk in sorted_chunks(tagged, ranking):
        rows = chunk.select(columns)
        for i in pc.unique(chunk.column("shard")).drop_null().to_pylist():
            writer = writers[shards[i].key]
            part = rows.filter(pc.equal(chunk.column("shard"), i))
            writer.tally.judgements += part.num_rows
            writer.add_table(with_paragraph_ids(part, writer.schema))
        last = chunk.column("article_id")[-1].as_py() if chunk.num_rows else ""
        while open_shards and shards[open_shards[0]].article_ids[-1] < last:
            writers[shards[open_shards.pop(0)].key].finish()
        yield rows
    for i in open_shards:
        writers[shards[i].key].finish()


def label_distribution(tally: Tally, codebook: Codebook) -> dict[str, dict[str, object]]:
    """Per label: its name, level-1 parent and gold paragraph count per split."""
    return {
        code: {"name": codebook.name(code), "level1": codebook.level1(code),
               "paragraphs": dict(sorted(tally.labels[i].items()))}
        for i, code in enumerate(codebook.label_ids) if i in tally.labels
    }


def licence_table(tally: Tally) -> dict[str, object]:
    """Per source, the articles under each licence; and what each licence id means."""
    used = sorted({lid for counts in tally.licences.values() for lid in counts
                   if lid != UNLICENSED})
    return {
        "by_source": {source: dict(sorted(counts.items()))
                      for source, counts in sorted(tally.licences.items())},
        "terms": {lid: {"name": licences_module.describe(lid).name,
                        "url": licences_module.describe(lid).url}
                  for lid in used},
    }


def build_manifest(version: str, written: Written, codebook: Codebook,
                   layout: Layout | None = None) -> Manifest:
    layout = layout or Layout()
    tally = written.tally
    first, last = tally.published if tally.published else (None, None)
    return Manifest.from_dict({
        "name": "paratopics",
        "version": version,
        "manifest_version": layout.manifest_version,
        "versions": {"corpus": version, "article_schema": layout.article_schema,
                     "annotation_schema": ANNOTATION_SCHEMA_VERSION,
                     "codebook": codebook.version},
        "inputs": {"fingerprint": fingerprint(tally.hashed), "articles": tally.articles,
                   "judgements": tally.judgements,
                   "published": {"first": first, "last": last}},
        "splits": {"by": "sha256 of the salted article id", "salt": SPLIT_SALT,
                   "proportions": dict(SPLITS), "unlabeled": UNLABELED},
        "adjudication": {"rule": annotations_module.RULE, "text": annotations_module.RULE_TEXT,
                         "methods": dict(sorted(tally.methods.items())),
                         "ties": tally.ties, "disputed": tally.disputed},
        "configs": {c: {"default": c == DEFAULT_CONFIG, "rows": written.rows[c]}
                    for c in CONFIGS},
        "labels": {"classes": len(codebook.label_ids),
                   "distribution": label_distribution(tally, codebook)},
        "licences": licence_table(tally),
        "parquet": {"compression": f"{COMPRESSION}({COMPRESSION_LEVEL})",
                    "row_group_rows": ROW_GROUP_ROWS, "pyarrow": pa.__version__,
                    "shards": {"by": "blake2b-64 of the salted article id, 0 modulo "
                               "mean_articles, ends a shard", "salt": SHARD_SALT,
                               "mean_articles": SEGMENT_ARTICLES,
                               "max_articles": MAX_SEGMENT_ARTICLES}},
        "files": written.files,
    })


def check_version(version: str) -> str:
    """`version` if a new release may take it: X.Y.Z, numbers without leading zeros."""
    if not STRICT_VERSION_RE.match(version):
        zeros = " without leading zeros" if VERSION_RE.match(version) else ""
        raise ValueError(f"version {version!r} is not X.Y.Z (semantic versioning: three "
                         f"numbers{zeros}, like 1.2.0)")
    return version


def _content(manifest: Manifest) -> object:
    return [(f.path, f.sha256) for f in manifest.files]


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    status: str  # "built" | "identical"
    manifest: Manifest
    shards: int = 0  # planned, empty ones included
    reused: int = 0  # of those, copied from the build cache


def _reason(exc: ParatopicsError) -> str:
    """A refused write's reason, without the "nothing was changed" that is true of the
    one file but not of the command that wrote others before it."""
    return exc.problem.message.removesuffix("; nothing was changed")


def build(corpus: Corpus, version: str, codebook: Codebook, notes: str | None = None,
          *, publish_if: Callable[[], bool] = lambda: True,
          cancelled: Callable[[], bool] = lambda: False, use_cache: bool = True,
          build_missing: ShardBuilder | None = None) -> BuildResult:
    """Write release `version`, or confirm an identical one; refuse a different one.

    The release is written into a hidden temporary folder and renamed into
    place, so an interrupted build leaves no partial release behind. Nothing is
    published unless `publish_if()` says so at the end; `cancelled()` is asked
    now and then, and a True stops the build. Both raise Cancelled.
    """
    check_version(version)
    target = release_dir(corpus, version)  # (refuses a symlinked releases folder)
    corpus.releases.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(corpus)
    confirm_pending(corpus)  # finish what a killed build left
    tmp = claim_build_folder(corpus, version)
    try:
        cache = BuildCache.open(cache_dir()) if use_cache else BuildCache()
        # an existing release is built again in its own columns, so that a schema or a
        # layout that only added columns (article schema 1.1.0: license, attribution;
        # manifest 1.3.0: label_names) leaves it reproducible
        layout = (Layout.of(read_manifest(corpus, version))
                  if (release_dir(corpus, version) / "manifest.json").is_file()
                  else Layout())
        written = write_tree(tmp, corpus, codebook, cancelled, cache, build_missing, layout)
        manifest = build_manifest(version, written, codebook, layout)
        if not publish_if():
            raise Cancelled
        atomic_write(tmp / "manifest.json", manifest.to_json())
        if target.exists():
            existing = read_manifest(corpus, version)
            if _content(existing) != _content(manifest):
                raise fail("release-exists", file=str(target),
                           detail=f"v{version} exists with different content "
                           f"({_summary_of_change(existing, manifest)})")
            append_changelog(corpus, existing, notes, only_if_missing=True)
            return BuildResult(version, target, "identical", existing)
        fsync_tree(tmp)
        append_changelog(corpus, manifest, notes, digest=sha256_file(tmp / "manifest.json"),
                         pending=True)
        os.rename(tmp, target)
        fsync_dir(corpus.releases)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            build_marker(tmp).unlink()
    try:
        confirm_pending(corpus)
    except ParatopicsError as exc:  # the release is in place: "nothing was changed" is false
        raise fail("partly-written", file=str(changelog_path(corpus)), detail=(
            f"release v{version} is complete at {target}, and its changelog entry is written "
            f"but still marked pending: confirming it failed ({_reason(exc)}); run "
            "the same build again to confirm it")) from None
    return BuildResult(version, target, "built", manifest, written.shards, written.reused)


#: A build's temporary folder `.tmp-vX.Y.Z-<random>` is claimed by first creating the
#: marker file of that name plus this suffix beside it: a folder is a build's leftover
#: to delete only when its marker is there, so it is marked from before it exists
#: until after it is renamed into a release.
BUILD_MARKER = ".paratopics-build"


def build_marker(folder: Path) -> Path:
    return folder.with_name(folder.name + BUILD_MARKER)


def claim_build_folder(corpus: Corpus, version: str) -> Path:
    """A new, empty temporary folder for building `version`, with its marker."""
    while True:
        folder = corpus.releases / f".tmp-v{version}-{secrets.token_hex(6)}"
        try:
            fd = os.open(build_marker(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"paratopics build v{version}, pid {os.getpid()}\n")
        try:
            folder.mkdir()
        except FileExistsError:  # someone else's folder of that name: not ours to use
            build_marker(folder).unlink()
            continue
        return folder


def remove_stale_builds(corpus: Corpus) -> None:
    """Delete what killed builds left in the releases folder: each marked temporary
    folder and its marker. A `.tmp-*` folder without a marker is not a build's, and
    is left alone."""
    for marker in corpus.releases.glob(f".tmp-v*{BUILD_MARKER}"):
        if marker.is_symlink() or not marker.is_file():
            continue
        stale = marker.with_name(marker.name.removesuffix(BUILD_MARKER))
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        with contextlib.suppress(OSError):
            marker.unlink()


#: From this many article files on, `validate_then_build` validates in a second
#: process beside the build (at a million paragraphs each takes about a minute).
PARALLEL_FROM_ARTICLES = 5_000


def validate_then_build(corpus: Corpus, version: str, codebook: Codebook,
                        notes: str | None = None, use_cache: bool = True,
                        engine: Engine | None = None,
                        ) -> tuple[Summary, BuildResult | None]:
    """Validate the corpus, then build release `version` if it is valid.

    For a large corpus the two run at once, validation in a child process: the
    build writes into its temporary folder, stops as soon as validation has
    failed, and publishes nothing before it has passed. The outcome is that of
    validating first, on two cores in about half the time. On an `engine` (a
    cluster, which each stage fills on its own) validation comes first, then the build.
    """
    if engine is not None:
        summary = validate_corpus(corpus, codebook=codebook, use_cache=use_cache,
                                  mapper=engine.map)
        return summary, (None if summary.errors else build(
            corpus, version, codebook, notes, use_cache=use_cache,
            build_missing=engine.build_shards))
    if len(corpus.article_files()) < PARALLEL_FROM_ARTICLES:
        summary = validate_corpus(corpus, codebook=codebook, use_cache=use_cache)
        return summary, (None if summary.errors else build(corpus, version, codebook, notes,
                                                           use_cache=use_cache))
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        checking = pool.submit(validate_corpus, corpus, None, codebook, use_cache=use_cache)

        def failed() -> bool:
            return checking.done() and checking.result().errors > 0

        try:
            result = build(corpus, version, codebook, notes,
                           publish_if=lambda: checking.result().errors == 0, cancelled=failed,
                           use_cache=use_cache)
        except Exception:
            summary = checking.result()
            if summary.errors:  # the data is bad: its problems, not the build's crash
                return summary, None
            raise
        return checking.result(), result


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(path if path.is_dir() else path.parent)


def _summary_of_change(old: Manifest, new: Manifest) -> str:
    old_files = {f.path: f.sha256 for f in old.files}
    new_files = {f.path: f.sha256 for f in new.files}
    differ = sorted(p for p in set(old_files) | set(new_files)
                    if old_files.get(p) != new_files.get(p))
    return "differing files: " + ", ".join(differ[:5]) + ("…" if len(differ) > 5 else "")


# -- reading releases back (for diff and stats) -------------------------------


def read_config(corpus: Corpus, version: str, config: str, check: bool = True,
                ) -> dict[str, pa.Table]:
    """split -> the rows of `config` in release `version`, from the files its
    manifest lists (never a stray file beside them), checked first against the
    manifest and the changelog unless `check` is False."""
    manifest = read_manifest(corpus, version)
    by_split = manifest.files_of(config)
    folder = release_dir(corpus, version)
    if check:
        checked_files(folder, manifest,
                      [entry for entries in by_split.values() for entry in entries], corpus)
    return {split: pa.concat_tables(pq.read_table(folder / entry.path)
                                    for entry in sorted(by_split[split], key=lambda e: e.path))
            for split in split_names() if split in by_split}


def manifest_schema_problems(manifest: Manifest | Mapping[str, object]) -> list[str]:
    """What keeps `manifest` (or its JSON value) from being a valid manifest."""
    data = manifest.to_dict() if isinstance(manifest, Manifest) else manifest
    return schema_problems(data) or meaning_problems(data, None)


# -- diff ---------------------------------------------------------------------


def _paragraph_view(corpus: Corpus, version: str
                    ) -> dict[str, tuple[str, int, str, tuple[str, ...]]]:
    """paragraph_id -> (article_id, index, sha256, gold label ids) over every split."""
    view = {}
    for table in read_config(corpus, version, "paragraphs").values():
        names = class_names(table.schema, "labels")
        columns = [table.column(c).to_pylist() for c in
                   ("paragraph_id", "article_id", "paragraph_index", "sha256", "labels")]
        for pid, aid, index, sha, labels in zip(*columns, strict=True):
            view[pid] = (aid, index, sha, tuple(names[i] for i in labels))
    return view


def diff(corpus: Corpus, old: str, new: str) -> dict[str, object]:
    """What changed between two releases: articles, paragraph texts, labels, counts."""
    before, after = _paragraph_view(corpus, old), _paragraph_view(corpus, new)

    def by_article(view: dict[str, tuple[str, int, str, tuple[str, ...]]]
                   ) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for aid, _index, sha, _labels in sorted(view.values()):
            out.setdefault(aid, []).append(sha)
        return out

    a, b = by_article(before), by_article(after)
    label_changes = [
        {"paragraph_id": pid, "before": list(before[pid][3]), "after": list(after[pid][3])}
        for pid in sorted(set(before) & set(after), key=lambda p: before[p][:2])
        if before[pid][3] != after[pid][3]
    ]
    newly_labeled = sorted(pid for pid in set(after) - set(before) if after[pid][3])
    m_old, m_new = read_manifest(corpus, old), read_manifest(corpus, new)
    counts = {}
    for config in CONFIGS:
        rows_old, rows_new = m_old.rows(config), m_new.rows(config)
        counts[config] = {s: {"before": rows_old.get(s, 0), "after": rows_new.get(s, 0)}
                          for s in split_names() if rows_old.get(s) or rows_new.get(s)}
    return {
        "from": old, "to": new,
        "articles": {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
                     "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k])},
        "label_changes": label_changes,
        "labeled_paragraphs_added": len(newly_labeled),
        "counts": counts,
        "versions": {"before": m_old.versions.to_dict(), "after": m_new.versions.to_dict()},
    }


def diff_text(result: dict[str, object]) -> str:
    from paratopics.report import table

    arts = result["articles"]
    lines = [f"paratopics v{result['from']} -> v{result['to']}", ""]
    for kind in ("added", "removed", "changed"):
        ids = arts[kind]  # type: ignore[index]
        lines.append(f"articles {kind}: {len(ids)}")
        lines += [f"  {aid}" for aid in ids[:20]] + (["  …"] if len(ids) > 20 else [])
    changes = result["label_changes"]
    lines += ["", f"paragraph label changes: {len(changes)}"]  # type: ignore[arg-type]
    for change in changes[:50]:  # type: ignore[index]
        lines.append(f"  {change['paragraph_id']}: {', '.join(change['before']) or '-'} -> "
                     f"{', '.join(change['after']) or '-'}")
    rows = [[config, split, v["before"], v["after"], v["after"] - v["before"]]
            for config, splits in result["counts"].items()  # type: ignore[attr-defined]
            for split, v in splits.items()]
    lines += ["", table(["config", "split", "before", "after", "change"], rows)]
    return "\n".join(lines)


# -- stats --------------------------------------------------------------------


def stats_text(manifest: Manifest) -> str:
    from paratopics.report import table

    counts = [[config, split, n] for config, info in manifest.configs.items()
              for split, n in info.rows.items()]
    split_cols = [s for s in split_names() if s != UNLABELED]
    label_rows: list[list[object]] = sorted(
        ([code, info.name, *(info.paragraphs.get(s, 0) for s in split_cols),
          sum(info.paragraphs.values())] for code, info in manifest.distribution.items()),
        key=lambda r: (-int(r[-1]), str(r[0])))  # type: ignore[call-overload]
    return "\n".join([
        f"paratopics v{manifest.version} (codebook {manifest.versions.codebook})",
        "", table(["config", "split", "rows"], counts), "",
        "gold labels (paragraphs per split)",
        table(["label", "name", *split_cols, "total"], label_rows),
    ])


def plot_labels(manifest: Manifest, out: Path) -> Path:
    """A horizontal bar chart of the label distribution, for the dataset card."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = sorted(((info.name, sum(info.paragraphs.values()))
                    for info in manifest.distribution.values()), key=lambda x: x[1])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1.2), dpi=110)
    ax.barh([name for name, _ in items], [n for _, n in items], color="#3b6ea8")
    ax.set_xlabel("paragraphs with the label (gold, all splits)")
    ax.set_title(f"paratopics v{manifest.version}: label distribution")
    for i, (_, n) in enumerate(items):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None, "Creation Time": None})
    plt.close(fig)
    return out
