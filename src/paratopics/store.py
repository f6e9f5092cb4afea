"""The corpus folder on disk: its layout, safe paths, atomic writes and the lock.

Everything that touches the file system for the corpus goes through here, so
that no command can write half a file or a file outside the corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import fail
from .records import Article

#: A lock older than this whose owner cannot be checked is taken over.
STALE_LOCK_SECONDS = 3600


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

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def article_path(self, article_id: str) -> Path:
        return safe_join(self.articles, f"{article_id}.json")

    def article_files(self) -> list[Path]:
        return sorted(self.articles.glob("*.json")) if self.articles.is_dir() else []

    def annotation_files(self) -> list[Path]:
        return sorted(self.annotations.glob("*.jsonl")) if self.annotations.is_dir() else []


def find_corpus(start: Path | None = None) -> Path | None:
    """The checkout's corpus/: the nearest ancestor of `start` holding one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "corpus").is_dir() and (folder / "pyproject.toml").is_file():
            return folder / "corpus"
    return None


def check_name(name: str, what: str) -> str:
    """Refuse names that could address anything but one entry of one folder."""
    bad = (
        not name
        or "\x00" in name
        or "/" in name
        or "\\" in name
        or name in {".", ".."}
        or name.startswith(".")
        or os.path.isabs(name)
    )
    if bad:
        raise fail("unsafe-path", detail=f"{what} {name!r} is not a safe file name")
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


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    A reader sees the old content or the new, never a mix; a failed write
    (disk full, permission denied) leaves the old content in place.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        reason = exc.strerror or str(exc)
        raise fail("write-failed", file=str(path), detail=f"could not write: {reason}") from None
    fsync_dir(path.parent)


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


def dump_json(record: object) -> bytes:
    """The one JSON layout for records in the corpus: stable, readable in diffs."""
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_article(corpus: Corpus, article: Article) -> None:
    atomic_write(corpus.article_path(article["article_id"]), dump_json(article))


def read_article(corpus: Corpus, article_id: str) -> Article | None:
    path = corpus.article_path(article_id)
    if not path.is_file():
        return None
    record: Article = json.loads(path.read_text(encoding="utf-8"))
    return record


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_is_stale(info: dict[str, object]) -> bool:
    age = time.time() - float(info.get("since", 0))  # type: ignore[arg-type]
    if info.get("host") == socket.gethostname():
        return not _pid_alive(int(info.get("pid", 0)))  # type: ignore[call-overload]
    return age > STALE_LOCK_SECONDS


@contextlib.contextmanager
def corpus_lock(corpus: Corpus, command: str) -> Iterator[None]:
    """One writer at a time: a lock file naming its owner, reclaimed when stale."""
    corpus.root.mkdir(parents=True, exist_ok=True)
    lock = corpus.root / ".lock"
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": time.time()}
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(lock.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                held = {}
            if held and _lock_is_stale(held):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            age = time.time() - float(held.get("since", time.time()))
            raise fail(
                "locked",
                file=str(lock),
                detail=f"`paratopics {held.get('command', '?')}` (pid {held.get('pid', '?')} "
                f"on {held.get('host', '?')}) has held the corpus for {age:.0f} s",
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        break
    else:
        raise fail("locked", file=str(lock), detail="could not take the corpus lock")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
