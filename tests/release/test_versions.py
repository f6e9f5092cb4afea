"""Which release a version names (release.versions): one decision for the command line
and `paratopics.load()`, told as a printed line by one and a warning by the other."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from paratopics import cli
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, YankedReleaseWarning
from paratopics.loader import resolve_version
from paratopics.release.changelog import Yank
from paratopics.release.versions import latest_not_yanked, resolve

RELEASES = Path("corpus/releases")
VERSIONS = ["1.0.0", "1.1.0", "1.10.0", "2.0.0"]  # in version order, as list_versions gives
YANKS = {"2.0.0": Yank("2.0.0", "2026-01-02T03:04:05Z", "labels of one source were swapped")}


def test_without_a_version_the_latest_not_yanked_is_used() -> None:
    assert resolve(None, VERSIONS, {}, RELEASES).version == "2.0.0"
    chosen = resolve(None, VERSIONS, YANKS, RELEASES)
    assert chosen.version == "1.10.0" and chosen.warning is None
    assert latest_not_yanked(VERSIONS, VERSIONS) is None


def test_a_version_asked_for_is_used_with_or_without_its_v() -> None:
    for asked in ("1.1.0", "v1.1.0"):
        assert resolve(asked, VERSIONS, YANKS, RELEASES).version == "1.1.0"
        assert resolve(asked, VERSIONS, YANKS, RELEASES).warning is None


def test_a_yanked_version_asked_for_is_used_with_a_warning() -> None:
    chosen = resolve("2.0.0", VERSIONS, YANKS, RELEASES)
    assert chosen.version == "2.0.0" and chosen.warning is not None
    assert chosen.warning.code == "release-yanked" and chosen.warning.severity == "warning"
    assert chosen.warning.file == str(RELEASES / "v2.0.0")
    assert chosen.warning.message == (
        "v2.0.0 was yanked on 2026-01-02T03:04:05Z, because: labels of one source were "
        "swapped; used as asked (without a version, v1.10.0 is used)")
    alone = resolve("2.0.0", ["2.0.0"], YANKS, RELEASES).warning
    assert alone is not None and alone.message.endswith("(every release is yanked)")


@pytest.mark.parametrize(("asked", "versions", "yanks", "where", "words"), [
    ("2.1.0", VERSIONS, YANKS, "v2.1.0", "no release v2.1.0 (available: 1.0.0, 1.1.0, 1.10.0, "
     "2.0.0)"),
    ("1.0.0", [], {}, "v1.0.0", "no release v1.0.0 (available: none)"),
    (None, [], {}, "", "no release in corpus/releases: build one with `paratopics build"),
    (None, ["2.0.0"], YANKS, "", "every release in corpus/releases is yanked (2.0.0): give a "
     "version"),
])
def test_no_release_to_use_is_release_missing_naming_what_there_is(
        asked: str | None, versions: list[str], yanks: dict[str, Yank], where: str,
        words: str) -> None:
    with pytest.raises(ParatopicsError) as caught:
        resolve(asked, versions, yanks, RELEASES)
    assert caught.value.problem.code == "release-missing"
    assert caught.value.problem.file == str(RELEASES / where if where else RELEASES)
    assert words in caught.value.problem.message


def fake_releases(root: Path) -> Corpus:
    """Release folders as list_versions sees them, and a changelog with v1.1.0 yanked."""
    corpus = Corpus(root)
    for version in ("1.0.0", "1.1.0"):
        (corpus.releases / f"v{version}").mkdir(parents=True)
        (corpus.releases / f"v{version}" / "manifest.json").write_text("{}")
    digest = "0" * 64
    (corpus.releases / "CHANGELOG.md").write_text(
        f"# Changelog\n\n## v1.1.0 [YANKED]\n\n- yanked: {YANKS['2.0.0'].when}, because: "
        f"wrong labels\n- manifest sha256: `{digest}`\n\n## v1.0.0\n\n"
        f"- manifest sha256: `{digest}`\n")
    return corpus


def test_the_command_line_and_the_api_pick_and_warn_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    corpus = fake_releases(tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_version(corpus, None) == cli._version(None, corpus) == "1.0.0"
        assert resolve_version(corpus, "v1.0.0") == cli._version("v1.0.0", corpus) == "1.0.0"
    assert capsys.readouterr().err == ""
    with pytest.warns(YankedReleaseWarning) as caught:
        assert resolve_version(corpus, "1.1.0") == "1.1.0"
    assert cli._version("1.1.0", corpus) == "1.1.0"
    printed = capsys.readouterr().err
    [warned] = [str(w.message) for w in caught if w.category is YankedReleaseWarning]
    assert warned.startswith("[release-yanked] v1.1.0 was yanked on")
    assert printed.startswith("corpus/releases/v1.1.0: warning ")
    assert warned.removeprefix("[release-yanked] ") in printed
    assert cli._version("1.1.0", corpus, warn=False) == "1.1.0"
    assert capsys.readouterr().err == ""
    for asked in ("1.2.0", None):
        if asked is None:
            (corpus.releases / "v1.0.0" / "manifest.json").unlink()  # only the yanked one left
        with pytest.raises(ParatopicsError) as api:
            resolve_version(corpus, asked)
        with pytest.raises(ParatopicsError) as command:
            cli._version(asked, corpus)
        assert api.value.problem.code == command.value.problem.code == "release-missing"
        assert api.value.problem.message == command.value.problem.message.replace(
            "corpus/releases", str(corpus.releases))
