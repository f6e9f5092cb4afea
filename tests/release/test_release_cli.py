"""`paratopics build | verify | diff | stats` as users run them: real processes, exit codes.

Each test works on a corpus generated in a temporary folder; nothing here
touches the checkout's corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import run_in_process
from release_helpers import copy_corpus

from paratopics import codebook
from paratopics.corpus import store as corpus_store
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.release import verify as release_verify
from paratopics.synthetic import generate

BOOK = codebook.load()
VERSION = "1.0.0"


@pytest.fixture(autouse=True)
def _private_validation_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation starts cold and leaves nothing in the user's cache."""
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "validation-cache"))


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The commands of this module in the test's process (conftest's `run_in_process`):
    what they print and return is the point here; the build killed below is a process
    of its own."""
    return run_in_process


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    corpus = Corpus(tmp_path_factory.mktemp("released") / "corpus")
    generate(corpus, 25, seed=61)
    release_build.build(corpus, VERSION, BOOK)
    return corpus


# -- verify -----------------------------------------------------------------------


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def tamper_consistently(folder: Path, rel: str) -> None:
    """Change a file and record its new digest in the manifest: only the changelog
    (which holds the manifest's digest) can tell."""
    path = folder / rel
    flip_byte(path)
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == rel:
            entry["sha256"] = corpus_store.sha256_file(path)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


TRAIN = "paragraphs/train-00000-of-00001.parquet"
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "flipped byte": (lambda f: flip_byte(f / TRAIN),
                     f"v1.0.0/{TRAIN}: error [release-corrupt] sha256 differs"),
    "truncated": (lambda f: truncate(f / TRAIN), f"v1.0.0/{TRAIN}: "),
    "missing": (lambda f: (f / TRAIN).unlink(),
                f"v1.0.0/{TRAIN}: error [release-corrupt] missing"),
    "extra": (lambda f: (f / "paragraphs" / "train-00001-of-00002.parquet").write_bytes(b"x"),
              "v1.0.0/paragraphs/train-00001-of-00002.parquet: error [release-corrupt] not in "
              "the manifest"),
    "manifest edited to match": (lambda f: tamper_consistently(f, TRAIN),
                                 "v1.0.0/manifest.json: error [release-corrupt] sha256"),
}


def test_verify_passes_an_intact_release(released: Corpus, cli: Any) -> None:
    intact = cli("verify", "--corpus", released.root)
    assert intact.returncode == 0 and "v1.0.0: intact" in intact.stderr
    assert intact.stdout == ""


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_verify_names_the_damaged_file(released: Corpus, tmp_path: Path, cli: Any,
                                       damage: str) -> None:
    corpus = copy_corpus(released, tmp_path / "corpus")
    assert release_verify.verify(corpus, VERSION, BOOK) == []
    harm, named = DAMAGE[damage]
    harm(release_layout.release_dir(corpus, VERSION))
    done = cli("verify", "--corpus", corpus.root)
    assert done.returncode == 1, done.stdout
    assert named in done.stdout and "release-corrupt" in done.stdout
    assert "difference(s)" in done.stderr


def test_verify_of_a_truncated_file_reports_size_and_readability(released: Corpus,
                                                                 tmp_path: Path) -> None:
    corpus = copy_corpus(released, tmp_path / "corpus")
    truncate(release_layout.release_dir(corpus, VERSION) / TRAIN)
    issues = release_verify.verify(corpus, VERSION, BOOK)
    assert any("bytes, manifest says" in i.message for i in issues)
    assert any("not a readable Parquet file" in i.message for i in issues)


# -- diff -------------------------------------------------------------------------


def test_diff_names_added_removed_articles_and_label_changes(tmp_path: Path, cli: Any) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 12, seed=71)
    assert cli("build", "--corpus", corpus.root, "--version", "1.0.0").returncode == 0
    added = generate(corpus, 1, seed=72).article_ids[0]
    removed = sorted(p.stem for p in corpus.article_files() if p.stem != added)[3]
    (corpus.articles / f"{removed}.json").unlink()
    judgements = [json.loads(line) for p in corpus.annotation_files()
                  for line in p.read_text().splitlines()]
    for path in corpus.annotation_files():  # the removed article's judgements go too
        kept = [line for line in path.read_text().splitlines()
                if json.loads(line)["article_id"] != removed]
        path.write_text("".join(line + "\n" for line in kept))
    target = next(j for j in judgements if j["article_id"] not in (removed, added)
                  and j.get("role") != "adjudicator")
    (corpus.annotations / "zz-fix.jsonl").write_text(json.dumps({
        **{k: target[k] for k in ("article_id", "paragraph_index", "paragraph_sha256")},
        "labels": ["paratopics:maritime-security"], "annotator": "chief",
        "role": "adjudicator", "created": "2026-06-01T00:00:00Z"}) + "\n")
    built = cli("build", "--corpus", corpus.root, "--version", "1.1.0")
    assert built.returncode == 0, built.stdout + built.stderr

    as_json = cli("diff", "--corpus", corpus.root, "1.0.0", "1.1.0", "--format", "json")
    assert as_json.returncode == 0
    result = json.loads(as_json.stdout)
    assert result["articles"] == {"added": [added], "removed": [removed], "changed": []}
    pid = f"{target['article_id']}/{target['paragraph_index']}"
    changes = {c["paragraph_id"]: c for c in result["label_changes"]}
    assert changes[pid]["after"] == ["paratopics:maritime-security"]
    assert changes[pid]["before"] != changes[pid]["after"]
    as_text = cli("diff", "--corpus", corpus.root, "v1.0.0", "v1.1.0")
    assert as_text.returncode == 0
    assert f"articles added: 1\n  {added}" in as_text.stdout
    assert f"articles removed: 1\n  {removed}" in as_text.stdout
    before = ", ".join(changes[pid]["before"]) or "-"
    assert f"{pid}: {before} -> paratopics:maritime-security" in as_text.stdout


# -- stats --------------------------------------------------------------------------


def test_stats_prints_tables_and_plots_a_png(released: Corpus, tmp_path: Path,
                                             cli: Any) -> None:
    out = tmp_path / "chart" / "labels.png"
    done = cli("stats", "--corpus", released.root, "--plot", out)
    assert done.returncode == 0, done.stderr
    manifest = release_layout.read_manifest(released, VERSION).to_dict()
    assert "config" in done.stdout and "gold labels (paragraphs per split)" in done.stdout
    for split, rows in manifest["configs"]["paragraphs"]["rows"].items():
        assert any(line.split() == ["paragraphs", split, f"{rows:,}"]
                   for line in done.stdout.splitlines())
    top = max(manifest["labels"]["distribution"].items(),
              key=lambda kv: sum(kv[1]["paragraphs"].values()))
    assert top[0] in done.stdout
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")


# -- an interrupted build --------------------------------------------------------------


def start_build(corpus: Corpus) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "paratopics", "build", "--corpus", str(corpus.root),
         "--version", VERSION], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ})


def kill_while_writing(corpus: Corpus, after: float) -> bool:
    """SIGKILL a build `after` seconds into writing its release; whether it was
    still running then."""
    child = start_build(corpus)
    deadline = time.monotonic() + 120
    while child.poll() is None and not list(corpus.releases.glob(".tmp-*")):
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("the build never started writing")
        time.sleep(0.002)
    time.sleep(after)
    running = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    return running


def test_a_killed_build_leaves_no_partial_release(tmp_path: Path, cli: Any) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 300, seed=81)
    interrupted = 0
    for after in (0.0, 0.05, 0.2, 0.5):
        interrupted += kill_while_writing(corpus, after)
        folder = release_layout.release_dir(corpus, VERSION)
        if folder.exists():  # the rename happened: then it is whole
            assert release_verify.verify(corpus, VERSION, BOOK) == []
            shutil.rmtree(folder)
            (corpus.releases / "CHANGELOG.md").unlink(missing_ok=True)
        else:
            assert release_layout.list_versions(corpus) == []
    assert interrupted >= 1
    assert list(corpus.releases.glob(".tmp-*"))  # the last kill left its temporary folder
    assert release_layout.list_versions(corpus) == []
    done = cli("build", "--corpus", corpus.root, "--version", VERSION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(corpus.releases.glob(".tmp-*"))
    assert release_layout.list_versions(corpus) == [VERSION]
    assert cli("verify", "--corpus", corpus.root).returncode == 0


@pytest.mark.parametrize(("given", "zeros"), [("1.02.0", True), ("one", False),
                                              ("1.2", False), ("v1.2.0.1", False)])
def test_a_version_that_is_not_x_y_z_is_the_callers_mistake(
        released: Corpus, tmp_path: Path, cli: Any, given: str, zeros: bool) -> None:
    corpus = copy_corpus(released, tmp_path / "corpus")
    before = sorted(p.name for p in corpus.releases.iterdir())
    refused = cli("build", "--corpus", corpus.root, "--version", given)
    assert refused.returncode == 2, refused.stderr
    assert f"error [version-invalid] version '{given.lstrip('v')}' is not X.Y.Z" in refused.stderr
    assert ("without leading zeros" in refused.stderr) == zeros
    assert "hint: Give --version X.Y.Z" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in corpus.releases.iterdir()) == before
    with pytest.raises(ParatopicsError) as caught:
        release_build.check_version(given)
    assert caught.value.problem.code == "version-invalid"
    assert release_build.check_version("10.0.1") == "10.0.1"
