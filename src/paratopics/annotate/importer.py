"""`paratopics annotations import`: a Label Studio export into annotation lines.

The export is streamed (ijson), one task at a time, so a gigabyte export costs
the memory of one task plus the judgements kept; every problem is collected,
and the output file is written (atomically) only when there is none. What is
written passes `paratopics validate`: labels are active level-2 or project ids,
the paragraph still has the text that was judged, nobody judges a paragraph
twice, and annotators are named by the public ids of the map file, never by a
Label Studio e-mail address.

Re-importing an export changes nothing; a later export of the same judgement
(same paragraph, same annotator) replaces its line unless the line already
holds a newer judgement.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson
import orjson

from paratopics.annotate import label_studio
from paratopics.codebook import Codebook
from paratopics.corpus.records import Annotation
from paratopics.corpus.store import Corpus, atomic_write
from paratopics.errors import Problem, fail, index_range, problem

#: `\Z`, not `$`: `$` also matches before a final newline ("annotator-01\n").
ANNOTATOR_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
SHA_RE = re.compile(r"^[0-9a-f]{64}\Z")
MAX_PROBLEMS = 100  # listed; the rest are counted
FIELD_ORDER = ("article_id", "paragraph_index", "paragraph_sha256", "labels", "annotator",
               "role", "created", "confidence", "note")
Key = tuple[str, int, str]


@dataclass
class Report:
    """What an import read and did; `problems` empty means it was written."""

    tasks: int = 0
    annotations: int = 0
    cancelled: int = 0
    drafts: int = 0
    predictions: int = 0
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    kept_newer: int = 0
    written: bool = False
    problems: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, found: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(found)
        else:
            self.more += 1


# -- the annotator map --------------------------------------------------------


def read_map(path: Path) -> dict[str, str]:
    """Label Studio user id or e-mail (lowercased) -> public annotator id, from a TSV."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail("read-failed", file=str(path), detail=str(exc)) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) != 2 or not parts[0]:
            raise fail("bad-field", file=str(path), line=number, field="map line",
                       detail="is not two tab-separated columns: a Label Studio user id or "
                       "e-mail, then the public annotator id")
        if not ANNOTATOR_RE.match(parts[1]) or "@" in parts[1]:
            raise fail("bad-field", file=str(path), line=number, field=parts[1],
                       detail="is not a public annotator id (lowercase letters, digits, "
                       "'.', '_' or '-', no e-mail address)")
        out[parts[0].lower()] = parts[1]
    return out


# -- reading the export -------------------------------------------------------


def _first_byte(handle: io.BufferedReader) -> bytes:
    """The first byte that is not whitespace or a byte-order mark, without consuming it."""
    while True:
        chunk = handle.peek(64)[:64]
        if not chunk:
            return b""
        stripped = chunk.lstrip(b" \t\r\n")
        if stripped.startswith(b"\xef\xbb\xbf"):
            handle.read(len(chunk) - len(stripped) + 3)
            continue
        if stripped:
            return stripped[:1]
        handle.read(len(chunk))


def _objects(path: Path, shown: str) -> Iterator[tuple[str, object]]:
    """(where, object) of every task or annotation in one file, streamed."""
    with path.open("rb") as handle:
        first = _first_byte(handle)
        if first not in (b"[", b"{"):
            detail = "the file is empty" if not first else (
                f"it starts with {first.decode('latin-1')!r}, not '[' or '{{'")
            raise fail("json-syntax", file=shown, detail=f"{detail}; a Label Studio JSON "
                       "export is a list of tasks")
        prefix = "item" if first == b"[" else ""
        count = 0
        try:
            for count, item in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
                yield (f"item {count}" if prefix else ""), item
        except ijson.JSONError as exc:
            raise fail("json-syntax", file=shown, detail=f"{exc} after {count} complete "
                       "item(s); export the project again (the file is cut short or is "
                       "not JSON)") from None
        except UnicodeDecodeError as exc:
            raise fail("not-utf8", file=shown, offset=exc.start, detail=exc.reason) from None


def export_objects(path: Path) -> Iterator[tuple[str, str, object]]:
    """(file shown, where, object) of an export file or a target storage folder."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise fail("not-label-studio", file=str(path), detail="the folder holds no files")
        for file in files:
            for where, item in _objects(file, str(file)):
                yield str(file), where, item
        return
    for where, item in _objects(path, str(path)):
        yield str(path), where, item


def _task_of(item: object) -> tuple[dict[str, Any], list[Any]] | None:
    """(task, its annotations) of a task object (JSON export, task-per-file storage) or
    an annotation object with its task inside (annotation-per-file storage)."""
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("data"), dict):
        annotations = item.get("annotations", [])
        return (item, annotations) if isinstance(annotations, list) else None
    if "result" in item and isinstance(item.get("task"), dict) and isinstance(
            item["task"].get("data"), dict):
        return item["task"], [item]
    return None


# -- the corpus's side --------------------------------------------------------


class Paragraphs:
    """Current paragraph hashes by article, read from the corpus as tasks need them."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.hashes: dict[str, tuple[tuple[str, str], ...] | None] = {}

    def of(self, article_id: str) -> tuple[tuple[str, str], ...] | None:
        if article_id not in self.hashes:
            try:
                path = self.corpus.article_path(article_id)
                record = orjson.loads(path.read_bytes()) if path.is_file() else None
            except Exception:  # an id that is no safe file name is no article either
                record = None
            self.hashes[article_id] = None if record is None else tuple(
                (p["sha256"], p["text"]) for p in record["paragraphs"])
        return self.hashes[article_id]


def _short(text: str, size: int = 80) -> str:
    return repr(text if len(text) <= size else text[:size] + "…")


def _paragraph_problem(data: dict[str, Any], paragraphs: Paragraphs, where: dict[str, Any]
                       ) -> Problem | None:
    aid = data.get("article_id")
    index = data.get("paragraph_index")
    sha = data.get("paragraph_sha256")
    if not isinstance(aid, str) or not aid:
        return problem("task-fields", field="article_id", **where)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        return problem("task-fields", field="paragraph_index", **where)
    if not isinstance(sha, str) or not SHA_RE.match(sha):
        return problem("task-fields", field="paragraph_sha256", **where)
    found = paragraphs.of(aid)
    if found is None:
        return problem("unknown-article", article_id=aid, suggestion="", **where)
    if index >= len(found):
        return problem("unknown-paragraph", article_id=aid, index=index, count=len(found),
                       indexes=index_range(len(found)), **where)
    current_sha, text = found[index]
    if current_sha != sha:
        return problem("stale-annotation", article_id=aid, index=index,
                       judged=sha[:12] + "…", current=f"{current_sha[:12]}… {_short(text)}",
                       **where)
    return None


# -- import -------------------------------------------------------------------


def _record(data: dict[str, Any], labels: list[str], annotator: str, created: str,
            adjudicator: bool, note: str | None) -> Annotation:
    record: Annotation = {
        "article_id": data["article_id"], "paragraph_index": data["paragraph_index"],
        "paragraph_sha256": data["paragraph_sha256"], "labels": labels,
        "annotator": annotator, "created": created}
    if adjudicator:
        record["role"] = "adjudicator"
    if note:
        record["note"] = note
    return record


def read_export(path: Path, corpus: Corpus, codebook: Codebook, people: dict[str, str],
                report: Report) -> dict[Key, Annotation]:
    """Every valid judgement of the export by (article, paragraph, annotator); problems
    go to `report`."""
    paragraphs = Paragraphs(corpus)
    found: dict[Key, Annotation] = {}
    seen: dict[Key, str] = {}
    missing: dict[str, None] = {}
    for shown, where_item, item in export_objects(path):
        pair = _task_of(item)
        if pair is None:
            report.add(problem("not-label-studio", file=shown, pointer=where_item,
                               detail="this item is neither a task (with 'data') nor an "
                               "annotation (with 'result' and its 'task')"))
            continue
        task, annotations = pair
        report.tasks += 1
        report.drafts += len(task.get("drafts") or [])
        report.predictions += len(task.get("predictions") or [])
        tid = task.get("id", "?")
        bad_task = _paragraph_problem(task["data"], paragraphs,
                                      {"file": shown, "pointer": f"task {tid}"})
        if bad_task is not None:
            report.add(bad_task)
            continue
        data = task["data"]
        for position, annotation in enumerate(annotations):
            if not isinstance(annotation, dict):
                report.add(problem("not-label-studio", file=shown, pointer=f"task {tid}",
                                   detail=f"annotation {position} is not an object"))
                continue
            label = f"task {tid} annotation {annotation.get('id', position)}"
            where: dict[str, Any] = {"file": shown, "pointer": label}
            if annotation.get("was_cancelled"):
                report.cancelled += 1
                continue
            report.annotations += 1
            result = label_studio.read_result(annotation.get("result"), codebook, where)
            for bad in result.problems:
                report.add(bad)
            created = label_studio.timestamp(annotation)
            if created is None:
                report.add(problem("bad-field", field="updated_at", detail="is missing or "
                                   "not a date-time (nor is created_at)", **where))
            uid, email = label_studio.person(annotation.get("completed_by"))
            public = people.get(uid or "") or people.get((email or "").lower())
            if public is None:
                who = " ".join(filter(None, [f"user {uid}" if uid else None,
                                             f"<{email}>" if email else None])) or (
                    "an annotation without completed_by")
                missing[who] = None
                continue
            key = (data["article_id"], data["paragraph_index"], public)
            if key in seen:
                report.add(problem("duplicate-judgement", annotator=public,
                                   index=key[1], article_id=key[0],
                                   other=f"{seen[key]} of this export", **where))
                continue
            seen[key] = label
            if result.problems or created is None:
                continue
            found[key] = _record(data, result.labels, public, created,
                                 bool(annotation.get("ground_truth")), result.note)
    if missing:
        report.add(problem("unmapped-annotator", file=str(path), count=len(missing),
                           who=", ".join(missing)))
    return found


def _read_lines(path: Path, shown: str) -> Iterator[tuple[int, Annotation]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
                (record["article_id"], record["paragraph_index"], record["annotator"])
            except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                raise fail("json-syntax", file=shown, line=number,
                           detail=f"{exc}; fix the line (`paratopics validate` shows all "
                           "problems) before importing into this corpus") from None
            yield number, record


def _key(record: Annotation) -> Key:
    return (record["article_id"], record["paragraph_index"], record["annotator"])


def clashes(corpus: Corpus, out: Path, found: dict[Key, Annotation], report: Report) -> None:
    """Judgements the corpus already holds in other files for the same annotator and
    paragraph: validate would refuse the second one."""
    target = out.resolve()
    for path in corpus.annotation_files():
        if path.resolve() == target:
            continue
        shown = corpus.relative(path)
        for number, record in _read_lines(path, shown):
            key = _key(record)
            if key in found:
                report.add(problem("duplicate-judgement", file=str(out), annotator=key[2],
                                   index=key[1], article_id=key[0],
                                   other=f"{shown}:{number}"))


def _ordered(record: Annotation) -> dict[str, object]:
    return {k: record[k] for k in FIELD_ORDER if k in record}  # type: ignore[literal-required]


def merge(existing: dict[Key, Annotation], found: dict[Key, Annotation], report: Report
          ) -> dict[Key, Annotation]:
    merged = dict(existing)
    for key, record in found.items():
        old = existing.get(key)
        if old is None:
            report.new += 1
        elif _ordered(old) == _ordered(record):
            report.unchanged += 1
            continue
        elif str(old.get("created", "")) > record["created"]:
            report.kept_newer += 1
            continue
        else:
            report.replaced += 1
        merged[key] = record
    return merged


def render(records: dict[Key, Annotation]) -> bytes:
    lines = [orjson.dumps(_ordered(records[key])) + b"\n" for key in sorted(records)]
    return b"".join(lines)


def import_export(path: Path, out: Path, corpus: Corpus, codebook: Codebook,
                  people: dict[str, str]) -> Report:
    """Read, check, merge and write; nothing is written unless every judgement is valid."""
    report = Report()
    found = read_export(path, corpus, codebook, people, report)
    if report.problems:
        return report
    clashes(corpus, out, found, report)
    if report.problems:
        return report
    existing = ({_key(r): r for _, r in _read_lines(out, str(out))} if out.is_file() else {})
    data = render(merge(existing, found, report))
    if not out.is_file() or out.read_bytes() != data:
        atomic_write(out, data)
        report.written = True
    return report
