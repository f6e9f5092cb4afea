"""The `paratopics` command: argument parsing, output and exit codes only.

Exit codes: 0 success, 1 invalid data (problems were reported), 2 misuse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import codebook as codebook_module
from . import ingest as ingest_module
from . import publish as publish_module
from . import release as release_module
from . import stats as stats_module
from .errors import (
    ParatopicsError,
    Problem,
    UsageError,
    format_github,
    format_json,
    format_text,
    problem,
)
from .report import Progress
from .store import Corpus, corpus_lock, find_corpus
from .validate import display_path, validate_corpus

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _corpus(args: argparse.Namespace) -> Corpus:
    chosen = args.corpus or os.environ.get("PARATOPICS_CORPUS")
    root = Path(chosen) if chosen else find_corpus()
    if root is None:
        raise UsageError("no corpus found here: run inside a paratopics checkout or pass "
                         "--corpus DIR")
    if not root.is_dir():
        raise UsageError(f"--corpus {root}: no such folder")
    return Corpus(root)


def _emit(problems: Sequence[Problem], fmt: str) -> None:
    if fmt == "json":
        print(format_json(problems))
        return
    render = format_github if fmt == "github" else format_text
    for found in problems:
        print(render(found))


# -- commands -----------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    paths = [Path(p) for p in args.paths]
    with corpus_lock(corpus, "ingest"):
        report = ingest_module.ingest_files(
            corpus, paths, fmt=args.format, source=args.source, replace=args.replace,
            max_bytes=args.max_bytes, max_line_bytes=args.max_line_bytes)
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    for change in report.changes:
        counts[change.status] += 1
        if change.status == "new" or (change.status == "updated" and args.verbose):
            print(f"{change.status:9} {change.article_id}")
        if change.status == "updated":
            parts = [f"{len(change.changed)} changed {list(change.changed)}" if change.changed
                     else "", f"{len(change.added)} added" if change.added else "",
                     f"{len(change.removed)} removed" if change.removed else ""]
            detail = ", ".join(p for p in parts if p) or "metadata or provenance only"
            print(f"updated   {change.article_id}: paragraphs {detail}")
    _emit(report.problems, "text")
    print(f"ingest: {report.files} file(s), {counts['new']} new, {counts['updated']} updated, "
          f"{counts['unchanged']} unchanged article(s), {len(report.problems)} problem(s)",
          file=sys.stderr)
    return EXIT_INVALID if report.problems else EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    paths = None
    if args.paths:
        paths = [Path(p) for p in args.paths]
        for path in paths:
            if not path.is_file():
                raise UsageError(f"{path}: no such file")
            if path.suffix not in {".json", ".jsonl"}:
                raise UsageError(f"{path}: validate takes article records (.json) and "
                                 "annotation files (.jsonl)")
    progress = Progress("annotation lines") if args.format == "text" else None
    summary = validate_corpus(corpus, paths, on_progress=progress)
    _emit(summary.problems, args.format)
    if args.format != "json":
        verdict = "valid" if not summary.errors else f"{summary.errors} problem(s)"
        print(f"validate: {summary.articles} article(s), {summary.annotation_files} annotation "
              f"file(s) with {summary.annotation_lines:,} line(s): {verdict}", file=sys.stderr)
    return EXIT_INVALID if summary.errors else EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    book = codebook_module.load()
    print(stats_module.corpus_stats_text(corpus, book))
    versions = release_module.list_versions(corpus)
    if args.version or versions:
        manifest = release_module.read_manifest(corpus, _version(args.version, corpus))
        print()
        print(release_module.stats_text(manifest))
        if args.plot:
            out = release_module.plot_labels(manifest, Path(args.plot))
            print(f"\nlabel chart written to {out}")
    elif args.plot:
        raise UsageError("--plot needs a release: build one first")
    return EXIT_OK


def _version(requested: str | None, corpus: Corpus) -> str:
    """The version asked for (a leading 'v' allowed), else the latest release."""
    if requested:
        return requested.lstrip("v")
    versions = release_module.list_versions(corpus)
    if not versions:
        raise UsageError(f"no release in {corpus.releases}: build one with "
                         "`paratopics build --version X.Y.Z`")
    return versions[-1]


def cmd_build(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    version = args.version.lstrip("v")
    try:
        release_module.check_version(version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    book = codebook_module.load()
    with corpus_lock(corpus, "build"):
        summary = validate_corpus(corpus, codebook=book)
        if summary.errors:
            _emit(summary.problems, "text")
            print(f"build: refused: the corpus has {summary.errors} problem(s); fix them and "
                  "run `paratopics validate` until it passes", file=sys.stderr)
            return EXIT_INVALID
        result = release_module.build(corpus, version, book, notes=args.notes)
    rows = result.manifest["configs"]
    for config, info in rows.items():  # type: ignore[attr-defined]
        parts = ", ".join(f"{split} {n:,}" for split, n in info["rows"].items()) or "(empty)"
        print(f"  {config:12} {parts}")
    verb = "built" if result.status == "built" else "already built, identical:"
    print(f"build: {verb} v{version} at {display_path(result.path)} "
          f"({len(result.manifest['files'])} files)")  # type: ignore[arg-type]
    if result.status == "built" and publish_module.update_readme(corpus, book):
        print("build: README front matter now points at v" + version)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    book = codebook_module.load()
    versions = [_version(args.version, corpus)] if args.version or not args.all else (
        release_module.list_versions(corpus))
    failed = 0
    for version in versions:
        issues = release_module.verify(corpus, version, book)
        for issue in issues:
            print(format_text(problem("release-corrupt", file=f"releases/v{version}",
                                      detail=issue)))
        failed += bool(issues)
        state = "intact" if not issues else f"{len(issues)} difference(s)"
        print(f"verify: v{version}: {state}", file=sys.stderr)
    return EXIT_INVALID if failed else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    corpus = _corpus(args)
    result = release_module.diff(corpus, args.old.lstrip("v"), args.new.lstrip("v"))
    if args.format == "json":
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(release_module.diff_text(result))
    return EXIT_OK


# -- wiring -------------------------------------------------------------------


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", metavar="DIR",
                        help="corpus folder (default: the checkout's corpus/, or "
                        "$PARATOPICS_CORPUS)")
    parser = argparse.ArgumentParser(
        prog="paratopics",
        description="Build, check and serve the paratopics corpus.",
        epilog="Exit codes: 0 success, 1 invalid data, 2 usage error.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
            ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    ingest = add("ingest", cmd_ingest, "read raw articles into normalized article records")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--format", choices=ingest_module.FORMATS, default="auto",
                        help="input format (default: detected from name and content)")
    ingest.add_argument("--source", help="source name for JSON records that lack one")
    ingest.add_argument("--replace", action="store_true",
                        help="let a file with another name replace an article's record")
    ingest.add_argument("--max-bytes", type=_positive, default=ingest_module.MAX_FILE_BYTES,
                        help="largest input file accepted (default: %(default)s)")
    ingest.add_argument("--max-line-bytes", type=_positive,
                        default=ingest_module.MAX_LINE_BYTES,
                        help="largest JSON Lines record accepted (default: %(default)s)")
    ingest.add_argument("-v", "--verbose", action="store_true")

    validate = add("validate", cmd_validate,
                   "check article records and annotation files against schema and meaning")
    validate.add_argument("paths", nargs="*", metavar="PATH",
                          help="files to check (default: the whole corpus)")
    validate.add_argument("--format", choices=("text", "github", "json"), default="text")

    stats = add("stats", cmd_stats, "counts and label distribution of the corpus and a release")
    stats.add_argument("--version", help="release to describe (default: the latest)")
    stats.add_argument("--plot", metavar="PNG", help="also write a bar chart of the labels")

    build = add("build", cmd_build, "validate, then write release VERSION as Parquet")
    build.add_argument("--version", required=True, help="semantic version X.Y.Z")
    build.add_argument("--notes", help="release notes for the changelog entry")

    verify = add("verify", cmd_verify, "check a release against its manifest and changelog")
    verify.add_argument("--version", help="release to check (default: the latest)")
    verify.add_argument("--all", action="store_true", help="check every release")

    diff = add("diff", cmd_diff, "what changed between two releases")
    diff.add_argument("old", metavar="A")
    diff.add_argument("new", metavar="B")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"paratopics {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ParatopicsError as exc:
        print(format_text(exc.problem), file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted; nothing was left half-written", file=sys.stderr)
        return 130


__all__ = ["display_path", "main"]
