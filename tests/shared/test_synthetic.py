"""The synthetic corpus generator: valid, deterministic, and realistic where it matters.

Tests and benchmarks of releases stand on generated corpora, so the generator
is held to what they assume: `paratopics validate` passes, the same seed gives
the same bytes, records are what ingest makes of the raw files, and labels
depend on the text (with agreement, lengths and skew like annotated news).
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections import Counter
from pathlib import Path

import pytest

from paratopics import codebook
from paratopics.corpus.records import Provenance
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import make_article, parse
from paratopics.synthetic import (
    ADJUDICATOR,
    GeneratedInfo,
    generate,
    random_labels,
    vocabulary,
)
from paratopics.validate.core import validate_corpus

BOOK = codebook.load()


@pytest.fixture(autouse=True)
def _private_validation_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation starts cold and leaves nothing in the user's cache."""
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "validation-cache"))


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def judgements(corpus: Corpus) -> list[dict[str, object]]:
    return [json.loads(line) for path in corpus.annotation_files()
            for line in path.read_text(encoding="utf-8").splitlines()]


def articles(corpus: Corpus) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in corpus.article_files()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Corpus, GeneratedInfo]:
    corpus = Corpus(tmp_path_factory.mktemp("synthetic") / "corpus")
    return corpus, generate(corpus, 300, seed=5, annotators=3)


def test_a_generated_corpus_validates(generated: tuple[Corpus, GeneratedInfo]) -> None:
    corpus, info = generated
    summary = validate_corpus(corpus, codebook=BOOK)
    assert summary.problems == []
    assert summary.articles == info.articles == 300
    assert summary.annotation_lines == info.judgements


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones(tmp_path: Path) -> None:
    first, second, other = (Corpus(tmp_path / name) for name in ("a", "b", "c"))
    generate(first, 40, seed=1)
    generate(second, 40, seed=1)
    generate(other, 40, seed=2)
    assert digests(first.root) == digests(second.root)
    assert len(digests(first.root)) > 40
    assert not set(digests(first.root).values()) & set(digests(other.root).values())


def test_records_are_what_ingest_makes_of_the_raw_files(
        generated: tuple[Corpus, GeneratedInfo]) -> None:
    corpus, info = generated
    made = {}
    for rel in (f for f in info.files if f.startswith("sources/")):
        raw = (corpus.root / rel).read_bytes()
        parsed = parse(raw, rel, source="synthetic")
        assert not parsed.problems
        for draft in parsed.drafts:
            provenance = Provenance(path=rel, sha256=hashlib.sha256(raw).hexdigest(),
                                    format=parsed.format, record=draft.record)
            article = make_article(draft, provenance)
            made[article["article_id"]] = article
    assert made == {a["article_id"]: a for a in articles(corpus)}
    assert sorted(made) == sorted(info.article_ids)


def test_articles_look_like_news(generated: tuple[Corpus, GeneratedInfo]) -> None:
    records = articles(generated[0])
    counts = [len(a["paragraphs"]) for a in records]
    words = [len(p["text"].split()) for a in records for p in a["paragraphs"]]
    assert min(counts) >= 3 and max(counts) <= 25 and 8 <= statistics.mean(counts) <= 12
    assert min(words) >= 20 and max(words) <= 80 and 35 <= statistics.mean(words) <= 60
    headed = sum(1 for a in records if any(p["heading"] for p in a["paragraphs"]))
    assert 0.1 < headed / len(records) < 0.5
    non_ascii = sum(1 for a in records for p in a["paragraphs"] if not p["text"].isascii())
    assert 0.02 < non_ascii / len(words) < 0.2


def test_annotators_agree_about_eighty_percent_and_leave_some_paragraphs_alone(
        generated: tuple[Corpus, GeneratedInfo]) -> None:
    corpus, info = generated
    votes: dict[tuple[str, int], list[frozenset[str]]] = {}
    roles = Counter()
    for record in judgements(corpus):
        roles[record.get("role", "annotator")] += 1
        if record.get("role") != "adjudicator":
            key = (record["article_id"], record["paragraph_index"])
            votes.setdefault(key, []).append(frozenset(record["labels"]))
    pairs = [(a, b) for sets in votes.values() for i, a in enumerate(sets) for b in sets[i + 1:]]
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    assert 0.7 < agreement < 0.9
    assert 0.05 < 1 - info.judged_paragraphs / info.paragraphs < 0.15
    assert 0 < roles["adjudicator"] < roles["annotator"] / 10
    assert {len(v) for v in votes.values()} >= {1, 2, 3}  # some skip, most judge
    assert all(r["annotator"] == ADJUDICATOR for r in judgements(corpus)
               if r.get("role") == "adjudicator")


def label_counts(corpus: Corpus) -> Counter[str]:
    return Counter(label for r in judgements(corpus) for label in r["labels"])


def test_labels_are_skewed_and_depend_on_the_text(
        generated: tuple[Corpus, GeneratedInfo]) -> None:
    corpus, _ = generated
    counts = label_counts(corpus)
    ranked = [n for _, n in counts.most_common()]
    assert ranked[0] > 10 * ranked[len(ranked) // 2]  # a long tail, like news topics
    vocab = vocabulary(BOOK)
    words, labels = vocab.words, vocab.labels
    texts = {(a["article_id"], p["index"]): p["text"].lower().split()
             for a in articles(corpus) for p in a["paragraphs"]}
    own = other = 0
    for record in judgements(corpus):
        text = texts[(record["article_id"], record["paragraph_index"])]
        for label in record["labels"]:
            own += sum(1 for w in text if w.strip('.,"') in words[label]) > 0
            decoy = words[labels[(labels.index(label) + 7) % len(labels)]]
            other += sum(1 for w in text if w.strip('.,"') in decoy) > 0
    assert own > 3 * other


def test_a_label_fn_decouples_labels_from_text(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 60, seed=3, label_fn=random_labels(BOOK))
    assert validate_corpus(corpus, codebook=BOOK).problems == []
    words = vocabulary(BOOK).words
    texts = {(a["article_id"], p["index"]): set(p["text"].lower().replace(",", "").split())
             for a in articles(corpus) for p in a["paragraphs"]}
    hits = [bool(texts[(r["article_id"], r["paragraph_index"])] & set(words[label]))
            for r in judgements(corpus) for label in r["labels"]]
    assert sum(hits) / len(hits) < 0.25


def test_corpora_of_several_seeds_share_one_folder(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    first = generate(corpus, 15, seed=1)
    second = generate(corpus, 10, seed=2)
    assert len(corpus.article_files()) == 25
    assert not set(first.files) & set(second.files)
    assert validate_corpus(corpus, codebook=BOOK).problems == []


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unlabeled_share"):
        generate(Corpus(tmp_path), 1, unlabeled_share=1.0)
    with pytest.raises(ValueError, match="annotators"):
        generate(Corpus(tmp_path), 1, annotators=0)


def test_random_labels_follow_the_same_skew() -> None:
    draw = random_labels(BOOK)
    rng = random.Random(0)
    drawn = Counter(label for _ in range(3000) for label in draw(rng, ("x",)))
    top = vocabulary(BOOK).labels[0]
    assert drawn.most_common(1)[0][0] == top
    assert draw(rng, ()) == ()
