"""Label Studio's shapes: the labeling config, tasks with predictions, and reading results.

Label Studio stores a Taxonomy pick as the path of its choices, each choice
contributing its `alias` when it has one. The config gives every choice the
codebook id as alias and the readable name as value, so that a pick comes back
as ``[level-1 id, label id]`` whatever the names say, and `leafsOnly` keeps a
level-1 topic alone from being picked in the tool at all (the importer refuses
one anyway, for exports made with another config).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paratopics.codebook import Codebook, Node
from paratopics.errors import Problem, problem

TOOL = "label-studio"
#: Names of the config's tags; results from any other control are refused on import.
TEXT, TOPICS, NOTE = "paragraph", "topics", "note"
CONTEXT = ("title", "heading", "previous", "next")
#: Fields every task carries in its data, so that a judgement can find its paragraph.
KEY_FIELDS = ("article_id", "paragraph_index", "paragraph_sha256")
NOTE_MAX = 2000  # schema/annotation.schema.json: note maxLength


def _hint(node: Node) -> str:
    """The definition, and what the node leaves to others, as the tool's hover hint."""
    parts = [node.get("definition", "")]
    if node.get("exclude"):
        parts.append("Not: " + "; ".join(node["exclude"]))
    return " ".join(p for p in parts if p)


def taxonomy_tree(codebook: Codebook) -> list[tuple[Node, list[Node]]]:
    """(level-1 node, its active level-2 and project nodes), in codebook order; retired
    nodes are absent, and so is a level-1 node with nothing left to pick under it."""
    children: dict[str, list[Node]] = {}
    for node in codebook.nodes:
        if node["level"] == 2 and node.get("status") != "retired":
            children.setdefault(str(node["parent"]), []).append(node)
    return [(node, children[node["id"]]) for node in codebook.nodes
            if node["level"] == 1 and node.get("status") != "retired" and node["id"] in children]


def labeling_config(codebook: Codebook) -> str:
    """The project's labeling config: the paragraph, its context read-only, the codebook
    as a multi-select taxonomy of leaves, and a free-text note."""
    view = ET.Element("View")
    context = ET.SubElement(view, "View", style="color: #666; font-size: 90%")
    ET.SubElement(context, "Header", value="$title", size="4")
    ET.SubElement(context, "Text", name="heading", value="$heading")
    ET.SubElement(context, "Header", value="Previous paragraph (context, not to label)",
                  size="6")
    ET.SubElement(context, "Text", name="previous", value="$previous")
    ET.SubElement(view, "Header", value="Paragraph to label", size="5")
    ET.SubElement(view, "Text", name=TEXT, value="$text")
    after = ET.SubElement(view, "View", style="color: #666; font-size: 90%")
    ET.SubElement(after, "Header", value="Next paragraph (context, not to label)", size="6")
    ET.SubElement(after, "Text", name="next", value="$next")
    ET.SubElement(view, "Header", value=f"Topics (codebook {codebook.version}; none picked "
                  "means: judged, no topic)", size="5")
    taxonomy = ET.SubElement(view, "Taxonomy", name=TOPICS, toName=TEXT, leafsOnly="true",
                             showFullPath="true", pathSeparator=" / ",
                             dropdownWidth="560",
                             placeholder="Pick every topic the paragraph is about")
    for parent, leaves in taxonomy_tree(codebook):
        branch = ET.SubElement(taxonomy, "Choice", value=parent["name"], alias=parent["id"],
                               hint=_hint(parent))
        for leaf in leaves:
            ET.SubElement(branch, "Choice", value=f"{leaf['name']} ({leaf['id']})",
                          alias=leaf["id"], hint=_hint(leaf))
    ET.SubElement(view, "Header", value="Note for the adjudicator (optional)", size="5")
    ET.SubElement(view, "TextArea", name=NOTE, toName=TEXT, rows="2", maxSubmissions="1",
                  editable="true", placeholder="Optional free text")
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


# -- tasks --------------------------------------------------------------------


@dataclass(frozen=True)
class TaskParagraph:
    """What a task shows: the paragraph, its key in the corpus and its context."""

    article_id: str
    paragraph_index: int
    paragraph_sha256: str
    text: str
    title: str
    heading: str | None
    previous: str | None
    next: str | None


@dataclass(frozen=True)
class Prediction:
    """A model's labels for one paragraph, with the certainty Label Studio sorts by."""

    model_version: str
    labels: tuple[str, ...]
    score: float


def taxonomy_value(labels: Sequence[str], codebook: Codebook) -> list[list[str]]:
    return [[codebook.level1(code), code] for code in labels]


def task(paragraph: TaskParagraph, codebook: Codebook,
         prediction: Prediction | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "article_id": paragraph.article_id,
        "paragraph_index": paragraph.paragraph_index,
        "paragraph_sha256": paragraph.paragraph_sha256,
        "text": paragraph.text,
        "title": paragraph.title,
        "heading": paragraph.heading or "",
        "previous": paragraph.previous or "",
        "next": paragraph.next or "",
    }
    out: dict[str, Any] = {"data": data}
    if prediction is not None:
        out["predictions"] = [{
            "model_version": prediction.model_version,
            "score": prediction.score,
            "result": [{
                "from_name": TOPICS, "to_name": TEXT, "type": "taxonomy",
                "value": {"taxonomy": taxonomy_value(prediction.labels, codebook)},
            }],
        }]
    return out


# -- reading results ----------------------------------------------------------


@dataclass
class Result:
    """What one annotation says: its labels and note, or the problems found in it."""

    labels: list[str] = field(default_factory=list)
    note: str | None = None
    problems: list[Problem] = field(default_factory=list)


def _pick(path: object, codebook: Codebook, where: dict[str, Any]) -> str | Problem:
    """The label id of one taxonomy path, or why it is no label."""
    if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
        return problem("bad-field", field="value.taxonomy",
                       detail=f"{path!r} is not a taxonomy path (a list of choice ids)", **where)
    code = path[-1]
    if code not in codebook:
        hint = codebook.suggest(code)
        return problem("unknown-label", label=code,
                       suggestion=f"; did you mean {hint!r}?" if hint else
                       ": the config that made this project is not this codebook's; make the "
                       "project's config with `paratopics tasks config --tool label-studio`",
                       **where)
    if codebook.is_retired(code):
        return problem("retired-label", label=code, name=codebook.name(code),
                       replacement=codebook.by_id[code].get("replaced_by", "?"), **where)
    if codebook.by_id[code]["level"] == 1:
        return problem("level1-label", label=code, name=codebook.name(code), **where)
    return code


def read_result(items: object, codebook: Codebook, where: dict[str, Any]) -> Result:
    """Labels and note of one annotation's `result` list, in the order picked."""
    out = Result()
    if not isinstance(items, list):
        out.problems.append(problem("not-label-studio", detail="an annotation's 'result' is "
                                    "not a list", **where))
        return out
    notes: list[str] = []
    for item in items:
        name = item.get("from_name") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if name not in (TOPICS, NOTE):
            out.problems.append(problem("wrong-control", control=name, **where))
            continue
        if not isinstance(value, dict):
            out.problems.append(problem("bad-field", field="value",
                                        detail="a result without a 'value' object", **where))
        elif name == TOPICS:
            for path in value.get("taxonomy") or []:
                picked = _pick(path, codebook, where)
                if isinstance(picked, Problem):
                    out.problems.append(picked)
                elif picked not in out.labels:
                    out.labels.append(picked)
        else:
            text = value.get("text")
            texts = text if isinstance(text, list) else [text]
            notes += [t for t in texts if isinstance(t, str) and t.strip()]
    if notes:
        note = "\n".join(notes)
        if len(note) > NOTE_MAX:
            out.problems.append(problem("bad-field", field="note", detail=f"the note has "
                                        f"{len(note)} characters, over {NOTE_MAX}", **where))
        control = next((ch for ch in note if (ord(ch) < 32 and ch not in "\t\n\r")
                        or ord(ch) == 127), None)
        if control is not None:
            out.problems.append(problem("bad-field", field="note", detail=f"the note holds the "
                                        f"control character U+{ord(control):04X}", **where))
        out.note = note
    return out


def timestamp(annotation: Mapping[str, Any]) -> str | None:
    """When the judgement took its present form (updated_at, else created_at), as RFC 3339
    UTC to the second, so that corpus timestamps compare as strings."""
    raw = annotation.get("updated_at") or annotation.get("created_at")
    if not isinstance(raw, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # Label Studio writes UTC; a naive time is taken as such
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def person(completed_by: object) -> tuple[str | None, str | None]:
    """(user id, e-mail) of `completed_by`: an id in the JSON export, an object in exports
    with expanded users and in target storage."""
    if isinstance(completed_by, bool):
        return None, None
    if isinstance(completed_by, int):
        return str(completed_by), None
    if isinstance(completed_by, str) and completed_by.strip():
        return (completed_by, None) if "@" not in completed_by else (None, completed_by)
    if isinstance(completed_by, dict):
        uid = completed_by.get("id")
        email = completed_by.get("email")
        return (str(uid) if isinstance(uid, int) and not isinstance(uid, bool) else None,
                email if isinstance(email, str) and email else None)
    return None, None
