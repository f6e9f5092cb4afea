"""The codebook: the topic tree that labels come from, and lookups over it.

The codebook ships inside the package (schema/codebook.json), so a label means
the same thing wherever the package is installed. `Codebook` is an immutable
view with the few questions the rest of the code asks: does this id exist, is
it retired, what is its level-1 ancestor, what did the user probably mean.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TypedDict


class Node(TypedDict, total=False):
    id: str
    name: str
    level: int
    parent: str | None
    status: str
    origin: str
    definition: str
    include: list[str]
    exclude: list[str]
    example: str
    replaced_by: str


class CaseExample(TypedDict):
    article_id: str
    paragraph_index: int
    text: str


class Case(TypedDict):
    """A hard case of the guide: a question judges met, its decision, a real paragraph."""

    question: str
    decision: str
    labels: list[str]
    example: CaseExample


def schema_dir() -> Path:
    """schema/ inside an installed package, else the checkout's schema/."""
    packaged = resources.files("paratopics") / "schema"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schema"


def load_json_resource(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Codebook:
    version: str
    nodes: tuple[Node, ...]
    credit: str = ""
    cases: tuple[Case, ...] = ()
    by_id: dict[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {n["id"]: n for n in self.nodes})

    def __contains__(self, code: object) -> bool:
        return code in self.by_id

    def is_retired(self, code: str) -> bool:
        return self.by_id[code].get("status") == "retired"

    def level1(self, code: str) -> str:
        node = self.by_id[code]
        while node.get("parent"):
            node = self.by_id[str(node["parent"])]
        return node["id"]

    def name(self, code: str) -> str:
        return self.by_id[code]["name"]

    @cached_property
    def order(self) -> dict[str, int]:
        """Each node's position in the codebook: the one order labels are listed in,
        wherever a set of labels is written out (gold decisions, reports, tasks)."""
        return {node["id"]: i for i, node in enumerate(self.nodes)}

    @cached_property
    def label_ids(self) -> tuple[str, ...]:
        """The classes of the paragraphs config: every level-2 and project node.

        Retired nodes stay in the list (old labels must still resolve), in
        codebook order so that class indexes are stable across releases.
        """
        return tuple(n["id"] for n in self.nodes if n["level"] == 2)

    @cached_property
    def level1_ids(self) -> tuple[str, ...]:
        return tuple(n["id"] for n in self.nodes if n["level"] == 1)

    def suggest(self, label: str) -> str | None:
        """The id a mistyped label most likely meant (case, spaces, a name)."""
        squeezed = "".join(label.split()).lower()
        if squeezed in self.by_id:
            return squeezed
        names = {n["name"].lower(): n["id"] for n in self.nodes}
        if label.strip().lower() in names:
            return names[label.strip().lower()]
        close = difflib.get_close_matches(squeezed, list(self.by_id), n=1, cutoff=0.85)
        return close[0] if close else None


def from_dict(data: dict[str, object]) -> Codebook:
    vocabulary = data.get("vocabulary") or {}
    credit = str(vocabulary.get("credit", "")) if isinstance(vocabulary, dict) else ""
    nodes = data["nodes"]
    assert isinstance(nodes, list)
    cases = data.get("cases") or []
    assert isinstance(cases, list)
    return Codebook(version=str(data["codebook_version"]), nodes=tuple(nodes), credit=credit,
                    cases=tuple(cases))


def load(path: Path | None = None) -> Codebook:
    """The codebook at `path`, or the one shipped with the package."""
    if path is None:
        return from_dict(load_json_resource("codebook.json"))
    return from_dict(json.loads(path.read_text(encoding="utf-8")))


def tree_problems(codebook: Codebook) -> list[str]:
    """Structural checks the schema cannot express: ids unique, parents real."""
    problems: list[str] = []
    seen: set[str] = set()
    for node in codebook.nodes:
        code = node["id"]
        if code in seen:
            problems.append(f"id {code} appears twice")
        seen.add(code)
        parent = node.get("parent")
        if node["level"] == 1 and parent is not None:
            problems.append(f"{code}: a level-1 node has no parent")
        if node["level"] == 2:
            if parent not in codebook.by_id:
                problems.append(f"{code}: parent {parent} is not in the codebook")
            elif codebook.by_id[str(parent)]["level"] != 1:
                problems.append(f"{code}: parent {parent} is not a level-1 node")
            elif node["origin"] == "project" and not str(parent).startswith("medtop:"):
                problems.append(f"{code}: a project node needs an IPTC parent")
        replacement = node.get("replaced_by")
        if replacement is not None and (
            replacement not in codebook.by_id or codebook.is_retired(replacement)
        ):
            problems.append(f"{code}: replaced_by {replacement} is not an active node")
    for number, case in enumerate(codebook.cases, start=1):
        for label in case["labels"]:
            if label not in codebook.by_id or codebook.by_id[label]["level"] != 2 \
                    or codebook.is_retired(label):
                problems.append(f"hard case {number}: {label} is not an active label")
    return problems


def read_iptc_tsv(path: Path) -> list[dict[str, str]]:
    """The IPTC Media Topics table as distributed: qcode, level, parent, name, status."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def iptc_differences(codebook: Codebook, rows: Iterable[dict[str, str]]) -> list[str]:
    """Where the codebook's IPTC nodes disagree with the IPTC table."""
    problems: list[str] = []
    iptc = {n["id"]: n for n in codebook.nodes if n["origin"] == "iptc"}
    listed: set[str] = set()
    for row in rows:
        code = row["qcode"]
        listed.add(code)
        node = iptc.get(code)
        if node is None:
            problems.append(f"{code} ({row['name']}) is in IPTC but not in the codebook")
            continue
        expected = (int(row["level"]), row["parent_qcode"] or None, row["name"], row["status"])
        actual = (node["level"], node["parent"], node["name"], node["status"])
        if expected != actual:
            problems.append(f"{code}: codebook has {actual}, IPTC has {expected}")
    problems += [f"{code} is not in the IPTC table" for code in sorted(set(iptc) - listed)]
    return problems
