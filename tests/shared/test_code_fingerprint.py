"""Both caches are keyed by every module of the package, every schema file and the
libraries their contents depend on.

A hand-kept list of file names once let the build cache serve shards built by
old code after a function moved to a module not on the list. Here a copy of
the package stands in for the installed one, a function changes in a module
that neither cache ever listed by name, and both caches must start afresh.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import pytest

from paratopics import codebook
from paratopics import fingerprint as fingerprint_module
from paratopics.corpus.store import Corpus
from paratopics.release import tree as release_tree
from paratopics.release.build_cache import BuildCache, fingerprint
from paratopics.synthetic import generate
from paratopics.validate.cache import cache_dir, cache_fingerprint
from paratopics.validate.core import validate_corpus

BOOK = codebook.load()


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package that the fingerprint walks instead of the real one."""
    copy = tmp_path / "package"
    shutil.copytree(fingerprint_module.package_root(), copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint_module, "package_root", lambda: copy)
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    return copy


def change_a_function(module: Path) -> None:
    """Append a function to a module: any byte of any module must count."""
    with module.open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef _changed() -> int:\n    return 1\n")


def test_the_copy_fingerprints_as_the_package(package_copy: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    build, valid = fingerprint(), cache_fingerprint()
    monkeypatch.undo()
    assert (fingerprint(), cache_fingerprint()) == (build, valid)
    assert build != valid  # the libraries they name differ


@pytest.mark.parametrize("module", ["release/layout.py", "report.py"])
def test_a_change_to_any_module_starts_both_caches_afresh(
        package_copy: Path, tmp_path: Path, module: str) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 12, seed=5, annotators=2)

    first = validate_corpus(corpus)
    assert first.errors == 0 and first.records_parsed == first.articles > 0
    again = validate_corpus(corpus)
    assert again.records_parsed == 0  # every record came from the cache
    built = release_tree.write_tree(tmp_path / "first", corpus, BOOK,
                               cache=BuildCache.open(cache_dir()))
    assert built.reused == 0 and built.shards > 0
    rebuilt = release_tree.write_tree(tmp_path / "again", corpus, BOOK,
                                 cache=BuildCache.open(cache_dir()))
    assert rebuilt.reused == rebuilt.shards

    old = fingerprint(), cache_fingerprint()
    change_a_function(package_copy / module)
    assert fingerprint() != old[0] and cache_fingerprint() != old[1]

    fresh = validate_corpus(corpus)
    assert fresh.records_parsed == fresh.articles  # no record trusted from the old cache
    after = release_tree.write_tree(tmp_path / "after", corpus, BOOK,
                               cache=BuildCache.open(cache_dir()))
    assert after.reused == 0 and after.shards == built.shards


def test_a_changed_schema_file_changes_both_fingerprints(
        package_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schemas = tmp_path / "schema"
    shutil.copytree(codebook.schema_dir(), schemas)
    monkeypatch.setattr(fingerprint_module, "schema_dir", lambda: schemas)
    old = fingerprint(), cache_fingerprint()
    path = schemas / "manifest.schema.json"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert fingerprint() != old[0] and cache_fingerprint() != old[1]


#: (library, starts the build cache afresh, starts the validation cache afresh)
UPGRADES = [
    ("pyarrow", True, False),  # writes the Parquet bytes
    ("datasets", True, False),  # writes each shard's schema metadata
    ("orjson", True, True),  # reads every record
    ("jsonschema-rs", False, True),  # decides which records pass (the fast path)
    ("jsonschema", False, True),  # the reference, and the messages
    ("ftfy", False, True),  # the text checks
    ("numpy", False, False),
]


@pytest.mark.parametrize("library,build,validation", UPGRADES)
def test_a_new_version_of_a_library_the_caches_depend_on_starts_them_afresh(
        monkeypatch: pytest.MonkeyPatch, library: str, build: bool, validation: bool) -> None:
    """An upgrade of a library that made a cache's contents must not be served what
    the old version made; one that did not leaves the cache in use."""
    old = fingerprint(), cache_fingerprint()
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: real(name) + ".1" if name == library else real(name))
    new = fingerprint(), cache_fingerprint()
    assert [new[0] != old[0], new[1] != old[1]] == [build, validation]
