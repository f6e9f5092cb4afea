"""The baseline end to end: generated corpus -> ingest -> validate -> build -> load ->
train -> predict -> evaluate, with a learnable corpus and a chance-level control."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_in_process

from paratopics import synthetic
from paratopics.codebook import Codebook
from paratopics.codebook import load as load_codebook
from paratopics.corpus.store import Corpus
from paratopics.release import build as release_build
from paratopics.release import read as release_read

BOOK = load_codebook()
TOPICS = ("medtop:20000638", "medtop:20000073", "paratopics:insurgency", "medtop:20000209",
          "paratopics:defence-cooperation", "medtop:20000464", "medtop:20000344",
          "paratopics:maritime-security")


def small_codebook() -> Codebook:
    """Eight topics and their parents: enough to be multi-label, small enough to train fast."""
    parents = {BOOK.level1(code) for code in TOPICS}
    return Codebook(BOOK.version, tuple(n for n in BOOK.nodes
                                        if n["id"] in TOPICS or n["id"] in parents))


def pipeline(tmp: Path, *, random_labels: bool, monkeypatch: pytest.MonkeyPatch
             ) -> dict[str, dict[str, object]]:
    """Run every stage through the CLI and return evaluate's JSON for levels 2 and 1.

    The commands run in this process: ten fresh interpreters per corpus spent most of
    the test importing scikit-learn and datasets again (the stages still meet only
    through the files they write)."""
    # Labels depend strongly on the vocabulary: most noun phrases are topical.
    monkeypatch.setattr(synthetic, "TOPICAL_NOUNS", 0.6)
    book = small_codebook()
    generated = Corpus(tmp / "generated")
    synthetic.generate(generated, 250, seed=5, annotators=3, book=book,
                       label_fn=synthetic.random_labels(book) if random_labels else None)
    corpus = tmp / "corpus"
    (corpus / "annotations").mkdir(parents=True)
    sources = sorted((generated.root / "sources" / "synthetic").glob("*.jsonl"))
    steps = [run_in_process("ingest", "--corpus", corpus, *sources)]
    for path in generated.annotation_files():
        shutil.copyfile(path, corpus / "annotations" / path.name)
    steps += [run_in_process("validate", "--corpus", corpus),
              run_in_process("build", "--corpus", corpus, "--version", "1.0.0")]
    for step in steps:
        assert step.returncode == 0, step.stderr[-2000:]
    # ingest reproduces the generated records: same ids, same paragraphs and hashes
    def content(root: Corpus) -> list[tuple[str, object]]:
        records = [json.loads(p.read_text()) for p in root.article_files()]
        return [(r["article_id"], r["paragraphs"]) for r in records]
    assert content(Corpus(corpus)) == content(generated)
    loaded = run_in_process("build", "--corpus", corpus, "--version", "1.0.0")  # identical rebuild
    assert "identical" in loaded.stdout
    results = {}
    for level in (2, 1):
        model, preds = tmp / f"model{level}", tmp / f"pred{level}.jsonl"
        for args in (("train", "--level", str(level), "--out", model),
                     ("predict", "--model", model, "--out", preds)):
            done = run_in_process(*args, "--corpus", corpus)
            assert done.returncode == 0, done.stderr[-2000:]
        scored = run_in_process("evaluate", "--corpus", corpus, "--predictions", preds,
                         "--level", str(level), "--format", "json")
        assert scored.returncode == 0, scored.stderr[-2000:]
        results[str(level)] = json.loads(scored.stdout)
        card = json.loads((model / "model.json").read_text())
        assert card["release"] == "1.0.0" and card["level"] == level
        assert card["test"]["micro"]["f1"] == pytest.approx(results[str(level)]["micro"]["f1"])
    return results


def test_learnable_corpus_reaches_090_and_random_labels_stay_near_chance(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    learned = pipeline(tmp_path / "learnable", random_labels=False, monkeypatch=monkeypatch)
    chance = pipeline(tmp_path / "random", random_labels=True, monkeypatch=monkeypatch)
    print("learnable", {k: v["micro"]["f1"] for k, v in learned.items()},
          "random", {k: v["micro"]["f1"] for k, v in chance.items()})
    assert learned["2"]["micro"]["f1"] >= 0.9
    assert learned["1"]["micro"]["f1"] >= 0.9
    # With labels unrelated to the text, the model can do no better than guessing
    # the frequent labels: far below the learnable corpus.
    assert chance["2"]["micro"]["f1"] < 0.45
    assert chance["2"]["micro"]["f1"] < learned["2"]["micro"]["f1"] - 0.45


def test_train_and_test_never_share_an_article(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    synthetic.generate(corpus, 200, seed=9, book=small_codebook())
    release_build.build(corpus, "1.0.0", BOOK)
    tables = release_read.read_config(corpus, "1.0.0", "paragraphs")
    articles = {split: set(t.column("article_id").to_pylist()) for split, t in tables.items()}
    labeled = [s for s in ("train", "validation", "test") if s in articles]
    assert len(labeled) == 3
    for i, a in enumerate(labeled):
        for b in labeled[i + 1:]:
            assert not articles[a] & articles[b], (a, b)


def test_predict_reads_any_jsonl_of_texts(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    synthetic.generate(corpus, 80, seed=4, book=small_codebook())
    release_build.build(corpus, "1.0.0", BOOK)
    model = tmp_path / "model"
    assert run_in_process("train", "--corpus", corpus.root, "--out", model).returncode == 0
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"id": "x1", "text": "Peace talks resumed in Doha."}) + "\n"
                     + json.dumps({"paragraph_id": "x2", "text": "Pirates seized a tanker."})
                     + "\n")
    out = tmp_path / "pred.jsonl"
    done = run_in_process("predict", "--corpus", corpus.root, "--model", model, "--input", texts,
                   "--out", out)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["paragraph_id"] for r in rows] == ["x1", "x2"]
    assert all(set(r["scores"]) == set(json.loads((model / "model.json").read_text())["labels"])
               for r in rows)
