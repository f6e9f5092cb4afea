"""The article checks' shortcuts change speed only: the same records pass, the same
problems are reported, word for word.

`paratopics build` validates every article first; at a million paragraphs
jsonschema, re-hashing shared sources and resolving paths took most of the
time. The shortcuts (a compiled schema check, one hash per source file per run,
folders resolved once, texts re-read on demand) are checked here against the
slow paths they replace, on generated articles and on many broken variants.
"""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.synthetic import generate
from paratopics.validate.articles import _display_in, article_problems, source_problems
from paratopics.validate.core import validate_corpus
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker
from paratopics.validate.summary import display_path

BOOK = codebook.load()
CHECKER = Checker(BOOK)
SLOW = Checker(BOOK)
SLOW.article_valid = lambda record: False  # always ask jsonschema, as before


@pytest.fixture(autouse=True)
def _private_validation_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation starts cold and leaves nothing in the user's cache."""
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "validation-cache"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    made = Corpus(tmp_path_factory.mktemp("fast") / "corpus")
    generate(made, 30, seed=91)
    return made


def records(corpus: Corpus) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in corpus.article_files()]


BAD_VALUES: list[object] = [None, 0, -1, 1.5, 3.0, True, "", " x", "x ", "a\nb", "x\n", [],
                            {}, ["x"], "2021-02-30", "not a url", "A" * 90, "ab-0123456789",
                            "0" * 64, "Z" * 64, "jsonl", "en-us"]


def mutate(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy with one thing broken (or, sometimes, harmlessly changed)."""
    out = copy.deepcopy(record)
    target: Any = out
    roll = rng.random()
    paragraphs = out.get("paragraphs")
    if roll < 0.3 and isinstance(paragraphs, list) and paragraphs:
        target = rng.choice(paragraphs)
    elif roll < 0.45:
        target = out.get("ingested_from")
    if not isinstance(target, dict) or not target:
        target = out
    key = rng.choice(sorted(target))
    action = rng.random()
    if action < 0.15:
        del target[key]
    elif action < 0.25:
        target[rng.choice(["extra", "Title", "index2"])] = "x"
    elif action < 0.3 and isinstance(target.get("paragraphs"), list):
        target["paragraphs"] = []
    else:
        target[key] = rng.choice(BAD_VALUES)
    return out


def mutants(corpus: Corpus, count: int = 600) -> list[Any]:
    rng = random.Random(7)
    base = records(corpus)
    out: list[Any] = [None, [], "text", 3]
    out += [mutate(rng.choice(base), rng) for _ in range(count)]
    out += [mutate(mutate(rng.choice(base), rng), rng) for _ in range(count // 3)]
    return out


def test_generated_articles_take_the_fast_path(corpus: Corpus) -> None:
    for record in records(corpus):
        assert CHECKER.article_valid(record)
        assert CHECKER.article_schema.is_valid(record)


def test_fast_yes_only_for_what_jsonschema_accepts(corpus: Corpus) -> None:
    said_no = 0
    for record in mutants(corpus):
        if CHECKER.article_valid(record):
            assert CHECKER.article_schema.is_valid(record), record
        else:
            said_no += 1
    assert said_no > 400  # the mutants really are broken, mostly


def test_problems_are_word_for_word_those_of_the_slow_path(corpus: Corpus) -> None:
    for i, record in enumerate(mutants(corpus)):
        expected = article_problems(record, f"f{i}.json", SLOW, expected_id="x-0123456789")
        assert article_problems(record, f"f{i}.json", CHECKER,
                                expected_id="x-0123456789") == expected


def test_one_hash_per_source_reports_every_article_of_a_changed_source(
        tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 12, seed=93)
    arts = [(p, json.loads(p.read_text())) for p in corpus.article_files()]
    source = corpus.root / arts[0][1]["ingested_from"]["path"]
    source.write_bytes(source.read_bytes() + b"\n")
    states: dict[str, str] = {}
    for path, art in arts:
        file = str(path)
        assert source_problems(art, corpus, file, states) == source_problems(art, corpus, file)
        assert [p.code for p in source_problems(art, corpus, file, states)] == ["source-missing"]
    assert list(states) == [arts[0][1]["ingested_from"]["path"]]
    source.unlink()
    found = validate_corpus(corpus, codebook=BOOK).problems
    assert sorted(p.file for p in found if p.code == "source-missing") == sorted(
        display_path(p) for p, _ in arts)
    assert all("is missing" in p.message for p in found if p.code == "source-missing")


def test_texts_are_read_again_only_when_asked_for(corpus: Corpus) -> None:
    path = corpus.article_files()[0]
    article = json.loads(path.read_text())
    lazy, eager = ArticleIndex(), ArticleIndex()
    lazy.add(article, path)
    eager.add(article)
    aid = article["article_id"]
    assert aid not in lazy.texts and lazy.hashes == eager.hashes
    assert lazy.texts[aid] == eager.texts[aid] == [p["text"] for p in article["paragraphs"]]
    with pytest.raises(KeyError):
        lazy.texts["no-such-article-0123456789"]


def test_folders_resolved_once_give_the_same_names(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.json").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.json").symlink_to(tmp_path / "real" / "a.json")
    paths = [tmp_path / "real" / "a.json", tmp_path / "link" / "a.json",
             tmp_path / "real" / "b.json", Path("real/a.json"), Path("link/../real/a.json"),
             Path("/etc/hostname")]
    for cwd in (tmp_path, tmp_path / "real", Path("/")):
        monkeypatch.chdir(cwd)
        folders: dict[Path, str] = {}
        for path in paths:
            assert _display_in(path, folders) == display_path(path), (cwd, path)
    assert os.path.islink(tmp_path / "link")
