"""The article index: what annotation checks need to know of every article (its
paragraph hashes), read on demand so that validating one annotation file does not
load the whole corpus.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from paratopics.corpus.records import Article


def hash_list_digest(hashes: list[str]) -> str:
    """One digest of an article's paragraph hashes, in order: what a cached annotation
    file remembers of each article it judges, to notice any paragraph changing."""
    try:
        text = orjson.dumps(hashes)
    except orjson.JSONEncodeError:  # a lone surrogate, in a faulty record: json writes it
        text = json.dumps(hashes).encode()
    return hashlib.sha256(text).hexdigest()


#: Stands in for what a record file no longer holds when it is read again.
CHANGED = "(the record changed during validation)"


class _OnDemand(dict[str, list[str]]):
    """One field of every paragraph ("sha256" or "text") by article id, read from the
    record file when first asked for: most texts are never needed (a million are
    ~400 MB), and a record vouched for by the cache is not parsed at all."""

    def __init__(self, key: str, paths: dict[str, tuple[str, int]],
                 digests: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.key = key
        #: per article id, its record file and paragraph count (shared by both fields)
        self.paths = paths
        #: if given, the hash_list_digest the values must have (else the record changed)
        self.digests = digests

    def __missing__(self, aid: str) -> list[str]:
        if aid not in self.paths:
            raise KeyError(aid)
        path, count = self.paths[aid]
        try:
            values = [p[self.key] for p in json.loads(Path(path).read_bytes())["paragraphs"]]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            values = []
        if not all(isinstance(v, str) for v in values) or (
                self.digests is not None and hash_list_digest(values) != self.digests.get(aid)):
            values = []
        # as many as when the record was checked, even if it changed since
        values = values[:count] + [CHANGED] * (count - len(values))
        self[aid] = values
        return values


@dataclass
class ArticleIndex:
    """Per article, its paragraphs' hashes and texts: what annotations are checked against.

    `hashes` and `texts` are read from the record file on first use when the
    record was indexed without them (add_record); `digests` is always there,
    so whether a cached annotation file still holds costs no record read.
    """

    history: Path | None = None
    paths: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: per article id, hash_list_digest of its paragraph hashes
    digests: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, list[str]] = field(init=False)
    texts: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.hashes = _OnDemand("sha256", self.paths, self.digests)
        self.texts = _OnDemand("text", self.paths)

    def judged_text(self, article_id: str, sha256: str) -> str | None:
        """The superseded text with hash `sha256`, if ingest kept it in history/."""
        if self.history is None:
            return None
        path = self.history / f"{article_id}.jsonl"
        if not path.is_file():
            return None
        with path.open(encoding="utf-8") as handle:
            for text in handle:
                entry = json.loads(text)
                if entry.get("sha256") == sha256:
                    return str(entry.get("text"))
        return None

    def add_record(self, article_id: str, path: Path | str, count: int, digest: str,
                   hashes: list[str] | None = None) -> None:
        """Index the record at `path` with `count` paragraphs whose hashes have
        hash_list_digest `digest`; without `hashes`, they are read when first needed."""
        self.paths[article_id] = (str(path), count)
        self.digests[article_id] = digest
        self.texts.pop(article_id, None)
        if hashes is None:
            self.hashes.pop(article_id, None)
        else:
            self.hashes[article_id] = hashes

    def add(self, article: Article, path: Path | None = None) -> None:
        """Index `article`; given the `path` it was read from, its texts are read
        again only if a stale judgement needs one."""
        aid = article["article_id"]
        hashes = [p["sha256"] for p in article["paragraphs"]]
        if path is not None:
            self.add_record(aid, path, len(hashes), hash_list_digest(hashes), hashes)
            return
        self.paths.pop(aid, None)
        self.digests[aid] = hash_list_digest(hashes)
        self.hashes[aid] = hashes
        self.texts[aid] = [p["text"] for p in article["paragraphs"]]


def suggest_article(wanted: str, ids: Iterable[str]) -> str | None:
    """The article id a short or mistyped `wanted` most likely meant: the one id it
    begins, else the id with its hash (the last 10 hex digits), else the closest."""
    known = list(ids)
    starting = sorted(aid for aid in known if aid.startswith(wanted))
    if wanted and len(starting) == 1:
        return starting[0]
    tail = wanted.rsplit("-", 1)[-1]
    if len(tail) == 10:
        same = sorted(aid for aid in known if aid.endswith("-" + tail))
        if len(same) == 1:
            return same[0]
    # bounded: only ids that share the first letters are compared
    near = [aid for aid in known if aid[:4] == wanted[:4]] if len(known) > 5000 else known
    close = difflib.get_close_matches(wanted, near, n=1, cutoff=0.8)
    return close[0] if close else None
