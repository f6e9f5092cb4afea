"""Recorded baseline scores: computed by the scorer, tied to one build of a release,
quoted by the published card only when they belong to the release it publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from release_helpers import make_release

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus, sha256_file
from paratopics.ml import evaluate
from paratopics.ml import scores as compute_module
from paratopics.publish import scores as recorded
from paratopics.publish.core import publish_folder
from paratopics.release import layout as release_layout

BOOK = codebook_module.load()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("scores"), articles=60, seed=11)


def manifest_digest(corpus: Corpus) -> str:
    return sha256_file(release_layout.release_dir(corpus, "1.0.0") / "manifest.json")


@pytest.fixture(scope="module")
def computed(corpus: Corpus) -> recorded.Scores:
    return compute_module.compute(corpus, "1.0.0", BOOK, manifest_digest(corpus), "cmd")


def test_the_majority_row_is_the_scorer_s_micro_f1_of_the_train_majority(
        corpus: Corpus, computed: recorded.Scores) -> None:
    assert recorded.schema_problems(json.loads(computed.to_json())) == []
    for level in compute_module.LEVELS:
        train = evaluate.read_gold(corpus, "1.0.0", "train", level, BOOK)
        counts: dict[str, int] = {}
        for pid in train.ids:
            for code in train.labels[pid]:
                counts[code] = counts.get(code, 0) + 1
        top = sorted(counts, key=lambda code: (-counts[code], code))[0]
        test = evaluate.read_gold(corpus, "1.0.0", "test", level, BOOK)
        hits = sum(top in test.labels[pid] for pid in test.ids)
        gold_total = sum(len(test.labels[pid]) for pid in test.ids)
        precision, recall = hits / len(test.ids), hits / gold_total
        expected = 2 * precision * recall / (precision + recall) if hits else 0.0
        (row,) = [r for r in computed.rows if r.level == level and top in r.model]
        assert row.model.startswith("majority label")
        assert row.micro_f1 == pytest.approx(expected, abs=1e-6)
        assert row.test_paragraphs == len(test.ids)
        assert next(r.model for r in computed.rows if r.level == level) == \
            compute_module.BASELINE


def card(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def test_the_card_quotes_the_recorded_scores_of_its_own_release(
        corpus: Corpus, computed: recorded.Scores, tmp_path: Path) -> None:
    path = recorded.scores_path(corpus, "1.0.0")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(computed.to_json())
    try:
        published = publish_folder(corpus, "1.0.0", tmp_path / "hub", BOOK)
    finally:
        path.unlink()
    text = card(tmp_path / "hub")
    assert published.notes == ()
    assert recorded.markdown_table(computed) in text
    for row in computed.rows:
        assert f"| {row.level} | {row.model} |" in text and f"{row.macro_f1:.3f}" in text


def test_scores_of_another_build_or_a_broken_file_are_not_quoted_and_publish_says_why(
        corpus: Corpus, computed: recorded.Scores, tmp_path: Path) -> None:
    path = recorded.scores_path(corpus, "1.0.0")
    path.parent.mkdir(exist_ok=True)
    other = recorded.Scores(computed.version, "0" * 64, computed.split, computed.command,
                            computed.rows)
    cases = {"another build": (other.to_json(), "computed on another build"),
             "not the schema": (b'{"version": "1.0.0"}', "does not match schema"),
             "not JSON": (b"{", "cannot be read")}
    try:
        for n, (data, reason) in enumerate(cases.values()):
            path.write_bytes(data)
            published = publish_folder(corpus, "1.0.0", tmp_path / f"hub{n}", BOOK)
            (note,) = published.notes
            assert str(path) in note and reason in note and "scripts/scores.py" in note
            text = card(tmp_path / f"hub{n}")
            assert "No baseline scores are recorded for v1.0.0" in text
            assert "| 1 | " + compute_module.BASELINE not in text
    finally:
        path.unlink()


def test_without_a_scores_file_the_card_says_how_to_compute_them(
        corpus: Corpus, tmp_path: Path) -> None:
    published = publish_folder(corpus, "1.0.0", tmp_path / "hub", BOOK)
    assert published.notes == ()
    assert "`python scripts/scores.py --version 1.0.0` computes them" in card(tmp_path / "hub")


def test_the_shipped_scores_belong_to_the_shipped_release_and_the_readme_quotes_them() -> None:
    root = ROOT
    shipped = Corpus(root / "corpus")
    files = sorted((shipped.root / "scores").glob("v*.json"))
    assert files, "corpus/scores/ holds the scores the card quotes"
    readme = (root / "README.md").read_text(encoding="utf-8")
    for path in files:
        version = path.stem[1:]
        scores, why_not = recorded.read_scores(
            path, sha256_file(release_layout.release_dir(shipped, version) / "manifest.json"))
        assert why_not is None and scores is not None
    latest = release_layout.list_versions(shipped)[-1]
    scores, _ = recorded.read_scores(
        recorded.scores_path(shipped, latest),
        sha256_file(release_layout.release_dir(shipped, latest) / "manifest.json"))
    assert scores is not None, f"no scores recorded for the latest release v{latest}"
    for row in scores.rows:
        name = row.model.split(" (")[0] if row.model.startswith("majority") else row.model
        assert any(line.startswith(f"| {row.level} | {name}") and
                   f"| {row.micro_f1:.3f} | {row.macro_f1:.3f} |" in line
                   for line in readme.splitlines()), (row, "README's scores table")
