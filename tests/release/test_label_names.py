"""Label names for every reader: `label_names` beside the ClassLabel columns (manifest 1.3.0).

DuckDB, Polars and pandas see `labels` as lists of integers; releases of manifest
1.3.0 on also carry `label_names` and `label_names_level1`, the class names (codebook
ids) of those integers, item by item. Older releases keep their own columns: they
verify, rebuild and load as before. Every corpus here is built in a temporary folder;
the committed one is only read.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, run_cli
from release_helpers import make_release

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus, sha256_file
from paratopics.loader import data_files, load
from paratopics.release import build as release_build
from paratopics.release import changelog
from paratopics.release import layout as release_layout
from paratopics.release import verify as release_verify
from paratopics.release.layout import NAME_COLUMNS, Layout

BOOK = codebook_module.load()
LABELED = ("paragraphs", "articles")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("label-names"), articles=20, seed=4)


def files_of(corpus: Corpus, version: str, config: str) -> dict[str, list[Path]]:
    manifest = release_layout.read_manifest(corpus, version)
    folder = release_layout.release_dir(corpus, version)
    return {split: [folder / p for p in paths]
            for split, paths in data_files(manifest, config).items()}


def decoded(dataset: object, column: str) -> list[list[str]]:
    """`column`'s class indexes as `datasets` decodes them, through its ClassLabel."""
    feature = dataset.features[column].feature  # type: ignore[attr-defined]
    return [[feature.int2str(i) for i in row] for row in dataset[column]]  # type: ignore[index]


def in_order(files: list[Path]) -> str:
    listed = ", ".join(f"'{f}'" for f in files)
    return f"read_parquet([{listed}], filename = true, file_row_number = true)"


@pytest.mark.parametrize("config", LABELED)
def test_duckdb_polars_and_pandas_read_the_names_datasets_decodes(
        fresh: Corpus, config: str, tmp_path: Path) -> None:
    loaded = load(config, corpus=fresh.root, cache_dir=str(tmp_path))
    seen_labels = 0
    for split, files in files_of(fresh, "1.0.0", config).items():
        for column, names in NAME_COLUMNS.items():
            expected = decoded(loaded[split], column)
            seen_labels += sum(map(len, expected))
            from_pandas = [list(v) for f in files for v in pd.read_parquet(f)[names]]
            from_polars = pl.concat([pl.read_parquet(f) for f in files])[names].to_list()
            duck = duckdb.sql(f"SELECT {names} FROM {in_order(files)} "
                              "ORDER BY filename, file_row_number").fetchall()
            assert from_pandas == from_polars == [row[0] for row in duck] == expected, (
                split, column)
            # the datasets view shows the names column as plain strings too
            assert [list(v) for v in loaded[split][names]] == expected
    assert seen_labels > 50  # the release has labels to name
    files = [f for fs in files_of(fresh, "1.0.0", config).values() for f in fs]
    described = duckdb.sql(f"DESCRIBE SELECT labels, label_names FROM {in_order(files)}")
    types = {row[0]: row[1] for row in described.fetchall()}
    assert types == {"labels": "BIGINT[]", "label_names": "VARCHAR[]"}
    assert pl.read_parquet(files[0]).schema["label_names"] == pl.List(pl.String)


def test_a_reader_filters_by_codebook_id_without_any_metadata(fresh: Corpus) -> None:
    files = [f for fs in files_of(fresh, "1.0.0", "paragraphs").values() for f in fs]
    table = pl.concat([pl.read_parquet(f) for f in files])
    code, count = (table.explode("label_names")["label_names"].drop_nulls()
                   .value_counts(sort=True).row(0))
    index = list(BOOK.label_ids).index(code)
    by_index = sum(index in row for row in table["labels"].to_list())
    [(found,)] = duckdb.sql(f"SELECT count(*) FROM {in_order(files)} "
                            f"WHERE list_contains(label_names, '{code}')").fetchall()
    assert found == by_index == count


def old_corpus(root: Path) -> Corpus:
    """The committed v1.0.0 (manifest 1.0.0: no label names) with its inputs and its
    changelog entry alone, in a temporary corpus."""
    committed = Corpus(ROOT / "corpus")
    corpus = Corpus(root / "corpus")
    shipped = release_layout.release_dir(committed, "1.0.0")
    shutil.copytree(shipped, release_layout.release_dir(corpus, "1.0.0"))
    ids = {str(i) for f in (shipped / "articles").glob("*.parquet")
           for i in pq.read_table(f, columns=["article_id"]).column("article_id").to_pylist()}
    corpus.articles.mkdir(parents=True)
    corpus.annotations.mkdir(parents=True)
    for aid in ids:
        record = committed.articles / f"{aid}.json"
        shutil.copy2(record, corpus.articles / record.name)
        source = json.loads(record.read_text(encoding="utf-8"))["ingested_from"]["path"]
        (corpus.root / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(committed.root / source, corpus.root / source)
    for path in committed.annotation_files():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if json.loads(line)["article_id"] in ids]
        if lines:
            (corpus.annotations / path.name).write_text("\n".join(lines) + "\n",
                                                        encoding="utf-8")
    [entry] = [e for e in changelog.entries(committed) if e.version == "1.0.0"]
    changelog.changelog_path(corpus).write_text(changelog.PREAMBLE + entry.text.rstrip() + "\n",
                                                encoding="utf-8")
    return corpus


def test_an_old_release_keeps_its_layout_and_a_new_one_gets_the_names(tmp_path: Path) -> None:
    corpus = old_corpus(tmp_path)
    old = release_layout.read_manifest(corpus, "1.0.0")
    assert Layout.of(old) == Layout("1.0.0", named=False)
    assert not release_verify.verify(corpus, "1.0.0", BOOK)
    before = {p: sha256_file(p) for p in release_layout.release_dir(corpus, "1.0.0").rglob("*")
              if p.is_file()}
    # built again from its inputs, in its own layout: the same files
    assert release_build.build(corpus, "1.0.0", BOOK).status == "identical"
    assert {p: sha256_file(p) for p in before} == before
    # a new release from the same inputs: manifest 1.3.0, the names beside the indexes
    new = release_build.build(corpus, "1.1.0", BOOK).manifest
    assert new.manifest_version == "1.3.0" and Layout.of(new) == Layout()
    verified = run_cli("verify", "--corpus", corpus.root, "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "v1.0.0: intact" in verified.stderr and "v1.1.0: intact" in verified.stderr
    for config in LABELED:
        [old_file] = files_of(corpus, "1.0.0", config)["train"]
        [new_file] = files_of(corpus, "1.1.0", config)["train"]
        assert "label_names" not in pq.read_schema(old_file).names
        old_table, new_table = pq.read_table(old_file), pq.read_table(new_file)
        assert new_table.column_names[-2:] == ["label_names", "label_names_level1"]
        assert new_table.select(old_table.column_names).column("labels").equals(
            old_table.column("labels"))
        loaded_old = load(config, version="1.0.0", corpus=corpus.root, split="train",
                          cache_dir=str(tmp_path / "hf"))
        loaded_new = load(config, corpus=corpus.root, split="train",
                          cache_dir=str(tmp_path / "hf"))
        assert "label_names" not in loaded_old.features  # type: ignore[operator]
        assert loaded_new["label_names"] == decoded(loaded_old, "labels")  # type: ignore[index]


def forge_names(corpus: Corpus, rel: str, change: str) -> None:
    """Rewrite one file's label_names and make the manifest and changelog agree: a
    consistent forgery, which only the names' agreement with the labels can catch."""
    folder = release_layout.release_dir(corpus, "1.0.0")
    path = folder / rel
    table = pq.read_table(path)
    rows = table.column("label_names").to_pylist()
    row = next(i for i, names in enumerate(rows) if names)
    if change == "renamed":  # another class's name in place of the first
        other = next(code for code in BOOK.label_ids if code != rows[row][0])
        rows[row] = [other, *rows[row][1:]]
    else:  # one name too many
        rows[row] = [*rows[row], rows[row][0]]
    column = table.schema.get_field_index("label_names")
    table = table.set_column(column, table.schema.field(column),
                             pa.array(rows, table.schema.field(column).type))
    pq.write_table(table, path, compression="zstd")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == rel:
            entry["sha256"], entry["bytes"] = sha256_file(path), path.stat().st_size
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                          encoding="utf-8")
    log = changelog.changelog_path(corpus)
    log.write_text(re.sub(r"(manifest sha256: `)[0-9a-f]{64}",
                          lambda m: m[1] + sha256_file(folder / "manifest.json"),
                          log.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.mark.parametrize(("change", "said"), [
    ("renamed", "label_names is not the class names of labels (first at row "),
    ("lengthened", "label_names has another number of items than labels (first at row "),
])
def test_verify_catches_names_that_are_not_the_labels_names(
        fresh: Corpus, tmp_path: Path, change: str, said: str) -> None:
    corpus = Corpus(tmp_path / "corpus")
    shutil.copytree(fresh.root, corpus.root)
    rel = "paragraphs/train-00000-of-00001.parquet"
    forge_names(corpus, rel, change)
    verified = run_cli("verify", "--corpus", corpus.root)
    assert verified.returncode == 1
    assert f"{rel}: error [release-corrupt] {said}" in verified.stdout, verified.stdout
    assert "sha256" not in verified.stdout  # the forgery is consistent: only this catches it
    with pytest.raises(Exception, match="label_names"):
        load(corpus=corpus.root, cache_dir=str(tmp_path / "hf"))
