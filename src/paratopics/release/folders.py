"""A build's temporary folder: claimed with a marker file, so that what a killed
build left is told apart from anything else in the releases folder, and
deleted by the next build.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

from paratopics.corpus.store import Corpus, fsync_dir

#: A build's temporary folder `.tmp-vX.Y.Z-<random>` is claimed by first creating the
#: marker file of that name plus this suffix beside it: a folder is a build's leftover
#: to delete only when its marker is there, so it is marked from before it exists
#: until after it is renamed into a release.
BUILD_MARKER = ".paratopics-build"


def build_marker(folder: Path) -> Path:
    return folder.with_name(folder.name + BUILD_MARKER)


def claim_build_folder(corpus: Corpus, version: str) -> Path:
    """A new, empty temporary folder for building `version`, with its marker."""
    while True:
        folder = corpus.releases / f".tmp-v{version}-{secrets.token_hex(6)}"
        try:
            fd = os.open(build_marker(folder), os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"paratopics build v{version}, pid {os.getpid()}\n")
        try:
            folder.mkdir()
        except FileExistsError:  # someone else's folder of that name: not ours to use
            build_marker(folder).unlink()
            continue
        return folder


def remove_stale_builds(corpus: Corpus) -> None:
    """Delete what killed builds left in the releases folder: each marked temporary
    folder and its marker. A `.tmp-*` folder without a marker is not a build's, and
    is left alone."""
    for marker in corpus.releases.glob(f".tmp-v*{BUILD_MARKER}"):
        if marker.is_symlink() or not marker.is_file():
            continue
        stale = marker.with_name(marker.name.removesuffix(BUILD_MARKER))
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        with contextlib.suppress(OSError):
            marker.unlink()


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(path if path.is_dir() else path.parent)
