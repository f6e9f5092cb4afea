"""Baseline scores of a release on its test split, beside a majority-label baseline.

The dataset card quotes these figures, so they are produced by the same code as
`paratopics train`, `predict` and `evaluate`, on the release as shipped, and
written to docs/scores.md with the commands that reproduce them:

    python scripts/scores.py [--version 1.1.0] [--out docs/scores.md]

The majority-label baseline predicts, for every paragraph, the one label most
often gold in `train` at that level: the floor any classifier must clear.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from paratopics import loader
from paratopics.corpus.config import codebook_for
from paratopics.ml import baseline, evaluate

LEVELS = (1, 2)


def majority_label(corpus: object, version: str, level: int, book: object) -> str:
    train = evaluate.read_gold(corpus, version, "train", level, book)  # type: ignore[arg-type]
    counts = Counter(code for pid in train.ids for code in train.labels[pid])
    return min(counts, key=lambda code: (-counts[code], code))


def scores(version: str | None) -> tuple[str, list[dict[str, object]]]:
    corpus = loader.default_corpus()
    book = codebook_for(corpus.root)
    version = loader.resolve_version(corpus, version)
    rows: list[dict[str, object]] = []
    for level in LEVELS:
        gold = evaluate.read_gold(corpus, version, "test", level, book)
        gold_sets = [gold.labels[pid] for pid in gold.ids]
        with tempfile.TemporaryDirectory() as folder:
            card = baseline.train(corpus, version, level, Path(folder), book)
            model, card = baseline.load_model(Path(folder))
        predicted = {str(r["paragraph_id"]): frozenset(r["labels"])  # type: ignore[arg-type]
                     for r in baseline.predict(model, card,
                                               [(pid, gold.texts[pid]) for pid in gold.ids])}
        pred_sets = [predicted[pid] for pid in gold.ids]
        top = majority_label(corpus, version, level, book)
        floor_sets = [frozenset({top})] * len(gold.ids)
        for name, sets in (("baseline (TF-IDF + logistic regression)", pred_sets),
                           (f"majority label ({top}, {book.name(top)})", floor_sets)):
            result = evaluate.score(gold_sets, sets,
                                    evaluate.label_space(gold_sets, sets, book))
            rows.append({"level": level, "model": name, "paragraphs": len(gold.ids),
                         "train": card["train_paragraphs"],
                         "micro": result["micro"]["f1"],  # type: ignore[index]
                         "macro": result["macro"]["f1"]})  # type: ignore[index]
        print(f"level {level}: done ({len(gold.ids)} test paragraphs)", file=sys.stderr)
    return version, rows


def markdown(version: str, rows: list[dict[str, object]]) -> str:
    lines = [f"# Baseline scores of v{version}", "",
             f"Test split of release v{version}, gold labels adjudicated by the manifest's "
             "rule. Produced by `python scripts/scores.py`; the baseline is the one "
             "`paratopics train` fits (scored as `paratopics predict` and `paratopics "
             "evaluate` score it).", "",
             "| level | model | train paragraphs | test paragraphs | micro-F1 | macro-F1 |",
             "|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['level']} | {r['model']} | {r['train']:,} | {r['paragraphs']:,} | "
                     f"{float(r['micro']):.3f} | {float(r['macro']):.3f} |")  # type: ignore[arg-type]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", help="release to score (default: the latest)")
    parser.add_argument("--out", default="docs/scores.md", help="report (default: %(default)s)")
    args = parser.parse_args(argv)
    version, rows = scores(args.version)
    text = markdown(version, rows)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
