"""Benchmark `paratopics build` on generated corpora of 1k, 10k and 100k articles.

Not a test. For each size it generates a corpus once (seeded, cached under
--cache and reused while the generator's code is unchanged), then runs the
real command, `python -m paratopics build`, as a child process and measures
wall time, CPU time (user + system) and peak memory: the child's own peak RSS
from wait4, and the peak of the summed RSS of its process tree, sampled.

The floor peer is the least work that turns the same article files into
Parquet: a plain json + pyarrow script with no validation, no labels, no
splits and no manifest, writing one file of paragraphs with the same codec
(zstd level 9). Build time over floor time says what validation, labels,
three configs and checksums cost on top of reading and compressing.

    python scripts/bench_build.py                         # 1k, 10k, 100k articles
    python scripts/bench_build.py --sizes 1000 --out /tmp/bench.md

Wall times depend on what else the machine runs: the table records the load
average before each run, and CPU time, which depends much less on it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pyarrow as pa

from paratopics import synthetic
from paratopics.corpus.store import Corpus
from paratopics.report import markdown_table

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1_000, 10_000, 100_000)
#: Targets from the releases issue.
MAX_RSS_BYTES = 2 * 1024**3
MAX_GROWTH = 12.0  # 100k articles' time over 10k articles' time
MAX_MILLION_SECONDS = 120.0

FLOOR = r'''
import json, sys
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq

schema = pa.schema([("article_id", pa.string()), ("paragraph_index", pa.int32()),
                    ("heading", pa.string()), ("text", pa.string())])
columns = {name: [] for name in schema.names}
with pq.ParquetWriter(sys.argv[2], schema, compression="zstd", compression_level=9) as out:
    for path in sorted(Path(sys.argv[1]).glob("*.json")):
        article = json.loads(path.read_bytes())
        for p in article["paragraphs"]:
            columns["article_id"].append(article["article_id"])
            columns["paragraph_index"].append(p["index"])
            columns["heading"].append(p["heading"])
            columns["text"].append(p["text"])
        if len(columns["text"]) >= 10_000:
            out.write_table(pa.table(columns, schema=schema))
            columns = {name: [] for name in schema.names}
    out.write_table(pa.table(columns, schema=schema))
'''


@dataclass(frozen=True)
class Run:
    """One measured child process."""

    wall: float
    cpu: float
    rss: int  # the child's own peak RSS, bytes (wait4)
    tree_rss: int  # peak of the sampled RSS sum of the child and its descendants, bytes
    load: float  # 1-minute load average just before the run
    stdout: str
    own_cpu: float = 0.0  # CPU seconds of the child's own process (last sample), no workers
    own_rss: int = 0  # peak RSS of the child's own process, sampled (no workers), bytes


def generator_stamp() -> str:
    """A digest of the generator's code: a cached corpus is reused only while it holds.

    (A cached corpus gone stale in other ways, say by a changed record format,
    fails the build's validation loudly; delete --cache then.)
    """
    return hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()


def cached_corpus(cache: Path, articles: int, seed: int) -> tuple[Path, dict[str, int]]:
    """The generated corpus for (articles, seed), made now unless cached and current."""
    folder = cache / f"a{articles}-s{seed}"
    stamp_path = folder / "stamp.json"
    stamp = {"articles": articles, "seed": seed, "generator": generator_stamp()}
    if stamp_path.is_file():
        recorded = json.loads(stamp_path.read_text())
        if {k: recorded.get(k) for k in stamp} == stamp:
            return folder / "corpus", recorded["counts"]
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating {articles:,} articles into {folder} ...", file=sys.stderr, flush=True)
    info = synthetic.generate(Corpus(folder / "corpus"), articles, seed)
    counts = {"paragraphs": info.paragraphs, "judged": info.judged_paragraphs,
              "judgements": info.judgements}
    stamp_path.write_text(json.dumps({**stamp, "counts": counts}, indent=1))
    return folder / "corpus", counts


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `command`, sampling its process tree's RSS; CPU and peak RSS from wait4."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env={**os.environ, **(env or {})})
    peak = 0
    own = 0.0
    own_peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, own, own_peak
        while not done.is_set():
            try:
                root = psutil.Process(child.pid)
                total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                peak = max(peak, total)
                times = root.cpu_times()
                own = max(own, times.user + times.system)
                own_peak = max(own_peak, root.memory_info().rss)
            except psutil.Error:
                pass
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    output = child.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{output}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, peak, load,
               output, own, own_peak)


def bench_size(corpus: Path, work: Path) -> tuple[Run, Run]:
    """`paratopics build` on the corpus (its releases/ emptied), then the floor.

    The build gets an empty validation cache of its own, so every record is
    checked as on a fresh CI machine.
    """
    shutil.rmtree(corpus / "releases", ignore_errors=True)
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    build = measure([sys.executable, "-m", "paratopics", "build", "--corpus", str(corpus),
                     "--version", "1.0.0"], cwd=work, env={"PARATOPICS_CACHE": str(cache)})
    shutil.rmtree(corpus / "releases", ignore_errors=True)
    floor = measure([sys.executable, "-c", FLOOR, str(corpus / "articles"),
                     str(work / "floor.parquet")], cwd=work)
    return build, floor


def machine() -> str:
    """The line that says where a report's figures were taken."""
    return (f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM; Python "
            f"{platform.python_version()}, pyarrow {pa.__version__}.")


def write_report(text: str, out: Path) -> int:
    """Write a report (markdown) to `out` and show it; the exit status of a benchmark."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f}"


def report(rows: list[tuple[int, dict[str, int], Run, Run]]) -> str:
    table = []
    for articles, counts, build, floor in rows:
        table.append([
            f"{articles:,}", f"{counts['paragraphs']:,}", f"{counts['judgements']:,}",
            f"{build.wall:.1f}", f"{build.cpu:.1f}",
            f"{counts['paragraphs'] / build.wall:,.0f}", mb(build.rss), mb(build.tree_rss),
            f"{floor.wall:.1f}", f"{floor.cpu:.1f}", mb(floor.rss),
            f"{build.wall / floor.wall:.1f}x", f"{build.load:.1f}"])
    lines = [
        "# Benchmark: `paratopics build`",
        "",
        "Generated by `python scripts/bench_build.py`: synthetic corpora "
        "(`paratopics.synthetic`, seed 0, about 10 paragraphs per article, 2 annotators, "
        "10% of paragraphs unjudged), each built from scratch by `python -m paratopics build` "
        "in a child process with an empty validation cache: validation (in a second process, "
        "beside the build, from 5,000 articles on), then the release (three configs, zstd "
        "level 9, manifest). The floor is a plain json + pyarrow script writing the same "
        "paragraphs to one Parquet file with the same codec and no validation.",
        "",
        markdown_table(["articles", "paragraphs", "judgements", "build s", "build CPU s",
                        "paragraphs/s", "peak RSS MB", "tree RSS MB", "floor s",
                        "floor CPU s", "floor RSS MB", "build/floor", "load"], table),
        "",
        "*build CPU s* is user + system time of the build process, its threads and its "
        "validation process; *peak RSS* the largest of these processes' peaks (wait4), "
        "*tree RSS* the peak of their summed RSS, sampled every 50 ms; *load* the 1-minute "
        "load average before the run (the machine is shared: wall times vary with it, CPU "
        "times much less).",
        "",
    ]
    lines += checks(rows)
    lines += ["", machine(), ""]
    return "\n".join(lines)


def checks(rows: list[tuple[int, dict[str, int], Run, Run]]) -> list[str]:
    """The issue's targets, against what was measured."""
    by_size = {articles: (counts, build) for articles, counts, build, _ in rows}
    out = ["Targets:", ""]
    worst = max(build.tree_rss for _, build in by_size.values())
    out.append(f"- peak RSS under 2 GB: {mb(worst)} MB at most "
               f"({'met' if worst < MAX_RSS_BYTES else 'MISSED'})")
    if 10_000 in by_size and 100_000 in by_size:
        growth = by_size[100_000][1].wall / by_size[10_000][1].wall
        cpu_growth = by_size[100_000][1].cpu / by_size[10_000][1].cpu
        out.append(f"- 100k articles within 12x the 10k time: {growth:.1f}x wall, "
                   f"{cpu_growth:.1f}x CPU ({'met' if growth <= MAX_GROWTH else 'MISSED'})")
    million = [(c, b) for c, b in by_size.values() if c["paragraphs"] >= 900_000]
    if million:
        counts, build = million[0]
        verdict = "met" if build.wall < MAX_MILLION_SECONDS else "MISSED"
        out.append(f"- {counts['paragraphs']:,} paragraphs under 2 minutes: "
                   f"{build.wall:.0f} s wall, {build.cpu:.0f} s CPU ({verdict})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="articles per corpus (default: 1000 10000 100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "paratopics-bench-build",
                        help="where generated corpora are kept between runs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-build.md",
                        help="the report's file, or a folder to write bench-build.md into")
    args = parser.parse_args(argv)
    if args.out.is_dir():  # known before minutes of work, not when the report is written
        args.out = args.out / "bench-build.md"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        for articles in args.sizes:
            corpus, counts = cached_corpus(args.cache, articles, args.seed)
            build, floor = bench_size(corpus, Path(tmp))
            rows.append((articles, counts, build, floor))
            print(f"{articles:>9,} articles: build {build.wall:7.1f} s (CPU {build.cpu:.1f} s, "
                  f"peak {mb(build.tree_rss)} MB), floor {floor.wall:6.1f} s",
                  file=sys.stderr, flush=True)
    return write_report(report(rows), args.out)


if __name__ == "__main__":
    sys.exit(main())
