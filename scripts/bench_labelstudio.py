"""Benchmark of the Label Studio round trip at 100,000 tasks; writes docs/bench-labelstudio.md.

1. `paratopics tasks export --tool label-studio --model M --limit 100000` on a synthetic corpus
   of unjudged paragraphs (baseline predictions attached);
2. `paratopics annotations import` of a 100,000-annotation JSON export (50,000 tasks with two
   annotators each) made from those tasks;
3. the same import of an export padded to over 1 GB, to show that memory does not grow with
   the file (the export is streamed).

Each command runs in a fresh process; its wall time and peak RSS (getrusage of the child) are
reported beside a named peer: Python's `json.load` of the same file (the whole file in
memory), and `json.dump` of the same tasks. Targets: under 20 s and 1 GB for steps 1 and 2.

    python scripts/bench_labelstudio.py [--workdir DIR] [--tasks 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
           "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
           "w = time.perf_counter() - t; "
           "print(r.returncode, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
           "sys.stderr.write(r.stderr[-2000:])")
PEER_LOAD = "import json, sys; json.load(open(sys.argv[1], encoding='utf-8'))"
PEER_DUMP = ("import json, sys; d = json.load(open(sys.argv[1], encoding='utf-8')); "
             "import time; t = time.perf_counter(); json.dump(d, open(sys.argv[2], 'w')); "
             "sys.stderr.write(f'dump {time.perf_counter() - t:.3f}\\n')")


def measure(*command: str) -> tuple[float, float]:
    """(seconds, peak MB) of `command` in a fresh process; stops on failure."""
    run = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True,
                         text=True)
    code, seconds, peak_kb = run.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr}")
    return float(seconds), int(peak_kb) / 1024


def paratopics(*args: str) -> list[str]:
    return [sys.executable, "-m", "paratopics", *args]


def fresh_corpus(root: Path) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    return root


def make_export(tasks_path: Path, out: Path, tasks: int, pad: int = 0) -> int:
    """A Label Studio JSON export: `tasks` of the exported tasks, each annotated by users 1
    and 2 (labels from the prediction, or a fixed one), written task by task."""
    exported = json.loads(tasks_path.read_bytes())[:tasks]
    other = ["medtop:16000000", "paratopics:insurgency"]
    with out.open("wb") as handle:
        handle.write(b"[")
        for number, task in enumerate(exported):
            picked = task["predictions"][0]["result"][0]["value"]["taxonomy"]
            data = dict(task["data"], padding="x" * pad) if pad else task["data"]
            record = {
                "id": number + 1, "data": data, "predictions": [number + 1], "drafts": [],
                "annotations": [
                    {"id": 2 * number + user, "completed_by": user, "was_cancelled": False,
                     "ground_truth": False, "lead_time": 9.5,
                     "created_at": "2026-12-01T10:00:00.000001Z",
                     "updated_at": f"2026-12-01T10:{user:02d}:00.5Z",
                     "result": [{"from_name": "topics", "to_name": "paragraph",
                                 "type": "taxonomy", "id": "r",
                                 "value": {"taxonomy": picked if user == 1
                                           else [*picked, other]}}]}
                    for user in (1, 2)]}
            handle.write((b",\n" if number else b"\n") + orjson.dumps(record))
        handle.write(b"\n]\n")
    return 2 * len(exported)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/paratopics-bench-ls"))
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench-labelstudio.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from paratopics.corpus.store import Corpus
    from paratopics.synthetic import generate

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    small = fresh_corpus(work / "model-corpus")
    generate(Corpus(small), 1500, seed=1, unlabeled_share=0.1, annotators=2)
    subprocess.run(paratopics("build", "--corpus", str(small), "--version", "1.0.0"),
                   check=True, capture_output=True)
    model = work / "model"
    subprocess.run(paratopics("train", "--corpus", str(small), "--out", str(model)),
                   check=True, capture_output=True)
    big = fresh_corpus(work / "corpus")
    articles = max(1, args.tasks // 9)
    info = generate(Corpus(big), articles, seed=2, unlabeled_share=0.1, annotators=2)
    while info.paragraphs < args.tasks:
        more = generate(Corpus(big), max(1, (args.tasks - info.paragraphs) // 8), seed=3,
                        unlabeled_share=0.1, annotators=2)
        info = type(info)(**{**info.__dict__, "paragraphs": info.paragraphs + more.paragraphs})
    for path in (big / "annotations").glob("*.jsonl"):
        path.unlink()  # every paragraph unjudged: all are candidates
    print(f"corpora ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    tasks = work / "tasks.json"
    export_s, export_mb = measure(*paratopics(
        "tasks", "export", "--tool", "label-studio", "--corpus", str(big), "--out", str(tasks),
        "--limit", str(args.tasks), "--model", str(model)))
    count = len(json.loads(tasks.read_bytes()))
    dump_peer = subprocess.run([sys.executable, "-c", PEER_DUMP, str(tasks),
                                str(work / "dumped.json")], capture_output=True, text=True)
    dump_s = float(dump_peer.stderr.split()[-1])

    annotated = work / "export.json"
    annotations = make_export(tasks, annotated, args.tasks // 2)
    mapping = work / "people.tsv"
    mapping.write_text("1\tannotator-one\n2\tannotator-two\n", encoding="utf-8")
    out = big / "annotations" / "label-studio.jsonl"
    import_s, import_mb = measure(*paratopics(
        "annotations", "import", "--tool", "label-studio", str(annotated), "--corpus", str(big),
        "--out", str(out), "--annotators", str(mapping)))
    lines = sum(1 for _ in out.open("rb"))
    load_s, load_mb = measure(sys.executable, "-c", PEER_LOAD, str(annotated))

    huge = work / "export-1gb.json"
    per_task = (1_100_000_000 // (args.tasks // 2)) if args.tasks else 0
    make_export(tasks, huge, args.tasks // 2, pad=per_task)
    huge_size = huge.stat().st_size
    out.unlink()
    huge_s, huge_mb = measure(*paratopics(
        "annotations", "import", "--tool", "label-studio", str(huge), "--corpus", str(big),
        "--out", str(out), "--annotators", str(mapping)))
    huge_load_s, huge_load_mb = measure(sys.executable, "-c", PEER_LOAD, str(huge))
    huge.unlink()
    valid = subprocess.run(paratopics("validate", "--corpus", str(big), str(out)),
                           capture_output=True, text=True)

    size = annotated.stat().st_size
    rows = [
        ("tasks export, with predictions", f"{count:,} tasks", tasks.stat().st_size,
         export_s, export_mb, f"json.dump of the same tasks: {dump_s:.2f} s (without "
         "reading the corpus or predicting)"),
        ("annotations import", f"{annotations:,} annotations", size, import_s, import_mb,
         f"json.load of the export: {load_s:.2f} s, {load_mb:,.0f} MB"),
        ("annotations import, padded export", f"{annotations:,} annotations", huge_size,
         huge_s, huge_mb, f"json.load of the export: {huge_load_s:.2f} s, "
         f"{huge_load_mb:,.0f} MB"),
    ]
    lines_md = [
        "# Label Studio round trip: benchmark",
        "",
        f"`python scripts/bench_labelstudio.py --tasks {args.tasks}` on this machine"
        f" (Python {platform.python_version()}, {platform.machine()}). Each command runs in a "
        "fresh process; time is wall-clock, memory the process's peak RSS. Targets: export of "
        "100,000 tasks with predictions and import of a 100,000-annotation export, each under "
        "20 s and 1 GB.",
        "",
        "| step | size | file | time | rows/s | peak memory | peer |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for name, what, nbytes, seconds, mb, peer in rows:
        n = int(what.split()[0].replace(",", ""))
        lines_md.append(f"| {name} | {what} | {nbytes / 1e6:,.0f} MB | {seconds:.1f} s | "
                        f"{n / seconds:,.0f} | {mb:,.0f} MB | {peer} |")
    lines_md += [
        "",
        f"The import wrote {lines:,} lines; `paratopics validate` on them: "
        f"{'valid' if valid.returncode == 0 else 'FAILED'}. The padded export gives every "
        f"task a {per_task:,}-character field in its data: the import streams it with ijson "
        "(yajl2_c), so its peak memory stays that of the judgements kept, while the peer holds "
        "the whole parsed file.",
        "",
    ]
    args.out.write_text("\n".join(lines_md), encoding="utf-8")
    print("\n".join(lines_md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
