"""paratopics: an annotated news corpus with paragraph-level topic labels.

Public names are re-exported here; everything else is an implementation detail.
"""

from .codebook import Codebook
from .codebook import load as load_codebook
from .errors import CATALOG, ParatopicsError, Problem, UsageError
from .ingest import Draft, ingest_files, make_article, parse
from .normalize import normalize_document, normalize_paragraph
from .records import Annotation, Article, Paragraph
from .store import Corpus
from .validate import validate_corpus

__version__ = "0.1.0"

#: Loader names, imported on first use: `datasets` takes a second to import.
_LOADER = ("LabelMap", "label_map", "label_names", "load")


def __getattr__(name: str) -> object:
    if name in _LOADER:
        from . import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'paratopics' has no attribute {name!r}")


__all__ = [
    "CATALOG",
    "Annotation",
    "Article",
    "Codebook",
    "Corpus",
    "Draft",
    "LabelMap",
    "Paragraph",
    "ParatopicsError",
    "Problem",
    "UsageError",
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
