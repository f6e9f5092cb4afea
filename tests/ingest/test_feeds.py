"""The feed door: RSS and Atom snapshots into article records.

Feeds are written here in the shape of the real ones (WordPress RSS 2.0 with
CDATA bodies, as state.gov and whitehouse.gov publish them, and Atom), and
ingested through the real code path into a corpus in a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from paratopics.corpus.store import Corpus
from paratopics.ingest.core import ingest_files
from paratopics.ingest.feeds import ingest_feeds
from paratopics.ingest.readers.feed import Block, html_blocks, parse_feed

STATE = "https://www.state.gov"
WH = "https://www.whitehouse.gov/briefing-room"


def rss_item(link: str, title: str, body: str, *, creator: str = "Office of the Spokesperson",
             date: str = "Wed, 03 Aug 2022 19:49:23 +0000", guid: str | None = None,
             category: str = "") -> str:
    return f"""
    <item>
        <title>{title}</title>
        <link>{link}</link>
        <dc:creator><![CDATA[{creator}]]></dc:creator>
        <pubDate>{date}</pubDate>
        <category><![CDATA[{category}]]></category>
        <guid isPermaLink="false">{guid or link + "?p=1"}</guid>
        <description><![CDATA[{body}]]></description>
        <content:encoded><![CDATA[{body}]]></content:encoded>
    </item>"""


def rss(items: list[str], built: str = "Wed, 03 Aug 2022 20:12:40 +0000",
        link: str = STATE + "/rss-feed/press-releases/") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
    <title>Press Releases &#8211; United States Department of State</title>
    <link>{link}</link>
    <description></description>
    <lastBuildDate>{built}</lastBuildDate>
    <language>en-US</language>
    {"".join(items)}
</channel>
</rss>
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def articles(corpus: Corpus) -> dict[str, dict[str, object]]:
    out = {}
    for path in sorted(corpus.articles.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out[str(record["url"])] = record
    return out


def texts(record: dict[str, object]) -> list[tuple[str | None, str]]:
    return [(p["heading"], p["text"]) for p in record["paragraphs"]]  # type: ignore[attr-defined]


STATEMENT = """
<script type="text/javascript">jQuery('p .watermark').parent().addClass('watermarked');</script>
<p>Office of the Spokesperson</p>
<p><input type="hidden" data-filter="press-releases" /></p>
<p>The below is attributable to Spokesperson Ned Price:</p>
<p>Secretary Blinken met&nbsp;today with <em>Foreign Minister</em> Hayashi &amp; discussed
the alliance.<a id="post-12"></a></p>
<h3>Climate &#8211; Cooperation</h3>
<p>They agreed to:</p>
<ul><li>reduce emissions;</li><li>fund&#160;adaptation.</li></ul>
<p><strong>Regional Security</strong></p>
<p>They discussed North Korea.<br>They discussed the Indo-Pacific.</p>
<div class="share-buttons"><a href="#">Share on Twitter</a></div>
<style>p { color: red }</style>
<p>For media inquiries, please contact press@state.gov.</p>
<p># # #</p>
"""


def test_body_markup_becomes_paragraphs_with_headings_and_no_chrome() -> None:
    from paratopics.ingest.readers.feed import STATE as RULES
    from paratopics.ingest.readers.feed import clean_blocks

    paragraphs = clean_blocks(RULES, html_blocks(STATEMENT), ["Office of the Spokesperson"])
    assert paragraphs == [
        (None, "Secretary Blinken met today with Foreign Minister Hayashi & discussed "
               "the alliance."),
        ("Climate \u2013 Cooperation", "They agreed to:"),
        ("Climate \u2013 Cooperation", "reduce emissions;"),
        ("Climate \u2013 Cooperation", "fund adaptation."),
        ("Regional Security", "They discussed North Korea."),
        ("Regional Security", "They discussed the Indo-Pacific."),
    ]


def test_bold_only_long_text_is_a_paragraph_not_a_heading() -> None:
    long = " ".join(["word"] * 30) + "."
    blocks = html_blocks(f"<p><strong>{long}</strong></p><p><b>Short Heading</b></p>")
    assert blocks == [Block(long, heading=False), Block("Short Heading", heading=True)]


def test_white_house_venue_time_and_signature_lines_are_dropped() -> None:
    from paratopics.ingest.readers.feed import WHITE_HOUSE, clean_blocks

    body = """
<p class="has-text-align-center">South Court Auditorium<br>Eisenhower Executive Office Building</p>
<p>3:18 P.M. EDT</p>
<p>NOMINATIONS SENT TO THE SENATE:</p>
<p>Jane Doe, of Virginia, to be Ambassador to Ruritania.</p>
<p>JOSEPH R. BIDEN JR.<br>THE WHITE HOUSE,<br>June 13, 2022.</p>
<p class="has-text-align-center">###</p>"""
    assert clean_blocks(WHITE_HOUSE, html_blocks(body), ["The White House"]) == [
        ("NOMINATIONS SENT TO THE SENATE:",
         "Jane Doe, of Virginia, to be Ambassador to Ruritania."),
    ]


@pytest.mark.parametrize(("url", "body", "reason"), [
    (STATE + "/secretary-interview/",
     "<p>SECRETARY BLINKEN: Good morning.</p><p><strong>QUESTION:</strong>&nbsp;Why?</p>",
     "question-turns"),
    (STATE + "/joint-press-availability/",
     "<p>SECRETARY BLINKEN:&nbsp; Thank you.</p><p>FOREIGN MINISTER HAYASHI: Thank you.</p>",
     "speaker-labelled-transcript"),
    (STATE + "/briefings/department-press-briefing-may-2022/",
     "<p>MR PRICE: Good afternoon.</p>", "section briefings"),
    (WH + "/statements-releases/2022/05/01/background-press-call/",
     "<p>SENIOR OFFICIAL: Thanks.<br>Q&nbsp;&nbsp;&nbsp; And Iran?<br>SENIOR OFFICIAL: No.</p>",
     "question-turns"),
    (WH + "/speeches-remarks/2022/05/01/remarks-by-president-biden/",
     "<p>Thank you all for coming.</p>", "section speeches-remarks"),
    (WH + "/press-briefings/2022/05/01/press-briefing/",
     "<p>Good afternoon.</p>", "section press-briefings"),
])
def test_text_that_is_not_the_governments_excludes_the_whole_item(
        url: str, body: str, reason: str) -> None:
    from paratopics.ingest.readers.feed import exclusion, rules_for

    assert exclusion(rules_for(url, None), url, html_blocks(body)) == reason


def test_a_heading_with_a_colon_is_not_a_speaker_and_one_speaker_is_not_a_transcript() -> None:
    from paratopics.ingest.readers.feed import exclusion, rules_for

    url = WH + "/statements-releases/2022/05/01/nominations-sent-to-the-senate/"
    body = ("<p>NOMINATIONS SENT TO THE SENATE:</p><p>Jane Doe, of Virginia.</p>"
            "<p>WITHDRAWAL SENT TO THE SENATE:</p><p>John Doe, of Ohio.</p>")
    assert exclusion(rules_for(url, None), url, html_blocks(body)) is None
    speech = "<p>SECRETARY BLINKEN: Good morning, everyone.</p><p>We are here today.</p>"
    assert exclusion(rules_for(STATE + "/x/", None), STATE + "/x/", html_blocks(speech)) is None


def test_newest_build_wins_older_snapshots_change_nothing_newer_updates(
        corpus: Corpus, tmp_path: Path) -> None:
    link = STATE + "/secretary-blinkens-call/"
    old = write(tmp_path / "in" / "b_old.rss", rss(
        [rss_item(link, "Secretary Blinken&#8217;s Call", "<p>First text.</p><p>Second.</p>")],
        built="Mon, 01 Aug 2022 10:00:00 +0000"))
    new = write(tmp_path / "in" / "a_new.rss", rss(
        [rss_item(link, "Secretary Blinken&#8217;s Call", "<p>First text, corrected.</p>"
                  "<p>Second.</p>")],
        built="Tue, 02 Aug 2022 10:00:00 +0000"))
    # a_new sorts first but was built later: the build date decides, not the name
    report = ingest_feeds(corpus, [new, old])
    assert not report.problems
    record = articles(corpus)[link]
    assert texts(record)[0] == (None, "First text, corrected.")
    assert record["ingested_from"]["path"] == "sources/state.gov/a_new.rss"  # type: ignore[index]
    assert record["title"] == "Secretary Blinken\u2019s Call"
    assert (corpus.root / "sources/state.gov/a_new.rss").read_bytes() == new.read_bytes()
    assert not (corpus.root / "sources/state.gov/b_old.rss").exists()
    count = report.sources["state.gov"]
    assert (count.occurrences, count.unique, count.kept, count.duplicates) == (2, 1, 1, 1)

    before = {p: p.read_bytes() for p in corpus.root.rglob("*") if p.is_file()}
    again = ingest_feeds(corpus, [old], replace=True)  # read it, not skipped as stored
    assert not again.problems
    assert {p: p.read_bytes() for p in corpus.root.rglob("*") if p.is_file()} == before

    newest = write(tmp_path / "in" / "c.rss", rss(
        [rss_item(link, "Secretary Blinken&#8217;s Call", "<p>First text, corrected.</p>"
                  "<p>Second, edited.</p>")], built="Wed, 03 Aug 2022 10:00:00 +0000"))
    third = ingest_feeds(corpus, [newest])
    [change] = [c for c in third.changes if c.status == "updated"]
    assert change.changed == (1,)
    assert change.article_id == record["article_id"]
    history = (corpus.history / f"{record['article_id']}.jsonl").read_text(encoding="utf-8")
    assert json.loads(history.splitlines()[0])["text"] == "Second."


def test_reingest_of_stored_snapshots_is_skipped_and_changes_nothing(
        corpus: Corpus, tmp_path: Path) -> None:
    feed = write(tmp_path / "s1.rss", rss([rss_item(STATE + "/a/", "A", "<p>Text a.</p>"),
                                          rss_item(STATE + "/b/", "B", "<p>Text b.</p>")]))
    first = ingest_feeds(corpus, [feed])
    assert [c.status for c in first.changes] == ["new", "new"]
    before = {p: p.read_bytes() for p in corpus.root.rglob("*") if p.is_file()}
    second = ingest_feeds(corpus, [feed])
    assert (second.skipped, second.changes) == (1, [])
    assert {p: p.read_bytes() for p in corpus.root.rglob("*") if p.is_file()} == before


def test_excluded_items_are_listed_with_reasons_and_never_stored(
        corpus: Corpus, tmp_path: Path) -> None:
    items = [
        rss_item(STATE + "/kept/", "Kept", "<p>Office of the Spokesperson</p><p>Kept text.</p>"),
        rss_item(STATE + "/interview/", "Interview",
                 "<p>SECRETARY BLINKEN: Hello.</p><p><b>QUESTION:</b> Why?</p>"),
        rss_item(STATE + "/availability/", "Availability",
                 "<p>SECRETARY BLINKEN: Hello.</p><p>MODERATOR: Next.</p>"),
    ]
    report = ingest_feeds(corpus, [write(tmp_path / "f.rss", rss(items))])
    assert not report.problems
    assert list(articles(corpus)) == [STATE + "/kept/"]
    ledger = [json.loads(line) for line in
              (corpus.root / "excluded/state.gov.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {(e["url"], e["reason"]) for e in ledger} == {
        (STATE + "/interview/", "question-turns"),
        (STATE + "/availability/", "speaker-labelled-transcript")}
    count = report.sources["state.gov"]
    assert count.unique == count.kept + sum(count.excluded.values()) + count.problems


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example News</title>
  <link href="https://news.example.org/"/>
  <link rel="license" href="https://creativecommons.org/licenses/by/4.0/"/>
  <updated>2022-08-03T20:12:40Z</updated>
  <id>urn:example:feed</id>
  <entry>
    <title>Harbour reopens</title>
    <link href="https://news.example.org/harbour-reopens"/>
    <id>urn:example:1</id>
    <updated>{date}</updated>
    <author><name>Ann Writer</name></author>
    <content type="html">&lt;p&gt;The harbour reopened on Monday.&lt;/p&gt;
      &lt;h2&gt;Traffic&lt;/h2&gt;&lt;p&gt;Ships returned.&lt;/p&gt;</content>
  </entry>
</feed>
"""


@pytest.mark.parametrize("date", ["2022-08-01T09:30:00Z", "2022-08-01T11:30:00+02:00",
                                  "2022-08-01", "Mon, 01 Aug 2022 09:30:00 GMT"])
def test_atom_feeds_and_any_date_form(corpus: Corpus, tmp_path: Path, date: str) -> None:
    report = ingest_feeds(corpus, [write(tmp_path / "news.atom", ATOM.format(date=date))])
    assert not report.problems
    record = articles(corpus)["https://news.example.org/harbour-reopens"]
    assert record["published"] == "2022-08-01"
    assert record["authors"] == ["Ann Writer"]
    assert record["ingested_from"]["format"] == "atom"  # type: ignore[index]
    # the feed's own licence link, credited to the feed with the entry's link
    assert (record["license"], record["attribution"]) == (
        "CC-BY-4.0", "Example News, https://news.example.org/harbour-reopens")
    assert texts(record) == [(None, "The harbour reopened on Monday."),
                             ("Traffic", "Ships returned.")]


def test_parse_feed_refuses_what_is_not_a_feed() -> None:
    with pytest.raises(ValueError, match="not an RSS or Atom feed"):
        parse_feed(b"this is plain text, not XML")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_bad_feeds_are_refused_by_name_and_item_and_nothing_changes(
        seeded: Corpus, tmp_path: Path) -> None:
    before = tree(seeded.root)
    not_xml = write(tmp_path / "broken.rss", "<html><body>502 Bad Gateway</body></html>")
    big = tmp_path / "huge.xml"
    with big.open("wb") as handle:  # 100 MB, sparse: refused before it is read
        handle.truncate(100 * 1024 * 1024)
    bad_items = write(tmp_path / "items.rss", rss([
        rss_item(STATE + "/no-title/", "", "<p>Body.</p>"),
        rss_item(STATE + "/no-date/", "No date", "<p>Body.</p>", date="sometime soon"),
        rss_item(STATE + "/no-body/", "No body", "<script>x()</script>"),
    ]))
    run = run_cli("ingest", "--corpus", seeded.root, not_xml, big, bad_items)
    assert run.returncode == 1, run.stderr
    out = run.stdout + run.stderr
    assert "Traceback" not in out
    assert f"{not_xml}: error [not-a-feed]" in out
    assert f"{big}: error [file-too-large]" in out
    assert "item https://www.state.gov/no-title/: the item has no title" in out
    assert "'sometime soon' is not an RFC 822 or ISO 8601 date" in out
    assert "item https://www.state.gov/no-body/: the item's body holds no text" in out
    assert f"{bad_items}:2" in out  # the item's position in the file
    assert tree(seeded.root) == before


def test_undefined_entities_in_a_body_are_kept_as_written(corpus: Corpus, tmp_path: Path) -> None:
    feed = write(tmp_path / "e.rss", rss([rss_item(STATE + "/e/", "Entities",
                                                   "<p>Fish &chips; &amp; peas&nbsp;today.</p>")]))
    report = ingest_feeds(corpus, [feed])
    assert not report.problems
    assert texts(articles(corpus)[STATE + "/e/"]) == [(None, "Fish &chips; & peas today.")]


def test_the_cli_ingests_feeds_and_validate_accepts_the_records(
        corpus: Corpus, tmp_path: Path) -> None:
    feed = write(tmp_path / "pr.rss", rss([rss_item(STATE + "/a/", "A statement",
                                                   "<p>Office of the Spokesperson</p>"
                                                   "<p>The United States welcomes it.</p>")]))
    run = run_cli("ingest", "--corpus", corpus.root, feed)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 new" in run.stderr
    assert run_cli("validate", "--corpus", corpus.root).returncode == 0
    again = ingest_files(corpus, [feed])
    assert again.changes == [] and again.files == 1


def test_the_accounting_script_adds_up_and_flags_a_missing_item(
        corpus: Corpus, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    write(snapshots / "1.rss", rss([
        rss_item(STATE + "/kept/", "Kept", "<p>Kept text.</p>"),
        rss_item(STATE + "/interview/", "Interview", "<p><b>QUESTION:</b> Why?</p>")]))
    write(snapshots / "2.rss", rss([rss_item(STATE + "/kept/", "Kept", "<p>Kept text.</p>")],
                                   built="Thu, 04 Aug 2022 10:00:00 +0000"))
    assert not ingest_feeds(corpus, sorted(snapshots.glob("*.rss"))).problems
    script = ROOT / "scripts" / "accounting.py"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), "--corpus", str(corpus.root),
                               f"state.gov={snapshots}"], capture_output=True, text=True)

    done = run()
    assert done.returncode == 0, done.stderr
    assert "| state.gov | 3 | 1 | 2 | 1 | 1 | 0 |" in done.stdout
    write(snapshots / "3.rss", rss([rss_item(STATE + "/never-ingested/", "New", "<p>T.</p>")]))
    missing = run()
    assert missing.returncode == 1
    assert "1 item(s) neither ingested nor excluded" in missing.stderr


def snapshot_series(folder: Path) -> list[Path]:
    """Five snapshots of one feed: items come, get edited, go; one older body is broken,
    one item is excluded in its newest version only, and two files tie on build date."""
    a, b, c, d = (STATE + f"/{x}/" for x in "abcd")
    days = ["Mon, 01 Aug 2022", "Tue, 02 Aug 2022", "Wed, 03 Aug 2022", "Wed, 03 Aug 2022",
            "Thu, 04 Aug 2022"]
    bodies = [
        {a: "<p>A one.</p>", b: "<p>   </p>", c: "<p>C one.</p>"},
        {a: "<p>A one.</p>", b: "<p>B two.</p><p>B more.</p>", c: "<p>C two.</p>"},
        {b: "<p>B three.</p><p>B more.</p>", c: "<p>C three, tie one.</p>",
         d: "<p>D.</p>"},
        {c: "<p>C three, tie two.</p>", d: "<p>SECRETARY: Hi.</p><p>QUESTION: Why?</p>"},
        {a: '<p class="byline">Chrome</p><p style="text-align:center">Centered.</p>'
            "<p>A five.</p>"},
    ]
    paths = []
    for n, (day, items) in enumerate(zip(days, bodies, strict=True)):
        paths.append(write(folder / f"s{n}.rss", rss(
            [rss_item(link, f"Title {link[-2]}", body) for link, body in items.items()],
            built=f"{day} 10:00:00 +0000")))
    return paths


def test_only_each_items_newest_occurrence_counts_whatever_the_jobs(
        tmp_path: Path) -> None:
    from paratopics.ingest.feeds import FeedReport

    paths = snapshot_series(tmp_path / "in")
    roots, reports = [], []
    for jobs in (1, 2):
        root = tmp_path / f"corpus{jobs}"
        for sub in ("sources", "articles", "annotations", "releases"):
            (root / sub).mkdir(parents=True)
        reports.append(ingest_feeds(Corpus(root), paths, jobs=jobs, report=FeedReport()))
        roots.append(root)
    serial, parallel = reports
    # the broken body of b in s0 is older than b's good versions: no problem is reported
    assert serial.problems == parallel.problems == []
    assert tree(roots[0]) == tree(roots[1])
    assert [(c.article_id, c.status) for c in serial.changes] == \
        [(c.article_id, c.status) for c in parallel.changes]
    count = serial.sources["state.gov"]
    assert (count.occurrences, count.unique, count.kept, dict(count.excluded)) == \
        (12, 4, 3, {"question-turns": 1})
    corpus = Corpus(roots[1])
    stored = articles(corpus)
    assert texts(stored[STATE + "/a/"]) == [(None, "Centered."), (None, "A five.")]
    assert texts(stored[STATE + "/b/"]) == [(None, "B three."), (None, "B more.")]
    # s2 and s3 tie on build date: the file name that sorts last wins
    assert texts(stored[STATE + "/c/"]) == [(None, "C three, tie two.")]
    assert stored[STATE + "/c/"]["ingested_from"]["path"] == "sources/state.gov/s3.rss"  # type: ignore[index]
    assert STATE + "/d/" not in stored
    ledger = (roots[1] / "excluded" / "state.gov.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line)["file"] for line in ledger.splitlines()] == ["s3.rss"]
