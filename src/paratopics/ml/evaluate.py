"""The one scorer: predictions against a release's gold labels.

Every number reported on this corpus should come from here, so that a
micro-F1 means the same thing in every paper. The metrics are scikit-learn's;
this module decides what is compared: which paragraphs (one split of one
release, unlabeled paragraphs never), which label space (level 2 or level 1),
and what happens to bad prediction files (an error naming the line, or with
`lenient` a count of each problem).

Label space: the labels that occur in the split's gold labels or in the
predictions. Labels with no gold example in the split are listed as such:
their recall is undefined, and they are left out of macro averages instead of
being counted as zero.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus, strict_json
from paratopics.errors import ParatopicsError, Problem, fail, problem
from paratopics.ingest.readers.base import wide_encoding
from paratopics.release import layout as release_layout
from paratopics.release import read as release_read
from paratopics.release.verify import class_names


@dataclass
class GoldSplit:
    """Gold label sets of one split, keyed by paragraph id, in release order."""

    version: str
    split: str
    ids: list[str]
    labels: dict[str, frozenset[str]]
    texts: dict[str, str] = field(default_factory=dict)


def to_level(labels: Iterable[str], level: int, codebook: Codebook) -> frozenset[str]:
    if level == 2:
        return frozenset(labels)
    return frozenset(codebook.level1(code) for code in labels)


def read_gold(corpus: Corpus, version: str, split: str, level: int,
              codebook: Codebook) -> GoldSplit:
    if split == release_layout.UNLABELED:
        raise fail("nothing-to-score", detail="the unlabeled split has no gold labels to score")
    tables = release_read.read_config(corpus, version, "paragraphs")
    if split not in tables:
        have = ", ".join(s for s in tables if s != release_layout.UNLABELED) or "none"
        raise fail("nothing-to-score",
                   detail=f"split '{split}' of v{version} has no labeled paragraphs, so there "
                   f"is nothing to score (splits with paragraphs: {have})")
    table = tables[split]
    names = class_names(table.schema, "labels")
    ids = table.column("paragraph_id").to_pylist()
    labels = {pid: to_level((names[i] for i in row), level, codebook)
              for pid, row in zip(ids, table.column("labels").to_pylist(), strict=True)}
    texts = dict(zip(ids, table.column("text").to_pylist(), strict=True))
    return GoldSplit(version, split, ids, labels, texts)


# -- predictions --------------------------------------------------------------


@dataclass
class Predictions:
    labels: dict[str, frozenset[str]]
    scores: dict[str, dict[str, float]] | None
    problems: dict[str, list[str]] = field(default_factory=dict)

    def count(self, kind: str, where: str) -> None:
        self.problems.setdefault(kind, []).append(where)


class PredictionProblems(ParatopicsError):
    """Every problem of a predictions file, found in one reading of it: the first is
    the error's own, all of them are in `problems`."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0])
        self.problems = problems


#: Problems listed per kind; the rest are counted in one more-problems line.
MAX_LISTED = 50
#: The kind --lenient counts a problem under (the keys of the result's "problems").
KIND = {"prediction-unknown-id": "paragraph_id", "prediction-duplicate": "duplicate",
        "prediction-labels": "labels", "prediction-level": "labels",
        "prediction-score": "scores", "json-syntax": "json", "not-utf8": "json"}


def resolve_label(value: object, codebook: Codebook, names: Sequence[str]) -> str | None:
    """A codebook id from an id, a ClassLabel index or a node name; None if unknown."""
    if isinstance(value, int) and not isinstance(value, bool):
        return names[value] if 0 <= value < len(names) else None
    if not isinstance(value, str):
        return None
    if value in codebook:
        return value
    by_name = {node["name"]: node["id"] for node in codebook.nodes}
    return by_name.get(value)


def _parse(text: str) -> tuple[object, str | None]:
    """The line's JSON value, or why it is not JSON (with the column)."""
    try:
        return strict_json(text), None
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at column {exc.colno}"
    except (ValueError, RecursionError) as exc:  # NaN, a repeated key, too deep
        return None, str(exc) or "nested too deeply"


def _prediction_lines(path: Path) -> list[bytes]:
    """The lines of a predictions file as bytes, each decoded on its own, so that a
    byte that is not UTF-8 is a problem of its line, not a traceback. A file in
    UTF-16 or UTF-32, or one that cannot be read, is refused whole."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise fail("read-failed", file=str(path), detail=exc.strerror or str(exc)) from None
    wide = wide_encoding(data[:512])
    if wide is not None:
        raise fail("utf16-file", file=str(path), encoding=wide)
    return data.splitlines(keepends=True)


def read_predictions(path: Path, gold: GoldSplit, level: int, codebook: Codebook,
                     lenient: bool = False) -> Predictions:
    """Parse a predictions JSONL file, reporting every problem in it: strict mode raises
    PredictionProblems with all of them after reading the whole file; lenient mode
    counts them and scores what is usable."""
    names = codebook.label_ids
    labels: dict[str, frozenset[str]] = {}
    first_line: dict[str, int] = {}
    scores: dict[str, dict[str, float]] = {}
    result = Predictions(labels, None)
    found: list[Problem] = []
    listed: dict[str, int] = {}
    has_scores = True

    def report(code: str, line: int | None, pointer: str = "", **fields: object) -> None:
        result.count(KIND.get(code, code), f"{path}:{line}" if line else str(path))
        listed[code] = listed.get(code, 0) + 1
        if listed[code] <= MAX_LISTED:
            found.append(problem(code, file=str(path), line=line, pointer=pointer, **fields))

    def label_of(value: object, number: int, pointer: str) -> str | None:
        code = resolve_label(value, codebook, names)
        if code is None:
            report("prediction-labels", number, pointer,
                   detail=f"{value!r} is not a codebook id, class index or node name")
            return None
        if level == 2 and codebook.by_id[code]["level"] == 1:
            report("prediction-level", number, pointer, label=code,
                   name=codebook.name(code))
            return None
        return code

    for number, raw in enumerate(_prediction_lines(path), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            report("not-utf8", number, offset=exc.start,
                   detail=f"{exc.reason} (counted from the start of the line)")
            continue
        if not text.strip():
            continue
        record, syntax = _parse(text)
        if syntax is not None:
            report("json-syntax", number, detail=syntax)
            continue
        pid = record.get("paragraph_id") if isinstance(record, dict) else None
        if not isinstance(record, dict) or not isinstance(pid, str) or pid not in gold.labels:
            shown = ("the line is not a JSON object" if not isinstance(record, dict) else
                     "the line has no paragraph_id" if pid is None else repr(pid))
            report("prediction-unknown-id", number, "/paragraph_id", what=shown,
                   split=gold.split, version=gold.version)
            continue
        if pid in labels:
            report("prediction-duplicate", number, "/paragraph_id", paragraph_id=pid,
                   first=first_line[pid])
            continue
        given = record.get("labels", [])
        if not isinstance(given, list):
            report("prediction-labels", number, "/labels",
                   detail=f"{given!r} is not a list of labels")
            continue
        resolved = [code for i, value in enumerate(given)
                    if (code := label_of(value, number, f"/labels/{i}")) is not None]
        labels[pid] = to_level(resolved, level, codebook)
        first_line[pid] = number
        raw_scores = record.get("scores")
        if isinstance(raw_scores, dict):
            mapped: dict[str, float] = {}
            for key, value in raw_scores.items():
                if not isinstance(value, int | float) or isinstance(value, bool) \
                        or not math.isfinite(value):
                    report("prediction-score", number, f"/scores/{key}", label=key,
                           value=json.dumps(value))
                    continue
                code = resolve_label(key, codebook, names)
                if code is not None:
                    target = code if level == 2 else codebook.level1(code)
                    mapped[target] = max(mapped.get(target, 0.0), float(value))
            scores[pid] = mapped
        else:
            has_scores = False
    missing = [pid for pid in gold.ids if pid not in labels]
    if missing:
        for pid in missing:
            result.count("missing", pid)
        found.append(problem("prediction-missing", file=str(path), count=len(missing),
                             paragraph_id=missing[0], split=gold.split))
    if not lenient and found:
        found += [problem("more-problems", file=str(path), count=n - MAX_LISTED, kind=code)
                  for code, n in listed.items() if n > MAX_LISTED]
        raise PredictionProblems(found)
    for pid in missing:
        labels[pid] = frozenset()
        scores.setdefault(pid, {})
    result.scores = scores if has_scores and scores else None
    return result


# -- scoring ------------------------------------------------------------------


def label_space(gold: Iterable[frozenset[str]], pred: Iterable[frozenset[str]],
                codebook: Codebook) -> list[str]:
    present = set().union(*gold, *pred)
    order = codebook.order
    return sorted(present, key=lambda code: order.get(code, len(order)))


def binarize(sets: Sequence[frozenset[str]], labels: Sequence[str]) -> np.ndarray:
    index = {code: i for i, code in enumerate(labels)}
    matrix = np.zeros((len(sets), len(labels)), dtype=np.int8)
    for row, chosen in enumerate(sets):
        for code in chosen:
            matrix[row, index[code]] = 1
    return matrix


def _pad(matrix: np.ndarray) -> np.ndarray:
    return np.hstack([matrix, np.zeros((matrix.shape[0], 1), dtype=matrix.dtype)])


def score(gold_sets: Sequence[frozenset[str]], pred_sets: Sequence[frozenset[str]],
          labels: Sequence[str], pred_scores: Sequence[dict[str, float]] | None = None,
          ) -> dict[str, object]:
    """Multi-label metrics (scikit-learn), with honest handling of empty support."""
    from sklearn import metrics

    if not labels:
        return {"paragraphs": len(gold_sets), "labels": 0, "note": "no labels in gold or "
                "predictions: every metric is undefined"}
    y_true, y_pred = binarize(gold_sets, labels), binarize(pred_sets, labels)
    support = y_true.sum(axis=0)
    supported = [i for i, n in enumerate(support) if n > 0]
    out: dict[str, object] = {"paragraphs": len(gold_sets), "labels": len(labels)}
    for average in ("micro", "macro", "weighted", "samples"):
        columns = supported if average == "macro" else list(range(len(labels)))
        if not columns:
            out[average] = None
            continue
        # scikit-learn reads a single column as binary, not multi-label: an all-zero
        # extra column, left out through `labels`, keeps every input multi-label.
        p, r, f, _ = metrics.precision_recall_fscore_support(
            _pad(y_true[:, columns]), _pad(y_pred[:, columns]), average=average,
            labels=list(range(len(columns))), zero_division=0)
        out[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    out["subset_accuracy"] = float(metrics.accuracy_score(_pad(y_true), _pad(y_pred)))
    out["hamming_loss"] = float(metrics.hamming_loss(y_true, y_pred))
    p, r, f, s = metrics.precision_recall_fscore_support(
        _pad(y_true), _pad(y_pred), average=None, labels=list(range(len(labels))),
        zero_division=0)
    per_label = []
    for i, code in enumerate(labels):
        entry: dict[str, object] = {"label": code, "support": int(s[i]),
                                    "predicted": int(y_pred[:, i].sum()),
                                    "precision": float(p[i]), "recall": float(r[i]),
                                    "f1": float(f[i])}
        if s[i] == 0:
            entry["recall"] = entry["f1"] = None
            entry["note"] = "no gold example in this split"
        per_label.append(entry)
    if pred_scores is not None:
        y_score = np.array([[row.get(code, 0.0) for code in labels] for row in pred_scores])
        for i, entry in enumerate(per_label):
            if 0 < support[i] < len(gold_sets):
                entry["average_precision"] = float(
                    metrics.average_precision_score(y_true[:, i], y_score[:, i]))
            else:
                entry["average_precision"] = None
    out["per_label"] = per_label
    out["labels_without_support"] = [labels[i] for i in range(len(labels)) if support[i] == 0]
    return out


def evaluate(corpus: Corpus, predictions: Path, codebook: Codebook, version: str,
             split: str = "test", level: int = 2, lenient: bool = False) -> dict[str, object]:
    gold = read_gold(corpus, version, split, level, codebook)
    preds = read_predictions(predictions, gold, level, codebook, lenient)
    gold_sets = [gold.labels[pid] for pid in gold.ids]
    pred_sets = [preds.labels[pid] for pid in gold.ids]
    labels = label_space(gold_sets, pred_sets, codebook)
    pred_scores = [preds.scores.get(pid, {}) for pid in gold.ids] if preds.scores else None
    result = score(gold_sets, pred_sets, labels, pred_scores)
    result.update({"version": version, "split": split, "level": level,
                   "problems": {k: len(v) for k, v in preds.problems.items()}})
    return result


def report_text(result: dict[str, object], codebook: Codebook) -> str:
    from paratopics.report import table

    head = (f"paratopics v{result['version']}, split {result['split']}, level "
            f"{result['level']}: {result['paragraphs']} paragraphs, {result['labels']} labels")
    lines = [head]
    if result.get("note"):
        return "\n".join([*lines, str(result["note"])])
    rows = []
    for average in ("micro", "macro", "weighted", "samples"):
        value = result[average]
        if value is None:
            rows.append([average, "n/a", "n/a", "n/a"])
        else:
            rows.append([average, value["precision"], value["recall"], value["f1"]])  # type: ignore[index]
    lines += ["", table(["average", "precision", "recall", "f1"], rows, align="lrrr"),
              "", f"subset accuracy {result['subset_accuracy']:.3f}   "
              f"hamming loss {result['hamming_loss']:.4f}"]
    per = []
    for entry in result["per_label"]:  # type: ignore[attr-defined]
        name = codebook.name(entry["label"]) if entry["label"] in codebook else ""
        def fmt(v: object) -> object:
            return "n/a" if v is None else v
        per.append([entry["label"], name, entry["support"], entry["predicted"],
                    fmt(entry["precision"]), fmt(entry["recall"]), fmt(entry["f1"]),
                    fmt(entry.get("average_precision", "-"))])
    lines += ["", table(["label", "name", "support", "predicted", "precision", "recall", "f1",
                         "AP"], per, align="llrrrrrr")]
    missing = result["labels_without_support"]
    if missing:
        lines.append(f"\n{len(missing)} label(s) predicted but absent from the gold labels of "  # type: ignore[arg-type]
                     "this split: their recall and F1 are undefined and they are left out of "
                     "the macro average.")
    if result["problems"]:
        lines.append("prediction problems counted (--lenient): " + ", ".join(
            f"{k} {v}" for k, v in result["problems"].items()))  # type: ignore[attr-defined]
    if result["paragraphs"] < 50:  # type: ignore[operator]
        lines.append(f"\nnote: only {result['paragraphs']} paragraphs in this split; scores "
                     "this small carry wide uncertainty.")
    return "\n".join(lines)
