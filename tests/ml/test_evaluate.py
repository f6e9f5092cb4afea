"""The scorer: agreement with scikit-learn, label resolution, and bad prediction files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import run_in_process, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from paratopics.codebook import load as load_codebook
from paratopics.corpus.store import Corpus
from paratopics.ml import evaluate as evaluate
from paratopics.release import build as release_build
from paratopics.release import read as release_read

BOOK = load_codebook()
UNIVERSE = list(BOOK.label_ids[:6])
label_sets = st.frozensets(st.sampled_from(UNIVERSE), max_size=4)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(label_sets, label_sets), min_size=1, max_size=30))
def test_score_agrees_with_sklearn(pairs: list[tuple[frozenset[str], frozenset[str]]]) -> None:
    gold = [g for g, _ in pairs]
    pred = [p for _, p in pairs]
    labels = evaluate.label_space(gold, pred, BOOK)
    result = evaluate.score(gold, pred, labels)
    if not labels:
        assert result["labels"] == 0
        return
    truth = np.array([[code in g for code in labels] for g in gold], dtype=int)
    guess = np.array([[code in p for code in labels] for p in pred], dtype=int)
    # The oracle: scikit-learn's label-indicator path, written out per definition.
    for average in ("micro", "weighted", "samples"):
        p, r, f = _oracle(truth, guess, average)
        assert result[average] == pytest.approx({"precision": p, "recall": r, "f1": f})
        if len(labels) >= 2:  # scikit-learn itself, where it reads the input as multi-label
            p, r, f, _ = metrics.precision_recall_fscore_support(truth, guess, average=average,
                                                                 zero_division=0)
            assert result[average] == pytest.approx({"precision": p, "recall": r, "f1": f})
    supported = [i for i in range(len(labels)) if truth[:, i].sum() > 0]
    if supported:
        p, r, f = _oracle(truth[:, supported], guess[:, supported], "macro")
        assert result["macro"] == pytest.approx({"precision": p, "recall": r, "f1": f})
    else:
        assert result["macro"] is None
    assert result["subset_accuracy"] == pytest.approx(np.mean((truth == guess).all(axis=1)))
    assert result["hamming_loss"] == pytest.approx(metrics.hamming_loss(truth, guess))
    f_each = [_oracle(truth[:, [i]], guess[:, [i]], "micro")[2] for i in range(len(labels))]
    for i, entry in enumerate(result["per_label"]):
        assert entry["support"] == truth[:, i].sum()
        if entry["support"]:
            assert entry["f1"] == pytest.approx(f_each[i])
        else:
            assert entry["f1"] is None and entry["label"] in result["labels_without_support"]


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _oracle(truth: np.ndarray, guess: np.ndarray, average: str) -> tuple[float, ...]:
    """Precision, recall, F1 from their definitions, independently of the scorer."""
    tp, fp, fn = (truth & guess), (guess & (1 - truth)), (truth & (1 - guess))
    if average == "micro":
        return _prf(tp.sum(), fp.sum(), fn.sum())
    if average == "samples":
        rows = [_prf(tp[i].sum(), fp[i].sum(), fn[i].sum()) for i in range(len(truth))]
        return tuple(float(np.mean(col)) for col in zip(*rows, strict=True))
    cols = [_prf(tp[:, j].sum(), fp[:, j].sum(), fn[:, j].sum()) for j in range(truth.shape[1])]
    weights = truth.sum(axis=0) if average == "weighted" else np.ones(truth.shape[1])
    if weights.sum() == 0:
        return (0.0, 0.0, 0.0)
    return tuple(float(np.average(col, weights=weights)) for col in zip(*cols, strict=True))


def test_average_precision_uses_scores() -> None:
    a, b = UNIVERSE[:2]
    gold = [frozenset({a}), frozenset({b}), frozenset({a, b}), frozenset()]
    pred = [frozenset({a}), frozenset(), frozenset({a}), frozenset()]
    scores = [{a: 0.9, b: 0.1}, {a: 0.2, b: 0.4}, {a: 0.8, b: 0.3}, {a: 0.1, b: 0.6}]
    result = evaluate.score(gold, pred, [a, b], scores)
    expected = metrics.average_precision_score([1, 0, 1, 0], [0.9, 0.2, 0.8, 0.1])
    assert result["per_label"][0]["average_precision"] == pytest.approx(expected)
    expected_b = metrics.average_precision_score([0, 1, 1, 0], [0.1, 0.4, 0.3, 0.6])
    assert result["per_label"][1]["average_precision"] == pytest.approx(expected_b)


def test_labels_resolve_from_ids_indexes_and_names() -> None:
    code = "medtop:20000638"
    names = BOOK.label_ids
    assert evaluate.resolve_label(code, BOOK, names) == code
    assert evaluate.resolve_label(names.index(code), BOOK, names) == code
    assert evaluate.resolve_label("international relations", BOOK, names) == code
    assert evaluate.resolve_label("International Relations", BOOK, names) is None
    assert evaluate.resolve_label(10**6, BOOK, names) is None


# -- against a real release ---------------------------------------------------


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    from paratopics import synthetic

    corpus = Corpus(tmp_path_factory.mktemp("eval") / "corpus")
    synthetic.generate(corpus, 60, seed=11, annotators=2)
    release_build.build(corpus, "1.0.0", BOOK)
    return corpus


def _gold(corpus: Corpus, split: str = "test", level: int = 2) -> evaluate.GoldSplit:
    return evaluate.read_gold(corpus, "1.0.0", split, level, BOOK)


def _predictions(path: Path, gold: evaluate.GoldSplit, *, perfect: bool = True) -> Path:
    rows = [{"paragraph_id": pid, "labels": sorted(gold.labels[pid]) if perfect else []}
            for pid in gold.ids]
    return write_jsonl(path, rows)


def test_perfect_predictions_score_one_and_level1_follows(released: Corpus,
                                                          tmp_path: Path) -> None:
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold)
    result = evaluate.evaluate(released, path, BOOK, "1.0.0")
    assert result["paragraphs"] == len(gold.ids) > 0
    assert result["micro"]["f1"] == 1.0 and result["subset_accuracy"] == 1.0
    level1 = evaluate.evaluate(released, path, BOOK, "1.0.0", level=1)
    assert level1["micro"]["f1"] == 1.0
    assert {e["label"] for e in level1["per_label"]} <= set(BOOK.level1_ids)


def test_cli_reports_a_table_and_json(released: Corpus, tmp_path: Path) -> None:
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold, perfect=False)
    text = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert text.returncode == 0, text.stderr
    assert "micro" in text.stdout and "hamming loss" in text.stdout
    data = run_in_process("evaluate", "--corpus", released.root, "--predictions", path,
                   "--format", "json", "--level", "1")
    result = json.loads(data.stdout)
    assert result["micro"]["recall"] == 0.0 and result["level"] == 1


@pytest.mark.parametrize("fault", ["unknown-id", "duplicate", "unknown-label", "missing"])
def test_bad_predictions_name_the_line_or_are_counted(released: Corpus, tmp_path: Path,
                                                       fault: str) -> None:
    gold = _gold(released)
    rows = [{"paragraph_id": pid, "labels": sorted(gold.labels[pid])} for pid in gold.ids]
    if fault == "unknown-id":
        rows.insert(1, {"paragraph_id": "no-such-article-0000000000/0", "labels": []})
    elif fault == "duplicate":
        rows.insert(1, dict(rows[0]))
    elif fault == "unknown-label":
        rows[1] = {**rows[1], "labels": ["medtop:99999999"]}
    else:
        rows.pop()
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    strict = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert strict.returncode == 1
    assert str(path) in strict.stderr
    if fault != "missing":
        assert f"{path}:2" in strict.stderr
    lenient = run_in_process("evaluate", "--corpus", released.root, "--predictions", path,
                      "--lenient", "--format", "json")
    assert lenient.returncode == 0, lenient.stderr
    counted = json.loads(lenient.stdout)["problems"]
    key = {"unknown-id": "paragraph_id", "duplicate": "duplicate", "unknown-label": "labels",
           "missing": "missing"}[fault]
    assert counted == {key: 1}


def test_empty_split_says_so_plainly(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    from paratopics import synthetic

    synthetic.generate(corpus, 3, seed=2)
    release_build.build(corpus, "1.0.0", BOOK)
    empty = [s for s in ("train", "validation", "test")
             if s not in release_read.read_config(corpus, "1.0.0", "paragraphs")]
    assert empty, "three articles cannot fill three splits"
    path = write_jsonl(tmp_path / "p.jsonl", [])
    result = run_in_process("evaluate", "--corpus", corpus.root, "--predictions", path,
                     "--split", empty[0])
    assert result.returncode == 1
    assert "nothing to score" in result.stderr and "nothing-to-score" in result.stderr


@pytest.mark.parametrize("scores", ['NaN', 'Infinity', '"0.5"', 'null', 'true'])
def test_scores_that_are_not_finite_numbers_are_refused(released: Corpus, tmp_path: Path,
                                                        scores: str) -> None:
    """A NaN score used to pass into average precision (json reads NaN; float(None)
    was a traceback)."""
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold)
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    label = sorted(gold.labels[first["paragraph_id"]] or {BOOK.label_ids[0]})[0]
    lines[0] = lines[0][:-1] + f', "scores": {{"{label}": {scores}}}}}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:1" in done.stderr or "line 1" in done.stderr, done.stderr


def test_a_repeated_key_in_predictions_is_refused(released: Corpus, tmp_path: Path) -> None:
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0][:-1] + ', "labels": []}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert done.returncode == 1 and "appears twice" in done.stderr, done.stderr


def test_every_problem_of_a_predictions_file_is_reported_in_one_run(
        released: Corpus, tmp_path: Path) -> None:
    gold = _gold(released)
    rows = [json.dumps({"paragraph_id": pid, "labels": sorted(gold.labels[pid])})
            for pid in gold.ids]
    first = gold.ids[0]
    level1 = BOOK.level1_ids[0]
    bad = [
        json.dumps({"paragraph_id": "no-such-article-0000000000/0", "labels": []}),  # line 2
        json.dumps({"paragraph_id": first, "labels": []}),                           # 3
        json.dumps({"paragraph_id": gold.ids[1], "labels": [level1]}),               # 4
        '{"paragraph_id": "' + gold.ids[2] + '", "labels": [}',                      # 5
        json.dumps({"paragraph_id": gold.ids[3], "labels": ["medtop:99999999"]}),    # 6
        json.dumps({"paragraph_id": gold.ids[4], "labels": [],
                    "scores": {BOOK.label_ids[0]: "high"}}),                         # 7
    ]
    kept = [row for row in rows[1:] if json.loads(row)["paragraph_id"] not in gold.ids[1:6]]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([rows[0], *bad, *kept[:-1]]) + "\n", encoding="utf-8")
    done = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    codes = re.findall(rf"^{re.escape(str(path))}(?::(\d+))?(?: \S+)?: error \[([a-z0-9-]+)\]",
                       done.stderr, re.M)
    assert codes == [("2", "prediction-unknown-id"), ("3", "prediction-duplicate"),
                     ("4", "prediction-level"), ("5", "json-syntax"),
                     ("6", "prediction-labels"), ("7", "prediction-score"),
                     ("", "prediction-missing")], done.stderr
    assert "(first on line 1)" in done.stderr
    assert "at column" in done.stderr  # JSON syntax errors say where on the line
    assert "is a level-1 topic" in done.stderr and "--level 1" in done.stderr
    assert "bad-field" not in done.stderr
    assert "7 problem(s)" in done.stderr


def test_a_line_that_is_not_utf8_is_a_problem_of_that_line(released: Corpus,
                                                             tmp_path: Path) -> None:
    """Used to end in a UnicodeDecodeError traceback from the middle of the file."""
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold)
    lines = path.read_bytes().splitlines()
    lines[2] = lines[2].replace(b'"labels"', b'"l\xe9bels"')  # Latin-1, not UTF-8
    at = lines[2].index(b"\xe9")
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")  # line ends as Windows writes them
    done = run_in_process("evaluate", "--corpus", released.root, "--predictions", path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"{path}:3: error [not-utf8] byte {at} is not valid UTF-8" in done.stderr
    # the line is not read, so its paragraph is also missing from the predictions
    assert "[prediction-missing]" in done.stderr and ": 2 problem(s)" in done.stderr
    lenient = run_in_process("evaluate", "--corpus", released.root, "--predictions", path,
                             "--lenient", "--format", "json")
    assert lenient.returncode == 0, lenient.stderr
    assert json.loads(lenient.stdout)["problems"] == {"json": 1, "missing": 1}


def test_a_utf16_predictions_file_is_refused_whole(released: Corpus, tmp_path: Path) -> None:
    gold = _gold(released)
    path = _predictions(tmp_path / "p.jsonl", gold)
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    for extra in ((), ("--lenient",)):
        done = run_in_process("evaluate", "--corpus", released.root, "--predictions", path,
                              *extra)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "error [utf16-file] the file is UTF-16LE text, not UTF-8" in done.stderr
