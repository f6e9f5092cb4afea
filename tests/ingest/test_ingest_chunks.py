"""A large JSON Lines file read in pieces (ingest.chunks) gives what reading it whole gives.

Each test writes one JSON Lines file and ingests it twice into fresh corpora: once
whole (the piece size above the file's size: today's path, one file per worker)
and once in many small pieces (a piece size of a few hundred bytes, so that pieces
cut records and every line lands at or near a piece boundary somewhere). The
corpora are compared byte for byte, and the problems (code, message, file, line,
pointer) and their order must be the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paratopics.corpus.store import Corpus
from paratopics.errors import Problem
from paratopics.ingest.chunks import Chunk, scan
from paratopics.ingest.core import IngestReport, ingest_files

WHOLE = 1 << 30


def record(n: int, **change: object) -> dict[str, object]:
    out: dict[str, object] = {
        "source": "wire.example", "url": f"https://wire.example/{n}",
        "title": f"Harbour Talks Resume, Day {n}", "authors": ["Ana Lima"],
        "published": "2021-05-02", "license": "CC-BY-4.0",
        "attribution": f"Wire, https://wire.example/{n}",
        "paragraphs": [f"Paragraph {i} of story {n}: the harbour talks went on." for i in
                       range(1 + n % 4)]}
    out.update(change)
    return {k: v for k, v in out.items() if v is not None}


def lines_of(count: int) -> list[str]:
    return [json.dumps(record(n), ensure_ascii=False) for n in range(count)]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def shown(problems: list[Problem]) -> list[tuple[object, ...]]:
    return [(p.code, p.message, p.file, p.line, p.pointer, p.hint) for p in problems]


def ingest(tmp_path: Path, name: str, path: Path, chunk_bytes: int, jobs: int = 1,
           ) -> tuple[Corpus, IngestReport]:
    corpus = Corpus(tmp_path / name)
    report = ingest_files(corpus, [path], jobs=jobs, chunk_bytes=chunk_bytes)
    return corpus, report


def assert_same_as_whole(tmp_path: Path, path: Path, chunk_bytes: int = 300, jobs: int = 2,
                         ) -> IngestReport:
    """Ingest `path` whole and in pieces; the same corpus bytes and the same problems."""
    whole, expected = ingest(tmp_path, "whole", path, WHOLE)
    pieces, got = ingest(tmp_path, f"pieces-{chunk_bytes}-{jobs}", path, chunk_bytes, jobs)
    assert shown(got.problems) == shown(expected.problems)
    assert got.changes == expected.changes
    assert (got.paragraphs, got.files) == (expected.paragraphs, expected.files)
    assert tree(pieces.root) == tree(whole.root)
    assert not [p.name for p in pieces.root.iterdir() if p.name.startswith(".")]
    return got


def test_pieces_cut_at_line_ends_and_number_lines_on(tmp_path: Path) -> None:
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    data = ("\n".join(lines_of(30)) + "\n").encode("utf-8")
    path.write_bytes(data)
    found = scan(path, tmp_path / "copy", None, WHOLE, 10**6, chunk_bytes=200)
    assert (tmp_path / "copy").read_bytes() == data
    assert found.source == "wire.example"
    assert len(found.chunks) > 10  # (lines are longer than a block: blocks are joined)
    assert found.chunks[0].start == 0 and found.chunks[-1].end == len(data)
    for before, after in zip(found.chunks, found.chunks[1:], strict=False):
        assert before.end == after.start
        assert data[before.end - 1:before.end] == b"\n"
        assert after.first_line == data[:after.start].count(b"\n") + 1


@pytest.mark.parametrize(("chunk_bytes", "jobs"), [(300, 1), (300, 2), (2_000, 2)])
def test_many_pieces_give_the_records_and_problems_of_one(tmp_path: Path, chunk_bytes: int,
                                                          jobs: int) -> None:
    lines = lines_of(60)
    lines[3] = lines[3][:-7]  # not JSON
    lines[17] = json.dumps(record(17, title=None))  # not an article
    lines[22] = json.dumps(record(22, license=None, attribution=None))  # no licence
    lines[30] = lines[8]  # the same article again, from another piece
    lines[35] = "   "  # blank
    lines[41] = "[1, 2]"
    lines[44] = json.dumps(record(44, published="1066-01-01"))  # fails a metadata check
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = assert_same_as_whole(tmp_path, path, chunk_bytes, jobs)
    assert [(p.code, p.line) for p in report.problems] == [
        ("json-syntax", 4), ("missing-field", 18), ("bad-field", 42), ("licence", 23),
        ("date-out-of-range", 45), ("duplicate-article", 31)]
    assert f"{path}:9" in report.problems[-1].message
    assert len(report.changes) == 60 - 7


def test_an_error_on_the_first_line_of_a_later_piece(tmp_path: Path) -> None:
    lines = lines_of(12)
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks = scan(path, tmp_path / "copy", None, WHOLE, 10**6, chunk_bytes=600).chunks
    later = chunks[2]
    assert later.first_line > 2
    lines[later.first_line - 1] = "{not json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = assert_same_as_whole(tmp_path, path, chunk_bytes=600)
    assert [(p.code, p.line) for p in report.problems] == [("json-syntax", later.first_line)]


def test_crlf_line_ends_and_a_last_line_without_one(tmp_path: Path) -> None:
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    lines = lines_of(25)
    lines[9] = "{broken"
    path.write_bytes(("\r\n".join(lines)).encode("utf-8"))  # no line end after the last
    report = assert_same_as_whole(tmp_path, path)
    assert [(p.code, p.line) for p in report.problems] == [("json-syntax", 10)]
    assert len(report.changes) == 24
    stored = [json.loads(p.read_bytes()) for p in Corpus(tmp_path / "pieces-300-2")
              .article_files()]
    assert max(r["ingested_from"]["record"] for r in stored) == 25


def test_a_byte_order_mark_and_blank_lines_between_pieces(tmp_path: Path) -> None:
    path = tmp_path / "in" / "wire.ndjson"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + "\n\n".join(lines_of(20)).encode("utf-8") + b"\n\n")
    report = assert_same_as_whole(tmp_path, path)
    assert not report.problems and len(report.changes) == 20


def test_a_line_too_long_in_a_later_piece(tmp_path: Path) -> None:
    lines = lines_of(20)
    lines[14] = json.dumps(record(14, paragraphs=["word " * 400]))
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = ingest_files(Corpus(tmp_path / "whole"), [path], max_line_bytes=1000,
                         chunk_bytes=WHOLE)
    pieces = ingest_files(Corpus(tmp_path / "pieces"), [path], max_line_bytes=1000,
                          chunk_bytes=300, jobs=2)
    assert shown(pieces.problems) == shown(whole.problems)
    assert [(p.code, p.line) for p in pieces.problems] == [("line-too-long", 15)]
    assert tree(tmp_path / "pieces") == tree(tmp_path / "whole")


@pytest.mark.parametrize("spoil", ["not-utf8", "file-empty", "html-page", "binary-file"])
def test_what_refuses_the_whole_file_refuses_it_in_pieces(tmp_path: Path, spoil: str) -> None:
    path = tmp_path / "in" / "wire.jsonl"
    path.parent.mkdir()
    good = ("\n".join(lines_of(20)) + "\n").encode("utf-8")
    data = {"not-utf8": good[:3000] + b"caf\xe9 " + good[3000:],  # in a later piece
            "file-empty": b" \n\t\n" * 400,
            "html-page": b"<!doctype html><html><body>\n" + good,
            "binary-file": b"\x89PNG\r\n" + good}[spoil]
    path.write_bytes(data)
    whole = ingest_files(Corpus(tmp_path / "whole"), [path], chunk_bytes=WHOLE)
    pieces = ingest_files(Corpus(tmp_path / "pieces"), [path], chunk_bytes=300, jobs=2)
    assert [p.code for p in pieces.problems] == [spoil]
    assert shown(pieces.problems) == shown(whole.problems)
    if spoil == "not-utf8":
        assert pieces.problems[0].line == good[:3000].count(b"\n") + 1
    assert not pieces.changes
    assert tree(tmp_path / "pieces") == tree(tmp_path / "whole") == {}


def test_pieces_after_an_earlier_file_and_a_corrected_version(tmp_path: Path) -> None:
    """Identity across files (an earlier small file holds one of the articles), and a
    corrected version of the large file updating its own records, in pieces as whole."""
    first = tmp_path / "in" / "a" / "early.jsonl"
    first.parent.mkdir(parents=True)
    first.write_text(json.dumps(record(5)) + "\n", encoding="utf-8")
    path = tmp_path / "in" / "wire.jsonl"
    path.write_text("\n".join(lines_of(30)) + "\n", encoding="utf-8")
    corrected = lines_of(30)
    corrected[12] = json.dumps(record(12, paragraphs=["A corrected paragraph."]))
    again = tmp_path / "in" / "b" / "wire.jsonl"
    again.parent.mkdir()
    again.write_text("\n".join(corrected) + "\n", encoding="utf-8")
    reports = []
    for name, size in (("whole", WHOLE), ("pieces", 300)):
        corpus = Corpus(tmp_path / name)
        first_run = ingest_files(corpus, [first, path], jobs=2, chunk_bytes=size)
        second_run = ingest_files(corpus, [again], jobs=2, chunk_bytes=size)
        reports.append((shown(first_run.problems), first_run.changes,
                        shown(second_run.problems), second_run.changes))
    assert reports[0] == reports[1]
    assert [p[0] for p in reports[1][0]] == ["duplicate-article"]
    assert sum(1 for c in reports[1][3] if c.changed or c.added or c.removed) == 1
    assert tree(tmp_path / "pieces") == tree(tmp_path / "whole")


def test_chunk_boundaries_are_byte_offsets_of_the_copy(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_bytes("é\n".encode() * 50)  # (two-byte characters: offsets are bytes)
    chunks = scan(path, tmp_path / "copy", "wire.example", WHOLE, 100, chunk_bytes=7).chunks
    assert chunks[:2] == [Chunk(0, 6, 1), Chunk(6, 12, 3)]
