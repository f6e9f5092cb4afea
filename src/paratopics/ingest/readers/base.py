"""The doors' common shape: which files a reader takes, and how their bytes become drafts.

`ingest` asks each reader in turn (`readers()`, most specific first) whether a file
is its own, and hands the first one the bytes. A reader does no I/O and keeps no
state, so a new input format is one small module with two methods; the writer,
identity, history and undo stay in `ingest.core`, shared by every door.

The feed door is not one of these: it reads many snapshots of a feed together (the
newest version of each item wins), so `ingest.feeds` drives it, with its parser in
`readers/feed.py`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar

from paratopics.errors import fail
from paratopics.ingest.draft import Parsed

_BINARY_MAGIC = {
    b"PK\x03\x04": "zip archive",
    b"\x89PNG": "PNG image",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"%PDF": "PDF document",
    b"\x1f\x8b": "gzip archive",
}
_HTML = re.compile(
    rb"^\s*(?:<!--.*?-->\s*|<\?xml[^>]*>\s*)*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
    re.I | re.S,
)


def wide_encoding(head: bytes) -> str | None:
    """"UTF-16LE", "UTF-16BE", "UTF-32LE" or "UTF-32BE" when the first bytes of a file
    look like that text (a byte-order mark, or ASCII with NUL bytes between), else None:
    such a file is text in the wrong encoding, not a binary, and says so."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"),
                      (b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE")):
        if head.startswith(bom):
            return name
    sample = head[:512] if len(head) % 2 == 0 else head[:511]
    if len(sample) >= 4:
        evens, odds = sample[0::2], sample[1::2]
        if not odds.strip(b"\x00") and evens.isascii() and b"\x00" not in evens:
            return "UTF-16LE"
        if not evens.strip(b"\x00") and odds.isascii() and b"\x00" not in odds:
            return "UTF-16BE"
    return None


#: How much of a file's start `refuse_head` looks at for NUL bytes.
HEAD_BYTES = 65536


def refuse_head(head: bytes, file: str) -> None:
    """Refuse a binary or a text in a wide encoding by the first `HEAD_BYTES` of a file."""
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise fail("binary-file", file=file, reason=what)
    wide = wide_encoding(head[:512])
    if wide is not None:
        raise fail("utf16-file", file=file, encoding=wide)
    if b"\x00" in head[:HEAD_BYTES]:
        raise fail("binary-file", file=file, reason="it contains NUL bytes")


def decode_part(raw: bytes, file: str, start: int = 0, first_line: int = 1) -> str:
    """Strict UTF-8 of the bytes at offset `start` of a file, which begin its line
    `first_line` (a BOM allowed at the file's start); an error names the file's line
    and offset."""
    try:
        return raw.decode("utf-8-sig" if start == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + raw[: exc.start].count(b"\n")
        raise fail("not-utf8", file=file, line=line, offset=start + exc.start,
                   detail=exc.reason) from None


def refuse_markup(head: bytes, file: str) -> None:
    """Refuse a web page given where records were expected, by its first bytes."""
    if _HTML.match(head[:4096].lstrip(b"\xef\xbb\xbf")):
        raise fail("html-page", file=file)


def decode(raw: bytes, file: str) -> str:
    """Strict UTF-8 (a BOM allowed), refusing binaries and markup with a reason."""
    refuse_head(raw[:HEAD_BYTES], file)
    text = decode_part(raw, file)
    if not text or text.isspace():  # (no stripped copy of a large text)
        raise fail("file-empty", file=file)
    refuse_markup(raw, file)
    return text


def first_character(raw: bytes, window: int = 4096) -> str:
    """The first character of `raw` as text that is not whitespace (nor a leading
    byte-order mark), '' if there is none: enough to tell JSON from prose without
    decoding a large file twice."""
    for start in range(0, len(raw), window):
        chunk = raw[start:start + window].decode("utf-8", "ignore")
        chunk = (chunk.removeprefix("\ufeff") if start == 0 else chunk).lstrip()
        if chunk:
            return chunk[0]
    return ""


class Reader(ABC):
    """One input format."""

    #: what `ingest --format` calls it
    format: ClassVar[str]

    @abstractmethod
    def claims(self, name: str, fmt: str, raw: bytes) -> bool:
        """Whether the file `name` (with `--format fmt`, "auto" when not given) is
        this door's."""

    @abstractmethod
    def read(self, raw: bytes, file: str, fmt: str, source: str | None,
             max_line_bytes: int) -> Parsed:
        """Every draft of the file, and the problems of its bad records; raises
        ParatopicsError when the whole file is bad."""
