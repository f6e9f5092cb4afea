"""Corpus statistics: what is in the corpus, as tables for people."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from paratopics.codebook import Codebook
from paratopics.corpus.records import Article
from paratopics.corpus.store import Corpus
from paratopics.report import table


@dataclass
class CorpusStats:
    articles: int = 0
    paragraphs: int = 0
    words: int = 0
    headings: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    judgements: int = 0
    annotators: set[str] = field(default_factory=set)
    judged: set[tuple[str, int]] = field(default_factory=set)
    labels: Counter[str] = field(default_factory=Counter)


def add_article(stats: CorpusStats, article: Article) -> None:
    stats.articles += 1
    stats.paragraphs += len(article["paragraphs"])
    stats.words += sum(len(p["text"].split()) for p in article["paragraphs"])
    stats.headings += len({p["heading"] for p in article["paragraphs"] if p["heading"]})
    stats.sources[article["source"]] += 1


def add_judgement(stats: CorpusStats, record: dict[str, object]) -> None:
    stats.judgements += 1
    stats.annotators.add(str(record.get("annotator")))
    stats.judged.add((str(record.get("article_id")), int(record.get("paragraph_index", -1))))  # type: ignore[call-overload]
    labels = record.get("labels")
    if isinstance(labels, list):
        stats.labels.update(str(label) for label in labels)


def collect(corpus: Corpus) -> CorpusStats:
    stats = CorpusStats()
    for path in corpus.article_files():
        add_article(stats, json.loads(path.read_text(encoding="utf-8")))
    for path in corpus.annotation_files():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    add_judgement(stats, json.loads(line))
    return stats


def corpus_stats_text(corpus: Corpus, codebook: Codebook) -> str:
    stats = collect(corpus)
    overview = table(
        ["what", "count"],
        [["articles", stats.articles], ["paragraphs", stats.paragraphs],
         ["words", stats.words], ["subheadings", stats.headings],
         ["judgements", stats.judgements], ["annotators", len(stats.annotators)],
         ["paragraphs judged", len(stats.judged)]],
    )
    sources = table(["source", "articles"], sorted(stats.sources.items()))
    parts = [f"corpus {corpus.root}", "", overview, "", sources]
    if stats.labels:
        rows = []
        for code, count in stats.labels.most_common():
            name = codebook.name(code) if code in codebook else "(unknown)"
            rows.append([code, name, count])
        parts += ["", "labels in judgements", table(["label", "name", "judgements"], rows)]
    return "\n".join(parts)
