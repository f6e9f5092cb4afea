"""The `paratopics` command: argument parsing, output and exit codes only.

Exit codes: 0 success, 1 invalid data (problems were reported), 2 misuse.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from paratopics import __version__
from paratopics import codebook as codebook_module
from paratopics.annotate import commands as annotate_commands
from paratopics.corpus import init as corpus_init
from paratopics.corpus.config import codebook_for, locate_corpus
from paratopics.corpus.store import Corpus, atomic_write, check_folders, corpus_lock
from paratopics.engine import ENGINES
from paratopics.engine.ray_engine import engine_for
from paratopics.errors import (
    CALLER_CODES,
    MissingExtra,
    MisuseError,
    ParatopicsError,
    Problem,
    UsageError,
    fail,
    format_github,
    format_json,
    format_text,
    problem,
)
from paratopics.ingest import core as ingest_module
from paratopics.report import Progress
from paratopics.validate.summary import display_path

# Modules of a few commands are imported by those commands: every command starts
# by importing this module, and ingest or validate need none of them.
if TYPE_CHECKING:
    from paratopics.engine.ray_engine import RayEngine
    from paratopics.ml.annotation_report import Judgements

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _corpus(args: argparse.Namespace) -> Corpus:
    located = locate_corpus(args.corpus)
    if located is None:
        raise UsageError("no corpus found here: run inside a paratopics checkout or pass "
                         "--corpus DIR")
    root = located.root
    if not root.is_dir():
        shown = "--corpus" if located.origin == "given" else located.origin
        raise UsageError(f"{shown} {root}: no such folder")
    layout = ("sources", "articles", "annotations", "releases")
    if not any((root / sub).is_dir() for sub in layout) and any(
            not p.name.startswith(".") for p in root.iterdir()):
        # a typo like --corpus ~ or --corpus ../.. must not scatter corpus folders there
        raise UsageError(f"--corpus {root}: not a corpus folder (it has none of "
                         f"{', '.join(s + '/' for s in layout)}); pass a corpus or an empty "
                         "folder")
    return check_folders(Corpus(root))


def _require(command: str, module: str, package: str, extra: str) -> None:
    """Stop before any work when `command` needs an extra this install lacks: a
    core install has neither scikit-learn nor matplotlib."""
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(command, package, extra)


def _codebook(corpus: Corpus) -> codebook_module.Codebook:
    """The codebook of `corpus`: its own when its marker names one, else the shipped one."""
    return codebook_for(corpus.root)


def _emit(problems: Sequence[Problem], fmt: str) -> None:
    if fmt == "json":
        print(format_json(problems))
        return
    render = format_github if fmt == "github" else format_text
    for found in problems:
        print(render(found))


def _report(fmt: str, data: Callable[[], object], text: Callable[[], str]) -> int:
    """Print a command's result as JSON for machines or as text for people."""
    print(json.dumps(data(), indent=2, ensure_ascii=False) if fmt == "json" else text())
    return EXIT_OK


# -- commands -----------------------------------------------------------------


@contextlib.contextmanager
def _engine(engine: RayEngine | None) -> Iterator[RayEngine | None]:
    """The engine asked for (engine_for, called before any work, so that a missing
    Ray is said first), entered for the command: none for local (today's path);
    Ray connected to (or started) on entry, and what ran where said in one line
    at the end."""
    if engine is None:
        yield None
        return
    with engine:
        yield engine
        print(engine.summary(), file=sys.stderr)


def _add_engine(command: argparse.ArgumentParser) -> None:
    command.add_argument("--engine", choices=ENGINES, default="local",
                         help="local: this machine (default); ray: a Ray cluster (needs the "
                         'ray extra: pip install "paratopics[ray]"); the output is the same')
    command.add_argument("--address", metavar="HOST:PORT",
                         help="with --engine ray: the head node of the cluster, as `ray start "
                         "--head` prints it (default: $RAY_ADDRESS, else a Ray instance "
                         "started for this command); every node needs this paratopics and "
                         "the corpus at the same path")


def _waiting(command: str) -> Callable[[str], None]:
    """Say once why a command with --wait is not starting yet."""
    return lambda holder: print(f"{command}: waiting for the corpus lock: {holder}",
                                file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    engine = engine_for(args.engine, args.address, "ingest")
    corpus = _corpus(args)
    paths = [Path(p) for p in args.paths]
    with corpus_lock(corpus, "ingest", wait=args.wait, on_wait=_waiting("ingest")), \
            _engine(engine):
        progress = Progress("files", total=len(paths))
        report = ingest_module.ingest_files(
            corpus, paths, fmt=args.format, source=args.source, replace=args.replace,
            max_bytes=args.max_bytes, max_line_bytes=args.max_line_bytes, jobs=args.jobs,
            on_progress=lambda files, paragraphs: progress(files, paragraphs=paragraphs),
            mapper=engine.map if engine is not None else None,
            licensing=ingest_module.Licensing(args.license, args.attribution),
            chunk_bytes=args.chunk_bytes)
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
    elapsed = progress.elapsed()
    print(f"ingest: {report.files} file(s), {counts['new']} new, {counts['updated']} updated, "
          f"{counts['unchanged']} unchanged article(s), {len(report.problems)} problem(s); "
          f"{report.paragraphs:,} paragraphs in {elapsed:.1f} s "
          f"({report.paragraphs / max(elapsed, 1e-9):,.0f}/s, {args.jobs} job(s))",
          file=sys.stderr)
    return EXIT_INVALID if report.problems else EXIT_OK


def _validate_paths(corpus: Corpus, given: list[Path]) -> list[Path] | None:
    """The files `validate PATH...` means: files as given, a folder's .json and .jsonl
    files (corpus/articles, corpus/annotations), or None (all) for the corpus itself."""
    out: list[Path] = []
    for path in given:
        if path.is_dir():
            if path.resolve() == corpus.root.resolve():
                return None
            inside = sorted(p for p in path.iterdir() if p.is_file()
                            and p.suffix in {".json", ".jsonl"} and not p.name.startswith("."))
            if not inside:
                raise UsageError(f"{path}: the folder holds no article record (.json) or "
                                 "annotation file (.jsonl)")
            out += inside
        elif not path.is_file():
            raise UsageError(f"{path}: no such file or folder")
        elif path.suffix not in {".json", ".jsonl"}:
            raise UsageError(f"{path}: validate takes article records (.json), annotation "
                             "files (.jsonl) and folders of them")
        else:
            out.append(path)
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from paratopics.validate.core import validate_corpus

    engine = engine_for(args.engine, args.address, "validate")
    corpus = _corpus(args)
    paths = _validate_paths(corpus, [Path(p) for p in args.paths]) if args.paths else None
    progress = Progress("annotation lines") if args.format == "text" else None
    with _engine(engine):
        summary = validate_corpus(corpus, paths, on_progress=progress, jobs=args.jobs,
                                  use_cache=not args.no_cache,
                                  mapper=engine.map if engine is not None else None)
    _emit(summary.problems, args.format)
    if args.format != "json":
        verdict = "valid" if not summary.errors else f"{summary.errors} problem(s)"
        print(f"validate: {summary.articles} article(s), {summary.annotation_files} annotation "
              f"file(s) with {summary.annotation_lines:,} line(s): {verdict}", file=sys.stderr)
    return EXIT_INVALID if summary.errors else EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    if args.plot:
        _require("stats --plot", "matplotlib", "matplotlib", "plot")
    from paratopics import stats as stats_module
    from paratopics.release import layout as release_layout
    from paratopics.release import report as release_report  # brings pyarrow: only here

    corpus = _corpus(args)
    book = _codebook(corpus)
    print(stats_module.corpus_stats_text(corpus, book))
    if args.version or _yank().default_version(corpus) is not None:
        manifest = release_layout.read_manifest(corpus, _version(args.version, corpus))
        print()
        print(release_report.stats_text(manifest))
        if args.plot:
            out = release_report.plot_labels(manifest, Path(args.plot))
            print(f"\nlabel chart written to {out}")
    elif release_layout.list_versions(corpus):
        print(f"\n{_yank().no_default(corpus)}")
        if args.plot:
            raise UsageError("--plot needs a release: give --version")
    elif args.plot:
        raise UsageError("--plot needs a release: build one first")
    return EXIT_OK


def _yank() -> ModuleType:
    from paratopics.release import yank

    return yank


def _version(requested: str | None, corpus: Corpus, warn: bool = True) -> str:
    """The version asked for, else the latest release not yanked, as `paratopics.load()`
    picks it (release.versions); a yanked one asked for is used, with a one-line
    warning (unless `warn` is False)."""
    from paratopics.release import versions

    chosen = versions.resolve_in(corpus, requested or None,
                                 Path(display_path(corpus.releases)))
    if warn and chosen.warning is not None:
        print(format_text(chosen.warning), file=sys.stderr)
    return chosen.version


def cmd_build(args: argparse.Namespace) -> int:
    engine = engine_for(args.engine, args.address, "build")
    from paratopics.release import build as release_build  # brings pyarrow: only here
    from paratopics.release import layout as release_layout

    corpus = _corpus(args)
    version = release_build.check_version(args.version.lstrip("v"))
    book = _codebook(corpus)
    notes = _older_notes(release_layout, corpus, version, args.notes, args.allow_older)
    with corpus_lock(corpus, "build", wait=args.wait, on_wait=_waiting("build")), \
            _engine(engine):
        target = release_layout.release_dir(corpus, version)
        existed = target.exists()
        try:  # validates first; nothing is written unless the corpus is valid
            summary, result = release_build.validate_then_build(
                corpus, version, book, notes=notes, use_cache=not args.no_cache,
                engine=engine)
        except OSError as exc:  # e.g. the disk filled up while Parquet was written
            kept = target.exists() and not existed
            raise ParatopicsError(problem(
                "write-failed", file=display_path(target),
                detail=f"could not write release v{version}: {exc.strerror or exc}; " + (
                    "the release folder was written but not its changelog entry: run the "
                    "same build again" if kept else
                    "nothing was changed (the partial build was removed)"))) from None
        if result is None:
            _emit(summary.problems, "text")
            print(f"build: refused: the corpus has {summary.errors} problem(s); fix them and "
                  "run `paratopics validate` until it passes", file=sys.stderr)
            return EXIT_INVALID
    for config, info in result.manifest.configs.items():
        parts = ", ".join(f"{split} {n:,}" for split, n in info.rows.items()) or "(empty)"
        print(f"  {config:12} {parts}")
    verb = "built" if result.status == "built" else "already built, identical:"
    files = len(result.manifest.files)
    reused = f"; {result.reused} of {result.shards} shards reused from the build cache" if (
        result.status == "built" and result.reused) else ""
    print(f"build: {verb} v{version} at {display_path(result.path)} ({files} files{reused})")
    from paratopics.publish import core as publish_module  # imports datasets: only when needed

    try:
        card = publish_module.update_readme(corpus, book)  # (also after a card was fixed)
    except ParatopicsError as exc:
        if exc.problem.code != "write-failed":  # e.g. a card that cannot be read: its own words
            raise
        # the release is built: say so, not "nothing was changed"
        raise ParatopicsError(problem(
            "partly-written", file=exc.problem.file,
            detail=f"release v{version} is built and complete, but the README's front matter "
            f"could not be updated ({exc.problem.message.removesuffix('; nothing was changed')}); "
            "run the same build again to update it (the release is found identical)")) from None
    if card.changed:
        print("build: README front matter now points at v" + version)
    elif card.refused is not None:
        print(format_text(card.refused), file=sys.stderr)
    return EXIT_OK


def _older_notes(release: ModuleType, corpus: Corpus, version: str, notes: str | None,
                 reason: str | None) -> str | None:
    """The changelog notes of a build; a new version below the latest is refused unless
    --allow-older says why (a patch to an old line, say), and the reason is recorded."""
    versions = release.list_versions(corpus)
    if not versions or version in versions:
        return notes  # the first release, or an existing one checked again
    latest = versions[-1]
    if release.parse_version(version) > release.parse_version(latest):
        return notes
    if not reason or not reason.strip():
        raise UsageError(f"--version {version} is lower than the latest release v{latest}: "
                         "bump it past the latest, or give --allow-older REASON (for example "
                         "a patch to an older line) to build it anyway")
    told = f"Older than v{latest}, built because: {' '.join(reason.split())}"
    return f"{notes}\n\n{told}" if notes else told


def _all_versions(corpus: Corpus) -> list[str]:
    """Every release that exists or ever existed: a folder named vX.Y.Z or an entry in
    the changelog, so that a deleted manifest (or release) is reported, not skipped."""
    from paratopics.release import changelog as changelog_module
    from paratopics.release import layout as release_layout

    found = set(release_layout.list_versions(corpus))
    unfinished = {v for v in changelog_module.pending_versions(corpus)
                  if not release_layout.release_dir(corpus, v).is_dir()}
    found |= set(changelog_module.changelog_digests(corpus)) - unfinished
    if corpus.releases.is_dir():
        found |= {p.name[1:] for p in corpus.releases.iterdir()
                  if p.is_dir() and release_layout.VERSION_RE.match(p.name[1:])}
    return sorted(found, key=release_layout.parse_version)


def cmd_verify(args: argparse.Namespace) -> int:
    from paratopics.release import layout as release_layout
    from paratopics.release.verify import verify  # brings pyarrow: only here

    corpus = _corpus(args)
    book = _codebook(corpus)
    if args.version:
        known = _all_versions(corpus)
        wanted = args.version.lstrip("v")
        if wanted not in known:  # as `diff` says it: no such release, and the ones there are
            raise fail("release-missing", file=display_path(release_layout.release_dir(
                corpus, wanted)), detail=f"no such release v{wanted} (available: "
                f"{', '.join(known) or 'none'})")
    versions = [_version(args.version, corpus, warn=False)] if args.version or not args.all \
        else _all_versions(corpus)
    yanked = _yank().yanked(corpus)
    failed = 0
    for version in versions:
        problems = verify(corpus, version, book)
        for found in problems:
            print(format_text(found))
        failed += bool(problems)
        state = "intact" if not problems else f"{len(problems)} difference(s)"
        if version in yanked:
            state += f" (yanked on {yanked[version].when})"
        print(f"verify: v{version}: {state}", file=sys.stderr)
    return EXIT_INVALID if failed else EXIT_OK


def _now() -> str:
    """The time a yank records: UTC to the second, from the clock (read here, at the edge)."""
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_yank(args: argparse.Namespace) -> int:
    from paratopics.release import changelog as changelog_module

    corpus = _corpus(args)
    yank = _yank()
    with corpus_lock(corpus, "yank", wait=args.wait, on_wait=_waiting("yank")):
        done = yank.yank(corpus, args.version, args.reason, _now())
        print(f"yank: v{done.version} yanked on {done.when}: kept on disk and verifiable, "
              "skipped when no version is given; recorded in "
              f"{display_path(changelog_module.changelog_path(corpus))}")
        default = yank.default_version(corpus)
        if default is None:
            print("yank: every release is now yanked: the README front matter keeps pointing "
                  f"at v{done.version} until a new release is built", file=sys.stderr)
            return EXIT_OK
        from paratopics.publish import core as publish_module  # imports datasets

        try:
            card = publish_module.update_readme(corpus, _codebook(corpus))
        except ParatopicsError as exc:
            raise ParatopicsError(problem(
                "partly-written", file=exc.problem.file,
                detail=f"v{done.version} is yanked, but the README's front matter could not "
                f"be pointed at v{default} ({exc.problem.message}); fix that and run "
                "`paratopics build --version " + default + "` to update it")) from None
    if card.changed:
        print(f"yank: README front matter now points at v{default}")
    elif card.refused is not None:
        print(format_text(card.refused), file=sys.stderr)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from paratopics.release import read as release_read  # brings pyarrow: only here

    corpus = _corpus(args)
    result = release_read.diff(corpus, args.old.lstrip("v"), args.new.lstrip("v"))
    return _report(args.format, lambda: result, lambda: release_read.diff_text(result))


def _checked_judgements(corpus: Corpus, book: codebook_module.Codebook, command: str,
                        ) -> Judgements | None:
    """Judgements of a valid corpus; else the problems on stderr and None."""
    from paratopics.ml import annotation_report as annotation_report_module

    checked, problems = annotation_report_module.load_checked(corpus, book)
    if checked is None:
        for found in problems:
            print(format_text(found), file=sys.stderr)
        print(f"{command}: the corpus has {len(problems)} problem(s); fix them first "
              "(see `paratopics validate`)", file=sys.stderr)
    return checked


def cmd_agreement(args: argparse.Namespace) -> int:
    from paratopics.ml import annotation_report as annotation_report_module
    from paratopics.release import judgements as annotations_module

    corpus = _corpus(args)
    book = _codebook(corpus)
    checked = _checked_judgements(corpus, book, "agreement")
    if checked is None:
        return EXIT_INVALID
    result = annotations_module.agreement(checked.records, book.level1)
    return _report(args.format, lambda: annotation_report_module.agreement_data(result, book),
                   lambda: annotation_report_module.agreement_text(result, book))


def cmd_adjudicate(args: argparse.Namespace) -> int:
    from paratopics.ml import annotation_report as annotation_report_module

    corpus = _corpus(args)
    book = _codebook(corpus)
    checked = _checked_judgements(corpus, book, "adjudicate")
    if checked is None:
        return EXIT_INVALID
    result = annotation_report_module.adjudicate_all(checked.records, book, checked.paragraphs)
    return _report(args.format, lambda: annotation_report_module.adjudication_data(result),
                   lambda: annotation_report_module.adjudication_text(result))


def cmd_codebook(args: argparse.Namespace) -> int:
    from paratopics.publish import skos as skos_module

    located = locate_corpus(args.corpus)
    root = located.root if located is not None else None
    book = codebook_for(root) if root is not None and root.is_dir() else codebook_module.load()
    data = skos_module.dumps(skos_module.skos(book))
    if args.out is None:
        sys.stdout.write(data.decode("utf-8"))
        return EXIT_OK
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder, not a file")
    atomic_write(out, data)
    print(f"codebook: wrote {out} ({len(book.nodes)} concepts, SKOS JSON-LD)", file=sys.stderr)
    return EXIT_OK


def cmd_guide(args: argparse.Namespace) -> int:
    from paratopics.publish import guide as guide_module

    # the guide of the corpus here, if there is one; else of the shipped codebook
    located = locate_corpus(args.corpus)
    root = located.root if located is not None else None
    book = codebook_for(root) if root is not None and root.is_dir() else codebook_module.load()
    if args.out is None:
        sys.stdout.write(guide_module.guide_markdown(book))
        return EXIT_OK
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder, not a file")
    guide_module.write_guide(out, book)
    print(f"guide: wrote {out}", file=sys.stderr)
    return EXIT_OK


def _iso_date(text: str) -> str:
    """A YYYY-MM-DD date, for argparse."""
    import datetime as dt

    try:
        if dt.date.fromisoformat(text).isoformat() == text:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date")


def _today() -> str:
    """The publication date when none is given: reproducible builds' $SOURCE_DATE_EPOCH,
    else the clock's (read here, at the edge; the publishing code never reads it)."""
    import datetime as dt

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = (dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch.isdigit()
              else dt.datetime.now(dt.timezone.utc))
    return moment.date().isoformat()


def _level(text: str) -> int:
    if text not in {"1", "2"}:
        raise argparse.ArgumentTypeError("must be 1 or 2")
    return int(text)


def cmd_evaluate(args: argparse.Namespace) -> int:
    _require("evaluate", "sklearn", "scikit-learn", "train")
    from paratopics.ml import evaluate as evaluate_module

    corpus = _corpus(args)
    book = _codebook(corpus)
    predictions = Path(args.predictions)
    if not predictions.is_file():
        raise UsageError(f"--predictions {predictions}: no such file")
    try:
        result = evaluate_module.evaluate(corpus, predictions, book,
                                          _version(args.version, corpus), split=args.split,
                                          level=args.level, lenient=args.lenient)
    except evaluate_module.PredictionProblems as exc:  # every one, as validate reports
        for found in exc.problems:
            print(format_text(found), file=sys.stderr)
        errors = sum(1 for p in exc.problems if p.code != "more-problems")
        print(f"evaluate: {predictions}: {errors}{'+' if errors < len(exc.problems) else ''} "
              "problem(s); fix them, or pass --lenient to count them and score the rest",
              file=sys.stderr)
        return EXIT_INVALID
    return _report(args.format, lambda: result,
                   lambda: evaluate_module.report_text(result, book))


def cmd_train(args: argparse.Namespace) -> int:
    _require("train", "sklearn", "scikit-learn", "train")
    from paratopics.ml import baseline as baseline

    corpus = _corpus(args)
    book = _codebook(corpus)
    version = _version(args.version, corpus)
    card = baseline.train(corpus, version, args.level, Path(args.out), book)
    print(baseline.model_card(card))
    print(f"train: model written to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    _require("predict", "sklearn", "scikit-learn", "train")
    from paratopics.ml import baseline as baseline
    from paratopics.ml import evaluate as evaluate_module

    model, card = baseline.load_model(Path(args.model))
    if args.input:
        items = list(baseline.read_texts(Path(args.input)))
    else:
        corpus = _corpus(args)
        version = _version(args.version, corpus)
        gold = evaluate_module.read_gold(corpus, version, args.split, int(card["level"]),
                                         _codebook(corpus))
        items = [(pid, gold.texts[pid]) for pid in gold.ids]
    lines = [json.dumps(r, ensure_ascii=False) + "\n"
             for r in baseline.predict(model, card, items)]
    out = Path(args.out)
    atomic_write(out, "".join(lines).encode("utf-8"))
    print(f"predict: {len(lines)} prediction(s) written to {out}", file=sys.stderr)
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    import tempfile

    from huggingface_hub.errors import HfHubHTTPError

    from paratopics.publish import core as publish_module  # imports datasets: only when needed
    from paratopics.release import layout as release_layout

    corpus = _corpus(args)
    version = _version(args.version, corpus)
    yanked = _yank().yanked(corpus).get(version)
    if yanked is not None and args.repo_id:
        raise MisuseError(problem(
            "release-yanked", file=display_path(release_layout.release_dir(corpus, version)),
            detail=f"{_yank().described(yanked)}: pushing it would make it the latest on the "
            "Hub; push a release that is not yanked (publish --out DIR still writes it)"))
    if args.dry_run and not args.repo_id:
        raise UsageError("--dry-run shows what a push to --repo-id would upload: give --repo-id")
    if not args.out and not args.repo_id:
        raise UsageError("give --out DIR for a Hub-ready folder, or --repo-id ORG/NAME to push")
    if args.repo_id:
        publish_module.check_repo_id(args.repo_id)
    token = publish_module.hub_token() if args.repo_id and not args.dry_run else None
    with tempfile.TemporaryDirectory(prefix="paratopics-publish-") as scratch:
        out = Path(args.out) if args.out else Path(scratch) / "paratopics"
        published = publish_module.publish_folder(corpus, version, out, _codebook(corpus),
                                                  repo_id=args.repo_id,
                                                  date=args.date or _today())
        total = sum(size for _, size in published.files)
        hint = (f"; load it with datasets.load_dataset({str(out)!r}, 'paragraphs')"
                if args.out else "")
        print(f"publish: v{version} written to {out} ({len(published.files)} files, "
              f"{total:,} bytes){hint}", file=sys.stderr)
        for note in published.notes:
            print(f"publish: note: {note}", file=sys.stderr)
        if not args.repo_id:
            return EXIT_OK
        plan = publish_module.plan_upload(published, args.repo_id)
        print(publish_module.plan_text(plan))
        if token is None:
            print("publish: dry run, nothing uploaded", file=sys.stderr)
            return EXIT_OK
        try:
            url = publish_module.push(plan, out, token)
        except (HfHubHTTPError, OSError) as exc:
            print(f"publish: push to {args.repo_id} failed: {exc}", file=sys.stderr)
            return EXIT_INVALID
    print(f"publish: pushed v{version} to {url}", file=sys.stderr)
    return EXIT_OK


# -- wiring -------------------------------------------------------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds") from None
    if not 0 <= value < 1e7:
        raise argparse.ArgumentTypeError("must be between 0 and 10,000,000 seconds")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _licence_id(text: str) -> str:
    from paratopics.corpus import licences

    if not licences.is_licence_id(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an SPDX licence id (e.g. CC-BY-4.0) or a LicenseRef- id")
    return text


def _attribution(text: str) -> str:
    from paratopics.corpus import licences

    if not licences.has_link(text) and "{url}" not in text:
        raise argparse.ArgumentTypeError(
            "name whom to credit and give a link (https://...), or {url} for each "
            "article's URL")
    return text


_FORMAT = "text for people, json for machines (default: %(default)s)"
_SPLIT = ("the split to score: train, validation or test; a release of one small article "
          "has only train (default: %(default)s)")
_LEVEL = ("2: IPTC level-2 and project labels; 1: their IPTC level-1 parents "
          "(default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", metavar="DIR",
                        help="corpus folder (default: $PARATOPICS_CORPUS, else the corpus "
                        "marked by the nearest paratopics.toml at or above this folder, else "
                        "the corpus/ of the checkout around it)")
    parser = argparse.ArgumentParser(
        prog="paratopics",
        description="Build, check and serve the paratopics corpus.",
        epilog="Exit codes: 0 success, 1 invalid data, 2 usage error.")
    parser.add_argument("--version", action="version", version=f"paratopics {__version__}",
                        help="print the package's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
            ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    ingest = add("ingest", cmd_ingest, "read raw articles into normalized article records")
    ingest.add_argument("paths", nargs="+", metavar="PATH",
                        help="raw files to read (a shell glob like folder/* names many)")
    ingest.add_argument("--format", choices=ingest_module.FORMATS, default="auto",
                        help="input format (default: detected from name and content)")
    ingest.add_argument("--source", help="source name for JSON records that lack one")
    ingest.add_argument("--license", type=_licence_id, metavar="ID",
                        help="licence of articles whose input states none: an SPDX id "
                        "(CC-BY-4.0) or a LicenseRef- id (docs/sources.md)")
    ingest.add_argument("--attribution", type=_attribution, metavar="TEXT",
                        help="whom to credit, with a link, for articles whose input states "
                        "none; {url} becomes each article's URL")
    ingest.add_argument("--replace", action="store_true",
                        help="let a file with another name replace an article's record")
    ingest.add_argument("--max-bytes", type=_positive, default=ingest_module.MAX_FILE_BYTES,
                        help="largest input file accepted (default: %(default)s)")
    ingest.add_argument("--max-line-bytes", type=_positive,
                        default=ingest_module.MAX_LINE_BYTES,
                        help="largest JSON Lines record accepted (default: %(default)s)")
    ingest.add_argument("--chunk-bytes", type=_positive, default=ingest_module.CHUNK_BYTES,
                        help="a JSON Lines file larger than this is read in pieces of about "
                        "this size, parsed in parallel and never held whole in memory "
                        "(default: %(default)s)")
    ingest.add_argument("-j", "--jobs", type=_positive, default=os.cpu_count() or 1,
                        help="worker processes (default: all cores, %(default)s); the result "
                        "is the same for any number")
    ingest.add_argument("-v", "--verbose", action="store_true",
                        help="also name every updated article, not only new ones")
    _add_engine(ingest)
    ingest.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                        help="if another command holds the corpus, wait up to SECONDS for it "
                        "(default: stop at once)")

    validate = add("validate", cmd_validate,
                   "check article records and annotation files against schema and meaning")
    validate.add_argument("paths", nargs="*", metavar="PATH",
                          help="files to check, or folders whose .json and .jsonl files to "
                          "check (default: the whole corpus)")
    validate.add_argument("--format", choices=("text", "github", "json"), default="text",
                          help="text for people, github for workflow annotations on a pull "
                          "request's lines, json for machines (default: %(default)s)")
    validate.add_argument("-j", "--jobs", type=_positive, default=os.cpu_count() or 1,
                          help="processes for article records (default: all cores, "
                          "%(default)s); the report is the same for any number")
    _add_engine(validate)
    validate.add_argument("--no-cache", action="store_true",
                          help="check every article record and annotation line again, neither "
                          "reading nor writing the cache of files that passed before "
                          "($PARATOPICS_CACHE, default ~/.cache/paratopics)")

    stats = add("stats", cmd_stats, "counts and label distribution of the corpus and a release")
    stats.add_argument("--version", help="release to describe (default: the latest not yanked)")
    stats.add_argument("--plot", metavar="PNG",
                       help="also write a bar chart of the labels to PNG (needs the plot "
                       'extra: pip install "paratopics[plot]")')

    build = add("build", cmd_build, "validate, then write release VERSION as Parquet")
    build.add_argument("--version", required=True, help="semantic version X.Y.Z")
    build.add_argument("--notes", help="release notes for the changelog entry")
    build.add_argument("--allow-older", metavar="REASON",
                       help="build a version lower than the latest release (refused "
                       "otherwise), recording REASON in the changelog entry")
    build.add_argument("--no-cache", action="store_true",
                       help="check and build everything anew (no cache is read or written)")
    _add_engine(build)
    build.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                       help="if another command holds the corpus, wait up to SECONDS for it "
                       "(default: stop at once)")

    verify = add("verify", cmd_verify, "check a release against its manifest and changelog")
    verify.add_argument("--version", help="release to check (default: the latest not yanked)")
    verify.add_argument("--all", action="store_true",
                        help="check every release, yanked ones included")

    yank = add("yank", cmd_yank,
               "withdraw a mistaken release: kept on disk and verifiable, marked in the "
               "changelog, skipped when no version is given (there is no unyank)")
    yank.add_argument("version", metavar="VERSION", help="the release to yank, X.Y.Z (a "
                      "leading v is allowed)")
    yank.add_argument("--reason", required=True,
                      help="why it is withdrawn, in one sentence (recorded in the changelog)")
    yank.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                      help="if another command holds the corpus, wait up to SECONDS for it "
                      "(default: stop at once)")

    diff = add("diff", cmd_diff, "what changed between two releases")
    diff.add_argument("old", metavar="A", help="the earlier release, X.Y.Z (a leading v "
                      "is allowed)")
    diff.add_argument("new", metavar="B", help="the later release, X.Y.Z")
    diff.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT)

    agreement = add("agreement", cmd_agreement,
                    "inter-annotator agreement: Krippendorff's alpha (MASI), overall and per "
                    "label")
    agreement.add_argument("--format", choices=("text", "json"), default="text",
                           help=_FORMAT)

    adjudicate = add("adjudicate", cmd_adjudicate,
                     "gold labels per paragraph by the adjudication rule, with ties and "
                     "disagreements")
    adjudicate.add_argument("--format", choices=("text", "json"), default="text",
                            help=_FORMAT)

    guide = add("guide", cmd_guide, "write the annotation guide generated from the codebook")
    guide.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")

    codebook = add("codebook", cmd_codebook,
                   "the codebook as SKOS JSON-LD (IPTC concept URIs, broader concepts, "
                   "definitions), for thesaurus tools")
    codebook.add_argument("--out", metavar="FILE",
                          help="write to FILE (default: standard output)")

    evaluate = add("evaluate", cmd_evaluate,
                   "score a predictions file against gold labels (needs the train extra)")
    evaluate.add_argument("--predictions", required=True, metavar="FILE",
                          help="JSON Lines: paragraph_id, labels, optional scores")
    evaluate.add_argument("--version", help="release (default: the latest not yanked)")
    evaluate.add_argument("--split", default="test", help=_SPLIT)
    evaluate.add_argument("--level", type=_level, default=2, help=_LEVEL)
    evaluate.add_argument("--lenient", action="store_true",
                          help="count unknown, missing and duplicate ids and unknown labels "
                          "instead of stopping at the first")
    evaluate.add_argument("--format", choices=("text", "json"), default="text",
                          help=_FORMAT)

    train = add("train", cmd_train, "train the TF-IDF + logistic regression baseline (needs "
                'the train extra: pip install "paratopics[train]")')
    train.add_argument("--version", help="release (default: the latest not yanked)")
    train.add_argument("--level", type=_level, default=2, help=_LEVEL)
    train.add_argument("--out", required=True, metavar="DIR",
                       help="folder to write the model and its card (README.md, model.json) "
                       "to")

    predict = add("predict", cmd_predict,
                  "write predictions of a trained model (needs the train extra)")
    predict.add_argument("--model", required=True, metavar="DIR",
                         help="a model folder written by `paratopics train`")
    predict.add_argument("--input", metavar="JSONL",
                         help="texts to label (paragraph_id or id, text); default: a release "
                         "split")
    predict.add_argument("--version", help="release (default: the latest not yanked)")
    predict.add_argument("--split", default="test",
                         help="the release split to label when no --input is given "
                         "(default: %(default)s)")
    predict.add_argument("--out", required=True, metavar="FILE",
                         help="JSON Lines to write: paragraph_id, labels, scores (the input "
                         "of `paratopics evaluate`)")

    publish = add("publish", cmd_publish,
                  "write a release as a Hub-ready folder (card, data, Croissant); push it")
    publish.add_argument("--version", help="release to publish (default: the latest not yanked)")
    publish.add_argument("--out", metavar="DIR",
                         help="folder to write (an empty one, or one written by publish)")
    publish.add_argument("--repo-id", metavar="ORG/NAME",
                         help="push to this Hub dataset repository, tagged vX.Y.Z (token "
                         "from $HF_TOKEN, else the one `hf auth login` stored)")
    publish.add_argument("--dry-run", action="store_true",
                         help="with --repo-id: list what would be uploaded, upload nothing")
    publish.add_argument("--date", type=_iso_date, metavar="YYYY-MM-DD",
                         help="datePublished of croissant.json and the year of the citation "
                         "(default: the date of $SOURCE_DATE_EPOCH, else today in UTC; give it "
                         "to publish the same bytes again another day)")
    corpus_init.add_parser(sub)
    annotate_commands.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # A command builds large structures with no reference cycles; without this the
    # cyclic collector walks every object of the imports again and again (6% of a
    # validation), and forked workers would copy pages only to update its counts.
    gc.freeze()
    # JSON may escape a lone surrogate, which a message then quotes; UTF-8 cannot
    # hold one, so it is printed as its escape instead of ending the run.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        return int(args.func(args))
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except MisuseError as exc:  # a catalog problem of how the command was called
        print(format_text(exc.problem), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"paratopics {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ParatopicsError as exc:
        print(format_text(exc.problem), file=sys.stderr)
        return EXIT_USAGE if exc.problem.code in CALLER_CODES else EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted; nothing was left half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


__all__ = ["display_path", "main"]
