"""One module per input format behind `base.Reader`; `readers()` lists them in the
order `ingest` asks them (most specific first, the text door last, as the fallback)."""

from __future__ import annotations

from paratopics.ingest.readers.base import Reader
from paratopics.ingest.readers.html_page import HtmlPageReader
from paratopics.ingest.readers.json_records import JsonReader
from paratopics.ingest.readers.text import TextReader


def readers() -> tuple[Reader, ...]:
    return (HtmlPageReader(), JsonReader(), TextReader())
