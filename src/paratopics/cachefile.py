"""The files the package's caches keep between runs, written one way for all of them.

A cache may make a run faster, never different: so a file is trusted whole or
not at all, and code that changed never reads what older code wrote.

- Sealed: the first line holds a head naming the format, a tab and the sha256 of
  the rest. A torn, truncated or edited file, or one of another format, is
  ignored whole instead of being trusted in part.
- Named by a fingerprint of all of the package's code and schemas
  (paratopics.fingerprint): changed code opens another file and starts afresh.
- Written atomically, and a cache that cannot be written is no cache, never an
  error: a read-only home or a full disk only makes the next run slower.
"""

from __future__ import annotations

import contextlib
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from paratopics.corpus.store import atomic_write
from paratopics.errors import ParatopicsError

#: What the head of a sealed file holds after its format's name: a tab, 64 hex digits.
_DIGEST_LINE = 1 + 64


def seal(head: bytes, body: bytes) -> bytes:
    """`body` behind a line holding `head` and its sha256 (what `unseal` checks)."""
    return head + b"\t" + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def unseal(head: bytes, data: bytes) -> memoryview | None:
    """The body of a file sealed with `head`, without a copy; None unless its head
    and sha256 match."""
    end = data.find(b"\n", 0, len(head) + _DIGEST_LINE + 1)
    if end < 0:
        return None
    body = memoryview(data)[end + 1:]
    if data[:end] != head + b"\t" + hashlib.sha256(body).hexdigest().encode():
        return None
    return body


def write_sealed(path: Path, head: bytes, body: bytes) -> None:
    """Replace the file at `path` by `body` sealed with `head`, atomically, or not at all."""
    with contextlib.suppress(ParatopicsError, OSError):
        atomic_write(path, seal(head, body), durable=False)


def row_line(fields: Sequence[str]) -> str | None:
    """`fields` as one tab-separated line; None if a field holds a tab or a newline,
    as such a row would not read back."""
    line = "\t".join(fields)
    return line if line.count("\t") == len(fields) - 1 and "\n" not in line else None


_Entry = TypeVar("_Entry")
_Cache = TypeVar("_Cache", bound="CacheFile[Any]")


@dataclass
class CacheFile(ABC, Generic[_Entry]):
    """Entries by key, in one sealed file of lines: read whole at the start of a run,
    written whole at its end if anything changed.

    A run adds what it learnt (`new`) and marks what it used (`seen`); `save`
    with `prune` (after a run over all of the inputs) keeps only those, so the
    file does not grow with every edit. A subclass says how a line is read
    (`decode`, which raises ValueError for a file it cannot trust: the cache then
    starts afresh) and written (`encode`). `path` None: no cache at all.
    """

    path: Path | None = None
    known: Mapping[str, _Entry] = field(default_factory=dict)
    #: entries made this run, not known before
    new: dict[str, _Entry] = field(default_factory=dict)
    #: known keys used this run
    seen: set[str] = field(default_factory=set)

    #: The format's name, the first bytes of its files.
    HEAD: ClassVar[bytes] = b"paratopics-cache"

    @classmethod
    def open(cls: type[_Cache], folder: Path, name: str, fingerprint: str) -> _Cache:
        """The cache `name` of the code and schemas with `fingerprint`, in `folder`."""
        return cls.load(folder / f"{name}-{fingerprint}.txt")

    @classmethod
    def load(cls: type[_Cache], path: Path) -> _Cache:
        """The cache kept at `path`; empty if the file is missing, damaged or not read."""
        try:
            return cls(path, cls.decode(read_lines(path, cls.HEAD)))
        except ValueError:
            return cls(path)

    @staticmethod
    @abstractmethod
    def decode(lines: list[str]) -> Mapping[str, _Entry]:
        """The entries of a file's lines; ValueError for lines it cannot trust."""

    @staticmethod
    @abstractmethod
    def encode(key: str, entry: _Entry) -> str | None:
        """The entry's line; None for one that cannot be written (it is left out)."""

    def save(self, prune: bool = False) -> None:
        """Add this run's entries; `prune` also drops the known ones not seen in it."""
        if self.path is None:
            return
        kept = {key: entry for key, entry in self.known.items()
                if key not in self.new and (not prune or key in self.seen)}
        if not self.new and len(kept) == len(self.known):
            return
        lines = [line for key, entry in (*kept.items(), *self.new.items())
                 if (line := self.encode(key, entry)) is not None]
        body = "".join(line + "\n" for line in sorted(lines))
        write_sealed(self.path, self.HEAD, body.encode("utf-8", "surrogatepass"))


def read_lines(path: Path, head: bytes) -> list[str]:
    """The lines of a file sealed with `head`; none if it is missing, unreadable or damaged."""
    try:
        body = unseal(head, path.read_bytes())
    except OSError:
        return []
    if body is None:
        return []
    try:
        text = str(body, "utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return []
    return text.split("\n")[:-1]
