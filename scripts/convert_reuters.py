"""Convert Reuters-21578 SGML into JSON Lines for `paratopics ingest` (benchmarks only).

    python scripts/convert_reuters.py [--src ../shared/data/reuters21578] --out /tmp/reuters

Writes one JSONL file per .sgm file and skipped.jsonl (every story not
converted, with its reason), then prints the accounting. The collection is for
research only: never write its output into corpus/.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from paratopics.ingest.reuters import Skipped, iter_reuters

DEFAULT_SRC = Path(__file__).resolve().parents[2] / "shared" / "data" / "reuters21578"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        parser.error(f"--src {args.src}: no such folder")
    args.out.mkdir(parents=True, exist_ok=True)
    reasons: Counter[str] = Counter()
    converted = stories = replaced_total = 0
    skipped_lines = []
    for path, records, replaced in iter_reuters(args.src):
        stories += len(records)
        replaced_total += replaced
        good = [r for r in records if not isinstance(r, Skipped)]
        converted += len(good)
        for r in records:
            if isinstance(r, Skipped):
                reasons[r.reason] += 1
                skipped_lines.append(json.dumps(r.__dict__))
        target = args.out / f"{path.stem}.jsonl"
        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good),
                          encoding="utf-8")
        note = f", {replaced} non-UTF-8 byte(s) read as cp1252" if replaced else ""
        print(f"  {path.name}: {len(records)} stories, {len(good)} converted{note}",
              file=sys.stderr)
    (args.out / "skipped.jsonl").write_text("".join(s + "\n" for s in skipped_lines),
                                            encoding="utf-8")
    print(f"stories {stories}: converted {converted}, skipped {sum(reasons.values())}")
    for reason, count in reasons.most_common():
        print(f"  skipped {count:5}  {reason}")
    return 0 if converted + sum(reasons.values()) == stories else 1


if __name__ == "__main__":
    raise SystemExit(main())
