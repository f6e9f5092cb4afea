"""The `paratopics` command as a user runs it: exit codes, messages, the corpus on disk.

Every run is a real subprocess (conftest.run_cli) on a corpus in a temporary folder.
Independent runs of one table are started together, to keep the suite fast.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import copy_seed, read_article, run_cli, seed_path

from paratopics.corpus.store import STALE_LOCK_SECONDS, Corpus, corpus_lock, raw_copy_name
from paratopics.errors import ParatopicsError
from paratopics.ingest.core import ingest_files

Run = subprocess.CompletedProcess[str]
Snapshot = dict[str, bytes | None]


def snapshot(root: Path) -> Snapshot:
    """Every file's bytes and every folder under `root`, hidden ones included."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
            for p in root.rglob("*") if p.is_file()}


def output(run: Run) -> str:
    return run.stdout + run.stderr


def run_all(commands: Sequence[Sequence[str | Path]]) -> list[Run]:
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda args: run_cli(*args), commands))


def new_corpus(root: Path, *, seeded: bool) -> Corpus:
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    corpus = Corpus(root)
    if seeded:
        report = ingest_files(corpus, [seed_path()])
        assert not report.problems, report.problems
    return corpus


def seed_text() -> str:
    return seed_path().read_text(encoding="utf-8")


def edited_seed(old: str = "last visited Pakistan in 2012",
                new: str = "last visited Pakistan in 2011") -> str:
    text = seed_text()
    assert text.count(old) == 1
    return text.replace(old, new)


EDITED_INDEX = 3  # "The chief Russian diplomat last visited Pakistan in 2012, ..."


# -- bad input: one file each, exit 1, a message naming file and problem, corpus unchanged --


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(seed_path(), seed_path().name)
    return buffer.getvalue()


def _html() -> bytes:
    blocks = [b.strip() for b in seed_text().split("\n\n") if b.strip()]
    paragraphs = "\n".join(f"<p>{b}</p>" for b in blocks[3:])
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>{blocks[2]}</title></head>\n<body>\n<h1>{blocks[2]}</h1>\n"
            f"{paragraphs}\n</body>\n</html>\n").encode()


def _cp1252_line() -> int:
    text = seed_text()
    return text[: text.index("\u2014")].count("\n") + 1


@dataclass(frozen=True)
class Bad:
    id: str
    name: str
    content: Callable[[], bytes]
    code: str
    expect: tuple[str, ...] = ()  # more text the output must contain
    args: tuple[str, ...] = ()


BAD_INPUTS = [
    Bad("empty", "empty.txt", lambda: b"", "file-empty"),
    Bad("nul-bytes", "nul.txt", lambda: seed_path().read_bytes().replace(b"Lavrov", b"\x00", 1),
        "binary-file", ("NUL",)),
    Bad("png-as-txt", "photo.txt", _png, "binary-file", ("PNG",)),
    Bad("zip-as-txt", "archive.txt", _zip, "binary-file", ("zip",)),
    Bad("cp1252", "cp1252.txt", lambda: seed_text().encode("cp1252"), "not-utf8",
        (f"cp1252.txt:{_cp1252_line()}",)),
    Bad("html-as-txt", "page.txt", _html, "html-page"),
    Bad("no-byline", "nobyline.txt",
        lambda: seed_text().replace("By Ayaz Gul April 07, 2021\n", "").encode(), "no-byline"),
    Bad("json-no-title", "notitle.json",
        lambda: json.dumps({"authors": ["A"], "published": "2021-04-07", "source": "x.org",
                            "body": "Text."}).encode(), "missing-field", ("/title", "'title'")),
    Bad("too-large", "big.txt", lambda: seed_path().read_bytes(), "file-too-large",
        ("1000",), ("--max-bytes", "1000")),
    Bad("same-article", "copy-of-seed.txt", lambda: edited_seed().encode(), "duplicate-article",
        (seed_path().name, "--replace")),
    Bad("deep-json", "deep.json", lambda: b"[" * 100_000 + b"]" * 100_000, "json-syntax",
        ("nested too deeply",)),
]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, Snapshot,
                                                                          Snapshot, Path]]:
    prepared = []
    for case in BAD_INPUTS:
        base = tmp_path_factory.mktemp(case.id)
        corpus = new_corpus(base / "corpus", seeded=True)
        path = base / "in" / case.name
        path.parent.mkdir()
        path.write_bytes(case.content())
        prepared.append((case, corpus, path, snapshot(corpus.root)))
    runs = run_all([("ingest", "--corpus", corpus.root, *case.args, path)
                    for case, corpus, path, _ in prepared])
    return {case.id: (run, before, snapshot(corpus.root), path)
            for (case, corpus, path, before), run in zip(prepared, runs, strict=True)}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c.id for c in BAD_INPUTS])
def test_bad_input_exit_1_clear_message_corpus_unchanged(
        bad_runs: dict[str, tuple[Run, Snapshot, Snapshot, Path]], case: Bad) -> None:
    run, before, after, _ = bad_runs[case.id]
    text = output(run)
    assert run.returncode == 1, text
    assert "Traceback" not in text
    assert f"[{case.code}]" in text
    problem_line = next(line for line in text.splitlines() if f"[{case.code}]" in line)
    assert case.name in problem_line
    assert "hint:" in text
    for expected in case.expect:
        assert expected in text
    assert after == before


def test_batch_with_bad_files_still_ingests_the_good_one(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus", seeded=False)
    empty = tmp_path / "in" / "empty.txt"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    png = tmp_path / "in" / "photo.txt"
    png.write_bytes(_png())
    seed = copy_seed(tmp_path / "in" / seed_path().name)
    run = run_cli("ingest", "--corpus", corpus.root, empty, seed, png)
    text = output(run)
    assert run.returncode == 1, text
    assert "[file-empty]" in text and "empty.txt" in text
    assert "[binary-file]" in text and "photo.txt" in text
    record = read_article(corpus)
    assert f"new       {record['article_id']}" in run.stdout
    assert record["title"].startswith("Russia, Pakistan")  # type: ignore[union-attr]
    assert (corpus.sources / "globalsecurity.org" / seed.name).read_bytes() == seed.read_bytes()
    assert sorted(p.name for p in corpus.sources.rglob("*") if p.is_file()) == [seed.name]
    assert not (corpus.root / ".lock").exists()


# -- success and re-ingest ---------------------------------------------------------------


def test_reingest_same_file_changes_nothing(seeded: Corpus) -> None:
    before, stamps = snapshot(seeded.root), mtimes(seeded.root)
    run = run_cli("ingest", "--corpus", seeded.root, seed_path())
    assert run.returncode == 0, output(run)
    assert "1 unchanged" in run.stderr
    assert "0 new, 0 updated" in run.stderr
    assert "updated" not in run.stdout and "new" not in run.stdout
    assert snapshot(seeded.root) == before
    assert mtimes(seeded.root) == stamps  # nothing was even rewritten


def test_corrected_version_same_name_updates_and_names_paragraph(seeded: Corpus,
                                                                 tmp_path: Path) -> None:
    old = read_article(seeded)
    fixed = tmp_path / "fixed" / seed_path().name
    fixed.parent.mkdir()
    fixed.write_text(edited_seed(), encoding="utf-8")
    run = run_cli("ingest", "--corpus", seeded.root, fixed)
    assert run.returncode == 0, output(run)
    line = next(x for x in run.stdout.splitlines() if x.startswith("updated"))
    assert str(old["article_id"]) in line
    assert f"changed [{EDITED_INDEX}]" in line
    assert "1 updated" in run.stderr
    new = read_article(seeded)
    assert new["article_id"] == old["article_id"]
    changed = [i for i, (a, b) in enumerate(zip(old["paragraphs"], new["paragraphs"],  # type: ignore[arg-type]
                                                strict=True)) if a != b]
    assert changed == [EDITED_INDEX]
    assert "in 2011" in new["paragraphs"][EDITED_INDEX]["text"]  # type: ignore[index]
    raw = seeded.root / new["ingested_from"]["path"]  # type: ignore[index]
    assert raw.read_bytes() == fixed.read_bytes()
    # the earlier raw copy is never overwritten: the correction is kept beside it,
    # under its name with its content hash
    kept = seeded.root / old["ingested_from"]["path"]  # type: ignore[index]
    assert kept.read_bytes() == seed_path().read_bytes()
    assert raw.parent == kept.parent and raw.name == raw_copy_name(
        kept.name, new["ingested_from"]["sha256"])  # type: ignore[index]


def test_replace_lets_another_file_name_replace(seeded: Corpus, tmp_path: Path) -> None:
    other = tmp_path / "gul-2021-04-07.txt"
    other.write_text(edited_seed(), encoding="utf-8")
    # without --replace the same file is refused: see BAD_INPUTS "same-article"
    replaced = run_cli("ingest", "--corpus", seeded.root, "--replace", other)
    assert replaced.returncode == 0, output(replaced)
    assert f"changed [{EDITED_INDEX}]" in replaced.stdout
    record = read_article(seeded)
    assert record["ingested_from"]["path"] == "sources/globalsecurity.org/gul-2021-04-07.txt"  # type: ignore[index]
    assert (seeded.sources / "globalsecurity.org" / other.name).read_bytes() == other.read_bytes()
    assert "in 2011" in record["paragraphs"][EDITED_INDEX]["text"]  # type: ignore[index]


# -- validate --------------------------------------------------------------------------------


def test_validate_seeded_corpus_exit_0(seeded: Corpus) -> None:
    run = run_cli("validate", "--corpus", seeded.root)
    assert run.returncode == 0, output(run)
    assert "error" not in run.stdout


def _corrupt(corpus: Corpus, kind: str) -> Path:
    path = corpus.article_files()[0]
    record = json.loads(path.read_text(encoding="utf-8"))
    if kind == "paragraph-hash":
        text = record["paragraphs"][2]["text"]
        record["paragraphs"][2]["text"] = text.replace("Lavrov", "Lavroff")  # same length
        assert record["paragraphs"][2]["text"] != text
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    target = path.with_name("some-other-article-0123456789.json")
    path.rename(target)
    return target


@pytest.fixture(scope="module")
def corrupted_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, Path]]:
    """Per output format, a corpus whose record was edited by hand and renamed."""
    prepared = []
    for fmt in ("text", "json", "github"):
        corpus = new_corpus(tmp_path_factory.mktemp(f"corrupt-{fmt}") / "corpus", seeded=True)
        _corrupt(corpus, "paragraph-hash")
        prepared.append((fmt, corpus, _corrupt(corpus, "article-id-mismatch")))
    runs = run_all([("validate", "--corpus", c.root, "--format", fmt)
                    for fmt, c, _ in prepared])
    return {fmt: (run, path) for (fmt, _, path), run in zip(prepared, runs, strict=True)}


@pytest.mark.parametrize("kind", ["paragraph-hash", "article-id-mismatch"])
def test_validate_hand_edited_record_exit_1(corrupted_runs: dict[str, tuple[Run, Path]],
                                            kind: str) -> None:
    run, path = corrupted_runs["text"]
    assert run.returncode == 1, output(run)
    lines = [x for x in run.stdout.splitlines() if f"[{kind}]" in x]
    assert lines, run.stdout
    assert path.name in lines[0]
    assert "Traceback" not in output(run)


def test_validate_json_format(corrupted_runs: dict[str, tuple[Run, Path]]) -> None:
    run, path = corrupted_runs["json"]
    assert run.returncode == 1, output(run)
    found = json.loads(run.stdout)
    assert isinstance(found, list)
    assert found
    for item in found:
        assert {"code", "file", "line", "pointer", "message", "hint"} <= set(item)
    by_code = {item["code"]: item for item in found}
    assert {"paragraph-hash", "article-id-mismatch"} <= set(by_code)
    assert by_code["paragraph-hash"]["pointer"] == "/paragraphs/2/sha256"
    assert by_code["article-id-mismatch"]["pointer"] == "/article_id"
    assert all(Path(by_code[c]["file"]).name == path.name
               for c in ("paragraph-hash", "article-id-mismatch"))


def test_validate_github_format(corrupted_runs: dict[str, tuple[Run, Path]]) -> None:
    run, path = corrupted_runs["github"]
    assert run.returncode == 1, output(run)
    lines = [x for x in run.stdout.splitlines() if x.strip()]
    assert len(lines) >= 2
    for line in lines:
        assert line.startswith("::error file=")
        assert path.name in line
    assert any("paragraph-hash" in x for x in lines)
    assert any("article-id-mismatch" in x for x in lines)


# -- usage errors: exit 2 ---------------------------------------------------------------------

USAGE = {
    "unknown-subcommand": ("frobnicate",),
    "ingest-without-path": ("ingest", "--corpus", "{corpus}"),
    "missing-corpus-folder": ("ingest", "--corpus", "{missing}", "{seed}"),
    "validate-txt-path": ("validate", "--corpus", "{corpus}", "{seed}"),
}


@pytest.fixture(scope="module")
def usage_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, Snapshot,
                                                                            Snapshot, Path]]:
    base = tmp_path_factory.mktemp("usage")
    corpus = new_corpus(base / "corpus", seeded=True)
    seed = copy_seed(base / "in" / "other-name.txt")
    values = {"corpus": str(corpus.root), "missing": str(base / "nowhere"), "seed": str(seed)}
    before = snapshot(corpus.root)
    keys = list(USAGE)
    runs = run_all([[a.format(**values) for a in USAGE[k]] for k in keys])
    after = snapshot(corpus.root)
    return {k: (run, before, after, base) for k, run in zip(keys, runs, strict=True)}


@pytest.mark.parametrize("key", list(USAGE))
def test_usage_error_exit_2(usage_runs: dict[str, tuple[Run, Snapshot, Snapshot, Path]],
                            key: str) -> None:
    run, before, after, base = usage_runs[key]
    assert run.returncode == 2, output(run)
    assert "usage:" in run.stderr
    assert "Traceback" not in run.stderr
    assert after == before
    assert not (base / "nowhere").exists()


# -- the corpus lock -----------------------------------------------------------------------


def _write_lock(corpus: Corpus, pid: int, host: str | None = None,
                since: float | None = None) -> Path:
    lock = corpus.root / ".lock"
    lock.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                "command": "ingest", "since": since or time.time()}),
                    encoding="utf-8")
    return lock


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_lock_held_by_live_process_exit_1(seeded: Corpus, tmp_path: Path) -> None:
    lock = _write_lock(seeded, os.getpid())
    before = snapshot(seeded.root)
    other = tmp_path / "x.txt"
    other.write_text(edited_seed(), encoding="utf-8")
    run = run_cli("ingest", "--corpus", seeded.root, "--replace", other)
    assert run.returncode == 1, output(run)
    assert "[locked]" in run.stderr
    assert str(os.getpid()) in run.stderr
    assert snapshot(seeded.root) == before
    assert lock.is_file()


def test_lock_of_dead_process_is_reclaimed(corpus: Corpus, tmp_path: Path) -> None:
    lock = _write_lock(corpus, _dead_pid())
    run = run_cli("ingest", "--corpus", corpus.root, seed_path())
    assert run.returncode == 0, output(run)
    assert not lock.exists()
    # what the command wrote is exactly what the library writes
    by_library = new_corpus(tmp_path / "library", seeded=True)
    assert snapshot(corpus.root) == snapshot(by_library.root)
    assert run.stdout.split() == ["new", read_article(by_library)["article_id"]]
    assert "1 new" in run.stderr


def test_lock_of_other_host_fresh_is_respected(corpus: Corpus) -> None:
    _write_lock(corpus, 1, host="elsewhere.invalid")
    with pytest.raises(ParatopicsError) as caught, corpus_lock(corpus, "ingest"):
        pass
    assert caught.value.problem.code == "locked"


def test_lock_of_other_host_stale_is_reclaimed(corpus: Corpus) -> None:
    lock = _write_lock(corpus, 1, host="elsewhere.invalid",
                       since=time.time() - 2 * STALE_LOCK_SECONDS)
    with corpus_lock(corpus, "ingest"):
        held = json.loads(lock.read_text(encoding="utf-8"))
        assert held["pid"] == os.getpid()
    assert not lock.exists()


def test_empty_stale_lock_file_is_reclaimed(corpus: Corpus) -> None:
    """A process killed between creating the lock and writing its owner leaves an empty
    lock file. Once it is older than STALE_LOCK_SECONDS it must not block the corpus
    forever (the hint promises "the lock is reclaimed automatically once stale")."""
    lock = corpus.root / ".lock"
    lock.write_bytes(b"")
    old = time.time() - 2 * STALE_LOCK_SECONDS
    os.utime(lock, (old, old))
    with corpus_lock(corpus, "ingest"):
        assert json.loads(lock.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert not lock.exists()


def test_the_command_imports_no_columnar_library_until_a_command_needs_one() -> None:
    """ingest and validate run often (pre-commit, CI): importing pyarrow and datasets
    for them would add a fixed cost to each run for nothing."""
    code = ("import sys, paratopics.cli; "
            "print(sorted(m for m in ('pyarrow', 'datasets', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize("code,absent", [
    ("import paratopics", ("paratopics.ingest.core", "paratopics.validate.core",
                           "paratopics.loader")),
    ("import paratopics.cli", ("paratopics.validate.core", "paratopics.release.layout",
                               "paratopics.release.changelog", "paratopics.ml",
                               "paratopics.publish.guide", "paratopics.stats")),
])
def test_a_stage_is_imported_by_the_command_that_needs_it(code: str,
                                                          absent: tuple[str, ...]) -> None:
    """Every command imports the package and the CLI first: what one stage alone
    needs would add to the start of every other (ingest of one article takes a
    quarter of a second)."""
    probe = f"import sys; {code}; print([m for m in {absent!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout
    names = "import paratopics; print(paratopics.validate_corpus.__module__, " \
            "paratopics.ingest_files.__module__, 'load' in dir(paratopics))"
    named = subprocess.run([sys.executable, "-c", names], capture_output=True, text=True,
                           check=True)
    assert named.stdout.split() == ["paratopics.validate.core", "paratopics.ingest.core",
                                    "True"], named.stdout
