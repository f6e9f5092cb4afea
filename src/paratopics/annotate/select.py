"""Which paragraphs to send to annotators, and the model's labels to start them from.

The pool is the working corpus (articles and every annotation line, stale ones
included) or a release (its paragraphs and raw judgements). Selections:

- ``unjudged``: nobody judged the paragraph;
- ``stale``: a judgement was made on a text that has since changed;
- ``disagreements``: annotators chose different labels and no adjudicator decided;
- ``ties``: a label was chosen by exactly half of the annotators;
- ``uncertain``: unjudged paragraphs, those the model is least sure about first.

Sampling with ``--limit`` is a seeded draw, so the same corpus, selection and
seed give the same tasks; tasks come out in corpus order either way.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from paratopics.annotate.label_studio import Prediction, TaskParagraph
from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation
from paratopics.corpus.store import Corpus
from paratopics.errors import fail
from paratopics.ml.inference import Score
from paratopics.release.judgements import ParagraphKey, adjudicate

SELECTIONS = ("unjudged", "stale", "disagreements", "ties", "uncertain")
PREDICT_BATCH = 5_000  # paragraphs scored at a time: bounds the probability matrix


@dataclass
class Pool:
    """Paragraphs in corpus order, and every judgement of them by paragraph."""

    paragraphs: list[TaskParagraph]
    judgements: dict[ParagraphKey, list[Annotation]]


def _context(article_id: str, title: str, rows: Sequence[tuple[int, str, str, str | None]]
             ) -> Iterator[TaskParagraph]:
    """TaskParagraphs of one article from (index, sha256, text, heading), in index order."""
    for position, (index, sha, text, heading) in enumerate(rows):
        yield TaskParagraph(
            article_id, index, sha, text, title, heading,
            rows[position - 1][2] if position > 0 else None,
            rows[position + 1][2] if position + 1 < len(rows) else None)


def _read_judgements(paths: Iterable[Path], corpus: Corpus) -> list[Annotation]:
    out: list[Annotation] = []
    for path in paths:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = orjson.loads(raw)
                    record["article_id"], record["paragraph_index"], record["paragraph_sha256"]
                except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                    raise fail("json-syntax", file=corpus.relative(path), line=number,
                               detail=f"{exc}; run `paratopics validate` and fix the "
                               "annotation files first") from None
                out.append(record)
    return out


def working_pool(corpus: Corpus) -> Pool:
    paragraphs: list[TaskParagraph] = []
    for path in corpus.article_files():
        article = orjson.loads(path.read_bytes())
        rows = [(p["index"], p["sha256"], p["text"], p.get("heading"))
                for p in article["paragraphs"]]
        paragraphs += _context(article["article_id"], article["title"], rows)
    return Pool(paragraphs, _grouped(_read_judgements(corpus.annotation_files(), corpus)))


def release_pool(corpus: Corpus, version: str) -> Pool:
    """The pool of release `version`: its paragraphs (labeled or not) and raw judgements."""
    from paratopics.release import layout as release_layout
    from paratopics.release import read as release_read

    if not release_layout.release_dir(corpus, version).is_dir():
        raise fail("release-missing", version=version)
    by_article: dict[str, tuple[str, list[tuple[int, str, str, str | None]]]] = {}
    for table in release_read.read_config(corpus, version, "paragraphs").values():
        columns = [table.column(c).to_pylist() for c in
                   ("article_id", "paragraph_index", "sha256", "text", "heading", "title")]
        for aid, index, sha, text, heading, title in zip(*columns, strict=True):
            by_article.setdefault(aid, (title, []))[1].append((index, sha, text, heading))
    paragraphs: list[TaskParagraph] = []
    for aid in sorted(by_article):
        title, rows = by_article[aid]
        paragraphs += _context(aid, title, sorted(rows))
    judgements: list[Annotation] = []
    fields = ("article_id", "paragraph_index", "paragraph_sha256", "labels", "annotator",
              "role", "created")
    for table in release_read.read_config(corpus, version, "annotations").values():
        columns = [table.column(c).to_pylist() for c in fields]
        for aid, index, sha, labels, annotator, role, created in zip(*columns, strict=True):
            judgements.append({
                "article_id": aid, "paragraph_index": index, "paragraph_sha256": sha,
                "labels": list(labels),
                "annotator": annotator, "role": role or "annotator", "created": str(created)})
    return Pool(paragraphs, _grouped(judgements))


def _grouped(judgements: Iterable[Annotation]) -> dict[ParagraphKey, list[Annotation]]:
    grouped: dict[ParagraphKey, list[Annotation]] = defaultdict(list)
    for record in judgements:
        grouped[(record["article_id"], record["paragraph_index"])].append(record)
    return dict(grouped)


# -- selection (pure) ---------------------------------------------------------


def _current(paragraph: TaskParagraph, judgements: Sequence[Annotation]) -> list[Annotation]:
    return [j for j in judgements if j["paragraph_sha256"] == paragraph.paragraph_sha256]


def selected(paragraph: TaskParagraph, judgements: Sequence[Annotation], how: str,
             order: dict[str, int]) -> bool:
    """Whether `paragraph`, with all its judgements, belongs to selection `how`."""
    if how in ("unjudged", "uncertain"):
        return not judgements
    if how == "stale":
        return any(j["paragraph_sha256"] != paragraph.paragraph_sha256 for j in judgements)
    current = _current(paragraph, judgements)
    if len({j["annotator"] for j in current}) < 2:
        return False
    gold = adjudicate(current, order)
    if gold.method == "adjudicator":
        return False
    return bool(gold.ties) if how == "ties" else bool(gold.disputed)


def candidates(pool: Pool, how: str, codebook: Codebook, exclude: Sequence[str] = ()
               ) -> list[TaskParagraph]:
    order = codebook.order
    out = []
    for paragraph in pool.paragraphs:
        judgements = pool.judgements.get((paragraph.article_id, paragraph.paragraph_index), [])
        if exclude and any(j["annotator"] in exclude for j in _current(paragraph, judgements)):
            continue
        if selected(paragraph, judgements, how, order):
            out.append(paragraph)
    return out


def sample(items: Sequence[TaskParagraph], limit: int | None, seed: int
           ) -> list[TaskParagraph]:
    """At most `limit` items, a seeded draw, kept in their original (corpus) order."""
    if limit is None or limit >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in chosen]


# -- the model ----------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """A trained baseline (see `baseline`), what its card says about it, and the function
    that gives its probabilities for a list of texts (see `inference`)."""

    pipeline: object
    labels: list[str]
    thresholds: np.ndarray
    version: str
    probabilities: Score


def load_model(folder: Path, codebook: Codebook) -> Model:
    from paratopics.ml import baseline as baseline
    from paratopics.ml import inference

    pipeline, card = baseline.load_model(folder)
    if int(card.get("level", 2)) != 2:
        raise fail("bad-field", file=str(folder / "model.json"), field="level",
                   detail="is 1: tasks are labelled with level-2 and project topics, so only "
                   "a level-2 model can pre-annotate them; train one with `paratopics train "
                   "--level 2`")
    labels = [code for code in card["labels"] if code in codebook]
    if labels != list(card["labels"]):
        raise fail("unknown-label", file=str(folder / "model.json"),
                   label=next(c for c in card["labels"] if c not in codebook),
                   suggestion=": the model was trained on another codebook; train it again")
    version = f"{card.get('model', 'baseline')}@v{card.get('release', '?')}"
    return Model(pipeline, labels, np.array([card["thresholds"][c] for c in labels]), version,
                 inference.scorer(pipeline))


def certainty(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per row, how sure the model is of its least sure decision, from 0 (a probability
    on its label's threshold) to 1 (at 0 or 1): each label's distance from its threshold,
    over the largest distance possible on that side."""
    if probs.shape[1] == 0:
        return np.ones(probs.shape[0])
    room = np.where(probs >= thresholds, 1.0 - thresholds, thresholds)
    margin = np.abs(probs - thresholds) / np.maximum(room, 1e-9)
    return np.clip(margin.min(axis=1), 0.0, 1.0)


def picked_labels(decisions: np.ndarray, labels: Sequence[str], order: dict[str, int]
                  ) -> list[tuple[str, ...]]:
    """Per row of `decisions` (texts x labels, True where a label is predicted), the
    predicted labels in codebook `order` (labels it does not know last, in model order)."""
    ranked = sorted(range(len(labels)), key=lambda j: order.get(labels[j], len(order)))
    rows, columns = np.nonzero(decisions[:, ranked])
    names = [labels[ranked[j]] for j in columns.tolist()]
    bounds = np.searchsorted(rows, np.arange(decisions.shape[0] + 1)).tolist()
    return [tuple(names[bounds[i]:bounds[i + 1]]) for i in range(decisions.shape[0])]


def predict(model: Model, paragraphs: Sequence[TaskParagraph], codebook: Codebook
            ) -> list[Prediction]:
    """The model's labels and certainty for each paragraph, scored in batches of
    PREDICT_BATCH (the same numbers as one at a time: each row is computed alone)."""
    order = {code: i for i, code in enumerate(codebook.label_ids)}
    out: list[Prediction] = []
    for start in range(0, len(paragraphs), PREDICT_BATCH):
        chunk = paragraphs[start:start + PREDICT_BATCH]
        probs = model.probabilities([p.text for p in chunk])
        scores = certainty(probs, model.thresholds).tolist()
        picks = picked_labels(probs >= model.thresholds, model.labels, order)
        out += [Prediction(model.version, labels, round(score, 6))
                for labels, score in zip(picks, scores, strict=True)]
    return out


def most_uncertain(paragraphs: Sequence[TaskParagraph], predictions: Sequence[Prediction],
                   limit: int | None) -> list[int]:
    """Positions of the `limit` least certain predictions, then put back in corpus order;
    equal certainties go in corpus order, so the choice is reproducible."""
    ranked = sorted(range(len(paragraphs)), key=lambda i: (predictions[i].score, i))
    return sorted(ranked if limit is None else ranked[:limit])
