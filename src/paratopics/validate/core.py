"""Validation of a whole corpus: article records, then annotation files, each problem
collected (not just the first) with file, line, JSON pointer, message and hint
(see errors.CATALOG), and a summary to print.

The steps live beside this module: `schema`, `index`, `cache`, `articles`,
`annotations`, `summary`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paratopics import codebook as codebook_module
from paratopics.codebook import Codebook, load_json_resource
from paratopics.corpus.config import codebook_for
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, Problem, problem
from paratopics.validate.annotations import check_annotations
from paratopics.validate.articles import Mapper, check_articles_parallel
from paratopics.validate.cache import AnnotationCache, ValidCache, open_annotation_cache, open_cache
from paratopics.validate.fastschema import surely_valid
from paratopics.validate.index import ArticleIndex
from paratopics.validate.schema import Checker, make_validator, schema_problems
from paratopics.validate.summary import Summary, display_path


def codebook_problems(codebook: Codebook) -> list[Problem]:
    validator = make_validator("codebook.schema.json")
    data = load_json_resource("codebook.json")
    found = [] if surely_valid(validator.schema, data) else schema_problems(
        validator, data, "schema/codebook.json")
    found += [problem("codebook", file="schema/codebook.json", detail=d)
              for d in codebook_module.tree_problems(codebook)]
    return found


def validate_corpus(corpus: Corpus, paths: list[Path] | None = None,
                    codebook: Codebook | None = None,
                    on_progress: Callable[[int], None] | None = None,
                    jobs: int = 1, use_cache: bool = True,
                    mapper: Mapper | None = None) -> Summary:
    """Check the corpus, or only `paths` (articles are always indexed for annotations).

    With a `mapper` (an engine's map, paratopics.engine) article records and
    annotation files are checked in its tasks instead of `jobs` processes.

    Article records, and annotation files read line by line, go through `jobs`
    processes. Records whose bytes passed
    before are not parsed again (see ValidCache), and annotation files that
    passed before are not read again while the articles they judge are
    unchanged (see AnnotationCache). The report is the same whatever `jobs`
    and whatever the caches hold.
    """
    book = codebook or codebook_for(corpus.root)
    checker = Checker(book)
    cache = open_cache() if use_cache else ValidCache()
    summary = Summary(problems=codebook_problems(book))
    index = ArticleIndex(history=corpus.history)
    all_articles = corpus.article_paths()
    if paths is None:
        article_paths: list[Path] | list[str] = all_articles
        try:
            annotation_paths = corpus.annotation_files()
        except ParatopicsError as exc:
            summary.problems.append(exc.problem)
            annotation_paths = []
        summary.problems += [
            problem("annotation-misplaced", file=display_path(path), detail=(
                "in a subfolder of annotations/: never read" if path.parent != corpus.annotations
                else f"named {path.suffix}, not .jsonl: never read"))
            for path in corpus.stray_annotations()]
    else:
        article_paths = [p for p in paths if p.suffix == ".json"]
        annotation_paths = [p for p in paths if p.suffix == ".jsonl"]
    summary.problems += list(check_articles_parallel(corpus, article_paths, checker, index,
                                                     cache, jobs, mapper))
    summary.articles = len(article_paths)
    if annotation_paths and paths is not None:
        named = {Path(p).resolve() for p in article_paths}
        rest = [p for p in all_articles if Path(p).resolve() not in named]
        for _ in check_articles_parallel(corpus, rest, checker, index, cache, jobs, mapper):
            pass  # problems in articles not asked about are not reported here
    cache.save(prune=paths is None)
    summary.records_parsed = checker.records_parsed
    if annotation_paths:
        notes = open_annotation_cache(checker) if use_cache else AnnotationCache()
        found = check_annotations(corpus, annotation_paths, checker, index, notes, on_progress,
                                  jobs=jobs, mapper=mapper)
        notes.save(prune=paths is None)
        summary.problems += found.problems
        summary.suppressed += found.suppressed
        summary.annotation_files = found.annotation_files
        summary.annotation_lines = found.annotation_lines
        summary.lines_checked = found.lines_checked
    return summary
