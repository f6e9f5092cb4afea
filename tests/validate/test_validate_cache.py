"""The validation caches: a warm run reports exactly what a cold one does, with less work.

Every test fills the cache with a first run, changes the corpus (or the
cache), then compares a run with the cache to one with `use_cache=False` /
`--no-cache`: problems in order, error count and the counts printed. The
work counters (`records_parsed`, `lines_checked`) show what the cache spared.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from paratopics import codebook as codebook_module
from paratopics import synthetic
from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.ingest.normalize import sha256_text
from paratopics.validate.core import validate_corpus
from paratopics.validate.index import CHANGED, ArticleIndex, hash_list_digest
from paratopics.validate.summary import Summary

BOOK = codebook_module.load()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """300 articles from two seeds: two sources, six annotation files."""
    corpus = Corpus(tmp_path_factory.mktemp("cache-base") / "corpus")
    synthetic.generate(corpus, 150, seed=1)
    synthetic.generate(corpus, 150, seed=2)
    return corpus


@pytest.fixture
def corpus(base: Corpus, tmp_path: Path) -> Corpus:
    copy = Corpus(tmp_path / "corpus")
    shutil.copytree(base.root, copy.root)
    return copy


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PARATOPICS_CACHE", str(folder))
    return folder


def report(summary: Summary) -> tuple[Any, ...]:
    """All that the user sees of a run."""
    return (summary.problems, summary.errors, summary.articles, summary.annotation_files,
            summary.annotation_lines)


def same_warm_and_cold(corpus: Corpus, **options: Any) -> tuple[Summary, Summary]:
    """A run with the cache and one without; their reports must be equal."""
    warm = validate_corpus(corpus, **options)
    cold = validate_corpus(corpus, use_cache=False, **options)
    assert report(warm) == report(cold)
    return warm, cold


def judged_in(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_a_warm_run_reads_nothing_again_and_reports_the_same(corpus: Corpus,
                                                             cache: Path) -> None:
    cold = validate_corpus(corpus, use_cache=False)
    assert cold.problems == [] and cold.articles == 300 and cold.annotation_files == 6
    assert cold.records_parsed == 300 and cold.lines_checked == cold.annotation_lines > 0
    assert not cache.exists()  # use_cache=False neither reads nor writes it
    first = validate_corpus(corpus)
    assert report(first) == report(cold) and first.records_parsed == 300
    assert sorted(p.name.rsplit("-", 1)[0] for p in cache.iterdir()) == [
        "valid-annotations", "valid-articles"]
    warm, _ = same_warm_and_cold(corpus)
    assert warm.records_parsed == 0 and warm.lines_checked == 0


def test_an_added_article_is_the_only_record_parsed(corpus: Corpus, cache: Path,
                                                    tmp_path: Path) -> None:
    validate_corpus(corpus)
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({
        "source": "test-incremental", "title": "One more article",
        "url": "https://test.example/x", "published": "2024-06-01",
        "license": "CC0-1.0", "attribution": "Test, https://test.example/x",
        "paragraphs": ["Paragraph one of the added article.", "Paragraph two."]}) + "\n")
    assert not ingest_files(corpus, [one]).problems
    warm, cold = same_warm_and_cold(corpus)
    assert cold.articles == 301 and not cold.problems
    assert warm.records_parsed == 1 and warm.lines_checked == 0


def test_stale_judgements_of_an_edited_article_are_reported(corpus: Corpus,
                                                            cache: Path) -> None:
    validate_corpus(corpus)
    files = corpus.annotation_files()
    judgement = judged_in(files[0])[0]
    path = corpus.articles / f"{judgement['article_id']}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    para = record["paragraphs"][judgement["paragraph_index"]]
    para["text"] = para["text"][0].swapcase() + para["text"][1:]  # same length: offsets hold
    para["sha256"] = sha256_text(para["text"])  # a valid record, judged on an older text
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    warm, cold = same_warm_and_cold(corpus)
    stale = [p for p in cold.problems if p.code == "stale-annotation"]
    assert stale and {p.code for p in cold.problems} == {"stale-annotation"}
    # only the files judging that article are read again, and only that record parsed
    again = [f for f in files if any(j["article_id"] == judgement["article_id"]
                                     for j in judged_in(f))]
    assert 0 < len(again) < len(files)
    assert warm.records_parsed == 1
    assert warm.lines_checked == sum(len(judged_in(f)) for f in again)
    # stale files are not cached: the next run checks them again, and says the same
    assert report(validate_corpus(corpus)) == report(cold)


def test_a_changed_or_missing_source_of_a_cached_record_is_found(corpus: Corpus,
                                                                cache: Path) -> None:
    validate_corpus(corpus)
    first, second = sorted(corpus.sources.rglob("*.jsonl"))
    first.write_bytes(first.read_bytes() + b"\n")
    second.unlink()
    warm, cold = same_warm_and_cold(corpus)
    assert [p.code for p in cold.problems] == ["source-missing"] * 300
    assert {p.message.split()[-1] for p in cold.problems} == {"ingest", "missing"}
    assert warm.records_parsed == 0


@pytest.mark.parametrize("name", ["aa-extra.jsonl", "zz-extra.jsonl"])
def test_a_judgement_repeated_in_another_file_is_found(corpus: Corpus, cache: Path,
                                                       name: str) -> None:
    validate_corpus(corpus)
    cached = corpus.annotation_files()[2]
    write_lines(corpus.annotations / name, [judged_in(cached)[5]])
    warm, cold = same_warm_and_cold(corpus)
    duplicates = [p for p in cold.problems if p.code == "duplicate-judgement"]
    # the later of the two lines is the duplicate: the new file's, or the cached file's
    expected = cached.name if name.startswith("aa") else name
    assert [Path(p.file).name for p in duplicates] == [expected]
    assert warm.lines_checked == cold.lines_checked  # every file was checked again


def test_a_file_repeating_a_cached_one_whole_is_found(corpus: Corpus, cache: Path) -> None:
    validate_corpus(corpus)
    cached = corpus.annotation_files()[0]
    shutil.copy(cached, corpus.annotations / "zz-copy.jsonl")
    for _ in range(2):
        warm, cold = same_warm_and_cold(corpus)
        assert {p.code for p in cold.problems} == {"duplicate-judgement"}
        assert warm.lines_checked == cold.lines_checked
    # without the original, the copy has no problem (and was found to have none alone)
    cached.unlink()
    same_warm_and_cold(corpus)


def test_an_unknown_label_in_a_cached_file_is_found(corpus: Corpus, cache: Path) -> None:
    validate_corpus(corpus)
    path = corpus.annotation_files()[1]
    records = judged_in(path)
    records[3]["labels"] = ["medtop:99999999"]
    write_lines(path, records)
    warm, cold = same_warm_and_cold(corpus)
    assert [(p.code, p.line) for p in cold.problems] == [("unknown-label", 4)]
    assert warm.lines_checked == len(records)


def _without(book: Codebook, label: str) -> Codebook:
    data = codebook_module.load_json_resource("codebook.json")
    data["nodes"] = [n for n in data["nodes"] if n["id"] != label]  # type: ignore[union-attr]
    smaller = codebook_module.from_dict(data)
    assert label not in smaller and len(smaller.nodes) == len(book.nodes) - 1
    return smaller


def test_a_label_the_codebook_no_longer_has_is_found(corpus: Corpus, cache: Path) -> None:
    validate_corpus(corpus, codebook=BOOK)
    used = {label for f in corpus.annotation_files() for j in judged_in(f)
            for label in j["labels"]}
    # a leaf: no other node names it, so the smaller codebook is still a sound tree
    named = {n.get(k) for n in BOOK.nodes for k in ("parent", "replaced_by")}
    label = sorted(used - named)[0]
    smaller = _without(BOOK, label)
    warm, cold = same_warm_and_cold(corpus, codebook=smaller)
    assert "unknown-label" in {p.code for p in cold.problems}
    assert all(label in p.message for p in cold.problems if p.code == "unknown-label")
    assert warm.lines_checked == cold.lines_checked
    # the full codebook again: the files passed with it, nothing is read again
    back, _ = same_warm_and_cold(corpus, codebook=BOOK)
    assert back.problems == [] and back.lines_checked == 0


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    head, _, body = data.partition(b"\n")
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "a byte changed":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "not text":
        path.write_bytes(bytes(range(256)) * 100)
    elif how == "a folder":
        path.unlink()
        path.mkdir()
    else:  # rows of the wrong shape, or not UTF-8, under a checksum that matches
        body = b"abc\tdef\n" if how == "wrong rows" else b"\xff\xfe\tx\n"
        import hashlib

        path.write_bytes(head.split(b"\t")[0] + b"\t"
                         + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


@pytest.mark.parametrize("how", ["truncated", "a byte changed", "empty", "not text",
                                 "a folder", "wrong rows", "not utf-8"])
def test_a_damaged_cache_changes_nothing(corpus: Corpus, cache: Path, how: str) -> None:
    # a problem in the corpus, so that there is a report to compare
    path = corpus.annotation_files()[1]
    records = judged_in(path)
    records[0]["labels"] = ["medtop:99999999"]
    write_lines(path, records)
    validate_corpus(corpus)
    for file in cache.iterdir():
        _damage(file, how)
    warm, cold = same_warm_and_cold(corpus)
    assert [p.code for p in cold.problems] == ["unknown-label"]
    assert warm.records_parsed == 300  # the damaged cache was not trusted in part
    if how != "a folder":  # rewritten, and trusted again
        again = validate_corpus(corpus)
        assert report(again) == report(cold) and again.records_parsed == 0


@pytest.mark.parametrize("field", [2, 6], ids=["count not a number", "one field more"])
def test_a_cache_line_of_another_shape_costs_only_its_record(corpus: Corpus, cache: Path,
                                                             field: int) -> None:
    """Under a checksum that matches, a line that is not an entry is not trusted: its
    record is checked as if it were not cached, the other lines still spare theirs,
    and the next run writes the entry right."""
    validate_corpus(corpus)
    path = next(cache.glob("valid-articles-*"))
    head, _, body = path.read_bytes().partition(b"\n")
    lines = body.split(b"\n")[:-1]
    fields = lines[7].split(b"\t")
    if field < len(fields):
        fields[field] = b"ten"
    else:
        fields.append(b"extra")
    lines[7] = b"\t".join(fields)
    body = b"".join(line + b"\n" for line in lines)
    path.write_bytes(head.split(b"\t")[0] + b"\t"
                     + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    warm, _ = same_warm_and_cold(corpus)
    assert warm.records_parsed == 1
    assert validate_corpus(corpus).records_parsed == 0


def test_a_partial_run_reports_the_same(corpus: Corpus, cache: Path) -> None:
    validate_corpus(corpus)
    files = corpus.annotation_files()
    records = judged_in(files[4])
    records[1]["labels"] = ["medtop:99999999"]
    write_lines(files[4], records)
    paths = [corpus.article_files()[7], files[4], files[0]]
    warm, cold = same_warm_and_cold(corpus, paths=paths)
    assert [p.code for p in cold.problems] == ["unknown-label"]
    assert warm.articles == 1 and warm.annotation_files == 2
    assert warm.lines_checked == len(records)


def _entries(cache: Path) -> dict[str, int]:
    """Rows per cache file, by kind."""
    return {f.name.rsplit("-", 1)[0]: len(f.read_bytes().splitlines()) - 1
            for f in cache.iterdir()}


def test_whole_runs_keep_the_cache_to_the_files_of_the_corpus(corpus: Corpus,
                                                              cache: Path) -> None:
    validate_corpus(corpus)
    assert _entries(cache) == {"valid-articles": 300, "valid-annotations": 6}
    path, article = corpus.annotation_files()[0], corpus.article_files()[0]
    records = judged_in(path)
    for n in range(3):  # each edit makes a new entry; the old one is of no more use
        write_lines(path, records[: -1 - n])
        data = json.loads(article.read_text(encoding="utf-8"))
        data["title"] = f"Edition {n}"
        article.write_text(json.dumps(data, indent=2) + "\n")
        # a partial run only adds
        assert validate_corpus(corpus, paths=[article, path]).problems == []
        assert _entries(cache) == {"valid-articles": 301, "valid-annotations": 7}
        assert validate_corpus(corpus).problems == []
        assert _entries(cache) == {"valid-articles": 300, "valid-annotations": 6}
    warm, _ = same_warm_and_cold(corpus)
    assert warm.records_parsed == 0 and warm.lines_checked == 0


def test_hashes_of_a_cached_record_are_read_when_first_asked_for(corpus: Corpus) -> None:
    path = corpus.article_files()[0]
    record = json.loads(path.read_text(encoding="utf-8"))
    hashes = [p["sha256"] for p in record["paragraphs"]]
    index = ArticleIndex()
    index.add_record(record["article_id"], path, len(hashes), hash_list_digest(hashes))
    assert record["article_id"] not in index.hashes and record["article_id"] in index.digests
    assert index.hashes[record["article_id"]] == hashes
    # the record changed after it was checked: its paragraphs are not trusted
    other = ArticleIndex()
    other.add_record(record["article_id"], path, len(hashes), hash_list_digest(hashes[1:]))
    assert other.hashes[record["article_id"]] == [CHANGED] * len(hashes)
    with pytest.raises(KeyError):
        index.hashes["no-such-article-0123456789"]


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """2,100 articles, enough for validate to use worker processes, with two problems."""
    corpus = Corpus(tmp_path_factory.mktemp("cache-jobs") / "corpus")
    synthetic.generate(corpus, 2100, seed=3, annotators=1)
    path = corpus.annotation_files()[0]
    records = judged_in(path)
    records[2]["labels"] = ["medtop:99999999"]
    write_lines(path, records)
    judgement = judged_in(corpus.annotation_files()[2])[0]
    article = corpus.articles / f"{judgement['article_id']}.json"
    record = json.loads(article.read_text(encoding="utf-8"))
    record["paragraphs"][judgement["paragraph_index"]]["sha256"] = "0" * 64
    article.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return corpus


def test_jobs_and_cache_never_change_what_the_command_prints(
        bigger: Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"PARATOPICS_CACHE": str(tmp_path / "cache")}
    monkeypatch.setenv("PARATOPICS_CACHE", env["PARATOPICS_CACHE"])

    def run(*options: str) -> tuple[int, str, list[str]]:
        done = run_cli("validate", "--corpus", bigger.root, *options, cwd=tmp_path, env=env)
        return (done.returncode, done.stdout,
                [t for t in done.stderr.splitlines() if t.startswith("validate:")])

    cold = run("--jobs", "1", "--no-cache")
    assert cold[0] == 1 and "paragraph-hash" in cold[1] and "unknown-label" in cold[1]
    assert "2100 article(s)" in cold[2][0]
    assert run("--jobs", "2") == cold  # fills the cache from the worker processes
    for _ in range(2):  # the second also proves the first kept what the workers saw
        warm = validate_corpus(bigger, jobs=2)
        assert warm.records_parsed == 1  # only the faulty record, which is never cached
        assert 0 < warm.lines_checked < warm.annotation_lines
    assert run("--jobs", "2") == cold
    assert run("--jobs", "1") == cold
    cold_json = run("--jobs", "1", "--no-cache", "--format", "json")
    assert run("--jobs", "2", "--format", "json") == cold_json
    assert json.loads(cold_json[1])
