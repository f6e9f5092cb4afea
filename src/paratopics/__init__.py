"""paratopics: an annotated news corpus with paragraph-level topic labels.

Public names are re-exported here; everything else is an implementation detail.
"""

from paratopics.codebook import Codebook
from paratopics.codebook import load as load_codebook
from paratopics.corpus.records import Annotation, Article, Paragraph
from paratopics.corpus.store import Corpus
from paratopics.errors import (
    CATALOG,
    MisuseError,
    ParatopicsError,
    Problem,
    UsageError,
    YankedReleaseWarning,
)
from paratopics.ingest.core import ingest_files, make_article, parse
from paratopics.ingest.draft import Draft
from paratopics.ingest.normalize import normalize_document, normalize_paragraph
from paratopics.validate.core import validate_corpus

__version__ = "0.1.0"

#: Loader names, imported on first use: `datasets` takes a second to import.
_LOADER = ("LabelMap", "label_map", "label_names", "load")


def __getattr__(name: str) -> object:
    if name in _LOADER:
        from paratopics import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'paratopics' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the loader's, so that `dir()` and completion show them
    before they are first used."""
    return sorted({*globals(), *_LOADER})


__all__ = [
    "CATALOG",
    "Annotation",
    "Article",
    "Codebook",
    "Corpus",
    "Draft",
    "LabelMap",
    "MisuseError",
    "Paragraph",
    "ParatopicsError",
    "Problem",
    "UsageError",
    "YankedReleaseWarning",
    "__version__",
    "ingest_files",
    "label_map",
    "label_names",
    "load",
    "load_codebook",
    "make_article",
    "normalize_document",
    "normalize_paragraph",
    "parse",
    "validate_corpus",
]
