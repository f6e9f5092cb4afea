"""Which corpus a command means, and what the corpus says about itself.

A corpus is marked by `paratopics.toml` at its root: its name, its codebook,
the record schema it was written against and where its dataset card lives.
The marker makes a corpus findable from anywhere inside the repository that
holds it, whatever else that repository contains (a corpus of one's own has
no `pyproject.toml`), and lets it carry a codebook of its own.

The marker is TOML because it is the configuration format Python projects
already use (pyproject.toml), people edit it by hand and can comment it, and
the standard library reads it from 3.11 on (`tomli`, the same parser, on 3.10).
It is written from a fixed template, so no TOML writer is needed.

`find_corpus` is the one rule for "the corpus here", shared by the command line
and the Python API: the nearest marker walking up from a folder, else (for
checkouts made before markers existed) a `corpus/` beside a `pyproject.toml`.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from paratopics import codebook as codebook_module
from paratopics.codebook import Codebook
from paratopics.errors import fail
from paratopics.corpus.records import ANNOTATION_SCHEMA_VERSION, ARTICLE_SCHEMA_VERSION

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: The marker's file name, at the corpus root.
MARKER = "paratopics.toml"
#: The folder name a repository's corpus has by default (and the one looked for).
DEFAULT_FOLDER = "corpus"
#: `codebook = "iptc"`: the codebook shipped with the package (IPTC Media Topics
#: levels 1-2 and the project's nodes).
SHIPPED_CODEBOOK = "iptc"
#: The record schema version this package writes and reads.
SCHEMA_VERSION = ARTICLE_SCHEMA_VERSION
#: Where the dataset card lives by default, relative to the corpus root.
DEFAULT_CARD = "../README.md"
_KEYS = ("name", "codebook", "schema_version", "card")


@dataclass(frozen=True)
class CorpusConfig:
    """A corpus's marker, read: paths in it are relative to the corpus root."""

    root: Path
    name: str
    codebook: str = SHIPPED_CODEBOOK
    schema_version: str = SCHEMA_VERSION
    card: str = DEFAULT_CARD
    #: the marker file, or None for a checkout that has none (defaults apply)
    marker: Path | None = None

    @property
    def codebook_path(self) -> Path | None:
        """The corpus's own codebook file; None for the shipped one."""
        if self.codebook == SHIPPED_CODEBOOK:
            return None
        return self.root / self.codebook

    @property
    def card_path(self) -> Path:
        return Path(os.path.normpath(self.root / self.card))


# -- finding the corpus ---------------------------------------------------------


def find_marker(start: Path | None = None) -> Path | None:
    """The nearest `paratopics.toml` at or above `start`: in a folder itself, or in
    its `corpus/` (so that a repository's root and every folder in it find it)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder / MARKER, folder / DEFAULT_FOLDER / MARKER):
            if candidate.is_file():
                return candidate
    return None


def find_legacy(start: Path | None = None) -> Path | None:
    """A checkout's corpus/ without a marker: beside the nearest `pyproject.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / DEFAULT_FOLDER).is_dir() and (folder / "pyproject.toml").is_file():
            return folder / DEFAULT_FOLDER
    return None


def find_corpus(start: Path | None = None) -> Path | None:
    """The corpus here: the nearest marker's folder, else a checkout's corpus/."""
    marker = find_marker(start)
    if marker is not None:
        return marker.parent
    return find_legacy(start)


#: The environment variable that names the corpus when none is given.
CORPUS_ENV = "PARATOPICS_CORPUS"


def corpus_in(folder: Path) -> Path:
    """The corpus a folder given by name means: the folder itself, or, when it is the
    root of a repository or checkout, the corpus/ in it (marked, or beside a
    pyproject.toml). So `--corpus ~/paratopics` and `corpus="~/paratopics"` both
    mean the checkout's corpus; a new or empty folder is itself."""
    if (folder / MARKER).is_file():
        return folder
    inner = folder / DEFAULT_FOLDER
    if (inner / MARKER).is_file() or (inner.is_dir() and (folder / "pyproject.toml").is_file()):
        return inner
    return folder


@dataclass(frozen=True)
class Located:
    """Where the corpus is, and what said so (for messages about a wrong path)."""

    root: Path
    origin: str  # "given" (an argument), or the environment variable's name, or "found"


def locate_corpus(given: str | os.PathLike[str] | None = None,
                  cwd: Path | None = None) -> Located | None:
    """The one rule by which the command line and `paratopics.load()` pick a corpus:
    the one given, else $PARATOPICS_CORPUS, else the nearest marker (or checkout)
    at or above `cwd`. None when there is none; the path may not exist."""
    if given is not None and str(given):
        return Located(corpus_in(Path(given).expanduser()), "given")
    chosen = os.environ.get(CORPUS_ENV)
    if chosen:
        return Located(corpus_in(Path(chosen).expanduser()), f"${CORPUS_ENV}")
    found = find_corpus(cwd)
    return Located(found, "found") if found is not None else None


# -- reading the marker ---------------------------------------------------------


def _text(data: dict[str, object], key: str, default: str, marker: Path) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise fail("corpus-config", file=str(marker),
                   detail=f"[corpus] {key} must be a non-empty string, not {value!r}")
    return value


def parse_config(text: str, root: Path, marker: Path) -> CorpusConfig:
    """The marker's content, checked: a clear problem naming the key, never a traceback."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail("corpus-config", file=str(marker), detail=f"not valid TOML: {exc}") from None
    section = data.get("corpus")
    if not isinstance(section, dict):
        raise fail("corpus-config", file=str(marker),
                   detail="it has no [corpus] table (see docs/own-corpus.md for the layout)")
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise fail("corpus-config", file=str(marker),
                   detail=f"unknown key(s) in [corpus]: {', '.join(unknown)} (known: "
                   f"{', '.join(_KEYS)})")
    config = CorpusConfig(
        root=root,
        name=_text(section, "name", root.resolve().parent.name, marker),
        codebook=_text(section, "codebook", SHIPPED_CODEBOOK, marker),
        schema_version=_text(section, "schema_version", SCHEMA_VERSION, marker),
        card=_text(section, "card", DEFAULT_CARD, marker),
        marker=marker,
    )
    check_schema_version(config)
    return config


def check_schema_version(config: CorpusConfig) -> None:
    """Refuse a corpus written for another major version of the record schemas:
    its records would be misread, not merely reported."""
    wanted, have = config.schema_version.split(".")[0], SCHEMA_VERSION.split(".")[0]
    if wanted != have or ANNOTATION_SCHEMA_VERSION.split(".")[0] != have:
        raise fail("corpus-config", file=str(config.marker),
                   detail=f"schema_version {config.schema_version!r} is not supported by "
                   f"this paratopics, which reads schema {SCHEMA_VERSION}: install a "
                   "paratopics release made for it")


def read_config(root: Path) -> CorpusConfig:
    """The marker of the corpus at `root`, or the defaults where it has none."""
    marker = root / MARKER
    if not marker.is_file():
        return CorpusConfig(root=root, name=root.resolve().parent.name)
    try:
        text = marker.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail("corpus-config", file=str(marker),
                   detail=f"cannot be read: {exc}") from None
    return parse_config(text, root, marker)


# -- the corpus's codebook ----------------------------------------------------------


def codebook_errors(data: object) -> list[str]:
    """What keeps `data` from being a codebook: the schema first, then the tree."""
    from paratopics.schema_check import validator_for

    validator = validator_for(codebook_module.load_json_resource("codebook.schema.json"))
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
             for e in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))]
    if found or not isinstance(data, dict):
        return found
    return codebook_module.tree_problems(codebook_module.from_dict(data))


def read_codebook_file(path: Path) -> Codebook:
    """A codebook file that is not the shipped one, checked before it is used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail("codebook", file=str(path),
                   detail=f"cannot read the codebook: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise fail("codebook", file=str(path), detail=f"not valid JSON: {exc}") from None
    errors = codebook_errors(data)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise fail("codebook", file=str(path), detail=errors[0] + more)
    return codebook_module.from_dict(data)


def codebook_for(root: Path) -> Codebook:
    """The codebook labels of the corpus at `root` come from."""
    path = read_config(root).codebook_path
    return codebook_module.load() if path is None else read_codebook_file(path)


# -- writing the marker ---------------------------------------------------------


def toml_string(value: str) -> str:
    """`value` as a TOML basic string (JSON's escapes are TOML's, without ASCII-only
    escaping, which would write characters beyond the BMP as surrogate pairs)."""
    return json.dumps(value, ensure_ascii=False)


def render_marker(name: str, codebook: str = SHIPPED_CODEBOOK, card: str = DEFAULT_CARD) -> str:
    return (
        "# A paratopics corpus: `paratopics` finds the corpus by this file, from any\n"
        "# folder of the repository. See docs/own-corpus.md of paratopics.\n"
        "[corpus]\n"
        f"# the corpus's name (the dataset's pretty_name until you change the card)\n"
        f"name = {toml_string(name)}\n"
        f"# \"{SHIPPED_CODEBOOK}\": the codebook shipped with paratopics; else a JSON file "
        "relative to this one,\n"
        "# in the schema of paratopics' schema/codebook.json\n"
        f"codebook = {toml_string(codebook)}\n"
        "# the version of the article and annotation schemas the records follow\n"
        f"schema_version = {toml_string(SCHEMA_VERSION)}\n"
        "# the README whose YAML front matter is the dataset card, relative to this file;\n"
        "# `paratopics build` points its configs at the latest release\n"
        f"card = {toml_string(card)}\n"
    )
