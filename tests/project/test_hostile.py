"""Hostile input: each is refused with a clear error and an exit code, the run goes on
past it where that makes sense, nothing is written outside the corpus, no outside
file is read into a record, and memory stays bounded however large the input.

Memory is the child's own peak RSS (`os.wait4`), compared with an absolute cap
and, where "not read whole" is the claim, with the same command on a tiny input.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import (
    article_record,
    cli_args,
    corpus_problems,
    new_corpus,
    output,
    run,
    run_measured,
    synthetic_corpus,
    visible_files,
)

from paratopics.corpus.store import Corpus, check_name
from paratopics.errors import ParatopicsError

MB = 1024 * 1024
#: Peak RSS allowed for any single command below, whatever the input size.
RSS_CAP_MB = 400
#: "Not read whole": at most this much above the same command on a tiny input.
RSS_SLACK_MB = 60
#: Annotation lines streamed in the suite (about 10 s); the 10-million-line run is
#: `PARATOPICS_STRESS_LINES=10000000 pytest tests/project/test_hostile.py -k million`.
STRESS_LINES = int(os.environ.get("PARATOPICS_STRESS_LINES", "1000000"))
SECRET = "OUTSIDE-SECRET-7f3a"


def _png() -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(13))
            + b"\x00" * 64)


def _zip(path: Path) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("article.txt", "By A. Writer April 07, 2021\n\nText.\n")
    return path.read_bytes()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and not p.is_symlink()}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the corpus that nothing may write to or leak from."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.json").write_text(json.dumps(
        {**article_record(7, random.Random(1)), "title": SECRET}), encoding="utf-8")
    (folder / "secret.jsonl").write_text(SECRET + "\n", encoding="utf-8")
    return folder


# -- one batch of hostile files: each refused by name, the good one ingested ----------


def test_hostile_batch_each_refused_the_rest_ingested(tmp_path: Path, outside: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    inputs = tmp_path / "in"
    inputs.mkdir()
    rng = random.Random(4)
    record = article_record(1, rng)

    def put(name: str | bytes, data: bytes | str) -> str:
        path = os.path.join(os.fsencode(inputs), os.fsencode(name))
        with open(path, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        return os.fsdecode(path)

    expected = {  # file -> problem code it must be refused with
        put("page.txt", "<!DOCTYPE html>\n<html><head><title>T</title></head>"
                        "<body><p>Text.</p></body></html>\n"): "html-page",
        put("archive.txt", _zip(tmp_path / "a.zip")): "binary-file",
        put("image.txt", _png()): "binary-file",
        put("latin1.txt", "Caf\xe9 cr\xe8me\n".encode("latin-1")): "not-utf8",
        put("deep.json", "[" * 100_000 + "]" * 100_000): "json-syntax",
        put("deep.jsonl", json.dumps(record) + "\n" + '{"a": ' + "[" * 100_000
            + "]" * 100_000 + "}\n"): "json-syntax",
        put("bad\nname.json", json.dumps(article_record(2, rng))): "unsafe-path",
        put(b"caf\xe9.json", json.dumps(article_record(3, rng))): "unsafe-path",
        put("n" * 220 + ".json", json.dumps(article_record(4, rng))): "unsafe-path",
        put("huge.txt", b""): "file-too-large",
    }
    os.truncate(inputs / "huge.txt", 100 * MB)  # sparse: 100 MB that cost no disk
    fifo = inputs / "pipe.txt"
    os.mkfifo(fifo)  # reading it would block forever
    expected[str(fifo)] = "not-a-file"
    good = [put("traversal.json", json.dumps({**article_record(5, rng), "source": "../../etc"})),
            put("absolute.json", json.dumps({**article_record(6, rng), "source": "/etc/passwd"})),
            put("nul.json", json.dumps({**article_record(8, rng), "source": "a\x00b/../../x"})),
            put("controls.json", json.dumps({
                **article_record(9, rng), "title": "Lone \ud800 surrogate\x07 and \x1b[31m",
                "paragraphs": ["Control\x00 chars\x01 and \udfff here.", "\x02\x03",
                               "Second\x0b paragraph\x7f."]}))]
    before_outside = _snapshot(tmp_path / "outside")

    done = run("ingest", "--corpus", corpus.root, *expected, *good)
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    assert "Traceback" not in text
    for path, code in expected.items():
        name = os.path.basename(path)
        lines = [line for line in text.splitlines() if f"[{code}]" in line]
        assert any(name[:40] in line or repr(name)[1:41] in line for line in lines), (
            name, code, text)
    assert "(at least 1 " not in text  # no stray progress noise in problems
    assert len(corpus.article_files()) == 1 + len(good)  # deep.jsonl's good line, and these
    assert corpus_problems(corpus) == []
    for rel in visible_files(corpus.root):  # no control character or surrogate was stored
        stored = (corpus.root / rel).read_text(encoding="utf-8")
        if rel.startswith("articles/"):
            assert not any((ord(c) < 32 and c != "\n") or 0xD800 <= ord(c) <= 0xDFFF
                           for c in json.loads(stored)["title"])
    assert _snapshot(tmp_path / "outside") == before_outside
    assert all(p.resolve().is_relative_to(corpus.root.resolve())
               for p in corpus.sources.rglob("*"))


def test_unsafe_names_are_refused_by_the_library() -> None:
    for name in ("../x", "..", "/etc/passwd", "a/b", "a\\b", "a\x00b", ".hidden", "a\nb",
                 "caf\udce9.json", "x" * 201):
        with pytest.raises(ParatopicsError) as caught:
            check_name(name, "file name")
        assert caught.value.problem.code == "unsafe-path"
    corpus = Corpus(Path("/nonexistent/corpus"))
    for article_id in ("../../etc/passwd", "/etc/passwd", "a\x00b"):
        with pytest.raises(ParatopicsError):
            corpus.article_path(article_id)


# -- symlinks leading out of the corpus -----------------------------------------------


@pytest.mark.parametrize("link", ["sources", "sources/crash-test", "articles"])
def test_ingest_never_writes_through_a_symlink_out(tmp_path: Path, outside: Path,
                                                   link: str) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    target = corpus.root / link
    if target.exists():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(outside, target_is_directory=True)
    before = _snapshot(outside)
    source = tmp_path / "in" / "wire.json"
    source.parent.mkdir()
    source.write_text(json.dumps(article_record(1, random.Random(2))), encoding="utf-8")
    done = run("ingest", "--corpus", corpus.root, source)
    assert done.returncode == 1, output(done)
    assert "[unsafe-path]" in done.stdout + done.stderr
    assert _snapshot(outside) == before
    assert SECRET not in done.stdout + done.stderr


def test_symlinked_records_are_refused_not_read(tmp_path: Path, outside: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    real = corpus.article_files()[0]
    stolen = corpus.articles / "stolen-1234567890.json"
    stolen.symlink_to(outside / "secret.json")
    (corpus.annotations / "stolen.jsonl").symlink_to(outside / "secret.jsonl")
    done = run("validate", "--corpus", corpus.root)
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    assert "[unsafe-path]" in text and "stolen-1234567890.json" in text
    assert "[annotation-outside]" in text and "stolen.jsonl" in text
    assert SECRET not in text
    done = run("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert done.returncode == 1, output(done)
    assert not (corpus.releases / "v1.0.0").exists()
    # an article file replaced by a link out is not followed when ingest rewrites it
    record = json.loads(real.read_text(encoding="utf-8"))
    raw = corpus.root / record["ingested_from"]["path"]
    real.unlink()
    real.symlink_to(outside / "secret.json")
    before = _snapshot(outside)
    done = run("ingest", "--corpus", corpus.root, "--format", "jsonl", "--source", "s", raw)
    assert done.returncode == 1, output(done)
    assert "[unsafe-path]" in done.stdout + done.stderr
    assert _snapshot(outside) == before


def test_a_symlinked_record_inside_the_corpus_is_read(tmp_path: Path) -> None:
    """Only links leading out are refused: one to a file kept elsewhere in the corpus is
    read through, with its problems reported under its own name."""
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    record = corpus.article_files()[0]
    kept = corpus.root / "kept" / record.name
    kept.parent.mkdir()
    record.rename(kept)
    record.symlink_to(kept)
    done = run("validate", "--corpus", corpus.root)
    assert done.returncode == 0, output(done)
    kept.write_text(kept.read_text(encoding="utf-8").replace('"index": 0', '"index": 7', 1),
                    encoding="utf-8")
    done = run("validate", "--corpus", corpus.root, "--format", "json")
    assert done.returncode == 1, output(done)
    found = {(p["code"], Path(p["file"]).name) for p in json.loads(done.stdout)}
    assert ("paragraph-offsets", record.name) in found, found


def test_provenance_path_out_of_the_corpus_is_refused(tmp_path: Path, outside: Path) -> None:
    """A record whose raw file lies outside the corpus (by its path, or by a symlink with
    the outside file's true sha256) is refused, not vouched for."""
    import hashlib

    corpus = synthetic_corpus(tmp_path / "corpus", 2, seed=3)
    path = corpus.article_files()[0]
    record = json.loads(path.read_text(encoding="utf-8"))
    link = corpus.sources / "synthetic" / "link.jsonl"
    link.symlink_to(outside / "secret.jsonl")
    cases = {"/etc/hostname": "[schema]", "sources/a../..": "[source-missing]",
             "sources/synthetic/link.jsonl": "[unsafe-path]"}
    for where, code in cases.items():
        record["ingested_from"]["path"] = where
        record["ingested_from"]["sha256"] = hashlib.sha256(
            (outside / "secret.jsonl").read_bytes()).hexdigest()
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
        found = [f for f in corpus_problems(corpus) if path.name in f]
        assert any(code in f for f in found), (where, found)


def test_a_record_copied_under_another_name_is_caught_even_when_cached(tmp_path: Path,
                                                                       ) -> None:
    """validate's cache of records that passed must not vouch for a valid record's
    bytes under another file name (its id no longer matches the name)."""
    corpus = synthetic_corpus(tmp_path / "corpus", 2, seed=8)
    env = {"PARATOPICS_CACHE": str(tmp_path / "cache")}
    done = run("validate", "--corpus", corpus.root, env=env)  # fills the cache
    assert done.returncode == 0, output(done)
    assert list((tmp_path / "cache").iterdir())
    shutil.copyfile(corpus.article_files()[0], corpus.articles / "copy-0123456789.json")
    done = run("validate", "--corpus", corpus.root, env=env)
    assert done.returncode == 1, output(done)
    assert "copy-0123456789.json /article_id: error [article-id-mismatch]" in done.stdout


def test_a_lone_surrogate_in_a_record_is_reported_not_a_crash(tmp_path: Path) -> None:
    """JSON may escape a lone surrogate ("\\ud800"), which json reads and UTF-8 cannot
    hold: a paragraph hash made of one is a schema error, in one process and in
    --jobs workers alike (the record is still indexed, its hashes digested)."""
    corpus = synthetic_corpus(tmp_path / "corpus", 2, seed=9)
    path = corpus.article_files()[0]
    record = json.loads(path.read_text(encoding="utf-8"))
    record["paragraphs"][0]["sha256"] = "\ud800"
    path.write_text(json.dumps(record), encoding="utf-8")  # ensure_ascii: escaped
    assert b"\\ud800" in path.read_bytes()
    for jobs in ("1", "2"):
        done = run("validate", "--corpus", corpus.root, "--jobs", jobs,
                   env={"PARATOPICS_CACHE": str(tmp_path / f"cache-{jobs}")})
        assert done.returncode == 1, output(done)
        assert "/paragraphs/0/sha256: error [schema]" in done.stdout, output(done)
        assert "Traceback" not in output(done)


@pytest.mark.parametrize("corpus_arg", ["/", "..", "nowhere"])
def test_corpus_argument_must_be_a_corpus(tmp_path: Path, corpus_arg: str) -> None:
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    (tmp_path / "work" / "notes.txt").write_text("not a corpus\n")
    source = tmp_path / "a.json"
    source.write_text(json.dumps(article_record(1, random.Random(3))), encoding="utf-8")
    before = sorted(os.listdir("/"))
    done = run_measured(cli_args("ingest", "--corpus", corpus_arg, source),
                        preexec_fn=lambda: os.chdir(cwd))[0]
    assert done.returncode == 2, output(done)
    assert "--corpus" in done.stderr and "Traceback" not in done.stderr
    assert sorted(os.listdir("/")) == before
    assert sorted(os.listdir(tmp_path / "work")) == ["here", "notes.txt"]


# -- size, depth and length: refused or streamed in bounded memory --------------------


def test_a_100_mb_file_is_refused_without_being_read(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("x\n")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # real bytes, not a sparse file
        chunk = b" " * MB
        for _ in range(100):
            handle.write(chunk)
    _, base_rss = run_measured(cli_args("ingest", "--corpus", corpus.root, tiny))
    done, rss = run_measured(cli_args("ingest", "--corpus", corpus.root, huge))
    assert done.returncode == 1, output(done)
    assert "[file-too-large]" in done.stdout and "huge.json" in done.stdout
    assert rss < base_rss + RSS_SLACK_MB, (rss, base_rss)
    print(f"100 MB file: peak RSS {rss:.0f} MB (tiny input: {base_rss:.0f} MB)")


def _fifty_mb_line() -> str:
    return json.dumps({"source": "s", "title": "Huge", "published": "2024-01-01",
                       "license": "CC0-1.0", "attribution": "S, https://s.example/",
                       "body": "word " * (10 * MB)})  # 50 MB on one line


def test_a_50_mb_line_in_jsonl_ingest_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    wire = tmp_path / "wire.jsonl"
    wire.write_text(json.dumps(article_record(1, random.Random(5))) + "\n" + _fifty_mb_line()
                    + "\n" + json.dumps(article_record(2, random.Random(6))) + "\n",
                    encoding="utf-8")
    done, rss = run_measured(cli_args("ingest", "--corpus", corpus.root, "--max-bytes",
                                      str(200 * MB), wire))
    assert done.returncode == 1, output(done)
    assert "wire.jsonl:2: error [line-too-long]" in done.stdout
    assert len(corpus.article_files()) == 2  # the run went on past the line
    assert rss < RSS_CAP_MB, rss
    print(f"50 MB JSONL line: peak RSS {rss:.0f} MB")


def _annotation_line(corpus: Corpus) -> str:
    lines = next(p for p in sorted(corpus.annotation_files())
                 if p.stat().st_size).read_text(encoding="utf-8").splitlines()
    return lines[0]


def test_a_50_mb_annotation_line_and_deep_nesting_in_bounded_memory(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=6)
    good = _annotation_line(corpus)
    for path in corpus.annotation_files():
        path.unlink()
    hostile = corpus.annotations / "hostile.jsonl"
    hostile.write_text("\n".join([
        good,
        "x" * (50 * MB),
        '{"article_id": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"article_id": "../../etc/passwd", "paragraph_index": 0, "paragraph_sha256": "'
        + "0" * 64 + '", "labels": [], "annotator": "a", "created": "2024-01-01T00:00:00Z"}',
        '{"paragraph_index": ' + "9" * 5000 + "}",
        '{"note": "\\ud800 lone surrogate"}',
    ]) + "\n", encoding="utf-8")
    deep_article = corpus.articles / "deep-0123456789.json"
    deep_article.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (corpus.articles / "bigint-0123456789.json").write_text('{"x": ' + "9" * 5000 + "}",
                                                            encoding="utf-8")
    done, rss = run_measured(cli_args("validate", "--corpus", corpus.root))
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    assert "Traceback" not in text
    assert "hostile.jsonl:2: error [line-too-long]" in text
    assert "hostile.jsonl:3: error [json-syntax]" in text and "nested too deeply" in text
    assert "hostile.jsonl:4 /article_id: error [schema]" in text
    assert "hostile.jsonl:5: error [json-syntax]" in text
    assert "hostile.jsonl:6" in text
    assert "hostile.jsonl:1:" not in text
    assert "deep-0123456789.json: error [json-syntax]" in text
    assert "bigint-0123456789.json: error [json-syntax]" in text
    assert rss < RSS_CAP_MB, rss
    print(f"50 MB annotation line: peak RSS {rss:.0f} MB")


def test_a_million_line_annotation_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """STRESS_LINES identical judgements (each after the first is a duplicate) and a few
    bad lines: all are checked, the bad ones reported by line, memory stays flat."""
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=7)
    good = (_annotation_line(corpus) + "\n").encode("utf-8")
    for path in corpus.annotation_files():
        path.unlink()
    small = corpus.annotations / "small.jsonl"
    small.write_bytes(good)
    baseline, base_rss = run_measured(cli_args("validate", "--corpus", corpus.root))
    assert baseline.returncode == 0, output(baseline)
    small.unlink()
    bad = {STRESS_LINES // 3: b"{not json\n", STRESS_LINES // 2: b'{"labels": 5}\n',
           STRESS_LINES - 1: b"\xff\xfe\n"}
    block = 10_000
    with (corpus.annotations / "million.jsonl").open("wb") as handle:
        written = 0
        while written < STRESS_LINES:
            n = min(block, STRESS_LINES - written)
            marks = sorted(k for k in bad if written < k <= written + n)
            if not marks:
                handle.write(good * n)
            else:
                for number in range(written + 1, written + n + 1):
                    handle.write(bad.get(number, good))
            written += n
    done, rss = run_measured(cli_args("validate", "--corpus", corpus.root))
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    for number in bad:
        assert f"million.jsonl:{number}:" in text or f"million.jsonl:{number} " in text, number
    assert f"with {STRESS_LINES:,} line(s)" in done.stderr
    assert "[more-problems]" in text and "[duplicate-judgement]" in text
    assert rss < min(RSS_CAP_MB, base_rss + RSS_SLACK_MB), (rss, base_rss)
    print(f"{STRESS_LINES:,} annotation lines: peak RSS {rss:.0f} MB (3 lines: {base_rss:.0f} MB)")
    shutil.rmtree(corpus.annotations)
