"""The JSON Schemas themselves, and every article record ingest produces against them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import ROOT, seed_path, write_jsonl
from jsonschema import Draft202012Validator

from paratopics.corpus.records import ARTICLE_SCHEMA_VERSION
from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files

SCHEMA_DIR = ROOT / "schema"
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.schema.json"))
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def load(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def article_validator() -> Draft202012Validator:
    return Draft202012Validator(load(SCHEMA_DIR / "article.schema.json"),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(record: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}"
            for e in article_validator().iter_errors(record)]


def records_of(corpus: Corpus) -> list[dict[str, object]]:
    return [load(path) for path in corpus.article_files()]


# -- the schemas ------------------------------------------------------------------------


def test_the_three_schemas_exist() -> None:
    names = {p.name for p in SCHEMA_FILES}
    assert {"article.schema.json", "annotation.schema.json", "codebook.schema.json"} <= names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_2020_12
    assert isinstance(schema["$id"], str) and schema["$id"].startswith("https://")
    assert isinstance(schema["version"], str)
    assert len(str(schema["version"]).split(".")) == 3


def test_schema_ids_are_unique() -> None:
    ids = [load(p)["$id"] for p in SCHEMA_FILES]
    assert len(ids) == len(set(ids))


def test_article_schema_version_matches_the_code() -> None:
    schema = load(SCHEMA_DIR / "article.schema.json")
    assert schema["version"] == ARTICLE_SCHEMA_VERSION
    assert schema["properties"]["schema_version"]["const"] == ARTICLE_SCHEMA_VERSION  # type: ignore[index]


def test_installed_package_sees_the_same_schemas() -> None:
    from paratopics.codebook import schema_dir

    for path in SCHEMA_FILES:
        assert (schema_dir() / path.name).read_bytes() == path.read_bytes()


# -- records from the text door ------------------------------------------------------------


def test_seed_record_validates(seeded: Corpus) -> None:
    records = records_of(seeded)
    assert len(records) == 1
    assert errors_of(records[0]) == []


@pytest.mark.parametrize(("path", "value"), [
    (("published",), "2021-02-30"),
    (("published",), "April 7, 2021"),
    (("url",), "not a uri"),
    (("article_id",), "Russia-Pakistan"),
    (("paragraphs", 0, "sha256"), "abc"),
    (("paragraphs", 0, "text"), " leading space"),
    (("paragraphs", 0, "text"), "two\nlines"),
    (("paragraphs", 0, "heading"), ""),
    (("title",), ""),
    (("language",), "English"),
    (("ingested_from", "path"), "../outside.txt"),
    (("ingested_from", "format"), "pdf"),
    (("ingested_from", "record"), 0),
    (("schema_version",), "0.9.0"),
    (("paragraphs",), []),
    (("extra",), "field"),
])
def test_schema_rejects_broken_seed_record(seeded: Corpus, path: tuple[object, ...],
                                           value: object) -> None:
    """Negative controls: the validator (formats included) really checks these fields."""
    record = copy.deepcopy(records_of(seeded)[0])
    target: object = record
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    assert errors_of(record) != []


# -- records from the JSON door ------------------------------------------------------------

BASE = {
    "title": "Navies Hold Joint Drill in Arabian Sea",
    "authors": ["Jane Doe"],
    "published": "2021-05-02",
    "url": "https://example.org/news/navies-drill",
    "source": "example.org",
    "license": "CC-BY-4.0",
    "attribution": "Example News, https://example.org/news/navies-drill",
}


def _json_inputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)

    def dump(name: str, data: object) -> Path:
        path = folder / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    return [
        dump("body.json", {**BASE, "body": "One.\n\nTwo \u2014 dash.\r\n\r\nThree\u00a0nbsp."}),
        dump("strings.json", {**BASE, "url": "https://example.org/2", "paragraphs": ["A.", "B."]}),
        dump("objects.json", {**BASE, "url": "https://example.org/3", "section": "Defence",
                              "paragraphs": [{"text": "A.", "heading": None},
                                             {"text": "B.", "heading": "Maritime security"}]}),
        dump("array.json", [
            {**BASE, "url": None, "title": "Unsigned", "authors": [], "body": "Text."},
            {**BASE, "url": "https://example.org/5", "published": "2021-05-02T10:00:00Z",
             "language": "fr", "body": "Texte."},
        ]),
        write_jsonl(folder / "lines.jsonl", [
            {**BASE, "url": f"https://example.org/l{n}", "title": f"Line {n}", "body": "T."}
            for n in range(3)
        ]),
        dump("bare.json", {"title": "Bare", "published": "2020-01-01", "source": "Wire Service",
                           "license": "CC0-1.0", "attribution": "Wire, https://wire.example/",
                           "body": "Only the required fields."}),
    ]


def test_json_door_records_validate(corpus: Corpus, tmp_path: Path) -> None:
    report = ingest_files(corpus, _json_inputs(tmp_path / "in"))
    assert report.problems == []
    records = records_of(corpus)
    assert len(records) == 9
    for record in records:
        assert errors_of(record) == [], record["article_id"]
    assert {r["ingested_from"]["format"] for r in records} == {"json", "jsonl"}  # type: ignore[index]


def test_text_and_json_records_validate_with_library_checks(corpus: Corpus,
                                                            tmp_path: Path) -> None:
    """The records also pass the library's own consistency checks (hashes, offsets, ids)."""
    from paratopics.codebook import load as load_codebook
    from paratopics.validate.articles import article_problems
    from paratopics.validate.schema import Checker

    report = ingest_files(corpus, [seed_path(), *_json_inputs(tmp_path / "in")])
    assert report.problems == []
    checker = Checker(codebook=load_codebook())
    paths = corpus.article_files()
    assert len(paths) == 10
    for path in paths:
        assert article_problems(load(path), str(path), checker, expected_id=path.stem) == []


@pytest.mark.parametrize("change", [
    {"language": "English"},
    {"language": "EN"},
    {"url": "not a url"},
    {"url": "https://exa mple.org/a b"},
    {"source": "_wire"},
    {"source": "W" * 201},
], ids=["language-word", "language-upper", "url-words", "url-spaces", "source-underscore",
        "source-too-long"])
def test_json_door_never_writes_an_invalid_record(corpus: Corpus, tmp_path: Path,
                                                  change: dict[str, object]) -> None:
    """A JSON record with a field the schema refuses is refused with a problem (exit 1),
    or normalized into a valid record; it is never written as an invalid record."""
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({**BASE, "body": "Text.", **change}), encoding="utf-8")
    report = ingest_files(corpus, [path])
    written = records_of(corpus)
    invalid = {str(r.get("article_id")): errors_of(r) for r in written if errors_of(r)}
    assert invalid == {}
    assert written or report.problems
