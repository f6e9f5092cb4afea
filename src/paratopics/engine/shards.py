"""A release's missing shards as independent pieces of work, for an engine to run anywhere.

Shards with the same articles (a split's paragraphs, articles and annotations
shards hold exactly the same judged articles) form one unit, so each unit
reads its articles and decides their gold labels once. A unit needs only the
judgements of its own articles: they are partitioned by unit into spill files
(Arrow IPC) beside the release being written, which every node sees, one file
per table of judgements with one record batch per unit, so that no worker ever
holds more than its own units' judgements and the driver never a second copy.

Each unit is then written by `release.tree.build_shards`, the writer of the
local build, so a shard built on any node has the bytes of the local build.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus
from paratopics.release.build_cache import ShardEntry
from paratopics.release.inputs import held_schema
from paratopics.release.layout import UNLABELED
from paratopics.release.shards import Shard
from paratopics.release.tree import build_shards

#: The folder inside a release being written that holds the spill files; removed
#: before the release is published.
SPILL = ".spill"


@dataclass(frozen=True)
class Unit:
    """Shards that hold the same articles, built together by one task."""

    shards: tuple[Shard, ...]
    #: Spill files holding this unit's judgements, each with its record batches.
    pieces: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: Those of its articles that somebody judged.
    judged: tuple[str, ...] = ()

    @property
    def article_ids(self) -> tuple[str, ...]:
        return self.shards[0].article_ids

    @property
    def layer(self) -> str:
        """Units of one layer hold disjoint articles: every judged article has one
        home split; the unlabeled paragraphs and articles are cut apart."""
        split = self.shards[0].split
        return "home" if split != UNLABELED else f"{self.shards[0].config}/{UNLABELED}"


def units_of(missing: Sequence[Shard]) -> list[Unit]:
    """The missing shards grouped by their article ids, in plan order."""
    groups: dict[tuple[str, ...], list[Shard]] = {}
    for shard in missing:
        groups.setdefault(shard.article_ids, []).append(shard)
    return [Unit(tuple(shards)) for shards in groups.values()]


def spill_judgements(tables: list[pa.Table], units: list[Unit], folder: Path,
                     judged: Mapping[str, object]) -> list[Unit]:
    """`units` with the spill files of their judgements, written under `folder`.

    `tables` is emptied as it is read, so that each table is freed once spilled.
    """
    layers: dict[str, list[int]] = {}
    for number, unit in enumerate(units):
        layers.setdefault(unit.layer, []).append(number)
    lookups = {}
    for layer, numbers in layers.items():
        ids = [aid for n in numbers for aid in units[n].article_ids]
        owner = np.array([n for n in numbers for _ in units[n].article_ids], dtype=np.int64)
        lookups[layer] = (pa.array(ids, pa.string()), owner)
    pieces: list[list[tuple[str, tuple[int, ...]]]] = [[] for _ in units]
    spill = folder / SPILL
    spill.mkdir(parents=True, exist_ok=True)
    count = 0
    while tables:
        table = tables.pop(0)
        if not table.num_rows:
            continue
        path = spill / f"judgements-{count:05d}.arrow"
        count += 1
        batch = 0
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
            for ids, owner in lookups.values():
                where = pc.index_in(table.column("article_id"), value_set=ids)
                valid = where.is_valid().to_numpy(zero_copy_only=False)
                positions = where.fill_null(0).to_numpy(zero_copy_only=False)
                unit_of = np.where(valid, owner[positions], -1)
                order = np.argsort(unit_of, kind="stable")
                ranked = unit_of[order]
                first = int(np.searchsorted(ranked, 0))
                if first == len(ranked):
                    continue
                taken = table.take(pa.array(order[first:]))
                ranked = ranked[first:]
                bounds = np.flatnonzero(np.diff(ranked)) + 1
                starts = [0, *bounds.tolist()]
                ends = [*bounds.tolist(), len(ranked)]
                for start, end in zip(starts, ends, strict=True):
                    part = taken.slice(start, end - start).combine_chunks()
                    numbers = []
                    for record_batch in part.to_batches():
                        out.write_batch(record_batch)
                        numbers.append(batch)
                        batch += 1
                    pieces[int(ranked[start])].append((str(path), tuple(numbers)))
                del taken
        del table
    return [Unit(unit.shards, tuple(found),
                 tuple(aid for aid in unit.article_ids if aid in judged))
            for unit, found in zip(units, pieces, strict=True)]


def read_pieces(pieces: Iterable[tuple[str, tuple[int, ...]]], schema: pa.Schema
                ) -> list[pa.Table]:
    """A unit's judgements from the spill files (copied into memory, not mapped)."""
    tables = []
    for path, numbers in pieces:
        with pa.OSFile(path, "rb") as source:
            reader = pa.ipc.open_file(source)
            tables.append(pa.Table.from_batches([reader.get_batch(i) for i in numbers],
                                                schema=schema))
    return tables


def build_unit(folder: str, root: str, codebook: Codebook, schemas: Mapping[str, pa.Schema],
               unit: Unit) -> dict[str, ShardEntry]:
    """Write one unit's shards into `folder` (a release being written), as the
    local build writes them; runs on any node that sees the corpus."""
    tables = read_pieces(unit.pieces, held_schema(schemas["annotations"]))
    return build_shards(Path(folder), Corpus(Path(root)), codebook, schemas,
                        list(unit.shards), tables, dict.fromkeys(unit.judged),
                        lambda: False)


def unit_rows(unit: Unit) -> int:
    """How many articles a unit's shards hold: its share of the progress."""
    return len(unit.article_ids)


def remove_spill(folder: Path) -> None:
    shutil.rmtree(folder / SPILL, ignore_errors=True)

