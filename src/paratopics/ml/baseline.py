"""The baseline classifier: TF-IDF features, one-vs-rest logistic regression.

Deliberately plain, so that it is a floor anyone can reproduce: scikit-learn
defaults except where noted, a fixed random state, and one decision threshold
per label tuned on the validation split (F1-optimal over a fixed grid). A
label with no validation example keeps the default 0.5, and the model card says
which labels those are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus, atomic_write, dump_json
from paratopics.errors import fail
from paratopics.ml.evaluate import binarize, label_space, score, to_level
from paratopics.release import layout as release_layout
from paratopics.release import read as release_read
from paratopics.release.verify import class_names

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclass(frozen=True)
class Hyper:
    ngram_max: int = 2
    min_df: int = 1
    sublinear_tf: bool = True
    max_features: int = 200_000
    C: float = 8.0
    class_weight: str | None = "balanced"
    random_state: int = 0


@dataclass
class Split:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[frozenset[str]] = field(default_factory=list)


def read_splits(corpus: Corpus, version: str, level: int, codebook: Codebook
                ) -> dict[str, Split]:
    out: dict[str, Split] = {}
    for split, table in release_read.read_config(corpus, version, "paragraphs").items():
        if split == release_layout.UNLABELED:
            continue
        names = class_names(table.schema, "labels")
        rows = Split(table.column("paragraph_id").to_pylist(),
                     table.column("text").to_pylist())
        rows.labels = [to_level((names[i] for i in r), level, codebook)
                       for r in table.column("labels").to_pylist()]
        out[split] = rows
    return out


def fit(train: Split, hyper: Hyper) -> tuple[object, list[str]]:
    """Fit on `train`; returns the pipeline and the labels it can predict."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    counts: dict[str, int] = {}
    for chosen in train.labels:
        for code in chosen:
            counts[code] = counts.get(code, 0) + 1
    # A label present in every training paragraph (or none) has nothing to learn.
    labels = sorted(code for code, n in counts.items() if n < len(train.labels))
    if not labels:
        raise fail("nothing-to-score", detail="the train split has no label with both positive "
                   "and negative examples: there is nothing to learn")
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, hyper.ngram_max), min_df=hyper.min_df,
                        sublinear_tf=hyper.sublinear_tf, max_features=hyper.max_features),
        OneVsRestClassifier(LogisticRegression(C=hyper.C, class_weight=hyper.class_weight,
                                               solver="liblinear", max_iter=1000,
                                               random_state=hyper.random_state)),
    )
    model.fit(train.texts, binarize(train.labels, labels))
    return model, labels


def probabilities(model: object, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0))
    return np.asarray(model.predict_proba(texts))  # type: ignore[attr-defined]


def tune_thresholds(probs: np.ndarray, gold: list[frozenset[str]], labels: list[str]
                    ) -> dict[str, float]:
    """Per label, the grid threshold with the best validation F1 (0.5 when untestable)."""
    thresholds = dict.fromkeys(labels, 0.5)
    if not gold:
        return thresholds
    known = set(labels)
    truth = binarize([chosen & known for chosen in gold], labels)
    for i, code in enumerate(labels):
        if truth[:, i].sum() == 0:
            continue
        best = max(THRESHOLDS, key=lambda t: (_f1(truth[:, i], probs[:, i] >= t), -abs(t - 0.5)))
        thresholds[code] = best
    return thresholds


def _f1(truth: np.ndarray, chosen: np.ndarray) -> float:
    tp = float(np.sum(truth & chosen))
    denominator = float(truth.sum() + chosen.sum())
    return 2 * tp / denominator if denominator else 0.0


def decide(probs: np.ndarray, labels: list[str], thresholds: dict[str, float]
           ) -> list[frozenset[str]]:
    limits = np.array([thresholds[code] for code in labels])
    return [frozenset(code for code, on in zip(labels, row >= limits, strict=True) if on)
            for row in probs]


def _scores_on(split: Split, probs: np.ndarray, labels: list[str],
               thresholds: dict[str, float], codebook: Codebook) -> dict[str, object] | None:
    if not split.ids:
        return None
    predicted = decide(probs, labels, thresholds)
    space = label_space(split.labels, predicted, codebook)
    per_row = [dict(zip(labels, map(float, row), strict=True)) for row in probs]
    return score(split.labels, predicted, space, per_row)


def train(corpus: Corpus, version: str, level: int, out: Path, codebook: Codebook,
          hyper: Hyper | None = None) -> dict[str, object]:
    """Train, tune, score on validation and test, and save model + card in `out`."""
    import joblib

    hyper = hyper or Hyper()
    splits = read_splits(corpus, version, level, codebook)
    if not splits.get("train") or not splits["train"].ids:
        raise fail("nothing-to-score", detail=f"v{version} has no labeled train split")
    model, labels = fit(splits["train"], hyper)
    empty = Split()
    validation, test = splits.get("validation", empty), splits.get("test", empty)
    val_probs = probabilities(model, validation.texts)
    thresholds = tune_thresholds(val_probs, validation.labels, labels)
    untuned = [code for code in labels
               if not any(code in chosen for chosen in validation.labels)]
    card = {
        "model": "tfidf-ovr-logreg",
        "release": version,
        "codebook": codebook.version,
        "level": level,
        "hyperparameters": asdict(hyper),
        "labels": labels,
        "thresholds": thresholds,
        "thresholds_untuned": untuned,
        "train_paragraphs": len(splits["train"].ids),
        "validation": _scores_on(validation, val_probs, labels, thresholds, codebook),
        "test": _scores_on(test, probabilities(model, test.texts), labels, thresholds,
                           codebook),
    }
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out / "model.joblib")
    atomic_write(out / "model.json", dump_json(card))
    atomic_write(out / "README.md", model_card(card).encode("utf-8"))
    return card


def _micro(result: dict[str, Any] | None) -> str:
    if not result or not result.get("micro"):
        return "n/a (empty split)"
    micro = result["micro"]
    return (f"micro-F1 {micro['f1']:.3f} (P {micro['precision']:.3f}, "
            f"R {micro['recall']:.3f}) on {result['paragraphs']} paragraphs")


def model_card(card: dict[str, object]) -> str:
    hyper = ", ".join(f"{k}={v}" for k, v in card["hyperparameters"].items())  # type: ignore[attr-defined]
    untuned = card["thresholds_untuned"]
    return "\n".join([
        f"# paratopics baseline, level {card['level']}",
        "",
        f"TF-IDF + one-vs-rest logistic regression trained on paratopics v{card['release']} "
        f"(codebook {card['codebook']}), {card['train_paragraphs']} training paragraphs, "
        f"{len(card['labels'])} labels.",  # type: ignore[arg-type]
        "",
        f"- hyper-parameters: {hyper}",
        "- thresholds: per label, F1-optimal on the validation split over 0.05..0.95"
        + (f"; {len(untuned)} label(s) had no validation example and keep 0.5"  # type: ignore[arg-type]
           if untuned else ""),
        f"- validation: {_micro(card['validation'])}",  # type: ignore[arg-type]
        f"- test: {_micro(card['test'])}",  # type: ignore[arg-type]
        "",
        "Score predictions with `paratopics evaluate`; numbers from any other scorer are not "
        "comparable.",
        "",
    ])


# -- prediction ---------------------------------------------------------------


def load_model(folder: Path) -> tuple[object, dict[str, Any]]:
    import joblib

    if not (folder / "model.joblib").is_file():
        raise fail("file-missing", file=str(folder / "model.joblib"),
                   path=str(folder / "model.joblib"))
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    return joblib.load(folder / "model.joblib"), card


def read_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(id, text) from a JSONL file with `paragraph_id` (or `id`) and `text`."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            pid = record.get("paragraph_id", record.get("id"))
            if not isinstance(pid, str) or not isinstance(record.get("text"), str):
                raise fail("missing-field", file=str(path), line=number,
                           field="paragraph_id' (or 'id') and 'text")
            yield pid, record["text"]


def predict(model: object, card: dict[str, object], items: Iterable[tuple[str, str]]
            ) -> Iterator[dict[str, object]]:
    from paratopics.ml import inference

    pairs = list(items)
    labels: list[str] = card["labels"]  # type: ignore[assignment]
    probs = inference.scorer(model)([text for _, text in pairs])  # predict_proba's numbers
    chosen = decide(probs, labels, card["thresholds"])  # type: ignore[arg-type]
    for (pid, _), row, picked in zip(pairs, probs, chosen, strict=True):
        yield {"paragraph_id": pid, "labels": [c for c in labels if c in picked],
               "scores": {c: round(float(p), 6) for c, p in zip(labels, row, strict=True)}}
