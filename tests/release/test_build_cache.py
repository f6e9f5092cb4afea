"""The build cache: unchanged shards are copied, and the release is the one a cold build writes.

Every test compares a build that used the cache with a build of the same
corpus from an empty cache (or none), byte for byte, and counts the shards
that were built rather than copied.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.release import read as release_read
from paratopics.release import shards as release_shards
from paratopics.release import tree as release_tree
from paratopics.release import verify as release_verify
from paratopics.release.build_cache import BuildCache, fingerprint
from paratopics.synthetic import generate
from paratopics.validate.cache import cache_dir

BOOK = codebook.load()


@pytest.fixture(autouse=True)
def _small_shards_own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Shards of about 4 articles, so that a small corpus has many of them, and
    caches (build and validation) that start empty in this test's folder."""
    monkeypatch.setattr(release_shards, "SEGMENT_ARTICLES", 4)
    monkeypatch.setattr(release_shards, "MAX_SEGMENT_ARTICLES", 12)
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cold_build(corpus: Corpus, version: str, where: Path) -> dict[str, str]:
    """The release `version` of a copy of `corpus`, built without any cache."""
    copy = Corpus(where)
    shutil.copytree(corpus.root, copy.root)
    shutil.rmtree(release_layout.release_dir(copy, version), ignore_errors=True)
    result = release_build.build(copy, version, BOOK, use_cache=False)
    assert result.reused == 0
    return digests(result.path)


def add_article(corpus: Corpus, folder: Path) -> str:
    record = {"source": "test", "title": "A council meets again", "url": "https://example.org/a",
              "published": "2024-06-01", "license": "CC0-1.0",
              "attribution": "Test, https://example.org/a",
              "paragraphs": ["The council met again on Monday.", "Talks went on late."]}
    path = folder / "one.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    report = ingest_files(corpus, [path])
    assert not report.problems
    return next(p.stem for p in corpus.article_files() if p.stem.startswith("a-council"))


@pytest.fixture
def generated(tmp_path: Path) -> Corpus:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 80, seed=61, annotators=2)
    return corpus


def test_adding_an_article_rebuilds_only_its_shards_and_equals_a_cold_build(
        generated: Corpus, tmp_path: Path) -> None:
    cache = BuildCache.open(cache_dir())
    first = release_tree.write_tree(tmp_path / "first", generated, BOOK, cache=cache)
    assert first.reused == 0 and first.shards >= 20
    again = release_tree.write_tree(tmp_path / "again", generated, BOOK, cache=cache)
    assert again.reused == again.shards  # nothing changed: every shard copied
    assert digests(tmp_path / "again") == digests(tmp_path / "first")

    add_article(generated, tmp_path)
    result = release_build.build(generated, "1.1.0", BOOK)
    # not judged: it joins one articles shard (unlabeled) and one paragraphs shard
    # (unlabeled); every other shard is copied
    assert 1 <= result.shards - result.reused <= 2
    assert digests(result.path) == cold_build(generated, "1.1.0", tmp_path / "cold")
    assert release_verify.verify(generated, "1.1.0", BOOK) == []


def test_a_changed_judgement_rebuilds_the_shards_of_its_article(
        generated: Corpus, tmp_path: Path) -> None:
    release_build.build(generated, "1.0.0", BOOK)
    path = generated.annotation_files()[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    other = next(code for code in BOOK.label_ids if code not in record["labels"]
                 and not BOOK.is_retired(code))
    record["labels"] = [other]
    lines[0] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = release_build.build(generated, "1.1.0", BOOK)
    # the article's shard in its split of each config, and its unlabeled paragraphs' shard
    assert 1 <= result.shards - result.reused <= 4
    assert result.reused > 0
    assert digests(result.path) == cold_build(generated, "1.1.0", tmp_path / "cold")
    assert release_read.diff(generated, "1.0.0", "1.1.0")["label_changes"]


@pytest.mark.parametrize("damage", ["parquet", "entry", "judgements"])
def test_a_damaged_cache_entry_is_rebuilt_not_trusted(
        generated: Corpus, tmp_path: Path, damage: str) -> None:
    cache = BuildCache.open(cache_dir())
    release_tree.write_tree(tmp_path / "first", generated, BOOK, cache=cache)
    assert cache.root is not None
    kind = {"parquet": "shards/*/*.parquet", "entry": "shards/*/*.json",
            "judgements": "judgements/*/*.arrow"}[damage]
    victims = sorted(cache.root.glob(kind))
    assert victims
    for path in victims:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    second = release_tree.write_tree(tmp_path / "second", generated, BOOK, cache=cache)
    if damage != "judgements":  # shards hold the same inputs: only the damaged are rebuilt
        assert second.reused < second.shards
    assert digests(tmp_path / "second") == digests(tmp_path / "first")
    third = release_tree.write_tree(tmp_path / "third", generated, BOOK, cache=cache)
    assert third.reused == third.shards  # the damaged entries were replaced
    assert digests(tmp_path / "third") == digests(tmp_path / "first")


def test_the_cache_is_named_by_the_code_and_lives_where_the_user_says(
        generated: Corpus, tmp_path: Path) -> None:
    env = {"PARATOPICS_CACHE": str(tmp_path / "chosen")}
    built = run_cli("build", "--corpus", generated.root, "--version", "1.0.0", env=env)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "chosen" / f"build-{fingerprint()}" / "shards").is_dir()
    add_article(generated, tmp_path)
    again = run_cli("build", "--corpus", generated.root, "--version", "1.1.0", env=env)
    assert again.returncode == 0, again.stderr
    assert "shards reused from the build cache" in again.stdout
    shutil.rmtree(tmp_path / "chosen")
    cold = run_cli("build", "--corpus", generated.root, "--version", "1.2.0", "--no-cache",
                   env=env)
    assert cold.returncode == 0, cold.stderr
    assert "reused" not in cold.stdout
    assert not (tmp_path / "chosen").exists()  # --no-cache reads and writes no cache
    one = digests(release_layout.release_dir(generated, "1.1.0"))
    two = digests(release_layout.release_dir(generated, "1.2.0"))
    assert {k: v for k, v in one.items() if k != "manifest.json"} == (
        {k: v for k, v in two.items() if k != "manifest.json"})


def test_a_changed_codebook_reuses_no_shard(generated: Corpus, tmp_path: Path) -> None:
    """Class names live in every file's schema metadata: a new node changes them all."""
    cache = BuildCache.open(cache_dir())
    release_tree.write_tree(tmp_path / "first", generated, BOOK, cache=cache)
    node = next(n for n in BOOK.nodes if n["id"] in BOOK.label_ids)
    renamed = codebook.Codebook(BOOK.version, (*BOOK.nodes, {
        **node, "id": "paratopics:test-extra", "name": "test extra"}), BOOK.credit)
    assert len(renamed.label_ids) == len(BOOK.label_ids) + 1
    second = release_tree.write_tree(tmp_path / "second", generated, renamed, cache=cache)
    assert second.reused == 0
    release_tree.write_tree(tmp_path / "cold", generated, renamed)
    assert digests(tmp_path / "second") == digests(tmp_path / "cold")
    assert digests(tmp_path / "second") != digests(tmp_path / "first")
