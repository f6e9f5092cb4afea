"""`paratopics agreement`: Krippendorff's alpha with MASI distance, checked by hand.

The corpus: two annotators (x, y) judge paragraphs 0-4 of the seed article;
x alone judges paragraph 5 (not a unit: one annotator) and an adjudicator
judges paragraph 2 (adjudicators are excluded from agreement). With labels
A, B, C:

    unit  x       y      MASI distance d(x, y)
    0     {A}     {A}    0
    1     {A,B}   {A}    1 - |A|/|AB| * 2/3 (subset)    = 1 - 1/2 * 2/3 = 2/3
    2     {B}     {C}    1 - 0                           = 1
    3     {}      {}     0 (identical sets: "no topic" twice)
    4     {}      {A}    1 - 0/1                         = 1

n = 10 pairable values. Observed disagreement, each unit has m_u = 2 values:
    D_o = 1/n * sum_u 1/(m_u - 1) * sum_(ordered pairs) d
        = 1/10 * 2 * (0 + 2/3 + 1 + 0 + 1) = 1/10 * 16/3 = 8/15
Value counts: {A}: 4, {}: 3, {A,B}: 1, {B}: 1, {C}: 1. Expected disagreement:
    D_e = 1/(n(n-1)) * sum_(c != k, ordered) n_c n_k d(c, k)
    unordered pairs: {A}-{A,B} 4*1*2/3 = 8/3, {A}-{B} 4, {A}-{C} 4, {A}-{} 12,
                     {A,B}-{B} 1*1*2/3 = 2/3, {A,B}-{C} 1, {A,B}-{} 3, {B}-{C} 1,
                     {B}-{} 3, {C}-{} 3                           sum = 103/3
    D_e = 2 * 103/3 / 90 = 103/135
    alpha = 1 - D_o / D_e = 1 - (8/15) * (135/103) = 1 - 72/103 = 31/103

Per label, binary (chose it or not), n = 10:
    A: x = T T F F F, y = T T F F T -> 5 T, 5 F; one disagreeing unit
       D_o = 2/10, D_e = 2*5*5/90 = 5/9, alpha = 1 - (1/5)/(5/9) = 16/25
    B: x = F T T F F, y = F F F F F -> 2 T, 8 F; two disagreeing units
       D_o = 4/10, D_e = 2*2*8/90 = 16/45, alpha = 1 - (2/5)/(16/45) = -1/8
    C: only y on unit 2 -> 1 T, 9 F; D_o = 2/10, D_e = 2*1*9/90 = 1/5, alpha = 0
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from judgement_helpers import judgement, line, run_all, the_article

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.ml.annotation_report import agreement_text
from paratopics.release.judgements import agreement

A, B, C = "medtop:20000053", "paratopics:counter-terrorism", "paratopics:insurgency"
BOOK = codebook.load()
UNITS = [([A], [A]), ([A, B], [A]), ([B], [C]), ([], []), ([], [A])]


def hand_corpus(corpus: Corpus) -> list[dict[str, object]]:
    art = the_article(corpus)
    records = []
    for index, (x, y) in enumerate(UNITS):
        records += [judgement(art, index, x, "x"), judgement(art, index, y, "y")]
    records.append(judgement(art, 5, [C], "x"))  # one annotator: not a unit
    records.append(judgement(art, 2, [A, B, C], "chief", role="adjudicator"))  # excluded
    (corpus.annotations / "two.jsonl").write_bytes(b"".join(line(r) for r in records))
    return records


def test_library_matches_the_hand_computation(seeded: Corpus) -> None:
    result = agreement(hand_corpus(seeded))  # type: ignore[arg-type]
    assert result.alpha == pytest.approx(31 / 103, abs=1e-9)
    assert (result.paragraphs, result.annotators, result.judgements) == (5, 2, 10)
    per_label = {la.label: (la.alpha, la.chosen) for la in result.per_label}
    assert per_label[A][0] == pytest.approx(16 / 25, abs=1e-9)
    assert per_label[B][0] == pytest.approx(-1 / 8, abs=1e-9)
    assert per_label[C][0] == pytest.approx(0.0, abs=1e-9)
    assert {k: v[1] for k, v in per_label.items()} == {A: 5, B: 2, C: 1}


def test_the_command_reports_the_hand_computed_alpha(seeded: Corpus, cli: Any) -> None:
    hand_corpus(seeded)
    where = {"cwd": seeded.root.parent}
    as_json, as_text = run_all(cli, (("agreement", "--corpus", "corpus", "--format", "json"),
                                     where),
                               (("agreement", "--corpus", "corpus"), where))
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert abs(data["alpha"] - 31 / 103) < 1e-9
    assert (data["units"], data["annotators"], data["judgements"]) == (5, 2, 10)
    rows = {row["label"]: row for row in data["per_label"]}
    assert abs(rows[A]["alpha"] - 16 / 25) < 1e-9
    assert abs(rows[B]["alpha"] + 1 / 8) < 1e-9
    assert abs(rows[C]["alpha"]) < 1e-9
    assert rows[A]["name"] == BOOK.name(A) and rows[A]["chosen"] == 5

    assert as_text.returncode == 0, as_text.stderr
    text = as_text.stdout
    assert f"= {31 / 103:.4f}" in text
    assert BOOK.name(B) in text and "-0.1250" in text
    assert re.search(r"^units \(paragraphs with >= 2 annotators\) +5$", text, re.M)


def test_no_paragraph_with_two_annotators_is_said_plainly(seeded: Corpus, cli: Any) -> None:
    art = the_article(seeded)
    (seeded.annotations / "one.jsonl").write_bytes(
        line(judgement(art, 0, [A], "x")) + line(judgement(art, 1, [B], "y")))
    result = cli("agreement", "--corpus", "corpus", "--format", "json", cwd=seeded.root.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["alpha"], data["units"], data["per_label"]) == (None, 0, [])
    text = agreement_text(agreement([]), BOOK)
    assert "no paragraph has judgements from two annotators" in text
    assert "undefined" in text


def test_alpha_without_variation_is_undefined_not_a_number(seeded: Corpus) -> None:
    records = [judgement(the_article(seeded), i, [A], who) for i in (0, 1) for who in "xy"]
    result = agreement(records)  # type: ignore[arg-type]
    assert result.alpha is None and result.paragraphs == 2
    text = agreement_text(result, BOOK)
    assert "alpha is undefined" in text and "no variation" in text


def test_two_empty_sets_agree_instead_of_crashing(seeded: Corpus) -> None:
    """nltk's masi_distance divides by zero on two empty sets; "no topic" twice is agreement."""
    art = the_article(seeded)
    records = [judgement(art, 0, [], "x"), judgement(art, 0, [], "y"),
               judgement(art, 1, [A], "x"), judgement(art, 1, [A], "y")]
    assert agreement(records).alpha == pytest.approx(1.0)  # type: ignore[arg-type]


def test_per_level1_alpha_matches_the_hand_computation(seeded: Corpus) -> None:
    """Two judges, three paragraphs; A and B share a level-1 topic, E has its own.

    Restricted to conflict (A, B): {A}|{B}, {A}|{A}, {}|{} -> values A x3, B, {} x2, n = 6;
    Do = (1/6)(1 + 1) = 1/3; De = (3*1*2 + 3*2*2 + 1*2*2) / (6*5) = 22/30;
    alpha = 1 - (1/3)/(22/30) = 6/11. Restricted to economy (E): {}|{}, {}|{}, {E}|{}:
    Do = 1/3, De = (1*5*2)/30 = 1/3, alpha = 0.
    """
    e = "medtop:20000344"
    art = the_article(seeded)
    units = [([A], [B]), ([A], [A]), ([e], [])]
    records = [judgement(art, i, labels, who)
               for i, pair in enumerate(units) for labels, who in zip(pair, "xy", strict=True)]
    result = agreement(records, BOOK.level1)  # type: ignore[arg-type]
    per_top = {la.label: (la.alpha, la.chosen) for la in result.per_level1}
    assert set(per_top) == {BOOK.level1(A), BOOK.level1(e)}
    assert per_top[BOOK.level1(A)][0] == pytest.approx(6 / 11, abs=1e-9)
    assert per_top[BOOK.level1(e)][0] == pytest.approx(0.0, abs=1e-9)
    assert {k: v[1] for k, v in per_top.items()} == {BOOK.level1(A): 4, BOOK.level1(e): 1}
    assert agreement(records).per_level1 == []  # not asked for
