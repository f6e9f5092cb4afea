"""Releases: what `build` writes is exactly the corpus, in splits that never leak.

Each test builds from its own generated corpus (paratopics.synthetic) or the
seed article in a temporary folder, and reads the result back with real
readers: pyarrow, DuckDB and `datasets` in a fresh process. Expected values
are computed here from the article and annotation files, with the adjudication
rule restated independently, so that the build's own code is not its oracle.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, run_in_process
from release_helpers import copy_corpus

from paratopics import codebook
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError
from paratopics.ingest.core import article_id
from paratopics.release import build as release_build
from paratopics.release import gold as release_gold
from paratopics.release import layout as release_layout
from paratopics.release import manifest as release_manifest
from paratopics.release import rows as release_rows
from paratopics.release import shards as release_shards
from paratopics.release import verify as release_verify
from paratopics.synthetic import generate, plan_article, vocabulary

BOOK = codebook.load()
VERSION = "1.0.0"


@pytest.fixture(autouse=True)
def _private_validation_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation starts cold and leaves nothing in the user's cache."""
    monkeypatch.setenv("PARATOPICS_CACHE", str(tmp_path / "validation-cache"))


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The commands of this module in the test's process (conftest's `run_in_process`):
    what they print and refuse is the point; loading in a fresh process is below."""
    return run_in_process


# -- expectations, from the files ----------------------------------------------


def read_articles(corpus: Corpus) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in corpus.article_files()}


def read_judgements(corpus: Corpus) -> list[dict[str, Any]]:
    return [json.loads(line) for path in corpus.annotation_files()
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected_gold(judgements: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[set[str], int]]:
    """(gold labels, annotators) per judged paragraph, by the rule in the README:
    the latest adjudicator's labels, else labels a strict majority chose."""
    by_paragraph: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for j in judgements:
        by_paragraph.setdefault((j["article_id"], j["paragraph_index"]), []).append(j)
    gold = {}
    for key, group in by_paragraph.items():
        votes = [j for j in group if j.get("role", "annotator") == "annotator"]
        adjudications = [j for j in group if j.get("role") == "adjudicator"]
        if adjudications:
            labels = set(max(adjudications, key=lambda j: (j["created"], j["annotator"]))["labels"])
        else:
            chosen = Counter(label for v in votes for label in set(v["labels"]))
            labels = {label for label, n in chosen.items() if 2 * n > len(votes)}
        gold[key] = (labels, len(votes))
    return gold


def release_files(corpus: Corpus, version: str, config: str) -> dict[str, list[Path]]:
    folder = release_layout.release_dir(corpus, version) / config
    out: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.parquet")):
        out.setdefault(path.name.split("-")[0], []).append(path)
    return out


def rows_by_split(corpus: Corpus, version: str, config: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of a config read with pyarrow directly, per split."""
    return {split: [row for path in paths for row in pq.read_table(path).to_pylist()]
            for split, paths in release_files(corpus, version, config).items()}


def class_names(path: Path, column: str) -> list[str]:
    info = json.loads(pq.read_schema(path).metadata[b"huggingface"])
    return info["info"]["features"][column]["feature"]["names"]


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """One generated corpus and its release, for the tests that only read it."""
    corpus = Corpus(tmp_path_factory.mktemp("built") / "corpus")
    generate(corpus, 60, seed=21, annotators=3)
    release_build.build(corpus, VERSION, BOOK)
    return corpus


# -- round trip through real readers -----------------------------------------


def test_paragraphs_read_with_pyarrow_are_the_corpus_with_its_gold_labels(built: Corpus) -> None:
    arts, gold = read_articles(built), expected_gold(read_judgements(built))
    by_split = rows_by_split(built, VERSION, "paragraphs")
    names = class_names(release_files(built, VERSION, "paragraphs")["train"][0], "labels")
    level1 = class_names(release_files(built, VERSION, "paragraphs")["train"][0],
                         "labels_level1")
    assert names == list(BOOK.label_ids) and level1 == list(BOOK.level1_ids)
    seen = {}
    for split, rows in by_split.items():
        for row in rows:
            seen[(row["article_id"], row["paragraph_index"])] = (split, row)
    expected_keys = {(aid, p["index"]) for aid, a in arts.items() for p in a["paragraphs"]}
    assert set(seen) == expected_keys
    for (aid, index), (split, row) in seen.items():
        para, art = arts[aid]["paragraphs"][index], arts[aid]
        assert (row["paragraph_id"], row["text"], row["heading"], row["sha256"]) == (
            f"{aid}/{index}", para["text"], para["heading"], para["sha256"])
        assert (row["title"], row["source"], row["published"].isoformat()) == (
            art["title"], art["source"], art["published"])
        labels, annotators = gold.get((aid, index), (set(), 0))
        assert {names[i] for i in row["labels"]} == labels
        assert len(row["labels"]) == len(labels)
        assert {level1[i] for i in row["labels_level1"]} == {BOOK.level1(c) for c in labels}
        assert row["annotators"] == annotators
        assert split == (release_rows.split_of(aid) if (aid, index) in gold
                         else release_layout.UNLABELED)
    assert any(rows for s, rows in by_split.items() if s != "train")  # several splits used


def test_articles_and_annotations_read_with_pyarrow_are_the_files(built: Corpus) -> None:
    arts, judgements = read_articles(built), read_judgements(built)
    gold = expected_gold(judgements)
    names = class_names(release_files(built, VERSION, "articles")["train"][0], "labels")
    rows = {r["article_id"]: r for rs in rows_by_split(built, VERSION, "articles").values()
            for r in rs}
    assert set(rows) == set(arts)
    for aid, art in arts.items():
        row = rows[aid]
        judged = [gold[(aid, p["index"])] for p in art["paragraphs"] if (aid, p["index"]) in gold]
        assert row["body"] == "\n\n".join(p["text"] for p in art["paragraphs"])
        assert row["paragraphs"] == [{k: p[k] for k in ("index", "heading", "text")}
                                     for p in art["paragraphs"]]
        assert (row["url"], row["authors"], row["section"], row["language"]) == (
            art["url"], art["authors"], art["section"], art["language"])
        assert row["judged_paragraphs"] == len(judged)
        assert [names[i] for i in row["labels"]] == [
            c for c in BOOK.label_ids if any(c in labels for labels, _ in judged)]
    got = [r for rs in rows_by_split(built, VERSION, "annotations").values() for r in rs]
    assert len(got) == len(judgements)
    key = lambda r: (r["article_id"], r["paragraph_index"], r["annotator"])  # noqa: E731
    for row, raw in zip(sorted(got, key=key), sorted(judgements, key=key), strict=True):
        assert row["paragraph_id"] == f"{raw['article_id']}/{raw['paragraph_index']}"
        assert (row["labels"], row["created"], row["paragraph_sha256"], row["note"]) == (
            raw["labels"], raw["created"], raw["paragraph_sha256"], raw.get("note"))
        assert row["role"] == raw.get("role", "annotator")
        assert row["confidence"] == pytest.approx(raw.get("confidence"), abs=1e-6) \
            if raw.get("confidence") is not None else row["confidence"] is None


def test_duckdb_reads_the_same_rows(built: Corpus) -> None:
    folder = release_layout.release_dir(built, VERSION)
    con = duckdb.connect()
    got = con.execute(
        "select paragraph_id, text, heading, labels, annotators, "
        "regexp_extract(filename, '([a-z]+)-\\d{5}-of-\\d{5}\\.parquet$', 1) as split "
        f"from read_parquet('{folder}/paragraphs/*.parquet', filename = true) "
        "order by paragraph_id").fetchall()
    expected = sorted(
        (row["paragraph_id"], row["text"], row["heading"], row["labels"], row["annotators"], s)
        for s, rows in rows_by_split(built, VERSION, "paragraphs").items() for row in rows)
    assert [tuple(r) for r in got] == expected
    counts = dict(con.execute(
        f"select count(*), (select count(*) from read_parquet('{folder}/articles/*.parquet')) "
        f"from read_parquet('{folder}/annotations/*.parquet')").fetchall())
    assert counts == {len(read_judgements(built)): len(read_articles(built))}


LOAD = r"""
import json, sys
import datasets
datasets.disable_progress_bars()
files = json.loads(sys.argv[1])
out = {}
for config, by_split in files.items():
    ds = datasets.load_dataset("parquet", data_files=by_split, cache_dir=sys.argv[2])
    first = next(iter(ds.values()))
    out[config] = {
        "rows": {split: ds[split].to_list() for split in ds},
        "names": {c: f.feature.names for c, f in first.features.items()
                  if hasattr(getattr(f, "feature", None), "names")},
    }
print(json.dumps(out, default=str))
"""


def test_load_dataset_in_a_fresh_process_gives_the_rows_and_class_names(
        built: Corpus, tmp_path: Path) -> None:
    files = {config: {s: [str(p) for p in paths]
                      for s, paths in release_files(built, VERSION, config).items()}
             for config in ("paragraphs", "articles")}
    done = subprocess.run(
        [sys.executable, "-c", LOAD, json.dumps(files), str(tmp_path / "hf-cache")],
        capture_output=True, text=True, timeout=300,
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": "/usr/bin:/bin",
             "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    for config in ("paragraphs", "articles"):
        assert loaded[config]["names"] == {"labels": list(BOOK.label_ids),
                                           "labels_level1": list(BOOK.level1_ids)}
        direct = rows_by_split(built, VERSION, config)
        assert set(loaded[config]["rows"]) == set(direct)
        for split, rows in direct.items():
            got = loaded[config]["rows"][split]
            assert [r["article_id"] for r in got] == [r["article_id"] for r in rows]
            assert [r["labels"] for r in got] == [r["labels"] for r in rows]
            assert [r.get("text", r.get("body")) for r in got] == [
                r.get("text", r.get("body")) for r in rows]


# -- splits ---------------------------------------------------------------------


def test_no_article_is_in_two_labeled_splits_and_unjudged_paragraphs_stay_apart(
        built: Corpus) -> None:
    by_split = rows_by_split(built, VERSION, "paragraphs")
    homes: dict[str, set[str]] = {}
    for split, rows in by_split.items():
        for row in rows:
            if split != release_layout.UNLABELED:
                homes.setdefault(row["article_id"], set()).add(split)
    assert homes and all(len(splits) == 1 for splits in homes.values())
    gold = expected_gold(read_judgements(built))
    unjudged = {(aid, p["index"]) for aid, a in read_articles(built).items()
                for p in a["paragraphs"]} - set(gold)
    assert unjudged  # the generator leaves some paragraphs alone
    assert {(r["article_id"], r["paragraph_index"])
            for r in by_split[release_layout.UNLABELED]} == unjudged
    assert all(r["annotators"] == 0 and r["labels"] == [] for r in by_split["unlabeled"])
    assert all(r["annotators"] > 0 or r["labels"] == [] for s, rows in by_split.items()
               if s != "unlabeled" for r in rows)
    judged_nothing = [r for r in rows_by_split(built, VERSION, "articles").get("unlabeled", [])]
    assert all(r["judged_paragraphs"] == 0 for r in judged_nothing)


def test_split_of_depends_on_the_id_alone() -> None:
    # pinned: a changed hash or salt would move articles between splits across releases
    assert release_rows.split_of("russia-pakistan-agree-to-boost-military-9fb302f7a1") == "train"
    pinned = {f"article-{i}-0123456789": release_rows.split_of(f"article-{i}-0123456789")
              for i in range(50)}
    assert Counter(pinned.values()).keys() == {"train", "validation", "test"}
    assert all(release_rows.split_of(aid) == split for aid, split in pinned.items())


def test_split_proportions_are_near_80_10_10_on_2000_generated_ids() -> None:
    import random

    rng, vocab = random.Random(11), vocabulary(BOOK)
    ids = {article_id(plan_article(rng, vocab, 11, n).draft) for n in range(2000)}
    assert len(ids) == 2000
    shares = Counter(release_rows.split_of(aid) for aid in ids)
    for name, share in release_layout.SPLITS:
        spread = 4 * (share * (1 - share) / len(ids)) ** 0.5  # four standard deviations
        assert abs(shares[name] / len(ids) - share) < spread, (name, shares)


def test_articles_keep_their_split_as_the_corpus_grows(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 40, seed=31)
    release_build.build(corpus, "1.0.0", BOOK)
    generate(corpus, 40, seed=32)
    release_build.build(corpus, "1.1.0", BOOK)

    def homes(version: str) -> dict[str, str]:
        return {r["article_id"]: split
                for split, rows in rows_by_split(corpus, version, "articles").items()
                for r in rows}

    before, after = homes("1.0.0"), homes("1.1.0")
    assert len(before) == 40 and len(after) == 80
    assert {aid: after[aid] for aid in before} == before


# -- reproducible, immutable ------------------------------------------------------


def test_two_builds_of_the_same_inputs_are_byte_identical(tmp_path: Path) -> None:
    import time

    source = Corpus(tmp_path / "source")
    generate(source, 30, seed=41)
    one, two = copy_corpus(source, tmp_path / "one"), copy_corpus(source, tmp_path / "two")
    release_build.build(one, VERSION, BOOK)
    time.sleep(1.0 - time.time() % 1.0 + 0.01)  # the second build runs in another second
    release_build.build(two, VERSION, BOOK)
    a, b = release_layout.release_dir(one, VERSION), release_layout.release_dir(two, VERSION)
    assert digests(a) == digests(b) and len(digests(a)) > 5
    assert (one.releases / "CHANGELOG.md").read_bytes() == (
        two.releases / "CHANGELOG.md").read_bytes()
    manifest = json.loads((a / "manifest.json").read_text())
    assert release_manifest.manifest_schema_problems(manifest) == []
    text = (a / "manifest.json").read_text()
    stamps = set(re.findall(r"\d{4}-\d{2}-\d{2}(?:T[\d:]+)?", text))
    published = {manifest["inputs"]["published"]["first"], manifest["inputs"]["published"]["last"]}
    assert stamps == published  # dates come from the inputs, never from the clock
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256((a / entry["path"]).read_bytes()).hexdigest()


def test_the_committed_release_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    """The checkout's v1.0.0, rebuilt from its own inputs in a copy: the same data files.

    Its manifest (format 1.0.0) predates content-defined shards and label names; a
    fresh build writes the current format, which differs from it only there."""
    committed = Corpus(ROOT / "corpus")
    copy = copy_corpus(committed, tmp_path / "corpus")
    import pyarrow.parquet as pq

    shipped = release_layout.release_dir(committed, VERSION) / "articles"
    inputs = {str(i) for f in shipped.glob("*.parquet")
              for i in pq.read_table(f, columns=["article_id"]).column("article_id").to_pylist()}
    for path in copy.articles.glob("*.json"):  # articles added after v1.0.0 are not its inputs
        if path.stem not in inputs:
            path.unlink()
    before = digests(copy.releases)
    result = release_build.build(copy, VERSION, BOOK)
    assert result.status == "identical"
    assert digests(copy.releases) == before
    shutil.rmtree(release_layout.release_dir(copy, VERSION))
    (copy.releases / "CHANGELOG.md").unlink()
    assert release_build.build(copy, VERSION, BOOK).status == "built"
    rebuilt = digests(release_layout.release_dir(copy, VERSION))
    expected = digests(release_layout.release_dir(committed, VERSION))
    assert rebuilt.pop("manifest.json") != expected.pop("manifest.json")
    # built afresh, a release has the current columns (article schema 1.1.0 added
    # license and attribution, manifest 1.3.0 the label names); everything else is
    # the same bytes or the same values
    articles = "articles/train-00000-of-00001.parquet"
    paragraphs = "paragraphs/train-00000-of-00001.parquet"
    assert rebuilt.pop(articles) != expected.pop(articles)
    assert rebuilt.pop(paragraphs) != expected.pop(paragraphs)
    assert rebuilt == expected
    names = ["label_names", "label_names_level1"]
    fresh = pq.read_table(release_layout.release_dir(copy, VERSION) / articles)
    shipped_table = pq.read_table(release_layout.release_dir(committed, VERSION) / articles)
    assert fresh.column("license").to_pylist() == ["LicenseRef-VOA-Public-Domain"]
    assert fresh.drop(["license", "attribution", *names]).to_pylist() == (
        shipped_table.to_pylist())
    fresh = pq.read_table(release_layout.release_dir(copy, VERSION) / paragraphs)
    shipped_table = pq.read_table(release_layout.release_dir(committed, VERSION) / paragraphs)
    assert fresh.drop(names).to_pylist() == shipped_table.to_pylist()
    assert names[0] not in shipped_table.column_names
    old = release_layout.read_manifest(committed, VERSION).to_dict()
    new = release_layout.read_manifest(copy, VERSION).to_dict()
    assert release_manifest.manifest_schema_problems(old) == (
        release_manifest.manifest_schema_problems(new)) == []
    assert (old.pop("manifest_version"), new.pop("manifest_version")) == ("1.0.0", "1.3.0")
    assert new.pop("licences") == {
        "by_source": {"globalsecurity.org": {"LicenseRef-VOA-Public-Domain": 1}},
        "terms": {"LicenseRef-VOA-Public-Domain": {
            "name": "Voice of America report, public domain", "url": "https://www.voanews.com/"}}}
    assert (old["versions"].pop("article_schema"),  # type: ignore[attr-defined]
            new["versions"].pop("article_schema")) == ("1.0.0", "1.1.0")  # type: ignore[attr-defined]
    old_files = [f for f in old.pop("files")  # type: ignore[attr-defined]
                 if f["path"] not in (articles, paragraphs)]
    new_files = [f for f in new.pop("files")  # type: ignore[attr-defined]
                 if f["path"] not in (articles, paragraphs)]
    assert old_files == new_files
    assert old["parquet"].pop("shard_rows") == 250_000  # type: ignore[attr-defined]
    assert new["parquet"].pop("shards")["mean_articles"] == release_shards.SEGMENT_ARTICLES  # type: ignore[attr-defined]
    # codebook 1.1.0 only added hard cases (same classes, same Parquet bytes above), but
    # the manifest records the codebook it was built with, and the inputs' fingerprint
    # covers the codebook
    assert (old["versions"].pop("codebook"),  # type: ignore[attr-defined]
            new["versions"].pop("codebook")) == ("1.0.0", BOOK.version)  # type: ignore[attr-defined]
    assert old["inputs"].pop("fingerprint") != new["inputs"].pop("fingerprint")  # type: ignore[attr-defined]
    assert old == new


def test_rebuilding_unchanged_says_identical_and_a_change_is_refused(
        seeded: Corpus, cli: Any) -> None:
    first = cli("build", "--corpus", seeded.root, "--version", VERSION)
    assert first.returncode == 0, first.stderr
    again = cli("build", "--corpus", seeded.root, "--version", VERSION)
    assert again.returncode == 0 and "identical" in again.stdout
    before = digests(seeded.releases)
    article = json.loads(seeded.article_files()[0].read_text())
    para = article["paragraphs"][0]
    (seeded.annotations / "team.jsonl").write_text(json.dumps({
        "article_id": article["article_id"], "paragraph_index": 0,
        "paragraph_sha256": para["sha256"], "labels": ["paratopics:counter-terrorism"],
        "annotator": "team-a", "created": "2025-01-01T00:00:00Z"}) + "\n")
    refused = cli("build", "--corpus", seeded.root, "--version", VERSION)
    assert refused.returncode == 1
    assert "release-exists" in refused.stderr and "Bump the version" in refused.stderr
    assert digests(seeded.releases) == before
    assert cli("build", "--corpus", seeded.root, "--version", "1.0.1").returncode == 0


def test_build_refuses_invalid_data_and_writes_nothing(seeded: Corpus, cli: Any) -> None:
    article = json.loads(seeded.article_files()[0].read_text())
    (seeded.annotations / "bad.jsonl").write_text(json.dumps({
        "article_id": article["article_id"], "paragraph_index": 1,
        "paragraph_sha256": article["paragraphs"][1]["sha256"], "labels": ["medtop:nonsense"],
        "annotator": "team-a", "created": "2025-01-01T00:00:00Z"}) + "\n")
    done = cli("build", "--corpus", seeded.root, "--version", VERSION)
    assert done.returncode == 1
    assert "unknown-label" in done.stdout and "bad.jsonl:1" in done.stdout
    assert "refused" in done.stderr
    assert sorted(p.name for p in seeded.releases.iterdir()) == []


def test_a_level1_label_stops_the_build_by_name(seeded: Corpus) -> None:
    """Validate accepts a level-1 id as a label; a release has no class for it."""
    article = json.loads(seeded.article_files()[0].read_text())
    (seeded.annotations / "l1.jsonl").write_text(json.dumps({
        "article_id": article["article_id"], "paragraph_index": 0,
        "paragraph_sha256": article["paragraphs"][0]["sha256"], "labels": ["medtop:16000000"],
        "annotator": "team-a", "created": "2025-01-01T00:00:00Z"}) + "\n")
    with pytest.raises(ParatopicsError) as caught:
        release_build.build(seeded, VERSION, BOOK)
    assert "medtop:16000000" in caught.value.problem.message
    assert release_layout.list_versions(seeded) == [] and not list(seeded.releases.glob(".tmp-*"))


# -- Parquet done properly ---------------------------------------------------------


def test_parquet_files_are_zstd_with_bounded_row_groups_and_hf_features(built: Corpus) -> None:
    manifest = release_layout.read_manifest(built, VERSION).to_dict()
    folder = release_layout.release_dir(built, VERSION)
    for entry in manifest["files"]:
        path = folder / entry["path"]
        meta = pq.read_metadata(path)
        assert meta.num_rows == entry["rows"] and path.stat().st_size == entry["bytes"]
        for group in range(meta.num_row_groups):
            assert meta.row_group(group).num_rows <= release_shards.ROW_GROUP_ROWS
            for column in range(meta.num_columns):
                assert meta.row_group(group).column(column).compression == "ZSTD"
        config = entry["path"].split("/")[0]
        schema = pq.read_schema(path)
        hf = json.loads(schema.metadata[b"huggingface"])["info"]["features"]
        assert set(hf) == set(schema.names)
        if config != "annotations":
            assert hf["labels"]["feature"]["names"] == list(BOOK.label_ids)
            assert hf["labels"]["feature"]["_type"] == "ClassLabel"


def test_shards_end_at_content_defined_article_boundaries_with_hub_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = Corpus(tmp_path / "corpus")
    info = generate(corpus, 40, seed=51)
    monkeypatch.setattr(release_shards, "SEGMENT_ARTICLES", 4)
    monkeypatch.setattr(release_shards, "MAX_SEGMENT_ARTICLES", 6)
    monkeypatch.setattr(release_shards, "ROW_GROUP_ROWS", 50)
    release_build.build(corpus, VERSION, BOOK)
    folder = release_layout.release_dir(corpus, VERSION) / "paragraphs"
    manifest = release_layout.read_manifest(corpus, VERSION).to_dict()
    assert manifest["parquet"]["shards"]["max_articles"] == 6
    rows = {e["path"]: e["rows"] for e in manifest["files"]}
    # expected from the definition: the judged train articles in id order, a shard
    # ending after an id whose salted blake2b-64 is 0 modulo 4, or at 6 articles
    judged = {j["article_id"] for j in read_judgements(corpus)}
    train_ids = sorted(a for a in read_articles(corpus)
                       if a in judged and release_rows.split_of(a) == "train")
    expected: list[list[str]] = [[]]
    for aid in train_ids:
        expected[-1].append(aid)
        point = int.from_bytes(hashlib.blake2b(
            f"paratopics-shard-v1:{aid}".encode(), digest_size=8).digest(), "big")
        if point % 4 == 0 or len(expected[-1]) == 6:
            expected.append([])
    expected = [ids for ids in expected if ids]
    count = len(expected)
    assert count >= 5
    train = sorted(p.name for p in folder.glob("train-*.parquet"))
    assert train == [f"train-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    for name, ids in zip(train, expected, strict=True):
        table = pq.read_table(folder / name)
        assert sorted(set(table.column("article_id").to_pylist())) == ids
        meta = pq.read_metadata(folder / name)
        size = rows[f"paragraphs/{name}"]
        assert meta.num_rows == size == table.num_rows
        assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == (
            [min(50, size - 50 * g) for g in range(-(-size // 50))])
    assert sum(manifest["configs"]["paragraphs"]["rows"].values()) == info.paragraphs
    assert release_verify.verify(corpus, VERSION, BOOK) == []


# -- validation beside the build (large corpora) -------------------------------------


def test_validating_beside_the_build_gives_the_same_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Corpus(tmp_path / "source")
    generate(source, 20, seed=101)
    one, two = copy_corpus(source, tmp_path / "one"), copy_corpus(source, tmp_path / "two")
    summary, result = release_build.validate_then_build(one, VERSION, BOOK)
    assert summary.errors == 0 and result is not None and result.status == "built"
    monkeypatch.setattr(release_build, "PARALLEL_FROM_ARTICLES", 1)
    summary, result = release_build.validate_then_build(two, VERSION, BOOK)
    assert summary.errors == 0 and result is not None and result.status == "built"
    assert digests(one.releases) == digests(two.releases)


@pytest.mark.parametrize("parallel", [False, True])
def test_invalid_data_publishes_nothing_whichever_way_it_is_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool) -> None:
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 20, seed=102)
    if parallel:
        monkeypatch.setattr(release_build, "PARALLEL_FROM_ARTICLES", 1)
    article = json.loads(corpus.article_files()[0].read_text())
    (corpus.annotations / "bad.jsonl").write_text(json.dumps({
        "article_id": article["article_id"], "paragraph_index": 0,
        "paragraph_sha256": article["paragraphs"][0]["sha256"], "labels": ["medtop:nope"],
        "annotator": "team-a", "created": "2025-01-01T00:00:00Z"}) + "\n")
    # a record the build itself would trip over: its id is not its file name
    broken = corpus.article_files()[1]
    record = json.loads(broken.read_text())
    broken.rename(broken.with_name("zzz-0123456789.json"))
    broken.with_name("zzz-0123456789.json").write_text(json.dumps(record))
    summary, result = release_build.validate_then_build(corpus, VERSION, BOOK)
    assert result is None
    assert {p.code for p in summary.problems} >= {"unknown-label", "article-id-mismatch"}
    assert not corpus.releases.exists() or list(corpus.releases.iterdir()) == []


@pytest.mark.parametrize("size", [1, 4, 7, 50])
def test_sorted_chunks_of_a_chunked_table_are_its_rows_in_order(size: int) -> None:
    rng = random.Random(size)
    schema = pa.schema([("key", pa.int64()), ("text", pa.string())])
    parts = [pa.table({"key": [rng.randrange(100) for _ in range(n)],
                       "text": [f"row {i} of {n}" for i in range(n)]}, schema=schema)
             for n in (5, 0, 13, 1, 9)]
    table = pa.concat_tables(parts)
    assert table.column("text").num_chunks > 1
    order = pc.sort_indices(table, sort_keys=[("key", "ascending"), ("text", "ascending")])

    chunks = list(release_gold.sorted_chunks(table, order, size=size))

    assert [c.num_rows for c in chunks[:-1]] == [size] * (len(chunks) - 1)
    assert pa.concat_tables(chunks).to_pylist() == table.take(order).to_pylist()


def test_judgements_of_no_paragraph_stop_an_unvalidated_build_with_a_catalog_error(
        tmp_path: Path) -> None:
    """build() through the Python API does not validate first; judgements that name
    no paragraph of their article stop it with the catalog's code, and no release
    (not even a hidden partial one) is left."""
    corpus = Corpus(tmp_path / "corpus")
    generate(corpus, 12, seed=5, annotators=2)
    path = sorted(corpus.annotation_files())[0]
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    victim = lines[0]["article_id"]
    for record in lines:
        if record["article_id"] == victim:
            record["paragraph_index"] = 999
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    for other in sorted(corpus.annotation_files())[1:]:  # the article judged in one file only
        kept = [line for line in other.read_text(encoding="utf-8").splitlines()
                if json.loads(line)["article_id"] != victim]
        other.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    with pytest.raises(ParatopicsError) as caught:
        release_build.build(corpus, VERSION, BOOK, use_cache=False)

    assert caught.value.problem.code == "unknown-paragraph"
    assert victim in str(caught.value) and "999" in str(caught.value)
    assert not any(corpus.root.joinpath("releases").glob("*v1.0.0*"))
