"""Reading releases back: a config's rows, checked against the manifest and the
changelog first, and what changed between two releases.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from paratopics.corpus.store import Corpus
from paratopics.release.layout import CONFIGS, read_manifest, release_dir, split_names
from paratopics.release.verify import checked_files, class_names


def read_config(corpus: Corpus, version: str, config: str, check: bool = True,
                ) -> dict[str, pa.Table]:
    """split -> the rows of `config` in release `version`, from the files its
    manifest lists (never a stray file beside them), checked first against the
    manifest and the changelog unless `check` is False."""
    manifest = read_manifest(corpus, version)
    by_split = manifest.files_of(config)
    folder = release_dir(corpus, version)
    if check:
        checked_files(folder, manifest,
                      [entry for entries in by_split.values() for entry in entries], corpus)
    return {split: pa.concat_tables(pq.read_table(folder / entry.path)
                                    for entry in sorted(by_split[split], key=lambda e: e.path))
            for split in split_names() if split in by_split}


def _paragraph_view(corpus: Corpus, version: str
                    ) -> dict[str, tuple[str, int, str, tuple[str, ...]]]:
    """paragraph_id -> (article_id, index, sha256, gold label ids) over every split."""
    view = {}
    for table in read_config(corpus, version, "paragraphs").values():
        names = class_names(table.schema, "labels")
        columns = [table.column(c).to_pylist() for c in
                   ("paragraph_id", "article_id", "paragraph_index", "sha256", "labels")]
        for pid, aid, index, sha, labels in zip(*columns, strict=True):
            view[pid] = (aid, index, sha, tuple(names[i] for i in labels))
    return view


def diff(corpus: Corpus, old: str, new: str) -> dict[str, object]:
    """What changed between two releases: articles, paragraph texts, labels, counts."""
    before, after = _paragraph_view(corpus, old), _paragraph_view(corpus, new)

    def by_article(view: dict[str, tuple[str, int, str, tuple[str, ...]]]
                   ) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for aid, _index, sha, _labels in sorted(view.values()):
            out.setdefault(aid, []).append(sha)
        return out

    a, b = by_article(before), by_article(after)
    label_changes = [
        {"paragraph_id": pid, "before": list(before[pid][3]), "after": list(after[pid][3])}
        for pid in sorted(set(before) & set(after), key=lambda p: before[p][:2])
        if before[pid][3] != after[pid][3]
    ]
    newly_labeled = sorted(pid for pid in set(after) - set(before) if after[pid][3])
    m_old, m_new = read_manifest(corpus, old), read_manifest(corpus, new)
    counts = {}
    for config in CONFIGS:
        rows_old, rows_new = m_old.rows(config), m_new.rows(config)
        counts[config] = {s: {"before": rows_old.get(s, 0), "after": rows_new.get(s, 0)}
                          for s in split_names() if rows_old.get(s) or rows_new.get(s)}
    return {
        "from": old, "to": new,
        "articles": {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
                     "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k])},
        "label_changes": label_changes,
        "labeled_paragraphs_added": len(newly_labeled),
        "counts": counts,
        "versions": {"before": m_old.versions.to_dict(), "after": m_new.versions.to_dict()},
    }


def diff_text(result: dict[str, object]) -> str:
    from paratopics.report import table

    arts = result["articles"]
    lines = [f"paratopics v{result['from']} -> v{result['to']}", ""]
    for kind in ("added", "removed", "changed"):
        ids = arts[kind]  # type: ignore[index]
        lines.append(f"articles {kind}: {len(ids)}")
        lines += [f"  {aid}" for aid in ids[:20]] + (["  …"] if len(ids) > 20 else [])
    changes = result["label_changes"]
    lines += ["", f"paragraph label changes: {len(changes)}"]  # type: ignore[arg-type]
    for change in changes[:50]:  # type: ignore[index]
        lines.append(f"  {change['paragraph_id']}: {', '.join(change['before']) or '-'} -> "
                     f"{', '.join(change['after']) or '-'}")
    rows = [[config, split, v["before"], v["after"], v["after"] - v["before"]]
            for config, splits in result["counts"].items()  # type: ignore[attr-defined]
            for split, v in splits.items()]
    lines += ["", table(["config", "split", "before", "after", "change"], rows)]
    return "\n".join(lines)
