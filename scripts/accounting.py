"""Every source item accounted for: a table of what went into the corpus and why not.

For each source given as SOURCE=FOLDER (a folder of feed snapshots, or of GUM
CoNLL-U documents), it counts the item occurrences in the raw files and the
unique items (by link, or by sourceURL for GUM), then finds each unique item in
the corpus: stored as an article (by its URL) or listed in
corpus/excluded/<source>.jsonl with a reason. The rows must add up: unique =
ingested + excluded, and occurrences = unique + duplicates merged; an item in
neither place is reported as missing and the script exits 1.

    python scripts/accounting.py state.gov=../shared/data/us-state-department-pr/feeds \\
        whitehouse.gov=../shared/data/white-house-pr/feeds \\
        en.wikinews.org=../shared/data/gum-wikinews

Prints a Markdown table (docs/sources.md and the release notes quote it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_ITEM = re.compile(rb"<item\b.*?</item>|<entry\b.*?</entry>", re.S)
_LINK = re.compile(rb"<link>\s*([^<]+?)\s*</link>|<link[^>]*href=\"([^\"]+)\"")
_GUM_URL = re.compile(r"^# meta::sourceURL = (\S+)", re.M)


@dataclass
class Row:
    source: str
    occurrences: int = 0
    unique: set[str] = field(default_factory=set)
    ingested: int = 0
    excluded: Counter[str] = field(default_factory=Counter)

    @property
    def missing(self) -> int:
        return len(self.unique) - self.ingested - sum(self.excluded.values())


def occurrences(folder: Path) -> tuple[int, set[str]]:
    """Item occurrences and unique item links of every raw file in `folder`."""
    count, links = 0, set()
    for path in sorted(folder.iterdir()):
        if path.suffix == ".conllu":
            found = _GUM_URL.findall(path.read_text(encoding="utf-8"))
            count += len(found[:1])
            links.update(found[:1])
        elif path.suffix in {".rss", ".xml", ".atom"}:
            for item in _ITEM.findall(path.read_bytes()):
                match = _LINK.search(item)
                if match:
                    count += 1
                    links.add((match.group(1) or match.group(2)).decode("utf-8").strip())
    return count, links


def account(corpus: Path, source: str, folder: Path) -> Row:
    row = Row(source)
    row.occurrences, row.unique = occurrences(folder)
    urls: set[str] = set()
    for path in (corpus / "articles").glob("*.json"):
        record = json.loads(path.read_bytes())
        if record.get("source") == source and record.get("url"):
            urls.add(record["url"])
    row.ingested = len(row.unique & urls)
    ledger = corpus / "excluded" / f"{source}.jsonl"
    if ledger.is_file():
        for line in ledger.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            if entry.get("url") in row.unique and entry.get("url") not in urls:
                row.excluded[str(entry["reason"])] += 1
    return row


def table(rows: list[Row]) -> str:
    reasons = sorted({r for row in rows for r in row.excluded})
    head = ["source", "item occurrences", "duplicates merged", "unique items", "ingested",
            *[f"excluded: {r}" for r in reasons], "missing"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.source, row.occurrences, row.occurrences - len(row.unique), len(row.unique),
                 row.ingested, *[row.excluded.get(r, 0) for r in reasons], row.missing]
        lines.append("| " + " | ".join(f"{c:,}" if isinstance(c, int) else c for c in cells)
                     + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+", metavar="SOURCE=FOLDER")
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parents[1] / "corpus")
    args = parser.parse_args(argv)
    rows = []
    for spec in args.sources:
        source, _, folder = spec.partition("=")
        if not folder or not Path(folder).is_dir():
            print(f"accounting: {spec!r}: expected SOURCE=FOLDER with an existing folder",
                  file=sys.stderr)
            return 2
        rows.append(account(args.corpus, source, Path(folder)))
    print(table(rows))
    missing = sum(row.missing for row in rows)
    if missing:
        print(f"accounting: {missing} item(s) neither ingested nor excluded", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
