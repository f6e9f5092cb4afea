"""Benchmark `paratopics validate` against check-jsonschema on generated annotation lines.

Not a test: it generates, in a temporary folder, a corpus of articles (through
the real ingest) and N annotation lines with a known number of seeded errors of
each kind, then runs both validators as child processes on the same records
with the same schema and measures wall time, CPU time and the child's peak RSS.

check-jsonschema validates JSON documents, not JSON Lines, and one file per
record would mostly measure file handling. So it gets the same records as one
JSON array, checked against a schema whose `items` is schema/annotation.schema.json
verbatim: one process, one parse, the same jsonschema library and format
checks, and `--regex-variant python` so that `pattern` means what it means to
paratopics. That is the fastest way to run it, the fairest peer.

    python scripts/bench_validate.py                    # 1k, 10k, 100k and 1M lines
    python scripts/bench_validate.py --sizes 1000 10000 --out /tmp/bench.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.report import markdown_table

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema" / "annotation.schema.json"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
#: seeded schema errors: kind -> how the record is broken
SCHEMA_KINDS = ("bad-sha-pattern", "missing-field", "bad-created")
#: seeded semantic errors: kind -> the problem code validate must report
SEMANTIC_KINDS = {
    "unknown-article": "unknown-article",
    "unknown-paragraph": "unknown-paragraph",
    "stale-hash": "stale-annotation",
    "unknown-label": "unknown-label",
    "retired-label": "retired-label",
    "duplicate-judgement": "duplicate-judgement",
}
KINDS = (*SCHEMA_KINDS, *SEMANTIC_KINDS)
#: lines per annotation file: validate lists at most 1,000 problems of a code per file
FILE_LINES = 100_000
CLI = [sys.executable, "-m", "paratopics"]
#: The report's section on the schema fast path (scripts/bench_fastpath.py, before and
#: after figures of one change, not regenerated here): kept when the tables are.
KEPT = "\n## Schema fast path"
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema"]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- generating ---------------------------------------------------------------


def make_corpus(root: Path, articles: int, paragraphs: int) -> Corpus:
    """A corpus of synthetic articles, written by the real ingest (JSON door)."""
    corpus = Corpus(root / "corpus")
    for sub in ("sources", "articles", "annotations"):
        (corpus.root / sub).mkdir(parents=True)
    source = root / "articles.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for a in range(articles):
            record = {
                "source": "bench.example", "title": f"Benchmark article number {a}",
                "url": f"https://bench.example/{a}", "published": "2024-01-01",
                "license": "CC0-1.0", "attribution": f"Benchmark, https://bench.example/{a}",
                "paragraphs": [f"Paragraph {p} of article {a}: the talks went on." for p in
                               range(paragraphs)],
            }
            handle.write(json.dumps(record) + "\n")
    report = ingest_files(corpus, [source])
    if report.problems:
        raise SystemExit(f"ingest failed: {report.problems[0]}")
    return corpus


@dataclass
class Seeded:
    """Where the errors are: 1-based record numbers (over all files) per kind."""

    lines: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in KINDS})

    @property
    def schema_lines(self) -> set[int]:
        return {n for kind in SCHEMA_KINDS for n in self.lines[kind]}

    def semantic(self) -> Counter[str]:
        return Counter({SEMANTIC_KINDS[k]: len(self.lines[k]) for k in SEMANTIC_KINDS})


def _paragraph_table(corpus: Corpus) -> list[tuple[str, int, str]]:
    table = []
    for path in corpus.article_files():
        article = json.loads(path.read_text(encoding="utf-8"))
        table += [(article["article_id"], p["index"], p["sha256"])
                  for p in article["paragraphs"]]
    return table


def _break(kind: str, record: dict[str, object], clean_key: tuple[str, str, int] | None,
           retired: str, shas: dict[tuple[str, int], str], i: int) -> dict[str, object]:
    """The record with exactly one error of `kind` (record `i`: ids made unique with it, so
    that two broken records never judge the same paragraph twice by accident)."""
    broken = dict(record)
    if kind == "bad-sha-pattern":
        broken["paragraph_sha256"] = "XYZ"
    elif kind == "missing-field":
        del broken["annotator"]
    elif kind == "bad-created":
        broken["created"] = "2021-13-45T00:00:00Z"
    elif kind == "unknown-article":
        broken["article_id"] = f"no-such-article-{i:010x}"
    elif kind == "unknown-paragraph":
        broken["paragraph_index"] = 10**6 + i
    elif kind == "stale-hash":
        broken["paragraph_sha256"] = hashlib.sha256(b"the text before a correction").hexdigest()
    elif kind == "unknown-label":
        broken["labels"] = ["medtop:99999999"]
    elif kind == "retired-label":
        broken["labels"] = [retired]
    elif kind == "duplicate-judgement":  # an earlier clean judgement, judged again
        assert clean_key is not None
        annotator, aid, index = clean_key
        broken.update(annotator=annotator, article_id=aid, paragraph_index=index,
                      paragraph_sha256=shas[(aid, index)])
    return broken


def annotation_file(corpus: Corpus, k: int) -> Path:
    return corpus.annotations / f"bench-{k:03d}.jsonl"


def generate(corpus: Corpus, n: int, array_path: Path, seed: int = 3) -> Seeded:
    """N annotation lines in files of FILE_LINES lines (and the same records as one
    JSON array), errors seeded at known places."""
    rng = random.Random(seed)
    book = codebook.load()
    labels = [c for c in book.label_ids if not book.is_retired(c)]
    retired = next(c for c in book.label_ids if book.is_retired(c))
    paragraphs = _paragraph_table(corpus)
    shas = {(aid, i): sha for aid, i, sha in paragraphs}
    per_kind = max(1, n // 1000)
    positions = rng.sample(range(1, n), per_kind * len(KINDS))  # never line 0: duplicates
    kind_at = {pos: KINDS[i % len(KINDS)] for i, pos in enumerate(positions)}
    seeded = Seeded()
    last_clean: tuple[str, str, int] | None = None
    with array_path.open("w", encoding="utf-8") as array:
        array.write("[\n")
        lines = None
        for i in range(n):
            if i % FILE_LINES == 0:
                if lines is not None:
                    lines.close()
                lines = annotation_file(corpus, i // FILE_LINES).open("w", encoding="utf-8")
            aid, index, sha = paragraphs[i % len(paragraphs)]
            annotator = f"annotator-{i // len(paragraphs)}"
            record: dict[str, object] = {
                "article_id": aid, "paragraph_index": index, "paragraph_sha256": sha,
                "labels": rng.sample(labels, rng.choice((0, 1, 1, 2, 3))),
                "annotator": annotator, "created": "2024-05-01T12:00:00Z",
            }
            if rng.random() < 0.2:
                record["confidence"] = round(rng.random(), 2)
            kind = kind_at.get(i)
            if kind is None:
                last_clean = (annotator, aid, index)
            else:
                record = _break(kind, record, last_clean, retired, shas, i)
                seeded.lines[kind].append(i + 1)
            text = json.dumps(record)
            lines.write(text + "\n")  # type: ignore[union-attr]
            array.write(text + (",\n" if i < n - 1 else "\n"))
        array.write("]\n")
        if lines is not None:
            lines.close()
    return seeded


def wrapper_schema(path: Path) -> Path:
    """An array of annotations: `items` is the annotation schema, verbatim."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
               "items": schema}
    path.write_text(json.dumps(wrapper), encoding="utf-8")
    return path


# -- measuring ----------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    cpu: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str


def measure(command: list[str], cwd: Path, scratch: Path) -> Run:
    """Run `command` as a child; wall time, CPU time and peak RSS of that child alone."""
    out, err = scratch / "stdout", scratch / "stderr"
    with out.open("wb") as o, err.open("wb") as e:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=o, stderr=e)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
               child.returncode, out.read_text(encoding="utf-8"),
               err.read_text(encoding="utf-8"))


def ours_flagged(run: Run) -> tuple[set[int], Counter[str]]:
    """Record numbers with schema errors, and the semantic problems by code."""
    problems = json.loads(run.stdout)
    if any(p["code"] == "more-problems" for p in problems):
        raise SystemExit("validate capped its list of problems: lower FILE_LINES")
    # ".../bench-003.jsonl", line 12 -> record 3 * FILE_LINES + 12
    schema = {int(p["file"].rsplit("-", 1)[1][:3]) * FILE_LINES + p["line"]
              for p in problems if p["code"] == "schema"}
    semantic = Counter(p["code"] for p in problems if p["code"] in SEMANTIC_KINDS.values())
    return schema, semantic


def theirs_flagged(run: Run) -> set[int]:
    report = json.loads(run.stdout)
    if report.get("parse_errors"):
        raise SystemExit(f"check-jsonschema could not parse: {report['parse_errors'][:1]}")
    # "$[123].created" -> record 123 -> line 124
    return {int(e["path"][2:].split("]", 1)[0]) + 1 for e in report["errors"]}


@dataclass
class Result:
    lines: int
    ours: Run
    theirs: Run
    seeded: Seeded
    ours_schema: set[int]
    theirs_schema: set[int]
    semantic: Counter[str]

    @property
    def ratio(self) -> float:
        return self.theirs.seconds / self.ours.seconds

    @property
    def cpu_ratio(self) -> float:
        return self.theirs.cpu / self.ours.cpu

    @property
    def schema_agree(self) -> bool:
        return self.ours_schema == self.theirs_schema == self.seeded.schema_lines

    @property
    def semantic_ok(self) -> bool:
        return self.semantic == self.seeded.semantic()


def ours_command(corpus: Corpus) -> list[str]:
    return [*CLI, "validate", "--format", "json", "--corpus", str(corpus.root)]


def theirs_command(schema: Path, instances: Path) -> list[str]:
    return [*CHECK_JSONSCHEMA, "--regex-variant", "python", "-o", "json", "--schemafile",
            str(schema), str(instances)]


def startup(corpus: Corpus, work: Path) -> tuple[Run, Run]:
    """Both tools on no annotation at all: the fixed cost of starting them."""
    empty = work / "empty.json"
    empty.write_text("[]\n", encoding="utf-8")
    schema = wrapper_schema(work / "array.schema.json")
    return measure(ours_command(corpus), work, work), measure(
        theirs_command(schema, empty), work, work)


def bench_size(n: int, corpus: Corpus, work: Path) -> Result:
    array_path = work / "bench-array.json"
    say(f"[{n:,}] generating {n:,} lines")
    seeded = generate(corpus, n, array_path)
    schema = wrapper_schema(work / "array.schema.json")
    say(f"[{n:,}] paratopics validate --format json")
    ours = measure(ours_command(corpus), work, work)
    if ours.code not in (0, 1):
        raise SystemExit(f"paratopics failed ({ours.code}): {ours.stderr[-2000:]}")
    say(f"[{n:,}]   {ours.seconds:.1f} s, {n / ours.seconds:,.0f} lines/s, "
        f"peak {ours.peak_mb:.0f} MB")
    say(f"[{n:,}] check-jsonschema (one JSON array, python regexes)")
    theirs = measure(theirs_command(schema, array_path), work, work)
    if theirs.code not in (0, 1):
        raise SystemExit(f"check-jsonschema failed ({theirs.code}): {theirs.stderr[-2000:]}")
    say(f"[{n:,}]   {theirs.seconds:.1f} s, {n / theirs.seconds:,.0f} lines/s, "
        f"peak {theirs.peak_mb:.0f} MB")
    ours_schema, semantic = ours_flagged(ours)
    result = Result(n, ours, theirs, seeded, ours_schema, theirs_flagged(theirs), semantic)
    for path in corpus.annotation_files():
        path.unlink()
    array_path.unlink()
    return result


# -- reporting ----------------------------------------------------------------


def _rate(n: int, seconds: float) -> int:
    return round(n / seconds)


def table(results: list[Result]) -> str:
    headers = ["lines", "paratopics s", "paratopics lines/s", "paratopics CPU s",
               "paratopics peak RSS MB", "check-jsonschema s", "check-jsonschema lines/s",
               "check-jsonschema CPU s", "check-jsonschema peak RSS MB", "ratio (wall)",
               "ratio (CPU)", "schema-invalid records: paratopics / check-jsonschema / seeded",
               "semantic errors found / seeded"]
    rows = []
    for r in results:
        same = "same records" if r.schema_agree else "DIFFERENT records"
        found, seeded = sum(r.semantic.values()), sum(r.seeded.semantic().values())
        rows.append([
            r.lines, round(r.ours.seconds, 2), _rate(r.lines, r.ours.seconds),
            round(r.ours.cpu, 2), round(r.ours.peak_mb), round(r.theirs.seconds, 2),
            _rate(r.lines, r.theirs.seconds), round(r.theirs.cpu, 2), round(r.theirs.peak_mb),
            f"{r.ratio:.1f}x", f"{r.cpu_ratio:.1f}x",
            f"{len(r.ours_schema)} / {len(r.theirs_schema)} / {len(r.seeded.schema_lines)} "
            f"({same})",
            f"{found} / {seeded}" + ("" if r.semantic_ok else " (MISMATCH)"),
        ])
    return markdown_table(headers, rows)


def _after_startup(n: int, run: Run, start: Run) -> float | None:
    """Lines per CPU second once started; None when the run is within start-up noise."""
    work = run.cpu - start.cpu
    return n / work if work > 0.1 else None


def startup_table(results: list[Result], start: tuple[Run, Run]) -> str:
    """Throughput once started: what the per-line work costs, start-up set apart."""
    ours0, theirs0 = start
    rows = []
    for r in results:
        ours, theirs = _after_startup(r.lines, r.ours, ours0), _after_startup(
            r.lines, r.theirs, theirs0)
        ratio = f"{ours / theirs:.1f}x" if ours and theirs else "n/a"
        rows.append([r.lines, round(ours) if ours else "n/a (start-up noise)",
                     round(theirs) if theirs else "n/a (start-up noise)", ratio])
    head = (f"Start-up (no annotation lines): paratopics {ours0.seconds:.2f} s "
            f"({ours0.cpu:.2f} s CPU, {ours0.peak_mb:.0f} MB), check-jsonschema "
            f"{theirs0.seconds:.2f} s ({theirs0.cpu:.2f} s CPU, {theirs0.peak_mb:.0f} MB). "
            "Lines per CPU second after start-up (CPU time minus that of the empty run; CPU "
            "time is steadier than wall time on a shared machine):")
    return head + "\n\n" + markdown_table(
        ["lines", "paratopics lines/s", "check-jsonschema lines/s", "ratio"], rows)


def report(results: list[Result], articles: int, paragraphs: int,
           start: tuple[Run, Run]) -> str:
    kinds = ", ".join(KINDS)
    load = os.getloadavg()
    return "\n".join([
        "# Validation benchmark",
        "",
        "Generated by `python scripts/bench_validate.py`. Each size is a fresh annotation file "
        f"against {articles} generated articles of {paragraphs} paragraphs, with "
        f"max(1, lines/1000) seeded errors of each kind ({kinds}). Times are for the whole "
        "child process, interpreter start-up included; peak RSS is the child's "
        "(`os.wait4`). check-jsonschema gets the same records as one JSON array whose "
        "schema's `items` is `schema/annotation.schema.json` verbatim, with "
        "`--regex-variant python`. Ratio = check-jsonschema time / paratopics time. "
        f"paratopics reads files of at most {FILE_LINES:,} lines (it lists at most 1,000 "
        "problems of one code per file).",
        "",
        table(results),
        "",
        startup_table(results, start),
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
        f"{load[0]:.1f} at the end of the run.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--paragraphs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-validate.md")
    args = parser.parse_args(argv)
    if shutil.which("check-jsonschema") is None:
        raise SystemExit("check-jsonschema is not installed: pip install check-jsonschema")
    work = Path(tempfile.mkdtemp(prefix="paratopics-bench-"))
    try:
        corpus = make_corpus(work, args.articles, args.paragraphs)
        say("start-up of both tools, no annotation lines")
        start = startup(corpus, work)
        results = [bench_size(n, corpus, work) for n in args.sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(results, args.articles, args.paragraphs, start)
    before = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    args.out.write_text(text + before[before.find(KEPT):] if KEPT in before else text,
                        encoding="utf-8")
    print(text)
    bad = [r.lines for r in results if not (r.schema_agree and r.semantic_ok)]
    if bad:
        say(f"detection mismatch at sizes {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
