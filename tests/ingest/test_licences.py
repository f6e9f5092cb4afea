"""Licence and provenance on every article: each door fills `license` and `attribution`,
a missing or malformed one is refused by name, records of article schema 1.0.0 are still
read, and releases carry the fields (and keep the layout they were built with)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ROOT, run_cli, seed_path, write_jsonl
from test_feeds import STATE, rss, rss_item
from test_html_page import PAGE

from paratopics import codebook
from paratopics.corpus import licences
from paratopics.corpus.store import Corpus, dump_json
from paratopics.ingest.core import Licensing, ingest_files
from paratopics.release import build as release_build
from paratopics.release import layout as release_layout
from paratopics.release import manifest as release_manifest
from paratopics.release import verify as release_verify

GOV = "LicenseRef-US-Government-Work"


def records(corpus: Corpus) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(corpus.articles.glob("*.json"))]


def json_record(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "source": "harbour.example", "title": "Customs officers seize smuggled rifles",
        "url": "https://harbour.example/rifles", "published": "2024-03-04",
        "paragraphs": ["Customs officers found forty rifles in a container of fish."]}
    return {**base, **extra}


# -- the licence ids and language tags ------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("https://creativecommons.org/licenses/by/2.5/", "CC-BY-2.5"),
    ("http://creativecommons.org/licenses/by-sa/4.0/deed.en", "CC-BY-SA-4.0"),
    ("https://creativecommons.org/licenses/by-nc-nd/3.0/", "CC-BY-NC-ND-3.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("https://creativecommons.org/publicdomain/mark/1.0/", None),
    ("https://example.org/terms", None),
    (None, None),
])
def test_licence_links_map_to_spdx_ids_and_nothing_is_guessed(url: str | None,
                                                              expected: str | None) -> None:
    assert licences.from_url(url) == expected
    if expected is not None:
        assert licences.is_licence_id(expected)


@pytest.mark.parametrize(("tag", "expected"), [
    ("en-US", "en"), ("EN", "en"), ("fr_FR", "fr"), ("de", "de"), ("", None), (None, None),
    ("english", None),
])
def test_language_tags_keep_the_primary_subtag(tag: str | None, expected: str | None) -> None:
    assert licences.language_tag(tag) == expected


def test_licence_ids_are_spdx_forms_or_licenseref() -> None:
    for good in ("CC-BY-2.5", "CC0-1.0", "GPL-2.0+", GOV, licences.REUTERS_21578):
        assert licences.is_licence_id(good), good
    for bad in ("CC BY 2.5", "", "MIT OR Apache-2.0", "LicenseRef-", "-x"):
        assert not licences.is_licence_id(bad), bad
    schema = json.loads((ROOT / "schema" / "article.schema.json").read_text(encoding="utf-8"))
    assert schema["properties"]["license"]["pattern"] == licences.ID_PATTERN


# -- the JSON door ---------------------------------------------------------------------


def test_json_door_passes_the_fields_through(corpus: Corpus, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [json_record(
        license="CC-BY-4.0", attribution="Harbour News, https://harbour.example/rifles")])
    report = ingest_files(corpus, [path])
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["schema_version"] == "1.1.0"
    assert (record["license"], record["attribution"]) == (
        "CC-BY-4.0", "Harbour News, https://harbour.example/rifles")


@pytest.mark.parametrize(("extra", "field", "words"), [
    ({}, "license", "no license"),
    ({"license": "CC-BY-4.0"}, "attribution", "no attribution"),
    ({"license": "CC BY 4.0", "attribution": "Harbour News, https://harbour.example/x"},
     "license", "not an SPDX licence id"),
    ({"license": "CC-BY-4.0", "attribution": "Harbour News"}, "attribution", "has no link"),
])
def test_json_door_refuses_a_missing_or_malformed_licence_by_file_line_and_field(
        corpus: Corpus, tmp_path: Path, extra: dict[str, object], field: str,
        words: str) -> None:
    good = json_record(url="https://harbour.example/ok", license="CC0-1.0",
                       attribution="Harbour News, https://harbour.example/ok")
    path = write_jsonl(tmp_path / "in.jsonl", [good, json_record(**extra)])
    result = run_cli("ingest", "--corpus", corpus.root, path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}:2 /{field}: error [licence]" in result.stdout, result.stdout
    assert words in result.stdout
    assert "Traceback" not in result.stderr
    [kept] = records(corpus)  # the good line still went in, the bad one did not
    assert kept["url"] == "https://harbour.example/ok"


def test_command_line_licence_fills_only_what_the_input_leaves_open(
        corpus: Corpus, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [
        json_record(),
        json_record(url="https://harbour.example/own", license="CC-BY-SA-4.0",
                    attribution="Own credit, https://harbour.example/own")])
    report = ingest_files(corpus, [path], licensing=Licensing("CC-BY-4.0",
                                                              "Harbour News, {url}"))
    assert not report.problems, report.problems
    by_url = {r["url"]: r for r in records(corpus)}
    assert by_url["https://harbour.example/rifles"]["license"] == "CC-BY-4.0"
    assert by_url["https://harbour.example/rifles"]["attribution"] == \
        "Harbour News, https://harbour.example/rifles"
    assert by_url["https://harbour.example/own"]["license"] == "CC-BY-SA-4.0"
    assert by_url["https://harbour.example/own"]["attribution"] == \
        "Own credit, https://harbour.example/own"


@pytest.mark.parametrize(("args", "words"), [
    (["--license", "CC BY 4.0", "--attribution", "X, https://x.example"], "not an SPDX"),
    (["--license", "CC-BY-4.0", "--attribution", "Harbour News"], "give a link"),
])
def test_a_malformed_command_line_licence_is_misuse(corpus: Corpus, tmp_path: Path,
                                                    args: list[str], words: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [json_record()])
    result = run_cli("ingest", "--corpus", corpus.root, *args, path)
    assert result.returncode == 2
    assert words in result.stderr
    assert records(corpus) == []


# -- the text door (the seed) -------------------------------------------------------------


def test_the_seed_gets_the_voice_of_america_terms(corpus: Corpus) -> None:
    report = ingest_files(corpus, [seed_path()])
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["license"] == licences.VOA_PUBLIC_DOMAIN
    assert record["attribution"] == ("Ayaz Gul, Voice of America, as republished by "
                                     "GlobalSecurity.org, https://www.globalsecurity.org/")
    committed = json.loads((ROOT / "corpus" / "articles" / f"{record['article_id']}.json")
                           .read_text(encoding="utf-8"))
    assert committed["license"] == record["license"]
    assert committed["attribution"] == record["attribution"]


def test_the_command_line_overrides_a_text_dumps_default(corpus: Corpus) -> None:
    report = ingest_files(corpus, [seed_path()], licensing=Licensing(
        "LicenseRef-GlobalSecurity", "GlobalSecurity.org, https://www.globalsecurity.org/"))
    assert not report.problems
    [record] = records(corpus)
    assert record["license"] == "LicenseRef-GlobalSecurity"


# -- the feed door -------------------------------------------------------------------------


BODY = "<p>The Secretary met the Foreign Minister of Ruritania today in Washington.</p>"


def test_feed_items_get_the_publishers_terms_and_the_channels_language(
        corpus: Corpus, tmp_path: Path) -> None:
    link = f"{STATE}/secretary-meets-ruritania/"
    feed = rss([rss_item(link, "Secretary Meets Ruritania", BODY)]).replace(
        "<language>en-US</language>", "<language>en-GB</language>")
    path = tmp_path / "feed.rss"
    path.write_text(feed, encoding="utf-8")
    report = ingest_files(corpus, [path])
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["license"] == GOV
    assert record["attribution"] == f"U.S. Department of State, {link}"
    assert record["language"] == "en"
    french = rss([rss_item(link, "Secretary Meets Ruritania", BODY)]).replace(
        "<language>en-US</language>", "<language>fr-FR</language>")
    newer = tmp_path / "feed-newer.rss"
    newer.write_text(french.replace("20:12:40", "21:12:40"), encoding="utf-8")
    report = ingest_files(corpus, [newer])
    assert not report.problems, report.problems
    assert records(corpus)[0]["language"] == "fr"


OTHER = "https://news.example.org"


def other_feed(extra_channel: str = "") -> str:
    return rss([rss_item(f"{OTHER}/story/", "Harbour Reopens", BODY.replace(
        "The Secretary met", "Officials met"))], link=OTHER + "/feed/").replace(
        "<language>en-US</language>", "<language>en-US</language>" + extra_channel)


def test_a_feed_of_an_unknown_publisher_needs_a_licence(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "other.rss"
    path.write_text(other_feed(), encoding="utf-8")
    result = run_cli("ingest", "--corpus", corpus.root, path)
    assert result.returncode == 1
    assert f"{path}:1 /license: error [licence]" in result.stdout, result.stdout
    assert f"{OTHER}/story/" in result.stdout
    assert records(corpus) == []
    result = run_cli("ingest", "--corpus", corpus.root, "--license", "CC-BY-4.0",
                     "--attribution", "News Example, {url}", path)
    assert result.returncode == 0, result.stdout + result.stderr
    [record] = records(corpus)
    assert record["attribution"] == f"News Example, {OTHER}/story/"


def test_a_feeds_own_licence_link_is_used(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "other.rss"
    path.write_text(other_feed(
        '<creativeCommons:license xmlns:creativeCommons="http://backend.userland.com/'
        'creativeCommonsRssModule">https://creativecommons.org/licenses/by/4.0/'
        '</creativeCommons:license>'), encoding="utf-8")
    report = ingest_files(corpus, [path])
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["license"] == "CC-BY-4.0"
    assert record["attribution"].endswith(f", {OTHER}/story/")


# -- the HTML page door ------------------------------------------------------------------


def test_a_page_states_its_licence_or_is_refused(corpus: Corpus, tmp_path: Path) -> None:
    plain = tmp_path / "bridge.html"
    plain.write_text(PAGE, encoding="utf-8")
    result = run_cli("ingest", "--corpus", corpus.root, plain)
    assert result.returncode == 1
    assert f"{plain} /license: error [licence]" in result.stdout, result.stdout
    assert records(corpus) == []

    licensed = tmp_path / "licensed.html"
    licensed.write_text(PAGE.replace(
        '<link rel="canonical"',
        '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/">\n'
        '  <link rel="canonical"'), encoding="utf-8")
    report = ingest_files(corpus, [licensed])
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["license"] == "CC-BY-SA-4.0"
    assert record["attribution"] == \
        "Maria Lopez, https://www.harbourtimes.example/news/2024/03/05/bridge"


def test_a_page_without_a_licence_goes_in_with_the_command_line_terms(
        corpus: Corpus, tmp_path: Path) -> None:
    plain = tmp_path / "bridge.html"
    plain.write_text(PAGE, encoding="utf-8")
    report = ingest_files(corpus, [plain], licensing=Licensing(
        "LicenseRef-Harbour-Times-Permission", "The Harbour Times, {url}"))
    assert not report.problems, report.problems
    [record] = records(corpus)
    assert record["license"] == "LicenseRef-Harbour-Times-Permission"
    assert record["attribution"] == \
        "The Harbour Times, https://www.harbourtimes.example/news/2024/03/05/bridge"


# -- converters ---------------------------------------------------------------------------


def test_the_reuters_converter_marks_its_stories_research_only(tmp_path: Path) -> None:
    from test_convert import CONTROL, NORMAL, NOT_UTF8, write_sgm

    from paratopics.ingest.reuters import reuters_stories

    # the collection's quirks in a few stories (test_convert's fixture), so this runs anywhere
    stories, _ = reuters_stories(write_sgm(tmp_path, "reut2-000.sgm", NORMAL, CONTROL, NOT_UTF8))
    converted = [s for s in stories if isinstance(s, dict)]
    assert converted
    assert {s["license"] for s in converted} == {licences.REUTERS_21578}
    assert all(licences.has_link(str(s["attribution"])) for s in converted)
    assert not licences.describe(licences.REUTERS_21578).redistributable


# -- schema 1.0.0 records ------------------------------------------------------------------


def legacy(record: dict[str, object]) -> dict[str, object]:
    old = {k: v for k, v in record.items() if k not in ("license", "attribution")}
    old["schema_version"] = "1.0.0"
    return old


def test_a_schema_1_0_0_record_is_read_with_a_warning(corpus: Corpus, tmp_path: Path) -> None:
    ingest_files(corpus, [seed_path()])
    [path] = corpus.articles.glob("*.json")
    path.write_bytes(dump_json(legacy(json.loads(path.read_text(encoding="utf-8")))))
    result = run_cli("validate", "--corpus", corpus.root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning [legacy-record]" in result.stdout
    assert f"{path.name}" in result.stdout

    # a 1.1.0 record without the fields, or a 1.0.0 record with them, is invalid
    current = json.loads(path.read_text(encoding="utf-8"))
    current["schema_version"] = "1.1.0"
    path.write_bytes(dump_json(current))
    result = run_cli("validate", "--corpus", corpus.root)
    assert result.returncode == 1
    assert "has no 'license', a required field" in result.stdout, result.stdout
    assert "has no 'attribution', a required field" in result.stdout
    assert path.name in result.stdout
    current.update(schema_version="1.0.0", license="CC0-1.0",
                   attribution="X, https://x.example")
    path.write_bytes(dump_json(current))
    assert run_cli("validate", "--corpus", corpus.root).returncode == 1


def test_ingesting_again_upgrades_a_schema_1_0_0_record(corpus: Corpus) -> None:
    ingest_files(corpus, [seed_path()])
    [path] = corpus.articles.glob("*.json")
    before = json.loads(path.read_text(encoding="utf-8"))
    path.write_bytes(dump_json(legacy(before)))
    report = ingest_files(corpus, [seed_path()], replace=True)
    assert [c.status for c in report.changes] == ["updated"]
    assert report.changes[0].changed == ()
    assert json.loads(path.read_text(encoding="utf-8")) == before


# -- releases ---------------------------------------------------------------------------------


def test_a_release_carries_the_licence_per_article_and_per_source(
        corpus: Corpus, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [json_record(
        license="CC-BY-4.0", attribution="Harbour News, https://harbour.example/rifles")])
    ingest_files(corpus, [seed_path(), path])
    seed = next(p for p in corpus.articles.glob("*.json") if "russia" in p.name)
    seed.write_bytes(dump_json(legacy(json.loads(seed.read_text(encoding="utf-8")))))
    book = codebook.load()
    result = release_build.build(corpus, "1.1.0", book)
    manifest = result.manifest
    assert manifest.versions.article_schema == "1.1.0"
    assert manifest.manifest_version == "1.3.0"  # licences from 1.2.0, label names from 1.3.0
    assert manifest.licences == {
        "by_source": {"globalsecurity.org": {"unlicensed": 1},
                      "harbour.example": {"CC-BY-4.0": 1}},
        "terms": {"CC-BY-4.0": {"name": "Creative Commons Attribution 4.0 International",
                                "url": "https://creativecommons.org/licenses/by/4.0/"}}}
    assert release_manifest.manifest_schema_problems(manifest) == []
    assert release_verify.verify(corpus, "1.1.0", book) == []
    rows = []
    for file in sorted((result.path / "articles").glob("*.parquet")):
        rows += pq.read_table(file, columns=["source", "license", "attribution"]).to_pylist()
    assert sorted(rows, key=lambda r: r["source"]) == [
        {"source": "globalsecurity.org", "license": None, "attribution": None},
        {"source": "harbour.example", "license": "CC-BY-4.0",
         "attribution": "Harbour News, https://harbour.example/rifles"}]

    import datasets

    loaded = datasets.load_dataset(
        "parquet", data_files=[str(p) for p in (result.path / "articles").glob("*.parquet")],
        split="train")
    assert set(loaded["license"]) == {None, "CC-BY-4.0"}
    assert loaded.features == release_layout.features("articles", book)

    from paratopics.publish import core as publish
    from paratopics.publish import croissant

    body = publish.card_body(manifest, book, "org/paratopics")
    assert "| `harbour.example` | `CC-BY-4.0` |" in body
    assert "| `globalsecurity.org` | `unlicensed` |" in body
    assert "`license`" in body and "`attribution`" in body
    assert croissant.licence_urls(manifest) == [
        "https://creativecommons.org/licenses/by/4.0/",
        "https://github.com/paratopics/paratopics#licence"]
    # the manifest on disk says the same, and reads back to the same
    on_disk = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["licences"] == manifest.licences


def test_a_release_built_before_licences_keeps_its_layout_and_verifies(tmp_path: Path) -> None:
    committed = ROOT / "corpus" / "releases"
    corpus = Corpus(tmp_path / "corpus")
    shutil.copytree(committed, corpus.releases)
    manifest = release_layout.read_manifest(corpus, "1.0.0")
    assert manifest.versions.article_schema == "1.0.0"
    assert manifest.licences is None
    assert (corpus.releases / "v1.0.0" / "manifest.json").read_bytes() == manifest.to_json()
    assert release_verify.verify(corpus, "1.0.0", codebook.load()) == []
    [file] = (corpus.releases / "v1.0.0" / "articles").glob("*.parquet")
    assert "license" not in pq.read_schema(file).names
    assert release_verify.verify(corpus, "1.0.0", codebook.load()) == []
