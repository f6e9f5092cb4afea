"""Synthetic corpora: realistic, seeded and fast, for tests and benchmarks.

The real corpus is one article; releases, validation and classifiers must also
be exercised at a million paragraphs. `generate` writes what a busy project
would hold: raw JSON Lines sources under ``sources/synthetic/``, article
records made by the real `ingest.make_article` path (so `paratopics validate`
passes), and annotation files from several annotators who agree about 80% of
the time, leave some paragraphs unjudged and are occasionally overruled by an
adjudicator.

Texts are not random noise: every codebook label (active level-2 and project
nodes) owns topical words taken from its own name, definition, notes and
example, and a paragraph's words are drawn partly from its labels' words, so a
classifier can learn the labels from the text. Labels follow a Zipf-like
distribution, as news topics do. `label_fn` decouples the annotators' labels
from the text, for a chance baseline.

The same seed gives byte-identical files: one `random.Random` drives
everything, nothing iterates over a set, and nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from pathlib import Path

from paratopics import codebook as codebook_module
from paratopics.codebook import Codebook
from paratopics.corpus.records import Article, Provenance
from paratopics.corpus.store import Corpus, write_article
from paratopics.ingest.core import make_article, slugify
from paratopics.ingest.draft import Draft

#: Articles per raw JSON Lines file (and per annotation batch file).
CHUNK_ARTICLES = 1_000
SOURCE_FOLDER = "synthetic"
#: Chance that one annotator's label set departs from the truth. Two annotators
#: then agree exactly on about 0.9 * 0.9 = 81% of paragraphs.
NOISE = 0.1
#: Chance that a second (third, ...) annotator skips a paragraph the first judged.
SKIP = 0.08
#: Chance that an adjudicator settles a paragraph the annotators disagreed on.
ADJUDICATE = 0.3
MIN_WORDS, MAX_WORDS = 20, 80
#: Share of noun phrases whose noun is one of the paragraph's labels' own words.
TOPICAL_NOUNS = 0.45
#: Share of paragraphs with no topic at all (judged: an empty label set).
NO_TOPIC = 0.03
ZIPF_EXPONENT = 1.1
ADJUDICATOR = "lead-editor"

#: Given the rng and a paragraph's true topics, the labels annotators treat as true.
LabelFn = Callable[[random.Random, tuple[str, ...]], Sequence[str]]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_NUMBERS = ("3", "12", "40", "250", "1,500", "2,024")
_DETERMINERS = ("the", "the", "the", "a", "its", "their", "", "", "", "several", "two", "new")
_PREPOSITIONS = ("in", "in", "on", "for", "with", "after", "over", "against", "during",
                 "under", "across", "near", "about", "before", "despite")
_VERBS = _words("""
said announced warned agreed rejected approved criticized welcomed discussed
expanded reduced delayed suspended launched reviewed confirmed denied urged
backed opposed questioned praised blamed signed extended ended resumed
""")
_FUNCTION_WORDS = _words("""
the of and to in a that said on for is was with by as at it from its has
have be are were an will which their after had but not this they been also
who more than over would about into other two could some while new
last since during under against three those before between most there
further both when where only such these first any many all because year
""")

_NEWS_WORDS = _words("""
government officials minister president country week people report told
statement national police security state city capital region plan support
talks meeting agreement deal group leaders public local forces percent million
spokesman announced according program policy official authorities office
company international foreign economic political party election court law
military news agency sources announced system service workers community data
project decision measures months days morning evening several major recent
senior committee council members parliament ministry department director
issue response effort pressure crisis situation increase reduce growth plans
funding budget billion prices market energy health schools residents families
groups border province district village town north south east west central
coast area areas region talks visit trip delegation envoy ambassador summit
cooperation relations partners allies rivals opposition ruling coalition vote
reforms proposal draft review inquiry investigation findings analysts experts
researchers observers critics supporters protesters organizers volunteers
conditions tensions concerns warnings threats risks steps actions changes
results figures numbers levels rates costs losses gains talks negotiations
framework strategy approach priorities goals targets commitments promises
""")

_FIRST_NAMES = _words("""
Amina Daniel Sofia Omar Elena Rahul Grace Mateo Hana Victor Leila Samuel
Chen Maria Tomasz Aisha David Yuki Carlos Nadia Peter Fatima Lucas Ingrid
José Anna Ravi Tariq
""")

_LAST_NAMES = _words("""
Okafor Novak Rahman Schmidt Silva Tanaka Haddad Kowalski Mensah Larsen
Petrov Nguyen Gul Romero Ibrahim Fischer Moreau Singh Ortega Kim Müller
Osei Costa
""")

#: A few names and one place carry a non-ASCII letter, so about one paragraph in ten
#: has one, as in English wire copy (curly quotes would make it most paragraphs).
_PLACES = _words("""
Geneva Nairobi Jakarta Kyiv Islamabad Brussels Seoul Lagos Manila Ankara
Lima Hanoi Dakar Oslo Warsaw Cairo Karachi Tbilisi Bogotá Quito
""")

_SECTIONS = ("World", "Politics", "Business", "Defence", "Science", "Health", "Opinion", None)
_SOURCES = ("synthetic-wire", "synthetic-herald", "synthetic-post")
_STOP = frozenset(_FUNCTION_WORDS) | frozenset(_words("""
use such including news about other others like them also when into from under
with within between among against more most than then their there these those
this that what which while will would where whose whom have has had being been
does done make made many much some only other over same very each every either
"""))
_WORD = re.compile(r"[a-z]+")


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative weights of a Zipf law over `count` ranks, for `random.choices`."""
    return list(accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


def _node_text(node: codebook_module.Node) -> str:
    parts = [node.get("name", ""), node.get("definition", ""), node.get("example", ""),
             *node.get("include", [])]
    return " ".join(parts).lower()


def topical_words(book: Codebook, labels: Sequence[str], per_label: int = 40,
                  ) -> dict[str, tuple[str, ...]]:
    """Each label's own words, from its codebook entry; words most labels share are dropped.

    A label whose entry yields few distinctive words gets made-up words
    derived from its id, so that every label stays learnable.
    """
    tokens = {code: [w for w in _WORD.findall(_node_text(book.by_id[code]))
                     if len(w) >= 4 and w not in _STOP] for code in labels}
    spread: dict[str, int] = {}
    for code in labels:
        for word in dict.fromkeys(tokens[code]):
            spread[word] = spread.get(word, 0) + 1
    out = {}
    for code in labels:
        own = [w for w in dict.fromkeys(tokens[code]) if spread[w] <= 3][:per_label]
        salt = 0
        while len(own) < 12:
            own.append(_pseudo_word(f"{code}:{salt}"))
            salt += 1
        out[code] = tuple(own)
    return out


def _pseudo_word(key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    return "".join(consonants[digest[i] % 14] + vowels[digest[i + 8] % 5] for i in range(3))


@dataclass(frozen=True)
class Vocabulary:
    """What texts and labels are drawn from; built once per run."""

    labels: tuple[str, ...]  # active labels, most frequent first
    words: dict[str, tuple[str, ...]]
    siblings: dict[str, tuple[str, ...]]  # labels under the same level-1 parent

    @cached_property
    def label_weights(self) -> list[float]:
        return zipf_weights(len(self.labels))

    @cached_property
    def nouns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_NEWS_WORDS))

    @cached_property
    def noun_weights(self) -> list[float]:
        return zipf_weights(len(self.nouns), 0.8)


def vocabulary(book: Codebook) -> Vocabulary:
    """Active labels ranked by a fixed hash (the same popularity for every seed)."""
    active = [c for c in book.label_ids if not book.is_retired(c)]
    ranked = tuple(sorted(active, key=lambda c: hashlib.sha256(c.encode()).hexdigest()))
    parents: dict[str, list[str]] = {}
    for code in ranked:
        parents.setdefault(book.level1(code), []).append(code)
    siblings = {code: tuple(c for c in parents[book.level1(code)] if c != code)
                for code in ranked}
    return Vocabulary(ranked, topical_words(book, ranked), siblings)


# -- one article --------------------------------------------------------------


def draw_labels(rng: random.Random, vocab: Vocabulary, k: int) -> tuple[str, ...]:
    """`k` distinct labels, Zipf-distributed."""
    chosen: list[str] = []
    while len(chosen) < k:
        label = vocab.labels[bisect(vocab.label_weights, rng.random() * vocab.label_weights[-1])]
        if label not in chosen:
            chosen.append(label)
    return tuple(chosen)


def paragraph_topics(rng: random.Random, vocab: Vocabulary,
                     article_topics: tuple[str, ...]) -> tuple[str, ...]:
    """1-3 labels, mostly the article's own topics; sometimes none."""
    if rng.random() < NO_TOPIC:
        return ()
    k = 1 if (r := rng.random()) < 0.6 else 2 if r < 0.9 else 3
    chosen: list[str] = []
    for _ in range(k * 3):
        if len(chosen) == k:
            break
        pool = article_topics if rng.random() < 0.75 else draw_labels(rng, vocab, 1)
        label = pool[0] if rng.random() < 0.6 else rng.choice(pool)
        if label not in chosen:
            chosen.append(label)
    return tuple(chosen)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def paragraph_text(rng: random.Random, vocab: Vocabulary, topics: tuple[str, ...]) -> str:
    """20-80 words of news-like sentences whose nouns are often the topics' own words."""
    target = int(rng.triangular(MIN_WORDS, MAX_WORDS - 6, 36))
    sentences: list[str] = []
    words = 0
    while words < target:
        sentence = _sentence(rng, vocab, topics)
        size = sentence.count(" ") + 1
        if words + size > MAX_WORDS and words >= MIN_WORDS:
            break
        words += size
        sentences.append(sentence)
    return " ".join(sentences)


def _pick(rnd: Callable[[], float], items: Sequence[str]) -> str:
    """`random.choice`, faster: texts draw tens of millions of words."""
    return items[int(rnd() * len(items))]


def _noun_phrase(rng: random.Random, vocab: Vocabulary, topics: tuple[str, ...]) -> str:
    rnd = rng.random
    roll = rnd()
    if roll < 0.06:
        return _pick(rnd, _PLACES)
    if roll < 0.09:
        return f"{_pick(rnd, _NUMBERS)} {_pick(rnd, _NEWS_WORDS)}"
    if topics and roll < 0.09 + TOPICAL_NOUNS:
        noun = _pick(rnd, vocab.words[topics[int(rnd() * len(topics))]])
    else:
        noun = vocab.nouns[bisect(vocab.noun_weights, rnd() * vocab.noun_weights[-1])]
    det = _pick(rnd, _DETERMINERS)
    return f"{det} {noun}" if det else noun


def _sentence(rng: random.Random, vocab: Vocabulary, topics: tuple[str, ...]) -> str:
    """Subject, verb, object and a few prepositional phrases; sometimes a quote."""
    rnd = rng.random
    parts = [_noun_phrase(rng, vocab, topics), _pick(rnd, _VERBS),
             _noun_phrase(rng, vocab, topics)]
    for _ in range(int(rnd() * 4)):
        parts.append(f"{_pick(rnd, _PREPOSITIONS)} {_noun_phrase(rng, vocab, topics)}")
    if len(parts) > 4 and rnd() < 0.4:
        parts[3] += ","
    body = " ".join(parts)
    body = body[:1].upper() + body[1:]
    if rnd() < 0.1:
        return f'"{body}," {_name(rng)} said.'
    return body + "."


def _title_words(rng: random.Random, vocab: Vocabulary, topics: tuple[str, ...],
                 count: int) -> str:
    words = [rng.choice(vocab.words[rng.choice(topics)]) if topics and rng.random() < 0.5
             else rng.choice(_NEWS_WORDS) for _ in range(count)]
    return " ".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class Planned:
    """One article as drawn: its draft and each paragraph's true topics."""

    draft: Draft
    topics: tuple[tuple[str, ...], ...]


def plan_article(rng: random.Random, vocab: Vocabulary, seed: int, number: int) -> Planned:
    """A news article: 3-25 paragraphs (about 10), some under subheadings."""
    article_topics = draw_labels(rng, vocab, 1 if (r := rng.random()) < 0.5 else
                                 2 if r < 0.85 else 3)
    count = max(3, min(25, round(rng.gauss(10, 4))))
    topics = tuple(paragraph_topics(rng, vocab, article_topics) for _ in range(count))
    headings: list[str | None] = [None] * count
    if count >= 5 and rng.random() < 0.3:
        for start in sorted(rng.sample(range(2, count), min(count - 2, rng.randint(1, 3)))):
            heading = _title_words(rng, vocab, topics[start] or article_topics,
                                   rng.randint(2, 5))
            headings[start:] = [heading] * (count - start)
    texts = [paragraph_text(rng, vocab, t) for t in topics]
    title = _title_words(rng, vocab, article_topics, rng.randint(5, 10))
    day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3653))
    source = rng.choice(_SOURCES)
    url = (f"https://{source}.example/{day:%Y/%m/%d}/{slugify(title)}-s{seed}-{number}")
    authors = [_name(rng) for _ in range(rng.choice((0, 1, 1, 1, 2)))]
    draft = Draft(source=source, title=title, authors=authors, published=day.isoformat(),
                  paragraphs=list(zip(headings, texts, strict=True)), url=url,
                  section=rng.choice(_SECTIONS), language="en", license=SYNTHETIC_LICENSE,
                  attribution=f"generated by paratopics.synthetic (seed {seed}), {url}")
    return Planned(draft, topics)


#: Generated text belongs to no one: it is released into the public domain.
SYNTHETIC_LICENSE = "CC0-1.0"


def raw_record(draft: Draft) -> dict[str, object]:
    """The draft as a record of the JSON door of `paratopics ingest`."""
    return {
        "source": draft.source, "url": draft.url, "title": draft.title,
        "authors": draft.authors, "published": draft.published, "section": draft.section,
        "language": draft.language, "license": draft.license,
        "attribution": draft.attribution,
        "paragraphs": [{"heading": h, "text": t} for h, t in draft.paragraphs],
    }


# -- annotators ---------------------------------------------------------------


def annotator_names(count: int) -> tuple[str, ...]:
    return tuple(f"annotator-{i + 1:02d}" for i in range(count))


def perturb(rng: random.Random, vocab: Vocabulary, labels: tuple[str, ...]) -> list[str]:
    """One annotator's judgement: the truth, or with chance NOISE a plausible slip."""
    chosen = list(labels)
    if rng.random() >= NOISE:
        rng.shuffle(chosen)
        return chosen
    slip = rng.random()
    if chosen and slip < 0.35 and vocab.siblings.get(chosen[-1]):
        chosen[-1] = rng.choice(vocab.siblings[chosen[-1]])  # a neighbouring topic
    elif len(chosen) > 1 and slip < 0.7:
        chosen.pop(rng.randrange(len(chosen)))  # one label missed
    else:
        extra = draw_labels(rng, vocab, 1)[0]  # one label too many
        if extra not in chosen:
            chosen.append(extra)
        elif chosen:
            chosen.remove(extra)
    return list(dict.fromkeys(chosen))


@dataclass
class Batch:
    """The judgement lines of one chunk of articles, per file stem."""

    lines: dict[str, list[str]]
    judged: int = 0
    judgements: int = 0


def _timestamp(base: dt.datetime, seconds: int) -> str:
    return (base + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def annotate(rng: random.Random, vocab: Vocabulary, article: Article,
             topics: tuple[tuple[str, ...], ...], names: tuple[str, ...], batch: Batch,
             base: dt.datetime, unlabeled_share: float, label_fn: LabelFn | None) -> None:
    """Judgements of one article into `batch`: unjudged articles and paragraphs, noise."""
    skip_article = rng.random() < unlabeled_share / 2
    skip_paragraph = (unlabeled_share / 2) / (1 - unlabeled_share / 2)
    aid = article["article_id"]
    for para, truth in zip(article["paragraphs"], topics, strict=True):
        if skip_article or rng.random() < skip_paragraph:
            continue
        labels = tuple(label_fn(rng, truth)) if label_fn else truth
        votes = []
        for i, name in enumerate(names):
            if i and rng.random() < SKIP:
                continue
            votes.append(perturb(rng, vocab, labels))
            record: dict[str, object] = {
                "article_id": aid, "paragraph_index": para["index"],
                "paragraph_sha256": para["sha256"], "labels": votes[-1], "annotator": name,
                "created": _timestamp(base, batch.judgements * 7 + i)}
            if i % 2 == 1:
                record["confidence"] = rng.choice((0.5, 0.7, 0.9, 1.0))
            if rng.random() < 0.005:
                record["note"] = "hard call: the paragraph touches several topics"
            batch.lines.setdefault(name, []).append(json.dumps(record, ensure_ascii=False))
            batch.judgements += 1
        batch.judged += 1
        disagree = len({tuple(sorted(v)) for v in votes}) > 1
        if disagree and rng.random() < ADJUDICATE:
            record = {"article_id": aid, "paragraph_index": para["index"],
                      "paragraph_sha256": para["sha256"], "labels": list(labels),
                      "annotator": ADJUDICATOR, "role": "adjudicator",
                      "created": _timestamp(base + dt.timedelta(days=3), batch.judgements)}
            batch.lines.setdefault("adjudication", []).append(json.dumps(record))
            batch.judgements += 1


def random_labels(book: Codebook | None = None) -> LabelFn:
    """A label_fn ignoring the text: labels drawn like real ones, for a chance baseline."""
    vocab = vocabulary(book or codebook_module.load())

    def draw(rng: random.Random, truth: tuple[str, ...]) -> tuple[str, ...]:
        return draw_labels(rng, vocab, len(truth)) if truth else ()
    return draw


# -- the corpus ---------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedInfo:
    """What `generate` wrote."""

    articles: int
    paragraphs: int
    judged_paragraphs: int
    judgements: int
    article_ids: tuple[str, ...]
    files: tuple[str, ...]  # corpus-relative paths of sources and annotation files


def _write(path: Path, data: bytes) -> None:
    """A plain write: generated corpora are scratch data, not worth an fsync per file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def generate(corpus: Corpus, articles: int, seed: int = 0, *, unlabeled_share: float = 0.1,
             annotators: int = 2, label_fn: LabelFn | None = None,
             book: Codebook | None = None,
             on_progress: Callable[[int], None] | None = None) -> GeneratedInfo:
    """Write `articles` articles with sources and judgements into `corpus`.

    File names carry the seed, so corpora from different seeds can be
    generated into one folder (a corpus that grows).
    """
    if not 0 <= unlabeled_share < 1:
        raise ValueError("unlabeled_share must be in [0, 1)")
    if annotators < 1:
        raise ValueError("annotators must be at least 1")
    rng = random.Random(seed)
    vocab = vocabulary(book or codebook_module.load())
    names = annotator_names(annotators)
    ids: list[str] = []
    files: list[str] = []
    paragraphs = judged = judgements = 0
    for chunk, first in enumerate(range(0, articles, CHUNK_ARTICLES)):
        planned = [plan_article(rng, vocab, seed, n)
                   for n in range(first, min(articles, first + CHUNK_ARTICLES))]
        raw = "".join(json.dumps(raw_record(p.draft), ensure_ascii=False) + "\n"
                      for p in planned).encode("utf-8")
        rel = f"sources/{SOURCE_FOLDER}/s{seed}-{chunk:05d}.jsonl"
        _write(corpus.root / rel, raw)
        files.append(rel)
        digest = hashlib.sha256(raw).hexdigest()
        batch = Batch(lines={})
        base = dt.datetime(2025, 1, 1, 9, tzinfo=dt.timezone.utc) + dt.timedelta(days=chunk)
        for line, plan in enumerate(planned, start=1):
            article = make_article(plan.draft, Provenance(path=rel, sha256=digest,
                                                          format="jsonl", record=line))
            write_article(corpus, article, durable=False)
            ids.append(article["article_id"])
            paragraphs += len(article["paragraphs"])
            annotate(rng, vocab, article, plan.topics, names, batch, base, unlabeled_share,
                     label_fn)
        for stem, lines in batch.lines.items():
            name = f"annotations/synthetic-s{seed}-{chunk:05d}-{stem}.jsonl"
            _write(corpus.root / name, ("\n".join(lines) + "\n").encode("utf-8"))
            files.append(name)
        judged += batch.judged
        judgements += batch.judgements
        if on_progress is not None:
            on_progress(len(ids))
    return GeneratedInfo(len(ids), paragraphs, judged, judgements, tuple(ids), tuple(files))
