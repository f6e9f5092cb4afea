"""Generate a synthetic corpus for tests, benchmarks and demos (see paratopics.synthetic).

    python scripts/generate_corpus.py --articles 10000 --seed 0 --out /tmp/corpus

Writes sources, article records and annotation files into DIR (a corpus
folder); the same arguments always give byte-identical files. Progress goes to
stderr; a summary line to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from paratopics.corpus.store import Corpus
from paratopics.report import Progress
from paratopics.synthetic import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True, help="how many articles")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="corpus folder to write into (created if missing)")
    parser.add_argument("--annotators", type=int, default=2,
                        help="annotators per paragraph (default: 2)")
    parser.add_argument("--unlabeled-share", type=float, default=0.1,
                        help="share of paragraphs nobody judges (default: 0.1)")
    args = parser.parse_args(argv)
    if args.articles < 0:
        parser.error("--articles must be at least 0")
    started = time.monotonic()
    info = generate(Corpus(args.out), args.articles, args.seed, annotators=args.annotators,
                    unlabeled_share=args.unlabeled_share, on_progress=Progress("articles"))
    print(f"generated {info.articles:,} articles, {info.paragraphs:,} paragraphs "
          f"({info.judged_paragraphs:,} judged), {info.judgements:,} judgements in "
          f"{time.monotonic() - started:.1f} s into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
