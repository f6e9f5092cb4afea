"""Releases: validated records in, an immutable folder of Parquet files out.

A release `corpus/releases/vX.Y.Z/` holds one folder per config (paragraphs,
articles, annotations) with Parquet files per split, named as the Hub names
them, and `manifest.json` recording versions, counts, the label distribution,
the adjudication rule and every file's sha256, bytes and rows.

Rows are computed by pure functions from records; only `write_release`,
`verify_release` and the readers touch the disk. Nothing in a release depends
on the clock, so the same inputs and library versions give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import ClassLabel, Features, List, Value

from . import annotations as annotations_module
from .annotations import Gold
from .codebook import Codebook, load_json_resource
from .errors import fail
from .records import (
    ANNOTATION_SCHEMA_VERSION,
    ARTICLE_SCHEMA_VERSION,
    Annotation,
    Article,
    article_body,
)
from .store import Corpus, atomic_write, dump_json, fsync_dir, sha256_file

CONFIGS = ("paragraphs", "articles", "annotations")
DEFAULT_CONFIG = "paragraphs"
#: Split proportions, applied to a hash of the article id (README "Splits").
SPLITS = (("train", 0.8), ("validation", 0.1), ("test", 0.1))
#: Paragraphs (and articles) that nobody has judged go here, never into the above.
UNLABELED = "unlabeled"
SPLIT_SALT = "paratopics-split-v1:"
#: Rows per Parquet row group: a few MB of text, small enough to stream.
ROW_GROUP_ROWS = 10_000
#: Rows per shard; a split with more rows is written as several files.
SHARD_ROWS = 250_000
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 9
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


# -- splits -------------------------------------------------------------------


def split_of(article_id: str) -> str:
    """The split an article belongs to, forever: a hash of its id, not of the corpus."""
    digest = hashlib.sha256((SPLIT_SALT + article_id).encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, share in SPLITS:
        bound += share
        if point < bound:
            return name
    return SPLITS[-1][0]


def split_names() -> tuple[str, ...]:
    return (*(name for name, _ in SPLITS), UNLABELED)


# -- features: one source of truth for Arrow schema and Hugging Face types ----


def features(config: str, codebook: Codebook) -> Features:
    labels = ClassLabel(names=list(codebook.label_ids))
    level1 = ClassLabel(names=list(codebook.level1_ids))
    if config == "paragraphs":
        return Features({
            "paragraph_id": Value("string"),
            "article_id": Value("string"),
            "paragraph_index": Value("int32"),
            "heading": Value("string"),
            "text": Value("string"),
            "sha256": Value("string"),
            "title": Value("string"),
            "source": Value("string"),
            "published": Value("date32"),
            "labels": List(labels),
            "labels_level1": List(level1),
            "annotators": Value("int32"),
        })
    if config == "articles":
        return Features({
            "article_id": Value("string"),
            "source": Value("string"),
            "url": Value("string"),
            "title": Value("string"),
            "authors": List(Value("string")),
            "published": Value("date32"),
            "section": Value("string"),
            "language": Value("string"),
            "body": Value("string"),
            "paragraphs": List({"index": Value("int32"), "heading": Value("string"),
                                "text": Value("string")}),
            "judged_paragraphs": Value("int32"),
            "labels": List(labels),
            "labels_level1": List(level1),
        })
    if config == "annotations":
        return Features({
            "paragraph_id": Value("string"),
            "article_id": Value("string"),
            "paragraph_index": Value("int32"),
            "paragraph_sha256": Value("string"),
            "labels": List(Value("string")),
            "annotator": Value("string"),
            "role": Value("string"),
            "created": Value("string"),
            "confidence": Value("float32"),
            "note": Value("string"),
        })
    raise ValueError(f"unknown config {config!r}")


def arrow_schema(config: str, codebook: Codebook) -> pa.Schema:
    """The explicit Arrow schema, carrying the features in its metadata."""
    return features(config, codebook).arrow_schema


# -- rows (pure) --------------------------------------------------------------


def paragraph_id(article_id: str, index: int) -> str:
    return f"{article_id}/{index}"


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass
class Rows:
    """Rows of every config, by split, ready for Arrow."""

    by_config: dict[str, dict[str, list[dict[str, object]]]] = field(
        default_factory=lambda: {c: {s: [] for s in split_names()} for c in CONFIGS})


def paragraph_rows(article: Article, gold: dict[tuple[str, int], Gold],
                   codebook: Codebook) -> Iterator[tuple[str, dict[str, object]]]:
    aid = article["article_id"]
    home = split_of(aid)
    index_of = {code: i for i, code in enumerate(codebook.label_ids)}
    level1_of = {code: i for i, code in enumerate(codebook.level1_ids)}
    for para in article["paragraphs"]:
        decided = gold.get((aid, para["index"]))
        labels = decided.labels if decided else ()
        parents = sorted({codebook.level1(code) for code in labels}, key=level1_of.__getitem__)
        yield (home if decided else UNLABELED), {
            "paragraph_id": paragraph_id(aid, para["index"]),
            "article_id": aid,
            "paragraph_index": para["index"],
            "heading": para["heading"],
            "text": para["text"],
            "sha256": para["sha256"],
            "title": article["title"],
            "source": article["source"],
            "published": _date(article["published"]),
            "labels": [index_of[code] for code in labels],
            "labels_level1": [level1_of[code] for code in parents],
            "annotators": decided.annotators if decided else 0,
        }


def article_row(article: Article, gold: dict[tuple[str, int], Gold],
                codebook: Codebook) -> tuple[str, dict[str, object]]:
    aid = article["article_id"]
    decided = [gold[(aid, p["index"])] for p in article["paragraphs"]
               if (aid, p["index"]) in gold]
    union = {code for g in decided for code in g.labels}
    labels = [i for i, code in enumerate(codebook.label_ids) if code in union]
    parents = {codebook.level1(code) for code in union}
    level1 = [i for i, code in enumerate(codebook.level1_ids) if code in parents]
    split = split_of(aid) if decided else UNLABELED
    return split, {
        "article_id": aid,
        "source": article["source"],
        "url": article["url"],
        "title": article["title"],
        "authors": article["authors"],
        "published": _date(article["published"]),
        "section": article["section"],
        "language": article["language"],
        "body": article_body(article),
        "paragraphs": [{"index": p["index"], "heading": p["heading"], "text": p["text"]}
                       for p in article["paragraphs"]],
        "judged_paragraphs": len(decided),
        "labels": labels,
        "labels_level1": level1,
    }


def annotation_row(record: Annotation) -> tuple[str, dict[str, object]]:
    aid = record["article_id"]
    return split_of(aid), {
        "paragraph_id": paragraph_id(aid, record["paragraph_index"]),
        "article_id": aid,
        "paragraph_index": record["paragraph_index"],
        "paragraph_sha256": record["paragraph_sha256"],
        "labels": list(record["labels"]),
        "annotator": record["annotator"],
        "role": record.get("role", "annotator"),
        "created": record["created"],
        "confidence": record.get("confidence"),
        "note": record.get("note"),
    }


def _annotation_sort_key(record: Annotation) -> tuple[str, int, str, str]:
    return (record["article_id"], record["paragraph_index"], record["annotator"],
            record["created"])


# -- inputs -------------------------------------------------------------------


@dataclass
class Inputs:
    articles: list[Article]
    judgements: list[Annotation]
    fingerprint: str


def fingerprint(files: Iterable[tuple[str, str]]) -> str:
    """One hash over (name, sha256) of every input: equal inputs, equal fingerprint."""
    digest = hashlib.sha256()
    for name, sha in sorted(files):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def read_inputs(corpus: Corpus, codebook: Codebook) -> Inputs:
    hashed: list[tuple[str, str]] = []
    articles = []
    for path in corpus.article_files():
        raw = path.read_bytes()
        hashed.append((f"articles/{path.name}", hashlib.sha256(raw).hexdigest()))
        articles.append(json.loads(raw))
    judgements: list[Annotation] = []
    for path in corpus.annotation_files():
        hashed.append((f"annotations/{path.name}", sha256_file(path)))
        judgements.extend(annotations_module.iter_file(path))
    hashed.append((f"codebook@{codebook.version}", hashlib.sha256(
        json.dumps(list(codebook.nodes), sort_keys=True).encode()).hexdigest()))
    articles.sort(key=lambda a: a["article_id"])
    judgements.sort(key=_annotation_sort_key)
    return Inputs(articles, judgements, fingerprint(hashed))


def compute_rows(inputs: Inputs, codebook: Codebook) -> tuple[Rows, dict[tuple[str, int], Gold]]:
    order = {code: i for i, code in enumerate(n["id"] for n in codebook.nodes)}
    gold = annotations_module.gold_labels(inputs.judgements, order)
    rows = Rows()
    for article in inputs.articles:
        for split, row in paragraph_rows(article, gold, codebook):
            rows.by_config["paragraphs"][split].append(row)
        split, row = article_row(article, gold, codebook)
        rows.by_config["articles"][split].append(row)
    for record in inputs.judgements:
        split, row = annotation_row(record)
        rows.by_config["annotations"][split].append(row)
    return rows, gold


# -- writing ------------------------------------------------------------------


def shard_names(split: str, rows: int) -> list[str]:
    count = max(1, -(-rows // SHARD_ROWS))
    return [f"{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


def write_parquet(path: Path, rows: list[dict[str, object]], schema: pa.Schema) -> None:
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL,
                   row_group_size=ROW_GROUP_ROWS, write_statistics=True, store_schema=True)


def _file_entry(root: Path, path: Path, rows: int) -> dict[str, object]:
    return {"path": path.relative_to(root).as_posix(), "sha256": sha256_file(path),
            "bytes": path.stat().st_size, "rows": rows}


def label_distribution(rows: Rows, codebook: Codebook) -> dict[str, dict[str, object]]:
    """Per label: its name, level-1 parent and gold paragraph count per split."""
    counts: dict[str, Counter[str]] = {}
    for split, split_rows in rows.by_config["paragraphs"].items():
        for row in split_rows:
            for index in row["labels"]:  # type: ignore[attr-defined]
                code = codebook.label_ids[index]
                counts.setdefault(code, Counter())[split] += 1
    return {
        code: {"name": codebook.name(code), "level1": codebook.level1(code),
               "paragraphs": dict(sorted(counts[code].items()))}
        for code in codebook.label_ids if code in counts
    }


def build_manifest(version: str, inputs: Inputs, rows: Rows, files: list[dict[str, object]],
                   gold: dict[tuple[str, int], Gold], codebook: Codebook) -> dict[str, object]:
    published = sorted(a["published"] for a in inputs.articles)
    counts = {config: {split: len(r) for split, r in by_split.items() if r}
              for config, by_split in rows.by_config.items()}
    return {
        "name": "paratopics",
        "version": version,
        "manifest_version": "1.0.0",
        "versions": {"corpus": version, "article_schema": ARTICLE_SCHEMA_VERSION,
                     "annotation_schema": ANNOTATION_SCHEMA_VERSION,
                     "codebook": codebook.version},
        "inputs": {"fingerprint": inputs.fingerprint, "articles": len(inputs.articles),
                   "judgements": len(inputs.judgements),
                   "published": {"first": published[0] if published else None,
                                 "last": published[-1] if published else None}},
        "splits": {"by": "sha256 of the salted article id", "salt": SPLIT_SALT,
                   "proportions": dict(SPLITS), "unlabeled": UNLABELED},
        "adjudication": {"rule": annotations_module.RULE, "text": annotations_module.RULE_TEXT,
                         "methods": dict(sorted(Counter(g.method for g in gold.values())
                                                .items())),
                         "ties": sum(1 for g in gold.values() if g.ties),
                         "disputed": sum(1 for g in gold.values() if g.disputed)},
        "configs": {c: {"default": c == DEFAULT_CONFIG, "rows": counts[c]} for c in CONFIGS},
        "labels": {"classes": len(codebook.label_ids),
                   "distribution": label_distribution(rows, codebook)},
        "parquet": {"compression": f"{COMPRESSION}({COMPRESSION_LEVEL})",
                    "row_group_rows": ROW_GROUP_ROWS, "shard_rows": SHARD_ROWS,
                    "pyarrow": pa.__version__},
        "files": files,
    }


def write_tree(folder: Path, rows: Rows, codebook: Codebook) -> list[dict[str, object]]:
    """Write every config's Parquet files into `folder`; return their file entries."""
    entries = []
    for config in CONFIGS:
        schema = arrow_schema(config, codebook)
        (folder / config).mkdir(parents=True)
        for split, split_rows in rows.by_config[config].items():
            if not split_rows:
                continue
            names = shard_names(split, len(split_rows))
            for i, name in enumerate(names):
                chunk = split_rows[i * SHARD_ROWS:(i + 1) * SHARD_ROWS]
                path = folder / config / name
                write_parquet(path, chunk, schema)
                entries.append(_file_entry(folder, path, len(chunk)))
    return entries


def release_dir(corpus: Corpus, version: str) -> Path:
    return corpus.releases / f"v{version}"


def check_version(version: str) -> str:
    if not VERSION_RE.match(version):
        raise ValueError(f"version {version!r} is not X.Y.Z (semantic versioning)")
    return version


def parse_version(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version.lstrip("v"))
    if not match:
        raise ValueError(version)
    return int(match[1]), int(match[2]), int(match[3])


def list_versions(corpus: Corpus) -> list[str]:
    if not corpus.releases.is_dir():
        return []
    found = [p.name[1:] for p in corpus.releases.iterdir()
             if p.is_dir() and VERSION_RE.match(p.name[1:]) and (p / "manifest.json").is_file()]
    return sorted(found, key=parse_version)


def read_manifest(corpus: Corpus, version: str) -> dict[str, object]:
    path = release_dir(corpus, version) / "manifest.json"
    if not path.is_file():
        available = ", ".join(list_versions(corpus)) or "none"
        raise fail("release-missing", file=str(path),
                   detail=f"no release v{version} (available: {available})")
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _content(manifest: dict[str, object]) -> object:
    return [(f["path"], f["sha256"]) for f in manifest["files"]]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class BuildResult:
    version: str
    path: Path
    status: str  # "built" | "identical"
    manifest: dict[str, object]


def build(corpus: Corpus, version: str, codebook: Codebook,
          notes: str | None = None) -> BuildResult:
    """Write release `version`, or confirm an identical one; refuse a different one.

    The release is written into a hidden temporary folder and renamed into
    place, so an interrupted build leaves no partial release behind.
    """
    check_version(version)
    inputs = read_inputs(corpus, codebook)
    rows, gold = compute_rows(inputs, codebook)
    corpus.releases.mkdir(parents=True, exist_ok=True)
    for stale in corpus.releases.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = corpus.releases / f".tmp-v{version}-{os.getpid()}"
    try:
        tmp.mkdir()
        files = write_tree(tmp, rows, codebook)
        manifest = build_manifest(version, inputs, rows, files, gold, codebook)
        atomic_write(tmp / "manifest.json", dump_json(manifest))
        target = release_dir(corpus, version)
        if target.exists():
            existing = read_manifest(corpus, version)
            if _content(existing) != _content(manifest):
                raise fail("release-exists", file=str(target),
                           detail=f"v{version} exists with different content "
                           f"({_summary_of_change(existing, manifest)})")
            append_changelog(corpus, existing, notes, only_if_missing=True)
            return BuildResult(version, target, "identical", existing)
        fsync_tree(tmp)
        os.rename(tmp, target)
        fsync_dir(corpus.releases)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    append_changelog(corpus, manifest, notes)
    return BuildResult(version, target, "built", manifest)


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(path if path.is_dir() else path.parent)


def _summary_of_change(old: dict[str, object], new: dict[str, object]) -> str:
    old_files = {f["path"]: f["sha256"] for f in old["files"]}  # type: ignore[attr-defined]
    new_files = {f["path"]: f["sha256"] for f in new["files"]}  # type: ignore[attr-defined]
    differ = sorted(p for p in set(old_files) | set(new_files)
                    if old_files.get(p) != new_files.get(p))
    return "differing files: " + ", ".join(differ[:5]) + ("…" if len(differ) > 5 else "")


# -- changelog ----------------------------------------------------------------


def manifest_digest(corpus: Corpus, version: str) -> str:
    return sha256_file(release_dir(corpus, version) / "manifest.json")


def changelog_path(corpus: Corpus) -> Path:
    return corpus.releases / "CHANGELOG.md"


def changelog_digests(corpus: Corpus) -> dict[str, str]:
    """version -> manifest sha256, as recorded when each release was built."""
    path = changelog_path(corpus)
    if not path.is_file():
        return {}
    found = re.findall(r"^## v(\S+).*?^- manifest sha256: `([0-9a-f]{64})`",
                       path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return dict(found)


def changelog_entry(manifest: dict[str, object], digest: str, notes: str | None,
                    previous: dict[str, object] | None) -> str:
    rows = manifest["configs"]["paragraphs"]["rows"]  # type: ignore[index]
    inputs = manifest["inputs"]
    lines = [
        f"## v{manifest['version']}",
        "",
        f"- manifest sha256: `{digest}`",
        f"- inputs fingerprint: `{inputs['fingerprint']}`",  # type: ignore[index]
        f"- articles: {inputs['articles']}, judgements: {inputs['judgements']}",  # type: ignore[index]
        "- paragraphs by split: " + ", ".join(f"{s} {n}" for s, n in rows.items()),
        f"- codebook: {manifest['versions']['codebook']}",  # type: ignore[index]
    ]
    if previous is not None:
        lines.append(f"- compared with v{previous['version']}: "
                     + ", ".join(f"{k} {v:+d}" for k, v in count_changes(previous, manifest)))
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"


def count_changes(old: dict[str, object], new: dict[str, object]) -> list[tuple[str, int]]:
    def flat(m: dict[str, object]) -> Counter[str]:
        out: Counter[str] = Counter()
        for config, info in m["configs"].items():  # type: ignore[attr-defined]
            out[config] = sum(info["rows"].values())
        return out
    a, b = flat(old), flat(new)
    return [(k, b[k] - a[k]) for k in CONFIGS]


def append_changelog(corpus: Corpus, manifest: dict[str, object], notes: str | None,
                     only_if_missing: bool = False) -> None:
    version = str(manifest["version"])
    recorded = changelog_digests(corpus)
    if only_if_missing and version in recorded:
        return
    path = changelog_path(corpus)
    text = path.read_text(encoding="utf-8") if path.is_file() else (
        "# Changelog\n\nOne entry per release, newest first. Each records the sha256 of the "
        "release's manifest.json, which `paratopics verify` checks, so that a release and "
        "its manifest edited together are still caught.\n")
    earlier = [v for v in list_versions(corpus) if parse_version(v) < parse_version(version)]
    previous = read_manifest(corpus, earlier[-1]) if earlier else None
    entry = changelog_entry(manifest, manifest_digest(corpus, version), notes, previous)
    head, _, rest = text.partition("\n## ")
    body = entry + ("\n## " + rest if rest else "")
    atomic_write(path, (head.rstrip("\n") + "\n\n" + body).encode("utf-8"))


# -- verify -------------------------------------------------------------------


def verify(corpus: Corpus, version: str, codebook: Codebook | None = None) -> list[str]:
    """Every way release `version` differs from its manifest; empty when intact."""
    folder = release_dir(corpus, version)
    manifest = read_manifest(corpus, version)
    issues: list[str] = []
    recorded = changelog_digests(corpus).get(version)
    actual_digest = manifest_digest(corpus, version)
    if recorded is None:
        issues.append(f"{changelog_path(corpus).name}: no entry records v{version}'s manifest")
    elif recorded != actual_digest:
        issues.append(f"v{version}/manifest.json: sha256 {actual_digest[:12]}… differs from "
                      f"{recorded[:12]}… recorded in {changelog_path(corpus).name}")
    listed = {f["path"]: f for f in manifest["files"]}  # type: ignore[attr-defined]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard("manifest.json")
    for extra in sorted(present - set(listed)):
        issues.append(f"v{version}/{extra}: not in the manifest (extra file)")
    for rel, entry in sorted(listed.items()):
        path = folder / rel
        if rel not in present:
            issues.append(f"v{version}/{rel}: missing")
            continue
        size = path.stat().st_size
        if size != entry["bytes"]:
            issues.append(f"v{version}/{rel}: {size} bytes, manifest says {entry['bytes']}")
        if sha256_file(path) != entry["sha256"]:
            issues.append(f"v{version}/{rel}: sha256 differs from the manifest")
        issues += _parquet_issues(path, f"v{version}/{rel}", entry, codebook)
    return issues


def _parquet_issues(path: Path, name: str, entry: dict[str, object],
                    codebook: Codebook | None) -> list[str]:
    try:
        meta = pq.read_metadata(path)
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        return [f"{name}: not a readable Parquet file ({exc})"]
    issues = []
    if meta.num_rows != entry["rows"]:
        issues.append(f"{name}: {meta.num_rows} rows, manifest says {entry['rows']}")
    if codebook is not None:
        config = name.split("/")[1]
        expected = arrow_schema(config, codebook)
        # Parquet names list items "element" where Arrow says "item"; compare the
        # types, then the Hugging Face metadata, rather than field names.
        if not schema.equals(expected) or schema.metadata != expected.metadata:
            issues.append(f"{name}: schema differs from the {config} schema")
    return issues


# -- reading releases back (for diff and stats) -------------------------------


def read_config(corpus: Corpus, version: str, config: str) -> dict[str, pa.Table]:
    folder = release_dir(corpus, version) / config
    out = {}
    for split in split_names():
        files = sorted(folder.glob(f"{split}-*.parquet"))
        if files:
            out[split] = pa.concat_tables(pq.read_table(f) for f in files)
    return out


def manifest_schema_problems(manifest: dict[str, object]) -> list[str]:
    from jsonschema import Draft202012Validator

    schema = load_json_resource("manifest.schema.json")
    validator = Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}"
            for e in validator.iter_errors(manifest)]


# -- diff ---------------------------------------------------------------------


def _label_names(table: pa.Table, column: str) -> list[str]:
    info = json.loads(table.schema.metadata[b"huggingface"])
    return list(info["info"]["features"][column]["feature"]["names"])


def _paragraph_view(corpus: Corpus, version: str
                    ) -> dict[str, tuple[str, int, str, tuple[str, ...]]]:
    """paragraph_id -> (article_id, index, sha256, gold label ids) over every split."""
    view = {}
    for table in read_config(corpus, version, "paragraphs").values():
        names = _label_names(table, "labels")
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
        rows_old = m_old["configs"][config]["rows"]  # type: ignore[index]
        rows_new = m_new["configs"][config]["rows"]  # type: ignore[index]
        counts[config] = {s: {"before": rows_old.get(s, 0), "after": rows_new.get(s, 0)}
                          for s in split_names() if rows_old.get(s) or rows_new.get(s)}
    return {
        "from": old, "to": new,
        "articles": {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
                     "changed": sorted(k for k in set(a) & set(b) if a[k] != b[k])},
        "label_changes": label_changes,
        "labeled_paragraphs_added": len(newly_labeled),
        "counts": counts,
        "versions": {"before": m_old["versions"], "after": m_new["versions"]},
    }


def diff_text(result: dict[str, object]) -> str:
    from .report import table

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


# -- stats --------------------------------------------------------------------


def stats_text(manifest: dict[str, object]) -> str:
    from .report import table

    counts = [[config, split, n] for config, info in manifest["configs"].items()  # type: ignore[attr-defined]
              for split, n in info["rows"].items()]
    dist = manifest["labels"]["distribution"]  # type: ignore[index]
    split_cols = [s for s in split_names() if s != UNLABELED]
    label_rows = sorted(
        ([code, info["name"], *(info["paragraphs"].get(s, 0) for s in split_cols),
          sum(info["paragraphs"].values())] for code, info in dist.items()),
        key=lambda r: (-r[-1], r[0]))
    return "\n".join([
        f"paratopics v{manifest['version']} (codebook {manifest['versions']['codebook']})",  # type: ignore[index]
        "", table(["config", "split", "rows"], counts), "",
        "gold labels (paragraphs per split)",
        table(["label", "name", *split_cols, "total"], label_rows),
    ])


def plot_labels(manifest: dict[str, object], out: Path) -> Path:
    """A horizontal bar chart of the label distribution, for the dataset card."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dist = manifest["labels"]["distribution"]  # type: ignore[index]
    items = sorted(((info["name"], sum(info["paragraphs"].values()))
                    for info in dist.values()), key=lambda x: x[1])
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1.2), dpi=110)
    ax.barh([name for name, _ in items], [n for _, n in items], color="#3b6ea8")
    ax.set_xlabel("paragraphs with the label (gold, all splits)")
    ax.set_title(f"paratopics v{manifest['version']}: label distribution")
    for i, (_, n) in enumerate(items):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, metadata={"Software": None, "Creation Time": None})
    plt.close(fig)
    return out
