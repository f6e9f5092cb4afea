"""Load a release as a Hugging Face dataset: `paratopics.load()`.

A release is plain Parquet plus a manifest, so loading is `datasets`' own
Parquet builder pointed at the files the manifest lists; nothing here parses
rows. The features come from the release's own Parquet metadata, so an old
release keeps the class names it was built with even after the codebook grows.

Class index, codebook id and name::

    ds = paratopics.load(split="train")         # or load("articles", version="1.0.0")
    labels = paratopics.label_map(ds)           # for the "labels" column
    labels.id(3), labels.name(3)                 # "medtop:20000082", "..."
    labels.index("medtop:20000082")              # 3 (an id or a name)
    [labels.name(i) for i in ds[0]["labels"]]

`features["labels"].feature` is the ClassLabel itself: its `names` are the
codebook ids in class order; `paratopics.load_codebook()` says what they mean.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow.parquet as pq
from datasets import (
    ClassLabel,
    Dataset,
    DatasetDict,
    Features,
    IterableDataset,
    IterableDatasetDict,
    load_dataset,
)

from paratopics import codebook as codebook_module
from paratopics.corpus.config import CORPUS_ENV, locate_corpus
from paratopics.corpus.store import Corpus, check_folders
from paratopics.errors import UsageError, YankedReleaseWarning, fail
from paratopics.release import layout as release_module
from paratopics.release import versions as versions_module
from paratopics.release.manifest import Manifest
from paratopics.release.verify import checked_files

AnyDataset: TypeAlias = Dataset | DatasetDict | IterableDataset | IterableDatasetDict
#: Where a publish folder keeps the release's config folders (its manifest's paths).
PUBLISH_DATA = "data"


# -- which corpus, which release, which files ---------------------------------


def default_corpus(cwd: Path | None = None) -> Corpus:
    """$PARATOPICS_CORPUS, else the corpus marked at or above `cwd` (or its checkout).

    The same rule as the `paratopics` command's (`corpus.config.locate_corpus`),
    so the loader and the command line always mean the same corpus.
    """
    located = locate_corpus(None, cwd)
    if located is None:
        raise UsageError("no paratopics corpus found: pass corpus=DIR (a checkout, a "
                         "corpus folder or a `paratopics publish` folder), repo_id=ORG/NAME "
                         f"for the Hub, set ${CORPUS_ENV}, or run inside a paratopics "
                         "checkout")
    return _existing(located.root, located.origin)


def _existing(root: Path, what: str) -> Corpus:
    if not root.is_dir():
        shown = "corpus" if what == "given" else what
        raise UsageError(f"{shown} {root}: no such folder")
    return check_folders(Corpus(root))


def resolve_corpus(corpus: Corpus | str | os.PathLike[str] | None) -> Corpus:
    """The corpus `corpus` names: itself, a corpus folder, or a checkout's corpus."""
    if corpus is None:
        return default_corpus()
    if isinstance(corpus, Corpus):
        return check_folders(corpus)
    located = locate_corpus(corpus)
    assert located is not None  # a given path is always located
    return _existing(located.root, located.origin)


def resolve_version(corpus: Corpus, version: str | None) -> str:
    """The version asked for (a leading "v" allowed), else the latest release not yanked.

    A version that was never built raises `release-missing`, naming the ones
    that exist, so a typo is answered with the list to choose from. A yanked
    one asked for by version is returned, with a `YankedReleaseWarning`. The
    command line decides the same way (release.versions).
    """
    chosen = versions_module.resolve_in(corpus, version)
    if chosen.warning is not None:
        warnings.warn(f"[{chosen.warning.code}] {chosen.warning.message}", YankedReleaseWarning,
                      stacklevel=_caller_level())
    return chosen.version


def _caller_level() -> int:
    """The `stacklevel` that points a warning at the first caller outside paratopics
    (the user's `load(...)`), however deep in the package it is raised."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith(
            "paratopics."):
        frame, level = frame.f_back, level + 1
    return level


@dataclass(frozen=True)
class Release:
    """A release on disk: its manifest, and the folder its manifest's paths are under
    (the release folder of a corpus, or `data/` of a publish folder)."""

    version: str
    manifest: Manifest
    folder: Path
    #: the corpus whose changelog vouches for the manifest; None for a publish folder,
    #: whose manifest is checked on its own
    corpus: Corpus | None = None


def is_publish_folder(folder: Path) -> bool:
    """A folder `paratopics publish --out` wrote: card, manifest, croissant.json, data/."""
    return all((folder / name).is_file() for name in ("manifest.json", "croissant.json")) and (
        folder / PUBLISH_DATA).is_dir()


def published_release(folder: Path, version: str | None) -> Release:
    """The release a publish folder holds; `version`, when given, must be it."""
    manifest = Manifest.from_json(folder / "manifest.json")
    held = manifest.version
    if version is not None and version.removeprefix("v") != held:
        raise fail("release-missing", file=str(folder),
                   detail=f"no release v{version.removeprefix('v')} in this publish folder "
                   f"(it holds v{held})")
    return Release(held, manifest, folder / PUBLISH_DATA)


def find_release(corpus: Corpus | str | os.PathLike[str] | None,
                 version: str | None) -> Release:
    """The release `corpus` and `version` name: a publish folder's, or a corpus's."""
    if corpus is not None and not isinstance(corpus, Corpus):
        folder = Path(corpus).expanduser()
        if is_publish_folder(folder):
            return published_release(folder, version)
    where = resolve_corpus(corpus)
    chosen = resolve_version(where, version)
    return Release(chosen, release_module.read_manifest(where, chosen),
                   release_module.release_dir(where, chosen), where)


def data_files(manifest: Manifest, config: str) -> dict[str, list[str]]:
    """split -> release-relative Parquet paths of `config`, in split order.

    Taken from the manifest rather than a glob, so a stray file in the release
    folder is never loaded.
    """
    if config not in release_module.CONFIGS:
        raise ValueError(f"unknown config {config!r}: choose one of "
                         f"{', '.join(release_module.CONFIGS)}")
    found = manifest.files_of(config)
    order = {name: i for i, name in enumerate(release_module.split_names())}
    return {split: sorted(entry.path for entry in found[split])
            for split in sorted(found, key=lambda s: order.get(s, 99))}


def split_names_in(split: str) -> list[str]:
    """The split names in a `datasets` split expression: "train[:10%]+test" -> train, test."""
    return [part.split("[", 1)[0].strip() for part in split.split("+")]


def release_features(folder: Path, files: Iterable[str], config: str,
                     layout: release_module.Layout | None = None) -> Features:
    """The features a release's files carry; the installed codebook's, in the release's
    `layout` (its manifest's), only as fallback."""
    first = next(iter(files))
    schema = pq.read_schema(folder / first)
    if schema.metadata and b"huggingface" in schema.metadata:
        return Features.from_arrow_schema(schema)
    return release_module.features(config, codebook_module.load(), layout)


def load(config: str = release_module.DEFAULT_CONFIG, *, version: str | None = None,
         split: str | None = None, streaming: bool = False,
         corpus: Corpus | str | os.PathLike[str] | None = None,
         repo_id: str | None = None, revision: str | None = None, verify: bool = True,
         **kwargs: Any) -> AnyDataset:
    """Release `version` (default: the latest not yanked) of `config` as a Hugging Face
    dataset.

    Where from: `corpus`, a checkout, a corpus folder or a folder `paratopics
    publish --out` wrote; else `repo_id`, a dataset repository on the Hub, at
    `revision` (a tag `vX.Y.Z`; `version="X.Y.Z"` means that tag; default: its
    main branch, the latest); else the corpus found by the command line's rule
    ($PARATOPICS_CORPUS, else the nearest one at or above the working folder).
    `config` is the only positional argument, so `load("articles")` is never
    taken for a version. A yanked release (`paratopics yank`) is skipped by the
    default and loaded only when asked for by version, with a `YankedReleaseWarning`.

    Returns a DatasetDict of every split present, or one Dataset when `split` is
    given, in `datasets`' split syntax ("train", "train[:1000]", "train+validation");
    Iterable variants with `streaming=True`. Extra keyword arguments go to
    `datasets.load_dataset` (for example `cache_dir`, `num_proc`).

    The files to be read are first checked against the manifest (sha256, class
    indexes) and, in a corpus, the manifest against the changelog: a release
    that fails raises `ParatopicsError` [release-corrupt] naming the file. Each file's
    verdict is remembered by its size and times, so loading it again costs a
    `stat`; `verify=False` reads the files unchecked.
    """
    if config not in release_module.CONFIGS:
        hint = (f"; to load release {config}, pass version={config!r}"
                if release_module.VERSION_RE.match(config.removeprefix("v")) else "")
        raise ValueError(f"unknown config {config!r}: choose one of "
                         f"{', '.join(release_module.CONFIGS)}{hint}")
    if repo_id is not None:
        if corpus is not None:
            raise ValueError("give corpus= (a folder) or repo_id= (the Hub), not both")
        return load_from_hub(repo_id, config, version=version, revision=revision, split=split,
                             streaming=streaming, **kwargs)
    if revision is not None:
        raise ValueError("revision= is a Hub revision: give it with repo_id=ORG/NAME (for a "
                         "local release, pass version=)")
    release = find_release(corpus, version)
    by_split = data_files(release.manifest, config)
    if not by_split:
        raise ValueError(f"v{release.version} has no rows in {config}")
    if split is not None:
        wanted = split_names_in(split)
        missing = [name for name in wanted if name not in by_split]
        if missing:
            raise ValueError(f"v{release.version} has no {missing[0]!r} split in {config} "
                             f"(available: {', '.join(by_split) or 'none'})")
        by_split = {name: by_split[name] for name in wanted}
    if verify:
        wanted_paths = {path for paths in by_split.values() for path in paths}
        checked_files(release.folder, release.manifest,
                      [entry for entry in release.manifest.files if entry.path in wanted_paths],
                      release.corpus)
    folder = release.folder.resolve()
    features = release_features(folder, next(iter(by_split.values())), config,
                                release_module.Layout.of(release.manifest))
    files = {name: [str(folder / path) for path in paths] for name, paths in by_split.items()}
    dataset: AnyDataset = load_dataset(
        "parquet", data_files=files, features=features, split=split,
        streaming=streaming, **kwargs)
    return dataset


def hub_revision(version: str | None, revision: str | None) -> str | None:
    """The Hub revision to load: `revision` as given, else the tag of `version`."""
    tag = f"v{version.removeprefix('v')}" if version is not None else None
    if revision is not None and tag is not None and revision != tag:
        raise ValueError(f"version={version!r} and revision={revision!r} disagree: releases "
                         "are tagged vX.Y.Z on the Hub; give one of them")
    return revision if revision is not None else tag


def load_from_hub(repo_id: str, config: str, *, version: str | None = None,
                  revision: str | None = None, split: str | None = None,
                  streaming: bool = False, **kwargs: Any) -> AnyDataset:
    """A published release from its Hub dataset repository: the card's configs say
    where each config's files are, as for any Hub dataset."""
    chosen = hub_revision(version, revision)
    try:
        dataset: AnyDataset = load_dataset(repo_id, config, revision=chosen, split=split,
                                           streaming=streaming, **kwargs)
    except (ConnectionError, OSError) as exc:
        at = f" at {chosen}" if chosen else ""
        raise ConnectionError(f"cannot load {repo_id}{at} from the Hub: {exc} (offline, or "
                              "no such repository or revision)") from exc
    return dataset


# -- labels: class index <-> codebook id <-> name ------------------------------


@dataclass(frozen=True)
class LabelMap:
    """One ClassLabel column's classes: index -> codebook id -> human name."""

    ids: tuple[str, ...]
    names: tuple[str, ...]

    def id(self, index: int) -> str:
        return self.ids[index]

    def name(self, index: int) -> str:
        return self.names[index]

    def index(self, key: str) -> int:
        """The class index of a codebook id or of a name."""
        if key in self.ids:
            return self.ids.index(key)
        if key in self.names:
            return self.names.index(key)
        raise KeyError(f"{key!r} is neither a class id nor a class name of this column")

    def decode(self, indexes: Iterable[int]) -> list[str]:
        """Codebook ids of a row's label indexes."""
        return [self.ids[i] for i in indexes]

    def encode(self, ids: Iterable[str]) -> list[int]:
        return [self.index(code) for code in ids]


def class_label(source: AnyDataset | Features, column: str = "labels") -> ClassLabel:
    """The ClassLabel of `column` (a list of class labels, or a single one)."""
    features = source if isinstance(source, Features) else _features_of(source)
    if column not in features:
        raise KeyError(f"no column {column!r} (columns: {', '.join(features)})")
    feature = features[column]
    inner = getattr(feature, "feature", feature)
    if not isinstance(inner, ClassLabel):
        raise TypeError(f"column {column!r} is not a ClassLabel column")
    return inner


def _features_of(dataset: AnyDataset) -> Features:
    if isinstance(dataset, DatasetDict | IterableDatasetDict):
        dataset = next(iter(dataset.values()))
    features = dataset.features
    if features is None:
        raise TypeError("the dataset has no features to read class labels from")
    return features


def label_map(source: AnyDataset | Features, column: str = "labels",
              codebook: codebook_module.Codebook | None = None) -> LabelMap:
    """The index/id/name mapping of `column`, names from `codebook` (default: shipped).

    An id the codebook does not know (a release newer than the package) is
    named by its id, so decoding never fails.
    """
    book = codebook or codebook_module.load()
    ids = tuple(class_label(source, column).names)
    return LabelMap(ids, tuple(book.name(code) if code in book else code for code in ids))


def label_names(source: AnyDataset | Features, column: str = "labels") -> list[str]:
    """Human names of `column`'s classes, in class-index order."""
    return list(label_map(source, column).names)
