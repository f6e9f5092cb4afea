"""Benchmark: loading a 1M-paragraph release, side by side with reading its Parquet.

    python scripts/bench_load.py [--articles 100000] [--work /tmp/paratopics-bench]

Generates a synthetic corpus (paratopics.synthetic, ~10 paragraphs per article),
builds release 1.0.0 and publishes it as a Hub-style folder, all cached under
--work. Then each step runs in its own fresh process, which reports its wall
time (the step alone, after imports) and its peak resident memory:

- pyarrow.parquet reading every paragraphs file into memory: the floor; and a bare
  streaming decode of the same files (iter_batches, nothing kept), for reference;
- datasets.load_dataset(<publish folder>, "paragraphs") with an empty cache (first load);
- the same again on the warm cache (cached load);
- paratopics.load() on the release, first and cached.

Each step runs --repeats times (median time, largest memory). Writes the table
to docs/bench-load.md. The targets (issue 5): first load at most 1.5x the
pyarrow read, cached load under 1 s, no loading step holding the whole text
twice in memory (peak memory above the process's baseline under twice the
text's size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = "1.0.0"
STEPS = ("pyarrow-read_table", "pyarrow-iter_batches", "load_dataset-first",
         "load_dataset-cached", "paratopics.load-first", "paratopics.load-cached")
FLOOR = "pyarrow-read_table"
LOADERS = ("load_dataset", "paratopics.load")


# -- the data (cached) ----------------------------------------------------------


def prepare(work: Path, articles: int) -> tuple[Path, Path]:
    """The corpus and its publish folder under `work`, made once and reused."""
    from paratopics import codebook as codebook_module
    from paratopics.corpus.store import Corpus
    from paratopics.publish import core as publish
    from paratopics.release import build as release_build
    from paratopics.release import layout as release_layout
    from paratopics.synthetic import generate

    corpus = Corpus(work / f"corpus-{articles}")
    folder = work / f"published-{articles}"
    book = codebook_module.load()
    if not (release_layout.release_dir(corpus, VERSION) / "manifest.json").is_file():
        shutil.rmtree(corpus.root, ignore_errors=True)
        started = time.perf_counter()
        info = generate(corpus, articles, 0)
        print(f"generated {info.articles:,} articles, {info.paragraphs:,} paragraphs in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
        started = time.perf_counter()
        release_build.build(corpus, VERSION, book)
        print(f"built v{VERSION} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if not publish.is_publish_folder(folder):
        publish.publish_folder(corpus, VERSION, folder, book)
    return corpus.root, folder


# -- one step, in its own process -------------------------------------------------


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak() -> None:
    """Make the peak (VmHWM) start from now, so imports do not count (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def run_step(step: str, corpus: Path, folder: Path, cache: Path) -> dict[str, object]:
    """Import what the step needs, then time the step alone."""
    import datasets
    import pyarrow.parquet as pq

    from paratopics import load  # its module is imported on first use: import it here

    datasets.disable_progress_bars()
    files = sorted((folder / "data" / "paragraphs").glob("*.parquet"))
    reset_peak()
    baseline = status_mb("VmRSS")
    started = time.perf_counter()
    table_mb = text_mb = 0.0
    if step == "pyarrow-read_table":
        tables = [pq.read_table(f) for f in files]
        rows = sum(t.num_rows for t in tables)
        table_mb = sum(t.nbytes for t in tables) / 2**20
        text_mb = sum(t.column("text").nbytes for t in tables) / 2**20
    elif step == "pyarrow-iter_batches":
        rows = sum(batch.num_rows for f in files
                   for batch in pq.ParquetFile(f).iter_batches(batch_size=10_000))
    elif step.startswith("load_dataset"):
        ds = datasets.load_dataset(str(folder), "paragraphs", cache_dir=str(cache))
        rows = sum(d.num_rows for d in ds.values())
    else:
        ds = load(corpus=corpus, cache_dir=str(cache))
        rows = sum(d.num_rows for d in ds.values())
    seconds = time.perf_counter() - started
    return {"step": step, "seconds": seconds, "rows": rows, "peak_mb": status_mb("VmHWM"),
            "baseline_mb": baseline, "text_mb": text_mb, "table_mb": table_mb}


def in_subprocess(step: str, corpus: Path, folder: Path, cache: Path) -> dict[str, object]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(cache)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--step", step, "--corpus", str(corpus),
                           "--folder", str(folder), "--cache", str(cache)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


# -- the report -------------------------------------------------------------------


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summarize(runs: list[dict[str, object]]) -> dict[str, object]:
    """Median times over the repeats; the worst (largest) memory figures."""
    out = dict(runs[0])
    for key in ("seconds", "process_seconds"):
        out[key] = median([float(r[key]) for r in runs])  # type: ignore[arg-type]
    out["rise_mb"] = max(float(r["peak_mb"]) - float(r["baseline_mb"])  # type: ignore[arg-type]
                         for r in runs)
    out["peak_mb"] = max(float(r["peak_mb"]) for r in runs)  # type: ignore[arg-type]
    out["times"] = [round(float(r["seconds"]), 2) for r in runs]  # type: ignore[arg-type]
    return out


def table(results: list[dict[str, object]]) -> str:
    by = {str(r["step"]): r for r in results}
    floor = float(by[FLOOR]["seconds"])  # type: ignore[arg-type]
    lines = ["| step | rows | time (s), median | runs (s) | vs read_table | process incl. "
             "imports (s) | peak RSS (MB) | rise above baseline (MB) |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    for r in results:
        seconds = float(r["seconds"])  # type: ignore[arg-type]
        runs = ", ".join(f"{t:.2f}" for t in r["times"])  # type: ignore[attr-defined]
        lines.append(f"| {r['step']} | {r['rows']:,} | {seconds:.2f} | {runs} | "
                     f"{seconds / floor:.2f} | {float(r['process_seconds']):.2f} | "  # type: ignore[arg-type]
                     f"{float(r['peak_mb']):.0f} | {float(r['rise_mb']):.0f} |")  # type: ignore[arg-type]
    return "\n".join(lines)


def verdicts(results: list[dict[str, object]]) -> list[str]:
    by = {str(r["step"]): r for r in results}
    floor = float(by[FLOOR]["seconds"])  # type: ignore[arg-type]
    decode = float(by["pyarrow-iter_batches"]["seconds"])  # type: ignore[arg-type]
    text_mb = float(by[FLOOR]["text_mb"])  # type: ignore[arg-type]
    table_mb = float(by[FLOOR]["table_mb"])  # type: ignore[arg-type]
    out = []
    for name in (f"{loader}-first" for loader in LOADERS):
        seconds = float(by[name]["seconds"])  # type: ignore[arg-type]
        out.append(f"- {name}: {seconds / floor:.2f}x the pyarrow read_table (target ≤ 1.5x): "
                   f"{'met' if seconds <= 1.5 * floor else 'NOT met'}; "
                   f"{seconds / decode:.2f}x a bare streaming decode (iter_batches), which "
                   "keeps nothing")
    for name in (f"{loader}-cached" for loader in LOADERS):
        seconds = float(by[name]["seconds"])  # type: ignore[arg-type]
        out.append(f"- {name}: {seconds:.2f} s (target < 1 s): "
                   f"{'met' if seconds < 1 else 'NOT met'}")
    for loader in LOADERS:
        worst = max(float(by[f"{loader}-{kind}"]["rise_mb"])  # type: ignore[arg-type]
                    for kind in ("first", "cached"))
        out.append(f"- {loader} memory: at most {worst:.0f} MB above baseline, against "
                   f"{text_mb:.0f} MB of paragraph text (target: never the whole text twice, "
                   f"under {2 * text_mb:.0f} MB): {'met' if worst < 2 * text_mb else 'NOT met'}")
    rise = float(by[FLOOR]["rise_mb"])  # type: ignore[arg-type]
    out.append(f"- the pyarrow read_table floor holds the whole table once by design: "
               f"{rise:.0f} MB above baseline for a {table_mb:.0f} MB table (all columns; the "
               "article title repeats on every paragraph)")
    return out


def machine() -> str:
    import datasets
    import pyarrow

    cores = os.cpu_count()
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kb = int(handle.readline().split()[1])
    return (f"{platform.system()} {platform.machine()}, {cores} cores, "
            f"{mem_kb / 2**20:.0f} GiB RAM; Python {platform.python_version()}, "
            f"datasets {datasets.__version__}, pyarrow {pyarrow.__version__}")


def report(results: list[dict[str, object]], folder: Path, articles: int,
           repeats: int) -> str:
    files = sorted((folder / "data" / "paragraphs").glob("*.parquet"))
    disk_mb = sum(f.stat().st_size for f in files) / 2**20
    text_mb = float(results[0]["text_mb"])  # type: ignore[arg-type]
    table_mb = float(results[0]["table_mb"])  # type: ignore[arg-type]
    return "\n".join([
        "# Loading benchmark",
        "",
        "Generated by `python scripts/bench_load.py`; do not edit by hand.",
        "",
        f"Release: synthetic corpus of {articles:,} articles, {results[0]['rows']:,} "
        f"paragraphs in {len(files)} Parquet files ({disk_mb:.0f} MB on disk, zstd; "
        f"in memory: a {table_mb:.0f} MB Arrow table, {text_mb:.0f} MB of it paragraph text). "
        f"Machine: {machine()}.",
        "",
        f"Each step runs {repeats} times, each in a fresh process; the table gives the "
        "median. *time* is the step alone, after imports; "
        "*process* adds interpreter start and imports (`datasets` alone takes about a "
        "second). *peak RSS* is the process's maximum resident memory during the step "
        "(VmHWM, reset after imports; the largest over the runs), *rise above baseline* "
        "its growth over the memory after imports. Each first load starts from an empty "
        "`HF_DATASETS_CACHE` (its Arrow files are written through the page cache, not "
        "synced; every step starts after a `sync`); the cached loads reuse it. "
        "`load_dataset` reads the publish folder (`paratopics publish --out`) through "
        "its README front matter; "
        "`paratopics.load` reads the release in the corpus through the manifest. The "
        "machine is shared and has two cores: single runs vary by up to 2x, which the "
        "*runs* column shows.",
        "",
        table(results),
        "",
        "Against the targets:",
        "",
        *verdicts(results),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/paratopics-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-load.md")
    parser.add_argument("--repeats", type=int, default=3, help="runs per step (median)")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(run_step(args.step, args.corpus, args.folder, args.cache)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    corpus, folder = prepare(args.work, args.articles)
    caches = {"load_dataset": args.work / "hf-cache-load_dataset",
              "paratopics.load": args.work / "hf-cache-paratopics"}
    runs: dict[str, list[dict[str, object]]] = {step: [] for step in STEPS}
    for repeat in range(args.repeats):
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
        for step in STEPS:
            cache = caches.get(step.rsplit("-", 1)[0], args.work / "hf-cache-unused")
            os.sync()  # the previous step's dirty pages must not slow this one down
            result = in_subprocess(step, corpus, folder, cache)
            print(f"run {repeat + 1}: {step:24} {float(result['seconds']):7.2f} s  "  # type: ignore[arg-type]
                  f"peak {float(result['peak_mb']):7.0f} MB", file=sys.stderr)  # type: ignore[arg-type]
            runs[step].append(result)
    results = [summarize(runs[step]) for step in STEPS]
    text = report(results, folder, args.articles, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
