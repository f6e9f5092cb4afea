"""The least time any first `load_dataset` of a Parquet release can take: read + cache write.

A first `datasets.load_dataset("parquet", ...)` always does two things: it reads
the Parquet files, and it writes what it read into its cache as an Arrow IPC
stream (`ArrowWriter`: `pa.RecordBatchStreamWriter`, record batches of
`writer_batch_size`, 1,000 rows by default), which later loads memory-map. This
module does exactly those two things with nothing around them (no builder, no
fingerprint, no feature casts), so its time is a floor for the loader: a ratio
target against the bare read that this floor already misses cannot be met by
any loader built on `load_dataset`, only by one that skips the cache.

The benchmark's load child times `floor(files, folder)` beside the bare read, and
`verdict` judges a first load against its target with both references. This
module needs only pyarrow, so the tests can import it without the bench extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: `datasets.config.DEFAULT_MAX_BATCH_SIZE`: the record batch length of its cache files.
CACHE_BATCH_ROWS = 1000


def read_release(files: Sequence[Path]) -> list[pa.Table]:
    """The bare read, as the benchmark's pyarrow peer does it."""
    return [pq.read_table(path) for path in files]


def write_cache(tables: Sequence[pa.Table], folder: Path,
                batch_rows: int = CACHE_BATCH_ROWS) -> int:
    """`tables` written into `folder` as Arrow IPC streams, one file each, the way
    `datasets` writes its cache; returns the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for number, table in enumerate(tables):
        path = folder / f"cache-{number:05d}.arrow"
        with pa.OSFile(str(path), "wb") as sink:
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table, max_chunksize=batch_rows)
            written += sink.tell()
    return written


def floor(files: Sequence[Path], folder: Path) -> tuple[int, int]:
    """Read `files` and write them as a cache into `folder`: (rows, bytes written)."""
    tables = read_release(files)
    return sum(t.num_rows for t in tables), write_cache(tables, folder)


def verdict(ratio: float, target: float, read: float | None, floor: float | None = None,
            bare: float | None = None) -> str:
    """Met or missed; a miss says which reference misses too: the floor (read + cache
    write: no loader on load_dataset could meet the target on this input) or a bare
    load_dataset of the same files (datasets' own cost, not paratopics')."""
    if ratio <= target:
        return f"met ({ratio:.2f}x)"
    if read and floor and floor / read > target:
        return f"MISSED ({ratio:.2f}x; out of reach: read + cache write alone {floor / read:.2f}x)"
    if read and bare and bare / read > target:
        return f"MISSED ({ratio:.2f}x; a bare load_dataset of the same files {bare / read:.2f}x)"
    return f"MISSED ({ratio:.2f}x)"
