"""Regenerate docs/guide.md and docs/errors.md from the codebook and the error catalog.

Both documents are derived data: writing them by hand would let them drift from
schema/codebook.json and paratopics.errors. `--check` only compares (for CI) and
exits 1 when a committed document is out of date.

    python scripts/gen_docs.py          # rewrite the documents
    python scripts/gen_docs.py --check  # fail if they differ from the generated text
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paratopics import codebook
from paratopics.corpus.store import atomic_write
from paratopics.errors import catalog_markdown
from paratopics.publish.guide import guide_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def generated() -> dict[Path, str]:
    """Each generated document and its expected content."""
    return {
        DOCS / "guide.md": guide_markdown(codebook.load()),
        DOCS / "errors.md": catalog_markdown(),
    }


def stale(documents: dict[Path, str]) -> list[Path]:
    return [path for path, text in documents.items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that the committed documents are up to date")
    args = parser.parse_args(argv)
    documents = generated()
    outdated = stale(documents)
    if args.check:
        for path in outdated:
            print(f"{path.relative_to(ROOT)} is out of date: run python scripts/gen_docs.py",
                  file=sys.stderr)
        return 1 if outdated else 0
    for path in outdated:
        atomic_write(path, documents[path].encode("utf-8"))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
