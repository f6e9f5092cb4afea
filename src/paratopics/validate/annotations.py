"""Checking annotation files: each line's schema, then its meaning against the article
index (ids, indexes, hashes, labels, dates), read as a stream of capped lines so
that a file of millions of lines or one enormous line is checked in bounded memory.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from paratopics.codebook import Codebook
from paratopics.corpus.records import (
    EARLIEST_DATE,
    Annotation,
)
from paratopics.corpus.store import (
    Corpus,
    inside,
    load_json,
)
from paratopics.errors import Problem, index_range, problem
from paratopics.ingest.readers.base import wide_encoding
from paratopics.validate.articles import Mapper
from paratopics.validate.cache import AnnotationCache, FileEntry, _name_digest, depends_digest
from paratopics.validate.index import ArticleIndex, suggest_article
from paratopics.validate.schema import Checker, _short, _with_article_guess, schema_problems
from paratopics.validate.summary import Summary, display_path
from paratopics.workers import in_worker, start_worker

#: Annotation lines longer than this are reported and skipped unread.
MAX_ANNOTATION_LINE_BYTES = 1024 * 1024


_CHUNK = 1 << 16


EARLIEST_DAY = EARLIEST_DATE.isoformat()


def _read_lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | int, bool]]:
    """(line number, content, ended by a newline); for a line over `limit` its size in
    bytes instead of its content: the rest of it is skipped in chunks, never held whole."""
    number = 0
    while True:
        chunk = handle.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > limit and not chunk.endswith(b"\n"):
            size = len(chunk)
            while chunk and not chunk.endswith(b"\n"):  # skip the rest, bounded memory
                chunk = handle.readline(_CHUNK)
                size += len(chunk)
            yield number, size - chunk.endswith(b"\n"), True
            continue
        ended = chunk.endswith(b"\n")
        yield number, chunk.rstrip(b"\n"), ended


@dataclass
class AnnotationState:
    """What must be remembered across lines: one entry per judged (annotator, paragraph).

    A million judgements make a million entries, so each is two integers: the
    key packs article, annotator and paragraph numbers, the value the file and
    line where it was first seen (tuples took three times the memory).
    """

    judged: dict[int | tuple[str, str, int], int] = field(default_factory=dict)
    lines: int = 0
    files: list[str] = field(default_factory=list)
    annotators: dict[str, int] = field(default_factory=dict)  # name -> number
    articles: dict[str, int] = field(default_factory=dict)  # id -> number

    def first_seen(self, annotator: str, aid: str, position: int, file: str, line: int
                   ) -> str | None:
        """Where this judgement was seen before ("file:line"), or None (now remembered)."""
        # the key, inline: this runs once a line
        who = self.annotators.setdefault(annotator, len(self.annotators))
        what = self.articles.setdefault(aid, len(self.articles))
        key: int | tuple[str, str, int] = (
            (what << 44) | (who << 24) | position if 0 <= position < 1 << 24 and who < 1 << 20
            else (annotator, aid, position))  # an unlikely paragraph index: kept as it is
        seen = self.judged.get(key)
        if seen is not None:
            return f"{self.files[seen >> 32]}:{seen & 0xFFFFFFFF}"
        if not self.files or self.files[-1] != file:
            self.files.append(file)
        self.judged[key] = ((len(self.files) - 1) << 32) | line
        return None

    def names(self, keys: Iterable[int | tuple[str, str, int]]
              ) -> Iterator[tuple[str, str, int]]:
        """(annotator, article id, paragraph index) of each key."""
        annotators, articles = list(self.annotators), list(self.articles)  # by number
        for key in keys:
            if isinstance(key, tuple):
                yield key
            else:
                yield annotators[(key >> 24) & 0xFFFFF], articles[key >> 44], key & 0xFFFFFF

    def pairs(self, keys: Iterable[int | tuple[str, str, int]]) -> Iterator[tuple[str, str]]:
        """(annotator, article id) of each key."""
        annotators, articles = list(self.annotators), list(self.articles)  # by number
        for key in keys:
            if isinstance(key, tuple):
                yield key[0], key[1]
            else:
                yield annotators[(key >> 24) & 0xFFFFF], articles[key >> 44]


def _did_you_mean(wanted: str, index: ArticleIndex) -> str:
    guess = suggest_article(wanted, index.digests)
    return f"; did you mean '{guess}'?" if guess else ""


def marked_difference(old: str, new: str, context: int = 40, limit: int = 120,
                      ) -> tuple[str, str]:
    """`old` and `new` around where they differ, the differing parts in «»: what a stale
    judgement's reader needs, rather than the first characters of each."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changed:
        return _short(old, limit), _short(new, limit)
    start_old, start_new = changed[0][1], changed[0][3]
    end_old, end_new = changed[-1][2], changed[-1][4]

    def show(text: str, start: int, end: int) -> str:
        before = text[max(0, start - context):start]
        middle = text[start:end]
        if len(middle) > limit:
            middle = middle[:limit // 2] + "…" + middle[-(limit // 2):]
        after = text[end:end + context]
        return ("…" if start > context else "") + before + "«" + middle + "»" + after + (
            "…" if end + context < len(text) else "")

    return show(old, start_old, end_old), show(new, start_new, end_new)


def _paragraph_problem(record: Annotation, file: str, line: int,
                       index: ArticleIndex) -> Problem | None:
    """The judged paragraph exists and still has the text that was judged."""
    where: dict[str, Any] = {"file": file, "line": line}
    aid, position = record["article_id"], record["paragraph_index"]
    try:
        hashes = index.hashes[aid]
    except KeyError:
        return problem("unknown-article", pointer="/article_id", article_id=aid,
                       suggestion=_did_you_mean(aid, index), **where)
    if position >= len(hashes):
        return problem("unknown-paragraph", pointer="/paragraph_index", article_id=aid,
                       index=position, count=len(hashes), indexes=index_range(len(hashes)),
                       **where)
    judged_hash = record["paragraph_sha256"]
    if hashes[position] != judged_hash:
        if judged_hash in hashes:  # the hash of a sibling: a copying slip, not a change
            return problem("wrong-paragraph", pointer="/paragraph_sha256", article_id=aid,
                           index=position, other=hashes.index(judged_hash), **where)
        old_text = index.judged_text(aid, judged_hash)
        current = index.texts[aid][position]
        if old_text is None:
            judged, now = "(text not in corpus/history/)", _short(current, 120)
        else:
            judged, now = marked_difference(old_text, current)
        return problem("stale-annotation", pointer="/paragraph_sha256", article_id=aid,
                       index=position, judged=f"{judged_hash[:12]}… {judged}",
                       current=f"{hashes[position][:12]}… {now}", **where)
    return None


def _label_problem(label: str, i: int, file: str, line: int, codebook: Codebook) -> Problem:
    """Why `label` is not an active codebook id: unknown, or retired."""
    where: dict[str, Any] = {"file": file, "line": line, "pointer": f"/labels/{i}"}
    if label not in codebook:
        guess = codebook.suggest(label)
        suggestion = f"; did you mean '{guess}'?" if guess else ""
        return problem("unknown-label", label=label, suggestion=suggestion, **where)
    node = codebook.by_id[label]
    if node["level"] == 1:
        return problem("level1-label", label=label, name=node["name"], **where)
    replacement = node.get("replaced_by", "an active node")
    return problem("retired-label", label=label, name=node["name"], replacement=replacement,
                   **where)


def annotation_problems(record: Annotation, file: str, line: int, checker: Checker,
                        index: ArticleIndex, state: AnnotationState) -> list[Problem]:
    """The meaning of one schema-valid judgement (no I/O, but for reading a record
    the cache spared, the first time one of its paragraphs is judged).

    This runs for every line, so the valid case is a few lookups; problems are
    built only when something is wrong.
    """
    found: list[Problem] = []
    aid, position = record["article_id"], record["paragraph_index"]
    try:  # not .get: the hashes of a record indexed from the cache are read on demand
        hashes: list[str] | None = index.hashes[aid]
    except KeyError:
        hashes = None
    if (hashes is None or position >= len(hashes)
            or hashes[position] != record["paragraph_sha256"]):
        wrong = _paragraph_problem(record, file, line, index)
        if wrong is not None:
            found.append(wrong)
    labels = record["labels"]
    if not checker.active_labels.issuperset(labels):
        found.extend(_label_problem(label, i, file, line, checker.codebook)
                     for i, label in enumerate(labels) if label not in checker.active_labels)
    seen = state.first_seen(record["annotator"], aid, position, file, line)
    if seen is not None:
        found.append(problem("duplicate-judgement", file=file, line=line, pointer="/annotator",
                             annotator=record["annotator"], index=position, article_id=aid,
                             other=seen))
    return found


def check_annotation_file(path: Path, corpus: Corpus, checker: Checker, index: ArticleIndex,
                          state: AnnotationState,
                          on_progress: Callable[[int], None] | None = None,
                          max_line_bytes: int = MAX_ANNOTATION_LINE_BYTES,
                          digest: hashlib._Hash | None = None,
                          ) -> Iterator[Problem]:
    """Every problem of the annotation file at `path`; every byte read also goes into
    `digest` if given, so that a cache entry names exactly the bytes checked."""
    file = display_path(path)
    if not inside(corpus.annotations, path) or not inside(corpus.root, path):
        yield problem("annotation-outside", file=file,
                      detail=f"annotation file is not in {display_path(corpus.annotations)}/")
        linked = os.path.abspath(path).startswith(os.path.abspath(corpus.root) + os.sep)
        if path.is_symlink() or (linked and not inside(corpus.root, path)):
            return  # a link (or a linked folder) out of the corpus: never read through it
    with path.open("rb") as peek:
        wide = wide_encoding(peek.read(512))
    if wide is not None:  # else every line would be reported, none of them helpfully
        yield problem("utf16-file", file=file, line=1, encoding=wide)
        return
    opened = path.open("rb") if digest is None else io.BufferedReader(
        _Hashing(io.FileIO(path, "rb"), digest), buffer_size=_CHUNK)
    with opened as handle:
        for number, raw, ended in _read_lines(handle, max_line_bytes):
            state.lines += 1
            if on_progress is not None and state.lines % 100_000 == 0:
                on_progress(state.lines)
            found = _check_line(raw, ended, number, file, checker, index, state,
                                max_line_bytes)
            if found:
                yield from found


class _Hashing(io.RawIOBase):
    """A raw file that also feeds every byte read into a digest."""

    def __init__(self, raw: io.FileIO, digest: hashlib._Hash) -> None:
        super().__init__()
        self.raw, self.digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        count = self.raw.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def _check_line(raw: bytes | int, ended: bool, number: int, file: str, checker: Checker,
                index: ArticleIndex, state: AnnotationState,
                max_line_bytes: int) -> list[Problem]:
    """Every problem of one line: encoding, JSON syntax, schema, then meaning."""
    if isinstance(raw, int):
        return [problem("line-too-long", file=file, line=number, size=f"{raw:,}",
                        limit=max_line_bytes)]
    found: list[Problem] = []
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        found.append(problem("encoding-marks", file=file, line=number,
                             detail="the file starts with a UTF-8 byte-order mark"))
        raw = raw[3:]
    if raw.endswith(b"\r"):
        found.append(problem("encoding-marks", file=file, line=number,
                             detail="the line ends with CRLF, not LF"))
        raw = raw.rstrip(b"\r")
    try:
        record = load_json(raw)
    except UnicodeDecodeError as exc:
        found.append(problem("not-utf8", file=file, line=number, offset=exc.start,
                             detail=exc.reason))
        return found
    except (ValueError, RecursionError) as exc:  # ValueError: e.g. a 5000-digit integer
        if not raw.strip():  # checked only here: a blank line is never JSON
            found.append(problem("json-syntax", file=file, line=number,
                                 detail="empty line (one JSON object per line)"))
            return found
        detail = getattr(exc, "msg", None) or (
            "nested too deeply" if isinstance(exc, RecursionError) else str(exc))
        if not ended:
            detail += " (the last line is incomplete: was the file truncated?)"
        column = getattr(exc, "colno", None)
        found.append(problem("json-syntax", file=file, line=number,
                             detail=f"{detail} at column {column}" if column else detail))
        return found
    if not checker.annotation_valid(record):
        schema_found = schema_problems(checker.annotation_schema, record, file, number)
        if schema_found:
            return found + _with_article_guess(schema_found, record, index)
    meaning = annotation_problems(record, file, number, checker, index, state)
    day = record["created"][:10]  # the schema made it an RFC 3339 date-time
    if not EARLIEST_DAY <= day <= checker.latest_day:
        meaning.append(problem(
            "date-out-of-range", file=file, line=number, pointer="/created", field="created",
            value=record["created"], detail=f"before {EARLIEST_DAY}" if day < EARLIEST_DAY
            else f"after tomorrow ({checker.latest_day}, UTC)"))
    return found + meaning if found else meaning


#: Annotation bytes to check line by line from which --jobs > 1 forks workers.
PARALLEL_ANNOTATION_BYTES = 8 << 20


class _Checked(NamedTuple):
    """One annotation file checked line by line."""

    problems: list[Problem]
    suppressed: int
    lines: int
    #: (cache key, entry) when the file had no problem at all, to remember it
    entry: tuple[str, FileEntry] | None


def _check_one(path: Path, corpus: Corpus, checker: Checker, index: ArticleIndex,
               state: AnnotationState, remember: bool,
               on_progress: Callable[[int], None] | None = None) -> _Checked:
    part = Summary()
    lines, judged = state.lines, len(state.judged)
    digest = _name_digest(path) if remember else None
    part.add_capped(check_annotation_file(path, corpus, checker, index, state, on_progress,
                                          digest=digest), display_path(path))
    entry = None
    if digest is not None and not part.problems:  # no problem at all
        # this file's keys are the last ones added (a dict keeps their order)
        pairs = sorted(set(state.pairs(
            itertools.islice(reversed(state.judged), len(state.judged) - judged))))
        depends = depends_digest((aid for _, aid in pairs), index.digests)
        if depends is not None:
            entry = (digest.hexdigest(), FileEntry(state.lines - lines, depends, tuple(pairs)))
    return _Checked(part.problems, part.suppressed, state.lines - lines, entry)


class _Group(NamedTuple):
    """What a worker sends back for a run of consecutive files."""

    checked: list[_Checked]
    #: hash() of every (annotator, article, paragraph) judged (`_key_digest` where the
    #: workers were not forked from one process), for judgements in two groups
    keys: list[int]
    #: the (annotator, article) pairs judged, when a vouched file may share one
    pairs: set[tuple[str, str]]


@dataclass(frozen=True)
class _GroupChecker:
    """_check_one over a run of consecutive files, in a forked worker. It is built
    in the worker by the pool's initializer (paratopics.workers) from the pool's
    initargs, which a forked worker inherits unpickled: the article index, the
    largest thing here, is shared, not copied through a pipe."""

    corpus: Corpus
    checker: Checker
    index: ArticleIndex
    remember: bool
    want_pairs: bool
    stable_keys: bool = False

    def __call__(self, paths: list[Path]) -> _Group:
        state = AnnotationState()
        checked = [_check_one(path, self.corpus, self.checker, self.index, state,
                              self.remember) for path in paths]
        key = _key_digest if self.stable_keys else hash
        return _Group(checked, [key(name) for name in state.names(state.judged)],
                      set(state.pairs(state.judged)) if self.want_pairs else set())


def _key_digest(key: tuple[str, str, int]) -> int:
    """64 bits of a judgement's (annotator, article, paragraph) that every process
    computes alike (hash() of a string differs between processes that were not
    forked from one another, as an engine's workers are not). Two keys with one
    digest only make the run check every file again in one process."""
    annotator, article, index = key
    return int.from_bytes(hashlib.blake2b(f"{annotator}\0{article}\0{index}".encode(),
                                          digest_size=8).digest(), "big")


def check_group_alone(root: str, book: Codebook, index: ArticleIndex, remember: bool,
                      want_pairs: bool, paths: list[str]) -> _Group:
    """A run of consecutive files as a task of an engine (paratopics.engine), whose
    workers run no pool initializer: the task builds its own checker, and reads the
    article records it needs from the storage every node sees."""
    return _GroupChecker(Corpus(Path(root)), Checker(book), index, remember, want_pairs,
                         stable_keys=True)([Path(path) for path in paths])


#: Runs of files an engine's map cuts the annotation files into.
ENGINE_GROUPS = 64


def _groups(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` cut into at most `count` runs of consecutive files of about equal size."""
    sizes = [max(path.stat().st_size, 1) if path.is_file() else 1 for path in paths]
    groups: list[list[Path]] = []
    current: list[Path] = []
    share, filled = sum(sizes) / count, 0.0
    for path, size in zip(paths, sizes, strict=True):
        current.append(path)
        filled += size
        if filled >= share * (len(groups) + 1) and len(groups) < count - 1:
            groups.append(current)
            current = []
    return [*groups, current] if current else groups


def _check_forked(corpus: Corpus, paths: list[Path], checker: Checker, index: ArticleIndex,
                  remember: bool, want_pairs: bool, jobs: int,
                  on_progress: Callable[[int], None] | None) -> list[_Group] | None:
    """The files' results from `jobs` forked workers (they share the index unpickled),
    or None if two groups judge the same paragraph (`_disjoint`)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                             initializer=start_worker,
                             initargs=(os.getpid(), _GroupChecker, corpus, checker, index,
                                       remember, want_pairs)) as pool:
        return _disjoint(pool.map(in_worker, _groups(paths, jobs * 4)), on_progress)


def _check_mapped(mapper: Mapper, corpus: Corpus, paths: list[Path], checker: Checker,
                  index: ArticleIndex, remember: bool, want_pairs: bool,
                  on_progress: Callable[[int], None] | None) -> list[_Group] | None:
    """The files' results from the tasks of `mapper` (an engine's map), the index
    sent to each node once; None as for _check_forked."""
    groups = [[str(path) for path in group] for group in _groups(paths, ENGINE_GROUPS)]
    return _disjoint(mapper(check_group_alone, groups, str(corpus.root), checker.codebook,
                            index, remember, want_pairs), on_progress)


def _disjoint(results: Iterable[_Group], on_progress: Callable[[int], None] | None,
              ) -> list[_Group] | None:
    """The groups, or None if two of them judge the same paragraph: then the first
    judgement and the repeat are in different groups' states, and only one state
    in order words them as a serial run would."""
    groups, lines = [], 0
    for group in results:
        groups.append(group)
        lines += sum(c.lines for c in group.checked)
        if on_progress is not None:
            on_progress(lines)
    seen: set[int] = set()
    for group in groups:
        if not seen.isdisjoint(group.keys):
            return None
        seen.update(group.keys)
    return groups


def check_annotations(corpus: Corpus, paths: list[Path], checker: Checker,
                      index: ArticleIndex, cache: AnnotationCache,
                      on_progress: Callable[[int], None] | None = None,
                      vouch: bool = True, jobs: int = 1, mapper: Mapper | None = None
                      ) -> Summary:
    """The problems and counts of the annotation files `paths`, in order.

    A file the cache vouches for is not read line by line, only counted: it
    has no problem of its own, and can share none with another file unless
    they judge the same (annotator, article) pair. If a vouched file shares a
    pair with another file of the run, every file is checked again, as without
    a cache (the entries made meanwhile stay sound: each file passed alone).
    With `jobs` > 1 and enough to read, the other files are checked in forked
    workers, a run of consecutive files each, or with a `mapper` in its tasks; the
    report is the same.
    """
    vouched = cache.vouched(paths, corpus, index) if vouch else [None] * len(paths)
    todo = [path for path, entry in zip(paths, vouched, strict=True) if entry is None]
    remember, state = cache.path is not None, AnnotationState()
    groups = None
    if mapper is not None and len(todo) > 1:
        groups = _check_mapped(mapper, corpus, todo, checker, index, remember, any(vouched),
                               on_progress)
    elif (jobs > 1 and len(todo) > 1 and "fork" in _start_methods()
            and sum(p.stat().st_size for p in todo if p.is_file()) >= PARALLEL_ANNOTATION_BYTES):
        groups = _check_forked(corpus, todo, checker, index, remember, any(vouched), jobs,
                               on_progress)
    results = iter([c for g in groups for c in g.checked]) if groups is not None else None
    summary = Summary()
    for path, entry in zip(paths, vouched, strict=True):
        summary.annotation_files += 1
        if entry is not None:
            summary.annotation_lines += entry.lines
            continue
        checked = (next(results) if results is not None else
                   _check_one(path, corpus, checker, index, state, remember, on_progress))
        summary.problems += checked.problems
        summary.suppressed += checked.suppressed
        summary.lines_checked += checked.lines
        if checked.entry is not None:
            cache.new[checked.entry[0]] = checked.entry[1]
    pairs = (set().union(*(g.pairs for g in groups)) if groups is not None
             else state.pairs(state.judged))
    if any(vouched) and _judged_twice(vouched, pairs):
        return check_annotations(corpus, paths, checker, index, cache, on_progress,
                                 vouch=False, jobs=jobs, mapper=mapper)
    summary.annotation_lines += summary.lines_checked
    return summary


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _judged_twice(vouched: Sequence[FileEntry | None], checked: Iterable[tuple[str, str]]) -> bool:
    """Whether an (annotator, article) pair of a vouched file is judged in another file
    too: in a vouched one, or in those checked line by line (`checked`)."""
    pairs: set[tuple[str, str]] = set()
    for entry in vouched:
        if entry is not None:
            if not pairs.isdisjoint(entry.judged):
                return True
            pairs.update(entry.judged)
    return any(pair in pairs for pair in checked)
