"""Benchmark of ingest from one large JSON Lines file against the same records in many files.

    python scripts/bench_ingest.py                          # 18,000 and 72,000 articles
    python scripts/bench_ingest.py --sizes 18000 --no-ray --out /tmp/bench-ingest.md
    python scripts/bench_ingest.py --before /path/to/other/checkout/src   # also that code

Not a test (it takes minutes). For each size, generated articles (paratopics.synthetic,
seed 0, about 10 paragraphs each, 4.1 kB a line) are written twice with the same
lines: as one JSON Lines file, and as files of 1,000 articles. Each run is
`python -m paratopics ingest -j 2` in a child process, into an empty corpus:

- one file, read whole (`--chunk-bytes` above its size: one process parses it all);
- one file, read in pieces (the default, 8 MiB pieces on the 2 workers);
- the many files (one file per worker task);
- with --engine ray (a single-node Ray instance started by the command) for the
  smallest size, unless --no-ray or Ray is not installed;
- with `--before SRC`: the one file (of the smallest size) through the package at
  SRC (PYTHONPATH), e.g. a checkout of the previous release, and the corpora compared.

The peers read the same one file in one process: a plain `json.loads` loop over its
lines, and `pyarrow.json.read_json`. The corpora of "read whole" and "in pieces"
(and ray's, and --before's) are compared file by file. Wall time, CPU time, peak
RSS of the command's own process and of its process tree (both sampled every 50
ms) and the 1-minute load average come from bench_build.measure.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

from bench_build import Run, machine, mb, measure, write_report  # scripts/ is on sys.path

from paratopics import codebook
from paratopics.report import markdown_table
from paratopics.synthetic import plan_article, raw_record, vocabulary

ROOT = Path(__file__).resolve().parents[1]
SIZES = (18_000, 72_000)
PER_FILE = 1_000
JOBS = 2

PEER_JSON = """
import json, sys
paragraphs = 0
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        if line.strip():
            paragraphs += len(json.loads(line)["paragraphs"])
print(paragraphs)
"""

PEER_ARROW = """
import sys
import pyarrow.json as pj
table = pj.read_json(sys.argv[1], read_options=pj.ReadOptions(block_size=1 << 24))
print(sum(len(p) for p in table.column("paragraphs").to_pylist()))
"""


def write_inputs(folder: Path, articles: int) -> tuple[Path, list[Path]]:
    """One JSON Lines file of `articles` generated records, and the same lines in files
    of PER_FILE; made once per size and reused (the generator is deterministic)."""
    large = folder / "one" / f"articles-{articles}.jsonl"
    small = folder / "many"
    done = folder / "done"
    if not done.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        large.parent.mkdir(parents=True)
        small.mkdir()
        rng = random.Random(0)
        vocab = vocabulary(codebook.load())
        with large.open("w", encoding="utf-8") as out:
            for first in range(0, articles, PER_FILE):
                lines = "".join(json.dumps(raw_record(plan_article(rng, vocab, 0, n).draft),
                                           ensure_ascii=False) + "\n"
                                for n in range(first, min(articles, first + PER_FILE)))
                out.write(lines)
                (small / f"part-{first // PER_FILE:05d}.jsonl").write_text(lines, "utf-8")
        done.write_text("")
    return large, sorted(small.glob("*.jsonl"))


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def paragraphs_of(output: str) -> int:
    found = re.search(r"([\d,]+) paragraphs in", output)
    if found is None:
        raise SystemExit(f"no summary line in the output of ingest:\n{output[-2000:]}")
    return int(found.group(1).replace(",", ""))


def ingest(paths: list[Path], work: Path, name: str, *options: str,
           src: Path | None = None) -> tuple[Run, Path]:
    corpus = work / f"corpus-{name}"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    env = {"RAY_USAGE_STATS_ENABLED": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    command = [sys.executable, "-m", "paratopics", "ingest", "--corpus", str(corpus),
               "--max-bytes", str(max(p.stat().st_size for p in paths) + 1), "-j", str(JOBS),
               *options, *map(str, paths)]
    return measure(command, cwd=work, env=env), corpus


Row = tuple[int, str, int, float, Run, int, str]


def bench_size(articles: int, inputs: Path, work: Path, ray: bool, before: Path | None,
               ) -> list[Row]:
    large, small = write_inputs(inputs / f"a{articles}", articles)
    size = large.stat().st_size
    rows: list[Row] = []

    def row(what: str, files: list[Path], run: Run, same: str) -> None:
        paragraphs = paragraphs_of(run.stdout) if "ingest" in what else int(run.stdout)
        rows.append((articles, what, len(files), sum(p.stat().st_size for p in files) / 1e6,
                     run, paragraphs, same))
        print(f"{articles:>7,} {what:34}: {run.wall:6.1f} s, {paragraphs / run.wall:8,.0f} "
              f"par/s, driver {mb(run.own_rss)} MB, tree {mb(run.tree_rss)} MB, load "
              f"{run.load:.1f}", file=sys.stderr, flush=True)

    whole, whole_corpus = ingest([large], work, "whole", "--chunk-bytes", str(size + 1))
    reference = digests(whole_corpus)
    shutil.rmtree(whole_corpus)
    row("ingest, one file read whole", [large], whole, "reference")
    pieces, corpus = ingest([large], work, "pieces")
    row("ingest, one file in pieces", [large], pieces,
        "yes" if digests(corpus) == reference else "NO")
    shutil.rmtree(corpus)
    many, corpus = ingest(small, work, "many")
    row(f"ingest, {len(small)} files", small, many, "-")
    shutil.rmtree(corpus)
    if before is not None:
        old, corpus = ingest([large], work, "before", src=before)
        row("ingest, one file, --before code", [large], old,
            "yes" if digests(corpus) == reference else "NO")
        shutil.rmtree(corpus)
    if ray:
        on_ray, corpus = ingest([large], work, "ray", "--engine", "ray")
        row("ingest --engine ray, one file in pieces", [large], on_ray,
            "yes" if digests(corpus) == reference else "NO")
        shutil.rmtree(corpus)
        on_ray, corpus = ingest(small, work, "ray-many", "--engine", "ray")
        row(f"ingest --engine ray, {len(small)} files", small, on_ray, "-")
        shutil.rmtree(corpus)
    for what, script in (("peer: json.loads per line", PEER_JSON),
                         ("peer: pyarrow.json.read_json", PEER_ARROW)):
        row(what, [large], measure([sys.executable, "-c", script, str(large)], cwd=work), "-")
    return rows


#: How a file is read in pieces, and what the columns can and cannot show.
NOTES = [
    "## How one file is read in pieces",
    "",
    "The command copies the file once into the corpus (hashing it and checking what "
    "would refuse the whole file: binary, not UTF-8, empty, a web page), and notes where "
    "pieces of about `--chunk-bytes` start, each at a line end. The workers read one "
    "piece each from that copy and parse, normalize and serialize its records; the "
    "command stores the pieces in input order (identity, duplicates, writes), with at "
    "most 2 pieces per worker in flight, and the copy becomes the raw copy by a hard "
    "link. So the command's memory holds a few pieces and one small entry per article "
    "(its identity, for duplicates), not the file: compare the driver MB of the two "
    "sizes. Storing (one record file per article, written by atomic rename) stays in one "
    "process, which is what bounds the rate on 2 cores, for one file as for many.",
    "",
]


def report(rows: list[Row]) -> str:
    table = []
    for articles, what, files, megabytes, run, paragraphs, same in rows:
        peer = next(r[4].wall for r in rows if r[0] == articles and r[1].startswith(
            "peer: json"))
        bound = max(run.cpu / JOBS, run.own_cpu) if "ingest" in what else run.cpu
        table.append([f"{articles:,}", what, f"{files:,}", f"{megabytes:,.0f}",
                      f"{paragraphs:,}", f"{run.wall:.1f}", f"{run.cpu:.1f}",
                      f"{run.own_cpu:.1f}", f"{paragraphs / run.wall:,.0f}",
                      f"{paragraphs / bound:,.0f}", mb(run.own_rss), mb(run.tree_rss),
                      f"{run.wall / peer:.1f}x", same, f"{run.load:.1f}"])
    cores = os.cpu_count() or 1
    lines = [
        "# Benchmark: ingest from one large JSON Lines file",
        "",
        "Generated by `python scripts/bench_ingest.py`: generated articles "
        "(`paratopics.synthetic`, seed 0, about 10 paragraphs and 4.1 kB a line), written "
        f"as one JSON Lines file and as files of {PER_FILE:,} articles with the same lines, "
        f"each ingested by `python -m paratopics ingest -j {JOBS}` in a child process into "
        "an empty corpus. *read whole*: `--chunk-bytes` above the file's size, so one "
        "process reads and parses the whole file (the path of every file before pieces); "
        "*in pieces*: the default, 8 MiB pieces cut at line ends, parsed by the 2 workers "
        "and stored in input order; ray: a single-node Ray instance started by the command "
        "(its start-up included).",
        "",
        markdown_table(["articles", "run", "files", "MB", "paragraphs", "wall s", "CPU s",
                        "driver CPU s", "paragraphs/s", "CPU-bound par/s", "driver MB",
                        "tree MB", "x peer", "same bytes", "load"], table),
        "",
        "*driver MB*: peak RSS of the command's own process; *tree MB*: peak of the summed "
        "RSS of the command and its workers (for ray: GCS, raylet and workers); both sampled "
        "every 50 ms (wait4's ru_maxrss is not used here: Linux carries it over fork and "
        "exec, so it would count this benchmark's own RSS at the time it started the "
        "command). *x peer*: wall time over the plain `json.loads` loop's on the "
        "same one file (which only parses: no normalization, ids, hashes, checks or "
        "writes). *CPU s*: user + system seconds of the command and its workers (wait4; "
        "for ray, of the processes the command waited for); *driver CPU s*: of the "
        "command's own process alone (psutil, last sample). *CPU-bound par/s*: paragraphs "
        f"over max(CPU s / {JOBS}, driver CPU s), the rate {JOBS} cores to itself would "
        "allow if nothing else ran (the driver's storing is serial, the rest is spread over "
        "the workers): an estimate from measured CPU time, for a machine whose load makes "
        "wall times say more about the other work than about ingest. "
        "*same bytes*: the corpus compared file by file with the one read whole. "
        f"*load*: 1-minute load average before the run, on {cores} CPUs shared with other "
        "work.",
        "",
        *NOTES,
        machine(),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="articles per input (default: 18000 72000)")
    parser.add_argument("--inputs", type=Path,
                        default=Path(tempfile.gettempdir()) / "paratopics-bench" / "ingest",
                        help="where the generated inputs are kept between runs")
    parser.add_argument("--no-ray", action="store_true", help="skip the ray engine")
    parser.add_argument("--before", type=Path, metavar="SRC",
                        help="also ingest the one file with the package at SRC (a src/ folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-ingest.md",
                        help="the report's file, or a folder to write bench-ingest.md into")
    args = parser.parse_args(argv)
    if args.out.is_dir():  # known before minutes of work, not when the report is written
        args.out = args.out / "bench-ingest.md"
    ray = not args.no_ray and importlib.util.find_spec("ray") is not None
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for number, articles in enumerate(sorted(args.sizes)):
            rows += bench_size(articles, args.inputs, Path(tmp), ray and number == 0,
                               args.before if number == 0 else None)
    return write_report(report(rows), args.out)


if __name__ == "__main__":
    sys.exit(main())
