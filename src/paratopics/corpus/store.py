"""The corpus folder on disk: its layout, safe paths, atomic writes and the lock.

Everything that touches the file system for the corpus goes through here, so
that no command can write half a file or a file outside the corpus.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from paratopics.corpus.config import find_corpus as find_corpus
from paratopics.errors import fail
from paratopics.corpus.records import Article

#: A lock older than this whose owner cannot be checked is taken over.
STALE_LOCK_SECONDS = 3600
#: An empty or garbled lock file (left by a killed writer) is taken over after this.
UNREADABLE_LOCK_SECONDS = 10


@dataclass(frozen=True)
class Corpus:
    root: Path

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def annotations(self) -> Path:
        return self.root / "annotations"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def history(self) -> Path:
        """Superseded paragraph texts, so a stale judgement can show what was judged."""
        return self.root / "history"

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def article_path(self, article_id: str) -> Path:
        return check_inside(self.root, safe_join(self.articles, f"{article_id}.json"))

    def article_files(self) -> list[Path]:
        return [Path(name) for name in self.article_paths()]

    def article_paths(self) -> list[str]:
        """article_files as text, in the same order (what `glob("*.json")` lists):
        a Path costs more than the listing, and 100k articles make 100k of them."""
        folder = str(self.articles)
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.name.endswith(".json"))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [os.path.join(folder, name) for name in names]

    def annotation_files(self) -> list[Path]:
        """The judgement files: `*.jsonl` directly in annotations/ (see stray_annotations).
        A symlinked annotations/ leading out of the corpus is refused, as articles/ and
        sources/ are: a hostile checkout must not make a build read outside files."""
        if not self.annotations.is_dir():
            return []
        if not folder_inside(self.root, self.annotations):
            raise fail("unsafe-path", file=str(self.annotations),
                       detail=f"{self.annotations} is a symlink leading outside {self.root}; "
                       "refusing to read it")
        return sorted(self.annotations.glob("*.jsonl"))

    def stray_annotations(self) -> list[Path]:
        """Files in annotations/ that look like judgements but are never read: in a
        subfolder, or named .JSONL, .json or .ndjson (hidden files aside)."""
        looks = {".jsonl", ".json", ".ndjson"}
        found: list[Path] = []
        if not self.annotations.is_dir() or not folder_inside(self.root, self.annotations):
            return found
        for folder, dirs, files in os.walk(self.annotations):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            top = Path(folder) == self.annotations
            for name in sorted(files):
                suffix = os.path.splitext(name)[1]
                if name.startswith(".") or suffix.lower() not in looks:
                    continue
                if not top or suffix != ".jsonl":
                    found.append(Path(folder) / name)
        return found


#: The corpus's own folders. None may be a symlink: through one, a command would
#: read records from, or write releases, raw copies and history to, a folder that is
#: not the corpus's (and sweep or replace files there).
CORPUS_FOLDERS = ("sources", "articles", "annotations", "releases", "history", "scores")


def check_folders(corpus: Corpus) -> Corpus:
    """`corpus`, unless one of its folders is a symlink: then an unsafe-path error."""
    for name in CORPUS_FOLDERS:
        path = corpus.root / name
        if path.is_symlink():
            raise fail("unsafe-path", file=str(path),
                       detail=f"{path} is a symlink (to {os.readlink(path)}); a corpus's "
                       f"folders must be its own: replace the link with the folder itself")
    return corpus


#: Longest file name accepted, in UTF-8 bytes: room under NAME_MAX (255) for the
#: hidden temporary name that atomic_write puts beside it.
MAX_NAME_BYTES = 200


def check_name(name: str, what: str) -> str:
    """Refuse names that could address anything but one entry of one folder."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: a file name that was not UTF-8
        raise fail("unsafe-path", detail=f"{what} {name!r} is not valid UTF-8") from None
    bad = (
        not name
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or name in {".", ".."}
        or name.startswith(".")
        or os.path.isabs(name)
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    )
    if bad:
        raise fail("unsafe-path", detail=f"{what} {name!r} is not a safe file name")
    if size > MAX_NAME_BYTES:
        raise fail("unsafe-path", detail=f"{what} {name[:40]!r}... is {size} bytes long, "
                   f"over the limit of {MAX_NAME_BYTES}")
    return name


def safe_join(folder: Path, name: str) -> Path:
    return folder / check_name(name, "name")


def inside(root: Path, path: Path) -> bool:
    """True when `path`, symlinks resolved, lies within `root`."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def folder_inside(root: Path, folder: Path) -> bool:
    """`inside`, remembered per folder: checked once per run, not once per file."""
    return inside(root, folder)


def check_inside(root: Path, path: Path) -> Path:
    """`path`, if writing or reading it stays in `root`; else an unsafe-path error.

    Refuses a symlink at `path` itself and a folder on the way that is a symlink
    leading out (a hostile checkout can commit either), so that nothing is
    written outside the corpus and no outside file is read into a record.
    """
    if path.is_symlink() or not folder_inside(root, path.parent):
        raise fail("unsafe-path", file=str(path),
                   detail=f"{path} is a symlink or leads outside {root}; refusing to use it")
    return path


#: Hex digits of the content hash added to a raw copy's name when its plain name is taken.
RAW_HASH_CHARS = 16


def raw_copy_name(name: str, digest: str) -> str:
    """`name` with the content hash before its suffix: `story.json` -> `story.<hash>.json`.

    Used when the plain name already holds other bytes (a file of the same name from
    another folder, or a source that folds to the same folder), so that no raw copy
    ever replaces another one that a stored record names.
    """
    suffix = os.path.splitext(name)[1]
    stem = name[: len(name) - len(suffix)]
    tag = f".{digest[:RAW_HASH_CHARS]}{suffix}"
    while stem and len((stem + tag).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return f"{stem or 'file'}{tag}"


def raw_copy_origin(name: str, digest: str) -> str:
    """The input file name a raw copy stands for: `name` without its content hash."""
    tag = f".{digest[:RAW_HASH_CHARS]}"
    at = name.rfind(tag)
    if at <= 0:
        return name
    rest = name[at + len(tag):]
    return name[:at] + rest if rest == "" or rest.startswith(".") else name


def claim_raw_copy(root: Path, folder: str, name: str, digest: str,
                   claimed: dict[str, str] | None = None) -> str:
    """The corpus-relative path where the raw bytes with sha256 `digest` are (to be) kept.

    The plain name `sources/<folder>/<name>` when it is free or already holds these
    bytes, else the name with the content hash (`raw_copy_name`). `claimed` maps paths
    chosen earlier in the same batch, not yet written, to their digests. Never returns
    a path that holds other bytes: a raw copy is never overwritten.
    """
    tried = []
    for candidate in (name, raw_copy_name(name, digest)):
        rel = f"sources/{folder}/{candidate}"
        tried.append(rel)
        target = root / rel
        if target.is_symlink() or not inside(root, target):
            raise fail("unsafe-path", detail=f"{rel} is a symlink or leads out of the "
                       "corpus; nothing was written")
        held = (claimed or {}).get(rel)
        if held is not None:
            if held == digest:
                return rel
            continue
        if not os.path.lexists(target):
            if claimed is not None:
                claimed[rel] = digest
            return rel
        try:
            if target.is_file() and sha256_file(target) == digest:
                return rel
        except OSError:
            continue
    raise fail("raw-name-taken", other=tried[0], hashed=tried[1])


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    A reader sees the old content or the new, never a mix, even if the process
    is killed; a failed write (disk full, permission denied) leaves the old
    content in place. `durable` also survives power loss by fsyncing file and
    folder; batch writers pass False and call `sync_filesystem` once at the end,
    since an fsync per small file costs more than all the rest of ingest.
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a planted symlink at the temporary name must not redirect the write.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise fail("write-failed", file=str(path),
                   detail=f"could not write: {exc.strerror}; nothing was changed") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        reason = exc.strerror or str(exc)
        raise fail("write-failed", file=str(path),
                   detail=f"could not write: {reason}; nothing was changed") from None
    except BaseException:  # Ctrl-C mid-write: leave no temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def sync_filesystem(path: Path) -> None:
    """Flush every pending write of the file system holding `path` (one syncfs)."""
    libc_syncfs = getattr(os, "syncfs", None)
    if libc_syncfs is None:
        try:
            import ctypes

            libc_syncfs = ctypes.CDLL(None, use_errno=True).syncfs
        except (OSError, AttributeError):
            os.sync()
            return
    fd = os.open(path, os.O_RDONLY)
    try:
        libc_syncfs(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_files(paths: Iterable[Path], threads: int = 4, run: int = 256) -> list[str]:
    """sha256_file of each path, in order: reading and hashing release the GIL,
    so a few threads overlap the many small reads of a large corpus (twice as fast
    from disk, slower from the page cache). The threads take the paths in runs of
    `run`: Executor.map makes a future per item, all at once, which for 100,000
    articles raised a build's peak by 67 MB and, from the page cache, took 1.8x
    the time."""
    todo = list(paths)
    runs = [todo[i:i + run] for i in range(0, len(todo), run)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [digest for done in pool.map(_sha256_run, runs) for digest in done]


def _sha256_run(paths: list[Path]) -> list[str]:
    return [sha256_file(path) for path in paths]


def dump_json(record: object) -> bytes:
    """The one JSON layout for records in the corpus: stable, readable in diffs.

    Byte-identical to `json.dumps(record, ensure_ascii=False, indent=2) + "\\n"`,
    written by orjson because the standard library's indenting encoder is pure
    Python and was the largest single cost of ingest.
    """
    return orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


#: Every byte to "0" if it is a digit, else to " ": a run of digits becomes a run of "0".
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
#: orjson reads an integer beyond 64 bits as a float; such integers have 19+ digits.
_LONG_DIGIT_RUN = b"0" * 19
#: orjson nests deeper than json, which raises RecursionError near the recursion
#: limit; valid JSON nested this deep is at least twice as many bytes long.
_MAX_FAST_DEPTH = 250


#: What precedes the colon of every key in JSON text (and, rarely, a string value's
#: content): more of these than keys parsed means a key may be repeated.
_KEY_COLON = re.compile(rb'"[ \t\r\n]*:')


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259): write a number or null")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is too large for a JSON number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object "
                             "(JSON readers disagree on which value counts)")
        out[key] = value
    return out


def strict_json(text: str) -> Any:
    """json.loads, refusing what RFC 8259 leaves undefined or does not allow: a
    key repeated in one object (json keeps the last, other readers the first),
    NaN and Infinity, and numbers too large for a float."""
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant,
                      parse_float=_finite)


def _key_count(value: dict[str, Any] | list[Any]) -> int:
    """Keys in every object of a value orjson parsed, which holds plain dicts and
    lists only: compared by type and summed in a loop, this guard costs about a
    third of what isinstance and a generator cost, on every record read."""
    count = 0
    if type(value) is dict:
        count = len(value)
        value = list(value.values())
    for item in value:
        if type(item) is dict or type(item) is list:
            count += _key_count(item)
    return count


def load_json(raw: bytes) -> Any:
    """Exactly `strict_json(raw.decode("utf-8"))`, the same value or the same error,
    but faster (1.2x on an article record, 1.6x on a judgement line, guards
    included): by orjson where it is sure to agree.

    orjson differs in four ways, each sent to strict_json instead: it reads integers
    of more than 64 bits as floats (input with a run of 19 digits), nests deeper
    (input with many brackets), keeps the last of repeated keys (input with more
    key-like `"...":` than the keys parsed), and refuses what json allows (lone
    surrogates, a byte-order mark), so its errors are never the ones reported.
    """
    return _load_json(raw, repeated_keys=True)


def load_validated_json(raw: bytes) -> Any:
    """`load_json` for a record that validation reads as well, before anything made
    of it is published (the build's inputs): a repeated key is refused there, so
    it is not looked for again here, which spares about half of load_json's time
    on an article record. Where validation passes, the value is load_json's."""
    return _load_json(raw, repeated_keys=False)


def _load_json(raw: bytes, repeated_keys: bool) -> Any:
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS) and (
            len(raw) <= 2 * _MAX_FAST_DEPTH
            or raw.count(b"[") + raw.count(b"{") <= _MAX_FAST_DEPTH):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if not repeated_keys or len(_KEY_COLON.findall(raw)) <= (
                    _key_count(value) if type(value) is dict or type(value) is list else 0):
                return value
    return strict_json(raw.decode("utf-8"))


def write_article(corpus: Corpus, article: Article, *, durable: bool = True) -> None:
    atomic_write(corpus.article_path(article["article_id"]), dump_json(article),
                 durable=durable)


def read_article(corpus: Corpus, article_id: str) -> Article | None:
    path = corpus.article_path(article_id)
    if not path.is_file():
        return None
    record: Article = json.loads(path.read_text(encoding="utf-8"))
    return record


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_start(pid: int) -> str | None:
    """When `pid` started (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _lock_is_stale(info: dict[str, object], lock: Path | None = None) -> bool:
    """A lock whose owner is gone: dead (or reused) pid here, too old elsewhere.

    An empty or garbled lock file can only be left by a process killed while
    writing it (ours are created complete), so it is stale after a short grace.
    """
    if not info:
        try:
            age = time.time() - lock.stat().st_mtime if lock is not None else 0.0
        except OSError:
            return True
        return age > UNREADABLE_LOCK_SECONDS
    try:
        pid = int(info.get("pid", 0))  # type: ignore[call-overload]
        age = time.time() - float(info.get("since", 0))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    if info.get("host") == socket.gethostname():
        if not _pid_alive(pid):
            return True
        started, now = info.get("started"), _process_start(pid)
        return started is not None and now is not None and started != now
    return age > STALE_LOCK_SECONDS


def _read_lock(lock: Path) -> dict[str, object]:
    try:
        held = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return held if isinstance(held, dict) else {}


#: How long to wait for another process to finish taking or releasing the lock.
GUARD_PATIENCE_SECONDS = 2.0


@contextlib.contextmanager
def _guard(folder: Path) -> Iterator[bool]:
    """Serialize lock-file check-and-set with a kernel lock on the corpus folder.

    The kernel drops it when its process dies, so it never goes stale; it makes
    "read the lock, find it stale, take it over" atomic between two contenders.
    Yields False if another process keeps it longer than GUARD_PATIENCE_SECONDS
    (stopped, say, with Ctrl-Z, mid-way through taking the lock): the caller then
    counts the lock as held instead of blocking without a word. Where flock is
    unavailable (True, unguarded) the lock file alone still excludes most races.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Windows
        yield True
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield True
        return
    try:
        deadline = time.monotonic() + GUARD_PATIENCE_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                got = False
            except OSError:  # flock not supported on this file system
                got = True
            if got or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        yield got
    finally:
        os.close(fd)


def _create_lock(lock: Path, info: dict[str, object]) -> bool:
    """Create `lock` holding `info` in one step; False if it already exists.

    The content is written to a private file first and hard-linked into place,
    so no reader ever sees an empty lock, even if this process is killed.
    """
    tmp = lock.with_name(f"{lock.name}.{os.getpid()}.tmp")
    data = json.dumps(info).encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(tmp, lock)
            return True
        except FileExistsError:
            return False
        except OSError:  # no hard links here: exclusive create, then write
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return True
    except OSError as exc:
        raise fail("write-failed", file=str(lock),
                   detail=f"could not create the lock: {exc.strerror}; nothing was changed",
                   ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def sweep_temporaries(corpus: Corpus) -> int:
    """Remove hidden `.NAME.PID.tmp` files that killed writers left; returns how many.

    Called with the corpus lock held, when no other writer can be mid-write, so
    every such file is dead. They are invisible to readers (dot files), but
    would otherwise pile up, one per crash.
    """
    folders = [corpus.root, corpus.articles, corpus.releases, corpus.history]
    if corpus.sources.is_dir() and not corpus.sources.is_symlink():
        folders += [p for p in corpus.sources.iterdir() if p.is_dir() and not p.is_symlink()]
    removed = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if (entry.name.startswith(".") and entry.name.endswith(".tmp")
                    and entry.is_file(follow_symlinks=False)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _holder(held: dict[str, object]) -> str:
    try:
        age = f"{time.time() - float(held['since']):.0f} s"  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        age = "an unknown time"
    return (f"`paratopics {held.get('command', '?')}` (pid {held.get('pid', '?')} on "
            f"{held.get('host', '?')}) has held the corpus for {age}")


@contextlib.contextmanager
def corpus_lock(corpus: Corpus, command: str, wait: float = 0.0,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """One writer at a time: a lock file naming its owner, reclaimed when stale.

    With `wait` > 0, a held lock is retried until `wait` seconds have passed
    (`on_wait` is told once who holds it); else it fails at once with `locked`.
    """
    corpus.root.mkdir(parents=True, exist_ok=True)
    check_folders(corpus)  # before sweeping temporary files in them
    lock = corpus.root / ".lock"
    info: dict[str, object] = {"pid": os.getpid(), "host": socket.gethostname(),
                               "command": command, "since": time.time(),
                               "started": _process_start(os.getpid())}
    deadline = time.monotonic() + wait
    told = False
    while True:
        with _guard(corpus.root) as guarded:
            held = _read_lock(lock) if lock.exists() or lock.is_symlink() else None
            if guarded and held is not None and _lock_is_stale(held, lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                held = None
            if guarded and held is None and _create_lock(lock, info):
                break
        held = held or _read_lock(lock)
        if time.monotonic() >= deadline:
            raise fail("locked", file=str(lock), detail=_holder(held))
        if on_wait is not None and not told:
            on_wait(_holder(held))
            told = True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    try:
        sweep_temporaries(corpus)
        yield
    finally:
        with _guard(corpus.root):  # (ours to remove, even if the guard is slow to come)
            if _read_lock(lock) == json.loads(json.dumps(info)):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
