"""Coverage-guided fuzzing of the article parser, the normalizer and the annotation
validator with atheris (libFuzzer for Python): the long run behind tests/project/test_fuzz.py.

    pip install atheris
    python scripts/fuzz_atheris.py parse     -max_total_time=180
    python scripts/fuzz_atheris.py normalize -max_total_time=180
    python scripts/fuzz_atheris.py validate  -max_total_time=180

Any libFuzzer flag may follow the target (-runs=N, -jobs=N, -dict=FILE, ...).
The corpus of interesting inputs grows in build/fuzz/<target>/ (seeded from the
checkout's seed article, JSON records and annotation lines) and survives between
runs; a crashing or hanging input (-timeout, default here 20 s) is saved to
build/fuzz/artifacts/ and the run stops with exit code 1. The properties are
those of the hypothesis tests: only ParatopicsError may escape, records that pass
ingest's gate pass the validator, the normalizer is idempotent and clean.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["paratopics", "ftfy"]):
    from paratopics import codebook as codebook_module
    from paratopics.corpus.records import Provenance
    from paratopics.corpus.store import Corpus
    from paratopics.errors import ParatopicsError
    from paratopics.ingest.core import make_article, parse, record_problems
    from paratopics.ingest.normalize import normalize_document, normalize_paragraph
    from paratopics.validate.annotations import AnnotationState, check_annotation_file
    from paratopics.validate.articles import article_problems
    from paratopics.validate.index import ArticleIndex
    from paratopics.validate.schema import Checker

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "fuzz"
NAMES = ("dump.txt", "record.json", "wire.jsonl", "noext")
FORMATS = ("auto", "globalsecurity", "json", "jsonl")
CHECKER = Checker(codebook_module.load())
SCRATCH = Corpus(Path(tempfile.mkdtemp(prefix="paratopics-fuzz-")))
SCRATCH.annotations.mkdir()
ANNOTATIONS = SCRATCH.annotations / "fuzz.jsonl"


def fuzz_parse(data: bytes) -> None:
    """parse() on any bytes, any name and format; accepted records must validate."""
    fdp = atheris.FuzzedDataProvider(data)
    name = NAMES[fdp.ConsumeIntInRange(0, len(NAMES) - 1)]
    fmt = FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
    raw = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        parsed = parse(raw, name, fmt)
    except ParatopicsError:
        return
    for draft in parsed.drafts:
        article = make_article(draft, Provenance(path=f"sources/fuzz/{name}", sha256="0" * 64,
                                                 format=parsed.format, record=draft.record))
        if not record_problems(article, name, draft.record):
            found = article_problems(article, name, CHECKER)
            if found:
                raise AssertionError(f"ingest would write an invalid record: {found}")


def fuzz_normalize(data: bytes) -> None:
    """The normalizer on any text (lone surrogates included): total, idempotent, clean."""
    text = data.decode("utf-8", "surrogateescape")
    paragraph = normalize_paragraph(text)
    document = normalize_document(text)
    if normalize_paragraph(paragraph) != paragraph or normalize_document(document) != document:
        raise AssertionError(f"not idempotent: {text!r}")
    for out in (paragraph, document):
        bad = [c for c in out if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F
               or 0xD800 <= ord(c) <= 0xDFFF]
        if bad:
            raise AssertionError(f"{bad!r} survived normalizing {text!r}")
    if "\n" in paragraph:
        raise AssertionError(f"newline in a paragraph: {text!r}")


def fuzz_validate(data: bytes) -> None:
    """An annotation file of any bytes: problems, never an exception."""
    ANNOTATIONS.write_bytes(data)
    for found in check_annotation_file(ANNOTATIONS, SCRATCH, CHECKER, ArticleIndex(),
                                       AnnotationState(), max_line_bytes=4096):
        if not found.line:
            raise AssertionError(f"a problem without a line: {found}")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "parse": fuzz_parse, "normalize": fuzz_normalize, "validate": fuzz_validate}


def seed(target: str, folder: Path) -> None:
    """Start the corpus from real inputs, so that fuzzing begins past the first checks."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    article = next((ROOT / "corpus" / "sources").rglob("*.txt"), None)
    text = article.read_bytes() if article else b"Title\n\nBy A. Writer April 07, 2021\n\nText."
    record = {"source": "wire", "title": "T\u00e9st", "published": "2024-01-02",
              "url": "https://example.org/1", "authors": ["A. B"], "license": "CC0-1.0",
              "attribution": "Wire, https://example.org/1",
              "paragraphs": ["One.", {"text": "Two.", "heading": "H"}]}
    annotations = b"".join(p.read_bytes()[:4000] for p in
                           sorted((ROOT / "corpus" / "annotations").glob("*.jsonl"))[:2])
    seeds = {
        "parse": [b"\x00\x00" + text, b"\x01\x02" + json.dumps(record).encode(),
                  b"\x02\x03" + (json.dumps(record) + "\n").encode() * 3],
        "normalize": [text[:2000], "caf\u00c3\u00a9 \u200b\x1b[31m\r\n".encode()],
        "validate": [annotations or b'{"article_id": "a-0123456789"}\n'],
    }[target]
    for number, data in enumerate(seeds):
        (folder / f"seed-{number}").write_bytes(data)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        raise SystemExit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target = argv[1]
    corpus = WORK / target
    seed(target, corpus)
    (WORK / "artifacts").mkdir(parents=True, exist_ok=True)
    flags = [a for a in argv[2:] if a.startswith("-")]
    folders = [a for a in argv[2:] if not a.startswith("-")] or [str(corpus)]
    defaults = [f"-artifact_prefix={WORK / 'artifacts'}/{target}-", "-timeout=20",
                "-rss_limit_mb=4096", "-max_len=65536"]
    given = {f.split("=", 1)[0] for f in flags}
    args = [argv[0], *(d for d in defaults if d.split("=", 1)[0] not in given), *flags,
            *folders]
    atheris.Setup(args, TARGETS[target])
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
