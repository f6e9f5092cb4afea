"""The judged evaluation set: sample paragraphs, hand them to two judges each, collect verdicts.

A paragraph only measures a classifier if it is judged independently twice and its
split is fixed by the article id, so the sample is stratified by split (the same
hash the release uses) and every batch goes to two different judges, who never see
each other's verdicts. Three steps, each deterministic for the same inputs:

    python scripts/evalset.py sample  --out WORK            # WORK/sample.jsonl
    python scripts/evalset.py batches --work WORK --judges 4  # WORK/batches/*.md, WORK/assign.json
    python scripts/evalset.py collect --work WORK --created 2026-12-03T09:00:00Z
                                     # corpus/annotations/evalset-<judge>.jsonl
    python scripts/evalset.py disputes --work WORK --adjudicators 2
                                     # WORK/disputes/*.md: both judges' labels, unnamed
    python scripts/evalset.py collect --work WORK --stage adjudicate --created ...
                                     # corpus/annotations/evalset-<adjudicator>.jsonl

Adjudication follows the manifest's rule: with two judges a label is gold only when both
chose it, so every paragraph they disagree on goes to an adjudicator (who sees both
label sets, not who gave them) and the adjudicator's judgement is the gold label set.

A verdict file is WORK/verdicts/<judge>/<batch>.jsonl, one line per paragraph key:
``{"key": "b07-p003", "labels": ["medtop:20000638"], "note": "optional"}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from paratopics import codebook as codebook_mod
from paratopics.release.rows import split_of

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261203
# paragraphs wanted per split: the test split gets the most, as it carries the scores
TARGETS = {"train": 650, "validation": 330, "test": 580}
PER_ARTICLE = 8  # at most this many paragraphs of one article, so that no article dominates
BATCH_SIZE = 40  # paragraphs per batch, whole articles only
SEED_SOURCE = "globalsecurity.org"  # the seed article is judged already


@dataclass(frozen=True)
class Item:
    article_id: str
    paragraph_index: int
    paragraph_sha256: str
    split: str
    source: str
    title: str
    heading: str | None
    text: str


def read_articles(articles: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(articles.glob("*.json"))]


def sample(articles: list[dict[str, object]], seed: int = SEED) -> list[Item]:
    """Articles drawn per split in a seeded order until the split's target is met."""
    rng = random.Random(seed)
    by_split: dict[str, list[dict[str, object]]] = defaultdict(list)
    for article in articles:
        if article["source"] == SEED_SOURCE:
            continue
        by_split[split_of(str(article["article_id"]))].append(article)
    items: list[Item] = []
    for split, target in TARGETS.items():
        pool = sorted(by_split[split], key=lambda a: str(a["article_id"]))
        rng.shuffle(pool)
        # Wikinews articles first: few, and the only non-government text
        pool.sort(key=lambda a: a["source"] != "en.wikinews.org")
        taken = 0
        for article in pool:
            if taken >= target:
                break
            paragraphs = list(article["paragraphs"])  # type: ignore[call-overload]
            chosen = sorted(rng.sample(range(len(paragraphs)), min(PER_ARTICLE, len(paragraphs))))
            for i in chosen:
                p = paragraphs[i]
                items.append(Item(str(article["article_id"]), int(p["index"]), str(p["sha256"]),
                                  split, str(article["source"]), str(article["title"]),
                                  p.get("heading"), str(p["text"])))
            taken += len(chosen)
    return items


def batches(items: list[Item]) -> list[list[Item]]:
    """Whole articles per batch, in a seeded article order, about BATCH_SIZE paragraphs each."""
    by_article: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_article[item.article_id].append(item)
    order = sorted(by_article)
    random.Random(SEED + 1).shuffle(order)
    out: list[list[Item]] = [[]]
    for article_id in order:
        if len(out[-1]) >= BATCH_SIZE:
            out.append([])
        out[-1].extend(by_article[article_id])
    return [b for b in out if b]


def pairs(judges: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(judges) for b in range(a + 1, judges)]


def render(number: int, batch: list[Item]) -> str:
    lines = [f"# Batch {number:02d}", "",
             "Judge every paragraph marked [bNN-pNNN] below, following the annotation guide. "
             "Paragraphs of one article are listed in their order in the article; some "
             "paragraphs of an article may be left out.", ""]
    article = None
    for k, item in enumerate(batch):
        if item.article_id != article:
            article = item.article_id
            lines += [f"## Article: {item.title}", f"(source: {item.source})", ""]
        heading = f" (under the heading: {item.heading})" if item.heading else ""
        lines += [f"[b{number:02d}-p{k:03d}]{heading}", item.text, ""]
    return "\n".join(lines)


def keys(number: int, batch: list[Item]) -> dict[str, Item]:
    return {f"b{number:02d}-p{k:03d}": item for k, item in enumerate(batch)}


def cmd_sample(args: argparse.Namespace) -> int:
    items = sample(read_articles(Path(args.articles)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sample.jsonl").open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
    per_split = Counter(i.split for i in items)

    print(f"{len(items)} paragraphs from {len({i.article_id for i in items})} articles")
    for split in TARGETS:
        print(f"  {split:<10} {per_split[split]:>5} paragraphs")
    print("  by source:", dict(Counter(i.source for i in items)))

    return 0


def load_sample(work: Path) -> list[Item]:
    with (work / "sample.jsonl").open(encoding="utf-8") as f:
        return [Item(**json.loads(line)) for line in f]


def cmd_batches(args: argparse.Namespace) -> int:
    work = Path(args.work)
    items = load_sample(work)
    bs = batches(items)
    (work / "batches").mkdir(exist_ok=True)
    judge_pairs = pairs(args.judges)
    assign: dict[str, list[int]] = {f"llm-judge-{j + 1}": [] for j in range(args.judges)}
    for n, batch in enumerate(bs, start=1):
        (work / "batches" / f"batch-{n:02d}.md").write_text(render(n, batch), encoding="utf-8")
        a, b = judge_pairs[(n - 1) % len(judge_pairs)]
        assign[f"llm-judge-{a + 1}"].append(n)
        assign[f"llm-judge-{b + 1}"].append(n)
    (work / "assign.json").write_text(json.dumps(assign, indent=1) + "\n", encoding="utf-8")
    print(f"{len(bs)} batches; " + ", ".join(
        f"{j}: {len(ns)} batches, {sum(len(bs[n - 1]) for n in ns)} paragraphs"
        for j, ns in assign.items()))
    return 0


def disputed(work: Path, annotations: Path) -> list[tuple[Item, list[list[str]]]]:
    """Sampled paragraphs whose judges chose different label sets, with both sets."""
    chosen: dict[tuple[str, int], list[list[str]]] = defaultdict(list)
    for path in sorted(annotations.glob("evalset-llm-judge-*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = json.loads(raw)
            chosen[(line["article_id"], line["paragraph_index"])].append(line["labels"])
    out = []
    for item in load_sample(work):
        sets = chosen.get((item.article_id, item.paragraph_index), [])
        if len(sets) == 2 and set(sets[0]) != set(sets[1]):
            out.append((item, sorted(sets)))  # sorted: the order says nothing of who
    return out


def _named(labels: list[str], book: codebook_mod.Codebook) -> str:
    return ", ".join(f"{code} ({book.name(code)})" for code in labels) or "[] (no topic)"


def render_dispute(number: int, found: list[tuple[Item, list[list[str]]]],
                   book: codebook_mod.Codebook) -> str:
    lines = [f"# Dispute batch {number:02d}", "",
             "Two judges disagreed on each paragraph below. Decide its gold labels following "
             "the annotation guide; the judges' label sets are shown in no particular order.",
             ""]
    for k, (item, sets) in enumerate(found):
        heading = f" (under the heading: {item.heading})" if item.heading else ""
        lines += [f"## [d{number:02d}-p{k:03d}] {item.title}{heading}", "", item.text, "",
                  f"- one judge: {_named(sets[0], book)}",
                  f"- the other: {_named(sets[1], book)}",
                  ""]
    return "\n".join(lines)


def cmd_disputes(args: argparse.Namespace) -> int:
    work = Path(args.work)
    found = disputed(work, Path(args.annotations))
    book = codebook_mod.load()
    folder = work / "disputes"
    folder.mkdir(exist_ok=True)
    size = -(-len(found) // (args.adjudicators * 2)) or 1  # two batches per adjudicator
    parts = [found[i:i + size] for i in range(0, len(found), size)]
    names = [f"llm-adjudicator-{a + 1}" for a in range(args.adjudicators)]
    assign: dict[str, list[int]] = {name: [] for name in names}
    for n, part in enumerate(parts, start=1):
        (folder / f"dispute-{n:02d}.md").write_text(render_dispute(n, part, book), encoding="utf-8")
        assign[f"llm-adjudicator-{(n - 1) % args.adjudicators + 1}"].append(n)
    (work / "disputes-assign.json").write_text(json.dumps(assign, indent=1) + "\n",
                                              encoding="utf-8")
    print(f"{len(found)} disputed paragraphs in {len(parts)} batches: {assign}")
    return 0


def dispute_keys(work: Path, annotations: Path, adjudicators: int) -> dict[int, dict[str, Item]]:
    found = disputed(work, annotations)
    size = -(-len(found) // (adjudicators * 2)) or 1
    parts = [found[i:i + size] for i in range(0, len(found), size)]
    return {n: {f"d{n:02d}-p{k:03d}": item for k, (item, _) in enumerate(part)}
            for n, part in enumerate(parts, start=1)}


def created_at(given: str, verdicts: Path) -> str:
    """`given`, or with `mtime` the time the verdict file was written: when it was judged."""
    if given != "mtime":
        return given
    stamp = dt.datetime.fromtimestamp(int(verdicts.stat().st_mtime), tz=dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_collect(args: argparse.Namespace) -> int:
    work = Path(args.work)
    if args.stage == "adjudicate":
        assign = json.loads((work / "disputes-assign.json").read_text(encoding="utf-8"))
        expected_of = dispute_keys(work, Path(args.out), len(assign))
        return collect(args, assign, expected_of, "disputes-verdicts", "dispute", "adjudicator")
    bs = batches(load_sample(work))
    assign = json.loads((work / "assign.json").read_text(encoding="utf-8"))
    expected_of = {n: keys(n, bs[n - 1]) for n in range(1, len(bs) + 1)}
    return collect(args, assign, expected_of, "verdicts", "batch", "annotator")


def collect(args: argparse.Namespace, assign: dict[str, list[int]],
            expected_of: dict[int, dict[str, Item]], verdicts: str, prefix: str,
            role: str) -> int:
    work = Path(args.work)
    book = codebook_mod.load()
    valid = {c for c in book.label_ids if not book.is_retired(c)}
    out_dir = Path(args.out)
    problems = 0
    for judge, numbers in sorted(assign.items()):
        lines = []
        for n in numbers:
            path = work / verdicts / judge / f"{prefix}-{n:02d}.jsonl"
            expected = expected_of[n]
            if not path.exists():
                print(f"{judge}: batch {n:02d} missing ({path})", file=sys.stderr)
                problems += 1
                continue
            seen: dict[str, dict[str, object]] = {}
            for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not raw.strip():
                    continue
                verdict = json.loads(raw)
                key = verdict.get("key")
                bad = [x for x in verdict.get("labels", []) if x not in valid]
                if key not in expected or bad:
                    print(f"{path}:{lineno}: key {key!r} unknown or labels {bad} invalid",
                          file=sys.stderr)
                    problems += 1
                    continue
                seen[key] = verdict
            for key in sorted(set(expected) - set(seen)):
                print(f"{path}: {key} not judged", file=sys.stderr)
                problems += 1
            for key, item in expected.items():
                if key not in seen:
                    continue
                verdict = seen[key]
                line: dict[str, object] = {
                    "article_id": item.article_id, "paragraph_index": item.paragraph_index,
                    "paragraph_sha256": item.paragraph_sha256,
                    "labels": sorted(set(verdict.get("labels", [])), key=book.label_ids.index),
                    "annotator": judge, "created": created_at(args.created, path),
                }
                if role == "adjudicator":
                    line["role"] = role
                if verdict.get("note"):
                    line["note"] = str(verdict["note"])[:2000]
                lines.append(line)
        lines.sort(key=lambda x: (str(x["article_id"]), int(x["paragraph_index"])))  # type: ignore[call-overload]
        target = out_dir / f"evalset-{judge}.jsonl"
        target.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                          encoding="utf-8")
        print(f"{judge}: {len(lines)} judgements -> {target}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="draw the paragraphs to judge")
    s.add_argument("--out", required=True, help="work folder")
    s.add_argument("--articles", default=str(ROOT / "corpus" / "articles"),
                   help="article records to draw from (default corpus/articles)")
    b = sub.add_parser("batches", help="write the judges' batches and who judges which")
    b.add_argument("--work", required=True, help="work folder of `sample`")
    b.add_argument("--judges", type=int, default=4, help="number of judges (default 4)")
    d = sub.add_parser("disputes", help="write the paragraphs the judges disagree on")
    d.add_argument("--work", required=True, help="work folder of `sample`")
    d.add_argument("--adjudicators", type=int, default=2, help="number of adjudicators")
    d.add_argument("--annotations", default=str(ROOT / "corpus" / "annotations"),
                   help="folder of the judges' annotation files")
    c = sub.add_parser("collect", help="turn verdicts into annotation files")
    c.add_argument("--stage", choices=("judge", "adjudicate"), default="judge",
                   help="the judges' verdicts or the adjudicators' (default: judge)")
    c.add_argument("--work", required=True, help="work folder of `sample`")
    c.add_argument("--created", required=True,
                   help="RFC 3339 time the judging was done, or `mtime`: each verdict "
                   "file's modification time")
    c.add_argument("--out", default=str(ROOT / "corpus" / "annotations"),
                   help="annotation folder (default corpus/annotations)")
    args = parser.parse_args(argv)
    commands = {"sample": cmd_sample, "batches": cmd_batches, "disputes": cmd_disputes,
                "collect": cmd_collect}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
