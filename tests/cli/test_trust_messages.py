"""Messages say what happened: no "nothing was changed" once something was, no hint
naming an option the command does not take, and UTF-16 called UTF-16."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from conftest import run_cli
from reliability_helpers import new_corpus, output, synthetic_corpus

from paratopics import cli
from paratopics.errors import CATALOG, ParatopicsError, fail
from paratopics.ingest.core import ingest_files
from paratopics.ingest.readers.base import wide_encoding
from paratopics.release import build as release_build


def _all_options(parser: argparse.ArgumentParser) -> set[str]:
    """The options of `parser` and of its actions' subcommands (`tasks export --tool`)."""
    found = {o for a in parser._actions for o in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _all_options(sub)
    return found


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """command -> the options it (or one of its actions) accepts."""
    found: dict[str, set[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = _all_options(sub)
    return found


def test_every_option_a_hint_names_exists() -> None:
    """A hint names an option as `--name`: some command must take it, and a hint that
    names the command next to it must name one that takes it."""
    options = _options(cli.build_parser())
    every = set().union(*options.values())
    for code, kind in CATALOG.items():
        text = f"{kind.template} {kind.description} {kind.hint}"
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]+", text):
            assert option in every, (code, option)
        for command, option in re.findall(r"`(?:paratopics )?([a-z]+)`[^.;]*? (--[a-z][a-z-]+)",
                                          text):
            if command in options:
                assert option in options[command], (code, command, option)


def test_validate_hint_for_a_long_line_does_not_offer_an_option_it_lacks(
        tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    path = sorted(corpus.annotations.glob("*.jsonl"))[0]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"note": "x" * (1024 * 1024 + 10)}) + "\n")
    done = run_cli("validate", "--corpus", corpus.root)
    assert done.returncode == 1 and "[line-too-long]" in done.stdout + done.stderr
    refused = run_cli("validate", "--corpus", corpus.root, "--max-line-bytes", "9999999")
    assert refused.returncode == 2  # so no hint may suggest it to validate
    assert "is fixed" in done.stdout + done.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_input_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    story = tmp_path / "story.json"
    story.write_bytes(json.dumps({"title": "Drill", "published": "2021-05-02",
                                  "source": "example.org", "body": "One."}).encode(encoding))
    report = ingest_files(new_corpus(tmp_path / "c"), [story])
    assert [p.code for p in report.problems] == ["utf16-file"], report.problems
    assert "UTF-" in report.problems[0].message and "iconv" in report.problems[0].hint


def test_utf16_corpus_files_are_named_as_such(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    annotations = sorted(corpus.annotations.glob("*.jsonl"))[0]
    annotations.write_bytes(annotations.read_text(encoding="utf-8").encode("utf-16"))
    record = corpus.article_files()[0]
    record.write_bytes(record.read_text(encoding="utf-8").encode("utf-16-le"))
    done = run_cli("validate", "--corpus", corpus.root)
    text = done.stdout + done.stderr
    assert done.returncode == 1
    assert text.count("[utf16-file]") == 2, text  # one each, not one per line
    assert "binary" not in text


def test_wide_encoding_leaves_utf8_alone() -> None:
    assert wide_encoding("plain text, é and 中文".encode()) is None
    assert wide_encoding(b"\x00\x01binary\x00\x00") is None
    assert wide_encoding("ab".encode("utf-16-le") * 10) == "UTF-16LE"


def test_changelog_failure_after_the_rename_says_the_release_is_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused write when confirming the changelog entry (disk full at that moment,
    injected here): the release is already in place, which the message must say."""
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    real = release_build.confirm_pending
    calls = []

    def confirm(where: object) -> None:
        calls.append(where)
        if (corpus.releases / "v1.0.0").is_dir():
            raise fail("write-failed", file="CHANGELOG.md",
                       detail="could not write: No space left on device; nothing was changed")
        real(where)  # type: ignore[arg-type]

    monkeypatch.setattr(release_build, "confirm_pending", confirm)
    from paratopics.codebook import load

    with pytest.raises(ParatopicsError) as caught:
        release_build.build(corpus, "1.0.0", load())
    message = caught.value.problem.message
    assert caught.value.problem.code == "partly-written"
    assert "is complete" in message and "nothing was changed" not in message
    assert "run the same build again" in message
    monkeypatch.setattr(release_build, "confirm_pending", real)
    again = run_cli("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert again.returncode == 0, output(again)
    assert run_cli("verify", "--corpus", corpus.root, "--all").returncode == 0


def test_readme_failure_after_a_build_says_the_release_is_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 3, seed=2)
    from paratopics.publish import core as publish

    def refuse(*args: object, **kwargs: object) -> bool:
        raise fail("write-failed", file="README.md",
                   detail="could not write: No space left on device; nothing was changed")

    monkeypatch.setattr(publish, "update_readme", refuse)
    code = cli.main(["build", "--corpus", str(corpus.root), "--version", "1.0.0"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "[partly-written]" in err and "is built and complete" in err, err
    assert (corpus.releases / "v1.0.0" / "manifest.json").is_file()
