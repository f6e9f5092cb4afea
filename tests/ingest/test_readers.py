"""The doors behind `Reader`: which door claims which file, in which order."""

from __future__ import annotations

import pytest

from paratopics.ingest.readers import readers
from paratopics.ingest.readers.base import Reader, first_character
from paratopics.ingest.readers.html_page import HtmlPageReader
from paratopics.ingest.readers.json_records import JsonReader
from paratopics.ingest.readers.text import TextReader


def door(name: str, raw: bytes, fmt: str = "auto") -> type[Reader]:
    return type(next(r for r in readers() if r.claims(name, fmt, raw)))


@pytest.mark.parametrize(("name", "raw", "fmt", "expected"), [
    ("page.html", b"<html><body>...", "auto", HtmlPageReader),
    ("page.HTM", b"", "auto", HtmlPageReader),
    ("saved.txt", b"<html>", "html", HtmlPageReader),
    ("records.jsonl", b"not json at all", "auto", JsonReader),
    ("records.ndjson", b"", "auto", JsonReader),
    ("dump.txt", b'\xef\xbb\xbf  \n {"title": 1}', "auto", JsonReader),
    ("dump.txt", b"[1]", "auto", JsonReader),
    ("dump.txt", b"Title\n\nBy A Jan 1, 2020", "jsonl", JsonReader),
    ("dump.txt", b"Title\n\nBy A Jan 1, 2020", "auto", TextReader),
    ("dump.json", b"Title", "globalsecurity", TextReader),
    ("empty.txt", b"", "auto", TextReader),
])
def test_each_file_goes_to_the_first_door_that_claims_it(
        name: str, raw: bytes, fmt: str, expected: type[Reader]) -> None:
    assert door(name, raw, fmt) is expected


def test_the_text_door_is_last_and_takes_whatever_no_other_door_takes() -> None:
    order = [type(r) for r in readers()]
    assert order[-1] is TextReader and len(set(order)) == len(order)
    assert all(r.format for r in readers())


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", ""), (b" \n\t ", ""), (b"\xef\xbb\xbf{", "{"),
    (b" " * 5000 + b"[", "["),  # past the first window
    ("\u3000\u00a0{".encode(), "{"),  # Unicode spaces are whitespace too
    (b"\xef\xbb\xbf\xef\xbb\xbf{", "\ufeff"),  # only a leading byte-order mark is dropped
])
def test_first_character_skips_whitespace_and_a_leading_byte_order_mark(
        raw: bytes, expected: str) -> None:
    assert first_character(raw) == expected
