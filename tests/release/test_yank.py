"""`paratopics yank`: a mistaken release kept, marked, skipped by default, still verifiable.

Every test yanks in its own copy of a checkout built in a temporary folder (a README
that is the corpus's card, releases 1.0.0 and 1.1.0), never in corpus/.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import warnings
from pathlib import Path

import pytest
import yaml
from conftest import run_cli
from release_helpers import last_json, manifest_rows, run_python

from paratopics import codebook as codebook_module
from paratopics.corpus.config import MARKER, render_marker
from paratopics.corpus.store import Corpus
from paratopics.errors import MisuseError, ParatopicsError, YankedReleaseWarning
from paratopics.loader import load, resolve_version
from paratopics.publish import core as publish_module
from paratopics.release import build as release_build
from paratopics.release import changelog
from paratopics.release import layout as release_layout
from paratopics.release import verify as release_verify
from paratopics.release import yank as yank_module
from paratopics.synthetic import generate

REASON = "labels of the added articles were shifted by one paragraph"
WHEN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout: README (the corpus's card) and a corpus with releases 1.0.0 and 1.1.0."""
    checkout = tmp_path_factory.mktemp("yank") / "checkout"
    checkout.mkdir()
    (checkout / "README.md").write_text("---\npretty_name: mine\n---\n# mine\n",
                                        encoding="utf-8")
    corpus = Corpus(checkout / "corpus")
    generate(corpus, 16, 2)
    (corpus.root / MARKER).write_text(render_marker("mine"), encoding="utf-8")
    book = codebook_module.load()
    release_build.build(corpus, "1.0.0", book)
    generate(corpus, 5, 3)
    release_build.build(corpus, "1.1.0", book)
    assert publish_module.update_readme(corpus, book).changed
    return checkout


@pytest.fixture
def checkout(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    shutil.copytree(template, copy)
    return copy


def corpus_of(checkout: Path) -> Corpus:
    return Corpus(checkout / "corpus")


def card_release(checkout: Path) -> set[str]:
    """The release folders the README's configs point at."""
    header = (checkout / "README.md").read_text(encoding="utf-8").split("---\n")[1]
    paths = [item["path"] for config in yaml.safe_load(header)["configs"]
             for item in config["data_files"]]
    return {path.split("/")[2] for path in paths}


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(folder)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def changelog_text(corpus: Corpus) -> str:
    return changelog.changelog_path(corpus).read_text(encoding="utf-8")


def test_a_yanked_release_is_kept_marked_skipped_and_still_verifies(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    folder = release_layout.release_dir(corpus, "1.1.0")
    before = tree_digest(folder)
    digests = changelog.changelog_digests(corpus)
    assert card_release(checkout) == {"v1.1.0"}

    done = run_cli("yank", "--corpus", corpus.root, "1.1.0", "--reason", REASON)
    assert done.returncode == 0, done.stderr
    assert "yank: v1.1.0 yanked on" in done.stdout
    assert "README front matter now points at v1.0.0" in done.stdout
    # kept on disk, byte for byte; the digest its changelog entry records is unchanged
    assert tree_digest(folder) == before
    assert changelog.changelog_digests(corpus) == digests
    # marked in its changelog entry: when and why
    text = changelog_text(corpus)
    entry = text[text.index("## v1.1.0"):text.index("## v1.0.0")]
    heading, blank, line = entry.split("\n")[:3]
    assert (heading, blank) == ("## v1.1.0 [YANKED]", "")
    match = re.fullmatch(r"- yanked: (\S+), because: (.*)", line)
    assert match and WHEN.fullmatch(match[1]) and match[2] == REASON, line
    assert "## v1.0.0\n" in text  # the other entry is as it was
    assert set(yank_module.yanked(corpus)) == {"1.1.0"}

    # skipped wherever no version is given: the loader, the commands, the README
    assert resolve_version(corpus, None) == "1.0.0"
    assert yank_module.default_version(corpus) == "1.0.0"
    assert card_release(checkout) == {"v1.0.0"}
    default = load(corpus=corpus.root, cache_dir=str(checkout.parent / "hf"))
    assert {s: default[s].num_rows for s in default} == manifest_rows(
        corpus, "1.0.0", "paragraphs")
    stats = run_cli("stats", "--corpus", corpus.root)
    assert stats.returncode == 0 and "paratopics v1.0.0 (codebook" in stats.stdout
    assert "yanked" not in stats.stderr

    # asked for by version, it loads, with one warning line pointing at the caller
    with pytest.warns(YankedReleaseWarning) as caught:
        asked = load(version="1.1.0", corpus=corpus.root, split="train",
                     cache_dir=str(checkout.parent / "hf"))
    assert asked.num_rows == manifest_rows(corpus, "1.1.0", "paragraphs")["train"]
    [warned] = [w for w in caught if w.category is YankedReleaseWarning]
    message = str(warned.message)
    assert "\n" not in message and message.startswith("[release-yanked] v1.1.0 was yanked on")
    assert REASON in message and "without a version, v1.0.0 is used" in message
    assert Path(warned.filename).resolve() == Path(__file__).resolve()
    described = run_cli("stats", "--corpus", corpus.root, "--version", "1.1.0")
    assert described.returncode == 0, described.stderr
    assert "paratopics v1.1.0 (codebook" in described.stdout
    [line] = described.stderr.strip().splitlines()
    assert "warning [release-yanked] v1.1.0 was yanked on" in line and REASON in line

    # still verifiable, alone and with every release
    for args in (("--version", "1.1.0"), ("--all",)):
        verified = run_cli("verify", "--corpus", corpus.root, *args)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "verify: v1.1.0: intact (yanked on " in verified.stderr
        assert "warning" not in verified.stderr
    assert "verify: v1.0.0: intact\n" in verified.stderr


def test_load_dataset_on_the_checkout_follows_the_card_past_the_yank(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    assert run_cli("yank", "--corpus", corpus.root, "v1.1.0", "--reason", REASON
                   ).returncode == 0
    found = last_json(run_python(f"""
        import json, datasets
        ds = datasets.load_dataset({str(checkout)!r}, "paragraphs",
                                   cache_dir={str(checkout.parent / "c")!r})
        print(json.dumps({{s: ds[s].num_rows for s in ds}}))
    """, cwd=checkout.parent))
    assert found == manifest_rows(corpus, "1.0.0", "paragraphs")
    assert found != manifest_rows(corpus, "1.1.0", "paragraphs")


def test_yank_misuse_exits_2_with_one_clear_message(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    untouched = changelog_text(corpus)
    unknown = run_cli("yank", "--corpus", corpus.root, "9.9.9", "--reason", REASON)
    assert unknown.returncode == 2
    assert ("error [release-missing] no such release v9.9.9 (available: 1.0.0, 1.1.0)"
            in unknown.stderr)
    no_reason = run_cli("yank", "--corpus", corpus.root, "1.1.0")
    assert no_reason.returncode == 2
    assert "the following arguments are required: --reason" in no_reason.stderr
    blank = run_cli("yank", "--corpus", corpus.root, "1.1.0", "--reason", " \n ")
    assert blank.returncode == 2 and "error [yank-refused] no reason given" in blank.stderr
    assert changelog_text(corpus) == untouched
    assert run_cli("yank", "--corpus", corpus.root, "1.1.0", "--reason", REASON
                   ).returncode == 0
    marked = changelog_text(corpus)
    twice = run_cli("yank", "--corpus", corpus.root, "1.1.0", "--reason", "again")
    assert twice.returncode == 2
    assert "error [yank-refused] v1.1.0 was yanked on" in twice.stderr
    assert "a release is yanked once (there is no unyank)" in twice.stderr
    assert changelog_text(corpus) == marked
    pushed = run_cli("publish", "--corpus", corpus.root, "--version", "1.1.0",
                     "--repo-id", "someone/mine", "--dry-run")
    assert pushed.returncode == 2
    assert "error [release-yanked]" in pushed.stderr and "latest on the Hub" in pushed.stderr
    for run in (unknown, no_reason, blank, twice, pushed):
        assert "Traceback" not in run.stderr, run.stderr


def test_the_library_refuses_as_misuse_and_records_one_line(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    with pytest.raises(MisuseError) as missing:
        yank_module.yank(corpus, "1.2.0", REASON, "2026-01-02T03:04:05Z")
    assert missing.value.problem.code == "release-missing"
    # a reason is one line of the entry, whatever it holds
    done = yank_module.yank(corpus, "1.0.0", "first line\n## v9.9.9\n- manifest sha256: `x`",
                            "2026-01-02T03:04:05Z")
    assert done.reason == "first line ## v9.9.9 - manifest sha256: `x`"
    text = changelog_text(corpus)
    assert ("## v1.0.0 [YANKED]\n\n- yanked: 2026-01-02T03:04:05Z, because: first line "
            "## v9.9.9 - manifest sha256: `x`\n- manifest sha256: `") in text
    assert [e.version for e in changelog.entries(corpus)] == ["1.1.0", "1.0.0"]
    assert not release_verify.verify(corpus, "1.0.0", codebook_module.load())
    # the older release yanked, the latest is still the default
    assert resolve_version(corpus, None) == "1.1.0"
    with pytest.raises(MisuseError) as twice:
        yank_module.yank(corpus, "1.0.0", REASON, "2026-01-02T03:04:05Z")
    assert twice.value.problem.code == "yank-refused"


def test_release_notes_cannot_forge_a_yank(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    generate(corpus, 2, 9)
    notes = "Fixes.\n- yanked: 2026-01-02T03:04:05Z, because: not really\n## v1.2.0 [YANKED]"
    release_build.build(corpus, "1.2.0", codebook_module.load(), notes=notes)
    assert yank_module.yanked(corpus) == {}
    assert resolve_version(corpus, None) == "1.2.0"
    assert "\\- yanked: 2026-01-02T03:04:05Z" in changelog_text(corpus)


def test_with_every_release_yanked_nothing_is_picked_by_itself(checkout: Path) -> None:
    corpus = corpus_of(checkout)
    for version in ("1.0.0", "1.1.0"):
        assert run_cli("yank", "--corpus", corpus.root, version, "--reason", REASON
                       ).returncode == 0
    with pytest.raises(ParatopicsError) as none:
        resolve_version(corpus, None)
    assert "every release in" in none.value.problem.message
    assert "is yanked (1.0.0, 1.1.0)" in none.value.problem.message
    stats = run_cli("stats", "--corpus", corpus.root)
    assert stats.returncode == 0 and "is yanked (1.0.0, 1.1.0)" in stats.stdout
    verified = run_cli("verify", "--corpus", corpus.root)
    assert verified.returncode == 2 and "give a version to use one anyway" in verified.stderr
    assert "Traceback" not in stats.stderr + verified.stderr
    # a yanked version stays taken: a build may not go below it unasked
    lower = run_cli("build", "--corpus", corpus.root, "--version", "1.0.1")
    assert lower.returncode == 2 and "lower than the latest release v1.1.0" in lower.stderr
    # a new release is the default again, and the card follows it
    generate(corpus, 2, 9)
    built = run_cli("build", "--corpus", corpus.root, "--version", "1.2.0")
    assert built.returncode == 0, built.stderr
    assert card_release(checkout) == {"v1.2.0"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the default
        assert resolve_version(corpus, None) == "1.2.0"
