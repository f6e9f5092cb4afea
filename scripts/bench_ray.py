"""Benchmark the engines: ingest, validate and build on `local` and on `ray`, side by side.

    python scripts/bench_ray.py                       # 10k and 100k articles
    python scripts/bench_ray.py --sizes 10000 --out /tmp/bench-ray.md

Not a test (it takes many minutes). For each size a generated corpus
(paratopics.synthetic, seed 0, cached as bench_build caches it) goes through
each stage as a child process, `python -m paratopics STAGE ... --engine E`:

- ingest: the corpus's raw JSON Lines sources (1,000 articles a file) into an
  empty corpus; the two engines' corpora are compared byte for byte;
- validate: the whole corpus with --no-cache (every record checked);
- build: release 1.0.0 from scratch with --no-cache (validation, then the
  release); the two engines' releases are compared byte for byte.

`ray` here is one node: a Ray instance the command starts with this machine's
CPUs and stops at its end, so its start-up is in every ray figure; it is also
measured alone (ray.init + ray.shutdown), as Ray's fixed cost. Wall time is
taken around each child; peak RSS of the driver (the command's own process,
wait4) and of the whole process tree (Ray's GCS, raylet and workers included),
sampled every 50 ms with psutil, as bench_build measures them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path

import psutil
import pyarrow as pa
from bench_build import Run, cached_corpus, mb, measure  # scripts/ is on sys.path

from paratopics.report import markdown_table

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000)
ENGINES = ("local", "ray")
STAGES = ("ingest", "validate", "build")
STARTUP = "import ray, logging; ray.init(logging_level=logging.WARNING); ray.shutdown()"


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def stage(name: str, engine: str, corpus: Path, work: Path) -> tuple[Run, Path]:
    """One stage on one engine, in a child process; the folder it wrote."""
    cli = [sys.executable, "-m", "paratopics"]
    env = {"PARATOPICS_CACHE": tempfile.mkdtemp(prefix="cache-", dir=work),
           "RAY_USAGE_STATS_ENABLED": "0"}
    if name == "ingest":
        target = work / f"ingested-{engine}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        sources = sorted((corpus / "sources" / "synthetic").glob("*.jsonl"))
        command = [*cli, "ingest", "--corpus", str(target), "--engine", engine,
                   *map(str, sources)]
        return measure(command, cwd=work, env=env), target
    if name == "validate":
        command = [*cli, "validate", "--corpus", str(corpus), "--no-cache", "--engine", engine]
        return measure(command, cwd=work, env=env), corpus
    shutil.rmtree(corpus / "releases", ignore_errors=True)
    command = [*cli, "build", "--corpus", str(corpus), "--version", "1.0.0", "--no-cache",
               "--engine", engine]
    run = measure(command, cwd=work, env=env)
    kept = work / f"releases-{engine}"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(corpus / "releases", kept)
    shutil.rmtree(corpus / "releases", ignore_errors=True)
    return run, kept


Row = tuple[int, dict[str, int], str, dict[str, Run], bool]


def bench_size(articles: int, cache: Path, work: Path) -> list[Row]:
    corpus, counts = cached_corpus(cache, articles, 0)
    rows: list[Row] = []
    for name in STAGES:
        runs, outputs = {}, {}
        for engine in ENGINES:
            runs[engine], folder = stage(name, engine, corpus, work)
            outputs[engine] = digests(folder) if name != "validate" else {
                "report": runs[engine].stdout.split("ray: ")[0]}
            print(f"{articles:>9,} articles {name:8} {engine:5}: {runs[engine].wall:7.1f} s, "
                  f"driver {mb(runs[engine].rss)} MB, tree {mb(runs[engine].tree_rss)} MB",
                  file=sys.stderr, flush=True)
        same = outputs["local"] == outputs["ray"] if name != "validate" else (
            _verdict(runs["local"].stdout) == _verdict(runs["ray"].stdout))
        rows.append((articles, counts, name, runs, same))
    return rows


def _verdict(output: str) -> list[str]:
    """validate's report lines, without progress and the engine's summary."""
    return [line for line in output.splitlines()
            if not line.startswith(("  ", "ray: ")) and "WARNING" not in line]


def in_tasks(output: str) -> str:
    """From the ray engine's summary line: seconds in tasks of seconds connected."""
    found = re.findall(r"ray: \d+ task\(s\).*?; ([\d.]+) s of ([\d.]+) s after connecting",
                       output)
    return " + ".join(f"{a} of {b}" for a, b in found) or "-"


def report(rows: list[Row], startup: Run) -> str:
    table = []
    for articles, counts, name, runs, same in rows:
        local, ray = runs["local"], runs["ray"]
        table.append([f"{articles:,}", f"{counts['paragraphs']:,}", name,
                      f"{local.wall:.1f}", f"{ray.wall:.1f}", f"{ray.wall / local.wall:.2f}x",
                      f"{counts['paragraphs'] / local.wall:,.0f}",
                      f"{counts['paragraphs'] / ray.wall:,.0f}",
                      mb(local.rss), mb(local.tree_rss), mb(ray.rss), mb(ray.tree_rss),
                      in_tasks(ray.stdout), "yes" if same else "NO", f"{local.load:.1f}"])
    cores = os.cpu_count() or 1
    model = []
    for articles, counts, name, runs, _ in rows:
        millions = counts["paragraphs"] / 1e6
        model.append([f"{articles:,}", name,
                      f"{runs['local'].wall * cores / millions:,.0f}",
                      f"{(runs['ray'].wall - startup.wall) * cores / millions:,.0f}"])
    lines = [
        "# Benchmark: the local and the ray engine",
        "",
        "Generated by `python scripts/bench_ray.py`: generated corpora (`paratopics.synthetic`, "
        "seed 0, about 10 paragraphs per article, 2 annotators), each stage run by "
        "`python -m paratopics STAGE --engine local|ray` in a child process with empty "
        "caches (`--no-cache`). `ray` is a single-node Ray instance with this machine's "
        f"{cores} CPUs, started by the command and stopped at its end.",
        "",
        markdown_table(["articles", "paragraphs", "stage", "local s", "ray s", "ray/local",
                        "local par/s", "ray par/s", "local driver MB", "local tree MB",
                        "ray driver MB", "ray tree MB", "ray in tasks s", "same bytes",
                        "load"], table),
        "",
        "*driver MB*: peak RSS of the command's own process (wait4); *tree MB*: peak of the "
        "summed RSS of the command and all its descendants (for ray: GCS, raylet, dashboard "
        "agent and workers), sampled every 50 ms. *same bytes*: the ingested corpora and the "
        "releases (Parquet, manifest, changelog) compared file by file; for validate, the "
        "report. *ray in tasks s*: from the engine's summary line, seconds the driver waited "
        "on tasks of the seconds it was connected (build: validation's map, then the "
        "build's); the rest is the driver's own work (reading judgements, planning, "
        "spilling, the manifest) and Ray's start-up comes before. *load*: 1-minute load "
        "average before the local run (the machine is shared).",
        "",
        f"Ray's fixed cost, measured alone (`ray.init()` + `ray.shutdown()` in a fresh "
        f"process): {startup.wall:.1f} s wall, {mb(startup.tree_rss)} MB tree RSS.",
        "",
        "## Seconds per million paragraphs per core",
        "",
        f"Wall time x {cores} cores / millions of paragraphs; for ray without its fixed "
        "start-up cost. These are the figures of the cost model in docs/scaling.md.",
        "",
        markdown_table(["articles", "stage", "local", "ray (no start-up)"], model),
        "",
        f"Machine: {platform.machine()}, {cores} CPUs, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM; Python "
        f"{platform.python_version()}, pyarrow {pa.__version__}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="articles per corpus (default: 10000 100000)")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "paratopics-bench" / "ray" /
                        "generated", help="where generated corpora are kept between runs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-ray.md")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        startup = measure([sys.executable, "-c", STARTUP], cwd=Path(tmp),
                          env={"RAY_USAGE_STATS_ENABLED": "0"})
        for articles in args.sizes:
            rows += bench_size(articles, args.cache, Path(tmp))
    text = report(rows, startup)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
