"""Convert GUM's Wikinews documents (CoNLL-U) into JSON Lines for `paratopics ingest`.

GUM (the Georgetown University Multilayer Corpus) is too rare a format for a
door of its own, so this script turns it into the JSON door's input: one
record per document, with the Wikinews article's title, date, URL, headings
and paragraphs, and the licence and attribution that Wikinews (CC BY 2.5) and
GUM (annotations CC BY 4.0) ask for.

Text comes from each sentence's `# text` line (it carries the spacing), cut
into paragraphs at `# newpar`; `# newpar_block` says what the paragraph is:
the first `head` is the headline (the title), later ones are section
headings, and figures with their captions are left out (the images are not
included). The `summary1`-`summary5` metadata (human- and LLM-written
summaries) is never read, so none of it can reach the text. The dateline
paragraph under the headline ("Friday, July 21, 2017") is dropped: it repeats
the date, which becomes `published` (else `dateCreated`, when the page was made).

    python scripts/convert_gum.py ../shared/data/gum-wikinews -o gum-wikinews.jsonl
    paratopics ingest gum-wikinews.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = "en.wikinews.org"
LICENSE = "CC-BY-2.5"
GUM_CREDIT = "GUM corpus (Zeldes 2017, https://gucorpling.org/gum/)"
_DATELINE = re.compile(
    r"^(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),\s+)?"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+\d{1,2},\s+\d{4}\.?$")


@dataclass
class Document:
    """One GUM document as read: metadata and its paragraphs as blocks."""

    name: str
    meta: dict[str, str] = field(default_factory=dict)
    blocks: list[tuple[str, list[str]]] = field(default_factory=list)  # (kind, sentences)


def read_conllu(path: Path) -> Document:
    """The metadata, and each newpar's kind and sentences, of one CoNLL-U file."""
    doc = Document(path.stem)
    kind = "p"
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("# "):
            continue
        key, _, value = raw[2:].partition(" = ")
        if key.startswith("meta::"):
            name = key[len("meta::"):]
            if not name.startswith("summary"):  # generated or human summaries: never text
                doc.meta[name] = value
        elif key == "newpar":
            doc.blocks.append((kind, []))
        elif key == "newpar_block":
            kind = value.split()[0] if value.split() else "p"
            if doc.blocks and not doc.blocks[-1][1]:
                doc.blocks[-1] = (kind, [])
        elif key == "text":
            if not doc.blocks:
                doc.blocks.append((kind, []))
            doc.blocks[-1][1].append(value.strip())
    return doc


def _iso_date(text: str) -> str | None:
    """The dateline's date (the article's publication date) as YYYY-MM-DD."""
    import datetime as dt

    words = text.rstrip(".").split(", ")
    try:
        return dt.datetime.strptime(", ".join(words[-2:]), "%B %d, %Y").date().isoformat()
    except ValueError:
        return None


def to_record(doc: Document) -> dict[str, object]:
    """The JSON door's record for one document; raises ValueError when it lacks a field."""
    for needed in ("title", "dateCreated", "sourceURL"):
        if not doc.meta.get(needed):
            raise ValueError(f"{doc.name}: no meta::{needed}")
    paragraphs: list[dict[str, object]] = []
    heading: str | None = None
    dateline: str | None = None
    seen_headline = False
    for kind, sentences in doc.blocks:
        text = " ".join(s for s in sentences if s)
        if not text:
            continue
        if kind == "head":
            if not seen_headline:
                seen_headline = True  # the headline is the title, not a paragraph
                continue
            heading = text
            continue
        if kind == "figure":
            continue
        if not paragraphs and _DATELINE.match(text):
            dateline = dateline or _iso_date(text)
            continue
        paragraphs.append({"heading": heading, "text": text})
    url = doc.meta["sourceURL"]
    return {
        "source": SOURCE,
        "url": url,
        "title": doc.meta["title"],
        "authors": [],
        "published": dateline or doc.meta["dateCreated"],
        "section": None,
        "language": "en",
        "license": LICENSE,
        "attribution": f"Wikinews contributors, {url}, CC BY 2.5; text as tokenized in the "
                       f"{GUM_CREDIT}",
        "paragraphs": paragraphs,
    }


def convert(folder: Path) -> list[dict[str, object]]:
    """Every GUM_news_*.conllu document of `folder`, in name order."""
    files = sorted(folder.glob("GUM_news_*.conllu"))
    if not files:
        raise ValueError(f"{folder}: no GUM_news_*.conllu files")
    return [to_record(read_conllu(path)) for path in files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="folder holding GUM_news_*.conllu")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSON Lines file")
    args = parser.parse_args(argv)
    try:
        records = convert(args.folder)
    except (OSError, ValueError) as exc:
        print(f"convert_gum: {exc}", file=sys.stderr)
        return 1
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    args.output.write_text(text, encoding="utf-8")
    print(f"convert_gum: {len(records)} documents, "
          f"{sum(len(r['paragraphs']) for r in records)} paragraphs -> {args.output}",  # type: ignore[arg-type]
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
