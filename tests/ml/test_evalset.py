"""scripts/evalset.py: the judged evaluation set is stratified, paired and collected faithfully."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
from conftest import ROOT

from paratopics import codebook
from paratopics.release.rows import split_of


def evalset() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evalset", ROOT / "scripts" / "evalset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["evalset"] = module
    spec.loader.exec_module(module)
    return module


def articles(n: int) -> list[dict[str, object]]:
    out = []
    for k in range(n):
        texts = [f"Paragraph {i} of story {k}." for i in range(3 + k % 9)]
        out.append({
            "article_id": f"story-{k}-{hashlib.sha256(str(k).encode()).hexdigest()[:10]}",
            "source": "en.wikinews.org" if k % 25 == 0 else "state.gov",
            "title": f"Story {k}",
            "paragraphs": [{"index": i, "heading": None, "text": t,
                            "sha256": hashlib.sha256(t.encode()).hexdigest()}
                           for i, t in enumerate(texts)],
        })
    out.append({"article_id": "seed-0000000000", "source": "globalsecurity.org", "title": "Seed",
                "paragraphs": [{"index": 0, "heading": None, "text": "x", "sha256": "0" * 64}]})
    return out


def test_the_sample_meets_each_split_target_from_its_own_split() -> None:
    es = evalset()
    items = es.sample(articles(1100))
    per_split = Counter(i.split for i in items)
    for split, target in es.TARGETS.items():
        assert target <= per_split[split] < target + es.PER_ARTICLE
    assert all(split_of(i.article_id) == i.split for i in items)
    assert "seed-0000000000" not in {i.article_id for i in items}
    assert max(Counter(i.article_id for i in items).values()) <= es.PER_ARTICLE
    assert len(set((i.article_id, i.paragraph_index) for i in items)) == len(items)
    assert es.sample(articles(1100)) == items  # seeded: the same draw every time


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("articles")
    for art in articles(1100):
        (root / f"{art['article_id']}.json").write_text(json.dumps(art))
    return root


def test_every_batch_goes_to_two_different_judges_and_loads_are_even(
        tmp_path: Path, folder: Path) -> None:
    es = evalset()
    assert es.main(["sample", "--out", str(tmp_path / "w"), "--articles", str(folder)]) == 0
    assert es.main(["batches", "--work", str(tmp_path / "w"), "--judges", "4"]) == 0
    assign = json.loads((tmp_path / "w" / "assign.json").read_text())
    judges_of: dict[int, list[str]] = {}
    for judge, numbers in assign.items():
        for n in numbers:
            judges_of.setdefault(n, []).append(judge)
    assert all(len(set(js)) == 2 == len(js) for js in judges_of.values())
    loads = [len(ns) for ns in assign.values()]
    assert max(loads) - min(loads) <= 1
    batches = es.batches(es.load_sample(tmp_path / "w"))
    whole = {i.article_id: n for n, b in enumerate(batches) for i in b}
    assert all(whole[i.article_id] == n for n, b in enumerate(batches) for i in b)


def test_collect_writes_valid_lines_and_refuses_unknown_labels(
        tmp_path: Path, folder: Path) -> None:
    es = evalset()
    work = tmp_path / "w"
    es.main(["sample", "--out", str(work), "--articles", str(folder)])
    es.main(["batches", "--work", str(work), "--judges", "3"])
    batches = es.batches(es.load_sample(work))
    assign = json.loads((work / "assign.json").read_text())
    label = codebook.load().label_ids[0]
    for judge, numbers in assign.items():
        (work / "verdicts" / judge).mkdir(parents=True)
        for n in numbers:
            lines = [json.dumps({"key": k, "labels": [label] if judge.endswith("1") else []})
                     for k in es.keys(n, batches[n - 1])]
            (work / "verdicts" / judge / f"batch-{n:02d}.jsonl").write_text("\n".join(lines))
    out = tmp_path / "annotations"
    out.mkdir()
    assert es.main(["collect", "--work", str(work), "--created", "2026-12-03T09:00:00Z",
                    "--out", str(out)]) == 0
    schema = json.loads((ROOT / "schema" / "annotation.schema.json").read_text())
    written = [json.loads(x) for f in sorted(out.glob("*.jsonl"))
               for x in f.read_text().splitlines()]
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert all(validator.is_valid(record) for record in written)
    assert len(written) == 2 * len(es.load_sample(work))
    one = [r for r in written if r["annotator"] == "llm-judge-1"]
    assert one and all(r["labels"] == [label] for r in one)

    bad = work / "verdicts" / "llm-judge-2" / f"batch-{assign['llm-judge-2'][0]:02d}.jsonl"
    bad.write_text(bad.read_text().replace("[]", '["medtop:99999999"]', 1))
    assert es.main(["collect", "--work", str(work), "--created", "2026-12-03T09:00:00Z",
                    "--out", str(out)]) == 1


@pytest.mark.parametrize("judges", [2, 4, 5])
def test_pairs_are_all_distinct(judges: int) -> None:
    pairs = evalset().pairs(judges)
    assert len(pairs) == judges * (judges - 1) // 2
    assert all(a != b for a, b in pairs)


def test_only_disagreements_go_to_adjudication_and_come_back_as_adjudicator_lines(
        tmp_path: Path, folder: Path) -> None:
    es = evalset()
    work, out = tmp_path / "w", tmp_path / "annotations"
    out.mkdir()
    es.main(["sample", "--out", str(work), "--articles", str(folder)])
    es.main(["batches", "--work", str(work), "--judges", "2"])
    batches = es.batches(es.load_sample(work))
    assign = json.loads((work / "assign.json").read_text())
    first, second = codebook.load().label_ids[:2]
    for judge, numbers in assign.items():
        (work / "verdicts" / judge).mkdir(parents=True)
        for n in numbers:
            # the judges disagree on every third paragraph only
            lines = [json.dumps({"key": k, "labels": [second] if judge.endswith("2")
                                 and i % 3 == 0 else [first]})
                     for i, k in enumerate(es.keys(n, batches[n - 1]))]
            (work / "verdicts" / judge / f"batch-{n:02d}.jsonl").write_text("\n".join(lines))
    assert es.main(["collect", "--work", str(work), "--created", "2026-12-03T09:00:00Z",
                    "--out", str(out)]) == 0
    assert es.main(["disputes", "--work", str(work), "--adjudicators", "2",
                    "--annotations", str(out)]) == 0
    expected = {(i.article_id, i.paragraph_index)
                for n, b in enumerate(batches, 1) for k, i in enumerate(b) if k % 3 == 0}
    keyed = es.dispute_keys(work, out, 2)
    assert {(i.article_id, i.paragraph_index) for d in keyed.values() for i in d.values()} \
        == expected
    text = "".join(p.read_text() for p in sorted((work / "disputes").glob("*.md")))
    assert "llm-judge" not in text  # the adjudicator is not told who chose what
    adjudicators = json.loads((work / "disputes-assign.json").read_text())
    for who, numbers in adjudicators.items():
        (work / "disputes-verdicts" / who).mkdir(parents=True)
        for n in numbers:
            lines = [json.dumps({"key": k, "labels": [second]}) for k in keyed[n]]
            (work / "disputes-verdicts" / who / f"dispute-{n:02d}.jsonl").write_text(
                "\n".join(lines))
    assert es.main(["collect", "--stage", "adjudicate", "--work", str(work), "--created",
                    "2026-12-03T10:00:00Z", "--out", str(out)]) == 0
    decided = [json.loads(x) for p in sorted(out.glob("evalset-llm-adjudicator-*.jsonl"))
               for x in p.read_text().splitlines()]
    assert {(d["article_id"], d["paragraph_index"]) for d in decided} == expected
    assert all(d["role"] == "adjudicator" and d["labels"] == [second] for d in decided)
