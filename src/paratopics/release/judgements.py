"""Annotations: reading judgements, deciding gold labels, measuring agreement.

The adjudication rule (also in the README and in every release manifest):

1. If an adjudicator (``"role": "adjudicator"``) judged the paragraph, their
   judgement is the gold label set (the latest one by ``created``, then by
   annotator id, should there be several).
2. Otherwise a label is gold when a strict majority of the paragraph's
   annotators chose it. A label chosen by exactly half is a tie: it is not
   gold, and the tie is listed. One annotator alone decides alone.
3. An empty gold set means "judged: no topic". A paragraph nobody judged has
   no gold set at all; releases keep such paragraphs apart.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paratopics.corpus.records import Annotation
from paratopics.corpus.store import Corpus

RULE = "adjudicator-else-strict-majority"
RULE_TEXT = (
    "An adjudicator's judgement, if any, is the gold label set (the latest by created "
    "time); otherwise a label is gold when a strict majority of the paragraph's "
    "annotators chose it (a label chosen by exactly half is a tie and is not gold). "
    "An empty set means judged: no topic."
)

ParagraphKey = tuple[str, int]


@dataclass(frozen=True)
class Gold:
    """The decided labels of one paragraph, and how they were decided."""

    article_id: str
    paragraph_index: int
    labels: tuple[str, ...]
    annotators: int
    method: str  # "adjudicator" | "majority" | "single"
    ties: tuple[str, ...] = ()
    disputed: tuple[str, ...] = ()  # labels some but not all annotators chose


def iter_file(path: Path) -> Iterator[Annotation]:
    """Judgements of one annotation file; assumes it has been validated."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def iter_corpus(corpus: Corpus) -> Iterator[Annotation]:
    for path in corpus.annotation_files():
        yield from iter_file(path)


def group(judgements: Iterable[Annotation]) -> dict[ParagraphKey, list[Annotation]]:
    grouped: dict[ParagraphKey, list[Annotation]] = defaultdict(list)
    for record in judgements:
        grouped[(record["article_id"], record["paragraph_index"])].append(record)
    return dict(grouped)


def _ordered(labels: Iterable[str], order: dict[str, int]) -> tuple[str, ...]:
    return tuple(sorted(set(labels), key=lambda code: (order.get(code, len(order)), code)))


def adjudicate(judgements: Sequence[Annotation], order: dict[str, int]) -> Gold:
    """Gold labels of one paragraph from all its judgements (see the module rule).

    `order` maps codebook ids to their position, so that label tuples come out
    in codebook order whatever order the annotators wrote them in.
    """
    first = judgements[0]
    key = (first["article_id"], first["paragraph_index"])
    adjudications = [j for j in judgements if j.get("role") == "adjudicator"]
    votes = [j for j in judgements if j.get("role", "annotator") == "annotator"]
    chosen: dict[str, int] = defaultdict(int)
    for vote in votes:
        for label in set(vote["labels"]):
            chosen[label] += 1
    disputed = _ordered((c for c, n in chosen.items() if n < len(votes)), order)
    if adjudications:
        final = max(adjudications, key=lambda j: (j["created"], j["annotator"]))
        return Gold(*key, _ordered(final["labels"], order), len(votes), "adjudicator",
                    disputed=disputed)
    if len(votes) == 1:
        return Gold(*key, _ordered(votes[0]["labels"], order), 1, "single")
    gold = [c for c, n in chosen.items() if 2 * n > len(votes)]
    ties = [c for c, n in chosen.items() if 2 * n == len(votes)]
    return Gold(*key, _ordered(gold, order), len(votes), "majority",
                ties=_ordered(ties, order), disputed=disputed)


def gold_labels(judgements: Iterable[Annotation], order: dict[str, int]
                ) -> dict[ParagraphKey, Gold]:
    return {key: adjudicate(group_, order) for key, group_ in group(judgements).items()}


# -- agreement ----------------------------------------------------------------


@dataclass(frozen=True)
class LabelAgreement:
    label: str
    alpha: float | None
    chosen: int  # judgements that chose the label


@dataclass
class Agreement:
    """Krippendorff's alpha over label sets (MASI distance), overall and per label."""

    alpha: float | None
    paragraphs: int  # paragraphs with at least two annotators: the units alpha is over
    annotators: int
    judgements: int
    per_label: list[LabelAgreement] = field(default_factory=list)
    per_level1: list[LabelAgreement] = field(default_factory=list)


def _alpha(triples: Sequence[tuple[str, str, object]], distance: object) -> float | None:
    from nltk.metrics.agreement import AnnotationTask

    values = {t[2] for t in triples}
    if len(values) < 2:
        return None  # no variation: alpha is undefined (0/0)
    task = AnnotationTask(data=triples, distance=distance)
    return float(task.alpha())


def set_distance(a: frozenset[str], b: frozenset[str]) -> float:
    """MASI distance, with two empty sets ("judged: no topic" twice) at distance 0.

    nltk's masi_distance divides by the size of the union, so it raises
    ZeroDivisionError for two empty sets, which are a perfectly valid agreement.
    """
    from nltk.metrics.distance import masi_distance

    return 0.0 if a == b else float(masi_distance(a, b))


def agreement(judgements: Iterable[Annotation],
              level1_of: Callable[[str], str] | None = None) -> Agreement:
    """Inter-annotator agreement among plain annotators (adjudicators excluded).

    Only paragraphs judged by at least two annotators count as units. Overall
    alpha uses MASI distance over label sets (Passonneau 2006); per label,
    alpha is computed on the binary "chose this label or not" judgement. Per
    level-1 topic (given ``level1_of``), alpha is MASI alpha over each judgement's
    labels under that topic, in every unit: two judges who both leave the topic
    out agree about it, as they do for a label in the per-label figure.
    """
    from nltk.metrics.distance import binary_distance

    votes = [j for j in judgements if j.get("role", "annotator") == "annotator"]
    grouped = {k: v for k, v in group(votes).items() if len({j["annotator"] for j in v}) >= 2}
    triples = [
        (j["annotator"], f"{k[0]}#{k[1]}", frozenset(j["labels"]))
        for k, group_ in sorted(grouped.items())
        for j in group_
    ]
    annotators = {t[0] for t in triples}
    labels = sorted({label for t in triples for label in t[2]})
    per_label = []
    for label in labels:
        binary = [(c, i, label in s) for c, i, s in triples]
        per_label.append(LabelAgreement(label, _alpha(binary, binary_distance),
                                        sum(1 for t in binary if t[2])))
    per_level1 = []
    if level1_of is not None:
        tops = sorted({level1_of(label) for label in labels})
        for top in tops:
            restricted = [(c, i, frozenset(x for x in s if level1_of(x) == top))
                          for c, i, s in triples]
            per_level1.append(LabelAgreement(top, _alpha(restricted, set_distance),
                                             sum(1 for t in restricted if t[2])))
    return Agreement(
        alpha=_alpha(triples, set_distance),
        paragraphs=len(grouped),
        annotators=len(annotators),
        judgements=len(triples),
        per_label=per_label,
        per_level1=per_level1,
    )
