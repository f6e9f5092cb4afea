"""`paratopics init`: a repository of one's own corpus, ready for annotators and CI.

It writes the corpus folders and their marker (corpus_config), a README whose
front matter is the dataset card, a pre-commit configuration using this
project's hook, a GitHub workflow using this project's action, and a
.gitignore. The templates ship in the package (paratopics/templates/).

It never overwrites: a folder that already holds a corpus gets only the files
it lacks, and a folder holding anything else is refused, so that a mistyped
path cannot scatter corpus folders over someone's work.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from paratopics import __version__
from paratopics.corpus.config import (
    DEFAULT_FOLDER,
    MARKER,
    SHIPPED_CODEBOOK,
    read_codebook_file,
    render_marker,
)
from paratopics.errors import UsageError
from paratopics.corpus.store import atomic_write

#: Where this project lives: the hook's `repo` and the action's `uses` point here.
PROJECT_URL = "https://github.com/paratopics/paratopics"
ACTION = "paratopics/paratopics"
#: The tag of this version, which the hook and the action are pinned to.
REF = f"v{__version__}"
#: The corpus's own codebook, when it has one, relative to the corpus root.
OWN_CODEBOOK = "codebook.json"
LAYOUT = ("sources", "articles", "annotations", "releases")
#: Entries a folder may hold and still count as empty (`git init` was run first).
IGNORED = frozenset({".git"})


@dataclass
class InitResult:
    root: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def template(name: str) -> str:
    return (resources.files("paratopics") / "templates" / name).read_text(encoding="utf-8")


def fill(text: str, values: dict[str, str]) -> str:
    """`@KEY@` placeholders (GitHub's `${{ }}` and YAML braces stay as they are)."""
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def check_name(name: str) -> str:
    if not name.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise UsageError(f"--name {name!r}: give a non-empty name on one line")
    return name.strip()


def is_corpus_repository(folder: Path) -> bool:
    """A folder made by init, or one holding a corpus/ with the corpus layout."""
    corpus = folder / DEFAULT_FOLDER
    return (corpus / MARKER).is_file() or any((corpus / sub).is_dir() for sub in LAYOUT)


def check_target(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file, not a folder")
    if not folder.is_dir() or is_corpus_repository(folder):
        return
    others = sorted(p.name for p in folder.iterdir() if p.name not in IGNORED)
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise UsageError(f"{folder}: not empty and not a corpus repository (it holds {shown}); "
                         "give a new or empty folder, or one with a corpus/ folder")


def scaffold_files(name: str, codebook: str) -> dict[str, str]:
    """Repository-relative path -> content of every file init writes."""
    values = {"NAME": name, "NAME_YAML": json.dumps(name, ensure_ascii=False),
              "PROJECT_URL": PROJECT_URL, "ACTION": ACTION, "REF": REF}
    files = {f"{DEFAULT_FOLDER}/{MARKER}": render_marker(name, codebook),
             "README.md": fill(template("README.md"), values),
             ".pre-commit-config.yaml": fill(template("pre-commit-config.yaml"), values),
             ".github/workflows/validate.yml": fill(template("validate.yml"), values),
             ".gitignore": template("gitignore")}
    # git keeps no empty folders: a placeholder keeps the layout in a fresh clone
    files.update({f"{DEFAULT_FOLDER}/{sub}/.gitkeep": "" for sub in LAYOUT})
    return files


def init(folder: Path, name: str | None = None, codebook: str = SHIPPED_CODEBOOK,
         ) -> InitResult:
    """Scaffold a corpus repository in `folder`; existing files are kept as they are."""
    check_target(folder)
    name = check_name(name if name is not None else folder.resolve().name)
    own: bytes | None = None
    marker_value = SHIPPED_CODEBOOK
    if codebook != SHIPPED_CODEBOOK:
        source = Path(codebook)
        if not source.is_file():
            raise UsageError(f"--codebook {codebook}: no such file (give {SHIPPED_CODEBOOK!r} "
                             "or a codebook JSON file)")
        read_codebook_file(source)  # a broken codebook stops here, exit 1, naming the problem
        own = source.read_bytes()
        marker_value = OWN_CODEBOOK
    marker = folder / DEFAULT_FOLDER / MARKER
    if marker.is_file() and codebook != SHIPPED_CODEBOOK:
        raise UsageError(f"{marker} exists already: edit its `codebook` key instead of "
                         "passing --codebook")
    result = InitResult(folder)
    files = scaffold_files(name, marker_value)
    if own is not None:
        files[f"{DEFAULT_FOLDER}/{OWN_CODEBOOK}"] = own.decode("utf-8")
    # the marker last: a run cut short is finished by running init again
    order = sorted(files, key=lambda rel: rel == f"{DEFAULT_FOLDER}/{MARKER}")
    for rel in order:
        path = folder / rel
        if path.exists() or path.is_symlink():
            result.kept.append(rel)
            continue
        atomic_write(path, files[rel].encode("utf-8"))
        result.written.append(rel)
    return result


# -- the command --------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = ("start a corpus repository: corpus folders and marker, README dataset card, "
            "pre-commit hook, GitHub workflow")
    command = sub.add_parser("init", help=text, description=text + ". Existing files are kept.")
    command.add_argument("folder", metavar="DIR", help="a new or empty folder (or a corpus "
                         "repository, to add the files it lacks)")
    command.add_argument("--name", help="the corpus's name (default: the folder's name)")
    command.add_argument("--codebook", default=SHIPPED_CODEBOOK, metavar="iptc|FILE",
                         help="'iptc' (default): the codebook shipped with paratopics; or a "
                         "codebook JSON file of your own, copied into the corpus")
    command.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    result = init(Path(args.folder), args.name, args.codebook)
    for rel in result.written:
        print(f"wrote     {rel}")
    for rel in result.kept:
        print(f"kept      {rel} (exists)")
    where = result.root
    print(f"init: corpus repository at {where}: {len(result.written)} file(s) written, "
          f"{len(result.kept)} kept. Next: cd {where} && git init && pre-commit install; "
          "then `paratopics ingest FILE`", file=sys.stderr)
    return 0
