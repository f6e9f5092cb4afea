"""Corruption: `paratopics verify` catches every way a release can be damaged or
tampered with, names the file, and exits 1.

One release is built once; each case damages its own copy and runs `verify --all`
through the command's entry point (the intact copy through a real subprocess).
The consistent tamper (data file and manifest edited to agree) is caught by the
manifest digest that the build recorded in releases/CHANGELOG.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_helpers import output, run, synthetic_corpus

from paratopics import cli
from paratopics.corpus.store import Corpus

DATA = "paragraphs/train-00000-of-00001.parquet"


def _flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _rewrite_manifest(release: Path, edit: Callable[[dict[str, object]], None]) -> None:
    path = release / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def flip(release: Path) -> None:
    _flip_byte(release / DATA)


def truncate(release: Path) -> None:
    path = release / DATA
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def delete(release: Path) -> None:
    (release / DATA).unlink()


def extra(release: Path) -> None:
    shutil.copyfile(release / DATA, release / "paragraphs" / "train-00001-of-00001.parquet")


def consistent_tamper(release: Path) -> None:
    """Change the data and make the manifest agree: only the changelog digest catches it."""
    path = release / DATA
    _flip_byte(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    def agree(manifest: dict[str, object]) -> None:
        for entry in manifest["files"]:  # type: ignore[attr-defined]
            if entry["path"] == DATA:
                entry["sha256"], entry["bytes"] = digest, path.stat().st_size
    _rewrite_manifest(release, agree)


def manifest_counts(release: Path) -> None:
    def inflate(manifest: dict[str, object]) -> None:
        manifest["inputs"]["articles"] += 1  # type: ignore[index, operator]
    _rewrite_manifest(release, inflate)


def changelog_digest(release: Path) -> None:
    """A tampered changelog: its recorded digest no longer matches the manifest."""
    path = release.parent / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    tampered = re.sub(r"(manifest sha256: `)([0-9a-f])", lambda m: m[1] + (
        "0" if m[2] != "0" else "1"), text, count=1)
    assert tampered != text
    path.write_text(tampered, encoding="utf-8")


def changelog_entry_removed(release: Path) -> None:
    path = release.parent / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^## v1\.0\.0.*?(?=^## |\Z)", "", text, flags=re.M | re.S),
                    encoding="utf-8")


def manifest_deleted(release: Path) -> None:
    (release / "manifest.json").unlink()


#: case -> (damage, text the report must contain: the file it names, what is wrong)
CASES: dict[str, tuple[Callable[[Path], None], tuple[str, ...]]] = {
    "flipped byte": (flip, (f"v1.0.0/{DATA}", "sha256 differs")),
    "truncated file": (truncate, (f"v1.0.0/{DATA}", "bytes, manifest says")),
    "deleted file": (delete, (f"v1.0.0/{DATA}", "missing")),
    "extra file": (extra, ("v1.0.0/paragraphs/train-00001-of-00001.parquet", "extra file")),
    "manifest edited to match a tampered file": (
        consistent_tamper, ("v1.0.0/manifest.json", "recorded in CHANGELOG.md")),
    "manifest counts edited": (manifest_counts, ("v1.0.0/manifest.json", "CHANGELOG.md")),
    "changelog digest tampered": (
        changelog_digest, ("v1.0.0/manifest.json", "recorded in CHANGELOG.md")),
    "changelog entry removed": (changelog_entry_removed, ("CHANGELOG.md", "no entry records")),
    "manifest deleted": (manifest_deleted, ("v1.0.0/manifest.json",)),
}


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory,
             ) -> dict[str, tuple[subprocess.CompletedProcess[str], Corpus]]:
    """Build one release, damage one copy per case, run `verify --all` on each."""
    base = tmp_path_factory.mktemp("corruption")
    original = synthetic_corpus(base / "original", 25, seed=11)
    done = run("build", "--corpus", original.root, "--version", "1.0.0")
    assert done.returncode == 0, output(done)
    copies = {"intact": Corpus(base / "intact")}
    shutil.copytree(original.root, copies["intact"].root)
    for number, (name, (damage, _)) in enumerate(CASES.items()):
        corpus = Corpus(base / f"case{number}")
        shutil.copytree(original.root, corpus.root)
        damage(corpus.releases / "v1.0.0")
        copies[name] = corpus
    results = {name: _verify(corpus) for name, corpus in copies.items() if name != "intact"}
    results["intact"] = run("verify", "--corpus", copies["intact"].root, "--all")  # a real one
    return {name: (results[name], copies[name]) for name in copies}


def _verify(corpus: Corpus) -> subprocess.CompletedProcess[str]:
    """`paratopics verify --all` through the command's own entry point, in this process
    (argument parsing, output and exit code as in a shell, without a Python start-up)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["verify", "--corpus", str(corpus.root), "--all"])
    return subprocess.CompletedProcess(["paratopics", "verify"], code, out.getvalue(),
                                       err.getvalue())


def test_an_intact_release_verifies(verified: dict[str, tuple[subprocess.CompletedProcess[str],
                                                              Corpus]]) -> None:
    done, _ = verified["intact"]
    assert done.returncode == 0, output(done)
    assert "v1.0.0: intact" in done.stderr


@pytest.mark.parametrize("case", list(CASES))
def test_verify_catches_and_names_the_file(
        verified: dict[str, tuple[subprocess.CompletedProcess[str], Corpus]], case: str) -> None:
    done, _ = verified[case]
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    assert "Traceback" not in text
    assert "[release-corrupt]" in text
    for expected in CASES[case][1]:
        assert expected in text, (expected, text)
