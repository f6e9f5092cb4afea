"""Values and files that used to pass in silence and are now refused or reported:
NaN, control characters in a note, repeated JSON keys, impossible dates, hidden
characters in metadata, misplaced annotation files and a symlinked annotations/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli
from reliability_helpers import new_corpus, output, synthetic_corpus

from paratopics.corpus.records import date_out_of_range
from paratopics.corpus.store import Corpus, load_json
from paratopics.ingest.core import ingest_files
from paratopics.ingest.normalize import hidden_character

SECRET = "OUTSIDE-SECRET-22"


def _corpus(tmp_path: Path) -> Corpus:
    return synthetic_corpus(tmp_path / "corpus", 4, seed=9)


def _first_annotation_file(corpus: Corpus) -> Path:
    return sorted(corpus.annotations.glob("*annotator-01.jsonl"))[0]


def _edit_first_line(corpus: Corpus, edit: object) -> None:
    path = _first_annotation_file(corpus)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = edit(lines[0]) if callable(edit) else lines[0]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _validate(corpus: Corpus) -> tuple[int, str]:
    done = run_cli("validate", "--corpus", corpus.root)
    assert "Traceback" not in done.stderr, output(done)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("edit,code", [
    (lambda line: line[:-1] + ', "confidence": NaN}', "json-syntax"),
    (lambda line: line[:-1] + ', "confidence": Infinity}', "json-syntax"),
    (lambda line: line[:-1] + ', "note": "a\\u0000b"}', "schema"),
    (lambda line: line[:-1] + ', "note": "\\u001b[31mred"}', "schema"),
    (lambda line: line[:-1] + ', "annotator": "annotator-02"}', "json-syntax"),
    (lambda line: line.replace('"created": "2025-01-01', '"created": "9999-12-31'),
     "date-out-of-range"),
], ids=["confidence-nan", "confidence-infinity", "note-nul", "note-esc", "repeated-key",
        "created-9999"])
def test_annotation_values_that_passed_are_refused(tmp_path: Path, edit: object,
                                                   code: str) -> None:
    corpus = _corpus(tmp_path)
    _edit_first_line(corpus, edit)
    status, text = _validate(corpus)
    assert status == 1, text
    assert f"[{code}]" in text and ":1" in text, text


def test_a_note_may_hold_tabs_and_line_breaks(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    _edit_first_line(corpus, lambda line: line[:-1] + ', "note": "one\\ttwo\\nthree"}')
    status, text = _validate(corpus)
    assert status == 0, text


def test_repeated_keys_are_refused_wherever_json_is_read(tmp_path: Path) -> None:
    for raw in (b'{"a": 1, "a": 2}', b'{"a": {"b": 1, "b" : 2}}', b'[{"x": 1, "x": 1}]'):
        with pytest.raises(ValueError, match="appears twice"):
            load_json(raw)
    assert load_json(b'{"a": "\\": no key", "b": 1}') == {"a": '": no key', "b": 1}
    # an article record edited by hand
    corpus = _corpus(tmp_path)
    record = corpus.article_files()[0]
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace('"language": "en"', '"language": "en", "language": "fr"', 1),
                      encoding="utf-8")
    status, out = _validate(corpus)
    assert status == 1 and "appears twice" in out, out
    # the build reads records without looking for repeated keys: validation, which
    # it runs first, refuses them, and nothing is published
    built = run_cli("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert built.returncode == 1 and "appears twice" in built.stdout + built.stderr, \
        output(built)
    assert "Traceback" not in built.stderr and not (corpus.releases / "v1.0.0").exists()
    # an ingest input
    story = tmp_path / "story.json"
    story.write_text('{"title": "Drill", "title": "Budget", "published": "2021-05-02", '
                     '"source": "example.org", "body": "One.", "license": "CC0-1.0", '
                     '"attribution": "Example"}', encoding="utf-8")
    report = ingest_files(new_corpus(tmp_path / "other"), [story])
    assert [p.code for p in report.problems] == ["json-syntax"], report.problems


def _story(tmp_path: Path, **fields: object) -> Path:
    record = {"title": "Navies hold drill", "published": "2021-05-02",
              "url": "https://e.org/a", "source": "example.org", "body": "One.",
              "license": "CC0-1.0", "attribution": "Example, https://e.org/a"}
    record.update(fields)
    path = tmp_path / "in" / "story.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


@pytest.mark.parametrize("fields,code", [
    ({"published": "9999-12-31"}, "date-out-of-range"),
    ({"published": "1066-10-14"}, "date-out-of-range"),
    ({"title": "Navies hold \u202edrill"}, "hidden-characters"),
    ({"title": "Navies hold drill\u2066"}, "hidden-characters"),
    ({"title": "\u200dNavies hold drill"}, "hidden-characters"),
    ({"source": "\u200c"}, "hidden-characters"),
    ({"source": "example\u200d.org"}, "hidden-characters"),
    ({"authors": ["A. \u202eWriter"]}, "hidden-characters"),
], ids=["published-9999", "published-1066", "title-rlo", "title-lri", "title-zwj-first",
        "source-only-zwnj", "source-zwj", "author-rlo"])
def test_ingest_refuses_implausible_metadata(tmp_path: Path, fields: dict[str, object],
                                             code: str) -> None:
    corpus = new_corpus(tmp_path / "c")
    report = ingest_files(corpus, [_story(tmp_path, **fields)])
    assert [p.code for p in report.problems] == [code], report.problems
    assert corpus.article_files() == []
    assert not any(corpus.sources.iterdir())


def test_a_joiner_between_letters_is_kept(tmp_path: Path) -> None:
    """Persian writes some words with a zero-width non-joiner between letters."""
    corpus = new_corpus(tmp_path / "c")
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 talks"
    report = ingest_files(corpus, [_story(tmp_path, title=persian)])
    assert not report.problems, report.problems
    assert hidden_character("a\u200cb", joiners=True) is None
    assert hidden_character("a\u200cb", joiners=False) is not None


def test_validate_refuses_hand_edited_metadata(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "c")
    ingest_files(corpus, [_story(tmp_path)])
    path = corpus.article_files()[0]
    record = json.loads(path.read_text(encoding="utf-8"))
    record["published"] = "9999-12-31"
    record["title"] = "Navies hold \u202edrill"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    status, text = _validate(corpus)
    assert status == 1
    assert "[date-out-of-range]" in text and "[hidden-characters]" in text, text


def test_date_bounds() -> None:
    import datetime as dt

    today = dt.date(2025, 6, 1)
    assert date_out_of_range("2025-06-02", today) is None  # tomorrow: a time zone ahead
    assert date_out_of_range("2025-06-03", today) is not None
    assert date_out_of_range("1800-01-01", today) is None
    assert date_out_of_range("1799-12-31", today) is not None


@pytest.mark.parametrize("where", ["sub/extra.jsonl", "upper.JSONL", "plain.json",
                                   "lines.ndjson"])
def test_misplaced_annotation_files_are_reported(tmp_path: Path, where: str) -> None:
    corpus = _corpus(tmp_path)
    target = corpus.annotations / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_first_annotation_file(corpus).read_bytes())
    status, text = _validate(corpus)
    assert status == 1, text
    assert "[annotation-misplaced]" in text and Path(where).name in text, text
    (corpus.annotations / "README.md").write_text("notes\n", encoding="utf-8")
    target.unlink()
    assert _validate(corpus)[0] == 0  # other files (a README) are not judgements


def test_symlinked_annotations_folder_is_refused(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    for path in corpus.annotations.iterdir():
        lines = path.read_text(encoding="utf-8").splitlines()
        first = json.loads(lines[0])
        first["note"] = SECRET
        lines[0] = json.dumps(first)
        (outside / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in outside.iterdir()}
    real = corpus.annotations.rename(tmp_path / "kept-annotations")
    os.symlink(outside, corpus.annotations)
    for command in (["validate"], ["build", "--version", "1.0.0"], ["stats"], ["agreement"]):
        done = run_cli(command[0], "--corpus", corpus.root, *command[1:])
        assert done.returncode == 1, (command, output(done))
        assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
        assert "[unsafe-path]" in done.stdout + done.stderr, (command, output(done))
    assert not (corpus.releases / "v1.0.0").exists()
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    assert real.is_dir()
