"""A release's `manifest.json` as a typed, checked value: `Manifest`.

Every reader of a release (verify, diff, stats, publish, load) goes through
`Manifest.from_json`, as `tensorflow_datasets`' `DatasetInfo` reads and writes
its own folder: the file is checked once, against schema/manifest.schema.json
and against what the schema cannot say (one entry per file, counts that add
up, identifiers without a trailing newline), and a manifest that fails is a
`manifest-invalid` problem naming the file and the field, never a traceback
deep inside a command. After that, code reads attributes whose types hold.

`to_json` writes the exact bytes `build` has always written (the same keys in
the same order, `dump_json`'s layout), so a release's manifest digest, which
the changelog records, does not depend on this class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paratopics.codebook import load_json_resource
from paratopics.corpus.store import dump_json
from paratopics.errors import fail

MANIFEST_NAME = "manifest.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SEMVER = re.compile(r"\d+\.\d+\.\d+")
_FILE_PATH = re.compile(r"(paragraphs|articles|annotations)/(train|validation|test|unlabeled)"
                        r"-\d{5}-of-\d{5}\.parquet")
#: Problems named in one message, at most; the rest are counted.
SHOWN = 3


@dataclass(frozen=True)
class FileEntry:
    """One Parquet file of a release, as its manifest records it."""

    path: str  # release-relative: <config>/<split>-NNNNN-of-NNNNN.parquet
    sha256: str
    bytes: int
    rows: int

    @property
    def config(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def split(self) -> str:
        return self.path.split("/", 1)[1].split("-", 1)[0]

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "bytes": self.bytes,
                "rows": self.rows}


@dataclass(frozen=True)
class Versions:
    corpus: str
    article_schema: str
    annotation_schema: str
    codebook: str

    def to_dict(self) -> dict[str, object]:
        return {"corpus": self.corpus, "article_schema": self.article_schema,
                "annotation_schema": self.annotation_schema, "codebook": self.codebook}


@dataclass(frozen=True)
class Inputs:
    fingerprint: str
    articles: int
    judgements: int
    published: Mapping[str, str | None]  # first, last

    def to_dict(self) -> dict[str, object]:
        return {"fingerprint": self.fingerprint, "articles": self.articles,
                "judgements": self.judgements, "published": dict(self.published)}


@dataclass(frozen=True)
class Adjudication:
    rule: str
    text: str
    methods: Mapping[str, int]
    ties: int
    disputed: int

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "text": self.text, "methods": dict(self.methods),
                "ties": self.ties, "disputed": self.disputed}


@dataclass(frozen=True)
class ConfigInfo:
    default: bool
    rows: Mapping[str, int]  # split -> rows, in split order

    def to_dict(self) -> dict[str, object]:
        return {"default": self.default, "rows": dict(self.rows)}


@dataclass(frozen=True)
class LabelCount:
    name: str
    level1: str
    paragraphs: Mapping[str, int]  # split -> gold paragraphs

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "level1": self.level1, "paragraphs": dict(self.paragraphs)}


@dataclass(frozen=True)
class Manifest:
    """What a release holds and how it was made; see schema/manifest.schema.json."""

    name: str
    version: str
    manifest_version: str
    versions: Versions
    inputs: Inputs
    splits: Mapping[str, Any]  # the split rule, recorded for people
    adjudication: Adjudication
    configs: Mapping[str, ConfigInfo]
    classes: int
    distribution: Mapping[str, LabelCount]
    parquet: Mapping[str, Any]  # the layout, recorded for people
    files: tuple[FileEntry, ...]
    #: source -> licence id -> articles, and each id's name and link (manifest 1.2.0 on;
    #: None in earlier manifests)
    licences: Mapping[str, Any] | None = None

    # -- reading --------------------------------------------------------------

    @classmethod
    def from_json(cls, path: Path, version: str | None = None) -> Manifest:
        """The manifest at `path`, checked; `version`, when given, is the one its
        folder is named for. Raises `manifest-invalid` naming what is wrong."""
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise fail("manifest-invalid", file=str(path),
                       detail=f"cannot be read: {exc.strerror or exc}") from None
        return cls.from_bytes(raw, str(path), version)

    @classmethod
    def from_bytes(cls, raw: bytes, where: str, version: str | None = None) -> Manifest:
        data = parse_json(raw, where)
        problems = schema_problems(data)
        if not problems:
            problems = meaning_problems(data, version)
        if problems:
            more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
            raise fail("manifest-invalid", file=where,
                       detail="; ".join(problems[:SHOWN]) + more)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """A manifest from its JSON value, which must already be checked (or be
        `build`'s own)."""
        return cls(
            name=data["name"], version=data["version"],
            manifest_version=data["manifest_version"],
            versions=Versions(**data["versions"]),
            inputs=Inputs(**data["inputs"]),
            splits=data["splits"],
            adjudication=Adjudication(**data["adjudication"]),
            configs={name: ConfigInfo(**info) for name, info in data["configs"].items()},
            classes=data["labels"]["classes"],
            distribution={code: LabelCount(**info)
                          for code, info in data["labels"]["distribution"].items()},
            parquet=data["parquet"],
            files=tuple(FileEntry(**entry) for entry in data["files"]),
            licences=data.get("licences"),
        )

    # -- writing --------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """The JSON value, keys in the order `build` has always written them."""
        return {
            "name": self.name,
            "version": self.version,
            "manifest_version": self.manifest_version,
            "versions": self.versions.to_dict(),
            "inputs": self.inputs.to_dict(),
            "splits": self.splits,
            "adjudication": self.adjudication.to_dict(),
            "configs": {name: info.to_dict() for name, info in self.configs.items()},
            "labels": {"classes": self.classes,
                       "distribution": {code: count.to_dict()
                                        for code, count in self.distribution.items()}},
            **({"licences": self.licences} if self.licences is not None else {}),
            "parquet": self.parquet,
            "files": [entry.to_dict() for entry in self.files],
        }

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())

    # -- questions ----------------------------------------------------------------

    def files_of(self, config: str) -> dict[str, list[FileEntry]]:
        """split -> the files of `config`, in manifest order."""
        found: dict[str, list[FileEntry]] = {}
        for entry in self.files:
            if entry.config == config:
                found.setdefault(entry.split, []).append(entry)
        return found

    def rows(self, config: str) -> Mapping[str, int]:
        info = self.configs.get(config)
        return info.rows if info is not None else {}


# -- checks ---------------------------------------------------------------------


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def parse_json(raw: bytes, where: str) -> Any:
    """JSON that means one thing only: UTF-8 without a byte-order mark, no NaN or
    Infinity, no key twice in an object (where readers disagree on which wins)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise fail("manifest-invalid", file=where,
                   detail="starts with a byte-order mark; a manifest is UTF-8 without one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail("manifest-invalid", file=where,
                   detail=f"byte {exc.start} is not valid UTF-8") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise fail("manifest-invalid", file=where,
                   detail=f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
                   ) from None
    except (ValueError, RecursionError) as exc:
        raise fail("manifest-invalid", file=where, detail=f"not usable JSON: {exc}") from None


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value),
                                                                         type(value).__name__)


def schema_problems(data: object) -> list[str]:
    """Where `data` breaks schema/manifest.schema.json, each as 'at /pointer: what'."""
    from paratopics.schema_check import validator_for
    from paratopics.validate.fastschema import surely_valid

    if not isinstance(data, dict):
        return [f"holds {_kind(data)}, not an object"]
    schema = load_json_resource("manifest.schema.json")
    if surely_valid(schema, data):
        return []
    validator = validator_for(schema)
    found = []
    missing: dict[str, list[str]] = {}  # pointer -> required keys it lacks, said at once
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        pointer = "/" + "/".join(map(str, error.absolute_path))
        if error.validator == "required":
            if pointer not in missing:
                missing[pointer] = []
                found.append(pointer)
            missing[pointer] += [key for key in error.validator_value
                                 if key not in error.instance and key not in missing[pointer]]
            continue
        message = error.message
        if error.validator == "type":
            message = f"{error.instance!r} is {_kind(error.instance)}, not {error.validator_value}"
        found.append(f"at {pointer}: {message}")
    return [f"at {item}: lacks {', '.join(repr(k) for k in missing[item])}"
            if item in missing else item for item in found]


def meaning_problems(data: Mapping[str, Any], version: str | None) -> list[str]:
    """What a schema-valid manifest can still get wrong: identifiers must match
    whole (the schema's `$` lets a trailing newline through), each file is
    listed once, integers are integers (JSON Schema's `integer` takes 1.0), and
    the counts per config and split are the rows of its files."""
    found = []
    if not _SEMVER.fullmatch(data["version"]):
        found.append(f"at /version: {data['version']!r} is not X.Y.Z")
    elif version is not None and data["version"] != version:
        found.append(f"at /version: {data['version']!r}, but the folder is v{version}")
    seen: set[str] = set()
    files: dict[tuple[str, str], int] = {}
    for number, entry in enumerate(data["files"]):
        where = f"at /files/{number}"
        if not _FILE_PATH.fullmatch(entry["path"]):
            found.append(f"{where}/path: {entry['path']!r} is not a release file name")
        if not _SHA256.fullmatch(entry["sha256"]):
            found.append(f"{where}/sha256: {entry['sha256']!r} is not a sha256")
        for key in ("bytes", "rows"):
            if type(entry[key]) is not int:
                found.append(f"{where}/{key}: {entry[key]!r} is not a whole number")
        if entry["path"] in seen:
            found.append(f"{where}/path: {entry['path']} is listed twice")
        seen.add(entry["path"])
        config, split = entry["path"].split("/", 1)
        files[config, split.split("-", 1)[0]] = (files.get((config, split.split("-", 1)[0]), 0)
                                                 + int(entry["rows"]))
    for config, info in data["configs"].items():
        for split, rows in info["rows"].items():
            if files.get((config, split), 0) != rows:
                found.append(f"at /configs/{config}/rows/{split}: {rows}, but its files hold "
                             f"{files.get((config, split), 0)} rows")
    for config, split in sorted(files):
        if split not in data["configs"].get(config, {}).get("rows", {}):
            found.append(f"at /configs/{config}/rows: no count for {split}, which has files")
    return found


def read(folder: Path, version: str | None = None) -> Manifest:
    """The manifest of the release in `folder`."""
    return Manifest.from_json(folder / MANIFEST_NAME, version)


def manifest_schema_problems(manifest: Manifest | Mapping[str, object]) -> list[str]:
    """What keeps `manifest` (or its JSON value) from being a valid manifest."""
    data = manifest.to_dict() if isinstance(manifest, Manifest) else manifest
    return schema_problems(data) or meaning_problems(data, None)
