"""One fingerprint of the code and schemas, shared by every cache.

A cache keyed by a hand-kept list of file names goes stale the day a function
moves to a file not on the list (the build cache once served shards with an old
Arrow type that way). So every module of the package and every schema file is
hashed, with the versions of the libraries whose behaviour the cached results
depend on: any edit anywhere starts the caches afresh, which costs one cold run.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

from paratopics.codebook import schema_dir


def package_root() -> Path:
    """The folder walked for modules: the installed or checked-out package."""
    return Path(__file__).resolve().parent


def code_files(root: Path, schemas: Path) -> list[tuple[str, Path]]:
    """(stable name, path) of every module under `root` and every schema file, sorted."""
    modules = [(f"code/{p.relative_to(root).as_posix()}", p) for p in root.rglob("*.py")
               if "__pycache__" not in p.parts]
    schema_files = [(f"schema/{p.relative_to(schemas).as_posix()}", p)
                    for p in schemas.rglob("*") if p.is_file()]
    return sorted(modules) + sorted(schema_files)


def fingerprint(libraries: Iterable[str]) -> str:
    """16 hex digits over the bytes of the code, the schemas and the libraries' versions."""
    digest = hashlib.sha256()
    for name, path in code_files(package_root(), schema_dir()):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    for library in libraries:
        digest.update(f"{library}\0{importlib.metadata.version(library)}\0".encode())
    return digest.hexdigest()[:16]
