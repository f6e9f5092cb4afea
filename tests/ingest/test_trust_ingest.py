"""Raw copies never collide: inputs of one name from different folders, sources that
fold to one folder, and long sources sharing their first 64 characters each keep their
own raw copy, and nothing stored is replaced except by --replace of the same article."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import run_cli
from reliability_helpers import corpus_problems, new_corpus

from paratopics.corpus.store import Corpus, raw_copy_name, raw_copy_origin
from paratopics.ingest.core import ingest_files

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<link>https://www.state.gov/</link><lastBuildDate>{built}</lastBuildDate>
<item><title>{title}</title><link>https://www.state.gov/{slug}/</link>
<pubDate>Mon, 03 Jun 2024 10:00:00 +0000</pubDate>
<description>&lt;p&gt;{body}&lt;/p&gt;</description></item></channel></rss>"""


def _story(folder: Path, name: str, **fields: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"title": "Navies hold drill", "published": "2021-05-02",
              "url": "https://e.org/a", "source": "example.org", "body": "One.",
              "license": "CC0-1.0", "attribution": "Example, https://e.org/a"}
    record.update(fields)
    path = folder / name
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def _raw_copies(corpus: Corpus) -> dict[str, bytes]:
    return {p.relative_to(corpus.root).as_posix(): p.read_bytes()
            for p in corpus.sources.rglob("*") if p.is_file()}


def test_same_name_from_two_folders_keeps_both_raw_copies(tmp_path: Path) -> None:
    """The reproduction of the report, through the command line."""
    corpus = new_corpus(tmp_path / "c")
    one = _story(tmp_path / "d1", "story.json")
    two = _story(tmp_path / "d2", "story.json", title="Budget passes", published="2021-06-03",
                 url="https://e.org/b", body="Two.")
    done = run_cli("ingest", "--corpus", corpus.root, one, two)
    assert done.returncode == 0, done.stderr
    assert "2 new" in done.stdout + done.stderr
    checked = run_cli("validate", "--corpus", corpus.root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    copies = _raw_copies(corpus)
    assert sorted(copies.values()) == sorted([one.read_bytes(), two.read_bytes()])
    digest = hashlib.sha256(two.read_bytes()).hexdigest()
    assert f"sources/example.org/{raw_copy_name('story.json', digest)}" in copies


@pytest.mark.parametrize("sources", [
    ("Example.ORG", "example.org"),
    ("a" * 64 + ".one", "a" * 64 + ".two"),
])
def test_sources_folding_to_one_folder_keep_their_raw_copies(
        tmp_path: Path, sources: tuple[str, str]) -> None:
    corpus = new_corpus(tmp_path / "c")
    one = _story(tmp_path / "d1", "story.json", source=sources[0])
    two = _story(tmp_path / "d2", "story.json", source=sources[1], body="Other text.")
    report = ingest_files(corpus, [one, two])
    assert not report.problems, report.problems
    assert [c.status for c in report.changes] == ["new", "new"]
    assert corpus_problems(corpus) == []
    assert len(_raw_copies(corpus)) == 2


def test_ingest_again_is_unchanged_and_keeps_every_copy(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "c")
    one = _story(tmp_path / "d1", "story.json")
    two = _story(tmp_path / "d2", "story.json", title="Budget passes", url="https://e.org/b",
                 body="Two.")
    ingest_files(corpus, [one, two])
    before = _raw_copies(corpus)
    again = ingest_files(corpus, [two, one])
    assert not again.problems, again.problems
    assert [c.status for c in again.changes] == ["unchanged", "unchanged"]
    assert _raw_copies(corpus) == before


def test_corrected_file_of_the_same_name_updates_without_replacing_the_old_copy(
        tmp_path: Path) -> None:
    """The documented update path still works; the earlier raw copy stays."""
    corpus = new_corpus(tmp_path / "c")
    path = _story(tmp_path / "d1", "story.json", body="One.\n\nTwo.")
    ingest_files(corpus, [path])
    first = path.read_bytes()
    _story(tmp_path / "d1", "story.json", body="One.\n\nTwo, corrected.")
    report = ingest_files(corpus, [path])
    assert not report.problems, report.problems
    assert [(c.status, c.changed) for c in report.changes] == [("updated", (1,))]
    assert first in _raw_copies(corpus).values()
    assert path.read_bytes() in _raw_copies(corpus).values()
    assert corpus_problems(corpus) == []
    # and a third version, against the content-addressed copy of the second
    _story(tmp_path / "d1", "story.json", body="One.\n\nTwo, corrected again.")
    third = ingest_files(corpus, [path])
    assert [c.status for c in third.changes] == ["updated"], third.problems
    assert corpus_problems(corpus) == []


def test_other_article_under_a_taken_name_never_replaces_it(tmp_path: Path) -> None:
    """A different file that resolves to the stored article is still a duplicate
    (--replace needed), and its arrival leaves the stored raw copy alone."""
    corpus = new_corpus(tmp_path / "c")
    one = _story(tmp_path / "d1", "story.json")
    ingest_files(corpus, [one])
    before = _raw_copies(corpus)
    other = _story(tmp_path / "d2", "other.json", body="Changed.")
    refused = ingest_files(corpus, [other])
    assert [p.code for p in refused.problems] == ["duplicate-article"]
    assert _raw_copies(corpus) == before
    replaced = ingest_files(corpus, [other], replace=True)
    assert [c.status for c in replaced.changes] == ["updated"], replaced.problems
    assert set(before.items()) <= set(_raw_copies(corpus).items())
    assert corpus_problems(corpus) == []


def test_a_hand_edited_raw_copy_is_never_overwritten(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "c")
    one = _story(tmp_path / "d1", "story.json")
    digest = hashlib.sha256(one.read_bytes()).hexdigest()
    taken = corpus.sources / "example.org"
    taken.mkdir(parents=True)
    (taken / "story.json").write_bytes(b"someone else's\n")
    (taken / raw_copy_name("story.json", digest)).write_bytes(b"edited by hand\n")
    report = ingest_files(corpus, [one])
    assert [p.code for p in report.problems] == ["raw-name-taken"]
    assert report.problems[0].file == str(one)
    assert (taken / "story.json").read_bytes() == b"someone else's\n"
    assert corpus.article_files() == []


def test_raw_copy_names_round_trip() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    for name in ("story.json", "story", "a.b.jsonl", "é" * 120 + ".json", "x" * 200):
        hashed = raw_copy_name(name, digest)
        assert len(hashed.encode("utf-8")) <= 200
        assert digest[:16] in hashed
        if len(name.encode("utf-8")) + 17 <= 200:
            assert raw_copy_origin(hashed, digest) == name
    assert raw_copy_origin("story.json", digest) == "story.json"


def test_feed_snapshots_of_one_name_from_two_folders_are_both_kept(tmp_path: Path) -> None:
    """The feed door's sibling: daily snapshot folders often reuse one file name."""
    corpus = new_corpus(tmp_path / "c")
    first, second = tmp_path / "day1" / "feed.xml", tmp_path / "day2" / "feed.xml"
    for path, built, title in ((first, "Mon, 03 Jun 2024 12:00:00 +0000", "Talks open"),
                               (second, "Tue, 04 Jun 2024 12:00:00 +0000", "Harvest up")):
        path.parent.mkdir(parents=True)
        path.write_text(FEED.format(built=built, title=title, slug=title.lower().replace(" ", "-"),
                                    body=f"{title} today in the capital, officials said."),
                        encoding="utf-8")
    report = ingest_files(corpus, [first, second])
    assert not report.problems, report.problems
    assert len(corpus.article_files()) == 2
    assert sorted(_raw_copies(corpus).values()) == sorted([first.read_bytes(),
                                                           second.read_bytes()])
    assert corpus_problems(corpus) == []
    again = ingest_files(corpus, [first, second])
    assert again.skipped == 2 and not again.problems  # type: ignore[attr-defined]
