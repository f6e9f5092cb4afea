"""The HTML page door: saved news pages, chrome and all, to one article each.

The pages imitate real news sites: a cookie banner, navigation, a share bar,
related links, a comment thread and a footer around the article.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

from paratopics.corpus.store import Corpus
from paratopics.ingest.core import Licensing, ingest_files

BODY = [
    "The city council voted on Tuesday to rebuild the old harbour bridge, closed since a "
    "storm damaged two of its piers last winter.",
    "Work is to start in the spring and take two years, the council said, at a cost the "
    "mayor put at 40 million euros, half of it from the regional government.",
    "Ferry operators, who carried most of the bridge's traffic while it was closed, said "
    "they would keep the extra crossings until the new bridge opens.",
]

PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Council votes to rebuild harbour bridge | The Harbour Times</title>
  <meta property="og:title" content="Council votes to rebuild harbour bridge">
  <meta property="og:site_name" content="The Harbour Times">
  <meta property="og:url" content="https://www.harbourtimes.example/news/2024/03/05/bridge">
  <link rel="canonical" href="https://www.harbourtimes.example/news/2024/03/05/bridge">
  <meta name="author" content="Maria Lopez">
  <meta property="article:published_time" content="2024-03-05T08:30:00+01:00">
  <script>window.dataLayer = [];</script>
  <style>.cookie {{ position: fixed }}</style>
</head>
<body>
  <div id="cookie-banner" class="cookie">We use cookies to improve your experience.
    <button>Accept all cookies</button> <a href="/privacy">Manage preferences</a></div>
  <header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a>
    <a href="/subscribe">Subscribe for 1 euro</a></nav></header>
  <main>
    <article>
      <h1>Council votes to rebuild harbour bridge</h1>
      <p class="byline">By Maria Lopez, 5 March 2024</p>
      <div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
      <p>{BODY[0]}</p>
      <h2>Cost and timetable</h2>
      <p>{BODY[1]}</p>
      <p>{BODY[2]}</p>
    </article>
    <aside class="related"><h3>Related stories</h3><ul>
      <li><a href="/a">Storm closes harbour bridge</a></li>
      <li><a href="/b">Ferries add crossings</a></li></ul></aside>
    <section id="comments" class="comments"><h3>42 comments</h3>
      <div class="comment"><p>About time! This bridge should have been fixed years ago and
      everyone in the town knows it, the council wasted a whole year.</p></div>
      <div class="comment"><p>Who is paying for this? Not me I hope, my taxes are high
      enough already and the ferries work fine for everybody.</p></div>
    </section>
  </main>
  <footer>&copy; 2024 The Harbour Times. All rights reserved. <a href="/terms">Terms</a></footer>
</body>
</html>
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_news_page_yields_its_article_only(corpus: Corpus, tmp_path: Path) -> None:
    page = write(tmp_path / "bridge.html", PAGE)
    report = ingest_files(corpus, [page], licensing=Licensing(
        "LicenseRef-Harbour-Times", "The Harbour Times, {url}"))
    assert not report.problems, report.problems
    [path] = corpus.articles.glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["title"] == "Council votes to rebuild harbour bridge"
    assert record["authors"] == ["Maria Lopez"]
    assert record["published"] == "2024-03-05"
    assert record["url"] == "https://www.harbourtimes.example/news/2024/03/05/bridge"
    assert record["source"] == "harbourtimes.example"
    assert record["ingested_from"]["format"] == "html"
    texts = [p["text"] for p in record["paragraphs"]]
    assert texts == BODY
    assert [p["heading"] for p in record["paragraphs"]] == [None, "Cost and timetable",
                                                            "Cost and timetable"]
    assert (corpus.root / "sources" / "harbourtimes.example" / "bridge.html").read_bytes() \
        == page.read_bytes()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_pages_without_an_article_are_refused_clearly(seeded: Corpus, tmp_path: Path) -> None:
    before = tree(seeded.root)
    index = write(tmp_path / "index.html", """<!DOCTYPE html><html lang="en"><head>
<title>The Harbour Times - News</title></head><body>
<div class="cookie">We use cookies. <button>Accept</button></div>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<ul><li><a href="/a">Council votes to rebuild harbour bridge</a></li>
<li><a href="/b">Ferries add crossings</a></li></ul>
<footer>&copy; 2024 The Harbour Times</footer></body></html>""")
    undated = write(tmp_path / "undated.html", PAGE.replace(
        '<meta property="article:published_time" content="2024-03-05T08:30:00+01:00">', "")
        .replace(", 5 March 2024", "").replace("/2024/03/05", ""))
    run = run_cli("ingest", "--corpus", seeded.root, index, undated)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out
    assert f"{index}: error [html-no-article] the page holds no article" in out
    assert f"{undated}: error [html-no-article]" in out and "date" in out
    assert tree(seeded.root) == before


def test_html_saved_as_text_is_still_refused_by_the_text_door(
        corpus: Corpus, tmp_path: Path) -> None:
    report = ingest_files(corpus, [write(tmp_path / "page.txt", PAGE)])
    assert [p.code for p in report.problems] == ["html-page"]
    assert ".html" in report.problems[0].hint
