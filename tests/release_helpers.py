"""Helpers shared by the loader, publish, Croissant, interop, label-name, yank and
load-floor tests: a generated corpus with a release built, its rows read back with plain
pyarrow, and Python run in a fresh interpreter as a user's script runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.loader import data_files
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.synthetic import generate

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def make_release(root: Path, articles: int = 20, seed: int = 0,
                 version: str = "1.0.0") -> Corpus:
    """A generated corpus under `root/corpus` with release `version` built."""
    corpus = Corpus(root / "corpus")
    generate(corpus, articles, seed)
    release_build.build(corpus, version, codebook_module.load())
    return corpus


def copy_corpus(source: Corpus, dest: Path) -> Corpus:
    """A copy of `source` at `dest`, for a test that changes or builds it."""
    shutil.copytree(source.root, dest)
    return Corpus(dest)


def release_rows(corpus: Corpus, version: str, config: str) -> dict[str, list[dict]]:
    """split -> rows, read with plain pyarrow: the reference every reader must match."""
    manifest = release_layout.read_manifest(corpus, version)
    folder = release_layout.release_dir(corpus, version)
    return {split: [row for path in paths for row in pq.read_table(folder / path).to_pylist()]
            for split, paths in data_files(manifest, config).items()}


def manifest_rows(corpus: Corpus, version: str, config: str) -> dict[str, int]:
    manifest = release_layout.read_manifest(corpus, version).to_dict()
    return dict(manifest["configs"][config]["rows"])  # type: ignore[index]


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None,
               python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter, as a user's script runs it."""
    full = {**os.environ, **OFFLINE, **(env or {})}
    return subprocess.run([python, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=cwd, env=full, timeout=600)


def last_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
