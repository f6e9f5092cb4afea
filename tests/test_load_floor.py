"""The benchmark's floor for a first load: it must do what `load_dataset` does, no less.

The floor is only a floor if it writes the same cache `datasets` writes; these
tests load a small release with the real Parquet builder into an empty cache and
compare the floor's output with the cache `datasets` left behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import datasets.config
import pyarrow as pa
import pyarrow.parquet as pq
from conftest import ROOT
from test_loader import make_release

from paratopics import release as release_module
from paratopics.loader import load

sys.path.insert(0, str(ROOT / "scripts"))
from load_floor import CACHE_BATCH_ROWS, floor, verdict, write_cache


def paragraph_files(root: Path) -> list[Path]:
    corpus = make_release(root, articles=40)
    folder = release_module.release_dir(corpus, "1.0.0") / "paragraphs"
    return sorted(folder.glob("*.parquet"))


def test_floor_writes_what_a_first_load_writes(tmp_path: Path) -> None:
    files = paragraph_files(tmp_path)
    loaded = load("1.0.0", corpus=tmp_path / "corpus", cache_dir=str(tmp_path / "hf"))
    cached = sorted((tmp_path / "hf").rglob("*.arrow"))
    assert cached, "load_dataset wrote no Arrow cache"

    rows, written = floor(files, tmp_path / "floor")

    assert rows == sum(split.num_rows for split in loaded.values())
    cache_bytes = sum(path.stat().st_size for path in cached)
    # Same rows, same schema and metadata, same stream format: the same bytes but
    # for the stream headers of one file per Parquet file instead of one per split.
    assert abs(written - cache_bytes) <= 0.01 * cache_bytes, (written, cache_bytes)


def test_floor_cache_reads_back_as_the_release(tmp_path: Path) -> None:
    files = paragraph_files(tmp_path)
    floor(files, tmp_path / "floor")
    written = sorted((tmp_path / "floor").glob("*.arrow"))
    assert len(written) == len(files)
    for parquet, arrow in zip(files, written, strict=True):
        with pa.memory_map(str(arrow)) as source:
            back = pa.ipc.open_stream(source).read_all()
        assert back.equals(pq.read_table(parquet), check_metadata=True)


def test_cache_batches_are_datasets_batches(tmp_path: Path) -> None:
    assert CACHE_BATCH_ROWS == datasets.config.DEFAULT_MAX_BATCH_SIZE
    table = pa.table({"n": list(range(25))})
    write_cache([table], tmp_path, batch_rows=10)
    with pa.memory_map(str(tmp_path / "cache-00000.arrow")) as source:
        lengths = [batch.num_rows for batch in pa.ipc.open_stream(source)]
    assert lengths == [10, 10, 5]


def test_verdict_names_the_reference_that_misses_too() -> None:
    assert verdict(1.2, 1.5, 0.04, 0.05, 0.05).startswith("met")
    assert verdict(1.5, 1.5, None).startswith("met")
    # Both references within the target: paratopics' own share is the miss.
    assert verdict(3.0, 1.5, 0.04, 0.05, 0.05) == "MISSED (3.00x)"
    # The floor misses: no loader writing the cache could meet it.
    out_of_reach = verdict(3.0, 1.5, 0.04, 0.07, 0.10)
    assert out_of_reach.startswith("MISSED (3.00x; out of reach")
    assert "1.75x" in out_of_reach
    # Only the bare load_dataset misses: datasets' own cost.
    bare = verdict(3.0, 1.5, 0.04, 0.05, 0.11)
    assert bare == "MISSED (3.00x; a bare load_dataset of the same files 2.75x)"
