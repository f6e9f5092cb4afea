"""Label Studio without a server: the labeling config, task export and judgement import."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from judgement_helpers import judgement, line, snapshot, the_article
from labelstudio_helpers import BOOK, annotation, note, pick, task

from paratopics.annotate import export, importer, label_studio, select
from paratopics.cli import main
from paratopics.corpus.store import Corpus

X, Y, Z = "paratopics:defence-cooperation", "paratopics:counter-terrorism", "medtop:20000638"
MAP = "1\talice-team\nbob@example.org\tbob-team\n# comment\n\n7\tcarol\n"


# -- the labeling config ------------------------------------------------------


def test_config_is_the_codebook_as_a_taxonomy_of_active_leaves() -> None:
    root = ET.fromstring(label_studio.labeling_config(BOOK))
    taxonomy = root.find(".//Taxonomy")
    assert taxonomy is not None
    assert taxonomy.get("name") == "topics" and taxonomy.get("toName") == "paragraph"
    assert taxonomy.get("leafsOnly") == "true"
    branches = taxonomy.findall("Choice")
    assert [b.get("alias") for b in branches] == [
        n["id"] for n in BOOK.nodes if n["level"] == 1]
    leaves = {c.get("alias"): (b.get("alias"), c.get("hint")) for b in branches
              for c in b.findall("Choice")}
    active = [n for n in BOOK.nodes if n["level"] == 2 and n["status"] != "retired"]
    assert set(leaves) == {n["id"] for n in active}
    assert all(leaves[n["id"]][0] == n["parent"] for n in active)
    assert all(n["definition"] in (leaves[n["id"]][1] or "") for n in active)
    retired = [n["id"] for n in BOOK.nodes if n["status"] == "retired"]
    assert retired and not set(retired) & set(leaves)
    assert not any(c.findall("Choice") for b in branches for c in b.findall("Choice"))
    names = {e.get("name") for e in root.iter() if e.get("name")}
    assert {"paragraph", "heading", "previous", "next", "topics", "note"} <= names
    assert {e.get("value") for e in root.iter("Text")} == {
        "$text", "$heading", "$previous", "$next"}
    assert root.find(".//TextArea").get("name") == "note"  # type: ignore[union-attr]


def test_config_command_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "config", "--tool", "label-studio"]) == 0
    assert capsys.readouterr().out == label_studio.labeling_config(BOOK)


# -- tasks out ----------------------------------------------------------------


@pytest.fixture
def judged(seeded: Corpus) -> Corpus:
    """Paragraphs 0-3 judged: a tie, an agreement, a single, an adjudicated dispute;
    paragraph 4 judged on a text it no longer has."""
    art = the_article(seeded)
    stale = dict(judgement(art, 4, [X], "team-a"), paragraph_sha256="0" * 64)
    records = [
        judgement(art, 0, [X, Y], "team-a"), judgement(art, 0, [X], "team-b"),
        judgement(art, 1, [Z], "team-a"), judgement(art, 1, [Z], "team-b"),
        judgement(art, 2, [], "team-a"),
        judgement(art, 3, [X], "team-a"), judgement(art, 3, [Y], "team-b"),
        judgement(art, 3, [Y], "boss", role="adjudicator"), stale,
    ]
    (seeded.annotations / "judged.jsonl").write_bytes(b"".join(line(r) for r in records))
    return seeded


def _indexes(corpus: Corpus, how: str, **kwargs: Any) -> list[int]:
    pool = select.working_pool(corpus)
    return [p.paragraph_index for p in select.candidates(pool, how, BOOK, **kwargs)]


def test_selections(judged: Corpus) -> None:
    count = len(the_article(judged)["paragraphs"])
    assert _indexes(judged, "unjudged") == list(range(5, count))
    assert _indexes(judged, "stale") == [4]
    assert _indexes(judged, "ties") == [0]
    assert _indexes(judged, "disagreements") == [0]  # 3 was decided by an adjudicator
    assert _indexes(judged, "disagreements", exclude=("team-b",)) == []


def test_export_writes_tasks_with_their_paragraph_and_context(judged: Corpus, tmp_path: Path
                                                              ) -> None:
    out = tmp_path / "tasks.json"
    art = the_article(judged)
    assert main(["tasks", "export", "--tool", "label-studio", "--corpus", str(judged.root),
                 "--out", str(out), "--select", "stale"]) == 0
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert len(tasks) == 1
    data = tasks[0]["data"]
    para = art["paragraphs"][4]
    assert (data["article_id"], data["paragraph_index"], data["paragraph_sha256"]) == (
        art["article_id"], 4, para["sha256"])
    assert data["text"] == para["text"] and data["title"] == art["title"]
    assert data["previous"] == art["paragraphs"][3]["text"]
    assert data["next"] == art["paragraphs"][5]["text"]
    assert "predictions" not in tasks[0]


def test_a_limited_sample_is_reproducible_and_in_corpus_order(judged: Corpus, tmp_path: Path
                                                              ) -> None:
    def run(seed: int) -> list[int]:
        out = tmp_path / f"t{seed}.json"
        assert main(["tasks", "export", "--tool", "label-studio", "--corpus",
                     str(judged.root), "--out", str(out), "--limit", "5",
                     "--seed", str(seed)]) == 0
        return [t["data"]["paragraph_index"] for t in json.loads(out.read_bytes())]

    first, again, other = run(1), run(1), run(2)
    assert first == again == sorted(first) and len(first) == 5
    assert set(first) <= set(range(5, 27)) and first != other


def test_model_predictions_and_uncertainty_ranking() -> None:
    import numpy as np

    probs = np.array([[0.9, 0.1], [0.55, 0.1], [0.1, 0.45], [1.0, 0.0]])
    thresholds = np.array([0.5, 0.5])
    certainty = select.certainty(probs, thresholds)
    assert certainty.tolist() == pytest.approx([0.8, 0.1, 0.1, 1.0])
    paras = [label_studio.TaskParagraph("a-0123456789", i, "0" * 64, "t", "T", None, None,
                                        None) for i in range(4)]
    preds = [label_studio.Prediction("m", (), float(c)) for c in certainty]
    assert select.most_uncertain(paras, preds, 2) == [1, 2]
    shaped = label_studio.task(paras[0], BOOK, label_studio.Prediction("m@v1", (X, Z), 0.25))
    prediction = shaped["predictions"][0]
    assert prediction["model_version"] == "m@v1" and prediction["score"] == 0.25
    assert prediction["result"][0]["value"]["taxonomy"] == [
        [BOOK.level1(X), X], [BOOK.level1(Z), Z]]


# The fast path of the baseline's probabilities (paratopics.ml.inference) must give
# scikit-learn's numbers bit for bit: the exported tasks may not change by one byte.
TEXTS = [
    "Naval patrols met the coast guard; the coast guard met naval patrols again.",
    "COAST GUARD patrols, coast-guard patrols and coast guard Patrols",
    "", "!!! ... ??", "a b c", "unknownword anotherunknown naval",
    "naval", "patrols coast", "Ceasefire talks stalled as the naval blockade went on",
    "ceasefire ceasefire ceasefire talks talks",
]
LABELS = [["x"], ["x", "y"], [], [], [], ["y"], ["x"], ["y"], ["y", "z"], ["z"]]


def _fitted(max_features: int, ngram_max: int = 2) -> tuple[object, list[str]]:
    from paratopics.ml import baseline

    train = baseline.Split([str(i) for i in range(len(TEXTS))], TEXTS,
                           [frozenset(labels) for labels in LABELS])
    return baseline.fit(train, baseline.Hyper(max_features=max_features,
                                              ngram_max=ngram_max))


@pytest.mark.parametrize("max_features", [200_000, 12])
def test_fast_probabilities_equal_scikit_learns_bit_for_bit(max_features: int) -> None:
    import numpy as np

    from paratopics.ml import inference

    pipeline, labels = _fitted(max_features)
    fast = inference.fast_baseline(pipeline)
    assert fast is not None, "the baseline's pipeline takes the fast path"
    # documents in one batch share no bigram across their boundary: "naval" + "patrols"
    texts = [*TEXTS, "the coast", "guard said", "naval", "patrols", "Naval Patrols"]
    expected = np.asarray(pipeline.predict_proba(texts))  # type: ignore[attr-defined]
    assert expected.shape == (len(texts), len(labels)) == fast(texts).shape
    assert np.array_equal(fast(texts), expected)
    assert all(np.array_equal(fast([text])[0], row) for text, row in zip(texts, expected,
                                                                          strict=True))
    assert len({tuple(row) for row in expected}) > 5  # the texts are told apart


@pytest.mark.parametrize(("ngrams", "max_features"), [((1, 1), None), ((1, 2), 9),
                                                      ((2, 2), None), ((1, 2), None)])
def test_term_counts_equal_countvectorizers(ngrams: tuple[int, int], max_features: int | None
                                            ) -> None:
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer

    from paratopics.ml import inference

    vectorizer = CountVectorizer(ngram_range=ngrams, max_features=max_features).fit(TEXTS)
    texts = [*TEXTS[::-1], "coast guard coast guard", "guard coast"]
    expected = vectorizer.transform(texts)
    analyse = vectorizer.build_tokenizer()
    got = inference.term_counts(texts, inference.compile_vocabulary(vectorizer.vocabulary_),
                                lambda text: analyse(text.lower()), ngrams)
    assert got.shape == expected.shape and got.has_sorted_indices
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(got, part), getattr(expected, part)), part


def test_other_pipelines_are_left_to_scikit_learn() -> None:
    import numpy as np

    from paratopics.ml import inference

    pipeline, _ = _fitted(200_000, ngram_max=3)
    assert inference.fast_baseline(pipeline) is None
    assert np.array_equal(inference.scorer(pipeline)(TEXTS),
                          pipeline.predict_proba(TEXTS))  # type: ignore[attr-defined]


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Corpus, Path]:
    """A generated corpus, its release 1.0.0 and a baseline trained on it."""
    from paratopics.synthetic import generate

    root = tmp_path / "corpus"
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    generate(Corpus(root), 40, seed=4, unlabeled_share=0.3, annotators=2)
    assert main(["build", "--corpus", str(root), "--version", "1.0.0"]) == 0
    assert main(["train", "--corpus", str(root), "--out", str(tmp_path / "model")]) == 0
    return Corpus(root), tmp_path / "model"


def _one_at_a_time(model: select.Model, paragraphs: list[label_studio.TaskParagraph]
                   ) -> list[label_studio.Prediction]:
    """Predictions as the export made them before batching: scikit-learn's predict_proba
    on one paragraph at a time, labels picked one by one in codebook order."""
    order = {code: i for i, code in enumerate(BOOK.label_ids)}
    out = []
    for paragraph in paragraphs:
        probs = model.pipeline.predict_proba([paragraph.text])  # type: ignore[attr-defined]
        score = select.certainty(probs, model.thresholds)[0]
        picked = sorted((c for c, on in zip(model.labels, probs[0] >= model.thresholds,
                                            strict=True) if on),
                        key=lambda c: order.get(c, len(order)))
        out.append(label_studio.Prediction(model.version, tuple(picked),
                                           round(float(score), 6)))
    return out


def test_batched_predictions_equal_one_at_a_time(trained: tuple[Corpus, Path],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, folder = trained
    model = select.load_model(folder, BOOK)
    paragraphs = select.working_pool(corpus).paragraphs
    expected = _one_at_a_time(model, paragraphs)
    assert sum(1 for p in expected if p.labels) > len(expected) // 4
    assert len({p.score for p in expected}) > 10
    monkeypatch.setattr(select, "PREDICT_BATCH", 7)  # many batches, a short last one
    assert select.predict(model, paragraphs, BOOK) == expected
    out = tmp_path / "tasks.json"
    assert main(["tasks", "export", "--tool", "label-studio", "--corpus", str(corpus.root),
                 "--out", str(out), "--select", "unjudged", "--model", str(folder)]) == 0
    tasks = json.loads(out.read_bytes())
    by_key = {(p.article_id, p.paragraph_index): want for p, want in zip(
        paragraphs, expected, strict=True)}
    assert tasks
    for shaped in tasks:
        want = by_key[shaped["data"]["article_id"], shaped["data"]["paragraph_index"]]
        prediction = shaped["predictions"][0]
        assert prediction["score"] == want.score
        assert prediction["result"][0]["value"]["taxonomy"] == label_studio.taxonomy_value(
            want.labels, BOOK)


def test_picked_labels_follow_the_codebook_order() -> None:
    import numpy as np

    decisions = np.array([[True, False, True], [False, False, False], [True, True, True]])
    order = {"b": 0, "a": 1}
    assert select.picked_labels(decisions, ["a", "b", "c"], order) == [
        ("a", "c"), (), ("b", "a", "c")]


def test_uncertain_needs_a_model(judged: Corpus, tmp_path: Path) -> None:
    assert main(["tasks", "export", "--tool", "label-studio", "--corpus", str(judged.root),
                 "--out", str(tmp_path / "t.json"), "--select", "uncertain"]) == 2
    assert not (tmp_path / "t.json").exists()


def test_json_array_writer_streams_and_leaves_nothing_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    assert export.write_json_array(out, iter([{"a": 1}, {"b": [2]}])) == 2
    assert json.loads(out.read_bytes()) == [{"a": 1}, {"b": [2]}]

    def broken() -> Any:
        yield {"c": 3}
        raise RuntimeError("disk")

    with pytest.raises(RuntimeError):
        export.write_json_array(out, broken())
    assert json.loads(out.read_bytes()) == [{"a": 1}, {"b": [2]}]
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


# -- judgements in ------------------------------------------------------------


@pytest.fixture
def exported(seeded: Corpus, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "tasks.json"
    assert main(["tasks", "export", "--tool", "label-studio", "--corpus", str(seeded.root),
                 "--out", str(out), "--limit", "3", "--seed", "0"]) == 0
    return list(json.loads(out.read_bytes()))


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "people.tsv"
    path.write_text(MAP, encoding="utf-8")
    return path


def _write(tmp_path: Path, tasks: list[dict[str, Any]], name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def _import(corpus: Corpus, export_path: Path, mapping: Path | None, out_name: str = "ls.jsonl"
            ) -> tuple[int, Path]:
    out = corpus.annotations / out_name
    args = ["annotations", "import", "--tool", "label-studio", str(export_path), "--corpus",
            str(corpus.root), "--out", str(out)]
    return main(args + (["--annotators", str(mapping)] if mapping else [])), out


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_import_writes_valid_judgements_that_adjudication_sees(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    first, second, third = exported
    tasks = [
        task(1, first, annotation(11, 1, pick(X, Y)), annotation(
            12, {"id": 2, "email": "Bob@Example.org"}, pick(X), note("close call"))),
        task(2, second, annotation(21, 1), annotation(22, 7, pick(Z), ground_truth=True),
             annotation(23, 2, pick(Y), was_cancelled=True)),
        task(3, third, annotation(31, 7, pick(Z), updated="2026-12-02T08:00:00+01:00")),
    ]
    tasks[2]["drafts"] = [{"id": 5, "result": [pick(X)]}]
    code, out = _import(seeded, _write(tmp_path, tasks), mapping)
    assert code == 0, capsys.readouterr().err
    records = _lines(out)
    keyed = {(r["paragraph_index"], r["annotator"]): r for r in records}
    i1, i2, i3 = (t["data"]["paragraph_index"] for t in exported)
    assert keyed[(i1, "alice-team")]["labels"] == [X, Y]
    assert keyed[(i1, "bob-team")]["note"] == "close call"
    assert keyed[(i2, "alice-team")]["labels"] == []  # submitted with no pick: no topic
    assert keyed[(i2, "carol")]["role"] == "adjudicator"
    assert keyed[(i3, "carol")]["created"] == "2026-12-02T07:00:00Z"
    assert keyed[(i1, "alice-team")]["created"] == "2026-12-01T10:05:00Z"
    assert len(records) == 5  # the cancelled one, the draft and predictions are not judgements
    assert all(r["paragraph_sha256"] == t["data"]["paragraph_sha256"]
               for r in records for t in exported
               if t["data"]["paragraph_index"] == r["paragraph_index"])
    text = out.read_text(encoding="utf-8")
    assert "@" not in text.replace("paratopics:", "")
    err = capsys.readouterr().err
    assert "1 skipped (cancelled), 1 draft(s)" in err
    assert main(["validate", "--corpus", str(seeded.root), str(out)]) == 0
    assert main(["adjudicate", "--corpus", str(seeded.root), "--format", "json"]) == 0
    gold = json.loads(capsys.readouterr().out)
    by_index = {p["paragraph_index"]: p for p in gold["paragraphs"]}
    assert by_index[i1]["labels"] == [X] and by_index[i1]["ties"] == [Y]
    assert by_index[i2]["method"] == "adjudicator" and by_index[i2]["labels"] == [Z]


def test_reimport_is_idempotent_and_a_newer_export_replaces_the_line(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path) -> None:
    older = [task(1, exported[0], annotation(11, 1, pick(X)))]
    code, out = _import(seeded, _write(tmp_path, older), mapping)
    assert code == 0
    before = out.read_bytes()
    stamp = out.stat().st_mtime_ns
    assert _import(seeded, _write(tmp_path, older), mapping)[0] == 0
    assert out.read_bytes() == before and out.stat().st_mtime_ns == stamp
    newer = [task(1, exported[0], annotation(11, 1, pick(Y), updated="2026-12-03T00:00:00Z"))]
    assert _import(seeded, _write(tmp_path, newer, "newer.json"), mapping)[0] == 0
    assert [r["labels"] for r in _lines(out)] == [[Y]]
    assert _import(seeded, _write(tmp_path, older, "older.json"), mapping)[0] == 0
    assert [r["labels"] for r in _lines(out)] == [[Y]]  # an older export does not win


def test_target_storage_files_are_read_too(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path) -> None:
    folder = tmp_path / "storage"
    folder.mkdir()
    # one annotation per file (the default), its task inside; and one task per file
    per_annotation = dict(annotation(11, {"id": 1, "email": "a@example.org"}, pick(X)),
                          task={"id": 1, "data": exported[0]["data"]})
    (folder / "11").write_text(json.dumps(per_annotation), encoding="utf-8")
    (folder / "2.json").write_text(json.dumps(task(2, exported[1], annotation(21, 7, pick(Z)))),
                                   encoding="utf-8")
    code, out = _import(seeded, folder, mapping)
    assert code == 0
    assert sorted((r["annotator"], r["labels"][0]) for r in _lines(out)) == [
        ("alice-team", X), ("carol", Z)]


def _refused(seeded: Corpus, tasks: Any, mapping: Path | None, tmp_path: Path,
             capsys: pytest.CaptureFixture[str], raw: bytes | None = None) -> str:
    path = tmp_path / "bad.json"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps(tasks), encoding="utf-8")
    (seeded.annotations / "ls.jsonl").write_bytes(b"")
    before = snapshot(seeded.root)
    code, _ = _import(seeded, path, mapping)
    assert code == 1
    assert snapshot(seeded.root) == before
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "nothing written" in err or "error" in err
    return err


def test_unmapped_people_are_refused_by_id_and_listed(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [task(1, exported[0], annotation(11, 1, pick(X)),
                  annotation(12, {"id": 9, "email": "dan@example.org"}, pick(X)),
                  annotation(13, 10, pick(X)))]
    err = _refused(seeded, tasks, mapping, tmp_path, capsys)
    assert "[unmapped-annotator] 2 Label Studio user(s)" in err
    assert "user 9 <dan@example.org>" in err and "user 10" in err


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda t: t.update(annotations=[annotation(11, 1, dict(pick(X), from_name="sentiment"))]),
     "task 1 annotation 11: error [wrong-control] a result from the control 'sentiment'"),
    (lambda t: t.update(annotations=[annotation(11, 1, pick("Paratopics:Insurgency"))]),
     "task 1 annotation 11: error [unknown-label] 'Paratopics:Insurgency' is not a codebook "
     "id; did you mean 'paratopics:insurgency'?"),
    (lambda t: t.update(annotations=[annotation(11, 1, pick("medtop:20000160"))]),
     "[retired-label] 'medtop:20000160'"),
    (lambda t: t.update(annotations=[annotation(11, 1, {
        "from_name": "topics", "type": "taxonomy",
        "value": {"taxonomy": [["medtop:16000000"]]}})]),
     "task 1 annotation 11: error [level1-label] 'medtop:16000000'"),
    (lambda t: t["data"].pop("paragraph_sha256"),
     "task 1: error [task-fields] the task's data has no valid 'paragraph_sha256'"),
    (lambda t: t["data"].update(paragraph_sha256="f" * 64),
     "task 1: error [stale-annotation] paragraph"),
    (lambda t: t.update(annotations=[annotation(11, 1, pick(X)), annotation(12, 1, pick(Y))]),
     "task 1 annotation 12: error [duplicate-judgement] alice-team already judged paragraph"),
])
def test_bad_exports_are_refused_naming_the_task(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], mutate: Any, expected: str) -> None:
    bad = task(1, json.loads(json.dumps(exported[0])), annotation(11, 1, pick(X)))
    good = task(2, exported[1], annotation(21, 1, pick(X)))
    mutate(bad)
    err = _refused(seeded, [good, bad], mapping, tmp_path, capsys)
    assert expected in err
    if "stale" in expected:
        assert f"of '{exported[0]['data']['article_id']}'" in err


def test_the_same_person_on_one_paragraph_in_two_tasks_is_refused(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [task(1, exported[0], annotation(11, 1, pick(X))),
             task(5, exported[0], annotation(51, 1, pick(Y)))]
    err = _refused(seeded, tasks, mapping, tmp_path, capsys)
    assert "task 5 annotation 51: error [duplicate-judgement]" in err
    assert "task 1 annotation 11 of this export" in err


def test_a_judgement_the_corpus_already_holds_elsewhere_is_refused(
        seeded: Corpus, exported: list[dict[str, Any]], mapping: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    art = the_article(seeded)
    index = exported[0]["data"]["paragraph_index"]
    (seeded.annotations / "hand.jsonl").write_bytes(line(judgement(art, index, [X],
                                                                   "alice-team")))
    err = _refused(seeded, [task(1, exported[0], annotation(11, 1, pick(Y)))], mapping,
                   tmp_path, capsys)
    assert "[duplicate-judgement]" in err and "hand.jsonl:1" in err


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "[json-syntax] invalid JSON: the file is empty"),
    (b"id,text\n1,hello\n", "[json-syntax] invalid JSON: it starts with 'i'"),
    (b'[{"id": 1, "data": {}}, {"id": 2, ', "[json-syntax] invalid JSON:"),
    (b'[1, 2]', "[not-label-studio] not a Label Studio export: this item is neither"),
    (b'{"count": 3, "results": []}', "[not-label-studio]"),
    (b'\xef\xbb\xbf[{"id": 4, "data": {"text": "x"}, "annotations": []}]',
     "task 4: error [task-fields] the task's data has no valid 'article_id'"),
])
def test_files_that_are_no_export_are_refused(
        seeded: Corpus, mapping: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        raw: bytes, expected: str) -> None:
    err = _refused(seeded, None, mapping, tmp_path, capsys, raw=raw)
    assert expected in err


def test_a_bad_map_line_is_named(tmp_path: Path) -> None:
    from paratopics.errors import ParatopicsError

    path = tmp_path / "m.tsv"
    path.write_text("1\tAlice Smith\n", encoding="utf-8")
    with pytest.raises(ParatopicsError, match=r"m\.tsv:1"):
        importer.read_map(path)
    path.write_text("1\talice\tbob\n", encoding="utf-8")
    with pytest.raises(ParatopicsError, match="two tab-separated columns"):
        importer.read_map(path)


def test_the_export_is_streamed_one_task_at_a_time(tmp_path: Path) -> None:
    """Tasks come out of the reader before the file is complete: the parser never
    holds the whole export."""
    path = tmp_path / "big.json"
    item = json.dumps({"id": 1, "data": {"text": "x" * 1000}, "annotations": []})
    path.write_text("[" + ",".join([item] * 50) + ", {broken", encoding="utf-8")
    seen = 0
    with pytest.raises(Exception, match="after 50 complete item"):
        for _file, _where, _item in importer.export_objects(path):
            seen += 1
    assert seen == 50
