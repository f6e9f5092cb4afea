"""release.units: the build holds one unit's judgements at a time, keeps them on disk
in between, and leaves no spill file behind, built or failed."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from release_helpers import copy_corpus

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.release import shards as release_shards
from paratopics.release import tree as release_tree
from paratopics.release import units as release_units
from paratopics.release import verify as release_verify
from paratopics.release.rows import split_of
from paratopics.synthetic import generate

BOOK = codebook.load()


@pytest.fixture(autouse=True)
def _small_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many units from a small corpus, built a unit at a time in this process (where
    a test can watch them), and a cache of the test's own."""
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(release_tree, "ONE_PASS_ARTICLES", 0)
    monkeypatch.setattr(release_tree.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(release_shards, "SEGMENT_ARTICLES", 4)
    monkeypatch.setattr(release_shards, "MAX_SEGMENT_ARTICLES", 6)


def judgements_of(corpus: Corpus) -> list[dict[str, Any]]:
    return [json.loads(line) for path in corpus.annotation_files()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def spill_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if release_units.SPILL in p.parts]


def test_each_unit_is_handed_only_its_own_articles_judgements(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 40, seed=51)
    calls: list[tuple[str, set[str], set[str], int]] = []
    real = release_tree.build_shards

    def watched(folder: Path, corpus_: Corpus, book: codebook.Codebook,
                schemas: Mapping[str, pa.Schema], missing: list[release_shards.Shard],
                tables: list[pa.Table], *rest: Any, **named: Any) -> Any:
        held = {aid for t in tables for aid in t.column("article_id").to_pylist()}
        calls.append((missing[0].split, set(missing[0].article_ids), held,
                      sum(t.num_rows for t in tables)))
        return real(folder, corpus_, book, schemas, missing, tables, *rest, **named)

    monkeypatch.setattr(release_tree, "build_shards", watched)
    release_build.build(corpus, "1.0.0", BOOK)

    judgements = judgements_of(corpus)
    judged = {j["article_id"] for j in judgements}
    home = [call for call in calls if call[0] != "unlabeled"]
    assert len(home) >= 5
    for _, articles, held, _ in calls:
        assert held <= articles  # never another unit's judgements
    # every judgement reaches the one unit of its article's home split, once
    assert sum(rows for *_, rows in home) == len(judgements)
    assert max(rows for *_, rows in calls) < len(judgements) / 2
    for split, articles, held, _ in home:
        assert held == articles & judged
        assert {split_of(aid) for aid in articles} == {split}
    assert release_verify.verify(corpus, "1.0.0", BOOK) == []
    annotations = release_layout.release_dir(corpus, "1.0.0") / "annotations"
    assert sum(pq.read_metadata(p).num_rows for p in annotations.glob("*.parquet")) == len(
        judgements)
    assert spill_files(corpus.root) == []


def test_a_build_that_fails_in_a_unit_leaves_no_spill_and_no_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 30, seed=52)
    real = release_tree.build_shards
    calls = []

    def fails_second(*args: Any, **named: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **named)

    monkeypatch.setattr(release_tree, "build_shards", fails_second)
    with pytest.raises(OSError, match="No space left"):
        release_build.build(corpus, "1.0.0", BOOK)
    assert spill_files(corpus.root) == []
    assert not release_layout.release_dir(corpus, "1.0.0").exists()
    assert [p.name for p in (corpus.root / "releases").iterdir()
            if p.name.startswith(".tmp")] == []

    monkeypatch.setattr(release_tree, "build_shards", real)
    release_build.build(corpus, "1.0.0", BOOK)
    assert release_verify.verify(corpus, "1.0.0", BOOK) == []


def test_read_spill_gives_back_the_tables_in_order_and_only_when_asked(tmp_path: Path) -> None:
    spill = release_units.ReadSpill(tmp_path / "spill")
    tables = [pa.table({"article_id": [f"a{i}", f"b{i}"], "n": [i, -i]}) for i in range(3)]
    tables.append(pa.table({"article_id": pa.array([], pa.string()),
                            "n": pa.array([], pa.int64())}))
    for table in tables:
        spill.add(table)
    assert len(list((tmp_path / "spill").iterdir())) == 4
    back = spill.tables()
    first = next(back)
    assert first.equals(tables[0])
    (tmp_path / "spill" / "read-00003.arrow").unlink()  # not yet read: the reader is lazy
    assert [t.equals(e) for e, t in zip(tables[1:3], back, strict=False)] == [True, True]


def test_units_written_by_worker_processes_have_the_bytes_of_one_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Corpus(tmp_path / "source")
    generate(source, 40, seed=53)
    pools: list[int | None] = []

    class Recorded(ProcessPoolExecutor):  # the real pool, its size noted
        def __init__(self, *args: Any, **named: Any) -> None:
            pools.append(named.get("max_workers"))
            super().__init__(*args, **named)

    monkeypatch.setattr(release_tree, "ProcessPoolExecutor", Recorded)
    releases = {}
    for name, one_pass, cores in (("one pass", 10**9, 2), ("units", 0, 1), ("workers", 0, 2)):
        corpus = copy_corpus(source, tmp_path / name)
        monkeypatch.setattr(release_tree, "ONE_PASS_ARTICLES", one_pass)
        monkeypatch.setattr(release_tree.os, "cpu_count", lambda cores=cores: cores)
        before = set(multiprocessing.active_children())
        release_build.build(corpus, "1.0.0", BOOK, use_cache=False)
        folder = release_layout.release_dir(corpus, "1.0.0")
        releases[name] = {p.relative_to(folder).as_posix(): p.read_bytes()
                          for p in sorted(folder.rglob("*")) if p.is_file()}
        assert set(multiprocessing.active_children()) <= before  # the workers are gone
        assert spill_files(corpus.root) == []
    assert pools == [2]  # the third build only, in two workers
    assert len(releases["one pass"]) > 10
    assert releases["units"] == releases["one pass"]
    assert releases["workers"] == releases["one pass"]
