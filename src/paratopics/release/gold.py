"""Judgements to gold decisions, streamed: sorted a chunk at a time, grouped by
paragraph, adjudicated (see `judgements.adjudicate`) and held as compact Arrow
columns until the articles' pass reads them back article by article.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation
from paratopics.release import judgements as annotations_module
from paratopics.release.inputs import READ_BATCH, give_back_memory
from paratopics.release.rows import Decided, rows_to_table


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
    order = codebook.order
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
