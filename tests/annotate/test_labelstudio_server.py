"""The Label Studio round trip against a real server: tasks in, people label, judgements out.

One server start is shared by the module (it takes most of the time); the
server and everyone who talks to it run in a network namespace where only
loopback exists. Needs root (for the namespace); installs Label Studio into its
own environment on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from labelstudio_server import ROOT, Server, in_namespace, label_studio

from paratopics.cli import main
from paratopics.corpus.store import Corpus
from paratopics.synthetic import generate

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="a network namespace for the server needs root and iproute2")

INSURGENCY = "paratopics:insurgency"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    started = time.monotonic()
    with label_studio(tmp_path_factory.mktemp("label-studio")) as running:
        print(f"\nLabel Studio answered /health {running.seconds_to_health:.1f} s after start "
              f"({time.monotonic() - started:.1f} s with setup)")
        yield running


@pytest.fixture
def corpus_with_model(tmp_path: Path) -> tuple[Corpus, Path]:
    root = tmp_path / "corpus"
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    corpus = Corpus(root)
    generate(corpus, 30, seed=1, unlabeled_share=0.3, annotators=2)
    assert main(["build", "--corpus", str(root), "--version", "1.0.0"]) == 0
    model = tmp_path / "model"
    assert main(["train", "--corpus", str(root), "--out", str(model)]) == 0
    return corpus, model


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_round_trip_through_a_real_label_studio(
        server: Server, corpus_with_model: tuple[Corpus, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    corpus, model = corpus_with_model
    root = str(corpus.root)
    config, tasks_file, export = (tmp_path / n for n in ("config.xml", "tasks.json",
                                                         "export.json"))
    assert main(["tasks", "config", "--tool", "label-studio"]) == 0
    config.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["tasks", "export", "--tool", "label-studio", "--corpus", root, "--out",
                 str(tasks_file), "--limit", "6", "--seed", "1", "--model", str(model)]) == 0
    sent = json.loads(tasks_file.read_bytes())

    people = in_namespace(server.namespace, [
        sys.executable,
        str(ROOT / "tests" / "labelstudio_client.py"), "run", server.url, str(config),
        str(tasks_file), str(export)], timeout=300)
    assert people.returncode == 0, people.stdout + people.stderr
    run = json.loads(people.stdout)
    exported = json.loads(export.read_bytes())
    assert len(exported) == len(sent) == 6
    assert {t["data"]["paragraph_sha256"] for t in exported} == {
        t["data"]["paragraph_sha256"] for t in sent}
    assert all(t["annotations"] or t.get("drafts") or t["id"] not in run["tasks"]
               for t in exported)

    users = run["users"]
    mapping = tmp_path / "people.tsv"
    mapping.write_text(f"{users['a']['id']}\tannotator-a\n{users['b']['id']}\tannotator-b\n",
                       encoding="utf-8")
    out = corpus.annotations / "label-studio.jsonl"
    args = ["annotations", "import", "--tool", "label-studio", str(export), "--corpus", root,
            "--out", str(out), "--annotators", str(mapping)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "5 new" in err and "1 skipped (cancelled), 1 draft(s)" in err
    written = out.read_bytes()
    assert b"@" not in written.replace(b"paratopics:", b"")
    assert main(args) == 0 and out.read_bytes() == written  # re-import changes nothing

    records = {(r["paragraph_index"], r["article_id"], r["annotator"]): r
               for r in _read_lines(out)}
    by_task = {t["id"]: t["data"] for t in exported}
    first, second, third, _ = (by_task[i] for i in run["tasks"])

    def judged(data: dict[str, Any], who: str) -> dict[str, Any]:
        return records[(data["paragraph_index"], data["article_id"], who)]

    assert INSURGENCY in judged(first, "annotator-b")["labels"]
    assert INSURGENCY not in judged(first, "annotator-a")["labels"]
    assert judged(first, "annotator-b")["note"] == "the insurgency is the point"
    assert judged(second, "annotator-b")["role"] == "adjudicator"
    assert judged(third, "annotator-b")["labels"] == []
    assert (third["paragraph_index"], third["article_id"], "annotator-a") not in records

    assert main(["validate", "--corpus", root]) == 0
    capsys.readouterr()
    assert main(["adjudicate", "--corpus", root, "--format", "json"]) == 0
    gold = {(p["article_id"], p["paragraph_index"]): p
            for p in json.loads(capsys.readouterr().out)["paragraphs"]}
    tie = gold[(first["article_id"], first["paragraph_index"])]
    assert tie["ties"] == [INSURGENCY] and INSURGENCY not in tie["labels"]
    decided = gold[(second["article_id"], second["paragraph_index"])]
    assert decided["method"] == "adjudicator" and decided["labels"] == [INSURGENCY]

    assert main(["build", "--corpus", root, "--version", "1.1.0"]) == 0
    rows = pq.read_table(corpus.releases / "v1.1.0" / "annotations").to_pylist()
    assert {r["annotator"] for r in rows} >= {"annotator-a", "annotator-b"}
    assert any(r["role"] == "adjudicator" and r["labels"] == [INSURGENCY] for r in rows)
