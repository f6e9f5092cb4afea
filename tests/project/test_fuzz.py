"""Fuzzing with hypothesis: the article parser, the normalizer and the annotation
validator take arbitrary bytes and text without any exception but the project's own
`ParatopicsError`, and without hanging.

Beyond "no crash", each target has a property that makes a wrong answer fail:
a draft the parser accepts always becomes a schema-valid article record; the
normalizer is idempotent and leaves no control character or surrogate; the
validator's fast path never calls valid what jsonschema rejects. A SIGALRM guard
turns a hang into a failure instead of a stuck CI job. The longer, coverage-guided
run of the same targets is scripts/fuzz_atheris.py.
"""

from __future__ import annotations

import contextlib
import json
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from conftest import seed_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paratopics import codebook as codebook_module
from paratopics.corpus.records import Provenance
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, Problem
from paratopics.ingest.core import make_article, parse, record_problems
from paratopics.ingest.normalize import normalize_document, normalize_paragraph
from paratopics.validate.annotations import AnnotationState, check_annotation_file
from paratopics.validate.articles import article_problems
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker

#: Seconds one example may take before it counts as a hang.
HANG_SECONDS = 30
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SEED_BYTES = seed_path().read_bytes()
CHECKER = Checker(codebook_module.load())


class Hang(Exception):
    """An example ran longer than HANG_SECONDS."""


@contextlib.contextmanager
def no_hang() -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"no result after {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- the article parser ---------------------------------------------------------------

NAMES = st.sampled_from(["dump.txt", "record.json", "wire.jsonl", "noext"])
FORMATS = st.sampled_from(["auto", "globalsecurity", "json", "jsonl"])


def _parse_checked(raw: bytes, name: str, fmt: str) -> None:
    """parse() refuses with ParatopicsError or yields drafts; a record that passes ingest's
    gate before writing (record_problems) also passes the validator in full."""
    with no_hang():
        try:
            parsed = parse(raw, name, fmt)
        except ParatopicsError:
            return
        for problem_found in parsed.problems:
            assert isinstance(problem_found, Problem)
        for draft in parsed.drafts:
            article = make_article(draft, Provenance(path=f"sources/fuzz/{name}",
                                                     sha256="0" * 64, format=parsed.format,
                                                     record=draft.record))
            if record_problems(article, name, draft.record):
                continue  # refused before writing: never enters the corpus
            found = article_problems(article, name, CHECKER)
            assert found == [], (draft, found)


@FUZZ
@given(raw=st.binary(max_size=3000), name=NAMES, fmt=FORMATS)
def test_parser_on_arbitrary_bytes(raw: bytes, name: str, fmt: str) -> None:
    _parse_checked(raw, name, fmt)


MUTATION = st.tuples(st.floats(0, 1), st.sampled_from(["flip", "insert", "delete", "dup"]),
                     st.binary(min_size=1, max_size=8))


@FUZZ
@given(mutations=st.lists(MUTATION, min_size=1, max_size=12))
def test_parser_on_mutated_seed_text(mutations: list[tuple[float, str, bytes]]) -> None:
    raw = bytearray(SEED_BYTES)
    for where, op, data in mutations:
        at = min(int(where * len(raw)), max(len(raw) - 1, 0))
        if op == "flip" and raw:
            raw[at] ^= data[0] or 1
        elif op == "insert":
            raw[at:at] = data
        elif op == "delete":
            del raw[at:at + len(data)]
        else:
            raw[at:at] = raw[at:at + 64 * len(data)]
    _parse_checked(bytes(raw), "seed.txt", "auto")


TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)
FIELDS = ["source", "title", "published", "url", "section", "language", "authors",
          "body", "paragraphs"]


@st.composite
def article_like(draw: st.DrawFn) -> dict[str, object]:
    """Records near the JSON door's shape, so that fuzzing gets past the first check."""
    record: dict[str, object] = {
        "source": draw(st.sampled_from(["wire", "../../etc", "/abs", "a\x00b", ""]) | TEXT),
        "title": draw(TEXT | JSON_VALUE),
        "published": draw(st.sampled_from(["2024-02-29", "2023-02-29", "0001-01-01",
                                           "2024-13-01", "9999-12-31T23:59"]) | TEXT),
        "url": draw(st.none() | st.sampled_from(["https://example.org/a b", "javascript:x",
                                                  "http://[::1"]) | TEXT),
        "language": draw(st.sampled_from(["en", "EN", "english", "zh-Hant", ""]) | TEXT),
        "authors": draw(st.lists(TEXT, max_size=3) | JSON_VALUE),
    }
    if draw(st.booleans()):
        record["paragraphs"] = draw(st.lists(TEXT | st.fixed_dictionaries(
            {"text": TEXT, "heading": st.none() | TEXT}) | JSON_VALUE, max_size=4))
    else:
        record["body"] = draw(TEXT | JSON_VALUE)
    drop = draw(st.lists(st.sampled_from(FIELDS), max_size=2))
    return {k: v for k, v in record.items() if k not in drop}


@FUZZ
@given(records=st.lists(article_like(), min_size=1, max_size=3), as_lines=st.booleans())
def test_json_door_on_near_valid_records(records: list[dict[str, object]],
                                         as_lines: bool) -> None:
    if as_lines:
        raw = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8", "surrogatepass")
        _parse_checked(raw, "wire.jsonl", "jsonl")
    else:
        raw = json.dumps(records if len(records) > 1 else records[0]).encode("utf-8")
        _parse_checked(raw, "record.json", "json")


# -- the normalizer -------------------------------------------------------------------


def _clean(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF or (ord(c) < 32 and c != "\n")
                   or 0x7F <= ord(c) <= 0x9F for c in text)


@FUZZ
@given(text=TEXT | st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_normalizer_is_total_idempotent_and_clean(text: str) -> None:
    with no_hang():
        paragraph = normalize_paragraph(text)
        document = normalize_document(text)
    assert normalize_paragraph(paragraph) == paragraph
    assert normalize_document(document) == document
    assert _clean(paragraph) and "\n" not in paragraph
    assert _clean(document)
    paragraph.encode("utf-8")  # always encodable: no surrogate survives


# -- the annotation validator ---------------------------------------------------------


def _validate_bytes(data: bytes) -> list[Problem]:
    with tempfile.TemporaryDirectory() as folder:
        corpus = Corpus(Path(folder))
        corpus.annotations.mkdir()
        path = corpus.annotations / "fuzz.jsonl"
        path.write_bytes(data)
        with no_hang():
            return list(check_annotation_file(path, corpus, CHECKER, ArticleIndex(),
                                              AnnotationState(), max_line_bytes=2048))


@FUZZ
@given(data=st.binary(max_size=4000))
def test_validator_on_arbitrary_bytes(data: bytes) -> None:
    found = _validate_bytes(data)
    assert all(isinstance(p, Problem) and p.line for p in found)


VALID_LINE = {"article_id": "a-0123456789", "paragraph_index": 0,
              "paragraph_sha256": "0" * 64, "labels": ["medtop:20000735"],
              "annotator": "annotator-01", "created": "2025-01-01T09:00:00Z"}


@st.composite
def annotation_like(draw: st.DrawFn) -> dict[str, object]:
    record = dict(VALID_LINE)
    for key in draw(st.lists(st.sampled_from([*VALID_LINE, "confidence", "note", "role",
                                              "extra"]), max_size=3)):
        record[key] = draw(JSON_VALUE | st.sampled_from(
            ["../../etc/passwd", "A-0123456789", -1, 2**70, 1.5, True, [], "", "x" * 300]))
    for key in draw(st.lists(st.sampled_from(list(VALID_LINE)), max_size=2)):
        record.pop(key, None)
    return record


@FUZZ
@given(records=st.lists(annotation_like(), min_size=1, max_size=5),
       damage=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=3)),
                       max_size=3))
def test_validator_on_mutated_judgements(records: list[dict[str, object]],
                                         damage: list[tuple[float, bytes]]) -> None:
    data = bytearray("".join(json.dumps(r) + "\n" for r in records).encode(
        "utf-8", "surrogatepass"))
    for where, noise in damage:
        at = int(where * (len(data) - 1))
        data[at:at + len(noise)] = noise
    found = _validate_bytes(bytes(data))
    assert all(isinstance(p, Problem) for p in found)


@FEW
@given(record=annotation_like())
def test_validator_fast_path_never_accepts_what_jsonschema_rejects(
        record: dict[str, object]) -> None:
    if CHECKER.annotation_valid(record):
        assert list(CHECKER.annotation_schema.iter_errors(record)) == []
