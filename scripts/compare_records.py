"""Check that rewriting the article records changed only what it was meant to.

    python scripts/compare_records.py BEFORE/articles AFTER/articles [--may-change FIELD ...]

Compares every record of two copies of corpus/articles: the same files, the same
article ids, and in each record the same paragraphs (index, heading, text, sha256,
offsets) and the same values of every other field except those named by
--may-change (default: schema_version, license, attribution and
ingested_from.sha256, which a schema migration may set). Prints one line per
difference and a summary; exits 1 if any record differs beyond what may change.
Annotations name paragraphs by article id, index and text sha256, so when this
passes they still point at the same texts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_MAY_CHANGE = ("schema_version", "license", "attribution", "ingested_from.sha256")


def flatten(record: dict[str, object], prefix: str = "") -> dict[str, object]:
    """Top-level and ingested_from fields as dotted keys; paragraphs kept whole."""
    out: dict[str, object] = {}
    for key, value in record.items():
        if key == "ingested_from" and isinstance(value, dict):
            out.update({f"ingested_from.{k}": v for k, v in value.items()})
        else:
            out[prefix + key] = value
    return out


def differences(before: dict[str, object], after: dict[str, object],
                may_change: frozenset[str]) -> list[str]:
    a, b = flatten(before), flatten(after)
    return [f"{key}: {a.get(key, '(absent)')!r} -> {b.get(key, '(absent)')!r}"[:300]
            for key in sorted(set(a) | set(b))
            if key not in may_change and a.get(key) != b.get(key)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--may-change", nargs="*", default=list(DEFAULT_MAY_CHANGE))
    args = parser.parse_args(argv)
    names_a = {p.name for p in args.before.glob("*.json")}
    names_b = {p.name for p in args.after.glob("*.json")}
    bad = 0
    for name in sorted(names_a ^ names_b):
        print(f"{name}: only in {'before' if name in names_a else 'after'}")
        bad += 1
    may_change = frozenset(args.may_change)
    changed_fields: dict[str, int] = {}
    paragraphs = 0
    for name in sorted(names_a & names_b):
        before = json.loads((args.before / name).read_text(encoding="utf-8"))
        after = json.loads((args.after / name).read_text(encoding="utf-8"))
        paragraphs += len(after.get("paragraphs", []))
        for key in may_change:
            if flatten(before).get(key) != flatten(after).get(key):
                changed_fields[key] = changed_fields.get(key, 0) + 1
        found = differences(before, after, may_change)
        for line in found:
            print(f"{name}: {line}")
        bad += bool(found)
    print(f"compared {len(names_a & names_b)} records ({paragraphs} paragraphs): "
          f"{bad} differ beyond {', '.join(sorted(may_change))}; changed as allowed: "
          + (", ".join(f"{k} in {n}" for k, n in sorted(changed_fields.items())) or "nothing"),
          file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
