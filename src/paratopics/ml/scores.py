"""Computing the baseline scores that the card quotes (see publish/scores.py for why they
are recorded rather than computed at publish time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus
from paratopics.publish.scores import ScoreRow, Scores

LEVELS = (1, 2)
SPLIT = "test"
BASELINE = "baseline (TF-IDF + logistic regression)"


def majority_label(train_sets: Sequence[frozenset[str]]) -> str:
    """The label most often gold in `train` (ties: the smallest id), the floor any
    classifier must clear."""
    counts = Counter(code for labels in train_sets for code in labels)
    return min(counts, key=lambda code: (-counts[code], code))


def compute(corpus: Corpus, version: str, codebook: Codebook, manifest_sha256: str,
            command: str) -> Scores:
    """Fit the baseline at each level on `train` and score it and the majority label
    on `test`, by the same code as `train`, `predict` and `evaluate`."""
    import tempfile

    from paratopics.ml import baseline, evaluate

    rows: list[ScoreRow] = []
    for level in LEVELS:
        gold = evaluate.read_gold(corpus, version, SPLIT, level, codebook)
        gold_sets = [gold.labels[pid] for pid in gold.ids]
        with tempfile.TemporaryDirectory() as folder:
            baseline.train(corpus, version, level, Path(folder), codebook)
            model, card = baseline.load_model(Path(folder))
        predicted = {str(r["paragraph_id"]): frozenset(r["labels"])  # type: ignore[call-overload]
                     for r in baseline.predict(model, card,
                                               [(pid, gold.texts[pid]) for pid in gold.ids])}
        train = evaluate.read_gold(corpus, version, "train", level, codebook)
        top = majority_label([train.labels[pid] for pid in train.ids])
        for name, sets in ((BASELINE, [predicted[pid] for pid in gold.ids]),
                           (f"majority label ({top}, {codebook.name(top)})",
                            [frozenset({top})] * len(gold.ids))):
            result = evaluate.score(gold_sets, sets,
                                    evaluate.label_space(gold_sets, sets, codebook))
            rows.append(ScoreRow(level, name, int(card["train_paragraphs"]), len(gold.ids),
                                 round(float(result["micro"]["f1"]), 6),  # type: ignore[index]
                                 round(float(result["macro"]["f1"]), 6)))  # type: ignore[index]
    return Scores(version, manifest_sha256, SPLIT, command, tuple(rows))

