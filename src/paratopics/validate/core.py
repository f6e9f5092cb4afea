"""Validation of article records and annotation files: the schema, then the meaning.

Every problem is collected, not just the first, each with file, line, JSON
pointer, message and hint (see errors.CATALOG). Annotation files are read as a
stream of lines with a cap on line length, so a file of millions of lines or
one enormous line is checked in bounded memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import errno
import hashlib
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from paratopics import codebook as codebook_module
from paratopics.codebook import Codebook, load_json_resource
from paratopics.corpus.config import codebook_for
from paratopics.corpus.records import (
    BODY_SEPARATOR,
    EARLIEST_DATE,
    LEGACY_ARTICLE_SCHEMAS,
    Annotation,
    Article,
)
from paratopics.corpus.store import (
    Corpus,
    atomic_write,
    folder_inside,
    inside,
    load_json,
    sha256_file,
)
from paratopics.errors import ParatopicsError, Problem, index_range, problem
from paratopics.fingerprint import fingerprint as code_fingerprint
from paratopics.ingest.core import metadata_problems
from paratopics.ingest.normalize import is_normalized, sha256_text
from paratopics.ingest.readers.base import wide_encoding
from paratopics.schema_check import validator_for
from paratopics.validate.fastschema import Check, compile_schema
from paratopics.workers import die_with_parent

#: An engine's map (paratopics.engine): `mapper(func, items, *shared)` runs
#: `func(*shared, item)` for each item, wherever it likes, and yields the results in order.
Mapper = Callable[..., Iterable[Any]]

#: Annotation lines longer than this are reported and skipped unread.
MAX_ANNOTATION_LINE_BYTES = 1024 * 1024
#: Problems of one code listed per annotation file; the rest are only counted.
MAX_LISTED_PER_CODE = 1000
_CHUNK = 1 << 16
EARLIEST_DAY = EARLIEST_DATE.isoformat()


def make_validator(schema_name: str) -> Draft202012Validator:
    """A validator with the spec's (ECMA 262) pattern semantics: see schema_check."""
    return validator_for(load_json_resource(schema_name))


def fast_path(validator: Draft202012Validator) -> Check:
    """True only for records jsonschema finds valid (see fastschema); else ask jsonschema."""
    assert validator.format_checker is not None
    compiled = compile_schema(validator.schema, validator.format_checker)
    return compiled if compiled is not None else (lambda record: False)


#: Schema keywords that do not affect validity.
_NOTES = frozenset({"description", "title", "$comment", "examples", "default"})


def inline_schema(node: object, root: dict[str, object] | None = None) -> object:
    """`node` with local `$ref`s replaced by their targets and `oneOf: [S, null]` by S
    admitting null: the same valid records, in keywords fastschema compiles.

    The rewrite is sound because S's own keywords (pattern, length, format) never
    reject null and the two branches of the oneOf never both hold. Any other
    shape raises ValueError, and jsonschema then checks every record as before.
    """
    root = root if root is not None else node  # type: ignore[assignment]
    if isinstance(node, list):
        return [inline_schema(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if set(node) - {"$ref", "description"} or not str(ref).startswith("#/$defs/"):
            raise ValueError(f"$ref {ref!r} next to other keywords or not local")
        target = root["$defs"][str(ref).removeprefix("#/$defs/")]  # type: ignore[index]
        return inline_schema(target, root)
    out = {k: inline_schema(v, root) for k, v in node.items() if k not in ("$defs", "oneOf")}
    if "oneOf" in node:
        branches = [inline_schema(b, root) for b in node["oneOf"]]
        nulls = [b for b in branches if b == {"type": "null"}]
        others = [b for b in branches if b != {"type": "null"}]
        if len(nulls) != 1 or len(others) != 1 or not isinstance(others[0], dict) or (
                others[0].get("type") not in ("string", "integer", "number", "object",
                                              "array", "boolean")) or (
                set(out) & set(others[0])) - _NOTES:
            raise ValueError("oneOf other than [schema of one non-null type, null]")
        out.update(others[0])
        out["type"] = [others[0]["type"], "null"]
    return out


def article_fast_path(validator: Draft202012Validator) -> Check:
    """fast_path for the article schema, which uses $ref and a nullable oneOf."""
    assert validator.format_checker is not None
    try:
        schema = inline_schema(validator.schema)
    except (ValueError, KeyError, TypeError):
        return lambda record: False
    compiled = compile_schema(schema, validator.format_checker)  # type: ignore[arg-type]
    return compiled if compiled is not None else (lambda record: False)


@dataclass
class Checker:
    """What validation needs to know, built once per run."""

    codebook: Codebook
    article_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("article.schema.json"))
    annotation_schema: Draft202012Validator = field(
        default_factory=lambda: make_validator("annotation.schema.json"))
    #: answers "certainly valid" for most lines at a tenth of jsonschema's cost
    annotation_valid: Check = field(init=False)
    #: the same for article records (whose schema is first inlined, see article_fast_path)
    article_valid: Check = field(init=False)
    #: earlier article schema versions still read: version -> (validator, fast path)
    legacy_articles: dict[str, tuple[Draft202012Validator, Check]] = field(init=False)
    #: per raw source file of this run: "outside", "missing" or its sha256 (source_problems)
    source_states: dict[str, str] = field(default_factory=dict)
    #: article record files parsed as JSON this run (the cache spares the others)
    records_parsed: int = 0
    #: the latest judgement date accepted (tomorrow, UTC), fixed for the run
    latest_day: str = field(default_factory=lambda: (
        dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)).isoformat())

    #: ids a label may be: a class of the paragraphs config (level 2 or a project
    #: node) that is not retired; level-1 topics are derived, never labelled
    active_labels: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.annotation_valid = fast_path(self.annotation_schema)
        self.article_valid = article_fast_path(self.article_schema)
        self.legacy_articles = {}
        for version, name in LEGACY_ARTICLE_SCHEMAS.items():
            validator = make_validator(name)
            self.legacy_articles[version] = (validator, article_fast_path(validator))
        self.active_labels = frozenset(
            code for code in self.codebook.label_ids if not self.codebook.is_retired(code))


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{part}" for part in error.absolute_path) or "/"


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def schema_problems(validator: Draft202012Validator, record: object, file: str,
                    line: int | None = None) -> list[Problem]:
    found = []
    for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
        detail = error.message
        pointer = _pointer(error)
        missing = _REQUIRED.match(detail) if error.validator == "required" else None
        if missing:  # point at where the field belongs, and name it
            where = "the record" if pointer == "/" else f"the object at {pointer}"
            detail = f"{where} has no '{missing[1]}', a required field"
            pointer = pointer.rstrip("/") + "/" + missing[1]
        elif len(detail) > 300:
            detail = f"{_short(error.instance)} does not match the schema ({error.validator})"
        found.append(problem("schema", file=file, line=line, pointer=pointer, detail=detail))
    return found


def _with_article_guess(found: list[Problem], record: object,
                        index: ArticleIndex) -> list[Problem]:
    """A malformed article_id (cut short, say) gets the id it most likely meant."""
    wanted = record.get("article_id") if isinstance(record, dict) else None
    if not isinstance(wanted, str):
        return found
    out = []
    for p in found:
        guess = suggest_article(wanted, index.digests) if p.pointer == "/article_id" else None
        out.append(dataclasses.replace(p, hint=f"Did you mean '{guess}'? {p.hint}")
                   if guess else p)
    return out


# -- articles -----------------------------------------------------------------


def article_problems(article: Article, file: str, checker: Checker,
                     expected_id: str | None = None) -> list[Problem]:
    """Schema and internal consistency of one article record (no I/O)."""
    version = article.get("schema_version") if isinstance(article, dict) else None
    version = version if isinstance(version, str) else None
    schema, valid = checker.legacy_articles.get(
        version, (checker.article_schema, checker.article_valid))
    found = [] if valid(article) else schema_problems(schema, article, file)
    if found:
        return found
    if version in checker.legacy_articles:
        found.append(dataclasses.replace(
            problem("legacy-record", file=file, pointer="/schema_version", version=version),
            severity="warning"))
    aid = article["article_id"]
    if expected_id is not None and aid != expected_id:
        found.append(problem("article-id-mismatch", file=file, pointer="/article_id",
                             detail=f"the record's id {aid!r} is not its file name "
                             f"{expected_id!r}"))
    for where in ("title", "section"):
        value = article[where]
        if value is not None and not is_normalized(value):
            found.append(problem("not-normalized", file=file, pointer=f"/{where}", where=where))
    found += metadata_problems(article, file)
    offset = 0
    for position, para in enumerate(article["paragraphs"]):
        pointer = f"/paragraphs/{position}"
        if para["index"] != position:
            found.append(problem("paragraph-offsets", file=file, pointer=f"{pointer}/index",
                                 index=para["index"], detail=f"index should be {position}"))
        if not is_normalized(para["text"]):
            found.append(problem("not-normalized", file=file, pointer=f"{pointer}/text",
                                 where=f"paragraph {position}"))
        actual = sha256_text(para["text"])
        if actual != para["sha256"]:
            found.append(problem("paragraph-hash", file=file, pointer=f"{pointer}/sha256",
                                 index=position, stored=para["sha256"][:12] + "…",
                                 actual=actual[:12] + "…"))
        end = offset + len(para["text"])
        if (para["start"], para["end"]) != (offset, end):
            found.append(problem("paragraph-offsets", file=file, pointer=f"{pointer}/start",
                                 index=position,
                                 detail=f"start/end are {para['start']}/{para['end']}, "
                                 f"expected {offset}/{end}"))
        offset = end + len(BODY_SEPARATOR)
    return found


def source_state(corpus: Corpus, rel: str) -> str:
    """"outside", "missing", or the sha256 of the raw file at corpus-relative `rel`."""
    path = corpus.root / rel
    if not inside(corpus.root, path):
        return "outside"
    if not path.is_file():
        return "missing"
    return sha256_file(path)


def source_problems(article: Article, corpus: Corpus, file: str,
                    states: dict[str, str] | None = None) -> list[Problem]:
    """The raw file the record came from is still there, unchanged.

    `states` remembers each raw file's state for one run: a JSON Lines source
    holds thousands of articles, and hashing it once per article made
    validation quadratic.
    """
    provenance = article["ingested_from"]
    return provenance_problems(provenance["path"], provenance["sha256"], corpus, file, states)


def provenance_problems(rel: str, sha256: str, corpus: Corpus, file: str,
                        states: dict[str, str] | None = None) -> list[Problem]:
    """source_problems from the record's `ingested_from` path and sha256 alone, as a
    cached record gives them without being parsed."""
    state = states.get(rel) if states is not None else None
    if state is None:
        state = source_state(corpus, rel)
        if states is not None:
            states[rel] = state
    if state == "outside":
        return [problem("unsafe-path", file=file, pointer="/ingested_from/path",
                        detail=f"{rel} leads outside the corpus")]
    if state == "missing":
        return [problem("source-missing", file=file, pointer="/ingested_from/path",
                        detail=f"raw file {rel} is missing")]
    if state != sha256:
        return [problem("source-missing", file=file, pointer="/ingested_from/sha256",
                        detail=f"raw file {rel} has changed since ingest")]
    return []


def hash_list_digest(hashes: list[str]) -> str:
    """One digest of an article's paragraph hashes, in order: what a cached annotation
    file remembers of each article it judges, to notice any paragraph changing."""
    try:
        text = orjson.dumps(hashes)
    except orjson.JSONEncodeError:  # a lone surrogate, in a faulty record: json writes it
        text = json.dumps(hashes).encode()
    return hashlib.sha256(text).hexdigest()


#: Stands in for what a record file no longer holds when it is read again.
CHANGED = "(the record changed during validation)"


class _OnDemand(dict[str, list[str]]):
    """One field of every paragraph ("sha256" or "text") by article id, read from the
    record file when first asked for: most texts are never needed (a million are
    ~400 MB), and a record vouched for by the cache is not parsed at all."""

    def __init__(self, key: str, paths: dict[str, tuple[str, int]],
                 digests: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.key = key
        #: per article id, its record file and paragraph count (shared by both fields)
        self.paths = paths
        #: if given, the hash_list_digest the values must have (else the record changed)
        self.digests = digests

    def __missing__(self, aid: str) -> list[str]:
        if aid not in self.paths:
            raise KeyError(aid)
        path, count = self.paths[aid]
        try:
            values = [p[self.key] for p in json.loads(Path(path).read_bytes())["paragraphs"]]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            values = []
        if not all(isinstance(v, str) for v in values) or (
                self.digests is not None and hash_list_digest(values) != self.digests.get(aid)):
            values = []
        # as many as when the record was checked, even if it changed since
        values = values[:count] + [CHANGED] * (count - len(values))
        self[aid] = values
        return values


@dataclass
class ArticleIndex:
    """Per article, its paragraphs' hashes and texts: what annotations are checked against.

    `hashes` and `texts` are read from the record file on first use when the
    record was indexed without them (add_record); `digests` is always there,
    so whether a cached annotation file still holds costs no record read.
    """

    history: Path | None = None
    paths: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: per article id, hash_list_digest of its paragraph hashes
    digests: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, list[str]] = field(init=False)
    texts: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.hashes = _OnDemand("sha256", self.paths, self.digests)
        self.texts = _OnDemand("text", self.paths)

    def judged_text(self, article_id: str, sha256: str) -> str | None:
        """The superseded text with hash `sha256`, if ingest kept it in history/."""
        if self.history is None:
            return None
        path = self.history / f"{article_id}.jsonl"
        if not path.is_file():
            return None
        with path.open(encoding="utf-8") as handle:
            for text in handle:
                entry = json.loads(text)
                if entry.get("sha256") == sha256:
                    return str(entry.get("text"))
        return None

    def add_record(self, article_id: str, path: Path | str, count: int, digest: str,
                   hashes: list[str] | None = None) -> None:
        """Index the record at `path` with `count` paragraphs whose hashes have
        hash_list_digest `digest`; without `hashes`, they are read when first needed."""
        self.paths[article_id] = (str(path), count)
        self.digests[article_id] = digest
        self.texts.pop(article_id, None)
        if hashes is None:
            self.hashes.pop(article_id, None)
        else:
            self.hashes[article_id] = hashes

    def add(self, article: Article, path: Path | None = None) -> None:
        """Index `article`; given the `path` it was read from, its texts are read
        again only if a stale judgement needs one."""
        aid = article["article_id"]
        hashes = [p["sha256"] for p in article["paragraphs"]]
        if path is not None:
            self.add_record(aid, path, len(hashes), hash_list_digest(hashes), hashes)
            return
        self.paths.pop(aid, None)
        self.digests[aid] = hash_list_digest(hashes)
        self.hashes[aid] = hashes
        self.texts[aid] = [p["text"] for p in article["paragraphs"]]


def read_json_file(path: Path, file: str) -> tuple[object | None, list[Problem]]:
    return parse_json_bytes(path.read_bytes(), file)


def parse_json_bytes(raw: bytes, file: str) -> tuple[object | None, list[Problem]]:
    try:
        return load_json(raw), []
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        wide = wide_encoding(raw[:512])
        if wide is not None:
            return None, [problem("utf16-file", file=file, encoding=wide)]
        if isinstance(exc, UnicodeDecodeError):
            return None, [problem("not-utf8", file=file, offset=exc.start, detail=exc.reason)]
        return None, [problem("json-syntax", file=file, line=exc.lineno, detail=exc.msg)]
    except RecursionError:
        return None, [problem("json-syntax", file=file, detail="nested too deeply")]
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return None, [problem("json-syntax", file=file, detail=str(exc))]


def _display_in(path: Path | str, folders: dict[str, str], link: bool | None = None) -> str:
    """display_path, resolving each folder once rather than every file in it.

    A file that is not a symlink resolves to its resolved folder plus its
    name, so both give the same text; resolving cost more than reading the file.
    `link` says whether `path` is a symlink, if the caller already asked.
    """
    if os.path.islink(path) if link is None else link:
        return display_path(Path(path))
    folder, name = os.path.split(path)
    base = folders.get(folder)
    if base is None:
        base = folders[folder] = display_path(Path(folder))
    return name if base == "." else f"{base.rstrip('/')}/{name}"


# -- the cache ---------------------------------------------------------------

_CACHE_HEAD = b"paratopics-cache"
_Entry = TypeVar("_Entry")


def read_cache_lines(path: Path) -> list[str]:
    """The lines of a cache file; none if it is missing, unreadable or damaged.

    Its first line holds the sha256 of the rest, so a torn, truncated or edited
    file is ignored whole instead of being trusted in part.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return []
    head, _, body = data.partition(b"\n")
    if head != _CACHE_HEAD + b"\t" + hashlib.sha256(body).hexdigest().encode():
        return []
    try:
        text = body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return []
    return text.split("\n")[:-1]


def read_cache_rows(path: Path) -> list[list[str]]:
    """The tab-separated rows of a cache file (see read_cache_lines)."""
    return [line.split("\t") for line in read_cache_lines(path)]


def cache_lines(rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows as cache lines, tab-separated. A row with a tab or newline in a field is
    left out: it would not read back."""
    rows = list(rows)
    lines = ["\t".join(row) for row in rows]
    text = "\n".join(lines)
    # one count over the whole text; row by row only when some field has a tab or newline
    if (text.count("\n") != len(lines) - 1
            or text.count("\t") != sum(len(row) for row in rows) - len(rows)):
        lines = [line for line, row in zip(lines, rows, strict=True)
                 if line.count("\t") == len(row) - 1 and "\n" not in line]
    return lines


def write_cache_lines(path: Path, lines: Sequence[str]) -> None:
    """Replace the cache file at `path` by `lines`, atomically; a cache that cannot
    be written is no cache, never an error."""
    body = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
    data = _CACHE_HEAD + b"\t" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    with contextlib.suppress(ParatopicsError, OSError):
        atomic_write(path, data, durable=False)


class RecordEntry(NamedTuple):
    """What a record that passed the record checks tells the rest of validation."""

    article_id: str
    paragraphs: int
    #: hash_list_digest of its paragraph hashes
    hash_list: str
    #: its `ingested_from` path and sha256, checked against the raw file every run
    source_path: str
    source_sha256: str


@dataclass
class ValidCache:
    """Article record files known to pass the record checks, by the sha256 of their
    name and bytes, each with what the rest of validation needs of the record.

    A record found here is read and hashed but not parsed: the entry gives its
    id, paragraph count and hash-list digest for the index, and its provenance
    for the raw source check, which runs every time because a source can change
    under a valid record.

    Lives in $PARATOPICS_CACHE (default: ~/.cache/paratopics), never in the
    corpus, and is safe to delete. Being keyed by content, a partial run only
    adds to it; a whole-corpus run keeps only the files it saw, so that it does
    not grow with every edit. Its name carries a fingerprint of the schema and
    of the code that decides validity, so a change to either starts a fresh
    cache instead of trusting a stale one.
    """

    path: Path | None = None
    #: digest -> its line in the cache file, made an entry (record_entry) only when
    #: its record is met: loading a 100k-record cache is then one split per line
    known: Mapping[str, str] = field(default_factory=dict)
    #: records that passed the checks this run and were not known
    new: dict[str, RecordEntry] = field(default_factory=dict)
    #: known records found this run
    seen: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> ValidCache:
        return cls(path, {line.partition("\t")[0]: line for line in read_cache_lines(path)})

    def save(self, prune: bool = False) -> None:
        """Add this run's records; `prune` (after a whole-corpus run) also drops the
        records not seen in it. Known lines are written back as they were read."""
        if self.path is None:
            return
        kept = [line for digest, line in self.known.items()
                if digest not in self.new and (not prune or digest in self.seen)]
        if not self.new and len(kept) == len(self.known):
            return
        added = cache_lines([digest, e.article_id, str(e.paragraphs), e.hash_list,
                             e.source_path, e.source_sha256] for digest, e in self.new.items())
        write_cache_lines(self.path, sorted(kept + added))


def record_entry(line: str) -> RecordEntry | None:
    """A cache line as an entry; None if it is of another shape (written by other
    code): its record is then checked as if it were not in the cache."""
    fields = line.split("\t")
    if len(fields) != 6 or not (fields[2].isascii() and fields[2].isdigit()):
        return None
    return RecordEntry(fields[1], int(fields[2]), fields[3], fields[4], fields[5])


def _kept(path: Path | None, known: Mapping[str, _Entry], new: Mapping[str, _Entry],
          seen: set[str] | None) -> list[tuple[str, _Entry]] | None:
    """The entries a cache file should hold after a run, sorted; None if unchanged."""
    kept = {k: e for k, e in known.items() if k in seen} if seen is not None else known
    if path is None or (not new and len(kept) == len(known)):
        return None
    return sorted({**kept, **new}.items())


def cache_fingerprint() -> str:
    """Names the article cache: all of the package's code and schemas, and the
    libraries deciding a record's validity."""
    return code_fingerprint(("ftfy", "jsonschema"))


def cache_dir() -> Path:
    chosen = os.environ.get("PARATOPICS_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paratopics"


def open_cache() -> ValidCache:
    return ValidCache.load(cache_dir() / f"valid-articles-{cache_fingerprint()}.txt")


def file_key(path: Path) -> str:
    """What both caches key a file by: sha256 of its name, a NUL and its bytes (the
    name matters: a record's id must be its file name)."""
    digest = _name_digest(path)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _name_digest(path: Path | str) -> hashlib._Hash:
    name = os.path.basename(os.fspath(path))
    return hashlib.sha256(name.encode("utf-8", "surrogateescape") + b"\0")


# -- checking the article record files ----------------------------------------


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_record(name: str, unsafe: bool) -> tuple[int | None, bool]:
    """(a descriptor open on the file, or None; whether it is a symlink), never
    opening one in an `unsafe` folder. O_NOFOLLOW tells a symlink apart in the
    call that opens a plain file: no system call to look first, and no moment
    between looking and opening in which the file could become a link."""
    if unsafe or not _NOFOLLOW:
        return None, os.path.islink(name)
    try:
        return os.open(name, os.O_RDONLY | _NOFOLLOW), False
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        return None, True


def _read_all(fd: int) -> bytes:
    """Every byte of the open file `fd`, which is then closed: read in one call sized
    by fstat, as FileIO.readall does, without making a file object per record."""
    try:
        want = os.fstat(fd).st_size + 1  # one more: a short read is the end
        parts = []
        while True:
            part = os.read(fd, want)
            parts.append(part)
            if len(part) < want:
                return b"".join(parts)
            want = 1 << 16  # the file grew since fstat
    finally:
        os.close(fd)


def check_articles(corpus: Corpus, paths: Iterable[Path | str], checker: Checker,
                   index: ArticleIndex, cache: ValidCache | None = None) -> Iterator[Problem]:
    # paths as text, Path objects only where needed: building 100,000 of them cost
    # as much as a warm run's reading and hashing
    folders: dict[str, str] = {}
    unsafe_folders: dict[str, bool] = {}
    cache = cache or ValidCache()
    for path in paths:
        name = os.fspath(path)
        folder = os.path.dirname(name)
        unsafe = unsafe_folders.get(folder)
        if unsafe is None:
            unsafe = unsafe_folders[folder] = (Path(folder) == corpus.articles and not
                                               folder_inside(corpus.root, Path(folder)))
        fd, link = _open_record(name, unsafe)
        if unsafe or (link and not inside(corpus.root, Path(name))):
            # never read an outside file (a hostile checkout can commit such a link)
            file = _display_in(name, folders, link)
            yield problem("unsafe-path", file=file,
                          detail=f"{file} is a symlink or leads outside the corpus")
            continue
        if fd is None:  # a link that stays inside the corpus
            fd = os.open(name, os.O_RDONLY)
        raw = _read_all(fd)
        digest = _name_digest(name)
        digest.update(raw)
        key = digest.hexdigest()
        line = cache.known.get(key)
        entry = record_entry(line) if line is not None else None
        if entry is not None:  # passed before: index it unparsed, check only its source
            cache.seen.add(key)
            index.add_record(entry.article_id, name, entry.paragraphs, entry.hash_list)
            if checker.source_states.get(entry.source_path) != entry.source_sha256:
                yield from provenance_problems(entry.source_path, entry.source_sha256, corpus,
                                               _display_in(name, folders, link),
                                               checker.source_states)
            continue
        file = _display_in(name, folders, link)
        checker.records_parsed += 1
        record, found = parse_json_bytes(raw, file)
        if not found:  # any JSON, null too (the schema refuses it)
            stem = os.path.splitext(os.path.basename(name))[0]
            found = article_problems(record, file, checker, expected_id=stem)  # type: ignore[arg-type]
        hashes = _paragraph_hashes(record)
        if hashes is None:  # not even indexable, so certainly not valid
            yield from found
            continue
        # even a faulty record is indexed, so that its judgements are not all
        # reported again as judgements of an unknown article
        article: Article = record  # type: ignore[assignment]
        listed = hash_list_digest(hashes)
        index.add_record(article["article_id"], name, len(hashes), listed, hashes)
        if not found:
            provenance = article["ingested_from"]
            cache.new[key] = RecordEntry(article["article_id"], len(hashes), listed,
                                         provenance["path"], provenance["sha256"])
            found = source_problems(article, corpus, file, checker.source_states)
        yield from found


def _paragraph_hashes(record: object) -> list[str] | None:
    """The paragraph hashes of a record that can be indexed (maybe a faulty one), else None."""
    if not isinstance(record, dict) or not isinstance(record.get("article_id"), str):
        return None
    paragraphs = record.get("paragraphs")
    if not isinstance(paragraphs, list) or not all(
            isinstance(p, dict) and isinstance(p.get("sha256"), str)
            and isinstance(p.get("text"), str) for p in paragraphs):
        return None
    return [p["sha256"] for p in paragraphs]


#: add_record's arguments, as a worker sends them back
_Record = tuple[str, str, int, str, list[str] | None]


@dataclass
class _Worker:
    """A worker process's own state for one pool: its Checker (so each raw source
    is hashed once per worker, not once per chunk) and the cache's known records."""

    checker: Checker | None = None
    known: Mapping[str, str] = field(default_factory=dict)


_WORKER = _Worker()


def _start_worker(known: Mapping[str, str], book: Codebook, parent: int | None = None
                  ) -> None:
    """Prepare a worker; in a pool of this process (`parent` given), tie it to it."""
    if parent is not None:
        die_with_parent(parent)
    _WORKER.checker = Checker(book)
    _WORKER.known = known


def _check_chunk(root: str, paths: list[str]
                 ) -> tuple[list[Problem], list[_Record], dict[str, tuple[Any, ...]], set[str],
                            int]:
    """check_articles in a worker: its problems, records to index, new and seen cache
    entries (as plain tuples: a named tuple pickles at three times the cost), and how
    many records it parsed."""
    checker = _WORKER.checker
    assert checker is not None, "_start_worker sets it"
    parsed = checker.records_parsed
    index = _Collected()
    cache = ValidCache(known=_WORKER.known)
    problems = list(check_articles(Corpus(Path(root)), paths, checker,
                                   index, cache))
    new = {key: tuple(entry) for key, entry in cache.new.items()}
    return problems, index.records, new, cache.seen, checker.records_parsed - parsed


@dataclass
class _Collected(ArticleIndex):
    """An index that only lists what it is given, to send back from a worker."""

    records: list[_Record] = field(default_factory=list)

    def add_record(self, article_id: str, path: Path | str, count: int, digest: str,
                   hashes: list[str] | None = None) -> None:
        self.records.append((article_id, str(path), count, digest, hashes))


def check_chunk_alone(known: Mapping[str, str], book: Codebook, root: str, paths: list[str]
                      ) -> tuple[list[Problem], list[_Record], dict[str, tuple[Any, ...]],
                                 set[str], int]:
    """_check_chunk as a task of an engine (paratopics.engine), whose workers no
    pool initializer prepares."""
    _start_worker(known, book)
    return _check_chunk(root, paths)


#: Chunks an engine's map cuts the article records into (at least MIN_ENGINE_CHUNK each).
ENGINE_CHUNKS, MIN_ENGINE_CHUNK = 64, 200


def check_articles_parallel(corpus: Corpus, paths: Sequence[Path | str], checker: Checker,
                            index: ArticleIndex, cache: ValidCache, jobs: int,
                            mapper: Mapper | None = None) -> Iterator[Problem]:
    """check_articles over `jobs` processes, or over the tasks of `mapper` (an
    engine's map), with the same output in the same order."""
    if mapper is not None and paths:
        size = max(MIN_ENGINE_CHUNK, -(-len(paths) // ENGINE_CHUNKS))
        chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, len(paths), size)]
        yield from _collect(mapper(check_chunk_alone, chunks, cache.known, checker.codebook,
                                   str(corpus.root)), checker, index, cache)
        return
    if jobs <= 1 or len(paths) < 2000:
        yield from check_articles(corpus, paths, checker, index, cache)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(500, -(-len(paths) // (jobs * 4)))
    chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker,
                             initargs=(cache.known, checker.codebook, os.getpid())) as pool:
        yield from _collect(pool.map(_check_chunk, [str(corpus.root)] * len(chunks), chunks),
                            checker, index, cache)


def _collect(results: Iterable[tuple[list[Problem], list[_Record], dict[str, tuple[Any, ...]],
                                     set[str], int]],
             checker: Checker, index: ArticleIndex, cache: ValidCache) -> Iterator[Problem]:
    """What the chunks' workers found, taken in as if checked here, in chunk order."""
    for problems, records, new, seen, parsed in results:
        for record in records:
            index.add_record(*record)
        cache.new.update((key, RecordEntry(*entry)) for key, entry in new.items())
        cache.seen |= seen
        checker.records_parsed += parsed
        yield from problems


# -- annotations --------------------------------------------------------------


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


def suggest_article(wanted: str, ids: Iterable[str]) -> str | None:
    """The article id a short or mistyped `wanted` most likely meant: the one id it
    begins, else the id with its hash (the last 10 hex digits), else the closest."""
    known = list(ids)
    starting = sorted(aid for aid in known if aid.startswith(wanted))
    if wanted and len(starting) == 1:
        return starting[0]
    tail = wanted.rsplit("-", 1)[-1]
    if len(tail) == 10:
        same = sorted(aid for aid in known if aid.endswith("-" + tail))
        if len(same) == 1:
            return same[0]
    # bounded: only ids that share the first letters are compared
    near = [aid for aid in known if aid[:4] == wanted[:4]] if len(known) > 5000 else known
    close = difflib.get_close_matches(wanted, near, n=1, cutoff=0.8)
    return close[0] if close else None


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


# -- the whole corpus ---------------------------------------------------------


def display_path(path: Path) -> str:
    """Paths as people typed them: relative to the current folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Summary:
    articles: int = 0
    annotation_files: int = 0
    annotation_lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: errors counted but not listed (see MAX_LISTED_PER_CODE)
    suppressed: int = 0
    #: work done, not part of the report: article record files parsed and annotation
    #: lines read one by one (the caches spare the rest)
    records_parsed: int = 0
    lines_checked: int = 0

    @property
    def errors(self) -> int:
        listed = sum(1 for p in self.problems
                     if p.severity == "error" and p.code != "more-problems")
        return listed + self.suppressed

    def add_capped(self, found: Iterable[Problem], file: str) -> None:
        """List at most MAX_LISTED_PER_CODE problems of each code from one file.

        A file of ten million bad lines then costs constant memory and a
        readable report; the rest are counted and summarized in one line.
        """
        listed: dict[str, int] = {}
        for p in found:
            n = listed[p.code] = listed.get(p.code, 0) + 1
            if n <= MAX_LISTED_PER_CODE:
                self.problems.append(p)
            elif p.severity == "error":
                self.suppressed += 1
        self.problems += [problem("more-problems", file=file, count=n - MAX_LISTED_PER_CODE,
                                  kind=code)
                          for code, n in listed.items() if n > MAX_LISTED_PER_CODE]


def codebook_problems(codebook: Codebook) -> list[Problem]:
    validator = make_validator("codebook.schema.json")
    data = load_json_resource("codebook.json")
    found = schema_problems(validator, data, "schema/codebook.json")
    found += [problem("codebook", file="schema/codebook.json", detail=d)
              for d in codebook_module.tree_problems(codebook)]
    return found


class FileEntry(NamedTuple):
    """An annotation file that had no problem: what it adds to a run unread."""

    lines: int
    #: depends_digest of the articles it judges, as they were when it passed
    depends: str
    #: the (annotator, article id) pairs it judges, sorted
    judged: tuple[tuple[str, str], ...]


def depends_digest(article_ids: Iterable[str], digests: Mapping[str, str]) -> str | None:
    """One digest over the paragraph hashes of the articles `article_ids`; None if
    one of them is not in the index."""
    ids = sorted(set(article_ids))
    try:
        values = list(map(digests.__getitem__, ids))
    except KeyError:
        return None
    text = "".join(line + "\n" for line in map("\t".join, zip(ids, values, strict=True)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class AnnotationCache:
    """Annotation files that had no problem at all, by the sha256 of name and bytes.

    Such a file still has none as long as the articles it judges have the same
    paragraph hashes (its entry's `depends`) and none of its judgements is
    repeated in another file (check_annotations sees to both); the schema and
    the active labels are in the cache's name (annotation_fingerprint). Same
    place and rules as ValidCache.
    """

    path: Path | None = None
    known: dict[str, FileEntry] = field(default_factory=dict)
    #: files that passed this run and were not known
    new: dict[str, FileEntry] = field(default_factory=dict)
    #: known files vouched for this run
    seen: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> AnnotationCache:
        known: dict[str, FileEntry] = {}
        try:
            for key, lines, depends, *flat in read_cache_rows(path):
                pairs = tuple(zip(flat[::2], flat[1::2], strict=True))  # ValueError if odd
                known[key] = FileEntry(int(lines), depends, pairs)
        except ValueError:  # a row of another shape: written by other code, ignore it all
            known = {}
        return cls(path, known)

    def save(self, prune: bool = False) -> None:
        """As ValidCache.save."""
        entries = _kept(self.path, self.known, self.new, self.seen if prune else None)
        if self.path is not None and entries is not None:
            write_cache_lines(self.path, cache_lines(
                [key, str(e.lines), e.depends, *(part for pair in e.judged for part in pair)]
                for key, e in entries))

    def vouched(self, paths: Sequence[Path], corpus: Corpus, index: ArticleIndex
                ) -> list[FileEntry | None]:
        """The entry of each file that passed before and still does alone (else None):
        same name and bytes, in the corpus, judging articles whose paragraphs have
        not changed. The files are hashed by a few threads (hashing and reading
        release the GIL), as 300 files of 1.8 million lines are 0.5 GB."""
        if not self.known:
            return [None] * len(paths)
        inner = [path for path in paths if inside(corpus.annotations, path)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys = dict(zip(inner, pool.map(file_key, inner), strict=True))
        found: list[FileEntry | None] = []
        for path in paths:
            key = keys.get(path)  # None: not in the corpus's annotations/, never vouched
            entry = None if key is None else self.known.get(key)
            if key is not None and entry is not None and entry.depends == depends_digest(
                    (aid for _, aid in entry.judged), index.digests):
                self.seen.add(key)
                found.append(entry)
            else:
                found.append(None)
        return found


def annotation_fingerprint(checker: Checker) -> str:
    """Names the annotation cache: what names the article cache, plus the annotation
    schema and the labels the codebook in use allows, all else that a verdict of
    "no problem" depends on (so a codebook given by the caller counts, not the file)."""
    digest = hashlib.sha256(cache_fingerprint().encode())
    digest.update(json.dumps(checker.annotation_schema.schema, sort_keys=True).encode())
    digest.update("\n".join(sorted(checker.active_labels)).encode())
    return digest.hexdigest()[:16]


def open_annotation_cache(checker: Checker) -> AnnotationCache:
    return AnnotationCache.load(
        cache_dir() / f"valid-annotations-{annotation_fingerprint(checker)}.txt")


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
    #: hash() of every (annotator, article, paragraph) judged, for judgements in two groups
    keys: list[int]
    #: the (annotator, article) pairs judged, when a vouched file may share one
    pairs: set[tuple[str, str]]


#: What forked workers inherit: (corpus, checker, index, remember, want pairs).
_FORKED: list[tuple[Corpus, Checker, ArticleIndex, bool, bool]] = []


def _check_group(paths: list[Path]) -> _Group:
    corpus, checker, index, remember, want_pairs = _FORKED[-1]
    state = AnnotationState()
    checked = [_check_one(path, corpus, checker, index, state, remember) for path in paths]
    return _Group(checked, [hash(key) for key in state.names(state.judged)],
                  set(state.pairs(state.judged)) if want_pairs else set())


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
    or None if two groups judge the same paragraph: then the first judgement and the
    repeat are in different workers' states, and only one state in order words them
    as a serial run would."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _FORKED.append((corpus, checker, index, remember, want_pairs))
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            groups, lines = [], 0
            for group in pool.map(_check_group, _groups(paths, jobs * 4)):
                groups.append(group)
                lines += sum(c.lines for c in group.checked)
                if on_progress is not None:
                    on_progress(lines)
    finally:
        _FORKED.pop()
    seen: set[int] = set()
    for group in groups:
        if not seen.isdisjoint(group.keys):
            return None
        seen.update(group.keys)
    return groups


def check_annotations(corpus: Corpus, paths: list[Path], checker: Checker,
                      index: ArticleIndex, cache: AnnotationCache,
                      on_progress: Callable[[int], None] | None = None,
                      vouch: bool = True, jobs: int = 1) -> Summary:
    """The problems and counts of the annotation files `paths`, in order.

    A file the cache vouches for is not read line by line, only counted: it
    has no problem of its own, and can share none with another file unless
    they judge the same (annotator, article) pair. If a vouched file shares a
    pair with another file of the run, every file is checked again, as without
    a cache (the entries made meanwhile stay sound: each file passed alone).
    With `jobs` > 1 and enough to read, the other files are checked in forked
    workers, a run of consecutive files each; the report is the same.
    """
    vouched = cache.vouched(paths, corpus, index) if vouch else [None] * len(paths)
    todo = [path for path, entry in zip(paths, vouched, strict=True) if entry is None]
    remember, state = cache.path is not None, AnnotationState()
    groups = None
    if (jobs > 1 and len(todo) > 1 and "fork" in _start_methods()
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
                                 vouch=False, jobs=jobs)
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


def validate_corpus(corpus: Corpus, paths: list[Path] | None = None,
                    codebook: Codebook | None = None,
                    on_progress: Callable[[int], None] | None = None,
                    jobs: int = 1, use_cache: bool = True,
                    mapper: Mapper | None = None) -> Summary:
    """Check the corpus, or only `paths` (articles are always indexed for annotations).

    With a `mapper` (an engine's map, paratopics.engine) article records are
    checked in its tasks instead of `jobs` processes.

    Article records, and annotation files read line by line, go through `jobs`
    processes. Records whose bytes passed
    before are not parsed again (see ValidCache), and annotation files that
    passed before are not read again while the articles they judge are
    unchanged (see AnnotationCache). The report is the same whatever `jobs`
    and whatever the caches hold.
    """
    book = codebook or codebook_for(corpus.root)
    checker = Checker(book)
    cache = open_cache() if use_cache else ValidCache()
    summary = Summary(problems=codebook_problems(book))
    index = ArticleIndex(history=corpus.history)
    all_articles = corpus.article_paths()
    if paths is None:
        article_paths: list[Path] | list[str] = all_articles
        try:
            annotation_paths = corpus.annotation_files()
        except ParatopicsError as exc:
            summary.problems.append(exc.problem)
            annotation_paths = []
        summary.problems += [
            problem("annotation-misplaced", file=display_path(path), detail=(
                "in a subfolder of annotations/: never read" if path.parent != corpus.annotations
                else f"named {path.suffix}, not .jsonl: never read"))
            for path in corpus.stray_annotations()]
    else:
        article_paths = [p for p in paths if p.suffix == ".json"]
        annotation_paths = [p for p in paths if p.suffix == ".jsonl"]
    summary.problems += list(check_articles_parallel(corpus, article_paths, checker, index,
                                                     cache, jobs, mapper))
    summary.articles = len(article_paths)
    if annotation_paths and paths is not None:
        named = {Path(p).resolve() for p in article_paths}
        rest = [p for p in all_articles if Path(p).resolve() not in named]
        for _ in check_articles_parallel(corpus, rest, checker, index, cache, jobs, mapper):
            pass  # problems in articles not asked about are not reported here
    cache.save(prune=paths is None)
    summary.records_parsed = checker.records_parsed
    if annotation_paths:
        notes = open_annotation_cache(checker) if use_cache else AnnotationCache()
        found = check_annotations(corpus, annotation_paths, checker, index, notes, on_progress,
                                  jobs=jobs)
        notes.save(prune=paths is None)
        summary.problems += found.problems
        summary.suppressed += found.suppressed
        summary.annotation_files = found.annotation_files
        summary.annotation_lines = found.annotation_lines
        summary.lines_checked = found.lines_checked
    return summary
