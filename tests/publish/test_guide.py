"""The annotation guide generated from the codebook, and the committed docs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT
from judgement_helpers import run_all

from paratopics import codebook
from paratopics.codebook import Codebook
from paratopics.errors import catalog_markdown
from paratopics.publish.guide import guide_markdown
from paratopics.release.judgements import RULE_TEXT

BOOK = codebook.load()
GUIDE = guide_markdown(BOOK)


def test_every_active_label_has_its_own_section_with_notes_and_example() -> None:
    for node in BOOK.nodes:
        if node["level"] != 2 or node["status"] == "retired":
            continue
        heading = f"#### `{node['id']}` {node['name']}"
        assert heading in GUIDE, node["id"]
        section = GUIDE.split(heading, 1)[1].split("\n#### ", 1)[0].split("\n### ", 1)[0]
        assert node["definition"] in section
        assert all(item in section for item in node["include"] + node["exclude"])
        assert f"> {node['example']}" in section


def test_every_active_node_id_appears_and_labels_sit_under_their_level_1_topic() -> None:
    for node in BOOK.nodes:
        if node["status"] != "retired":
            assert f"`{node['id']}`" in GUIDE, node["id"]
    tops = [n for n in BOOK.nodes if n["level"] == 1]
    starts = [GUIDE.index(f"### {n['name']} (`{n['id']}`)") for n in tops]
    assert starts == sorted(starts)
    bounds = dict(zip([n["id"] for n in tops], zip(starts, [*starts[1:], len(GUIDE)],
                                                        strict=True), strict=True))
    for node in BOOK.nodes:
        if node["level"] == 2 and node["status"] != "retired":
            low, high = bounds[str(node["parent"])]
            assert low < GUIDE.index(f"#### `{node['id']}`") < high, node["id"]


def test_retired_labels_are_listed_apart_with_their_replacement() -> None:
    retired = [n for n in BOOK.nodes if n["status"] == "retired"]
    assert retired
    section = GUIDE.split("## Retired topics", 1)[1]
    for node in retired:
        assert f"#### `{node['id']}`" not in GUIDE
        assert re.search(rf"\| `{re.escape(node['id'])}` \| .* \| `{node['replaced_by']}` ",
                         section), node["id"]


def test_the_guide_says_how_to_annotate_and_credits_iptc() -> None:
    assert RULE_TEXT in GUIDE
    assert "paratopics validate" in GUIDE
    assert '"labels": []' in GUIDE and "judged: no topic" in GUIDE
    assert "Multiple labels are allowed" in GUIDE
    credit = GUIDE.split("## Credit", 1)[1]
    assert BOOK.credit and BOOK.credit in credit
    assert "CC BY 4.0" in credit and "creativecommons.org/licenses/by/4.0" in credit


def test_the_guide_is_deterministic_and_follows_the_codebook() -> None:
    assert guide_markdown(codebook.load()) == GUIDE
    node = next(n for n in BOOK.nodes if n["level"] == 2 and n["status"] == "active")
    changed = Codebook(BOOK.version, tuple({**n, "definition": "A new definition."}
                                           if n is node else n for n in BOOK.nodes),
                       BOOK.credit)
    assert "A new definition." in guide_markdown(changed)


def test_committed_docs_equal_the_generated_text() -> None:
    assert (ROOT / "docs" / "guide.md").read_text(encoding="utf-8") == GUIDE, (
        "docs/guide.md is stale: run python scripts/gen_docs.py")
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == catalog_markdown()
    check = subprocess.run([sys.executable, ROOT / "scripts" / "gen_docs.py", "--check"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr


def test_guide_command_prints_or_writes_the_guide(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "site" / "guide.md"
    printed, written = run_all(cli, (("guide",), {"cwd": tmp_path}),
                               (("guide", "--out", out), {"cwd": tmp_path}))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == GUIDE
    assert written.returncode == 0, written.stderr
    assert out.read_text(encoding="utf-8") == GUIDE


def test_hard_cases_quote_real_paragraphs_of_the_corpus_with_active_labels() -> None:
    assert BOOK.cases, "the shipped codebook's hard cases are the guide's decisions"
    for case in BOOK.cases:
        example = case["example"]
        record = json.loads((ROOT / "corpus" / "articles" / f"{example['article_id']}.json")
                            .read_text(encoding="utf-8"))
        assert record["paragraphs"][example["paragraph_index"]]["text"] == example["text"]
        assert f"> {example['text']}" in GUIDE
        assert case["question"] in GUIDE
    assert codebook.tree_problems(BOOK) == []


def test_a_hard_case_with_an_unknown_or_level1_label_is_a_tree_problem() -> None:
    data = json.loads((ROOT / "schema" / "codebook.json").read_text(encoding="utf-8"))
    data["cases"][0]["labels"] = ["medtop:99999999", "medtop:16000000"]
    problems = codebook.tree_problems(codebook.from_dict(data))
    assert problems == ["hard case 1: medtop:99999999 is not an active label",
                        "hard case 1: medtop:16000000 is not an active label"]
    data.pop("cases")
    assert "## Hard cases" not in guide_markdown(codebook.from_dict(data))
