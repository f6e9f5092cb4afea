"""Benchmark the schema fast path against jsonschema, record by record.

Not a test: it reads the article records and annotation lines of a corpus (the
committed one by default), keeps those the schema accepts, and times, on the same
records in the same process, `Checker.article_valid` / `Checker.annotation_valid`
(the fast path `validate` asks first) and jsonschema's `is_valid` (the reference,
which words the errors). CPU time (`time.process_time`), best of `--repeat`
rounds, so that other load on the machine counts as little as it can.

It uses only `Checker`, so the same script measures any version of the fast path:

    python scripts/bench_fastpath.py
    PYTHONPATH=/path/to/older/checkout/src python scripts/bench_fastpath.py
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from paratopics import codebook
from paratopics.validate.schema import Checker

ROOT = Path(__file__).resolve().parents[1]


def records(corpus: Path, articles: int, lines: int, checker: Checker
            ) -> tuple[list[Any], list[Any]]:
    """Up to `articles` article records of the current schema and `lines` annotation
    lines, all valid: the fast path's case (an invalid record costs jsonschema's time)."""
    arts: list[Any] = []
    for path in sorted((corpus / "articles").rglob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("schema_version") == "1.1.0" and checker.article_schema.is_valid(record):
            arts.append(record)
        if len(arts) >= articles:
            break
    anns: list[Any] = []
    for path in sorted((corpus / "annotations").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            anns += [json.loads(line) for line in handle if line.strip()]
        if len(anns) >= lines:
            break
    anns = [a for a in anns[:lines] if checker.annotation_schema.is_valid(a)]
    return arts, anns


def per_record(check: Callable[[Any], bool], items: list[Any], repeat: int) -> float:
    """Microseconds of CPU per record, best of `repeat` rounds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for item in items:
            check(item)
        best = min(best, time.process_time() - started)
    return best / len(items) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    checker = Checker(codebook.load())
    arts, anns = records(args.corpus, args.articles, args.lines, checker)
    if not arts or not anns:
        parser.error(f"{args.corpus} has no valid article records or annotation lines")
    assert all(map(checker.article_valid, arts)) and all(map(checker.annotation_valid, anns))
    paragraphs = sum(len(a["paragraphs"]) for a in arts) / len(arts)
    rows = [
        ("annotation line", len(anns), per_record(checker.annotation_valid, anns, args.repeat),
         per_record(checker.annotation_schema.is_valid, anns[:2000], 1)),
        (f"article record ({paragraphs:.1f} paragraphs)", len(arts),
         per_record(checker.article_valid, arts, args.repeat),
         per_record(checker.article_schema.is_valid, arts[:300], 1)),
    ]
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("jsonschema", "jsonschema-rs")
                         if _installed(name))
    print(f"fast path of {sys.modules[Checker.__module__].__file__}; Python "
          f"{platform.python_version()}, {versions}")
    print("| record | records | fast path us | jsonschema us | ratio |")
    print("|---|---|---|---|---|")
    for name, count, fast, slow in rows:
        print(f"| {name} | {count:,} | {fast:.2f} | {slow:.1f} | {slow / fast:.0f}x |")
    return 0


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
