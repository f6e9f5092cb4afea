"""Shared fixtures: every test works on its own corpus in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paratopics.corpus.store import Corpus

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SEED = SHARED / "articles" / "000_d12fdfeb9be6ca05.txt"
COMMITTED_SEED = ROOT / "corpus" / "sources" / "globalsecurity.org" / "000_d12fdfeb9be6ca05.txt"


def seed_path() -> Path:
    """The seed article: the shared copy, else the one committed in corpus/sources."""
    return SEED if SEED.is_file() else COMMITTED_SEED


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Validation and build caches of the whole session in a temporary folder,
    never in the user's; tests that need a cold cache set their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARATOPICS_CACHE", str(tmp_path_factory.mktemp("paratopics-cache")))
        yield


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    root = tmp_path / "corpus"
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    return Corpus(root)


@pytest.fixture
def seeded(corpus: Corpus) -> Corpus:
    """A corpus holding the seed article, ingested through the real code path."""
    from paratopics.ingest.core import ingest_files

    report = ingest_files(corpus, [seed_path()])
    assert not report.problems, report.problems
    return corpus


def run_cli(*args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `paratopics` command in a fresh process, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "paratopics", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=600,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_article(corpus: Corpus) -> dict[str, object]:
    files = corpus.article_files()
    assert len(files) == 1, files
    return json.loads(files[0].read_text(encoding="utf-8"))


def copy_seed(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed_path(), dest)
    return dest
