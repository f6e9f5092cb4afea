"""croissant.json: valid Croissant 1.0 that mlcroissant reads back record by record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import mlcroissant as mlc
import pytest
from mlcroissant._src.core.rdf import make_context
from release_helpers import make_release, release_rows

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.publish import croissant as croissant_module
from paratopics.publish.core import publish_folder, release_features
from paratopics.release import layout as release_layout

VERSION = "1.0.0"
# mlcroissant's own dependencies' deprecations, not ours.
pytestmark = [pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated"),
              pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("croissant"), articles=16, seed=2)


@pytest.fixture(scope="module")
def folder(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("published") / "hub"
    publish_folder(corpus, VERSION, out, codebook_module.load(), repo_id="org/paratopics",
                   date="2026-02-01")
    return out


@pytest.fixture(scope="module")
def dataset(folder: Path) -> mlc.Dataset:
    return mlc.Dataset(jsonld=folder / "croissant.json")


def text(value: object) -> object:
    """mlcroissant gives sc:Text as bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def test_validates_without_errors_or_warnings(dataset: mlc.Dataset) -> None:
    issues = dataset.metadata.ctx.issues
    assert not issues.errors, issues.report()
    assert not issues.warnings, issues.report()


def manifest_terms(folder: Path) -> dict[str, dict[str, str]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return dict(manifest["licences"]["terms"])


def test_uses_the_standard_context_and_required_properties(folder: Path) -> None:
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    assert set(make_context()) <= set(doc["@context"])
    assert doc["@type"] == "sc:Dataset"
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["version"] == VERSION
    # the annotations' licence, the project's licence section, then the article texts' terms
    assert doc["license"][:2] == ["https://creativecommons.org/licenses/by/4.0/",
                                  "https://github.com/paratopics/paratopics#licence"]
    assert set(doc["license"][2:]) <= {t["url"] for t in manifest_terms(folder).values()}
    assert set(doc["license"]) >= {t["url"] for t in manifest_terms(folder).values()}
    assert doc["url"] == "https://huggingface.co/datasets/org/paratopics"
    assert "@misc{paratopics" in doc["citeAs"]
    sets = {d["@id"]: d for d in doc["distribution"]}
    assert sets["manifest.json"]["@type"] == "cr:FileObject"
    for config in release_layout.CONFIGS:
        fileset = sets[f"{config}-parquet"]
        assert fileset["@type"] == "cr:FileSet"
        assert fileset["encodingFormat"] == "application/x-parquet"
        assert fileset["includes"] == f"data/{config}/*.parquet"
    fields = {f["name"]: f for r in doc["recordSet"] if r["@id"] == "paragraphs"
              for f in r["field"]}
    assert fields["text"]["dataType"] == "sc:Text"
    assert fields["paragraph_index"]["dataType"] == "sc:Integer"
    assert fields["published"]["dataType"] == "sc:Date"
    index = fields["labels"]["subField"][0]
    assert index["dataType"] == "sc:Integer" and fields["labels"]["repeated"]
    assert index["source"]["extract"] == {"column": "labels"}


@pytest.mark.parametrize("config", release_layout.CONFIGS)
def test_records_match_the_parquet_files(dataset: mlc.Dataset, corpus: Corpus,
                                         config: str) -> None:
    records = list(dataset.records(record_set=config))
    reference = release_rows(corpus, VERSION, config)
    assert len(records) == sum(len(rows) for rows in reference.values())
    key = "article_id" if config == "articles" else "paragraph_id"
    expected = {(split, row[key] if config != "annotations" else
                 (row["paragraph_id"], row["annotator"])): row
                for split, rows in reference.items() for row in rows}
    seen = {}
    for record in records:
        split = text(record[f"{config}/split"])
        ident = text(record[f"{config}/{key}"])
        if config == "annotations":
            ident = (ident, text(record["annotations/annotator"]))
        seen[(split, ident)] = record
    assert set(seen) == set(expected)
    for ident, row in expected.items():
        record = seen[ident]
        labels = record[f"{config}/labels"]
        if config != "annotations":  # class indexes, each item referencing its class
            labels = [item[f"{config}/labels/index"] for item in labels]
        assert [text(v) for v in labels] == list(row["labels"])
        if config == "paragraphs":
            assert text(record["paragraphs/text"]) == row["text"]
            assert record["paragraphs/published"].date() == row["published"]
        if config == "articles":
            nested = record["articles/paragraphs"]
            assert [text(p["articles/paragraphs/text"]) for p in nested] == \
                [p["text"] for p in row["paragraphs"]]


def test_label_classes_name_every_class(dataset: mlc.Dataset) -> None:
    book = codebook_module.load()
    classes = list(dataset.records(record_set="label_classes"))
    assert [c["label_classes/id"] for c in classes] == list(book.label_ids)
    assert [c["label_classes/index"] for c in classes] == list(range(len(book.label_ids)))
    assert [c["label_classes/name"] for c in classes] == [book.name(c) for c in book.label_ids]
    level1 = list(dataset.records(record_set="label_classes_level1"))
    assert [c["label_classes_level1/id"] for c in level1] == list(book.level1_ids)


def test_derived_from_the_release_alone(corpus: Corpus, folder: Path) -> None:
    """The shipped file is exactly what the pure function makes of manifest and features."""
    manifest = release_layout.read_manifest(corpus, VERSION)
    features = release_features(corpus, VERSION, manifest)
    digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()

    def render() -> bytes:
        return croissant_module.dumps(croissant_module.croissant(
            manifest, codebook_module.load(), features, manifest_sha256=digest,
            url="https://huggingface.co/datasets/org/paratopics", date_published="2026-02-01",
            codebook_sha256=hashlib.sha256((folder / "codebook.jsonld").read_bytes()).hexdigest()))

    assert render() == render() == (folder / "croissant.json").read_bytes()


def test_the_manifest_checksum_is_the_shipped_file(folder: Path) -> None:
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    entry = next(d for d in doc["distribution"] if d["@id"] == "manifest.json")
    assert entry["sha256"] == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def test_without_a_date_only_the_recommendation_is_missing(corpus: Corpus,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "hub"
    publish_folder(corpus, VERSION, out, codebook_module.load())
    issues = mlc.Dataset(jsonld=out / "croissant.json").metadata.ctx.issues
    assert not issues.errors, issues.report()
    assert all("datePublished" in w for w in issues.warnings), issues.report()


def test_labels_reference_their_classes_which_carry_concept_uris(folder: Path) -> None:
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    sets = {r["@id"]: r for r in doc["recordSet"]}
    for config in ("paragraphs", "articles"):
        fields = {f["name"]: f for f in sets[config]["field"]}
        for column, classes in croissant_module.CLASS_SETS.items():
            [index] = fields[column]["subField"]
            assert index["references"] == {"field": {"@id": f"{classes}/index"}}
            assert sets[classes]["key"] == {"@id": f"{classes}/index"}
    book = codebook_module.load()
    rows = sets["label_classes"]["data"]
    assert [r["label_classes/id"] for r in rows] == list(book.label_ids)
    by_id = {r["label_classes/id"]: r["label_classes/uri"] for r in rows}
    assert by_id["medtop:20000638"] == "http://cv.iptc.org/newscodes/mediatopic/20000638"
    assert by_id["paratopics:insurgency"].endswith("#paratopics:insurgency")
    assert len(set(by_id.values())) == len(by_id)


def test_creator_citation_rai_and_the_codebook_file(folder: Path) -> None:
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    assert doc["creator"]["name"] == croissant_module.AUTHORS
    assert doc["datePublished"] == "2026-02-01"
    cite = doc["citeAs"]
    for part in ("author = {{The paratopics maintainers}}", "year = {2026}",
                 f"version = {{{VERSION}}}", f"url = {{{croissant_module.PROJECT_URL}}}"):
        assert part in cite, cite
    for key in ("rai:dataCollection", "rai:dataAnnotationProtocol", "rai:dataLimitations",
                "rai:dataBiases", "rai:personalSensitiveInformation", "rai:dataUseCases"):
        assert isinstance(doc.get(key), str) and doc[key], key
    entry = next(d for d in doc["distribution"] if d["@id"] == "codebook.jsonld")
    assert entry["sha256"] == hashlib.sha256((folder / "codebook.jsonld").read_bytes()).hexdigest()
    assert entry["encodingFormat"] == "application/ld+json"
