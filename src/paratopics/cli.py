"""The `paratopics` command: argument parsing, output and exit codes only.

Exit codes: 0 success, 1 invalid data (problems were reported), 2 misuse.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import codebook as codebook_module
from . import ingest as ingest_module
from . import stats as stats_module
from .errors import ParatopicsError, Problem, UsageError, format_github, format_json, format_text
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

    add("stats", cmd_stats, "counts and label distribution of the corpus")
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
