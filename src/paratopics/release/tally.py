"""What a release's manifest counts, summed shard by shard.

Each shard counts its own rows into a `Tally`, kept in the build cache with the
shard, so that a release built partly from the cache has the same counts as one
built anew; the manifest's label distribution and licence table are made from
the sum.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from paratopics.codebook import Codebook
from paratopics.corpus import licences as licences_module
from paratopics.release.rows import Decided

#: The licence column's stand-in in the manifest for records that name none.
UNLICENSED = "unlicensed"


@dataclass
class Tally:
    """What the manifest counts; each shard counts its own rows, and the release sums them."""

    articles: int = 0
    judgements: int = 0
    published: list[str] = field(default_factory=list)  # first and last date seen
    labels: dict[int, Counter[str]] = field(default_factory=dict)  # class -> split -> count
    methods: Counter[str] = field(default_factory=Counter)
    ties: int = 0
    disputed: int = 0
    hashed: list[tuple[str, str]] = field(default_factory=list)  # inputs, for the fingerprint
    #: source -> licence id -> articles ("unlicensed": a record of article schema 1.0.0)
    licences: dict[str, Counter[str]] = field(default_factory=dict)

    def saw_licence(self, source: str, licence: str | None) -> None:
        self.licences.setdefault(source, Counter())[licence or UNLICENSED] += 1

    def saw_published(self, date: str) -> None:
        if not self.published:
            self.published = [date, date]
        else:
            self.published = [min(self.published[0], date), max(self.published[1], date)]

    def saw_paragraph(self, split: str, labels: Iterable[int], decided: Decided | None) -> None:
        for label in labels:
            self.labels.setdefault(label, Counter())[split] += 1
        if decided is not None:
            self.methods[decided.method] += 1
            self.ties += decided.tied
            self.disputed += decided.disputed

    def add(self, other: Tally) -> None:
        self.articles += other.articles
        self.judgements += other.judgements
        for date in other.published:
            self.saw_published(date)
        for label, splits in other.labels.items():
            self.labels.setdefault(label, Counter()).update(splits)
        self.methods.update(other.methods)
        self.ties += other.ties
        self.disputed += other.disputed
        for source, counts in other.licences.items():
            self.licences.setdefault(source, Counter()).update(counts)

    def as_json(self) -> dict[str, object]:
        """The counts (not the inputs), for a shard's cache entry."""
        return {"articles": self.articles, "judgements": self.judgements,
                "published": self.published, "methods": dict(self.methods),
                "labels": {str(k): dict(v) for k, v in self.labels.items()},
                "ties": self.ties, "disputed": self.disputed,
                "licences": {k: dict(v) for k, v in self.licences.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls(data["articles"], data["judgements"], list(data["published"]),
                   {int(k): Counter(v) for k, v in data["labels"].items()},
                   Counter(data["methods"]), data["ties"], data["disputed"],
                   licences={k: Counter(v) for k, v in data.get("licences", {}).items()})


def label_distribution(tally: Tally, codebook: Codebook) -> dict[str, dict[str, object]]:
    """Per label: its name, level-1 parent and gold paragraph count per split."""
    return {
        code: {"name": codebook.name(code), "level1": codebook.level1(code),
               "paragraphs": dict(sorted(tally.labels[i].items()))}
        for i, code in enumerate(codebook.label_ids) if i in tally.labels
    }


def licence_table(tally: Tally) -> dict[str, object]:
    """Per source, the articles under each licence; and what each licence id means."""
    used = sorted({lid for counts in tally.licences.values() for lid in counts
                   if lid != UNLICENSED})
    return {
        "by_source": {source: dict(sorted(counts.items()))
                      for source, counts in sorted(tally.licences.items())},
        "terms": {lid: {"name": licences_module.describe(lid).name,
                        "url": licences_module.describe(lid).url}
                  for lid in used},
    }
