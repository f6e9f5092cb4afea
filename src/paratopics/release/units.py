"""A release's missing shards as independent units of work, and the judgements of
each unit on disk, so that no process holds every judgement of the corpus.

Shards with the same articles (a split's paragraphs, articles and annotations
shards hold exactly the same judged articles) form one unit, so each unit
reads its articles and decides their gold labels once. A unit needs only the
judgements of its own articles. The build reads the judgement files twice:
once to plan (it keeps only each file's per-article digests, and its rows in a
spill file, `ReadSpill`), once to partition the rows by unit into spill files
(Arrow IPC, one record batch per unit and table, `spill_judgements`). Both are
beside the release being written, which every node of a cluster sees, and are
removed before it is published. A unit's judgements are then at most those of
one shard's articles, whatever the size of the corpus.

Each unit is written by `release.tree.build_unit`, on this machine or on any
node of a cluster, so the bytes do not depend on where it ran.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paratopics.release.layout import UNLABELED
from paratopics.release.shards import Shard

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


def spill_judgements(tables: Iterable[pa.Table], units: list[Unit], folder: Path,
                     judged: Mapping[str, object]) -> list[Unit]:
    """`units` with the spill files of their judgements, written under `folder`.

    `tables` is read once, a table at a time, each freed once spilled.
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
    for table in tables:
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


def unit_rows(unit: Unit) -> int:
    """How many articles a unit's shards hold: its share of the progress."""
    return len(unit.article_ids)


def remove_spill(folder: Path) -> None:
    shutil.rmtree(folder / SPILL, ignore_errors=True)



@dataclass
class ReadSpill:
    """Judgement tables kept on disk between the build's two passes over them.

    The first pass needs only each file's per-article digests to plan the
    shards; its rows are written here (Arrow IPC, uncompressed: written and read
    back at the speed of the disk) and dropped, and the second pass reads them
    back a file at a time to partition them by unit. Rereading the judgement
    files instead would parse them again, and a file changed between the passes
    would then give rows other than the ones planned.
    """

    folder: Path
    paths: list[Path] = field(default_factory=list)

    def add(self, table: pa.Table) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"read-{len(self.paths):05d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
            out.write_table(table)
        self.paths.append(path)

    def tables(self) -> Iterator[pa.Table]:
        """The tables added, in order, each read into memory only when asked for."""
        for path in self.paths:
            with pa.OSFile(str(path), "rb") as source:
                yield pa.ipc.open_file(source).read_all()
