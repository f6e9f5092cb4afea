"""Building a release: validated records in, an immutable folder of Parquet files out.

A release `corpus/releases/vX.Y.Z/` holds one folder per config (paragraphs,
articles, annotations) with Parquet files per split, named as the Hub names
them, and `manifest.json` recording versions, counts, the label distribution,
the adjudication rule and every file's sha256, bytes and rows. It is written
into a marked temporary folder (`folders`) and renamed into place, so that a
build stopped at any point publishes nothing; an existing version is only
ever confirmed identical, never changed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paratopics.codebook import Codebook
from paratopics.corpus.records import ANNOTATION_SCHEMA_VERSION
from paratopics.corpus.store import Corpus, atomic_write, fsync_dir, sha256_file
from paratopics.errors import ParatopicsError, fail
from paratopics.release import judgements as annotations_module
from paratopics.release.build_cache import BuildCache
from paratopics.release.changelog import append_changelog, changelog_path, confirm_pending
from paratopics.release.folders import (
    build_marker,
    claim_build_folder,
    fsync_tree,
    remove_stale_builds,
)
from paratopics.release.inputs import fingerprint
from paratopics.release.layout import (
    CONFIGS,
    DEFAULT_CONFIG,
    SPLITS,
    STRICT_VERSION_RE,
    UNLABELED,
    VERSION_RE,
    Layout,
    read_manifest,
    release_dir,
)
from paratopics.release.manifest import Manifest
from paratopics.release.rows import SPLIT_SALT
from paratopics.release.shards import parquet_settings
from paratopics.release.tally import label_distribution, licence_table
from paratopics.release.tree import Cancelled, ShardBuilder, Written, write_tree
from paratopics.validate.cache import cache_dir
from paratopics.validate.core import validate_corpus
from paratopics.validate.summary import Summary
from paratopics.workers import die_with_parent

if TYPE_CHECKING:
    from paratopics.engine.ray_engine import RayEngine as Engine


def build_manifest(version: str, written: Written, codebook: Codebook,
                   layout: Layout | None = None) -> Manifest:
    layout = layout or Layout()
    tally = written.tally
    first, last = tally.published if tally.published else (None, None)
    return Manifest.from_dict({
        "name": "paratopics",
        "version": version,
        "manifest_version": layout.manifest_version,
        "versions": {"corpus": version, "article_schema": layout.article_schema,
                     "annotation_schema": ANNOTATION_SCHEMA_VERSION,
                     "codebook": codebook.version},
        "inputs": {"fingerprint": fingerprint(tally.hashed), "articles": tally.articles,
                   "judgements": tally.judgements,
                   "published": {"first": first, "last": last}},
        "splits": {"by": "sha256 of the salted article id", "salt": SPLIT_SALT,
                   "proportions": dict(SPLITS), "unlabeled": UNLABELED},
        "adjudication": {"rule": annotations_module.RULE, "text": annotations_module.RULE_TEXT,
                         "methods": dict(sorted(tally.methods.items())),
                         "ties": tally.ties, "disputed": tally.disputed},
        "configs": {c: {"default": c == DEFAULT_CONFIG, "rows": written.rows[c]}
                    for c in CONFIGS},
        "labels": {"classes": len(codebook.label_ids),
                   "distribution": label_distribution(tally, codebook)},
        "licences": licence_table(tally),
        "parquet": parquet_settings(),
        "files": written.files,
    })


def check_version(version: str) -> str:
    """`version` if a new release may take it: X.Y.Z, numbers without leading zeros
    (a version is compared as numbers, and `1.02.0` would name a release twice)."""
    if not STRICT_VERSION_RE.match(version):
        zeros = " without leading zeros" if VERSION_RE.match(version) else ""
        raise fail("version-invalid", version=version, zeros=zeros)
    return version


def _content(manifest: Manifest) -> object:
    return [(f.path, f.sha256) for f in manifest.files]


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    status: str  # "built" | "identical"
    manifest: Manifest
    shards: int = 0  # planned, empty ones included
    reused: int = 0  # of those, copied from the build cache


def _reason(exc: ParatopicsError) -> str:
    """A refused write's reason, without the "nothing was changed" that is true of the
    one file but not of the command that wrote others before it."""
    return exc.problem.message.removesuffix("; nothing was changed")


def build(corpus: Corpus, version: str, codebook: Codebook, notes: str | None = None,
          *, publish_if: Callable[[], bool] = lambda: True,
          cancelled: Callable[[], bool] = lambda: False, use_cache: bool = True,
          build_missing: ShardBuilder | None = None) -> BuildResult:
    """Write release `version`, or confirm an identical one; refuse a different one.

    The release is written into a hidden temporary folder and renamed into
    place, so an interrupted build leaves no partial release behind. Nothing is
    published unless `publish_if()` says so at the end; `cancelled()` is asked
    now and then, and a True stops the build. Both raise Cancelled. Records are
    read as validation accepts them (`store.load_validated_json`): build what has
    passed validation, as `validate_then_build` does.
    """
    check_version(version)
    target = release_dir(corpus, version)  # (refuses a symlinked releases folder)
    corpus.releases.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(corpus)
    confirm_pending(corpus)  # finish what a killed build left
    tmp = claim_build_folder(corpus, version)
    try:
        cache = BuildCache.open(cache_dir()) if use_cache else BuildCache()
        # an existing release is built again in its own columns, so that a schema or a
        # layout that only added columns (article schema 1.1.0: license, attribution;
        # manifest 1.3.0: label_names) leaves it reproducible
        layout = (Layout.of(read_manifest(corpus, version))
                  if (release_dir(corpus, version) / "manifest.json").is_file()
                  else Layout())
        written = write_tree(tmp, corpus, codebook, cancelled, cache, build_missing, layout)
        manifest = build_manifest(version, written, codebook, layout)
        if not publish_if():
            raise Cancelled
        atomic_write(tmp / "manifest.json", manifest.to_json())
        if target.exists():
            existing = read_manifest(corpus, version)
            if _content(existing) != _content(manifest):
                raise fail("release-exists", file=str(target),
                           detail=f"v{version} exists with different content "
                           f"({_summary_of_change(existing, manifest)})")
            append_changelog(corpus, existing, notes, only_if_missing=True)
            return BuildResult(version, target, "identical", existing)
        fsync_tree(tmp)
        append_changelog(corpus, manifest, notes, digest=sha256_file(tmp / "manifest.json"),
                         pending=True)
        os.rename(tmp, target)
        fsync_dir(corpus.releases)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            build_marker(tmp).unlink()
    try:
        confirm_pending(corpus)
    except ParatopicsError as exc:  # the release is in place: "nothing was changed" is false
        raise fail("partly-written", file=str(changelog_path(corpus)), detail=(
            f"release v{version} is complete at {target}, and its changelog entry is written "
            f"but still marked pending: confirming it failed ({_reason(exc)}); run "
            "the same build again to confirm it")) from None
    return BuildResult(version, target, "built", manifest, written.shards, written.reused)


#: From this many article files on, `validate_then_build` validates in a second
#: process beside the build: both take long enough there for the second core to pay
#: for the process (docs/build-design.md).
PARALLEL_FROM_ARTICLES = 5_000


def validate_then_build(corpus: Corpus, version: str, codebook: Codebook,
                        notes: str | None = None, use_cache: bool = True,
                        engine: Engine | None = None,
                        ) -> tuple[Summary, BuildResult | None]:
    """Validate the corpus, then build release `version` if it is valid.

    For a large corpus the two run at once, validation in a child process: the
    build writes into its temporary folder, stops as soon as validation has
    failed, and publishes nothing before it has passed. The outcome is that of
    validating first, sooner on two cores. On an `engine` (a
    cluster, which each stage fills on its own) validation comes first, then the build.
    """
    if engine is not None:
        summary = validate_corpus(corpus, codebook=codebook, use_cache=use_cache,
                                  mapper=engine.map)
        return summary, (None if summary.errors else build(
            corpus, version, codebook, notes, use_cache=use_cache,
            build_missing=engine.build_shards))
    if len(corpus.article_files()) < PARALLEL_FROM_ARTICLES:
        summary = validate_corpus(corpus, codebook=codebook, use_cache=use_cache)
        return summary, (None if summary.errors else build(corpus, version, codebook, notes,
                                                           use_cache=use_cache))
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        checking = pool.submit(validate_corpus, corpus, None, codebook, use_cache=use_cache)

        def failed() -> bool:
            return checking.done() and checking.result().errors > 0

        try:
            result = build(corpus, version, codebook, notes,
                           publish_if=lambda: checking.result().errors == 0, cancelled=failed,
                           use_cache=use_cache)
        except Exception:
            summary = checking.result()
            if summary.errors:  # the data is bad: its problems, not the build's crash
                return summary, None
            raise
        return checking.result(), result


def _summary_of_change(old: Manifest, new: Manifest) -> str:
    old_files = {f.path: f.sha256 for f in old.files}
    new_files = {f.path: f.sha256 for f in new.files}
    differ = sorted(p for p in set(old_files) | set(new_files)
                    if old_files.get(p) != new_files.get(p))
    return "differing files: " + ", ".join(differ[:5]) + ("…" if len(differ) > 5 else "")
