"""paratopics: an annotated news corpus with paragraph-level topic labels.

Public names are re-exported here; everything else is an implementation detail.
"""

import importlib
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # imported on first use, below; named here for type checkers
    from paratopics.ingest.core import ingest_files, make_article, parse
    from paratopics.ingest.draft import Draft
    from paratopics.ingest.normalize import normalize_document, normalize_paragraph
    from paratopics.loader import LabelMap, label_map, label_names, load
    from paratopics.validate.core import validate_corpus

__version__ = "0.1.0"

#: Names imported on first use, by module: `datasets` takes a second to import, and
#: a command needs only some of the stages (every command imports this package).
_LAZY = {
    "paratopics.ingest.core": ("ingest_files", "make_article", "parse"),
    "paratopics.ingest.draft": ("Draft",),
    "paratopics.ingest.normalize": ("normalize_document", "normalize_paragraph"),
    "paratopics.loader": ("LabelMap", "label_map", "label_names", "load"),
    "paratopics.validate.core": ("validate_corpus",),
}


def __getattr__(name: str) -> object:
    for module, names in _LAZY.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'paratopics' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and those imported on first use, so that `dir()` and
    completion show them before they are first used."""
    return sorted({*globals(), *(name for names in _LAZY.values() for name in names)})


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
