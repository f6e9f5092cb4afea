"""Who made a release's labels and how far they agree, read from the release itself.

A card that says how labels were made must be true of the release it describes,
not of the project in general: so the counts, the kinds of annotators and the
agreement figures are computed from the release's own `annotations` files each
time a card is written.

Annotator ids that start with `llm-` are model-based judges (a large language
model following the annotation guide), by the convention in docs/annotating.md;
every other id is a person or a team of people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation
from paratopics.release.judgements import Agreement, agreement

MODEL_PREFIX = "llm-"
COLUMNS = ["article_id", "paragraph_index", "labels", "annotator", "role"]


def read_judgements(folder: Path, paths: Iterable[str]) -> list[Annotation]:
    import pyarrow.parquet as pq

    rows: list[Annotation] = []
    for path in paths:
        rows += pq.read_table(folder / path, columns=COLUMNS).to_pylist()
    return rows


@dataclass(frozen=True)
class Annotators:
    """Judgements of a release by kind of annotator, and the agreement among them."""

    people: Mapping[str, int]  # annotator id -> judgements
    models: Mapping[str, int]
    adjudicated: int  # judgements with role adjudicator
    by_models_adjudicated: int
    paragraphs: int
    agreement: Agreement


def summarize(judgements: Sequence[Annotation], codebook: Codebook) -> Annotators:
    people: Counter[str] = Counter()
    models: Counter[str] = Counter()
    for j in judgements:
        (models if j["annotator"].startswith(MODEL_PREFIX) else people)[j["annotator"]] += 1
    adjudicators = [j for j in judgements if j.get("role") == "adjudicator"]
    return Annotators(
        people=dict(sorted(people.items())), models=dict(sorted(models.items())),
        adjudicated=len(adjudicators),
        by_models_adjudicated=sum(1 for j in adjudicators
                                  if j["annotator"].startswith(MODEL_PREFIX)),
        paragraphs=len({(j["article_id"], j["paragraph_index"]) for j in judgements}),
        agreement=agreement(judgements, codebook.level1))


def _ids(counts: Mapping[str, int]) -> str:
    return ", ".join(f"`{name}` ({n:,})" for name, n in counts.items())


def _alpha(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def process_text(summary: Annotators, codebook: Codebook, ours: bool = True) -> str:
    """The card's account of who judged this release's paragraphs, how, and the agreement.

    How the model-based judges worked is this project's process; a corpus of one's
    own (`ours` false) gets the counts and the agreement, not that account.
    """
    total = sum(summary.people.values()) + sum(summary.models.values())
    parts = [f"This release holds {total:,} judgements of {summary.paragraphs:,} paragraphs."]
    if summary.people:
        parts.append(f"Judgements by people (annotator id, judgements): {_ids(summary.people)}.")
    if summary.models and not ours:
        parts.append(f"Judgements by annotator ids starting `{MODEL_PREFIX}`, by convention "
                     f"model-based judges: {_ids(summary.models)}.")
    elif summary.models:
        parts.append(
            "Judgements by model-based judges, not people (annotator ids starting "
            f"`{MODEL_PREFIX}`; {_ids(summary.models)}): a large language model given the "
            "annotation guide generated from the codebook and the paragraphs with their "
            "article's title and headings, one paragraph set at a time. Each paragraph of "
            "the evaluation set was judged by two such judges working independently: "
            "neither saw the other's labels. The paragraphs whose two label sets differed "
            "went to a model-based adjudicator, who saw both sets without knowing whose "
            "they were and decided the gold labels following the guide with its hard "
            "cases (written from the judges' disagreements and notes before "
            "adjudication). No person reviewed these labels: read them as careful "
            "machine judgements against a published guide, and check the `annotator` "
            "column before treating them as expert gold.")
    if summary.adjudicated:
        parts.append(f"{summary.adjudicated:,} judgements are adjudications "
                     f"({summary.by_models_adjudicated:,} of them model-based).")
    result = summary.agreement
    if result.paragraphs:
        rows = [f"| {la.label} | {codebook.name(la.label) if la.label in codebook else ''} | "
                f"{_alpha(la.alpha)} | {la.chosen:,} |" for la in result.per_level1]
        parts.append(
            f"Agreement before adjudication: Krippendorff's alpha (MASI distance over label "
            f"sets) = {_alpha(result.alpha)} over {result.paragraphs:,} paragraphs judged by "
            f"two or more annotators ({result.annotators} annotators, "
            f"{result.judgements:,} judgements; adjudications excluded). Per level-1 "
            "topic (MASI alpha over the labels under the topic; chosen: judgements with a "
            "label under it):\n\n| topic | name | alpha | chosen |\n|---|---|---:|---:|\n"
            + "\n".join(rows))
    else:
        parts.append("No paragraph of this release has judgements from two annotators, so "
                     "agreement cannot be measured for it.")
    return "\n\n".join(parts)
