"""Benchmark: the figures behind the release build's row and memory choices.

    python scripts/bench_rows.py [--articles 2000] [--out docs/bench-rows.md]

Generates a synthetic corpus (paratopics.synthetic, seed 0) in a temporary
folder and measures, in this process:

- rows to Arrow: `release.rows.rows_to_table` against `pa.Table.from_pylist`,
  per config, all rows in one call and in calls of ROWS_PER_BATCH rows (as the
  shard writer converts them), best of 5 (the two tables are checked equal);
- judgements held while building: Arrow bytes with and without `paragraph_id`
  (`release.inputs.held_schema`);
- judgements parsed file by file: bytes Arrow has allocated for them.

Writes a Markdown report (default docs/bench-rows.md) and prints it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.release.inputs import held_schema, parse_judgements, read_article_file
from paratopics.release.rows import (
    Classes,
    annotation_row,
    arrow_schema,
    article_row,
    paragraph_rows,
    rows_to_table,
    split_of,
)
from paratopics.release.shards import ROWS_PER_BATCH
from paratopics.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]


def best_of(runs: int, job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def row_lines(corpus: Corpus) -> list[str]:
    """One table line per config: both ways of turning its rows into Arrow."""
    book = codebook.load()
    classes = Classes.of(book)
    articles = [read_article_file(p) for p in sorted(corpus.article_files())]
    made: dict[str, list[dict[str, object]]] = {
        "paragraphs": [row for a in articles
                       for _, row in paragraph_rows(a, {}, classes, split_of(a["article_id"]))],
        "articles": [article_row(a, {}, classes, split_of(a["article_id"]))[1]
                     for a in articles],
        "annotations": [annotation_row(json.loads(line))
                        for path in corpus.annotation_files()
                        for line in path.read_text(encoding="utf-8").splitlines()
                        if line.strip()],
    }
    lines = []
    for config, rows in made.items():
        schema = arrow_schema(config, book)
        if not rows_to_table(rows, schema).equals(pa.Table.from_pylist(rows, schema=schema)):
            raise SystemExit(f"{config}: the two tables differ")
        for batch in (len(rows), ROWS_PER_BATCH):
            parts = [rows[i:i + batch] for i in range(0, len(rows), batch)]
            ours = best_of(5, lambda parts=parts, schema=schema: [
                rows_to_table(part, schema) for part in parts])
            theirs = best_of(5, lambda parts=parts, schema=schema: [
                pa.Table.from_pylist(part, schema=schema) for part in parts])
            lines.append(f"| {config} | {len(rows):,} | {batch:,} | {ours * 1000:.1f} | "
                         f"{theirs * 1000:.1f} | {theirs / ours:.2f}x |")
    return lines


def memory_lines(corpus: Corpus) -> list[str]:
    schema = held_schema(arrow_schema("annotations", codebook.load()))
    base = pa.total_allocated_bytes()
    tables = []
    for path in corpus.annotation_files():
        with path.open("rb") as handle:
            tables.append(parse_judgements(handle, schema)[0])
    parsed = pa.total_allocated_bytes() - base
    whole = pa.concat_tables(tables)
    with_ids = whole.append_column("paragraph_id", pa.array(
        [f"{a}/{i}" for a, i in zip(whole.column("article_id").to_pylist(),
                                     whole.column("paragraph_index").to_pylist(),
                                     strict=True)], pa.string()))
    mb = 1e6
    return [
        f"| judgements | {whole.num_rows:,} |",
        f"| held without paragraph_id (data) | {whole.nbytes / mb:.1f} MB |",
        f"| with paragraph_id (data) | {with_ids.nbytes / mb:.1f} MB "
        f"(+{100 * (with_ids.nbytes - whole.nbytes) / whole.nbytes:.0f}%) |",
        f"| allocated after parsing file by file | {parsed / mb:.1f} MB |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-rows.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        corpus = Corpus(Path(work) / "corpus")
        generate(corpus, args.articles, 0)
        rows = row_lines(corpus)
        memory = memory_lines(corpus)
    text = "\n".join([
        "# Benchmark: rows to Arrow, judgements in memory",
        "",
        f"Generated by `python scripts/bench_rows.py --articles {args.articles}` on a "
        "synthetic corpus (seed 0); times are the best of 5 runs in one process.",
        "",
        "| config | rows | rows per call | rows_to_table ms | from_pylist ms "
        "| from_pylist / rows_to_table |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "| judgements held while building | |",
        "|---|---|",
        *memory,
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}.",
        "",
    ])
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
