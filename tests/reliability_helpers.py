"""Shared helpers of the reliability tests (crash, concurrency, corruption, hostile input).

They run the real `paratopics` command in real subprocesses and judge the corpus
on disk afterwards with the library's own checks, so that a test fails exactly
when a user would find the corpus broken.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.errors import Problem
from paratopics.release import layout as release_layout
from paratopics.release import verify as release_verify
from paratopics.synthetic import generate
from paratopics.validate.core import validate_corpus

LAYOUT = ("sources", "articles", "annotations", "releases")
WORDS = ("ministry", "border", "talks", "election", "harvest", "storm", "court", "budget",
         "festival", "strike", "vaccine", "bridge", "treaty", "drought", "league", "museum")


def new_corpus(root: Path) -> Corpus:
    for sub in LAYOUT:
        (root / sub).mkdir(parents=True, exist_ok=True)
    return Corpus(root)


def synthetic_corpus(root: Path, articles: int, seed: int = 0) -> Corpus:
    """A valid corpus with articles, raw sources and judgements (the synthetic generator)."""
    corpus = new_corpus(root)
    generate(corpus, articles, seed=seed)
    return corpus


def article_record(number: int, rng: random.Random, source: str = "crash-test",
                   paragraphs: int = 6) -> dict[str, object]:
    """One JSON-door article record; `number` makes it (and its id) unique."""
    body = [" ".join(rng.choice(WORDS) for _ in range(40)) + "." for _ in range(paragraphs)]
    return {"source": source, "url": f"https://example.org/{source}/{number}",
            "title": f"Report {number}: {rng.choice(WORDS)} and {rng.choice(WORDS)}",
            "published": f"2024-{number % 12 + 1:02d}-{number % 28 + 1:02d}",
            "authors": ["A. Writer"], "paragraphs": body, "license": "CC0-1.0",
            "attribution": f"Test wire, https://example.org/{source}/{number}"}


def write_json_inputs(folder: Path, first: int, count: int, seed: int) -> list[Path]:
    """`count` article files numbered from `first`, one JSON record each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(first, first + count):
        path = folder / f"article-{number:05d}.json"
        path.write_text(json.dumps(article_record(number, rng)), encoding="utf-8")
        paths.append(path)
    return paths


def write_jsonl_input(path: Path, first: int, count: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(first, first + count):
            handle.write(json.dumps(article_record(number, rng, paragraphs=3)) + "\n")
    return path


def cli_args(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "paratopics", *map(str, args)]


def run(*args: str | Path, timeout: float = 600,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(*args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


#: Runs argv[1:] as its child and reports that child's peak RSS. The measured process
#: must be forked from this small process, not from pytest: Linux carries the RSS
#: high-water mark of the forking process over into the child's ru_maxrss.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\n@@maxrss-kb {usage.ru_maxrss}\\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(args: list[str], preexec_fn: object = None,
                 ) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `args`; return its result and its peak resident memory in MB."""
    done = subprocess.run([sys.executable, "-S", "-c", _MEASURE, *args], capture_output=True,
                          text=True, preexec_fn=preexec_fn, timeout=900)  # type: ignore[arg-type]
    stderr, _, tail = done.stderr.rpartition("\n@@maxrss-kb ")
    assert tail, f"no measurement: {done.stderr[-500:]}"
    done = subprocess.CompletedProcess(args, done.returncode, done.stdout, stderr)
    return done, int(tail.split()[0]) / 1024


def visible_files(root: Path) -> list[str]:
    """Every file under `root` whose path has no hidden (dot) component."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not any(part.startswith(".") for part in rel.parts) and not path.is_dir():
            found.append(rel.as_posix())
    return sorted(found)


def corpus_problems(corpus: Corpus) -> list[str]:
    """What `paratopics validate` would report, plus any visible file that is not a
    complete record, raw copy, annotation file or release file."""
    book = codebook_module.load()
    summary = validate_corpus(corpus, codebook=book)
    found = [f"{p.file}:{p.line} [{p.code}] {p.message}" for p in summary.problems]
    for rel in visible_files(corpus.root):
        top, _, rest = rel.partition("/")
        if top == "articles":
            if not rest.endswith(".json") or "/" in rest:
                found.append(f"{rel}: not an article record")
                continue
            try:
                json.loads((corpus.root / rel).read_bytes())
            except ValueError as exc:
                found.append(f"{rel}: partial record ({exc})")
        elif top == "history":  # superseded paragraph texts, one JSON line each
            try:
                for line in (corpus.root / rel).read_text(encoding="utf-8").splitlines():
                    json.loads(line)
            except ValueError as exc:
                found.append(f"{rel}: partial history file ({exc})")
        elif top == "releases" and rest != "CHANGELOG.md":
            version = rest.split("/", 1)[0]
            if not (corpus.releases / version / "manifest.json").is_file():
                found.append(f"{rel}: in a release folder without a manifest (partial)")
        elif top not in (*LAYOUT, "history"):
            found.append(f"{rel}: unexpected file")
    return found


def release_issues(corpus: Corpus) -> dict[str, list[Problem]]:
    """version -> what `paratopics verify` finds wrong with it (empty when intact)."""
    book = codebook_module.load()
    return {v: release_verify.verify(corpus, v, book)
            for v in release_layout.list_versions(corpus)}


def wait_until(condition: object, limit: float = 60.0, step: float = 0.002) -> bool:
    """Poll `condition()` until true or `limit` seconds pass (a liveness guard only)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False


def process_gone(pid: int) -> bool:
    """True when `pid` has exited (a zombie awaiting its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] in {"Z", "X"}
    except OSError:
        return True


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (worker processes of an ingest)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="ascii")
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids
