"""Reuters-21578 into the JSON door: every story converted or skipped with its reason.

The fixture reproduces the collection's quirks in a few stories: SGML entities,
control characters written as character references, "&\\t" paragraph marks,
headline-only briefs, unprocessed tables, a replacement character and a byte that
is not UTF-8. The converted records then go through `paratopics ingest`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

from conftest import ROOT, run_cli
from hypothesis import given
from hypothesis import strategies as st

from paratopics.ingest.reuters import (
    REUTERS_SOURCE,
    Skipped,
    decode_sgml,
    reuters_stories,
    split_paragraphs,
)


def story(newid: int, text: str, date: str = "26-FEB-1987 15:01:01.79") -> bytes:
    return (f'<REUTERS TOPICS="YES" NEWID="{newid}">\n<DATE>{date}</DATE>\n'
            f"<UNKNOWN> \n&#5;&#5;&#5;C T\n</UNKNOWN>\n{text}</REUTERS>\n").encode()


NORMAL = story(1, "<TEXT>&#2;\n<TITLE>BAHIA COCOA &lt;REVIEW&gt;</TITLE>\n"
               "<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued in\n"
               "the Bahia cocoa zone, Smith &amp; Co said.\n"
               "&\\tThe dry period means the temporao will be late.\n"
               "&\\tArrivals were 155,221 bags.\n Reuter\n&#3;</BODY></TEXT>\n")
CONTROL = story(2, "<TEXT>&#2;\n<TITLE>LAWSON PREVIEWS SUMMIT</TITLE>\n<BODY>Work remained "
                "for lasting growth.\N{REPLACEMENT CHARACTER}&#5;&#30;side measures, he said.\n"
                " Reuter\n&#3;</BODY></TEXT>\n")
BRIEF = story(3, '<TEXT TYPE="BRIEF">&#2;\n******<TITLE>ASSETS OF MONEY MARKET FUNDS ROSE'
              "\n</TITLE>Blah blah blah.\n&#3;\n</TEXT>\n")
UNPROC = story(4, '<TEXT TYPE="UNPROC">&#2;\nFEDERAL RESERVE WEEKLY REPORT 1 - FEB 26\n'
               " Net free reserves.............644 vs.....1,337\n"
               " Bank borrowings...............680 vs.......425\n&#3;</TEXT>\n")
UNPROC_EMPTY = story(5, '<TEXT TYPE="UNPROC">&#2;\nCORRECTION\n&#3;</TEXT>\n')
NO_DATE = story(6, "<TEXT><TITLE>UNDATED</TITLE><BODY>Text.</BODY></TEXT>\n", date="sometime")
NOT_UTF8 = story(7, "<TEXT>&#2;\n<TITLE>MUNICH FAIR</TITLE>\n<BODY>The fair in M@nchen "
                 "opened.\n Reuter\n&#3;</BODY></TEXT>\n").replace(b"@", b"\xfc")

EXPECTED_SKIPS = {"3": "no BODY (TYPE=BRIEF: headline only)",
                  "5": "unprocessed text with no body", "6": "no parsable DATE"}


def write_sgm(folder: Path, name: str, *stories: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n' + b"".join(stories))
    return path


def by_id(records: list[dict[str, object] | Skipped]) -> dict[str, dict[str, object] | Skipped]:
    return {r.newid if isinstance(r, Skipped) else str(r["url"]).rsplit(":", 1)[1]: r
            for r in records}


def test_each_story_is_a_record_or_a_skip_with_its_reason(tmp_path: Path) -> None:
    path = write_sgm(tmp_path, "reut2-000.sgm", NORMAL, CONTROL, BRIEF, UNPROC, UNPROC_EMPTY,
                     NO_DATE, NOT_UTF8)
    records, replaced = reuters_stories(path)
    assert len(records) == 7
    assert replaced == 1  # the one byte that is not UTF-8
    found = by_id(records)
    skips = {k: v.reason for k, v in found.items() if isinstance(v, Skipped)}
    assert skips == EXPECTED_SKIPS
    assert all(v.file == "reut2-000.sgm" for v in found.values() if isinstance(v, Skipped))

    normal = found["1"]
    assert isinstance(normal, dict)
    assert normal["title"] == "BAHIA COCOA <REVIEW>"
    assert normal["published"] == "1987-02-26"
    assert normal["source"] == REUTERS_SOURCE
    assert normal["paragraphs"] == [
        "Showers continued in the Bahia cocoa zone, Smith & Co said.",
        "The dry period means the temporao will be late.",
        "Arrivals were 155,221 bags."]  # the "Reuter" sign-off and ETX dropped

    control = found["2"]
    assert isinstance(control, dict)
    assert control["paragraphs"] == [
        "Work remained for lasting growth.\N{REPLACEMENT CHARACTER}side measures, he said."]

    table = found["4"]
    assert isinstance(table, dict)
    assert table["title"] == "FEDERAL RESERVE WEEKLY REPORT 1 - FEB 26"
    assert table["paragraphs"] == [  # rows indented by one space continue a paragraph
        "Net free reserves.............644 vs.....1,337 "
        "Bank borrowings...............680 vs.......425"]

    munich = found["7"]
    assert isinstance(munich, dict)
    assert munich["paragraphs"] == ["The fair in München opened."]


def test_converter_and_ingest_account_for_every_story(tmp_path: Path) -> None:
    src, out, corpus = tmp_path / "sgml", tmp_path / "jsonl", tmp_path / "corpus"
    write_sgm(src, "reut2-000.sgm", NORMAL, CONTROL, BRIEF, UNPROC)
    write_sgm(src, "reut2-001.sgm", UNPROC_EMPTY, NO_DATE, NOT_UTF8)
    converted = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "convert_reuters.py"), "--src", str(src),
         "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert converted.returncode == 0, converted.stderr
    assert "stories 7: converted 4, skipped 3" in converted.stdout
    assert "1 non-UTF-8 byte(s) read as cp1252" in converted.stderr
    skipped = [json.loads(line) for line in
               (out / "skipped.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {s["newid"]: s["reason"] for s in skipped} == EXPECTED_SKIPS

    for sub in ("sources", "articles", "annotations", "releases"):
        (corpus / sub).mkdir(parents=True)
    ingested = run_cli("ingest", "--corpus", corpus, *sorted(out.glob("reut2-*.jsonl")))
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert "4 new, 0 updated, 0 unchanged article(s), 0 problem(s)" in ingested.stderr
    articles = [json.loads(p.read_text(encoding="utf-8"))
                for p in sorted((corpus / "articles").glob("*.json"))]
    assert len(articles) == 4
    texts = [p["text"] for a in articles for p in a["paragraphs"]]
    assert not [t for t in texts if any(unicodedata.category(c) == "Cc" for c in t)]
    assert any("München" in t for t in texts)
    checked = run_cli("validate", "--corpus", corpus)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_story_split_across_no_paragraph_marks_is_one_paragraph() -> None:
    assert split_paragraphs("one line\nand its continuation\n") == [
        "one line and its continuation"]
    assert split_paragraphs("first\n  second, indented\n\nthird") == [
        "first", "second, indented", "third"]


@given(st.text())
def test_utf8_is_decoded_as_is(text: str) -> None:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates have no UTF-8 form
        return
    decoded = decode_sgml(raw)
    assert (decoded.text, decoded.replaced_bytes) == (text, 0)


def test_bytes_that_are_not_utf8_are_read_as_cp1252_and_counted() -> None:
    decoded = decode_sgml("café ".encode() + b"M\xfcnchen \x93quoted\x94 " + "naïve".encode())
    assert decoded.text == "café München \u201cquoted\u201d naïve"
    assert decoded.replaced_bytes == 3
