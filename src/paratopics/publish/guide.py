"""The annotation guide, generated from the codebook.

Annotators read definitions and include/exclude notes while they judge; if the
guide were written by hand it would drift from schema/codebook.json, so it is
a pure function of the codebook (docs/guide.md is its committed output).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from paratopics.codebook import Codebook, Node
from paratopics.corpus.store import atomic_write
from paratopics.release.judgements import RULE, RULE_TEXT

CC_BY = "https://creativecommons.org/licenses/by/4.0/"

_EXAMPLE_LINE = {
    "article_id": "russia-pakistan-agree-to-boost-military-9fb302f7a1",
    "paragraph_index": 2,
    "paragraph_sha256": "<copy paragraphs[2].sha256 from the article record>",
    "labels": ["paratopics:defence-cooperation", "paratopics:counter-terrorism"],
    "annotator": "your-team-id",
    "created": "2024-05-01T14:03:00Z",
    "confidence": 0.9,
    "note": "optional free text for the adjudicator",
}


def _cell(text: str) -> str:
    """Table cells must not break the Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def _bullets(title: str, items: Iterable[str]) -> list[str]:
    lines = [f"*{title}:*", ""]
    lines += [f"- {item}" for item in items]
    return [*lines, ""]


def how_to_annotate() -> list[str]:
    """The rules of the task, identical for every codebook version."""
    example = json.dumps(_EXAMPLE_LINE, ensure_ascii=False)
    return [
        "## How to annotate",
        "",
        "1. **One judgement per paragraph.** Each annotator judges each paragraph at most "
        "once; a judgement is one line of a file `corpus/annotations/<name>.jsonl`. "
        "To correct a judgement, edit its line instead of adding a second one.",
        "2. **Labels are level-2 or project ids.** Use the ids in the sections below "
        "(`medtop:2…` for IPTC topics, `paratopics:…` for project topics), exactly as "
        "written. Level-1 topics are headings that group the labels; they are not labels.",
        "3. **Multiple labels are allowed.** Give every topic the paragraph is substantially "
        "about, not only the main one; leave out topics that are merely mentioned.",
        "4. **An empty list means \"judged: no topic\".** `\"labels\": []` records that you "
        "read the paragraph and no topic applies (a dateline, a quote with no content). "
        "A paragraph you did not judge has no line at all.",
        "5. **Retired topics are refused.** Use the replacement listed under *Retired topics*.",
        "",
        "### Writing a line",
        "",
        "Each line is one JSON object (UTF-8, no byte-order mark, LF line endings):",
        "",
        "```json",
        example,
        "```",
        "",
        "- `article_id`: the article's id (the file name in `corpus/articles/` without "
        "`.json`).",
        "- `paragraph_index`: the paragraph's `index` in the article record, from 0, written "
        "as an integer (`2`, not `2.0` or `2e0`: JSON Schema alone would accept those, "
        "paratopics refuses them).",
        "- `paragraph_sha256`: the paragraph's `sha256` in the article record: it records "
        "which text you judged, so that a later correction of the text marks your judgement "
        "as stale instead of silently keeping it.",
        "- `labels`: codebook ids, no repeats; `[]` for no topic.",
        "- `annotator`: your stable id (lowercase letters, digits, `.`, `_`, `-`): a team "
        "or a pseudonym, not a person's name.",
        "- `created`: when you judged, RFC 3339 with a time zone (`2024-05-01T14:03:00Z`).",
        "- optional `confidence` (0 to 1), `note` (free text), and `role`: `\"adjudicator\"` "
        "for an adjudicator's final judgement.",
        "",
        "### How gold labels are decided",
        "",
        f"Rule `{RULE}`: {RULE_TEXT}",
        "",
        "`paratopics adjudicate` prints the gold labels and lists ties and disagreements; "
        "`paratopics agreement` reports Krippendorff's alpha (MASI distance) between "
        "annotators.",
        "",
        "### Checking your work",
        "",
        "Run `paratopics validate corpus/annotations/<name>.jsonl` before you commit. It "
        "reports every problem with file, line, JSON pointer and a hint: unknown ids (with a "
        "\"did you mean\"), retired labels, stale hashes, paragraphs judged twice. The codes "
        "are explained in [errors.md](errors.md); the pull request runs the same check.",
        "",
    ]


def node_section(node: Node, heading: str = "####") -> list[str]:
    """One label: definition, what belongs, what does not, a worked example."""
    kind = " (project topic)" if node.get("origin") == "project" else ""
    lines = [f"{heading} `{node['id']}` {node['name']}{kind}", "", node["definition"], ""]
    lines += _bullets("Include", node.get("include", []))
    lines += _bullets("Exclude", node.get("exclude", []))
    lines += ["*Example:*", "", f"> {node['example']}", ""]
    return lines


def _children(codebook: Codebook, parent: str) -> list[Node]:
    return [n for n in codebook.nodes if n.get("parent") == parent and n["status"] != "retired"]


def topics_section(codebook: Codebook) -> list[str]:
    """Per level-1 topic, its active level-2 and project labels, in codebook order."""
    lines = ["## Topics", ""]
    for top in codebook.nodes:
        if top["level"] != 1:
            continue
        lines += [f"### {top['name']} (`{top['id']}`)", "", top["definition"], ""]
        if top.get("include"):
            lines += _bullets("Covers", top["include"])
        if top.get("exclude"):
            lines += _bullets("Does not cover", top["exclude"])
        for node in _children(codebook, top["id"]):
            lines += node_section(node)
    return lines


def cases_section(codebook: Codebook) -> list[str]:
    """Decisions on the cases judges found hardest, each shown on a real paragraph.

    Definitions alone left judges split on the same questions; a decision with a
    paragraph from the corpus settles them the same way for everyone after.
    """
    if not codebook.cases:
        return []
    lines = ["## Hard cases", "",
             "Questions judges met on real paragraphs, and how to decide them.", ""]
    for number, case in enumerate(codebook.cases, start=1):
        example = case["example"]
        labels = ", ".join(f"`{code}` {codebook.name(code)}" for code in case["labels"])
        lines += [f"### {number}. {case['question']}", "", case["decision"], "",
                  f"*Example* (`{example['article_id']}`, paragraph "
                  f"{example['paragraph_index']}):", "", f"> {example['text']}", "",
                  f"*Labels:* {labels or '`[]` (no topic)'}", ""]
    return lines


def quick_reference(codebook: Codebook) -> list[str]:
    lines = ["## Quick reference", "", "| label | name | under |", "|---|---|---|"]
    for node in codebook.nodes:
        if node["level"] == 2 and node["status"] != "retired":
            parent = codebook.name(str(node["parent"]))
            lines.append(f"| `{node['id']}` | {_cell(node['name'])} | {_cell(parent)} |")
    return [*lines, ""]


def retired_section(codebook: Codebook) -> list[str]:
    retired = [n for n in codebook.nodes if n["status"] == "retired"]
    if not retired:
        return []
    lines = [
        "## Retired topics",
        "",
        "IPTC retired these topics. Old labels still resolve, but `paratopics validate` "
        "refuses them in judgements: use the replacement.",
        "",
        "| retired | name | use instead |",
        "|---|---|---|",
    ]
    for node in retired:
        new = node.get("replaced_by", "")
        name = codebook.name(new) if new in codebook else ""
        lines.append(f"| `{node['id']}` | {_cell(node['name'])} | `{new}` {_cell(name)} |")
    return [*lines, ""]


def credit_section(codebook: Codebook) -> list[str]:
    credit = codebook.credit or "IPTC Media Topics, (c) IPTC."
    return [
        "## Credit",
        "",
        f"{credit} Licence: CC BY 4.0, {CC_BY}. Project topics (`paratopics:…`) are "
        "the project's own.",
        "",
    ]


def guide_markdown(codebook: Codebook) -> str:
    """The whole annotation guide for `codebook`, as Markdown (deterministic)."""
    lines = [
        "# Annotation guide",
        "",
        f"For codebook version {codebook.version}. Generated from `schema/codebook.json` by "
        "`python scripts/gen_docs.py` (or `paratopics guide`); do not edit by hand.",
        "",
        "You label each paragraph of an article with the topics it is about. This guide "
        "says how to write a judgement, then defines every label with what it includes, "
        "what it excludes and a worked example.",
        "",
    ]
    lines += how_to_annotate()
    lines += cases_section(codebook)
    lines += quick_reference(codebook)
    lines += topics_section(codebook)
    lines += retired_section(codebook)
    lines += credit_section(codebook)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_guide(path: Path, codebook: Codebook) -> None:
    """Write the guide atomically, so a failed write never leaves half a guide."""
    atomic_write(path, guide_markdown(codebook).encode("utf-8"))
