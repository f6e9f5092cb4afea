"""Values the schemas must refuse: a hidden trailing newline in anything a pattern
guards (Python's `$` matches before it, ECMA 262's does not), Unicode digits where
the spec's `\\d` means ASCII, and integral floats where an integer is expected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli
from reliability_helpers import synthetic_corpus

from paratopics.codebook import load_json_resource
from paratopics.corpus.store import Corpus
from paratopics.release.layout import VERSION_RE, parse_version
from paratopics.schema_check import ecma_regex, validator_for
from paratopics.validate.fastschema import compile_schema
from paratopics.validate.schema import make_validator

SCHEMAS = ("annotation.schema.json", "article.schema.json", "article-1.0.0.schema.json",
           "codebook.schema.json", "manifest.schema.json")


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


ALL_PATTERNS = sorted({p for name in SCHEMAS for p in _patterns(load_json_resource(name))})


def _example(pattern: str) -> str:
    """A string the pattern accepts, for each pattern of the schemas."""
    examples = {
        "^\\d+\\.\\d+\\.\\d+$": "1.2.3",
        "^(medtop:\\d{8}|paratopics:[a-z0-9]+(-[a-z0-9]+)*)$": "medtop:20000001",
        "^[a-z]{2,3}(-[A-Z]{2})?$": "en-GB",
        "^sources/[a-z0-9][a-z0-9._-]*/[^/\\\\\u0000-\u001f\u007f]+$":
            "sources/example.org/story.json",
        "^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{10}$": "a-story-0123456789",
        "^[0-9a-f]{64}$": "0" * 64,
        "^\\S(.*\\S)?$": "One paragraph.",
        "^(LicenseRef-[A-Za-z0-9.-]+|(?!LicenseRef-)[A-Za-z0-9][A-Za-z0-9.-]*\\+?)$": "CC-BY-2.5",
        "^(?=.*https?://\\S)\\S(.*\\S)?$": "Wikinews contributors, https://en.wikinews.org/",
        "^[a-z0-9][a-z0-9._-]{0,63}$": "annotator-01",
        r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$": "a note",
        "^(paragraphs|articles|annotations)/(train|validation|test|unlabeled)-\\d{5}-of-\\d{5}"
        "\\.parquet$": "paragraphs/train-00000-of-00001.parquet",
    }
    return examples[pattern]


def test_every_schema_pattern_is_covered_here() -> None:
    for pattern in ALL_PATTERNS:
        assert _example(pattern)  # a new pattern needs its example (and this test)


@pytest.mark.parametrize("pattern", ALL_PATTERNS)
def test_every_pattern_refuses_a_trailing_newline(pattern: str) -> None:
    """Both the validator and the compiled fast path, as ECMA 262 (the spec) says."""
    good = _example(pattern)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string",
              "pattern": pattern}
    validator = validator_for(schema)
    fast = compile_schema(schema)
    assert fast is not None
    assert validator.is_valid(good) and fast(good)
    if "\\u000e-" in pattern:  # the note: free text, line breaks allowed, NUL and ESC not
        for bad in (good + "\x00", "\x1b[31m" + good):
            assert not validator.is_valid(bad) and not fast(bad), repr(bad)
        return
    for bad in (good + "\n", good + "\r\n", "\n" + good):
        assert not validator.is_valid(bad), repr(bad)
        assert not fast(bad), repr(bad)
    assert re.search(pattern, good + "\n") or pattern.startswith("^\\S")  # Python's `$` would


def test_ecma_digits_and_dot() -> None:
    assert not re.search(ecma_regex(r"^\d+$"), "\u0663")  # ARABIC-INDIC DIGIT THREE
    assert re.search(ecma_regex(r"^[\d.]+$"), "1.2")
    assert not re.search(ecma_regex(r"^a.b$"), "a\u2028b")
    assert re.search(ecma_regex(r"^a\$b$"), "a$b")
    assert re.search(ecma_regex(r"^[$]$"), "$")


@pytest.mark.parametrize("field,value", [
    ("annotator", "annotator-01\n"),
    ("created", "2025-01-02T00:00:00Z\n"),
    ("article_id", None),  # filled in: the real id with a newline
    ("paragraph_sha256", None),
    ("paragraph_index", 1.0),
    ("confidence", None),
])
def test_annotation_values_are_refused(field: str, value: object) -> None:
    validator = make_validator("annotation.schema.json")
    record: dict[str, object] = {
        "article_id": "a-story-0123456789", "paragraph_index": 1, "paragraph_sha256": "0" * 64,
        "labels": [], "annotator": "annotator-01", "created": "2025-01-02T00:00:00Z"}
    assert validator.is_valid(record)
    if field == "confidence":
        return
    record[field] = value if value is not None else f"{record[field]}\n"
    assert not validator.is_valid(record)


def _corpus_with(tmp_path: Path, edit: dict[str, object]) -> Corpus:
    corpus = synthetic_corpus(tmp_path / "corpus", 4, seed=3)
    path = sorted(corpus.annotations.glob("*annotator-01.jsonl"))[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first.update(edit)
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


@pytest.mark.parametrize("edit", [
    {"paragraph_index": 1.0},
    {"annotator": "annotator-01\n"},
    {"created": "2025-01-02T00:00:00Z\n"},
], ids=["index-1.0", "annotator-newline", "created-newline"])
@pytest.mark.parametrize("command", ["validate", "build", "agreement", "adjudicate"])
def test_commands_refuse_without_a_traceback(tmp_path: Path, edit: dict[str, object],
                                              command: str) -> None:
    corpus = _corpus_with(tmp_path, edit)
    extra = ["--version", "1.0.0"] if command == "build" else []
    done = run_cli(command, "--corpus", corpus.root, *extra)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert "schema" in done.stdout + done.stderr
    assert not (corpus.releases / "v1.0.0").exists()


def test_index_written_as_1e0_is_refused(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 4, seed=3)
    path = sorted(corpus.annotations.glob("*annotator-01.jsonl"))[0]
    text = path.read_text(encoding="utf-8")
    text = text.replace('"paragraph_index": 0,', '"paragraph_index": 0e0,', 1)
    path.write_text(text, encoding="utf-8")
    done = run_cli("validate", "--corpus", corpus.root)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "is not of type 'integer'" in done.stdout + done.stderr


def test_build_refuses_a_version_with_a_newline(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 4, seed=3)
    for version in ("2.0.0\n", "2.0.0\r", "2.\u0660.0", " 2.0.0"):
        done = run_cli("build", "--corpus", corpus.root, "--version", version)
        assert done.returncode == 2, (version, done.stdout + done.stderr)
        assert "Traceback" not in done.stderr
    assert not any(corpus.releases.iterdir()) if corpus.releases.is_dir() else True
    assert not (corpus.root / "CHANGELOG.md").exists() or \
        "2.0.0" not in (corpus.root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert VERSION_RE.match("2.0.0\n") is None
    with pytest.raises(ValueError):
        parse_version("2.0.0\n")


def test_import_refuses_an_annotator_with_a_newline() -> None:
    from paratopics.annotate.importer import ANNOTATOR_RE, SHA_RE

    assert ANNOTATOR_RE.match("annotator-01") and not ANNOTATOR_RE.match("annotator-01\n")
    assert SHA_RE.match("0" * 64) and not SHA_RE.match("0" * 64 + "\n")
