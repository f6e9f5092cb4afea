"""The benchmark's floor for a first load: it must do what `load_dataset` does, no less.

The floor is only a floor if it writes the same cache `datasets` writes; these
tests load a small release with the real Parquet builder into an empty cache and
compare the floor's output with the cache `datasets` left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import datasets.config
import pyarrow as pa
import pyarrow.parquet as pq
from conftest import ROOT
from release_helpers import make_release

from paratopics.loader import load
from paratopics.release import layout as release_layout

sys.path.insert(0, str(ROOT / "scripts"))
from load_floor import CACHE_BATCH_ROWS, floor, verdict, write_cache


def paragraph_files(root: Path) -> list[Path]:
    corpus = make_release(root, articles=40)
    folder = release_layout.release_dir(corpus, "1.0.0") / "paragraphs"
    return sorted(folder.glob("*.parquet"))


def test_floor_writes_what_a_first_load_writes(tmp_path: Path) -> None:
    files = paragraph_files(tmp_path)
    loaded = load(version="1.0.0", corpus=tmp_path / "corpus", cache_dir=str(tmp_path / "hf"))
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


SCIPY_PROBE = r"""
import json, sys
if sys.argv[1] == "blocked":
    sys.modules["scipy"] = None
import datasets
from paratopics.loader import load
before = "scipy.io" in sys.modules
loaded = load(version="1.0.0", corpus=sys.argv[2], cache_dir=sys.argv[3])
print(json.dumps({"before": before, "after": "scipy.io" in sys.modules,
                  "rows": sum(split.num_rows for split in loaded.values())}))
"""


def test_a_first_load_imports_scipy_io_only_where_it_is_installed(tmp_path: Path) -> None:
    """The premise of the benchmark's "first without scipy" reference: datasets
    imports scipy.io inside a first load_dataset (it patches loadmat for streaming)
    when scipy is installed, as it is here through scikit-learn, and loads the same
    rows in a process where scipy cannot be imported, as in a core install."""
    paragraph_files(tmp_path)
    runs = {}
    for mode in ("installed", "blocked"):
        done = subprocess.run(
            [sys.executable, "-c", SCIPY_PROBE, mode, str(tmp_path / "corpus"),
             str(tmp_path / f"hf-{mode}")], capture_output=True, text=True, check=True)
        runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["installed"]["before"] is False
    assert runs["installed"]["after"] is True
    assert runs["blocked"]["after"] is False
    assert runs["blocked"]["rows"] == runs["installed"]["rows"] > 0
