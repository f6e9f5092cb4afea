"""Reports over the corpus's judgements: agreement and adjudication, as text or JSON.

The statistics live in `annotations`; this module only loads checked judgements
and lays results out for people (tables) and for programs (plain dicts), so
that the CLI stays a thin shell.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation
from paratopics.corpus.store import Corpus
from paratopics.errors import Problem
from paratopics.release.judgements import RULE, RULE_TEXT, Agreement, Gold, gold_labels, iter_corpus
from paratopics.report import table
from paratopics.validate.core import validate_corpus


@dataclass
class Judgements:
    """The corpus's judgements once validation found no error, and its paragraph count."""

    records: list[Annotation]
    paragraphs: int


def load_checked(corpus: Corpus, codebook: Codebook) -> tuple[Judgements | None, list[Problem]]:
    """Validate first: agreement or gold labels over broken data would mislead."""
    summary = validate_corpus(corpus, codebook=codebook)
    errors = [p for p in summary.problems if p.severity == "error"]
    if errors:
        return None, errors
    paragraphs = 0
    for path in corpus.article_files():
        paragraphs += len(json.loads(path.read_text(encoding="utf-8"))["paragraphs"])
    return Judgements(list(iter_corpus(corpus)), paragraphs), []


def _name(codebook: Codebook, code: str) -> str:
    return codebook.name(code) if code in codebook else "(not in the codebook)"


def _fmt_alpha(alpha: float | None) -> str:
    return "undefined" if alpha is None else f"{alpha:.4f}"


def _labels_text(labels: Sequence[str]) -> str:
    return ", ".join(labels) if labels else "(no topic)"


# -- agreement ----------------------------------------------------------------


def agreement_data(result: Agreement, codebook: Codebook) -> dict[str, object]:
    return {
        "statistic": "krippendorff-alpha",
        "distance": "masi",
        "alpha": result.alpha,
        "units": result.paragraphs,
        "annotators": result.annotators,
        "judgements": result.judgements,
        "per_label": [
            {"label": la.label, "name": _name(codebook, la.label), "alpha": la.alpha,
             "chosen": la.chosen}
            for la in result.per_label
        ],
        "per_level1": [
            {"topic": la.label, "name": _name(codebook, la.label), "alpha": la.alpha,
             "chosen": la.chosen}
            for la in result.per_level1
        ],
    }


def agreement_verdict(result: Agreement) -> str:
    """Why there is no number, in words, or what the number is."""
    if result.paragraphs == 0:
        return ("no paragraph has judgements from two annotators, so agreement cannot be "
                "measured yet: have a second annotator judge some paragraphs")
    if result.alpha is None:
        return ("alpha is undefined: every judgement in these paragraphs is the same label "
                "set, so there is no variation to measure agreement against (expected "
                "disagreement is 0)")
    return f"Krippendorff's alpha (MASI distance over label sets) = {result.alpha:.4f}"


def agreement_text(result: Agreement, codebook: Codebook) -> str:
    overview = table(
        ["measure", "value"],
        [
            ["alpha (MASI)", _fmt_alpha(result.alpha)],
            ["units (paragraphs with >= 2 annotators)", str(result.paragraphs)],
            ["annotators", str(result.annotators)],
            ["judgements in those units", str(result.judgements)],
        ],
        align="lr",
    )
    parts = [f"agreement: {agreement_verdict(result)}", "", overview]
    if result.per_level1:
        rows = [[la.label, _name(codebook, la.label), _fmt_alpha(la.alpha), la.chosen]
                for la in result.per_level1]
        parts += ["", "per level-1 topic (MASI alpha over the labels under the topic, "
                  "every unit; chosen: judgements with a label under it)",
                  "", table(["topic", "name", "alpha", "chosen"], rows, align="llrr")]
    if result.per_label:
        rows = [[la.label, _name(codebook, la.label), _fmt_alpha(la.alpha), la.chosen]
                for la in result.per_label]
        parts += ["", "per label (binary alpha: chose the label or not; adjudicators excluded)",
                  "", table(["label", "name", "alpha", "chosen"], rows, align="llrr")]
    return "\n".join(parts)


# -- adjudication -------------------------------------------------------------


@dataclass
class Adjudication:
    """Gold labels of every judged paragraph, with the ties and disagreements behind them."""

    golds: list[Gold]
    paragraphs: int  # all paragraphs of the corpus, judged or not
    methods: Counter[str] = field(default_factory=Counter)

    @property
    def ties(self) -> list[Gold]:
        return [g for g in self.golds if g.ties]

    @property
    def disagreements(self) -> list[Gold]:
        return [g for g in self.golds if g.disputed]

    @property
    def no_topic(self) -> int:
        return sum(1 for g in self.golds if not g.labels)


def adjudicate_all(judgements: Iterable[Annotation], codebook: Codebook,
                   paragraphs: int) -> Adjudication:
    golds = sorted(gold_labels(judgements, codebook.order).values(),
                   key=lambda g: (g.article_id, g.paragraph_index))
    return Adjudication(golds, paragraphs, Counter(g.method for g in golds))


def adjudication_counts(result: Adjudication) -> dict[str, int]:
    return {
        "paragraphs": result.paragraphs,
        "judged": len(result.golds),
        "unjudged": result.paragraphs - len(result.golds),
        "by_adjudicator": result.methods["adjudicator"],
        "by_majority": result.methods["majority"],
        "single_annotator": result.methods["single"],
        "no_topic": result.no_topic,
        "with_ties": len(result.ties),
        "with_disagreements": len(result.disagreements),
    }


def _gold_dict(gold: Gold) -> dict[str, object]:
    return {
        "article_id": gold.article_id,
        "paragraph_index": gold.paragraph_index,
        "labels": list(gold.labels),
        "method": gold.method,
        "annotators": gold.annotators,
        "ties": list(gold.ties),
        "disputed": list(gold.disputed),
    }


def adjudication_data(result: Adjudication) -> dict[str, object]:
    return {
        "rule": RULE,
        "rule_text": RULE_TEXT,
        "counts": adjudication_counts(result),
        "paragraphs": [_gold_dict(g) for g in result.golds],
        "ties": [_gold_dict(g) for g in result.ties],
        "disagreements": [_gold_dict(g) for g in result.disagreements],
    }


def adjudication_text(result: Adjudication) -> str:
    counts = adjudication_counts(result)
    parts = [f"adjudication rule {RULE}: {RULE_TEXT}", ""]
    parts.append(table(["count", "value"], [[k.replace("_", " "), v] for k, v in counts.items()],
                       align="lr"))
    parts += ["", "gold labels", ""]
    if result.golds:
        rows = [[g.article_id, g.paragraph_index, g.method, g.annotators,
                 _labels_text(g.labels)] for g in result.golds]
        parts.append(table(["article", "paragraph", "method", "annotators", "gold labels"],
                           rows))
    else:
        parts.append("no judgements yet")
    parts += ["", f"ties ({len(result.ties)}): labels chosen by exactly half, not gold", ""]
    parts.append(table(["article", "paragraph", "tied labels"],
                       [[g.article_id, g.paragraph_index, ", ".join(g.ties)]
                        for g in result.ties]) if result.ties else "none")
    parts += ["", f"disagreements ({len(result.disagreements)}): labels chosen by some "
              "annotators but not all", ""]
    parts.append(table(["article", "paragraph", "method", "disputed labels", "gold labels"],
                       [[g.article_id, g.paragraph_index, g.method, ", ".join(g.disputed),
                         _labels_text(g.labels)] for g in result.disagreements])
                 if result.disagreements else "none")
    return "\n".join(parts)
