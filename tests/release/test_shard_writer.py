"""release.shards.ShardWriter as a context manager: finalize() returns the shard's
counts, and an exception inside the `with` leaves no file behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paratopics.release import shards as release_shards
from paratopics.release.shards import Background, ShardWriter

SCHEMA = pa.schema([("paragraph_id", pa.string()), ("n", pa.int64())])


def rows(count: int) -> list[dict[str, object]]:
    return [{"paragraph_id": f"a/{i}", "n": i} for i in range(count)]


@pytest.fixture
def background() -> Iterator[Background]:
    """The writing thread, stopped after the test whatever it did."""
    thread = Background()
    yield thread
    thread.close()


def small_groups(monkeypatch: pytest.MonkeyPatch, group: int, batch: int) -> None:
    """Row groups of `group` rows, rows turned into Arrow `batch` at a time."""
    monkeypatch.setattr(release_shards, "ROW_GROUP_ROWS", group)
    monkeypatch.setattr(release_shards, "ROWS_PER_BATCH", batch)


def test_finalize_returns_the_counts_of_the_file_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, background: Background) -> None:
    small_groups(monkeypatch, 7, 3)
    path = tmp_path / "train-00000.partial"
    with ShardWriter(path, SCHEMA, background) as writer:
        for row in rows(30):
            writer.add_row(row)
        writer.tally.articles += 2
        counts = writer.finalize()
    assert counts.rows == 30 and counts.tally.articles == 2
    assert counts.tally is writer.tally
    assert writer.writer is None  # closed by the time the `with` is left
    meta = pq.read_metadata(path)
    assert meta.num_rows == 30
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [7, 7, 7, 7, 2]
    assert pq.read_table(path).column("n").to_pylist() == list(range(30))


def test_a_shard_never_written_has_no_file_and_no_rows(tmp_path: Path,
                                                       background: Background) -> None:
    path = tmp_path / "test-00000.partial"
    with ShardWriter(path, SCHEMA, background) as writer:
        counts = writer.finalize()
    assert counts.rows == 0 and not path.exists()


def test_an_exception_in_the_with_closes_and_removes_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, background: Background) -> None:
    small_groups(monkeypatch, 5, 4)
    path = tmp_path / "train-00001.partial"
    with pytest.raises(RuntimeError, match="stopped"), \
            ShardWriter(path, SCHEMA, background) as writer:
        for row in rows(12):  # two row groups handed to the background thread
            writer.add_row(row)
        writer.add_table(pa.Table.from_pylist(rows(3), schema=SCHEMA))
        background.finish()
        assert path.exists()  # begun: its first row groups are on disk
        raise RuntimeError("stopped")
    assert not path.exists()
    assert writer.writer is None
    with pytest.raises(RuntimeError):  # the background thread was stopped with it
        background.submit(lambda: None)
