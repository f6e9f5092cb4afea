"""Both cores and the cache: --jobs and a warm cache never change a result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from paratopics import codebook as codebook_module
from paratopics import synthetic
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.validate.core import validate_corpus


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """2,100 articles: enough for validate to split the work over processes."""
    corpus = Corpus(tmp_path_factory.mktemp("parallel") / "corpus")
    synthetic.generate(corpus, 2100, seed=21, annotators=1)
    return corpus


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_ingest_with_two_jobs_writes_the_same_bytes(generated: Corpus, tmp_path: Path) -> None:
    sources = sorted((generated.root / "sources").rglob("*.jsonl"))
    assert len(sources) >= 3
    one, two = Corpus(tmp_path / "one"), Corpus(tmp_path / "two")
    report_one = ingest_files(one, sources, jobs=1)
    report_two = ingest_files(two, sources, jobs=2)
    assert not report_one.problems and not report_two.problems
    assert report_one.changes == report_two.changes
    assert tree(one.root) == tree(two.root)
    assert len(one.article_files()) == 2100


def _corrupt(corpus: Corpus, tmp_path: Path) -> Corpus:
    """A copy of `corpus` with one hand-edited record and one bad judgement."""
    import shutil

    copy = Corpus(tmp_path / "corpus")
    shutil.copytree(corpus.root, copy.root)
    path = copy.article_files()[1500]
    record = json.loads(path.read_text())
    text = record["paragraphs"][0]["text"]
    record["paragraphs"][0]["text"] = text[0].swapcase() + text[1:]  # same length: offsets hold
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    annotations = copy.annotation_files()[0]
    lines = annotations.read_text().splitlines()
    bad = json.loads(lines[3])
    bad["labels"] = ["medtop:99999999"]
    lines[3] = json.dumps(bad)
    annotations.write_text("\n".join(lines) + "\n")
    return copy


def test_validate_reports_the_same_with_any_jobs_and_cache(generated: Corpus, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    corpus = _corrupt(generated, tmp_path)
    cold = validate_corpus(corpus, jobs=1, use_cache=False)
    codes = sorted(p.code for p in cold.problems)
    assert codes == ["paragraph-hash", "unknown-label"], codes
    assert validate_corpus(corpus, jobs=2).problems == cold.problems  # fills the cache
    assert list((tmp_path / "cache").glob("valid-articles-*.txt"))
    warm = validate_corpus(corpus, jobs=2)
    assert warm.problems == cold.problems
    # the cache is keyed by content: a record edited after it was cached is caught
    other = corpus.article_files()[10]
    record = json.loads(other.read_text())
    record["paragraphs"][0]["sha256"] = "0" * 64
    other.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    again = [p.code for p in validate_corpus(corpus, jobs=1).problems]
    assert again.count("paragraph-hash") == 2 and "unknown-label" in again
    # judgements of the paragraph whose stored hash changed are now stale, nothing else
    assert set(again) <= {"paragraph-hash", "unknown-label", "stale-annotation"}


def test_an_engines_tasks_report_as_the_pool_and_no_state_stays_here(
        generated: Corpus, tmp_path: Path) -> None:
    """Article chunks and runs of annotation files run as an engine's tasks (here a
    plain map that runs them in this very process, its arguments pickled as an
    engine sends them) report what the pool reports; neither leaves a worker's
    state in the command's process, where a later run could pick it up."""
    import pickle

    from paratopics import workers

    corpus = _corrupt(generated, tmp_path)
    mapped_items: dict[str, list[int]] = {}

    def in_process(func: Any, items: list[list[str]], *shared: object) -> Iterator[Any]:
        mapped_items.setdefault(func.__name__, []).extend(len(item) for item in items)
        sent = pickle.loads(pickle.dumps(shared))
        return (func(*sent, item) for item in items)

    pooled = validate_corpus(corpus, jobs=2, use_cache=False)
    mapped = validate_corpus(corpus, jobs=2, use_cache=False, mapper=in_process)
    assert sorted(p.code for p in pooled.problems) == ["paragraph-hash", "unknown-label"]
    assert mapped.problems == pooled.problems
    assert mapped.records_parsed == pooled.records_parsed == 2100
    chunks, groups = mapped_items["check_chunk_alone"], mapped_items["check_group_alone"]
    assert sum(chunks) == 2100 and len(chunks) > 1
    assert sum(groups) == len(corpus.annotation_files()) and len(groups) > 1
    assert workers._TASK == []


def test_cli_jobs_flag_and_no_cache(generated: Corpus, tmp_path: Path) -> None:
    env = {"PARATOPICS_CACHE": str(tmp_path / "cache")}
    first = run_cli("validate", "--corpus", generated.root, "--jobs", "2", env=env)
    second = run_cli("validate", "--corpus", generated.root, "--jobs", "1", "--no-cache",
                     env=env)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout == ""
    assert "2100 article(s)" in first.stderr and "2100 article(s)" in second.stderr
    bad = run_cli("validate", "--corpus", generated.root, "--jobs", "0")
    assert bad.returncode == 2


# -- annotation files in forked workers ------------------------------------------------


@pytest.fixture
def flawed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Corpus:
    """300 articles, six annotation files with problems of several kinds, and workers
    forked for annotation files of any size."""
    from paratopics.validate import annotations as validate

    monkeypatch.setattr(validate, "PARALLEL_ANNOTATION_BYTES", 0)
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "cache"))
    corpus = Corpus(tmp_path / "corpus")
    synthetic.generate(corpus, 150, seed=1)
    synthetic.generate(corpus, 150, seed=2)
    files = corpus.annotation_files()
    assert len(files) == 6
    lines = files[1].read_text().splitlines()
    bad = json.loads(lines[3])
    bad["labels"] = ["medtop:99999999"]
    stale = json.loads(lines[4])
    stale["paragraph_sha256"] = "0" * 64
    lines[3:5] = [json.dumps(bad), json.dumps(stale), "{not json", lines[6]]  # a repeat in-file
    files[1].write_text("\n".join(lines) + "\n")
    with files[4].open("a") as handle:  # problems in two files: their order matters
        handle.write("[]\n")
    return corpus


def report(corpus: Corpus, **options: object) -> tuple[object, ...]:
    summary = validate_corpus(corpus, **options)  # type: ignore[arg-type]
    return (summary.problems, summary.errors, summary.suppressed, summary.annotation_files,
            summary.annotation_lines)


def test_annotation_files_in_workers_report_as_one_process(flawed: Corpus) -> None:
    serial = report(flawed, jobs=1, use_cache=False)
    codes = sorted(p.code for p in serial[0])  # type: ignore[attr-defined]
    assert codes == ["duplicate-judgement", "json-syntax", "schema", "stale-annotation",
                     "unknown-label"], codes
    assert report(flawed, jobs=2, use_cache=False) == serial
    assert report(flawed, jobs=2) == serial  # fills the cache from the workers
    assert report(flawed, jobs=2) == serial  # five files vouched, one read in a worker
    assert report(flawed, jobs=1) == serial


def test_a_judgement_repeated_in_another_workers_files_is_found(flawed: Corpus) -> None:
    """The first judgement and its repeat are checked in different workers: the run
    is done again in one process, so that the repeat names the first place."""
    from paratopics.validate.annotations import _check_forked
    from paratopics.validate.articles import check_articles
    from paratopics.validate.cache import AnnotationCache
    from paratopics.validate.index import ArticleIndex
    from paratopics.validate.schema import Checker

    files = flawed.annotation_files()
    checker = Checker(codebook_module.load())
    index = ArticleIndex(history=flawed.history)
    list(check_articles(flawed, flawed.article_files(), checker, index))
    groups = _check_forked(flawed, files, checker, index, False, False, 2, None)
    assert groups is not None and len(groups) > 1  # the first and last file apart
    first = files[0].read_text().splitlines()[0]
    with files[-1].open("a") as handle:
        handle.write(first + "\n")
    assert _check_forked(flawed, files, checker, index, False, False, 2, None) is None
    serial = report(flawed, jobs=1, use_cache=False)
    repeats = [p for p in serial[0] if p.code == "duplicate-judgement"]  # type: ignore[attr-defined]
    assert any(files[0].name in p.message for p in repeats), repeats
    assert report(flawed, jobs=2, use_cache=False) == serial
    assert AnnotationCache().path is None  # nothing above wrote a cache of its own


def fresh_interpreter_per_task(func: Any, items: list[Any], *shared: object) -> Iterator[Any]:
    """An engine's map in miniature: each task in a new interpreter, as on a node of
    a cluster, whose string hashes are seeded apart from this process's."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                             max_tasks_per_child=1) as pool:
        yield from pool.map(func, *zip(*[(*shared, item) for item in items], strict=True))


def test_a_judgement_repeated_in_another_tasks_files_is_found(flawed: Corpus) -> None:
    """Runs of annotation files checked as an engine's tasks, each in its own
    interpreter: the judgements two runs share are found by a digest every process
    computes alike, and the report is the one process's, repeat included."""
    files = flawed.annotation_files()
    serial = report(flawed, jobs=1, use_cache=False)
    assert report(flawed, use_cache=False, mapper=fresh_interpreter_per_task) == serial
    first = files[0].read_text().splitlines()[0]
    with files[-1].open("a") as handle:  # the first judgement again, in the last run
        handle.write(first + "\n")
    serial = report(flawed, jobs=1, use_cache=False)
    repeats = [p for p in serial[0] if p.code == "duplicate-judgement"]  # type: ignore[attr-defined]
    assert any(files[0].name in p.message for p in repeats), repeats
    assert report(flawed, use_cache=False, mapper=fresh_interpreter_per_task) == serial
