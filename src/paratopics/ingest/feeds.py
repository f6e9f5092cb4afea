"""Feed files into the corpus: many snapshots of one feed become one record per item.

A feed is fetched again and again, so the same item turns up in many files,
sometimes edited. Each item is one article, identified by its link (else its
guid). Of all its occurrences the one from the file whose channel build date
(`lastBuildDate` / Atom `updated`) is newest wins, ties going to the file name
that sorts last; a stored record is replaced only by a newer occurrence, so
ingesting older snapshots again changes nothing. Items that may not go in
(`readers.feed.exclusion`) are listed with their reason in corpus/excluded/<source>.jsonl,
so every item is accounted for.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from paratopics.corpus.records import Provenance
from paratopics.corpus.store import (
    Corpus,
    atomic_write,
    check_name,
    claim_raw_copy,
    dump_json,
    inside,
    raw_copy_name,
    raw_copy_origin,
    sync_filesystem,
)
from paratopics.errors import ParatopicsError, Problem, problem
from paratopics.ingest.core import (
    MAX_FILE_BYTES,
    Change,
    Draft,
    IngestReport,
    Licensing,
    _parsed,
    compare,
    identity_index,
    identity_of,
    keep_history,
    make_article,
    read_raw,
    record_problems,
    resolve_licence,
    source_folder_name,
)
from paratopics.ingest.readers.feed import (
    Feed,
    FeedItem,
    ItemResult,
    channel_built,
    item_key,
    item_result,
    parse_feed,
)
from paratopics.workers import die_with_parent

FEED_SUFFIXES = frozenset((".rss", ".atom", ".xml"))


def is_feed(path: Path, fmt: str = "auto") -> bool:
    """Whether the feed door reads this file: by --format, else by its suffix."""
    if fmt in {"rss", "atom", "feed"}:
        return True
    return fmt == "auto" and path.suffix.lower() in FEED_SUFFIXES


@dataclass
class FeedFile:
    """One feed file read and parsed into items; made in a worker process.

    The bodies are not cleaned here: most items occur in many snapshots, and
    only each item's newest occurrence is ever cleaned (`_clean`)."""

    path: Path
    raw: bytes = b""
    sha256: str = ""
    built: str = ""
    kind: str = "rss"
    channel: Feed | None = None  # the channel, without its items
    items: list[FeedItem] = field(default_factory=list)
    problem: Problem | None = None

    @property
    def rank(self) -> tuple[str, str]:
        return (self.built, self.path.name)


def read_feed_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> FeedFile:
    """Read and parse one feed file; no corpus access."""
    out = FeedFile(path)
    try:
        raw = read_raw(path, max_bytes)
        check_name(path.name, "source file name")
    except ParatopicsError as exc:
        out.problem = exc.problem
        return out
    try:
        feed = parse_feed(raw)
    except ValueError as exc:
        out.problem = problem("not-a-feed", file=str(path), detail=str(exc))
        return out
    if not feed.items:
        out.problem = problem("not-a-feed", file=str(path), detail="it has no items")
        return out
    out.raw, out.sha256, out.kind = raw, hashlib.sha256(raw).hexdigest(), feed.kind
    out.built = channel_built(raw) or feed.built or ""
    out.items, feed.items = feed.items, []
    out.channel = feed
    return out


@dataclass
class SourceCount:
    """Every item occurrence of one source, accounted for."""

    occurrences: int = 0
    unique: int = 0
    kept: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    problems: int = 0

    @property
    def duplicates(self) -> int:
        return self.occurrences - self.unique


@dataclass
class FeedReport(IngestReport):
    """An ingest report with the accounting of every feed item."""

    sources: dict[str, SourceCount] = field(default_factory=dict)
    older: int = 0  # winners older than what the corpus already holds
    skipped: int = 0  # snapshots the corpus already keeps byte for byte


@dataclass
class _Winner:
    file: FeedFile
    result: ItemResult


@dataclass
class _Newest:
    """The newest occurrence of an item seen so far, not yet cleaned."""

    file: FeedFile
    item: FeedItem


def _take(best: dict[str, _Newest], file: FeedFile, report: FeedReport) -> None:
    """Count a file's item occurrences and keep those newer than what `best` holds.

    Files come in the order given, a later file winning a tie, as always; the
    file then lets go of its items, so only the current newest of each stays
    in memory."""
    assert file.channel is not None
    for item in file.items:
        key = item_key(item, file.channel)
        report.sources.setdefault(key.split("\n", 1)[0], SourceCount()).occurrences += 1
        held = best.get(key)
        if held is None or file.rank >= held.file.rank:
            best[key] = _Newest(file, item)
    file.items = []


def _clean(task: tuple[FeedItem, Feed | None]) -> ItemResult:
    """An item's newest occurrence to a draft, an exclusion or a problem; a task
    holds only the item and its channel, which is all a worker is sent."""
    item, channel = task
    assert channel is not None
    return item_result(item, channel, Draft)


def _tasks(best: dict[str, _Newest]) -> list[tuple[FeedItem, Feed | None]]:
    return [(newest.item, newest.file.channel) for newest in best.values()]


def _winners(best: dict[str, _Newest], results: Iterable[ItemResult],
             report: FeedReport) -> dict[str, _Winner]:
    """Each item's newest occurrence with what it became, counted by source."""
    winners = {key: _Winner(newest.file, result)
               for (key, newest), result in zip(best.items(), results, strict=True)}
    for key, winner in winners.items():
        count = report.sources[key.split("\n", 1)[0]]
        count.unique += 1
        if winner.result.problem:
            count.problems += 1
        elif winner.result.excluded:
            count.excluded[winner.result.excluded] += 1
        else:
            count.kept += 1
    return winners


def _stored_rank(corpus: Corpus, record: dict[str, object], cache: dict[str, str]
                 ) -> tuple[str, str] | None:
    """The (build date, file name) of the snapshot a stored record came from."""
    try:
        rel = str(record["ingested_from"]["path"])  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if rel not in cache:
        path = corpus.root / rel
        try:
            with path.open("rb") as handle:
                cache[rel] = channel_built(handle.read(65536))
        except OSError:
            cache[rel] = ""
    try:
        digest = str(record["ingested_from"]["sha256"])  # type: ignore[index]
    except (KeyError, TypeError):
        digest = ""
    return (cache[rel], raw_copy_origin(rel.rsplit("/", 1)[-1], digest))


def _ledger_path(corpus: Corpus, source: str) -> Path:
    return corpus.root / "excluded" / f"{source_folder_name(source)}.jsonl"


def _ledger_line(winner: _Winner) -> dict[str, object]:
    return {"key": winner.result.key.split("\n", 1)[1], "url": winner.result.link,
            "title": winner.result.title, "reason": winner.result.excluded,
            "file": winner.file.path.name, "built": winner.file.built,
            "item": winner.result.position}


def _write_ledgers(corpus: Corpus, winners: dict[str, _Winner]) -> None:
    """Merge this batch's excluded items into corpus/excluded/<source>.jsonl.

    A line is replaced only by a newer occurrence, and an item that is now
    kept leaves the ledger, so the ledger and the articles never overlap."""
    by_source: dict[str, list[_Winner]] = {}
    for key, winner in winners.items():
        by_source.setdefault(key.split("\n", 1)[0], []).append(winner)
    for source, group in sorted(by_source.items()):
        path = _ledger_path(corpus, source)
        known: dict[str, dict[str, object]] = {}
        before = path.read_bytes() if path.is_file() else None
        for line in (before or b"").decode("utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                known[str(entry["key"])] = entry
        for winner in group:
            entry = _ledger_line(winner)
            old = known.get(str(entry["key"]))
            if old is not None and (str(old["built"]), str(old["file"])) > winner.file.rank:
                continue
            if winner.result.excluded:
                known[str(entry["key"])] = entry
            elif winner.result.draft is not None:
                known.pop(str(entry["key"]), None)
        text = "".join(json.dumps(known[k], ensure_ascii=False, sort_keys=True) + "\n"
                       for k in sorted(known))
        data = text.encode("utf-8")
        if data != before and (data or before is not None):
            atomic_write(path, data, durable=False)


def already_stored(corpus: Corpus, path: Path) -> bool:
    """Whether the corpus keeps this exact snapshot, so a previous ingest read it whole.

    Its items then either won (and are stored from it) or lost to a newer
    snapshot; reading it again can change nothing, unless the door's rules
    changed, which is what --replace is for."""
    sources = corpus.root / "sources"
    try:
        size = path.stat().st_size
        folders = [f for f in sources.iterdir() if f.is_dir() and not f.is_symlink()]
    except OSError:
        return False
    raw: bytes | None = None
    for folder in folders:
        for name in (path.name, None):
            try:
                if name is None:  # the content-addressed name of a snapshot whose name was taken
                    raw = path.read_bytes() if raw is None else raw
                    name = raw_copy_name(path.name, hashlib.sha256(raw).hexdigest())
                stored = folder / name
                if stored.is_file() and not stored.is_symlink() and \
                        stored.stat().st_size == size:
                    raw = path.read_bytes() if raw is None else raw
                    if stored.read_bytes() == raw:
                        return True
            except OSError:
                continue
    return False


def ingest_feeds(corpus: Corpus, paths: list[Path], max_bytes: int = MAX_FILE_BYTES,
                 jobs: int = 1, report: FeedReport | None = None, replace: bool = False,
                 on_progress: Callable[[int, int], None] | None = None,
                 licensing: Licensing | None = None) -> FeedReport:
    """Ingest feed snapshots as one batch: each item once, in its newest version.

    Snapshots the corpus already keeps byte for byte are skipped (counted in
    `report.skipped`) unless `replace`: that is what makes a re-ingest cheap."""
    report = report if report is not None else FeedReport()
    if not replace:
        fresh = [p for p in paths if not already_stored(corpus, p)]
        report.skipped += len(paths) - len(fresh)
        report.files += len(paths) - len(fresh)
        paths = fresh
    read = functools.partial(read_feed_file, max_bytes=max_bytes)
    best: dict[str, _Newest] = {}

    def take(mapped: Iterable[FeedFile]) -> None:
        for file in mapped:
            report.files += 1
            if file.problem is not None:
                report.problems.append(file.problem)
            else:
                _take(best, file, report)
            if on_progress is not None:
                on_progress(report.files, report.paragraphs)

    results: Iterable[ItemResult]
    if jobs > 1 and len(paths) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            take(pool.map(read, paths, chunksize=8))
            results = list(pool.map(_clean, _tasks(best), chunksize=32))
    else:
        take(map(read, paths))
        results = [_clean(task) for task in _tasks(best)]
    winners = _winners(best, results, report)
    best.clear()
    for winner in winners.values():
        if winner.result.problem:
            report.problems.append(problem(
                "feed-item", file=str(winner.file.path), line=winner.result.position,
                item=winner.result.link or f"item {winner.result.position}",
                detail=winner.result.problem))
    _store_winners(corpus, winners, report, licensing)
    return report


def _store_winners(corpus: Corpus, winners: dict[str, _Winner], report: FeedReport,
                   licensing: Licensing | None = None) -> None:
    index = identity_index(corpus)
    ranks: dict[str, str] = {}
    claimed: dict[str, str] = {}  # raw copies chosen in this batch, not yet written
    copies: dict[tuple[Path, str], str | Problem] = {}
    # per raw file: the records to write, so each file is written before its records
    plan: dict[Path, list[tuple[str, bytes | None, bytes]]] = {}
    rels: dict[Path, str] = {}
    for key in sorted(winners):
        winner = winners[key]
        draft = winner.result.draft
        if not isinstance(draft, Draft):
            continue
        file = winner.file
        try:
            resolve_licence(draft, licensing)
        except ParatopicsError as exc:
            refused = exc.problem
            report.problems.append(Problem(
                refused.code, f"{refused.message}; item {winner.result.link or draft.record}",
                str(file.path), draft.record, refused.pointer, refused.hint))
            continue
        folder = source_folder_name(draft.source)
        if (file.path, folder) not in copies:
            try:
                copies[file.path, folder] = claim_raw_copy(corpus.root, folder, file.path.name,
                                                           file.sha256, claimed)
            except ParatopicsError as exc:
                copies[file.path, folder] = dataclasses.replace(exc.problem,
                                                                file=str(file.path))
                report.problems.append(copies[file.path, folder])  # type: ignore[arg-type]
        rel = copies[file.path, folder]
        if not isinstance(rel, str):
            continue
        article = make_article(draft, Provenance(path=rel, sha256=file.sha256,
                                                 format=file.kind, record=draft.record))
        found = record_problems(article, str(file.path), draft.record)
        if found:
            report.problems.extend(found)
            continue
        aid = article["article_id"]
        stored_id = index.get(identity_of(aid))
        if stored_id is not None:
            article["article_id"] = aid = stored_id
        old_path = corpus.article_path(aid)
        old = old_path.read_bytes() if old_path.is_file() else None
        data = dump_json(article)
        if old is not None:
            before = _parsed(old)
            stored = _stored_rank(corpus, before or {}, ranks)  # type: ignore[arg-type]
            if stored is not None and stored > file.rank:
                report.older += 1
                report.changes.append(Change(aid, "unchanged"))
                continue
        index[identity_of(aid)] = aid
        report.paragraphs += len(article["paragraphs"])
        plan.setdefault(file.path, []).append((aid, old, data))
        rels[file.path] = rel
    files = {w.file.path: w.file for w in winners.values()}
    wrote = False
    for path in sorted(plan, key=lambda p: files[p].rank):
        file = files[path]
        target = corpus.root / rels[path]
        if target.is_symlink() or not inside(corpus.root, target):
            report.problems.append(problem("unsafe-path", file=str(path),
                                           detail=f"{rels[path]} is a symlink or leads out "
                                           "of the corpus; nothing was written"))
            continue
        previous = target.read_bytes() if target.is_file() else None
        if previous is not None and previous != file.raw:
            report.problems.append(problem(
                "feed-name-taken", file=str(path), other=rels[path]))
            continue
        if previous is None:
            atomic_write(target, file.raw, durable=False)
            wrote = True
        for aid, old, data in plan[path]:
            if old == data:
                report.changes.append(Change(aid, "unchanged"))
                continue
            before = _parsed(old) if old is not None else None
            after = json.loads(data)
            if before is not None:
                keep_history(corpus, before, after)
            atomic_write(corpus.article_path(aid), data, durable=False)
            wrote = True
            report.changes.append(Change(aid, "new") if before is None
                                  else compare(before, after))
    _write_ledgers(corpus, winners)
    if wrote:
        sync_filesystem(corpus.root)


def accounting_rows(report: FeedReport) -> list[dict[str, object]]:
    """One row per source: every occurrence and unique item accounted for."""
    rows = []
    for source, count in sorted(report.sources.items()):
        rows.append({"source": source, "occurrences": count.occurrences,
                     "duplicates_merged": count.duplicates, "unique": count.unique,
                     "ingested": count.kept, "excluded": dict(sorted(count.excluded.items())),
                     "problems": count.problems})
    return rows
