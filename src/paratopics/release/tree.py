"""A release's folder of Parquet files: planned, copied from the build cache where
a shard's inputs are unchanged, written where they are not.

The judgement files are read once to plan, their rows kept on disk (see
`units`), and the shards to write are built a unit at a time (the shards that
hold the same articles), each from its own judgements only. Within a unit, in
two passes: its judgements are sorted, streamed into the annotations shard and
reduced to each paragraph's gold decision; then its articles are read one at a
time in id order and their rows go to the writers of its shards. So memory is
bounded by one unit's judgements and a few row groups, not by the corpus.
Nothing here depends on the clock, on the cache or on where a unit is built, so
the same inputs and library versions give the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus, sha256_file, sha256_files
from paratopics.errors import ParatopicsError, fail, index_range
from paratopics.release.build_cache import BuildCache, ShardEntry
from paratopics.release.gold import decide_all, gold_by_article, judgement_groups, sorted_chunks
from paratopics.release.inputs import (
    ArticleFile,
    JudgementFile,
    article_paths,
    codebook_digest,
    give_back_memory,
    held_schema,
    read_article_file,
    read_judgement_file,
    with_paragraph_ids,
)
from paratopics.release.layout import CONFIGS, UNLABELED, Layout
from paratopics.release.rows import (
    ANNOTATION_ORDER,
    Classes,
    Decided,
    arrow_schema,
    article_row,
    paragraph_rows,
    split_of,
)
from paratopics.release.shards import (
    Background,
    Counts,
    Shard,
    ShardWriter,
    judged_by,
    plan_shards,
    shard_names,
)
from paratopics.release.tally import Tally
from paratopics.release.units import (
    SPILL,
    ReadSpill,
    Unit,
    read_pieces,
    remove_spill,
    spill_judgements,
    unit_rows,
    units_of,
)
from paratopics.workers import die_with_parent, ordered_map


@dataclass
class Written:
    """A release folder's files and counts, before its manifest is written."""

    files: list[dict[str, object]]
    rows: dict[str, dict[str, int]]  # config -> split -> rows, splits in split_names() order
    tally: Tally
    shards: int = 0  # planned, empty ones included
    reused: int = 0  # of those, copied from the build cache


class Cancelled(Exception):
    """The build was stopped from outside (its corpus failed validation meanwhile)."""


#: What writes the shards a build misses: `build_units` here, or an engine's map
#: of `build_unit` over the units (paratopics.engine), with the same arguments and
#: result. The tables are every judgement of the corpus, a file at a time, to be
#: read once.
ShardBuilder = Callable[[Path, Corpus, Codebook, dict[str, pa.Schema], list["Shard"],
                         Iterable[pa.Table], dict[str, Any], Callable[[], bool]],
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
    try:
        rows_read = ReadSpill(folder / SPILL)
        judgements: list[JudgementFile] = []
        for path in corpus.annotation_files():
            judgement_file, table = read_judgement_file(path, schemas["annotations"], cache)
            judgements.append(judgement_file)
            rows_read.add(table)
            del table
            give_back_memory()
        paths = article_paths(corpus)
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
        build = build_missing or build_units
        built = build(folder, corpus, codebook, schemas, missing, rows_read.tables(), judged,
                      cancelled) if missing else {}
    finally:
        remove_spill(folder)
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


#: Runs `func(*shared, item)` for each item, wherever it likes, and gives the
#: results back in item order (`workers.ordered_map` over a pool, `RayEngine.map`).
UnitMapper = Callable[..., Iterator[dict[str, ShardEntry]]]

#: Up to this many articles in the shards to write, `build_units` writes them all in
#: one pass in this process, each article read once; beyond, a unit at a time, in
#: worker processes, one per core (each spends about a second importing before it
#: writes), so that memory holds one unit's judgements (docs/scaling.md).
ONE_PASS_ARTICLES = 20_000


def build_units(folder: Path, corpus: Corpus, codebook: Codebook,
                schemas: dict[str, pa.Schema], missing: list[Shard], tables: Iterable[pa.Table],
                judged: dict[str, Any], cancelled: Callable[[], bool],
                jobs: int | None = None, mapper: UnitMapper | None = None,
                ) -> dict[str, ShardEntry]:
    """The `missing` shards: by `mapper` (an engine's map over its cluster) a unit
    at a time; else on this machine, in one pass for few articles, or a unit at a
    time in `jobs` worker processes (default: one per core)."""
    from paratopics.report import Progress

    articles = len({aid for shard in missing for aid in shard.article_ids})
    if mapper is None and articles <= ONE_PASS_ARTICLES:
        progress = Progress("build: articles", total=articles)
        one_pass = build_shards(folder, corpus, codebook, schemas, missing, list(tables),
                                judged, cancelled, progress)
        progress(articles)
        return one_pass
    units = spill_judgements(tables, units_of(missing), folder, judged)
    total = sum(unit_rows(unit) for unit in units)
    progress = Progress("build: articles", total=total)
    jobs = min(jobs or os.cpu_count() or 1, len(units))
    built: dict[str, ShardEntry] = {}
    done = 0
    if mapper is None and jobs < 2:
        for unit in units:
            built.update(build_unit(str(folder), str(corpus.root), codebook, schemas, unit,
                                    cancelled, functools.partial(_progress_from, progress,
                                                                 done)))
            done += unit_rows(unit)
            progress(done)
        return built
    with contextlib.ExitStack() as stack:
        if mapper is None:
            context = multiprocessing.get_context("spawn")  # no fork of a threaded process
            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=jobs, mp_context=context, initializer=die_with_parent,
                initargs=(os.getpid(),)))
            mapper = functools.partial(ordered_map, pool, window=2 * jobs)
        results = mapper(build_unit, units, str(folder), str(corpus.root), codebook, schemas)
        for unit, result in zip(units, results, strict=True):
            if cancelled():
                raise Cancelled
            built.update(result)
            done += unit_rows(unit)
            progress(done)
    return built


def _progress_from(progress: Callable[[int], None], before: int, count: int) -> None:
    progress(before + count)


def build_unit(folder: str, root: str, codebook: Codebook, schemas: Mapping[str, pa.Schema],
               unit: Unit, cancelled: Callable[[], bool] = lambda: False,
               on_progress: Callable[[int], None] | None = None) -> dict[str, ShardEntry]:
    """Write one unit's shards into `folder` (a release being written) from its
    spilled judgements; runs on any node that sees the corpus, to the same bytes."""
    tables = read_pieces(unit.pieces, held_schema(schemas["annotations"]))
    return build_shards(Path(folder), Corpus(Path(root)), codebook, schemas,
                        list(unit.shards), tables, dict.fromkeys(unit.judged), cancelled,
                        on_progress)


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
    routes: dict[tuple[str, str], dict[str, Shard]] = {}
    for shard in missing:
        routes.setdefault((shard.config, shard.split), {}).update(
            dict.fromkeys(shard.article_ids, shard))
    left = {shard.key: len(shard.article_ids) for shard in missing}
    needed = sorted({aid for (config, _), by_id in routes.items() if config != "annotations"
                     for aid in by_id})
    wanted = {aid for by_id in routes.values() for aid in by_id}
    counts: dict[str, Counts] = {}

    def finalize(key: str) -> None:
        counts[key] = writers[key].finalize()

    with contextlib.ExitStack() as stack:  # on an exception, every shard begun is removed
        stack.callback(background.close)
        writers = {shard.key: stack.enter_context(ShardWriter(
            shard.partial(folder), schemas[shard.config], background)) for shard in missing}
        if not wanted.issuperset(judged):
            judgements = judgements.filter(pc.is_in(
                judgements.column("article_id"), value_set=pa.array(sorted(wanted), pa.string())))
        golds: Iterator[tuple[str, Mapping[int, Decided]]]
        if all(shard.split == UNLABELED for shard in missing):
            golds = judged_paragraphs(judgements)
        else:
            ranking = pc.sort_indices(judgements, sort_keys=list(ANNOTATION_ORDER))
            chunks = route_judgements(judgements, ranking, [s for s in missing
                                                            if s.config == "annotations"],
                                      writers, finalize)
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
            decisions: Mapping[int, Decided] = {}
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
                raise unknown_paragraph(aid, decisions, len(article["paragraphs"]))
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
                        finalize(target.key)
        background.finish()
    built = {}
    for shard in missing:
        rows, tally = counts[shard.key]
        path = shard.partial(folder)
        built[shard.key] = ShardEntry(sha256_file(path) if rows else "",
                                      path.stat().st_size if rows else 0, rows, tally.as_json())
    return built


#: A judged paragraph's decision where only that it was judged matters.
JUDGED = Decided((), 0)


def judged_paragraphs(judgements: pa.Table) -> Iterator[tuple[str, Mapping[int, Decided]]]:
    """(article id, {paragraph index: JUDGED}) in article-id order: all that the
    unlabeled shards need of the judgements, which paragraphs have any. Their
    labels are adjudicated only where labeled rows are written, in the article's
    home split."""
    by_article: dict[str, dict[int, Decided]] = {}
    for aid, index in zip(judgements.column("article_id").to_pylist(),
                          judgements.column("paragraph_index").to_pylist(), strict=True):
        by_article.setdefault(aid, {})[index] = JUDGED
    return iter(sorted(by_article.items()))


def route_judgements(judgements: pa.Table, ranking: pa.Array, shards: list[Shard],
                     writers: Mapping[str, ShardWriter], finalize: Callable[[str], None],
                     ) -> Iterator[pa.Table]:
    """Sorted chunks of `judgements` (in `ranking` order), each chunk's rows also
    written to the annotations shards among `shards`, a shard finalized (by its
    key) as soon as the chunks have passed its last article."""
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
            finalize(shards[open_shards.pop(0)].key)
        yield rows
    for i in open_shards:
        finalize(shards[i].key)


def unknown_paragraph(aid: str, decisions: Mapping[int, Decided], count: int
                      ) -> ParatopicsError:
    """The catalog's unknown-paragraph, for judgements no validation has checked
    (build validates first, so this is reached only through the Python API)."""
    outside = sorted(index for index in decisions if not 0 <= index < count)
    return fail("unknown-paragraph", pointer="/paragraph_index", article_id=aid,
                index=outside[0] if outside else "(none)", count=count,
                indexes=index_range(count))
