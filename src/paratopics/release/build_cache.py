"""What one build can hand to the next: finished Parquet shards and parsed judgement files.

A shard's bytes are a function of its rows, and its rows a function of its
inputs: the records of its articles, their judgements, the codebook and the
code that builds rows. So a shard is stored under a key hashed from those
inputs, and the next build whose shard has the same key copies it instead of
building it again, checking its sha256 on the way. Judgement files are kept
parsed (as Arrow) under the sha256 of their bytes.

Every entry is sealed: a shard's metadata and a judgement table each start with a
line holding the sha256 of the rest, and a shard's Parquet bytes are checked
against the sha256 in its (sealed) metadata. An entry whose seal does not match (a
flipped bit, a torn or edited file) is never decoded: it is missing, and the build
makes it again. The seal is that of every cache file (paratopics.cachefile); the
entries are files of their own, not rows of one CacheFile, because a build fetches
each shard alone and a shard can be hundreds of megabytes. Before seals, a flipped
bit in a cached judgement table could put changed rows into a release whose
manifest then vouched for them.

The cache lives in `$PARATOPICS_CACHE/build-<fingerprint>/` (default
`~/.cache/paratopics`), never in the corpus. The fingerprint covers every
module of the package, the schemas and the versions of pyarrow, datasets and orjson
(paratopics.fingerprint),
so a change to any of them starts a fresh cache. It is safe to delete: the next
build is then built from scratch, to the same bytes. A damaged entry is treated as missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from paratopics import cachefile
from paratopics.errors import ParatopicsError
from paratopics.fingerprint import fingerprint as code_fingerprint

_COPY_CHUNK = 1 << 20
#: First bytes of a sealed cache file; a tab, the sha256 of the rest and a newline follow.
_SEAL = b"paratopics-build-cache"


def seal(body: bytes) -> bytes:
    """`body` sealed as a build cache entry (paratopics.cachefile)."""
    return cachefile.seal(_SEAL, body)


def unseal(data: bytes) -> memoryview | None:
    """The body of a sealed build cache entry, without a copy; None unless it is intact."""
    return cachefile.unseal(_SEAL, data)


#: Schema metadata key of a cached judgement table: its per-article digests.
_DIGESTS_KEY = b"paratopics.article_digests"


#: The libraries a shard's bytes depend on: the Parquet writer, the Hugging Face
#: features that write the schema's metadata, the JSON reader of records.
LIBRARIES = ("pyarrow", "datasets", "orjson")


def fingerprint() -> str:
    """What a shard's bytes depend on besides its inputs (which are in its key): all
    of the package's code, the schemas and the libraries that write and read them."""
    return code_fingerprint(LIBRARIES)


@dataclass(frozen=True)
class ShardEntry:
    """A finished shard: its checksum, size and rows, and its share of the manifest's tally."""

    sha256: str
    bytes: int
    rows: int
    tally: dict[str, object]


def copy_hashed(source: Path, target: Path) -> str:
    """Copy `source` to `target` and return the sha256 of the bytes copied."""
    digest = hashlib.sha256()
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_COPY_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildCache:
    """Shards by input key and judgement tables by file digest; `root` None: no cache."""

    root: Path | None = None

    @classmethod
    def open(cls, base: Path) -> BuildCache:
        return cls(base / f"build-{fingerprint()}")

    def _path(self, kind: str, name: str) -> Path:
        assert self.root is not None
        return self.root / kind / name[:2] / name

    # -- shards -----------------------------------------------------------------

    def fetch_shard(self, key: str, target: Path) -> ShardEntry | None:
        """The shard stored under `key`, copied to `target`; None if absent or damaged."""
        if self.root is None:
            return None
        meta = self._path("shards", f"{key}.json")
        try:
            body = unseal(meta.read_bytes())
            if body is None:
                return None
            entry = ShardEntry(**json.loads(bytes(body)))
            if entry.rows == 0:
                return entry
            if copy_hashed(self._path("shards", f"{key}.parquet"), target) == entry.sha256:
                return entry
        except (OSError, ValueError, TypeError):
            pass
        with contextlib.suppress(OSError):
            target.unlink()
        return None

    def store_shard(self, key: str, path: Path | None, entry: ShardEntry) -> None:
        """Keep a copy of the shard at `path` (None when it has no rows) under `key`."""
        if self.root is None:
            return
        meta = self._path("shards", f"{key}.json")
        with contextlib.suppress(OSError, ParatopicsError):  # no writable cache: no cache
            if path is not None:
                data = self._path("shards", f"{key}.parquet")
                data.parent.mkdir(parents=True, exist_ok=True)
                partial = data.with_name(f".{data.name}.{os.getpid()}.partial")
                if copy_hashed(path, partial) != entry.sha256:
                    partial.unlink()
                    return
                os.replace(partial, data)
            cachefile.write_sealed(meta, _SEAL,
                                   json.dumps(entry.__dict__, sort_keys=True).encode())

    # -- judgement files --------------------------------------------------------

    def fetch_judgements(self, digest: str) -> tuple[pa.Table, dict[str, str]] | None:
        """A judgement file's rows and per-article digests, by the sha256 of its bytes."""
        if self.root is None:
            return None
        try:
            body = unseal(self._path("judgements", f"{digest}.arrow").read_bytes())
        except OSError:
            return None
        if body is None:
            return None
        try:
            table = pa.ipc.open_file(pa.py_buffer(body)).read_all()
            digests = json.loads((table.schema.metadata or {})[_DIGESTS_KEY])
        except (ValueError, KeyError, TypeError, pa.ArrowException):
            return None
        if not isinstance(digests, dict):
            return None
        return table.replace_schema_metadata(None), digests

    def store_judgements(self, digest: str, table: pa.Table, digests: dict[str, str]) -> None:
        if self.root is None:
            return
        path = self._path("judgements", f"{digest}.arrow")
        tagged = table.replace_schema_metadata({_DIGESTS_KEY: json.dumps(digests)})
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with pa.ipc.new_file(sink, tagged.schema, options=options) as writer:
            writer.write_table(tagged)
        cachefile.write_sealed(path, _SEAL, sink.getvalue().to_pybytes())
