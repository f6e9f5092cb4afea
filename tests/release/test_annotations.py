"""Gold labels: the adjudication rule on its own, and `paratopics adjudicate` end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from judgement_helpers import judgement, line, run_all, the_article

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.ml.annotation_report import adjudicate_all
from paratopics.release.judgements import RULE, Gold, adjudicate, gold_labels

BOOK = codebook.load()
ORDER = BOOK.order
X, Y, Z = "medtop:20000053", "paratopics:counter-terrorism", "paratopics:insurgency"


def vote(labels: list[str], annotator: str, index: int = 0, **extra: object) -> dict[str, Any]:
    return {"article_id": "story-0123456789", "paragraph_index": index,
            "paragraph_sha256": "0" * 64, "labels": labels, "annotator": annotator,
            "created": extra.pop("created", "2024-05-01T12:00:00Z"), **extra}


def in_order(*labels: str) -> tuple[str, ...]:
    return tuple(sorted(labels, key=ORDER.__getitem__))


def test_labels_exist() -> None:
    assert all(code in BOOK and not BOOK.is_retired(code) for code in (X, Y, Z))


def test_an_adjudicator_wins_over_any_majority() -> None:
    gold = adjudicate([vote([X, Y], "a"), vote([X, Y], "b"), vote([Z], "boss", role="adjudicator")],
                      ORDER)
    assert (gold.labels, gold.method, gold.annotators) == ((Z,), "adjudicator", 2)
    assert gold.disputed == ()  # the two annotators agreed with each other


def test_the_latest_adjudication_wins() -> None:
    gold = adjudicate([
        vote([Z], "boss", role="adjudicator", created="2024-05-02T00:00:00Z"),
        vote([X], "boss2", role="adjudicator", created="2024-05-03T00:00:00Z"),
        vote([Y], "a"),
    ], ORDER)
    assert gold.labels == (X,)


def test_a_label_needs_a_strict_majority() -> None:
    gold = adjudicate([vote([X, Y], "a"), vote([X], "b"), vote([X, Z], "c")], ORDER)
    assert gold.method == "majority"
    assert gold.labels == (X,)  # 3 of 3; Y and Z have 1 of 3 each
    assert gold.disputed == in_order(Y, Z)
    assert gold.ties == ()
    two_of_three = adjudicate([vote([X], "a"), vote([X], "b"), vote([Y], "c")], ORDER)
    assert two_of_three.labels == (X,)


def test_a_tie_is_listed_and_not_gold() -> None:
    gold = adjudicate([vote([X, Y], "a"), vote([X], "b")], ORDER)
    assert gold.labels == (X,)
    assert gold.ties == (Y,)  # chosen by exactly half
    assert gold.disputed == (Y,)
    four = adjudicate([vote([Z], "a"), vote([Z], "b"), vote([X], "c"), vote([], "d")], ORDER)
    assert four.labels == () and four.ties == (Z,)


def test_a_single_annotator_decides_alone() -> None:
    gold = adjudicate([vote([Z, X], "a")], ORDER)
    assert (gold.labels, gold.method, gold.annotators) == (in_order(X, Z), "single", 1)


def test_an_empty_set_is_kept_as_judged_no_topic() -> None:
    single = gold_labels([vote([], "a", index=3)], ORDER)
    assert single == {("story-0123456789", 3): Gold("story-0123456789", 3, (), 1, "single")}
    agreed = adjudicate([vote([], "a"), vote([], "b")], ORDER)
    assert (agreed.labels, agreed.method, agreed.ties, agreed.disputed) == (
        (), "majority", (), ())
    overruled = adjudicate([vote([X], "a"), vote([X], "b"), vote([], "boss", role="adjudicator")],
                           ORDER)
    assert overruled.labels == ()


def test_labels_come_out_in_codebook_order_whoever_wrote_them() -> None:
    a = adjudicate([vote([Z, Y, X], "a")], ORDER)
    b = adjudicate([vote([X, Z, Y], "a")], ORDER)
    assert a.labels == b.labels == in_order(X, Y, Z)


def test_report_counts() -> None:
    votes = [vote([X, Y], "a", 0), vote([X], "b", 0),  # tie on Y
             vote([Z], "a", 1), vote([Z], "b", 1),  # agreement
             vote([], "a", 2),  # single, no topic
             vote([X], "a", 3), vote([Y], "b", 3), vote([Y], "boss", 3, role="adjudicator")]
    report = adjudicate_all(votes, BOOK, paragraphs=10)
    assert [g.paragraph_index for g in report.golds] == [0, 1, 2, 3]
    assert [g.paragraph_index for g in report.ties] == [0]
    assert [g.paragraph_index for g in report.disagreements] == [0, 3]
    assert report.no_topic == 1
    assert report.methods == {"majority": 2, "single": 1, "adjudicator": 1}


# -- the command --------------------------------------------------------------


@pytest.fixture
def judged(seeded: Corpus) -> Corpus:
    art = the_article(seeded)
    records = [
        judgement(art, 0, [X, Y], "team-a"), judgement(art, 0, [X], "team-b"),  # tie on Y
        judgement(art, 1, [Z], "team-a"), judgement(art, 1, [Z], "team-b"),
        judgement(art, 2, [], "team-a"),  # single annotator, no topic
        judgement(art, 3, [X], "team-a"), judgement(art, 3, [Y], "team-b"),
        judgement(art, 3, [Y], "maintainers", role="adjudicator"),
    ]
    (seeded.annotations / "judged.jsonl").write_bytes(b"".join(line(r) for r in records))
    return seeded


def test_adjudicate_prints_gold_labels_ties_and_disagreements(judged: Corpus, cli: Any) -> None:
    aid = the_article(judged)["article_id"]
    where = {"cwd": judged.root.parent}
    as_json, as_text = run_all(cli, (("adjudicate", "--corpus", "corpus", "--format", "json"),
                                     where),
                               (("adjudicate", "--corpus", "corpus"), where))
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["rule"] == RULE
    assert data["counts"] == {
        "paragraphs": 27, "judged": 4, "unjudged": 23, "by_adjudicator": 1, "by_majority": 2,
        "single_annotator": 1, "no_topic": 1, "with_ties": 1, "with_disagreements": 2}
    gold = {p["paragraph_index"]: (p["labels"], p["method"]) for p in data["paragraphs"]}
    assert gold == {0: ([X], "majority"), 1: ([Z], "majority"), 2: ([], "single"),
                    3: ([Y], "adjudicator")}
    assert [(t["paragraph_index"], t["ties"]) for t in data["ties"]] == [(0, [Y])]
    assert [(d["paragraph_index"], d["disputed"]) for d in data["disagreements"]] == [
        (0, [Y]), (3, list(in_order(X, Y)))]

    assert as_text.returncode == 0, as_text.stderr
    text = as_text.stdout
    assert "ties (1): labels chosen by exactly half, not gold" in text
    assert "disagreements (2)" in text
    assert f"{aid}          2  single" in text and "(no topic)" in text
    assert "with ties" in text and "unjudged" in text


def test_adjudicate_refuses_an_invalid_corpus(judged: Corpus, cli: Any) -> None:
    art = the_article(judged)
    with (judged.annotations / "judged.jsonl").open("ab") as handle:
        handle.write(line(judgement(art, 4, ["nonsense"], "team-a")))
    result = cli("adjudicate", "--corpus", "corpus", cwd=judged.root.parent)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "corpus/annotations/judged.jsonl:9 /labels/0: error [unknown-label]" in result.stderr
    assert "fix them first" in result.stderr
