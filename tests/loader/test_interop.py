"""One release, four independent readers: pandas, DuckDB, Polars and the loader agree."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest
from release_helpers import make_release

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.loader import data_files, load
from paratopics.release import layout as release_layout

VERSION = "1.0.0"
KEYS = {"paragraphs": "paragraph_id", "articles": "article_id", "annotations": "paragraph_id"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("interop"), articles=20, seed=2)


def files_by_split(corpus: Corpus, config: str) -> dict[str, list[Path]]:
    manifest = release_layout.read_manifest(corpus, VERSION)
    folder = release_layout.release_dir(corpus, VERSION)
    return {split: [folder / p for p in paths]
            for split, paths in data_files(manifest, config).items()}


def with_pandas(files: list[Path], key: str) -> list[str]:
    return [v for f in files for v in pd.read_parquet(f, columns=[key])[key].tolist()]


def duckdb_files(files: list[Path]) -> str:
    """A read_parquet over `files` that keeps their order, row by row."""
    listed = ", ".join(f"'{f}'" for f in files)
    return f"read_parquet([{listed}], filename = true, file_row_number = true)"


def with_duckdb(files: list[Path], key: str) -> list[str]:
    query = f"SELECT {key} FROM {duckdb_files(files)} ORDER BY filename, file_row_number"
    return [row[0] for row in duckdb.sql(query).fetchall()]


def with_polars(files: list[Path], key: str) -> list[str]:
    return pl.concat([pl.read_parquet(f, columns=[key]) for f in files])[key].to_list()


@pytest.mark.parametrize("config", release_layout.CONFIGS)
def test_every_reader_sees_the_same_rows_and_ids(corpus: Corpus, config: str,
                                                 tmp_path: Path) -> None:
    key = KEYS[config]
    manifest = release_layout.read_manifest(corpus, VERSION).to_dict()
    expected_rows = manifest["configs"][config]["rows"]  # type: ignore[index]
    loaded = load(config=config, corpus=corpus.root, cache_dir=str(tmp_path))
    for split, files in files_by_split(corpus, config).items():
        ids = {
            "pyarrow": [v for f in files
                        for v in pq.read_table(f, columns=[key])[key].to_pylist()],
            "pandas": with_pandas(files, key),
            "duckdb": with_duckdb(files, key),
            "polars": with_polars(files, key),
            "datasets": list(loaded[split][key]),
        }
        for reader, got in ids.items():
            assert len(got) == expected_rows[split], (reader, split)
            assert got == ids["pyarrow"], (reader, split)


def test_labels_and_dates_agree_across_readers(corpus: Corpus) -> None:
    files = files_by_split(corpus, "paragraphs")["train"]
    frame = pd.concat(pd.read_parquet(f) for f in files)
    polars = pl.concat([pl.read_parquet(f) for f in files])
    duck = duckdb.sql(f"SELECT labels, published FROM {duckdb_files(files)} "
                      "ORDER BY filename, file_row_number").fetchall()
    from_pandas = [list(v) for v in frame["labels"]]
    assert from_pandas == polars["labels"].to_list() == [list(r[0]) for r in duck]
    assert list(frame["published"]) == polars["published"].to_list() == [r[1] for r in duck]


def test_label_names_survive_in_the_parquet_metadata(corpus: Corpus) -> None:
    """A reader without `datasets` finds the class names in the schema metadata."""
    book = codebook_module.load()
    for config in ("paragraphs", "articles"):
        path = next(iter(files_by_split(corpus, config).values()))[0]
        info = json.loads(pq.read_schema(path).metadata[b"huggingface"])
        features = info["info"]["features"]
        assert features["labels"]["feature"]["names"] == list(book.label_ids)
        assert features["labels_level1"]["feature"]["names"] == list(book.level1_ids)
