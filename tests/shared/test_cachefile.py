"""The one cache-file format both validation caches use (paratopics.cachefile): trusted
whole or not at all, and another fingerprint's file never read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from paratopics import cachefile
from paratopics.release import build_cache
from paratopics.validate.cache import (
    AnnotationCache,
    FileEntry,
    RecordEntry,
    ValidCache,
    record_line,
)

KEYS = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(4)]


def lines_of(count: int) -> dict[str, str]:
    """Valid-article cache lines for the first `count` keys."""
    found = {}
    for n, key in enumerate(KEYS[:count]):
        line = record_line(key, RecordEntry(f"article-{n}", n + 1, "d" * 64, f"sources/s{n}.txt",
                                            "e" * 64))
        assert line is not None
        found[key] = line
    return found


def saved(folder: Path, fingerprint: str, entries: dict[str, str]) -> Path:
    cache = ValidCache.open(folder, "valid-articles", fingerprint)
    cache.new.update(entries)
    cache.save()
    assert cache.path is not None
    return cache.path


def test_the_file_is_a_sealed_head_then_sorted_rows(tmp_path: Path) -> None:
    entries = lines_of(3)
    path = saved(tmp_path, "f1", entries)
    assert path == tmp_path / "valid-articles-f1.txt"
    body = "".join(line + "\n" for line in sorted(entries.values())).encode()
    assert path.read_bytes() == (b"paratopics-cache\t" + hashlib.sha256(body).hexdigest().encode()
                                 + b"\n" + body)
    assert dict(ValidCache.open(tmp_path, "valid-articles", "f1").known) == entries


def test_a_cache_of_another_fingerprint_is_not_read(tmp_path: Path) -> None:
    path = saved(tmp_path, "f1", lines_of(2))
    before = path.read_bytes()
    other = ValidCache.open(tmp_path, "valid-articles", "f2")
    assert other.known == {}
    other.new.update(lines_of(1))
    other.save()
    assert path.read_bytes() == before  # the other code's file is left as it was
    assert len(ValidCache.open(tmp_path, "valid-articles", "f1").known) == 2
    assert len(ValidCache.open(tmp_path, "valid-articles", "f2").known) == 1


@pytest.mark.parametrize("how", ["byte flipped", "truncated", "other head", "build entry",
                                 "not utf-8", "empty"])
def test_a_damaged_or_foreign_file_starts_afresh_and_is_rewritten(tmp_path: Path,
                                                                  how: str) -> None:
    path = saved(tmp_path, "f1", lines_of(3))
    data = bytearray(path.read_bytes())
    if how == "byte flipped":
        data[-5] ^= 1
    elif how == "truncated":
        del data[-10:]
    elif how == "other head":  # a later format of the same name, sealed right
        data = bytearray(cachefile.seal(b"paratopics-cache-v2", bytes(data).partition(b"\n")[2]))
    elif how == "build entry":  # sealed right, but as the build cache seals
        data = bytearray(build_cache.seal(bytes(data).partition(b"\n")[2]))
    elif how == "not utf-8":
        data = bytearray(cachefile.seal(b"paratopics-cache", b"\xff\xfe\tx\n"))
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    cache = ValidCache.load(path)
    assert cache.known == {}
    cache.new.update(lines_of(2))
    cache.save()
    assert dict(ValidCache.load(path).known) == lines_of(2)


def test_a_row_that_would_not_read_back_is_left_out(tmp_path: Path) -> None:
    assert cachefile.row_line(["a", "b\tc"]) is None and cachefile.row_line(["a", "b\n"]) is None
    assert record_line(KEYS[0], RecordEntry("x", 1, "d", "sources/a\tb.txt", "e")) is None
    cache = AnnotationCache.load(tmp_path / "valid-annotations-f1.txt")
    cache.new[KEYS[0]] = FileEntry(3, "d" * 64, (("ann-1", "article-1"),))
    cache.new[KEYS[1]] = FileEntry(2, "d" * 64, (("ann\t2", "article-1"),))
    cache.save()
    assert list(AnnotationCache.load(tmp_path / "valid-annotations-f1.txt").known) == [KEYS[0]]


def test_a_row_of_another_shape_voids_an_annotation_cache_whole(tmp_path: Path) -> None:
    path = tmp_path / "valid-annotations-f1.txt"
    good = f"{KEYS[0]}\t3\t{'d' * 64}\tann-1\tarticle-1\n"
    path.write_bytes(cachefile.seal(b"paratopics-cache", good.encode()))
    assert AnnotationCache.load(path).known == {
        KEYS[0]: FileEntry(3, "d" * 64, (("ann-1", "article-1"),))}
    odd = good + f"{KEYS[1]}\t2\t{'d' * 64}\tann-1\n"  # a pair cut in half
    path.write_bytes(cachefile.seal(b"paratopics-cache", odd.encode()))
    assert AnnotationCache.load(path).known == {}


def test_prune_keeps_what_the_run_saw_and_made(tmp_path: Path) -> None:
    path = saved(tmp_path, "f1", lines_of(3))
    cache = ValidCache.load(path)
    cache.seen.add(KEYS[1])
    cache.save()  # not pruned, nothing new: the file is not written again
    assert len(ValidCache.load(path).known) == 3
    cache.new[KEYS[3]] = "\t".join([KEYS[3], "article-3", "4", "d", "s", "e"])
    cache.save(prune=True)
    assert sorted(ValidCache.load(path).known) == sorted([KEYS[1], KEYS[3]])


def test_a_cache_that_cannot_be_written_is_no_error(tmp_path: Path) -> None:
    path = tmp_path / "valid-articles-f1.txt"
    path.mkdir()  # a folder where the file should be
    cache = ValidCache.load(path)
    cache.new.update(lines_of(1))
    cache.save()
    assert path.is_dir() and ValidCache.load(path).known == {}
    ValidCache(None, {}, lines_of(1)).save()  # no path: no cache, nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["valid-articles-f1.txt"]
