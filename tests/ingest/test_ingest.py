"""ingest.py in-process: the seed page, stable ids, the JSON door, decoding and robustness."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT, copy_seed, read_article, seed_path, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from paratopics.corpus.records import BODY_SEPARATOR, Provenance
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, Problem
from paratopics.ingest.core import (
    Draft,
    Licensing,
    article_id,
    ingest_files,
    make_article,
    parse,
    resolve_licence,
    source_folder_name,
)
from paratopics.ingest.normalize import is_normalized

TITLE = "Russia, Pakistan Agree to Boost Military Cooperation Against Terror, Sea Piracy"
HEADINGS = ("Afghan peace", "US-Taliban deal", "Gas pipeline")
ID_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{10}")


def seed_bytes() -> bytes:
    return seed_path().read_bytes()


def seed_text() -> str:
    return seed_bytes().decode("utf-8")


def one_draft(raw: bytes, name: str = "page.txt") -> Draft:
    parsed = parse(raw, name)
    assert not parsed.problems, parsed.problems
    assert len(parsed.drafts) == 1
    return parsed.drafts[0]


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


# -- the seed page ---------------------------------------------------------------------


def test_seed_metadata(seeded: Corpus) -> None:
    record = read_article(seeded)
    assert record["title"] == TITLE
    assert record["authors"] == ["Ayaz Gul"]
    assert record["published"] == "2021-04-07"
    assert record["section"] == "Weapons of Mass Destruction (WMD)"
    assert record["source"] == "globalsecurity.org"
    assert record["url"] is None
    assert record["language"] == "en"
    assert ID_PATTERN.fullmatch(str(record["article_id"]))
    assert str(record["article_id"]).startswith("russia-pakistan-agree-to-boost-military-")
    assert seeded.article_files()[0].name == f"{record['article_id']}.json"


def test_seed_provenance_and_raw_copy(seeded: Corpus) -> None:
    record = read_article(seeded)
    raw = seed_bytes()
    provenance = record["ingested_from"]
    assert provenance == {
        "path": f"sources/globalsecurity.org/{seed_path().name}",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "format": "globalsecurity",
        "record": None,
    }
    assert (seeded.root / provenance["path"]).read_bytes() == raw  # type: ignore[index]


def test_seed_paragraphs_and_headings(seeded: Corpus) -> None:
    paragraphs = read_article(seeded)["paragraphs"]
    assert isinstance(paragraphs, list)
    assert len(paragraphs) == 27
    assert [p["index"] for p in paragraphs] == list(range(27))
    headings = [p["heading"] for p in paragraphs]
    assert headings == [None] * 5 + ["Afghan peace"] * 8 + ["US-Taliban deal"] * 3 + [
        "Gas pipeline"] * 11
    assert {h for h in headings if h} == set(HEADINGS)
    first_under = {h: next(p["text"] for p in paragraphs if p["heading"] == h) for h in HEADINGS}
    assert first_under["Afghan peace"].startswith("Lavrov said Wednesday")
    assert first_under["US-Taliban deal"].startswith("President Joe Biden's new administration")
    assert first_under["Gas pipeline"].startswith("Lavrov and Qureshi both reported Wednesday")
    assert paragraphs[0]["text"].startswith("Russia reaffirmed Wednesday it will enhance")
    assert paragraphs[-1]["text"].startswith('"We have no hostile designs toward any country')
    assert paragraphs[-1]["text"].endswith('the Pakistani army chief asserted.')


def test_seed_has_no_site_chrome(seeded: Corpus) -> None:
    record = read_article(seeded)
    texts = [p["text"] for p in record["paragraphs"]]  # type: ignore[union-attr]
    for text in texts:
        for chrome in ("UNITED24", "mailing list", "charitable donation", "GlobalSecurity.org"):
            assert chrome not in text
        assert text not in HEADINGS
        assert text != TITLE
        assert not text.startswith("By Ayaz Gul")
        assert text != record["section"]
    whole = json.dumps(record, ensure_ascii=False)
    assert "UNITED24" not in whole
    assert "mailing list" not in whole


def test_seed_keeps_em_dash_and_quotes(seeded: Corpus) -> None:
    texts = [p["text"] for p in read_article(seeded)["paragraphs"]]  # type: ignore[union-attr]
    quote = next(t for t in texts if t.startswith('"We are making necessary efforts'))
    assert "north-south gas pipeline \u2014 the flagship project" in quote
    assert "\u00e2\u20ac" not in quote
    assert any('"relevant military" hardware' in t for t in texts)


def test_seed_offsets_and_hashes(seeded: Corpus) -> None:
    paragraphs = read_article(seeded)["paragraphs"]
    texts = [p["text"] for p in paragraphs]  # type: ignore[union-attr]
    body = BODY_SEPARATOR.join(texts)
    assert BODY_SEPARATOR == "\n\n"
    for p in paragraphs:  # type: ignore[union-attr]
        assert body[p["start"]:p["end"]] == p["text"]
        assert p["end"] - p["start"] == len(p["text"])
        assert p["sha256"] == hashlib.sha256(p["text"].encode("utf-8")).hexdigest()
        assert is_normalized(p["text"])
    assert paragraphs[0]["start"] == 0
    assert paragraphs[-1]["end"] == len(body)


def test_seed_paragraphs_match_the_page() -> None:
    """Every body paragraph of the page is there, in order, none invented."""
    blocks = [b.strip() for b in seed_text().split("\n\n") if b.strip()]
    start = blocks.index("By Ayaz Gul April 07, 2021") + 1
    body = [b for b in blocks[start:-1] if b not in HEADINGS]
    assert blocks[-1].startswith("Join the GlobalSecurity.org mailing list")
    draft = one_draft(seed_bytes())
    assert [text for _, text in draft.paragraphs] == body


# -- a stable article_id ------------------------------------------------------------------


def _variants() -> dict[str, bytes]:
    raw = seed_bytes()
    text = raw.decode("utf-8")
    assert "\u2014" in text
    lines = text.split("\n")
    return {
        "crlf": raw.replace(b"\n", b"\r\n"),
        "cr": raw.replace(b"\n", b"\r"),
        "bom": b"\xef\xbb\xbf" + raw,
        "bom-crlf": b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"),
        "trailing-space-blank-lines": ("\n".join(line + "  \t" for line in lines)
                                       .replace("\n\n", "\n\n\n\n") + "\n\n\n").encode(),
        "cp1252-mojibake": text.replace("\u2014", "\u00e2\u20ac\u201d").encode("utf-8"),
        "nbsp-and-zero-width": text.replace("Ayaz Gul", "Ayaz\u00a0Gul")
                                   .replace("Lavrov said", "Lav\u200brov said").encode("utf-8"),
    }


@pytest.mark.parametrize("variant", sorted(_variants()))
def test_article_id_and_text_survive_noise(variant: str) -> None:
    reference = one_draft(seed_bytes())
    noisy = one_draft(_variants()[variant])
    assert article_id(noisy) == article_id(reference)
    assert ID_PATTERN.fullmatch(article_id(noisy))
    assert noisy.title == reference.title
    assert noisy.authors == reference.authors
    assert noisy.published == reference.published
    assert noisy.paragraphs == reference.paragraphs


def test_noisy_copy_reingested_under_same_name_keeps_id(corpus: Corpus, tmp_path: Path) -> None:
    first = ingest_files(corpus, [seed_path()])
    noisy = tmp_path / "noisy" / seed_path().name
    noisy.parent.mkdir()
    noisy.write_bytes(_variants()["crlf"])
    second = ingest_files(corpus, [noisy])
    assert not second.problems
    assert [c.article_id for c in second.changes] == [c.article_id for c in first.changes]
    assert second.changes[0].changed == ()  # only the raw file's hash differs
    assert len(corpus.article_files()) == 1


def test_article_id_depends_on_identity() -> None:
    reference = one_draft(seed_bytes())
    other_title = one_draft(seed_bytes().replace(b"Sea Piracy\n", b"Sea Pirates\n", 1))
    other_date = one_draft(seed_bytes().replace(b"April 07, 2021", b"April 08, 2021"))
    ids = {article_id(reference), article_id(other_title), article_id(other_date)}
    assert len(ids) == 3
    assert other_date.published == "2021-04-08"


# -- the JSON door --------------------------------------------------------------------------

BASE = {
    "title": "Navies Hold Joint Drill in Arabian Sea",
    "authors": ["Jane Doe", "John Roe"],
    "published": "2021-05-02",
    "url": "https://example.org/news/navies-drill",
    "source": "example.org",
    "license": "CC-BY-4.0",
    "attribution": "Example News, https://example.org/news/navies-drill",
}


def _write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _ingest_one(corpus: Corpus, path: Path) -> dict[str, object]:
    report = ingest_files(corpus, [path])
    assert not report.problems, report.problems
    return read_article(corpus)


def test_json_body_split_on_blank_lines(corpus: Corpus, tmp_path: Path) -> None:
    body = "First  paragraph,\r\nwrapped.\r\n\r\n\r\nSecond\u00a0paragraph.\n \nThird."
    path = _write_json(tmp_path / "in" / "drill.json", {**BASE, "body": body})
    record = _ingest_one(corpus, path)
    assert [p["text"] for p in record["paragraphs"]] == [  # type: ignore[union-attr]
        "First paragraph, wrapped.", "Second paragraph.", "Third."]
    assert all(p["heading"] is None for p in record["paragraphs"])  # type: ignore[union-attr]
    assert record["title"] == BASE["title"]
    assert record["authors"] == BASE["authors"]
    assert record["url"] == BASE["url"]
    assert record["source"] == "example.org"
    assert record["ingested_from"] == {
        "path": "sources/example.org/drill.json",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "format": "json",
        "record": None,
    }
    assert (corpus.root / "sources/example.org/drill.json").read_bytes() == path.read_bytes()


def test_json_paragraph_strings(corpus: Corpus, tmp_path: Path) -> None:
    items = ["  One. ", "", "Two\u200b words.", "e\u0301te\u0301."]
    path = _write_json(tmp_path / "p.json", {**BASE, "paragraphs": items})
    record = _ingest_one(corpus, path)
    assert [p["text"] for p in record["paragraphs"]] == [  # type: ignore[union-attr]
        "One.", "Two words.", "\u00e9t\u00e9."]


def test_json_paragraph_objects_with_headings(corpus: Corpus, tmp_path: Path) -> None:
    items = [
        {"text": "Lead paragraph.", "heading": None},
        {"text": "Under the heading.", "heading": " Maritime\u00a0security "},
        {"text": "Still under it.", "heading": "Maritime security"},
        {"text": "No heading key."},
    ]
    record = _ingest_one(corpus, _write_json(tmp_path / "o.json", {**BASE, "paragraphs": items}))
    assert [(p["heading"], p["text"]) for p in record["paragraphs"]] == [  # type: ignore[union-attr]
        (None, "Lead paragraph."),
        ("Maritime security", "Under the heading."),
        ("Maritime security", "Still under it."),
        (None, "No heading key."),
    ]


def test_json_array_records_numbered(corpus: Corpus, tmp_path: Path) -> None:
    second = {**BASE, "title": "Second Story", "url": "https://example.org/2", "body": "B."}
    path = _write_json(tmp_path / "many.json", [{**BASE, "body": "A."}, second])
    report = ingest_files(corpus, [path])
    assert not report.problems
    records = [json.loads(f.read_text("utf-8")) for f in corpus.article_files()]
    assert sorted(r["ingested_from"]["record"] for r in records) == [1, 2]
    assert {r["ingested_from"]["format"] for r in records} == {"json"}
    by_record = {r["ingested_from"]["record"]: r for r in records}
    assert by_record[2]["title"] == "Second Story"


def test_jsonl_records_numbered_by_line(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [json.dumps({**BASE, "title": f"Story {n}", "url": f"https://example.org/{n}",
                         "body": f"Body {n}."}) for n in range(3)]
    path.write_text(lines[0] + "\n" + lines[1] + "\n\n" + lines[2] + "\n", encoding="utf-8")
    report = ingest_files(corpus, [path])
    assert not report.problems
    records = {json.loads(f.read_text("utf-8"))["title"]: json.loads(f.read_text("utf-8"))
               for f in corpus.article_files()}
    assert {t: r["ingested_from"]["record"] for t, r in records.items()} == {
        "Story 0": 1, "Story 1": 2, "Story 2": 4}
    assert {r["ingested_from"]["format"] for r in records.values()} == {"jsonl"}


def test_jsonl_bad_lines_reported_good_lines_ingested(corpus: Corpus, tmp_path: Path) -> None:
    good = [{**BASE, "title": f"Story {n}", "url": f"https://example.org/{n}", "body": "Text."}
            for n in range(3)]
    no_title = {k: v for k, v in good[1].items() if k != "title"}
    bad_date = {**good[2], "title": "Dated badly", "url": "https://example.org/x",
                "published": "2021-13-45"}
    path = write_jsonl(tmp_path / "mixed.jsonl", [good[0], no_title, good[2], bad_date])
    report = ingest_files(corpus, [path])
    assert sorted(codes(report.problems)) == ["bad-field", "missing-field"]
    missing = next(p for p in report.problems if p.code == "missing-field")
    assert (missing.file, missing.line, missing.pointer) == (str(path), 2, "/title")
    assert "title" in missing.message
    bad = next(p for p in report.problems if p.code == "bad-field")
    assert (bad.file, bad.line, bad.pointer) == (str(path), 4, "/published")
    assert "2021-13-45" in bad.message
    titles = sorted(json.loads(f.read_text("utf-8"))["title"] for f in corpus.article_files())
    assert titles == ["Story 0", "Story 2"]


@pytest.mark.parametrize(("change", "code", "pointer"), [
    ({"title": None}, "missing-field", "/title"),
    ({"title": "   "}, "bad-field", "/title"),
    ({"title": 42}, "bad-field", "/title"),
    ({"published": None}, "missing-field", "/published"),
    ({"published": "07/04/2021"}, "bad-field", "/published"),
    ({"published": "2021-02-30"}, "bad-field", "/published"),
    ({"authors": "Jane Doe"}, "bad-field", "/authors"),
    ({"authors": ["Jane", 7]}, "bad-field", "/authors"),
    ({"body": None, "paragraphs": "not a list"}, "bad-field", "/paragraphs"),
    ({"body": None, "paragraphs": [{"heading": "h"}]}, "bad-field", "/paragraphs/0"),
    ({"body": None, "paragraphs": [{"text": "t", "heading": 3}]}, "bad-field",
     "/paragraphs/0/heading"),
    ({"body": None}, "missing-field", "/body"),
    ({"body": 12}, "bad-field", "/body"),
    ({"source": None}, "missing-field", "/source"),
])
def test_json_record_problems(corpus: Corpus, tmp_path: Path, change: dict[str, object],
                              code: str, pointer: str) -> None:
    record = {**BASE, "body": "Some text.", **change}
    record = {k: v for k, v in record.items() if v is not None}
    path = _write_json(tmp_path / "one.json", record)
    report = ingest_files(corpus, [path])
    assert [(p.code, p.file, p.pointer) for p in report.problems] == [(code, str(path), pointer)]
    assert not report.changes
    assert corpus.article_files() == []
    assert not any(corpus.sources.iterdir())


def test_json_door_source_flag_fills_missing_source(corpus: Corpus, tmp_path: Path) -> None:
    record = {k: v for k, v in BASE.items() if k != "source"}
    path = _write_json(tmp_path / "nosrc.json", {**record, "body": "Text."})
    report = ingest_files(corpus, [path], source="wire.example")
    assert not report.problems
    assert read_article(corpus)["source"] == "wire.example"
    assert (corpus.root / "sources/wire.example/nosrc.json").is_file()


def test_title_punctuation_does_not_split_an_article(corpus: Corpus, tmp_path: Path) -> None:
    """identity_key ignores punctuation and case in the title, so the id must as well:
    a copy whose apostrophes were straightened is the same article, not a second one."""
    record = {k: v for k, v in BASE.items() if k != "url"}
    title = "Pakistan\u2019s Army Chief Visits Moscow"
    curly = _write_json(tmp_path / "curly.json", {**record, "title": title, "body": "T."})
    straight = _write_json(tmp_path / "straight.json",
                           {**record, "title": title.replace("\u2019", "'"), "body": "T."})
    report = ingest_files(corpus, [curly, straight])
    assert codes(report.problems) == ["duplicate-article"]
    assert len(corpus.article_files()) == 1


def test_json_same_url_is_same_article(corpus: Corpus, tmp_path: Path) -> None:
    """With a URL, identity is source + URL: a retitled story keeps its id."""
    first = _write_json(tmp_path / "a.json", {**BASE, "body": "Text."})
    second = _write_json(tmp_path / "b.json", {**BASE, "title": "Retitled Story", "body": "T."})
    report = ingest_files(corpus, [first, second])
    assert codes(report.problems) == ["duplicate-article"]
    assert report.problems[0].file == str(second)
    assert str(first) in report.problems[0].message
    assert len(corpus.article_files()) == 1


# -- whole-file problems, in-process ------------------------------------------------------


WHOLE_FILE_PROBLEMS = [
    ("empty", b"", "file-empty"),
    ("whitespace-only", b" \n\r\n\t\n", "file-empty"),
    ("bom-only", b"\xef\xbb\xbf", "file-empty"),
    ("bom-and-blank-lines", b"\xef\xbb\xbf\n\n", "file-empty"),
    ("nul-bytes", b"text\x00more text", "binary-file"),
    ("utf-16", "UTF-16 text".encode("utf-16"), "utf16-file"),  # named as such, not binary
    ("png", b"\x89PNG\r\n\x1a\nrest", "binary-file"),
    ("zip", b"PK\x03\x04rest", "binary-file"),
    ("pdf", b"%PDF-1.7\nrest", "binary-file"),
    ("gzip", b"\x1f\x8b\x08rest", "binary-file"),
    ("latin-1", b"caf\xe9 au lait", "not-utf8"),
    ("invalid-bytes", b"ok\n\xff\xfe", "not-utf8"),
    ("html-doctype", b"<!DOCTYPE html>\n<html><body>By X April 07, 2021</body></html>",
     "html-page"),
    ("html-tag", b"  \n<html lang='en'>\n<p>x</p></html>", "html-page"),
    ("html-after-bom", b"\xef\xbb\xbf<!doctype html><title>t</title>", "html-page"),
    # browsers prepend this "mark of the web" comment when they save a page
    ("html-saved-from-comment",
     b"<!-- saved from url=(0014)about:internet -->\n<html>\n<head><title>Russia</title>"
     b"</head>\n<body>\n<p>Weapons</p>\n<p>Title</p>\n<p>By Ayaz Gul April 07, 2021</p>\n"
     b"<p>Body.</p>\n</body>\n</html>\n", "html-page"),
    ("no-byline", b"Just one line with no byline", "no-byline"),
    ("byline-without-title", b"By Ayaz Gul April 07, 2021\n\nBody first.", "no-byline"),
    ("impossible-date", b"Title\n\nBy Ayaz Gul February 30, 2021\n\nBody.", "no-byline"),
    ("no-body", b"Section\n\nTitle\n\nBy Ayaz Gul April 07, 2021\n\n", "no-body"),
]


@pytest.mark.parametrize(("raw", "code"), [(r, c) for _, r, c in WHOLE_FILE_PROBLEMS],
                         ids=[name for name, _, _ in WHOLE_FILE_PROBLEMS])
def test_whole_file_problems(raw: bytes, code: str) -> None:
    with pytest.raises(ParatopicsError) as caught:
        parse(raw, "input.txt")
    assert caught.value.problem.code == code
    assert caught.value.problem.file == "input.txt"
    assert "input.txt" in str(caught.value)


def test_not_utf8_names_line(tmp_path: Path) -> None:
    text = seed_text()
    line = text[: text.index("\u2014")].count("\n") + 1
    with pytest.raises(ParatopicsError) as caught:
        parse(text.encode("cp1252"), "cp.txt")
    assert caught.value.problem.code == "not-utf8"
    assert caught.value.problem.line == line


def test_dateline_without_author() -> None:
    draft = one_draft(b"Section\n\nA Title Here\n\nApril 7, 2021\n\nThe body.")
    assert (draft.title, draft.authors, draft.published) == ("A Title Here", [], "2021-04-07")
    assert draft.section == "Section"


def test_byline_with_several_authors() -> None:
    draft = one_draft(b"Sec\n\nTitle\n\nBy Ann Lee, Bo Park and Cy Dee Sept. 3, 2020\n\nBody.")
    assert draft.authors == ["Ann Lee", "Bo Park", "Cy Dee"]
    assert draft.published == "2020-09-03"


def test_same_file_twice_in_one_batch_is_not_a_duplicate(corpus: Corpus) -> None:
    """`paratopics ingest a.txt a.txt` (or a glob that lists a file twice) names one file,
    not two different files that are the same article."""
    report = ingest_files(corpus, [seed_path(), seed_path()])
    assert report.problems == []
    assert len(corpus.article_files()) == 1


def test_bad_file_does_not_stop_batch(corpus: Corpus, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.txt"
    seed = copy_seed(tmp_path / "in" / seed_path().name)
    report = ingest_files(corpus, [empty, missing, seed])
    assert codes(report.problems) == ["file-empty", "file-missing"]
    assert [c.status for c in report.changes] == ["new"]
    assert report.files == 3
    assert len(corpus.article_files()) == 1


def test_source_too_long_for_a_folder_name_is_a_problem(corpus: Corpus, tmp_path: Path) -> None:
    """A source that would make a folder name longer than the file system allows (255
    bytes) is reported as a problem of that file, not raised as an OSError."""
    path = _write_json(tmp_path / "long.json", {**BASE, "source": "wire" * 80, "body": "T."})
    report = ingest_files(corpus, [path])
    assert [p.file for p in report.problems] == [str(path)]
    assert corpus.article_files() == []


def test_size_limit(corpus: Corpus) -> None:
    size = seed_path().stat().st_size
    report = ingest_files(corpus, [seed_path()], max_bytes=size - 1)
    assert codes(report.problems) == ["file-too-large"]
    assert str(size) in report.problems[0].message
    assert corpus.article_files() == []
    report = ingest_files(corpus, [seed_path()], max_bytes=size)
    assert report.problems == []


def test_jsonl_line_limit(corpus: Corpus, tmp_path: Path) -> None:
    small = {**BASE, "body": "Short."}
    big = {**BASE, "title": "Big", "url": "https://example.org/big", "body": "x " * 2000}
    path = write_jsonl(tmp_path / "lines.jsonl", [small, big])
    report = ingest_files(corpus, [path], max_line_bytes=1000)
    assert [(p.code, p.line) for p in report.problems] == [("line-too-long", 2)]
    assert len(corpus.article_files()) == 1


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl", "deep.txt"])
def test_deeply_nested_json_is_a_clean_problem(corpus: Corpus, tmp_path: Path,
                                               name: str) -> None:
    path = tmp_path / name
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    report = ingest_files(corpus, [path])
    assert codes(report.problems) == ["json-syntax"]
    assert corpus.article_files() == []


# -- robustness on arbitrary input -----------------------------------------------------------

_LINES = st.one_of(
    st.text(st.characters(), max_size=60),
    st.sampled_from([
        "By Ayaz Gul April 07, 2021", "April 7, 2021", "By A and B Sept. 31, 2021",
        "Weapons of Mass Destruction (WMD)", TITLE, "Afghan peace", "UNITED24 - donate",
        "Join the GlobalSecurity.org mailing list", "Copyright 2021", "\u00a9 2021",
        '"A quote."', "- a list item", "Body text here.", "", "\r\n", "\ufeff", "{", "[",
        "<html>", "\u200b", "â€”",
    ]),
)
_PAGES = st.lists(_LINES, max_size=14).flatmap(
    lambda lines: st.sampled_from(["\n\n", "\n", "\r\n\r\n"]).map(lambda sep: sep.join(lines)))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.sampled_from(["2021-04-07", "A title", "Body.\n\nMore."]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["title", "authors", "published", "body", "paragraphs",
                                       "text", "heading", "section", "x"]),
                      children, max_size=6),
    max_leaves=12,
)


@functools.cache
def _article_validator() -> Draft202012Validator:
    schema = json.loads((ROOT / "schema/article.schema.json")
                        .read_text("utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check_parse(raw: bytes, name: str, fmt: str = "auto", source: str | None = None) -> None:
    """parse() either raises a ParatopicsError naming the file, or reports problems naming
    it, and every draft it yields becomes a schema-valid record."""
    validator = _article_validator()
    try:
        parsed = parse(raw, name, fmt, source)
    except ParatopicsError as exc:
        assert exc.problem.code
        assert exc.problem.file == name
        return
    for found in parsed.problems:
        assert found.code and found.file == name
    for draft in parsed.drafts:
        try:  # the terms the command line gives for inputs that state none
            resolve_licence(draft, Licensing("CC0-1.0", "Test, https://example.org/"))
        except ParatopicsError as exc:  # the input states a malformed licence
            assert exc.problem.code == "licence"
            continue
        folder = source_folder_name(draft.source)
        record = make_article(draft, Provenance(path=f"sources/{folder}/x.txt", sha256="0" * 64,
                                                format=parsed.format, record=draft.record))
        errors = [e.message for e in validator.iter_errors(record)]
        assert errors == [], (raw, errors)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PAGES, st.sampled_from(["page.txt", "page.json", "page.jsonl", "page"]))
def test_parse_raises_only_its_own_errors_on_text(page: str, name: str) -> None:
    _check_parse(page.encode("utf-8", "surrogatepass"), name)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["auto", "globalsecurity", "json", "jsonl"]))
def test_parse_raises_only_its_own_errors_on_bytes(raw: bytes, fmt: str) -> None:
    _check_parse(raw, "blob.txt", fmt)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_JSON, min_size=1, max_size=3), st.sampled_from(["x.json", "x.jsonl"]))
def test_parse_raises_only_its_own_errors_on_json(values: list[object], name: str) -> None:
    if name.endswith(".jsonl"):
        raw = "\n".join(json.dumps(v) for v in values)
    else:
        raw = json.dumps(values if len(values) > 1 else values[0])
    _check_parse(raw.encode("utf-8"), name, source="example.org")


def test_record_problems_are_jsonschemas_own_for_valid_and_broken_records() -> None:
    """The compiled fast path only spares jsonschema for valid records: every broken
    variant still gets jsonschema's errors, word for word."""
    from paratopics.corpus.records import Provenance
    from paratopics.ingest.core import Draft, _article_validator, make_article, record_problems

    article = make_article(Draft(source="state.gov", title="A title", authors=["X"],
                                 published="2022-08-03", paragraphs=[(None, "Text.")],
                                 url="https://www.state.gov/a/", section=None,
                                 language="en", record=1,
                                 license="LicenseRef-US-Government-Work",
                                 attribution="U.S. Department of State, https://www.state.gov"),
                           Provenance(path="sources/state.gov/f.rss", sha256="0" * 64,
                                      format="rss", record=1))
    broken = [{"published": "2022-13-01"}, {"title": ""}, {"authors": ["X", 7]},
              {"language": "english"}, {"url": "not a url\n"}, {"source": 3},
              {"ingested_from": {"path": "x", "sha256": "0", "format": "rss"}},
              {"extra": True}, {"paragraphs": []}]
    assert record_problems(article, "f.rss", 1) == []
    for change in broken:
        record = {**article, **change}
        expected = sorted(e.message for e in _article_validator().iter_errors(
            {**record, "paragraphs": record["paragraphs"][:1]}))
        found = record_problems(record, "f.rss", 1)  # type: ignore[arg-type]
        assert expected, change
        assert sorted(p.message.split(" (fix the input")[0] for p in found
                      if p.code == "schema") == expected
