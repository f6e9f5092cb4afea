"""Verify a release against its manifest and the changelog, as catalog problems.

A release is trusted when its manifest reads (see `manifest.Manifest`), the
changelog records that manifest's digest in exactly one entry, every file the
manifest lists is a regular file inside the release with the recorded size,
sha256, rows and schema, nothing else is there, and every class index in the
label columns names a class the file declares (a consistent forgery can give a
file, its manifest and the changelog the right digests, but not labels that
decode).

`checked_files` is the part `paratopics.load()` runs before reading: the
sha256 and the class indexes of the files it reads, remembered per file by
its size, mtime, ctime and inode in the cache folder, so that loading an
unchanged release again costs a `stat` per file.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus, atomic_write, sha256_file
from paratopics.errors import ParatopicsError, Problem, problem
from paratopics.release import changelog
from paratopics.release.layout import NAME_COLUMNS, Layout, features, read_manifest, release_dir
from paratopics.release.manifest import MANIFEST_NAME, FileEntry, Manifest
from paratopics.validate.cache import cache_dir
from paratopics.validate.summary import display_path

#: The class-label columns of each config, whose values index the file's class names.
LABEL_COLUMNS = {"paragraphs": ("labels", "labels_level1"),
                 "articles": ("labels", "labels_level1")}


def verify(corpus: Corpus, version: str, codebook: Codebook | None = None) -> list[Problem]:
    """Every way release `version` differs from its manifest and changelog; empty
    when intact. `codebook`, when given, is the one its Parquet schemas must carry."""
    problems: list[Problem] = []
    try:
        folder = release_dir(corpus, version)
        manifest: Manifest | None = read_manifest(corpus, version)
    except ParatopicsError as exc:  # unreadable, invalid, missing, or a symlink
        folder, manifest = corpus.releases / f"v{version}", None
        problems.append(corrupt(folder / MANIFEST_NAME, "missing: the release cannot be "
                                "checked without it") if exc.problem.code == "release-missing"
                        else exc.problem)
    problems += changelog_problems(corpus, version)
    if manifest is None:
        return problems
    listed = {entry.path: entry for entry in manifest.files}
    present, strange = release_files(folder)
    problems += [corrupt(folder / rel, what) for rel, what in strange]
    for extra in sorted(present - set(listed)):
        problems.append(corrupt(folder / extra, "not in the manifest (extra file)"))
    for rel, entry in sorted(listed.items()):
        if rel not in present:
            if rel not in dict(strange):
                problems.append(corrupt(folder / rel, "missing"))
            continue
        problems += [corrupt(folder / rel, what) for what in file_problems(
            folder / rel, entry, codebook, layout=Layout.of(manifest))]
    return problems


def corrupt(path: Path, what: str) -> Problem:
    return problem("release-corrupt", file=display_path(path), detail=what)


def changelog_problems(corpus: Corpus, version: str) -> list[Problem]:
    """The changelog must record this release's manifest digest, in one entry."""
    where = display_path(changelog.changelog_path(corpus))
    try:
        recorded, found = changelog.entry_problems(corpus, version)
    except ParatopicsError as exc:
        return [exc.problem]
    problems = [problem("release-corrupt", file=where, detail=what) for what in found]
    manifest_path = release_dir_unchecked(corpus, version) / MANIFEST_NAME
    if recorded is not None and manifest_path.is_file() and not manifest_path.is_symlink():
        actual = sha256_file(manifest_path)
        if actual != recorded:
            problems.append(problem(
                "release-corrupt", file=display_path(manifest_path),
                detail=f"sha256 {actual[:12]}… differs from {recorded[:12]}… recorded in "
                f"{changelog.changelog_path(corpus).name}"))
    return problems


def release_dir_unchecked(corpus: Corpus, version: str) -> Path:
    return corpus.releases / f"v{version}"


def release_files(folder: Path) -> tuple[set[str], list[tuple[str, str]]]:
    """(release-relative paths of the regular files in `folder`, manifest aside;
    (path, what is wrong) of every entry that is not a regular file or folder).

    Nothing is followed: a symlink in a release, to a file or a folder, is
    reported, never read.
    """
    present: set[str] = set()
    strange: list[tuple[str, str]] = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted([*dirs, *files]):
            path = Path(top) / name
            rel = path.relative_to(folder).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                strange.append((rel, f"is a symlink (to {os.readlink(path)}); release files "
                                "must be regular files of the release"))
            elif stat.S_ISREG(mode):
                if rel != MANIFEST_NAME:
                    present.add(rel)
            elif not stat.S_ISDIR(mode):
                strange.append((rel, "is not a regular file"))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
    return present, strange


def file_problems(path: Path, entry: FileEntry, codebook: Codebook | None = None,
                  digest: str | None = None, layout: Layout | None = None) -> list[str]:
    """What is wrong with one release file: size, sha256 (`digest` if already
    known), Parquet rows and schema (with `codebook`: the columns of `layout`, its
    manifest's), class indexes and the class names beside them."""
    found = []
    size = path.stat().st_size
    if size != entry.bytes:
        found.append(f"{size} bytes, manifest says {entry.bytes}")
    if (digest or sha256_file(path)) != entry.sha256:
        found.append("sha256 differs from the manifest")
    try:
        meta = pq.read_metadata(path)
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        return [*found, f"not a readable Parquet file ({exc})"]
    if meta.num_rows != entry.rows:
        found.append(f"{meta.num_rows} rows, manifest says {entry.rows}")
    if codebook is not None:
        # the columns of the layout the release was built in (its manifest's)
        expected = features(entry.config, codebook, layout or Layout()).arrow_schema
        # Parquet names list items "element" where Arrow says "item"; compare the
        # types, then the Hugging Face metadata, rather than field names.
        if not schema.equals(expected) or schema.metadata != expected.metadata:
            found.append(f"schema differs from the {entry.config} schema")
    return found + label_problems(path, entry.config, schema)


def class_names(schema: pa.Schema, column: str) -> list[str]:
    """The class names a file declares for a ClassLabel list column."""
    info = json.loads((schema.metadata or {})[b"huggingface"])
    names = info["info"]["features"][column]["feature"]["names"]
    if not isinstance(names, list):
        raise TypeError(f"{column}: class names are not a list")
    return names


def label_problems(path: Path, config: str, schema: pa.Schema) -> list[str]:
    """Class indexes outside the file's own classes, or missing (null); and, in a
    layout with label names, names that are not those of the indexes beside them."""
    columns = LABEL_COLUMNS.get(config, ())
    if not columns:
        return []
    named = [NAME_COLUMNS[column] for column in columns if NAME_COLUMNS[column] in schema.names]
    try:
        names = {column: class_names(schema, column) for column in columns}
        table = pq.read_table(path, columns=[*columns, *named])
    except (KeyError, TypeError, ValueError, pa.ArrowInvalid, OSError) as exc:
        return [f"its class labels cannot be read ({type(exc).__name__}: {exc})"]
    found = []
    for column in columns:
        lists = table.column(column)
        values = pc.list_flatten(lists)
        count = len(names[column])
        bad_index = bool(lists.null_count or values.null_count)
        if bad_index:
            found.append(f"{column} holds a null where class indexes belong")
        if len(values) > values.null_count:
            low, high = (v.as_py() for v in pc.min_max(values).values())
            for bad in sorted({low, high} - set(range(count))):
                bad_index = True
                found.append(f"{column} holds class index {bad}, but the file has "
                             f"{count} classes (0 to {count - 1})")
        if NAME_COLUMNS[column] in named and not bad_index:
            found += name_problems(lists, table.column(NAME_COLUMNS[column]),
                                   names[column], column)
    return found


def name_problems(indexes: pa.ChunkedArray, named: pa.ChunkedArray, names: list[str],
                  column: str) -> list[str]:
    """Where the names column beside class-index column `column` is not, row by row
    and item by item, the class names of its indexes (`names`)."""
    target = NAME_COLUMNS[column]
    if named.null_count or pc.list_flatten(named).null_count:
        return [f"{target} holds a null where class names belong"]
    lengths = pc.not_equal(pc.list_value_length(indexes), pc.list_value_length(named))
    if pc.any(lengths).as_py():
        row = pc.index(lengths, True).as_py()
        return [f"{target} has another number of items than {column} (first at row {row})"]
    expected = pc.take(pa.array(names, pa.string()), pc.list_flatten(indexes))
    differ = pc.not_equal(expected, pc.list_flatten(named))
    if not pc.any(differ).as_py():
        return []
    item = pc.index(differ, True).as_py()
    row = pc.list_parent_indices(named)[item].as_py()
    return [f"{target} is not the class names of {column} (first at row {row}: "
            f"{pc.list_flatten(named)[item].as_py()!r} where class "
            f"{pc.list_flatten(indexes)[item].as_py()} is {expected[item].as_py()!r})"]


# -- what load() checks, remembered ---------------------------------------------


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class CheckedFiles:
    """Release files found intact before: path -> (stat key, sha256), in the cache
    folder. A file whose size, mtime, ctime or inode changed is checked again; an
    unreadable cache is an empty one."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.known: dict[str, list[object]] = {}
        self.changed = False
        if path is None:
            return
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return
        if isinstance(data, dict):
            self.known = {k: v for k, v in data.items() if isinstance(v, list) and len(v) == 2}

    def intact(self, path: Path, entry: FileEntry) -> bool:
        return self.known.get(str(path)) == [_stat_key(path), entry.sha256]

    def remember(self, path: Path, key: list[int], entry: FileEntry) -> None:
        self.known[str(path)] = [key, entry.sha256]
        self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        with contextlib.suppress(ParatopicsError):  # unwritable: only slower next time
            atomic_write(self.path, json.dumps(self.known, sort_keys=True).encode(),
                         durable=False)


def checked_files(folder: Path, manifest: Manifest, entries: Iterable[FileEntry],
                  corpus: Corpus | None = None, use_cache: bool = True) -> None:
    """Raise `release-corrupt` (or the changelog's problem) unless each of `entries`
    is the file under `folder` the manifest describes and, for a release in
    `corpus`, the manifest is the one its changelog records. Only the files to
    be read are hashed."""
    if corpus is not None:
        problems = changelog_problems(corpus, manifest.version)
        if problems:
            raise ParatopicsError(problems[0])
    cache = CheckedFiles(cache_dir() / "release-files.json" if use_cache else None)
    for entry in entries:
        path = folder / entry.path
        if path.is_symlink() or not path.is_file():
            raise ParatopicsError(corrupt(path, "missing" if not path.exists() else
                                          "is a symlink or not a regular file"))
        if cache.intact(path, entry):
            continue
        key = _stat_key(path)
        found = file_problems(path, entry)
        if found:
            raise ParatopicsError(corrupt(path, "; ".join(found) + " (run `paratopics "
                                          "verify`, or load with verify=False to read it "
                                          "anyway)"))
        if key == _stat_key(path):  # unchanged while it was checked
            cache.remember(path, key, entry)
    cache.save()
