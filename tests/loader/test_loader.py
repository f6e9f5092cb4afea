"""paratopics.load and load_dataset on a checkout: the paths users load the corpus by.

Every test loads a corpus generated and built in a temporary folder, through
the real `datasets` Parquet builder; the checks that matter to users (offline,
installed non-editable, a checkout's README) run in fresh processes.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from datasets import ClassLabel, Dataset, DatasetDict, IterableDataset, IterableDatasetDict
from datasets.distributed import split_dataset_by_node
from release_helpers import (
    last_json,
    make_release,
    manifest_rows,
    release_rows,
    run_python,
)

import paratopics
from paratopics import codebook as codebook_module
from paratopics.corpus.config import MARKER, render_marker
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, UsageError
from paratopics.loader import default_corpus, label_map, label_names, load
from paratopics.publish import core as publish_module
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.synthetic import generate


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """Two releases: 1.0.0, and 1.1.0 with more articles (the latest)."""
    root = tmp_path_factory.mktemp("loader")
    corpus = make_release(root, articles=20, seed=0, version="1.0.0")
    generate(corpus, 6, 1)
    release_build.build(corpus, "1.1.0", codebook_module.load())
    return corpus


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return str(tmp_path / "hf-cache")


# -- load ---------------------------------------------------------------------


def test_latest_release_by_default_with_every_split_typed(built: Corpus, cache: str) -> None:
    ds = load(corpus=built.root, cache_dir=cache)
    assert isinstance(ds, DatasetDict)
    assert {s: ds[s].num_rows for s in ds} == manifest_rows(built, "1.1.0", "paragraphs")
    assert list(ds) == [s for s in release_layout.split_names() if s in ds]
    book = codebook_module.load()
    for split in ds:
        assert ds[split].features == release_layout.features("paragraphs", book)
    reference = release_rows(built, "1.1.0", "paragraphs")
    for split, rows in reference.items():
        assert list(ds[split]["paragraph_id"]) == [r["paragraph_id"] for r in rows]
        assert list(ds[split]["labels"]) == [r["labels"] for r in rows]
        assert list(ds[split]["text"]) == [r["text"] for r in rows]


def test_an_older_version_a_v_prefix_and_one_split(built: Corpus, cache: str) -> None:
    older = load(version="v1.0.0", corpus=built.root, split="train", cache_dir=cache)
    assert isinstance(older, Dataset)
    assert older.num_rows == manifest_rows(built, "1.0.0", "paragraphs")["train"]
    assert older.num_rows < load(corpus=built.root, split="train", cache_dir=cache).num_rows


def test_split_expressions_slice_and_combine(built: Corpus, cache: str) -> None:
    rows = manifest_rows(built, "1.1.0", "paragraphs")
    assert load(corpus=built.root, split="train[:5]", cache_dir=cache).num_rows == 5
    first, second = list(rows)[:2]
    both = load(corpus=built.root, split=f"{first}+{second}", cache_dir=cache)
    assert both.num_rows == rows[first] + rows[second]
    with pytest.raises(ValueError, match="no 'tests' split"):
        load(corpus=built.root, split="train+tests[:3]")


def test_articles_and_annotations_configs(built: Corpus, cache: str) -> None:
    for config in ("articles", "annotations"):
        ds = load(config=config, corpus=str(built.root), cache_dir=cache)
        assert {s: ds[s].num_rows for s in ds} == manifest_rows(built, "1.1.0", config)
    articles = load(config="articles", corpus=built, split="train", cache_dir=cache)
    first = articles[0]
    assert first["body"] == "\n\n".join(p["text"] for p in first["paragraphs"])


def test_a_missing_version_names_the_available_ones(built: Corpus) -> None:
    with pytest.raises(ParatopicsError) as caught:
        load(version="2.0.0", corpus=built.root)
    assert caught.value.problem.code == "release-missing"
    assert "no release v2.0.0 (available: 1.0.0, 1.1.0)" in str(caught.value)


def test_unknown_config_and_split_are_named(built: Corpus) -> None:
    with pytest.raises(ValueError, match="unknown config 'paragraph': choose one of "
                       "paragraphs, articles, annotations"):
        load(config="paragraph", corpus=built.root)
    with pytest.raises(ValueError, match=r"no 'unlabeled' split in annotations \(available: "):
        load(config="annotations", split="unlabeled", corpus=built.root)


def test_a_corpus_without_releases_says_to_build_one(corpus: Corpus) -> None:
    with pytest.raises(ParatopicsError, match="paratopics build --version"):
        load(corpus=corpus.root)


def test_default_corpus_environment_then_checkout(built: Corpus, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARATOPICS_CORPUS", str(built.root))
    assert default_corpus().root == built.root
    monkeypatch.setenv("PARATOPICS_CORPUS", str(tmp_path / "nowhere"))
    with pytest.raises(UsageError, match="PARATOPICS_CORPUS"):
        default_corpus()
    monkeypatch.delenv("PARATOPICS_CORPUS")
    checkout = tmp_path / "checkout"
    (checkout / "corpus").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (checkout / "docs").mkdir()
    assert default_corpus(checkout / "docs").root == checkout / "corpus"


# -- labels ---------------------------------------------------------------------


def test_label_map_between_index_codebook_id_and_name(built: Corpus, cache: str) -> None:
    ds = load(corpus=built.root, cache_dir=cache)
    book = codebook_module.load()
    labels = label_map(ds)
    assert labels.ids == book.label_ids
    assert labels.names == tuple(book.name(code) for code in book.label_ids)
    assert label_names(ds["train"]) == list(labels.names)
    code = "paratopics:maritime-security"
    index = labels.index(code)
    assert labels.id(index) == code
    assert labels.index(book.name(code)) == index
    assert labels.name(index) == book.name(code)
    assert labels.encode(labels.decode([index, 0])) == [index, 0]
    with pytest.raises(KeyError):
        labels.index("no such label")
    assert label_map(ds, "labels_level1").ids == book.level1_ids
    feature = ds["train"].features["labels"].feature
    assert isinstance(feature, ClassLabel)
    # Every row's classes decode to codebook ids whose level-1 parents are its level-1 labels.
    level1 = label_map(ds, "labels_level1")
    for row in ds["train"]:
        parents = {book.level1(code) for code in labels.decode(row["labels"])}
        assert parents == set(level1.decode(row["labels_level1"]))
    with pytest.raises(TypeError):
        label_map(ds, "text")


def test_package_exports_the_loader() -> None:
    assert paratopics.load is load
    assert paratopics.label_map is label_map
    assert "load" in paratopics.__all__


# -- streaming and distributed ------------------------------------------------------


def test_streaming_gives_the_same_rows(built: Corpus, cache: str) -> None:
    streamed = load(corpus=built.root, streaming=True, cache_dir=cache)
    assert isinstance(streamed, IterableDatasetDict)
    reference = release_rows(built, "1.1.0", "paragraphs")
    assert list(streamed) == list(reference)
    for split, rows in reference.items():
        got = list(streamed[split])
        assert [r["paragraph_id"] for r in got] == [r["paragraph_id"] for r in rows]
        assert [r["labels"] for r in got] == [r["labels"] for r in rows]
    one = load(corpus=built.root, split="train", streaming=True, cache_dir=cache)
    assert isinstance(one, IterableDataset)
    assert one.features == release_layout.features("paragraphs", codebook_module.load())


@pytest.mark.parametrize("streaming", [False, True])
def test_two_ranks_get_disjoint_shares_covering_everything(built: Corpus, cache: str,
                                                           streaming: bool) -> None:
    ds = load(corpus=built.root, split="train", streaming=streaming, cache_dir=cache)
    shares = [[row["paragraph_id"] for row in split_dataset_by_node(ds, rank=r, world_size=2)]
              for r in range(2)]
    everything = [r["paragraph_id"] for r in release_rows(built, "1.1.0", "paragraphs")["train"]]
    assert all(shares), "each rank gets some rows"
    assert not set(shares[0]) & set(shares[1])
    assert sorted(shares[0] + shares[1]) == sorted(everything)


# -- fresh processes: offline, installed, a checkout's README ----------------------


def test_offline_in_a_fresh_process(built: Corpus, tmp_path: Path) -> None:
    result = run_python(f"""
        import json, paratopics
        ds = paratopics.load(corpus={str(built.root)!r}, cache_dir={str(tmp_path / "c")!r})
        print(json.dumps({{s: ds[s].num_rows for s in ds}}))
    """, cwd=tmp_path)
    assert last_json(result) == manifest_rows(built, "1.1.0", "paragraphs")


def project_copy(dest: Path) -> Path:
    """The files a wheel is built from, without corpus/ or .git (the checkout is not touched)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(ROOT / name, dest / name)
    for folder in ("src", "schema"):
        shutil.copytree(ROOT / folder, dest / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def fresh_venv_with_our_dependencies(venv: Path) -> str:
    """A new venv that sees this interpreter's packages (datasets, hatchling, ...).

    `--system-site-packages` would give the *base* interpreter's packages, which
    lack them when the tests themselves run in a venv (as in CI); a .pth file
    naming this interpreter's site-packages bridges to them instead. Paths named
    in a .pth are not site dirs, so the editable install of paratopics there is
    not picked up: the only paratopics the venv can import is the one installed.
    """
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_test_parent_env.pth").write_text("\n".join(ours) + "\n")
    return str(python)


def test_installed_non_editable_outside_the_checkout(built: Corpus, tmp_path: Path) -> None:
    source = project_copy(tmp_path / "project")
    venv = tmp_path / "venv"
    python = fresh_venv_with_our_dependencies(venv)
    install = subprocess.run([python, "-m", "pip", "install", "--no-deps",
                              "--no-build-isolation", "--quiet", str(source)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = run_python(f"""
        import json, paratopics
        from paratopics.codebook import schema_dir
        from paratopics.errors import UsageError
        ds = paratopics.load(corpus={str(built.root)!r}, split="train",
                             cache_dir={str(tmp_path / "c")!r})
        try:
            paratopics.load()
            missing = None
        except UsageError as exc:
            missing = str(exc)
        print(json.dumps({{"file": paratopics.__file__, "schema": str(schema_dir()),
                          "rows": ds.num_rows, "names": ds.features["labels"].feature.names,
                          "label_name": paratopics.label_map(ds).name(0),
                          "missing": missing}}))
    """, cwd=outside, env={"PARATOPICS_CORPUS": ""}, python=python)
    found = last_json(result)
    assert found["file"].startswith(str(venv)), found["file"]
    assert found["schema"].startswith(str(venv)), "the codebook ships in the wheel"
    assert found["rows"] == manifest_rows(built, "1.1.0", "paragraphs")["train"]
    book = codebook_module.load()
    assert found["names"] == list(book.label_ids)
    assert found["label_name"] == book.name(book.label_ids[0])
    assert found["missing"] is not None and "no paratopics corpus found" in found["missing"]


def test_load_dataset_on_a_checkout_reads_the_readme_front_matter(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "README.md").write_text("---\npretty_name: paratopics\n---\n# paratopics\n",
                                        encoding="utf-8")
    corpus = Corpus(checkout / "corpus")
    generate(corpus, 16, 2)
    # the marker names the README as the corpus's card (a README it does not name is
    # left alone: tests/cli/test_trust_outside.py)
    (corpus.root / MARKER).write_text(render_marker("paratopics"), encoding="utf-8")
    built = run_cli("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert built.returncode == 0, built.stderr
    assert "README front matter now points at v1.0.0" in built.stdout
    assert (checkout / "README.md").read_text(encoding="utf-8").endswith("# paratopics\n")
    code = f"""
        import json, datasets
        out = {{}}
        for config in ("paragraphs", "articles", "annotations"):
            ds = datasets.load_dataset({str(checkout)!r}, config,
                                       cache_dir={str(tmp_path / "c")!r})
            out[config] = {{s: ds[s].num_rows for s in ds}}
            if config == "paragraphs":
                out["names"] = ds["train"].features["labels"].feature.names
        print(json.dumps(out))
    """
    found = last_json(run_python(code, cwd=tmp_path))
    for config in release_layout.CONFIGS:
        assert found[config] == manifest_rows(corpus, "1.0.0", config), config
    assert found["names"] == list(codebook_module.load().label_ids)
    # A new release moves the front matter, and load_dataset follows it.
    generate(corpus, 5, 3)
    release_build.build(corpus, "1.1.0", codebook_module.load())
    assert publish_module.update_readme(corpus, codebook_module.load()).changed
    found = last_json(run_python(code, cwd=tmp_path))
    assert found["paragraphs"] == manifest_rows(corpus, "1.1.0", "paragraphs")


def test_the_committed_checkout_loads_offline(tmp_path: Path) -> None:
    corpus = Corpus(ROOT / "corpus")
    latest = release_layout.list_versions(corpus)[-1]
    found = last_json(run_python(f"""
        import json, datasets
        ds = datasets.load_dataset({str(ROOT)!r}, "paragraphs", cache_dir={str(tmp_path)!r})
        print(json.dumps({{s: ds[s].num_rows for s in ds}}))
    """, cwd=tmp_path))
    assert found == manifest_rows(corpus, latest, "paragraphs")
