"""Release rows: pure functions from records to the rows of each config.

A paragraph's split is a hash of its article's id (`split_of`), never of the
corpus, so an article stays in its split as the corpus grows. Rows carry class
indexes (`Classes`) computed once per build, and the gold decisions a release
keeps of each paragraph (`Decided`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import pyarrow as pa

from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation, Article, article_body
from paratopics.errors import fail
from paratopics.release.layout import SPLITS, UNLABELED, Layout, features

SPLIT_SALT = "paratopics-split-v1:"


def split_of(article_id: str) -> str:
    """The split an article belongs to, forever: a hash of its id, not of the corpus."""
    digest = hashlib.sha256((SPLIT_SALT + article_id).encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, share in SPLITS:
        bound += share
        if point < bound:
            return name
    return SPLITS[-1][0]


def arrow_schema(config: str, codebook: Codebook, layout: Layout | None = None) -> pa.Schema:
    """The explicit Arrow schema, carrying the features in its metadata."""
    return features(config, codebook, layout).arrow_schema


# -- rows (pure) --------------------------------------------------------------


def paragraph_id(article_id: str, index: int) -> str:
    return f"{article_id}/{index}"


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class Classes:
    """Codebook ids as class indexes, looked up once per build rather than per row."""

    label: dict[str, int]
    level1: dict[str, int]
    parent: dict[str, str]  # label id -> its level-1 id
    label_ids: tuple[str, ...] = ()  # class index -> codebook id
    level1_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, codebook: Codebook) -> Classes:
        return cls({code: i for i, code in enumerate(codebook.label_ids)},
                   {code: i for i, code in enumerate(codebook.level1_ids)},
                   {code: codebook.level1(code) for code in codebook.label_ids},
                   tuple(codebook.label_ids), tuple(codebook.level1_ids))

    def indexes(self, labels: Iterable[str]) -> list[int]:
        """Class indexes of gold labels; a code that is no class is refused by name."""
        try:
            return [self.label[code] for code in labels]
        except KeyError as exc:
            raise fail("unknown-label", pointer="/labels", label=exc.args[0],
                       suggestion=" among the classes of a release: gold labels must be "
                       "level-2 or project nodes") from None


class Decided(NamedTuple):
    """What a release keeps of a paragraph's gold decision (see annotations.Gold)."""

    labels: tuple[str, ...]
    annotators: int
    method: str = "single"  # how it was reached; with the two below, only counted
    tied: bool = False
    disputed: bool = False


def paragraph_rows(article: Article, gold: Mapping[int, Decided], classes: Classes, home: str,
                   ) -> Iterator[tuple[str, dict[str, object]]]:
    """(split, row) per paragraph; `gold` by paragraph index, `home` the article's split."""
    aid = article["article_id"]
    published = _date(article["published"])
    for para in article["paragraphs"]:
        decided = gold.get(para["index"])
        labels = classes.indexes(decided.labels) if decided else []
        parents = sorted({classes.level1[classes.parent[code]] for code in decided.labels}
                         ) if decided else []
        yield (home if decided else UNLABELED), {
            "paragraph_id": paragraph_id(aid, para["index"]),
            "article_id": aid,
            "paragraph_index": para["index"],
            "heading": para["heading"],
            "text": para["text"],
            "sha256": para["sha256"],
            "title": article["title"],
            "source": article["source"],
            "published": published,
            "labels": labels,
            "labels_level1": parents,
            "annotators": decided.annotators if decided else 0,
            # the class names of the two above, item by item (layouts with label names)
            "label_names": list(decided.labels) if decided else [],
            "label_names_level1": [classes.level1_ids[i] for i in parents],
        }


def article_row(article: Article, gold: Mapping[int, Decided], classes: Classes, home: str,
                ) -> tuple[str, dict[str, object]]:
    """(split, row) of the article: metadata, paragraphs and the union of their labels."""
    decided = [gold[p["index"]] for p in article["paragraphs"] if p["index"] in gold]
    union = {code for g in decided for code in g.labels if code in classes.label}
    labels = sorted(classes.label[code] for code in union)
    parents = sorted({classes.level1[classes.parent[code]] for code in union})
    return (home if decided else UNLABELED), {
        "article_id": article["article_id"],
        "source": article["source"],
        "url": article["url"],
        "title": article["title"],
        "authors": article["authors"],
        "published": _date(article["published"]),
        "section": article["section"],
        "language": article["language"],
        # null for a record of article schema 1.0.0, which names no licence
        "license": article.get("license"),
        "attribution": article.get("attribution"),
        "body": article_body(article),
        "paragraphs": [{"index": p["index"], "heading": p["heading"], "text": p["text"]}
                       for p in article["paragraphs"]],
        "judged_paragraphs": len(decided),
        "labels": labels,
        "labels_level1": parents,
        "label_names": [classes.label_ids[i] for i in labels],
        "label_names_level1": [classes.level1_ids[i] for i in parents],
    }


def annotation_row(record: Annotation) -> dict[str, object]:
    """The row of one raw judgement; its split is its article's."""
    aid = record["article_id"]
    return {
        "paragraph_id": paragraph_id(aid, record["paragraph_index"]),
        "article_id": aid,
        "paragraph_index": record["paragraph_index"],
        "paragraph_sha256": record["paragraph_sha256"],
        "labels": list(record["labels"]),
        "annotator": record["annotator"],
        "role": record.get("role", "annotator"),
        "created": record["created"],
        "confidence": record.get("confidence"),
        "note": record.get("note"),
    }


#: Judgements are ordered by these columns (they are unique per valid judgement).
ANNOTATION_ORDER = (("article_id", "ascending"), ("paragraph_index", "ascending"),
                    ("annotator", "ascending"), ("created", "ascending"))


def rows_to_table(rows: list[dict[str, object]], schema: pa.Schema) -> pa.Table:
    """`pa.Table.from_pylist(rows, schema=schema)`, column by column: the same
    table, chosen when from_pylist converted row by row and was far slower
    (docs/build-design.md: a recent pyarrow no longer is)."""
    return pa.Table.from_arrays([pa.array([row[f.name] for row in rows], type=f.type)
                                 for f in schema], schema=schema)
