"""The read side of a release: where it lives, which versions exist, its manifest, its features.

Kept apart from `release` (which builds releases) so that `paratopics.load()` needs
none of the build machinery: importing this is cheap.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paratopics.corpus.records import ARTICLE_SCHEMA_VERSION, LICENSED_FROM
from paratopics.corpus.store import Corpus
from paratopics.errors import fail
from paratopics.release.manifest import MANIFEST_NAME, Manifest

if TYPE_CHECKING:
    from datasets import Features

    from paratopics.codebook import Codebook

CONFIGS = ("paragraphs", "articles", "annotations")
DEFAULT_CONFIG = "paragraphs"
#: Split proportions, applied to a hash of the article id (README "Splits").
SPLITS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))
#: Paragraphs (and articles) that nobody has judged go here, never into the above.
UNLABELED = "unlabeled"
#: `\Z`, not `$` (which also matches before a final newline); ASCII digits only.
VERSION_RE = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)\Z")
#: A version a new release may take: semantic versioning's X.Y.Z, numbers without leading
#: zeros, so that 01.2.0 is never built beside 1.2.0 (VERSION_RE still reads such folders).
STRICT_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")


def split_names() -> tuple[str, ...]:
    return (*(name for name, _ in SPLITS), UNLABELED)


# -- features: one source of truth for Arrow schema and Hugging Face types ----


def licensed(article_schema: str) -> bool:
    """Whether releases of records of this article schema carry `license` and
    `attribution` columns (1.1.0 on); v1.0.0 and other early releases do not."""
    return parse_version(article_schema) >= parse_version(LICENSED_FROM)


#: The manifest format of a release whose paragraphs and articles carry `label_names`
#: and `label_names_level1` (schema/manifest.schema.json); new releases are written so.
NAMED_FROM = "1.3.0"
#: The last manifest format without them: what a release built again in an older
#: layout records (its temporary manifest; the release's own is never rewritten).
UNNAMED = "1.2.0"
#: Each class-index column, and the column beside it holding its class names (the
#: codebook ids, as strings), for readers that cannot decode ClassLabel metadata.
NAME_COLUMNS = {"labels": "label_names", "labels_level1": "label_names_level1"}


@dataclass(frozen=True)
class Layout:
    """The columns of a release's Parquet files, as its manifest says: the article
    schema it was built from (`license`, `attribution`: 1.1.0 on) and whether its
    manifest format has label names (`label_names`, `label_names_level1`: manifest
    1.3.0 on). A release keeps the layout it was built with, so that it verifies and
    loads the same forever; new releases get the current one, `Layout()`."""

    article_schema: str = ARTICLE_SCHEMA_VERSION
    named: bool = True

    @classmethod
    def of(cls, manifest: Manifest) -> Layout:
        named = parse_version(manifest.manifest_version) >= parse_version(NAMED_FROM)
        return cls(manifest.versions.article_schema, named)

    @property
    def licensed(self) -> bool:
        return licensed(self.article_schema)

    @property
    def manifest_version(self) -> str:
        """The manifest format a build in this layout writes."""
        return NAMED_FROM if self.named else UNNAMED

    @property
    def key(self) -> str:
        """What the bytes of a shard owe to the layout, for the build cache's keys."""
        return self.article_schema + (":label_names" if self.named else "")


def features(config: str, codebook: Codebook, layout: Layout | None = None) -> Features:
    """The columns of one config in `layout` (default: the current one; an existing
    release's is `Layout.of(its manifest)`)."""
    # Imported here: `datasets` takes over a second to import, and most commands
    # (ingest, validate) never need it.
    from datasets import ClassLabel, Features, List, Value

    layout = layout or Layout()
    labels = ClassLabel(names=list(codebook.label_ids))
    level1 = ClassLabel(names=list(codebook.level1_ids))
    # the names beside the class indexes, in the same order: what DuckDB, Polars or
    # pandas show without decoding the Hugging Face metadata
    names = ({"label_names": List(Value("string")),
              "label_names_level1": List(Value("string"))} if layout.named else {})
    if config == "paragraphs":
        return Features({
            "paragraph_id": Value("string"),
            "article_id": Value("string"),
            "paragraph_index": Value("int32"),
            "heading": Value("string"),
            "text": Value("string"),
            "sha256": Value("string"),
            "title": Value("string"),
            "source": Value("string"),
            "published": Value("date32"),
            "labels": List(labels),
            "labels_level1": List(level1),
            "annotators": Value("int32"),
            **names,  # last: the columns of older layouts keep their positions
        })
    if config == "articles":
        licence = ({"license": Value("string"), "attribution": Value("string")}
                   if layout.licensed else {})
        return Features({
            "article_id": Value("string"),
            "source": Value("string"),
            "url": Value("string"),
            "title": Value("string"),
            "authors": List(Value("string")),
            "published": Value("date32"),
            "section": Value("string"),
            "language": Value("string"),
            **licence,
            "body": Value("string"),
            "paragraphs": List({"index": Value("int32"), "heading": Value("string"),
                                "text": Value("string")}),
            "judged_paragraphs": Value("int32"),
            "labels": List(labels),
            "labels_level1": List(level1),
            **names,
        })
    if config == "annotations":
        return Features({
            "paragraph_id": Value("string"),
            "article_id": Value("string"),
            "paragraph_index": Value("int32"),
            "paragraph_sha256": Value("string"),
            "labels": List(Value("string")),
            "annotator": Value("string"),
            "role": Value("string"),
            "created": Value("string"),
            "confidence": Value("float32"),
            "note": Value("string"),
        })
    raise ValueError(f"unknown config {config!r}")


def release_dir(corpus: Corpus, version: str) -> Path:
    """Release `version`'s folder; an unsafe-path error if it, or the releases folder,
    is a symlink (through which a build would write, and verify and load read, a
    folder outside the corpus)."""
    folder = corpus.releases / f"v{version}"
    for path in (corpus.releases, folder):
        if path.is_symlink():
            raise fail("unsafe-path", file=str(path),
                       detail=f"{path} is a symlink (to {os.readlink(path)}); releases must "
                       "be folders of the corpus: replace the link with the folder itself")
    return folder


def parse_version(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version.lstrip("v"))
    if not match:
        raise ValueError(version)
    return int(match[1]), int(match[2]), int(match[3])


def list_versions(corpus: Corpus) -> list[str]:
    if corpus.releases.is_symlink():
        release_dir(corpus, "0.0.0")  # raises: the folder is a link out of the corpus
    if not corpus.releases.is_dir():
        return []
    found = [p.name[1:] for p in corpus.releases.iterdir()
             if p.is_dir() and VERSION_RE.match(p.name[1:]) and (p / "manifest.json").is_file()]
    return sorted(found, key=parse_version)


def read_manifest(corpus: Corpus, version: str) -> Manifest:
    """Release `version`'s manifest, checked (`manifest-invalid` if it is not one)."""
    path = release_dir(corpus, version) / MANIFEST_NAME
    if not path.is_file() and not path.is_symlink():
        available = ", ".join(list_versions(corpus)) or "none"
        raise fail("release-missing", file=str(path),
                   detail=f"no release v{version} (available: {available})")
    if path.is_symlink():
        raise fail("manifest-invalid", file=str(path),
                   detail=f"{path.name} is a symlink; a release's files are its own")
    return Manifest.from_json(path, version)
