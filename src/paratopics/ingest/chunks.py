"""One large JSON Lines file in pieces: read in byte ranges cut at line ends, parsed
in parallel, stored in input order, never all in memory at once.

The driver reads the file once (`scan`): it copies it into the corpus (a private
copy that later becomes the raw copy, so that every piece is cut from the bytes
that are hashed and kept, even if the input changes meanwhile), hashes it, checks
what makes the whole file bad (binary, not UTF-8, empty, a web page) exactly as
the JSON door does, and notes where each piece starts and which line that is.
Workers (`prepare_chunk`) turn one piece each into serialized records; the driver
stores them piece by piece with `core.FileWriter`, keeping only a few pieces in
flight. Records, problems (with the file's own line numbers) and their order are
those of reading the file whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from paratopics.corpus.records import Provenance
from paratopics.corpus.store import check_name
from paratopics.errors import ParatopicsError, Problem, fail, problem
from paratopics.ingest.draft import Licensing
from paratopics.ingest.readers.base import (
    HEAD_BYTES,
    decode_part,
    refuse_head,
    refuse_markup,
)
from paratopics.ingest.readers.json_records import drafts_of, first_draft, json_lines_items

if TYPE_CHECKING:
    from paratopics.ingest.core import Batch

#: About how many bytes of a large JSON Lines file one piece holds (a piece ends at
#: a line end, so one holds at least a whole line). Files up to this size are read
#: whole, one file per worker.
CHUNK_BYTES = 8 * 1024 * 1024
#: Pieces parsed or waiting to be stored at once, per worker: enough to keep every
#: worker busy while pieces are stored in order, few enough that memory stays flat.
IN_FLIGHT_PER_WORKER = 2


def is_chunked(path: Path, fmt: str, max_bytes: int, chunk_bytes: int) -> bool:
    """Whether `path` is read in pieces: JSON Lines (by --format or its suffix) larger
    than one piece, and not over the size limit (refused unread, as today)."""
    if fmt != "jsonl" and not (fmt == "auto" and path.suffix.lower() in {".jsonl", ".ndjson"}):
        return False
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return path.is_file() and chunk_bytes < size <= max_bytes


@dataclass(frozen=True)
class ChunkOptions:
    """How ingest was asked to read files (the options of `ingest_files`)."""

    fmt: str
    source: str | None
    max_bytes: int
    max_line_bytes: int
    licensing: Licensing | None
    chunk_bytes: int


@dataclass(frozen=True)
class Chunk:
    """One piece: bytes [start, end) of the file, beginning at line `first_line`."""

    start: int
    end: int
    first_line: int


@dataclass(frozen=True)
class ChunkJob:
    """What every piece of one file shares."""

    copy: str  # the private copy to read the piece from
    file: str  # the input as the user named it, for problems
    provenance: Provenance
    source: str | None
    max_line_bytes: int
    licensing: Licensing | None


@dataclass
class Scan:
    """What reading the whole file once found."""

    digest: str
    chunks: list[Chunk]
    source: str | None  # of the first record that is an article (names the raw copy's folder)


@dataclass
class PreparedChunk:
    """One piece made ready to store: its records and its problems, by kind, in line
    order (reading the whole file reports each kind for the whole file in turn)."""

    records: list[tuple[str, int | None, bytes]] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)  # not JSON, too long
    not_articles: list[Problem] = field(default_factory=list)  # fields missing or wrong
    not_storable: list[Problem] = field(default_factory=list)  # no licence, invalid
    drafts: int = 0
    paragraphs: int = 0


class CopyFailed(Exception):
    """The private copy could not be written (no space, no permission): the file is
    then read whole instead, which reports such a failure as it always has."""


def _pieces(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """`blocks` regrouped to end at line ends (the last piece may not)."""
    carry = b""
    for block in blocks:
        data = carry + block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        carry = data[cut:]
    if carry:
        yield carry


def _copied_blocks(handle: BinaryIO, out: BinaryIO, file: str, size: int, limit: int,
                   digest: hashlib._Hash) -> Iterator[bytes]:
    """Blocks of `size` bytes of `handle`, each hashed and written to `out`; more than
    `limit` bytes in all is refused (a file still growing)."""
    read = 0
    while True:
        try:
            block = handle.read(size)
        except OSError as exc:
            raise fail("read-failed", file=file, detail=exc.strerror or str(exc)) from None
        if not block:
            return
        read += len(block)
        if read > limit:
            raise fail("file-too-large", file=file, size=f"over {limit}", limit=limit)
        digest.update(block)
        try:
            out.write(block)
        except OSError as exc:
            raise CopyFailed(str(exc)) from exc
        yield block


def scan(path: Path, copy: Path, source: str | None, max_bytes: int, max_line_bytes: int,
         chunk_bytes: int) -> Scan:
    """Copy `path` to `copy` and plan its pieces, refusing the whole file (raising
    ParatopicsError) for what the JSON door refuses it, in the same order: too large,
    binary, not UTF-8 (the first bad byte in the file), empty, a web page, an unsafe
    name."""
    file = str(path)
    digest = hashlib.sha256()
    chunks: list[Chunk] = []
    head = b""
    blank = True  # nothing but whitespace so far
    wrong: ParatopicsError | None = None  # the first bytes that are not UTF-8
    first: str | None = None  # the source of the first record that is an article
    start, line = 0, 1
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise fail("read-failed", file=file, detail=exc.strerror or str(exc)) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise fail("file-too-large", file=file, size=size, limit=max_bytes)
        try:  # (O_NOFOLLOW: a symlink planted at the name must not redirect the copy)
            out = os.fdopen(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC |
                                    os.O_NOFOLLOW, 0o644), "wb", buffering=0)
        except OSError as exc:
            raise CopyFailed(str(exc)) from exc
        with out:
            blocks = _copied_blocks(handle, out, file, chunk_bytes, max_bytes, digest)
            for piece in _pieces(blocks):
                if len(head) < HEAD_BYTES:
                    head += piece[:HEAD_BYTES - len(head)]
                if wrong is None:
                    try:
                        text = decode_part(piece, file, start, line)
                    except ParatopicsError as exc:
                        wrong = exc
                    else:
                        blank = blank and (not text or text.isspace())
                        if source is None and first is None:
                            found = first_draft(text, None, max_line_bytes)
                            first = found.source if found is not None else None
                chunks.append(Chunk(start, start + len(piece), line))
                start += len(piece)
                line += piece.count(b"\n")
    refuse_head(head, file)
    if wrong is not None:
        raise wrong
    if blank:
        raise fail("file-empty", file=file)
    refuse_markup(head, file)
    check_name(path.name, "source file name")
    return Scan(digest.hexdigest(), chunks, source or first)


def prepare_chunk(job: ChunkJob, chunk: Chunk) -> PreparedChunk:
    """Parse, normalize and serialize one piece; no corpus access (runs in a worker)."""
    from paratopics.ingest.core import serialize

    with open(job.copy, "rb") as handle:
        handle.seek(chunk.start)
        raw = handle.read(chunk.end - chunk.start)
    text = decode_part(raw, job.file, chunk.start, chunk.first_line)
    del raw
    items, unreadable = json_lines_items(text, job.file, job.max_line_bytes, chunk.first_line)
    del text
    drafts, not_articles = drafts_of(items, job.file, job.source)
    del items
    records, not_storable, paragraphs = serialize(drafts, job.file, job.provenance,
                                                  job.licensing)
    return PreparedChunk(records, unreadable, not_articles, not_storable, len(drafts),
                         paragraphs)


def _private_copy(corpus_root: Path) -> Path:
    """Where the copy of the file being read goes: a hidden temporary in the corpus
    (removed by the next command's sweep if this one is killed), on the file system
    of the raw copies, so that it becomes one by a rename."""
    return corpus_root / f".ingest-copy.{os.getpid()}.tmp"


def store_chunked(batch: Batch, path: Path, run: Callable[..., Iterator[PreparedChunk]],
                  options: ChunkOptions,
                  on_progress: Callable[[int], None] | None = None) -> None:
    """Ingest one large JSON Lines file piece by piece (see the module's docstring):
    `run(prepare_chunk, chunks, job)` prepares the pieces (in a pool's workers or an
    engine's tasks) and gives them back in order. `on_progress` gets the paragraphs
    prepared so far."""
    from paratopics.ingest.core import (
        FileWriter,
        claim,
        prepare_file,
        source_folder_name,
        store_prepared,
    )

    report = batch.report
    copy = _private_copy(batch.corpus.root)
    try:
        try:
            batch.corpus.root.mkdir(parents=True, exist_ok=True)
            found = scan(path, copy, options.source, options.max_bytes,
                         options.max_line_bytes, options.chunk_bytes)
        except ParatopicsError as exc:
            report.problems.append(exc.problem)
            return
        except (CopyFailed, OSError):
            store_prepared(batch, prepare_file(path, options.fmt, options.source, options.max_bytes,
                                               options.max_line_bytes, options.licensing))
            return
        rel = f"sources/{source_folder_name(found.source or 'unknown')}/{path.name}"
        claimed = claim(batch.corpus, path, rel, found.digest)
        kept = claimed if isinstance(claimed, str) else rel
        job = ChunkJob(str(copy), str(path), Provenance(path=kept, sha256=found.digest,
                                                        format="jsonl", record=None),
                       options.source, options.max_line_bytes, options.licensing)
        writer = FileWriter(batch, path, kept, found.digest, copy, kept)
        kinds: tuple[list[Problem], list[Problem], list[Problem]] = ([], [], [])
        drafts = records = paragraphs = 0
        for piece in run(prepare_chunk, found.chunks, job):
            for kind, problems in zip(kinds, (piece.unreadable, piece.not_articles,
                                              piece.not_storable), strict=True):
                kind.extend(problems)
            drafts += piece.drafts
            records += len(piece.records)
            paragraphs += piece.paragraphs
            if not isinstance(claimed, Problem):
                writer.add(piece.records)
            if on_progress is not None:
                on_progress(paragraphs)
        for kind in kinds:
            report.problems.extend(kind)
        if not drafts and not kinds[0] and not kinds[1]:
            report.problems.append(problem("no-body", file=str(path)))
        elif isinstance(claimed, Problem):
            if records:
                report.problems.append(claimed)
        else:
            writer.finish(paragraphs)
    finally:
        with contextlib.suppress(OSError):
            copy.unlink()
