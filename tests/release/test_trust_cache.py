"""A damaged build cache never reaches a release: every entry is checked against its
digest before use, and a bad one is rebuilt, never trusted and never a traceback.

The builds run in the test's process (`run_in_process`): each opens the cache on disk
again, as a fresh process does; nothing of it is kept in memory between commands."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import run_in_process
from reliability_helpers import output, synthetic_corpus

from paratopics.release.build_cache import seal, unseal

CONFIGS = ("paragraphs", "articles", "annotations")


def _tables(release: Path) -> dict[str, object]:
    return {f"{c}/{p.name}": pq.read_table(p) for c in CONFIGS
            for p in sorted((release / c).glob("*.parquet"))}


def _flip(path: Path, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    at = rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PARATOPICS_CACHE", str(cache))
    corpus = synthetic_corpus(tmp_path / "corpus", 12, seed=5).root
    done = run_in_process("build", "--corpus", corpus, "--version", "1.0.0")
    assert done.returncode == 0, output(done)
    return corpus, cache


def _verified(corpus: Path) -> None:
    checked = run_in_process("verify", "--corpus", corpus, "--all")
    assert checked.returncode == 0, output(checked)


def _rebuild(corpus: Path, cache: Path, version: str) -> None:
    done = run_in_process("build", "--corpus", corpus, "--version", version)
    assert "Traceback" not in done.stderr, output(done)
    assert done.returncode == 0, output(done)
    assert _tables(corpus / "releases" / f"v{version}") == \
        _tables(corpus / "releases" / "v1.0.0"), version


def test_flipped_bits_in_cached_judgements_never_reach_a_release(
        built: tuple[Path, Path]) -> None:
    """The report's reproduction: one bit flipped in a cached judgement table, the
    shards removed (so rows are built again from the tables), the next version built."""
    corpus, cache = built
    rng = random.Random(22)
    for trial in range(6):
        arrows = sorted(cache.glob("build-*/judgements/*/*.arrow"))
        assert arrows, "the first build cached no judgement table"
        _flip(rng.choice(arrows), rng)
        for shards in cache.glob("build-*/shards"):
            shutil.rmtree(shards)
        _rebuild(corpus, cache, f"1.0.{trial + 1}")
    _verified(corpus)


def test_flipped_bits_in_cached_shards_never_reach_a_release(
        built: tuple[Path, Path]) -> None:
    """A shard's metadata (its rows and tally go into the manifest) and its Parquet bytes."""
    corpus, cache = built
    rng = random.Random(7)
    for trial in range(4):
        suffix = ".json" if trial % 2 == 0 else ".parquet"
        files = sorted(cache.glob(f"build-*/shards/*/*{suffix}"))
        assert files
        _flip(rng.choice(files), rng)
        _rebuild(corpus, cache, f"1.1.{trial}")
    _verified(corpus)


def test_truncated_and_emptied_entries_are_rebuilt(built: tuple[Path, Path]) -> None:
    corpus, cache = built
    for path in cache.glob("build-*/*/*/*"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if path.suffix == ".arrow" else b"")
    _rebuild(corpus, cache, "1.2.0")


def test_seal_round_trip_and_damage() -> None:
    body = b"judgements\n\x00\xff"
    assert bytes(unseal(seal(body)) or b"") == body
    sealed = bytearray(seal(body))
    for at in range(len(sealed)):
        damaged = bytearray(sealed)
        damaged[at] ^= 0x10
        assert unseal(bytes(damaged)) is None, at
    assert unseal(b"") is None and unseal(body) is None
