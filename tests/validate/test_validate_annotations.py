"""`paratopics validate` on annotation files: every bad input of issue 3, reported precisely.

Each test builds its own corpus in a temporary folder around the seed article,
runs the real validator (in process for detail, through the real CLI for
output formats and exit codes) and checks code, file, line and JSON pointer of
every problem, that the run goes on past each one, and that nothing changed.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from judgement_helpers import judgement, line, located, run_all, snapshot, the_article

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.validate.annotations import (
    MAX_ANNOTATION_LINE_BYTES,
    AnnotationState,
    check_annotation_file,
)
from paratopics.validate.core import validate_corpus
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker

BOM = b"\xef\xbb\xbf"
HUGE_BYTES = 50 * 1024 * 1024
BOOK = codebook.load()
RETIRED = next(n for n in BOOK.nodes if n["status"] == "retired")
TERROR, COUNTER = "medtop:20000053", "paratopics:counter-terrorism"
A = "corpus/annotations/"


def test_codebook_has_the_labels_these_tests_use() -> None:
    assert TERROR in BOOK and COUNTER in BOOK
    assert not BOOK.is_retired(TERROR) and not BOOK.is_retired(COUNTER)
    assert RETIRED["replaced_by"] in BOOK


def huge_line() -> bytes:
    """One 50 MB JSON line (valid JSON, far over the line limit)."""
    head, tail = b'{"note": "', b'"}\n'
    return head + b"x" * (HUGE_BYTES - len(head) - len(tail)) + tail


def build_bad_corpus(corpus: Corpus) -> list[tuple[str, str, int | None, str]]:
    """Annotation files with every bad input; returns the problems expected, in order."""
    art = the_article(corpus)
    good = judgement(art, 0, [TERROR])
    files: dict[str, bytes] = {
        # a truncated last line: the file ends in the middle of a record
        "a_truncated.jsonl": line(good) + line(judgement(art, 1, []))[:40],
        # invalid JSON in the middle; the lines after it are still checked
        "b_middle.jsonl": b"".join([
            line(judgement(art, 0, [TERROR], "team-b")),
            b'{"article_id": "x", oops}\n',
            line(judgement(art, 1, [], "team-b")),
            line(judgement(art, 2, ["Paratopics:Counter-Terrorism"], "team-b")),
        ]),
        # a byte-order mark; the line is still checked (its label has stray spaces)
        "c_bom.jsonl": BOM + line(judgement(art, 0, [f" {TERROR} "], "team-c")),
        # CRLF line endings on every line
        "d_crlf.jsonl": b"".join(
            line(judgement(art, i, [COUNTER], "team-d")).replace(b"\n", b"\r\n")
            for i in (0, 1)),
        # a 50 MB single line between two judgements; paragraph 10**9 after it
        "e_huge.jsonl": b"".join([
            line(judgement(art, 0, [], "team-e")),
            huge_line(),
            line({**judgement(art, 1, [], "team-e"), "paragraph_index": 10**9}),
        ]),
        # paragraph -1 (schema) and an article id that is well-formed but unknown
        "f_index.jsonl": b"".join([
            line({**judgement(art, 0, [], "team-f"), "paragraph_index": -1}),
            line({**judgement(art, 0, [], "team-f"), "article_id": "no-such-story-0123456789"}),
        ]),
        # meaning: a retired label; a paragraph judged twice, across files and within one
        "g_meaning.jsonl": b"".join([
            line(judgement(art, 3, [RETIRED["id"]], "team-g")),
            line(judgement(art, 0, [COUNTER])),  # team-a judged paragraph 0 in a_truncated
            line(judgement(art, 4, [], "team-g")),
            line(judgement(art, 4, [TERROR], "team-g")),
        ]),
        # fields: empty annotator, impossible date, date-time without a time zone
        "h_fields.jsonl": b"".join([
            line(judgement(art, 5, [], "")),
            line(judgement(art, 5, [], "team-h", created="2021-13-45T00:00:00Z")),
            line(judgement(art, 6, [], "team-h", created="2021-04-07T10:00:00")),
        ]),
    }
    for name, data in files.items():
        (corpus.annotations / name).write_bytes(data)
    return [
        ("json-syntax", A + "a_truncated.jsonl", 2, ""),
        ("json-syntax", A + "b_middle.jsonl", 2, ""),
        ("unknown-label", A + "b_middle.jsonl", 4, "/labels/0"),
        ("encoding-marks", A + "c_bom.jsonl", 1, ""),
        ("unknown-label", A + "c_bom.jsonl", 1, "/labels/0"),
        ("encoding-marks", A + "d_crlf.jsonl", 1, ""),
        ("encoding-marks", A + "d_crlf.jsonl", 2, ""),
        ("line-too-long", A + "e_huge.jsonl", 2, ""),
        ("unknown-paragraph", A + "e_huge.jsonl", 3, "/paragraph_index"),
        ("schema", A + "f_index.jsonl", 1, "/paragraph_index"),
        ("unknown-article", A + "f_index.jsonl", 2, "/article_id"),
        ("retired-label", A + "g_meaning.jsonl", 1, "/labels/0"),
        ("duplicate-judgement", A + "g_meaning.jsonl", 2, "/annotator"),
        ("duplicate-judgement", A + "g_meaning.jsonl", 4, "/annotator"),
        ("schema", A + "h_fields.jsonl", 1, "/annotator"),
        ("schema", A + "h_fields.jsonl", 2, "/created"),
        ("schema", A + "h_fields.jsonl", 3, "/created"),
    ]


@pytest.fixture
def bad(seeded: Corpus, monkeypatch: pytest.MonkeyPatch) -> tuple[Corpus, list[Any]]:
    monkeypatch.chdir(seeded.root.parent)
    return seeded, build_bad_corpus(seeded)


def by_location(problems: list[Any]) -> dict[tuple[str, int | None, str], Any]:
    return {(p.file.rsplit("/", 1)[-1], p.line, p.code): p for p in problems}


def test_every_bad_input_is_reported_at_its_place_and_the_run_goes_on(bad: Any) -> None:
    corpus, expected = bad
    summary = validate_corpus(corpus)
    assert located([p.to_dict() for p in summary.problems]) == expected
    assert summary.annotation_files == 8
    assert summary.annotation_lines == 2 + 4 + 1 + 2 + 3 + 2 + 4 + 3


def test_messages_say_what_is_wrong(bad: Any) -> None:
    corpus, _ = bad
    found = by_location(validate_corpus(corpus).problems)
    truncated = found[("a_truncated.jsonl", 2, "json-syntax")].message
    assert "truncated" in truncated
    assert "truncated" not in found[("b_middle.jsonl", 2, "json-syntax")].message
    assert "did you mean 'paratopics:counter-terrorism'" in (
        found[("b_middle.jsonl", 4, "unknown-label")].message)
    spaced = found[("c_bom.jsonl", 1, "unknown-label")].message
    assert f"' {TERROR} '" in spaced and f"did you mean '{TERROR}'" in spaced
    assert "byte-order mark" in found[("c_bom.jsonl", 1, "encoding-marks")].message
    assert "CRLF" in found[("d_crlf.jsonl", 2, "encoding-marks")].message
    assert found[("e_huge.jsonl", 2, "line-too-long")].message == (
        f"the line is {HUGE_BYTES - 1:,} bytes, over the limit of {MAX_ANNOTATION_LINE_BYTES} "
        "bytes")
    assert "no paragraph 1000000000 (it has 27: indexes 0-26)" in (
        found[("e_huge.jsonl", 3, "unknown-paragraph")].message)
    assert "-1 is less than the minimum of 0" in (
        found[("f_index.jsonl", 1, "schema")].message)
    assert "no-such-story-0123456789" in found[("f_index.jsonl", 2, "unknown-article")].message
    retired = found[("g_meaning.jsonl", 1, "retired-label")].message
    assert RETIRED["id"] in retired and f"use {RETIRED['replaced_by']}" in retired
    assert "a_truncated.jsonl:1" in found[("g_meaning.jsonl", 2, "duplicate-judgement")].message
    assert "g_meaning.jsonl:3" in found[("g_meaning.jsonl", 4, "duplicate-judgement")].message
    assert "does not match" in found[("h_fields.jsonl", 1, "schema")].message
    assert "'2021-13-45T00:00:00Z' is not a 'date-time'" in (
        found[("h_fields.jsonl", 2, "schema")].message)
    assert "'2021-04-07T10:00:00' is not a 'date-time'" in (
        found[("h_fields.jsonl", 3, "schema")].message)
    assert all(p.hint for p in found.values())


@pytest.mark.parametrize("created", ["2021-13-45T00:00:00Z", "2021-04-07T10:00:00",
                                     "2021-04-07", "yesterday", "2021-02-30T10:00:00Z"])
def test_the_format_checker_really_checks_date_time(created: str) -> None:
    validator = Checker(BOOK).annotation_schema
    record = {"article_id": "a-0123456789", "paragraph_index": 0, "paragraph_sha256": "0" * 64,
              "labels": [], "annotator": "x", "created": created}
    assert not validator.is_valid(record)
    assert validator.is_valid({**record, "created": "2021-04-07T10:00:00+05:00"})


def test_a_50_mb_line_is_skipped_in_bounded_memory(seeded: Corpus) -> None:
    path = seeded.annotations / "huge.jsonl"
    path.write_bytes(huge_line() + line(judgement(the_article(seeded), 0, [TERROR])))
    checker, index = Checker(BOOK), ArticleIndex()
    index.add(the_article(seeded))  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        found = list(check_annotation_file(path, seeded, checker, index, AnnotationState()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(p.code, p.line) for p in found] == [("line-too-long", 1)]
    # reading the line whole would take 50 MB (and more to decode it); the reader holds
    # at most one line-limit's worth (1 MiB) plus 64 KiB chunks
    assert peak < 4 * 1024 * 1024, peak


def test_a_stale_annotation_shows_the_judged_and_current_text(seeded: Corpus, cli: Any,
                                                   tmp_path: Path) -> None:
    art = the_article(seeded)
    old = art["paragraphs"][5]["text"]
    (seeded.annotations / "team.jsonl").write_bytes(line(judgement(art, 5, [TERROR])))
    # the source is corrected (same file name): paragraph 5 now says something else
    source = next(seeded.sources.rglob("*.txt"))
    fixed = tmp_path / "fixed" / source.name
    fixed.parent.mkdir()
    new = old.replace("Russia", "Moscow", 1)
    assert new != old
    fixed.write_text(source.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    report = ingest_files(seeded, [fixed])
    assert not report.problems
    assert [(c.status, c.changed) for c in report.changes] == [("updated", (5,))]
    before = snapshot(seeded.root)
    result = cli("validate", "--corpus", seeded.root, "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)
    assert located(problems) == [("stale-annotation", A + "team.jsonl", 1,
                                  "/paragraph_sha256")]
    message = problems[0]["message"]
    assert art["paragraphs"][5]["sha256"][:12] in message  # the judged hash
    # the text that was judged (kept in corpus/history/) and the text as it reads now,
    # each around where they differ, the difference marked
    judged, current = message.split(" is now ", 1)
    assert "«Russia»" in judged and "«Moscow»" in current, message
    at = old.index("Russia")
    assert old[max(0, at - 30):at] in judged and new[max(0, at - 30):at] in current
    assert snapshot(seeded.root) == before
    history = (seeded.history / f"{art['article_id']}.jsonl").read_text().splitlines()
    assert [json.loads(h)["text"] for h in history] == [old]


def test_an_annotation_file_outside_the_corpus_is_reported_and_still_checked(
        seeded: Corpus, cli: Any, tmp_path: Path) -> None:
    art = the_article(seeded)
    outside = tmp_path / "elsewhere" / "mine.jsonl"
    outside.parent.mkdir()
    outside.write_bytes(line(judgement(art, 0, ["terror"])) + line(judgement(art, 1, [])))
    before = snapshot(tmp_path)
    result = cli("validate", "--corpus", seeded.root, "--format", "json", "elsewhere/mine.jsonl",
                 cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)
    assert located(problems) == [
        ("annotation-outside", "elsewhere/mine.jsonl", None, ""),
        ("unknown-label", "elsewhere/mine.jsonl", 1, "/labels/0"),
    ]
    assert "corpus/annotations/" in problems[0]["message"]
    assert snapshot(tmp_path) == before


# -- through the real command line --------------------------------------------


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bad corpus validated once per output format, the three runs side by side."""
    from conftest import seed_path

    from paratopics.ingest.core import ingest_files as ingest

    corpus = Corpus(tmp_path_factory.mktemp("formats") / "corpus")
    for sub in ("sources", "articles", "annotations"):
        (corpus.root / sub).mkdir(parents=True)
    assert not ingest(corpus, [seed_path()]).problems
    expected = build_bad_corpus(corpus)
    before = snapshot(corpus.root.parent)
    from conftest import run_cli

    where = {"cwd": corpus.root.parent}
    runs = run_all(run_cli, *[(("validate", "--corpus", "corpus", *fmt), where)
                              for fmt in (["--format", "json"], ["--format", "github"], [])])
    return {"expected": expected, "json": runs[0], "github": runs[1], "text": runs[2],
            "unchanged": snapshot(corpus.root.parent) == before}


def test_json_output_lists_every_problem(formats: dict[str, Any]) -> None:
    result, expected = formats["json"], formats["expected"]
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)
    assert isinstance(problems, list)
    assert located(problems) == expected
    assert set(problems[0]) == {"code", "message", "file", "line", "pointer", "hint",
                                "severity"}


def test_github_output_annotates_the_lines(formats: dict[str, Any]) -> None:
    result, expected = formats["github"], formats["expected"]
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected)
    for text, (code, file, number, _pointer) in zip(lines, expected, strict=True):
        assert text.startswith(f"::error file={file},line={number},title="), text
        assert f"[{code}]" in text
    assert "17 problem(s)" in result.stderr


def test_text_output_names_file_line_and_pointer(formats: dict[str, Any]) -> None:
    result, expected = formats["text"], formats["expected"]
    assert result.returncode == 1, result.stderr
    for code, file, number, pointer in expected:
        where = f"{file}:{number}" + (f" {pointer}" if pointer else "")
        assert f"{where}: error [{code}]" in result.stdout
    assert result.stdout.count("    hint: ") == len(expected)


def test_validating_modifies_nothing(formats: dict[str, Any]) -> None:
    assert formats["unchanged"]


def test_valid_annotations_exit_0(seeded: Corpus, cli: Any) -> None:
    art = the_article(seeded)
    records = [judgement(art, i, [TERROR] if i % 2 else [], annotator)
               for i in range(len(art["paragraphs"])) for annotator in ("team-a", "team-b")]
    (seeded.annotations / "good.jsonl").write_bytes(b"".join(line(r) for r in records))
    result = cli("validate", "--corpus", seeded.root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert f"1 annotation file(s) with {len(records)} line(s): valid" in result.stderr


MISUSE = [
    (["validate", "--corpus", "corpus", "missing.jsonl"], "no such file"),
    (["validate", "--corpus", "corpus", "notes.txt"], "validate takes article records"),
    (["validate", "--corpus", "corpus", "--format", "xml"], "invalid choice"),
    (["agreement", "--corpus", "nope"], "no such folder"),
]


def test_misuse_exits_2(seeded: Corpus, cli: Any) -> None:
    (seeded.root.parent / "notes.txt").write_text("hello\n", encoding="utf-8")
    runs = run_all(cli, *[(tuple(args), {"cwd": seeded.root.parent}) for args, _ in MISUSE])
    for (args, says), result in zip(MISUSE, runs, strict=True):
        assert result.returncode == 2, (args, result.stdout + result.stderr)
        assert "usage:" in result.stderr and says in result.stderr, (args, result.stderr)


# -- the compiled fast path agrees with jsonschema ------------------------------

VALIDATOR = Checker(BOOK).annotation_schema
FAST = Checker(BOOK).annotation_valid
BASE = {"article_id": "a-0123456789", "paragraph_index": 0, "paragraph_sha256": "0" * 64,
        "labels": [TERROR], "annotator": "team-a", "created": "2024-05-01T12:00:00Z"}
NEAR = {
    "article_id": ["a-0123456789", "A-0123456789", "a-012345678", "a-0123456789\n",
                   "x" * 70 + "-0123456789", "", 7],
    "paragraph_index": [0, 3, -1, 1.0, 2.5, True, 10**9, "1", None],
    "paragraph_sha256": ["0" * 64, "0" * 63, "A" * 64, "0" * 64 + "\n", ["0" * 64]],
    "labels": [[], ["a"], ["a", "a"], [""], ["x" * 101], ["a"] * 21, [str(i) for i in range(20)],
               [1], [["a"]], [True, 1], "a", None],
    "annotator": ["a", "", "A", "a" * 64, "a" * 65, "a b", "-a", 0],
    "role": ["annotator", "adjudicator", "Adjudicator", None, 1],
    "created": ["2024-05-01T12:00:00Z", "2024-05-01t12:00:00z", "2021-13-45T00:00:00Z",
                "2021-04-07T10:00:00", "2021-02-29T00:00:00Z", "2020-02-29T00:00:00+05:30",
                "2024-05-01T12:00:00.123456-01:00", "2024-05-01 12:00:00Z", 5,
                "0000-01-01T00:00:00Z", "2024-02-28T23:59:59.5+23:59", "2024-05-01T12:00:00Z\n",
                "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-04-31T00:00:00Z",
                "\u0662\u0660\u0662\u0664-05-01T12:00:00Z", "2024-05-01T12:00:00+24:00"],
    "confidence": [0, 1, 0.5, -0.1, 1.5, True, float("nan"), "0.5", None],
    "note": ["", "x" * 2000, "x" * 2001, None],
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=2),
    max_leaves=4)


@st.composite
def near_records(draw: st.DrawFn) -> dict[str, object]:
    record: dict[str, object] = dict(BASE)
    for key in draw(st.sets(st.sampled_from(sorted(NEAR)), max_size=3)):
        record[key] = draw(st.sampled_from(NEAR[key]) | JSON_VALUES)
    for key in draw(st.sets(st.sampled_from(sorted(NEAR)), max_size=1)):
        record.pop(key, None)
    if draw(st.integers(0, 9)) == 0:
        record[draw(st.text(max_size=4))] = draw(JSON_VALUES)
    return record


def _unsure(record: dict[str, object]) -> bool:
    """jsonschema takes 2.0 as an integer; the fast path leaves that to jsonschema."""
    return isinstance(record.get("paragraph_index"), float)


def test_the_annotation_schema_is_compiled() -> None:
    assert FAST(BASE) is True  # not the "always ask jsonschema" fallback
    assert FAST({**BASE, "paragraph_index": -1}) is False


@given(near_records())
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_path_answers_as_jsonschema_does(record: dict[str, object]) -> None:
    expected = VALIDATOR.is_valid(record)
    if FAST(record):
        assert expected, record  # never accepts what jsonschema refuses
    else:
        assert not expected or _unsure(record), record  # refuses only what it must


@given(st.lists(near_records(), min_size=2, max_size=6))
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fast_path_answers_alike_in_any_order(records: list[dict[str, object]]) -> None:
    """Whatever came before, the fast path answers each record as jsonschema does."""
    for record in records:
        expected = VALIDATOR.is_valid(record)
        assert FAST(record) == expected or (expected and _unsure(record)), record


@pytest.mark.parametrize("ids", [
    ["a-0123456789", "a-0123456789x", "a-0123456789"],
    ["a-0123456789", "b-0123456789", "a-01234567890", "A-0123456789", "a-0123456789"],
])
def test_a_remembered_match_lets_no_other_string_through(ids: list[str]) -> None:
    for aid in ids:
        record = {**BASE, "article_id": aid}
        assert FAST(record) == VALIDATOR.is_valid(record), aid


DATE_PIECES = st.lists(st.sampled_from(
    ["0", "1", "2", "3", "9", "00", "28", "29", "31", "0000", "2024", "-", ":", "T", "t", "Z", "z",
     ".", "+", "\n", " ", "\u0662", "2024-02-", "T23:59:", "+05:30"]), max_size=14).map("".join)


@pytest.mark.parametrize("created", NEAR["created"])
def test_the_fast_path_on_each_near_date_time(created: object) -> None:
    record = {**BASE, "created": created}
    assert FAST(record) == VALIDATOR.is_valid(record), created


@given(DATE_PIECES)
@settings(max_examples=1500, deadline=None)
def test_the_date_time_shortcut_accepts_only_what_jsonschema_accepts(created: str) -> None:
    record = {**BASE, "created": created}
    assert not FAST(record) or VALIDATOR.is_valid(record), created
    if VALIDATOR.is_valid(record):
        assert FAST(record), created


def test_level1_topic_is_refused_as_a_label(seeded: Corpus) -> None:
    """Releases have classes only for level-2 and project nodes; level 1 is derived."""
    from paratopics.validate.core import validate_corpus

    article = the_article(seeded)
    path = seeded.annotations / "level1.jsonl"
    path.write_bytes(line(judgement(article, 0, ["medtop:16000000", "medtop:20000638"])))
    problems = validate_corpus(seeded).problems
    assert [(p.code, p.line, p.pointer) for p in problems] == [("level1-label", 1, "/labels/0")]
    assert "conflict, war and peace" in problems[0].message


def test_judgements_are_remembered_exactly_whatever_their_numbers() -> None:
    """Packed keys (and the tuple kept for an unlikely index) tell every judgement apart."""
    from paratopics.validate.annotations import AnnotationState

    state = AnnotationState()
    seen = [("ann-a", "art-1", 0), ("ann-b", "art-1", 0), ("ann-a", "art-2", 0),
            ("ann-a", "art-1", 1), ("ann-a", "art-1", 2**24), ("ann-a", "art-1", 2**40),
            ("art-1", "ann-a", 0)]  # names swapped: another judgement
    for number, (annotator, aid, position) in enumerate(seen, start=1):
        assert state.first_seen(annotator, aid, position, "one.jsonl", number) is None
    for number, (annotator, aid, position) in enumerate(seen, start=1):
        assert state.first_seen(annotator, aid, position, "two.jsonl", 100 + number) == (
            f"one.jsonl:{number}")
    assert sorted(set(state.pairs(state.judged))) == sorted({(a, b) for a, b, _ in seen})
