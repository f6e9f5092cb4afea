"""Baseline scores of a release on its test split, beside a majority-label baseline.

The dataset card quotes these figures, so they are produced by the same code as
`paratopics train`, `predict` and `evaluate`, on the release as shipped. Writes
corpus/scores/vX.Y.Z.json (what `paratopics publish` quotes in the card, tied to the
release's manifest by its sha256) and docs/scores.md, with the command that
reproduces them:

    python scripts/scores.py [--version 1.1.0] [--out docs/scores.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paratopics import loader
from paratopics.corpus.config import codebook_for
from paratopics.corpus.store import atomic_write, sha256_file
from paratopics.ml import scores as scores_module
from paratopics.publish import scores as recorded
from paratopics.release.layout import release_dir


def markdown(scores: recorded.Scores) -> str:
    return "\n".join([
        f"# Baseline scores of v{scores.version}", "",
        f"Test split of release v{scores.version}, gold labels adjudicated by the manifest's "
        "rule. Produced by `python scripts/scores.py`; the baseline is the one "
        "`paratopics train` fits (scored as `paratopics predict` and `paratopics "
        "evaluate` score it). The same figures are kept in "
        f"`corpus/scores/v{scores.version}.json`, which the published card quotes.", "",
        recorded.markdown_table(scores), ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", help="release to score (default: the latest)")
    parser.add_argument("--out", default="docs/scores.md", help="report (default: %(default)s)")
    args = parser.parse_args(argv)
    corpus = loader.default_corpus()
    version = loader.resolve_version(corpus, args.version)
    digest = sha256_file(release_dir(corpus, version) / "manifest.json")
    scores = scores_module.compute(corpus, version, codebook_for(corpus.root), digest,
                                   f"python scripts/scores.py --version {version}")
    path = recorded.scores_path(corpus, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, scores.to_json())
    text = markdown(scores)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {path}, {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
