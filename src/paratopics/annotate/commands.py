"""The `tasks` and `annotations` commands: argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from paratopics import codebook as codebook_module
from paratopics.annotate import label_studio
from paratopics.corpus.config import codebook_for, locate_corpus
from paratopics.corpus.store import Corpus, corpus_lock
from paratopics.errors import UsageError, format_text, problem

TOOLS = (label_studio.TOOL,)


def _corpus(args: argparse.Namespace) -> Corpus:
    from paratopics.cli import _corpus as find

    return find(args)


def _codebook_here(args: argparse.Namespace) -> codebook_module.Codebook:
    """The codebook of the corpus here, if there is one; else the shipped codebook.

    `tasks config` is useful before any corpus exists, so it never insists on one.
    """
    located = locate_corpus(getattr(args, "corpus", None))
    root = located.root if located is not None else None
    return codebook_for(root) if root is not None and root.is_dir() else codebook_module.load()


def cmd_tasks_config(args: argparse.Namespace) -> int:
    sys.stdout.write(label_studio.labeling_config(_codebook_here(args)))
    return 0


def cmd_tasks_export(args: argparse.Namespace) -> int:
    from paratopics.annotate import export

    if args.select == "uncertain" and not args.model:
        raise UsageError("--select uncertain ranks paragraphs by a model's uncertainty: give "
                         "--model DIR (a model from `paratopics train`)")
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder, not a file")
    model = Path(args.model) if args.model else None
    if model is not None and not (model / "model.json").is_file():
        raise UsageError(f"--model {model}: no model.json there (train one with "
                         "`paratopics train`)")
    corpus = _corpus(args)
    request = export.Request(args.select, args.limit, args.seed,
                             args.version.lstrip("v") if args.version else None,
                             tuple(args.exclude_annotator or ()), model)
    result = export.export_tasks(corpus, out, request, codebook_for(corpus.root))
    source = f"release v{request.version}" if request.version else "the working corpus"
    predicted = f", with predictions of {result.model_version}" if result.model_version else ""
    print(f"tasks export: {result.tasks:,} task(s) written to {out} ({args.select}: "
          f"{result.candidates:,} of {result.paragraphs:,} paragraph(s) in {source}"
          f"{predicted})", file=sys.stderr)
    return 0


def cmd_annotations_import(args: argparse.Namespace) -> int:
    from paratopics.annotate import importer

    source, out = Path(args.export), Path(args.out)
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if out.suffix != ".jsonl" or out.is_dir():
        raise UsageError(f"--out {out}: annotation files are .jsonl files")
    people: dict[str, str] = {}
    if args.annotators:
        mapping = Path(args.annotators)
        if not mapping.is_file():
            raise UsageError(f"--annotators {mapping}: no such file")
        people = importer.read_map(mapping)
    corpus = _corpus(args)
    with corpus_lock(corpus, "annotations import"):
        report = importer.import_export(source, out, corpus, codebook_for(corpus.root),
                                         people)
    for found in report.problems:
        print(format_text(found), file=sys.stderr)
    if report.more:
        print(format_text(problem("more-problems", file=str(source), count=report.more,
                                  kind="any")), file=sys.stderr)
    counts = (f"{report.tasks:,} task(s), {report.annotations:,} annotation(s); "
              f"{report.cancelled:,} skipped (cancelled), {report.drafts:,} draft(s) and "
              f"{report.predictions:,} prediction(s) not imported")
    if report.problems:
        print(f"annotations import: refused, nothing written: {len(report.problems) + report.more}"
              f" problem(s) in {source} ({counts})", file=sys.stderr)
        return 1
    state = "written" if report.written else "unchanged"
    print(f"annotations import: {out} {state}: {report.new:,} new, {report.replaced:,} "
          f"replaced, {report.unchanged:,} unchanged, {report.kept_newer:,} kept (the file's "
          f"line is newer); {counts}", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a positive integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be an integer") from None


def register(sub: argparse._SubParsersAction,
             common: argparse.ArgumentParser) -> None:
    """Add `tasks config|export` and `annotations import` to the paratopics command."""

    def nested(name: str, help_text: str) -> argparse._SubParsersAction:
        parser = sub.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def add(group: argparse._SubParsersAction, name: str,
            func: Callable[[argparse.Namespace], int], help_text: str,
            ) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = group.add_parser(
            name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(func=func)
        command.add_argument("--tool", choices=TOOLS, required=True,
                             help="the labeling tool")
        return command

    tasks = nested("tasks", "labeling tasks for an annotation tool")
    add(tasks, "config", cmd_tasks_config,
        "print the tool's labeling config made from the codebook")
    export = add(tasks, "export", cmd_tasks_export,
                 "write paragraphs to label as the tool's import file")
    export.add_argument("--out", required=True, metavar="FILE",
                        help="the tool's import file to write (JSON)")
    export.add_argument("--select", choices=("unjudged", "stale", "disagreements", "ties",
                                             "uncertain"), default="unjudged",
                        help="which paragraphs (default: %(default)s)")
    export.add_argument("--limit", type=_positive, metavar="N",
                        help="at most N tasks (a seeded sample; `uncertain`: the N least "
                        "certain)")
    export.add_argument("--seed", type=_integer, default=0,
                        help="seed of the sample (default: %(default)s)")
    export.add_argument("--version", help="take paragraphs and judgements from this release "
                        "(default: the working corpus)")
    export.add_argument("--exclude-annotator", action="append", metavar="NAME",
                        help="leave out paragraphs NAME already judged (repeatable)")
    export.add_argument("--model", metavar="DIR",
                        help="attach this baseline model's labels as predictions")

    annotations = nested("annotations", "judgements from an annotation tool")
    imported = add(annotations, "import", cmd_annotations_import,
                   "read the tool's export into an annotation file")
    imported.add_argument("export", metavar="EXPORT",
                          help="the JSON export, or the folder of the target storage")
    imported.add_argument("--out", required=True, metavar="FILE.jsonl",
                          help="the annotation file to write (corpus/annotations/NAME.jsonl)")
    imported.add_argument("--annotators", metavar="MAP",
                          help="TSV: Label Studio user id or e-mail, tab, public annotator id")
