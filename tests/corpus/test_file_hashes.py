"""store.sha256_file and sha256_files: the digests that manifests, build-cache keys
and provenance checks compare, so they must be hashlib's over the whole file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from paratopics.corpus.store import sha256_file, sha256_files

BUFFER = 1 << 20  # sha256_file's read size: the sizes around it are the edge cases


@pytest.mark.parametrize("size", [0, 1, BUFFER - 1, BUFFER, BUFFER + 1, 3 * BUFFER + 7])
def test_a_file_hashes_as_hashlib_over_its_bytes(tmp_path: Path, size: int) -> None:
    data = bytes((i * 7 + size) % 256 for i in range(size))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("count", "run"), [(0, 3), (1, 3), (7, 3), (9, 3), (10, 256)])
def test_many_files_keep_their_order_across_runs_and_threads(tmp_path: Path, count: int,
                                                             run: int) -> None:
    paths = []
    for i in range(count):
        path = tmp_path / f"{i:03d}.json"
        path.write_bytes(f'{{"n": {i}}}\n'.encode() * (i + 1))
        paths.append(path)
    expected = [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]
    assert sha256_files(paths, threads=3, run=run) == expected
    assert sha256_files(iter(reversed(paths)), threads=2, run=run) == expected[::-1]
