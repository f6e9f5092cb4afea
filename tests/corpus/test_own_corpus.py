"""A corpus of one's own: the marker, discovery, `paratopics init`, a codebook of one's
own end to end, and the GitHub action and workflows against GitHub's schemas.

Commands run in-process through `cli.main` from the folder a user would be in;
the installed-wheel run through the real pre-commit is tests/project/test_own_corpus_e2e.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from paratopics import codebook as codebook_module
from paratopics.cli import main
from paratopics.corpus import config as corpus_config
from paratopics.corpus.init import scaffold_files
from paratopics.corpus.store import find_corpus

ARTICLE = {"source": "example.org", "title": "Pirates seize a tanker off the coast",
           "url": "https://example.org/tanker", "published": "2024-05-01",
           "license": "CC-BY-4.0", "attribution": "Example, https://example.org/tanker",
           "paragraphs": ["Pirates boarded a tanker off the coast on Monday, the navy said.",
                          "The crew of twenty was held for two days before being freed."]}
OWN_LABEL = "paratopics:maritime-piracy"
PARENT = "medtop:16000000"  # conflict, war and peace


def own_codebook(path: Path) -> Path:
    """A small codebook: one IPTC branch of the shipped one and a node of its own."""
    shipped = json.loads((ROOT / "schema" / "codebook.json").read_text(encoding="utf-8"))
    nodes = [n for n in shipped["nodes"] if PARENT in (n["id"], n["parent"])]
    nodes.append({"id": OWN_LABEL, "name": "maritime piracy", "level": 2, "parent": PARENT,
                  "status": "active", "origin": "project",
                  "definition": "Attacks on ships at sea for ransom or loot.",
                  "include": ["Hijackings of ships and kidnappings of crews at sea"],
                  "exclude": ["Naval warfare between states (use the armed conflict node)"],
                  "example": "Pirates boarded the freighter at dawn and took its crew hostage."})
    data = {"codebook_version": "0.3.0", "name": "Sea topics",
            "description": "Conflict topics and piracy.", "vocabulary": shipped["vocabulary"],
            "nodes": nodes}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def article_id(root: Path) -> str:
    return next((root / "corpus" / "articles").glob("*.json")).stem


def judge(root: Path, labels: list[str], name: str = "team.jsonl") -> Path:
    record = json.loads(next((root / "corpus" / "articles").glob("*.json")).read_text())
    lines = [{"article_id": record["article_id"], "paragraph_index": p["index"],
              "paragraph_sha256": p["sha256"], "labels": labels, "annotator": "team",
              "created": "2024-05-02T10:00:00Z"} for p in record["paragraphs"]]
    path = root / "corpus" / "annotations" / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# -- the marker and discovery ------------------------------------------------------


def test_the_checkout_is_found_by_its_marker() -> None:
    config = corpus_config.read_config(ROOT / "corpus")
    assert config.marker == ROOT / "corpus" / corpus_config.MARKER
    assert (config.name, config.codebook, config.card_path.resolve()) == (
        "paratopics", "iptc", (ROOT / "README.md").resolve())
    assert find_corpus(ROOT / "src" / "paratopics") == ROOT / "corpus"
    assert corpus_config.find_marker(ROOT / "docs") == ROOT / "corpus" / corpus_config.MARKER


def test_discovery_walks_up_to_the_nearest_marker_and_falls_back(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    (outer / "corpus" / "articles").mkdir(parents=True)
    (outer / "pyproject.toml").write_text("", encoding="utf-8")
    deep = outer / "a" / "b"
    deep.mkdir(parents=True)
    # no marker anywhere: today's rule, corpus/ beside pyproject.toml
    assert find_corpus(deep) == outer / "corpus"
    # a marker nearer than the checkout wins, from its root or any folder below
    inner = outer / "a" / "mine"
    (inner / "corpus").mkdir(parents=True)
    (inner / "corpus" / corpus_config.MARKER).write_text(
        corpus_config.render_marker("mine"), encoding="utf-8")
    (inner / "notes").mkdir()
    assert find_corpus(inner / "notes") == inner / "corpus"
    assert find_corpus(inner / "corpus" / "annotations") == inner / "corpus"
    # a marker in a folder not named corpus: found from inside it
    (outer / "a" / "data").mkdir()
    (outer / "a" / "data" / corpus_config.MARKER).write_text("[corpus]\n", encoding="utf-8")
    assert find_corpus(outer / "a" / "data") == outer / "a" / "data"
    assert find_corpus(deep) == outer / "corpus"
    assert find_corpus(tmp_path) is None


def test_cli_and_python_api_find_the_same_corpus(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from paratopics.loader import default_corpus

    root = tmp_path / "repo"
    assert main(["init", str(root)]) == 0
    monkeypatch.chdir(root / ".github")
    monkeypatch.delenv("PARATOPICS_CORPUS", raising=False)
    assert default_corpus().root == root / "corpus"
    assert find_corpus() == root / "corpus"


@pytest.mark.parametrize(("text", "expected"), [
    ("[corpus\nname = 1", "not valid TOML"),
    ("name = 'x'\n", "no [corpus] table"),
    ("[corpus]\nname = 'x'\ncodebok = 'iptc'\n", "unknown key(s) in [corpus]: codebok"),
    ("[corpus]\nname = 3\n", "[corpus] name must be a non-empty string"),
    ("[corpus]\nschema_version = '2.0.0'\n", "schema_version '2.0.0' is not supported"),
    ("[corpus]\ncodebook = 'missing.json'\n", "cannot read the codebook"),
])
def test_a_bad_marker_is_named_with_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], text: str,
                                            expected: str) -> None:
    (tmp_path / "corpus" / "articles").mkdir(parents=True)
    marker = tmp_path / "corpus" / corpus_config.MARKER
    marker.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "validate")
    assert code == 1, (out, err)
    assert expected in err and "Traceback" not in err
    assert str(marker if "codebook" not in expected else tmp_path / "corpus") in err


def test_the_marker_template_round_trips_any_name(tmp_path: Path) -> None:
    for name in ['a "quoted" name', "back\\slash", "tab\there", "émigré 🌊 press", "x"]:
        text = corpus_config.render_marker(name, "codebook.json")
        config = corpus_config.parse_config(text, tmp_path, tmp_path / corpus_config.MARKER)
        assert (config.name, config.codebook) == (name, "codebook.json")


# -- init ------------------------------------------------------------------------------


def test_init_writes_a_corpus_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         ) -> None:
    root = tmp_path / "news-topics"
    code, out, err = run(capsys, "init", root, "--name", "Sea news")
    assert code == 0, err
    expected = set(scaffold_files("Sea news", "iptc"))
    written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert written == expected
    assert {line.split()[1] for line in out.splitlines()} == expected
    config = corpus_config.read_config(root / "corpus")
    assert (config.name, config.codebook, config.card_path) == (
        "Sea news", "iptc", root / "README.md")
    card = yaml.safe_load((root / "README.md").read_text().split("---\n")[1])
    assert card["pretty_name"] == "Sea news" and card["license"] == "other"
    hook = yaml.safe_load((root / ".pre-commit-config.yaml").read_text())
    assert hook["repos"][0]["hooks"] == [{"id": "paratopics-validate"}]
    workflow = yaml.safe_load((root / ".github" / "workflows" / "validate.yml").read_text())
    assert workflow["jobs"]["validate"]["steps"][1]["uses"].startswith("paratopics/paratopics@v")
    # an empty corpus validates, from the repository root
    assert main(["validate", "--corpus", str(root / "corpus")]) == 0


def test_init_refuses_a_folder_holding_something_else(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.tex").write_text("\\begin{document}", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, "init", tmp_path)
    assert code == 2
    assert "not empty and not a corpus repository (it holds thesis.tex)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "init", tmp_path / "file")
    assert code == 2 and "is a file, not a folder" in err


def test_init_completes_a_corpus_repository_and_keeps_what_is_there(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a git repository holding only a copy of a corpus/ (the layout without a marker)
    (tmp_path / ".git").mkdir()
    (tmp_path / "corpus" / "annotations").mkdir(parents=True)
    (tmp_path / "README.md").write_text("# mine\n", encoding="utf-8")
    code, out, _ = run(capsys, "init", tmp_path, "--name", "mine")
    assert code == 0
    assert "kept      README.md (exists)" in out
    assert (tmp_path / "README.md").read_text() == "# mine\n"
    assert (tmp_path / "corpus" / corpus_config.MARKER).is_file()
    code, out, _ = run(capsys, "init", tmp_path)
    assert code == 0 and "wrote" not in out


def test_init_takes_a_codebook_and_refuses_a_broken_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = own_codebook(tmp_path / "broken.json")
    data = json.loads(broken.read_text())
    data["nodes"][-1]["parent"] = "medtop:99999999"
    broken.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run(capsys, "init", tmp_path / "a", "--codebook", broken)
    assert code == 1
    assert f"{broken}: error [codebook] {OWN_LABEL}: parent medtop:99999999 is not in" in err
    assert not (tmp_path / "a").exists()
    code, _, err = run(capsys, "init", tmp_path / "a", "--codebook", tmp_path / "none.json")
    assert code == 2 and "no such file" in err
    good = own_codebook(tmp_path / "good.json")
    assert run(capsys, "init", tmp_path / "b", "--codebook", good)[0] == 0
    assert (tmp_path / "b" / "corpus" / "codebook.json").read_bytes() == good.read_bytes()
    assert corpus_config.read_config(tmp_path / "b" / "corpus").codebook == "codebook.json"


# -- a codebook of one's own, end to end ---------------------------------------------


def test_an_own_codebook_serves_validate_build_load_and_evaluate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import paratopics

    assert OWN_LABEL not in codebook_module.load()
    root = tmp_path / "sea"
    assert main(["init", str(root), "--codebook", str(own_codebook(tmp_path / "cb.json"))]) == 0
    source = tmp_path / "tanker.json"
    source.write_text(json.dumps(ARTICLE), encoding="utf-8")
    monkeypatch.chdir(root / "corpus" / "annotations")  # anywhere inside the repository
    monkeypatch.delenv("PARATOPICS_CORPUS", raising=False)
    assert run(capsys, "ingest", source)[0] == 0
    # a label of the shipped codebook that this one lacks is unknown here
    judge(root, ["medtop:20000082"])
    code, out, _ = run(capsys, "validate")
    assert code == 1 and "[unknown-label] 'medtop:20000082' is not a codebook id" in out
    judge(root, [OWN_LABEL])
    assert run(capsys, "validate")[0] == 0
    guide = run(capsys, "guide")[1]
    assert "For codebook version 0.3.0" in guide and "maritime piracy" in guide
    code, out, err = run(capsys, "build", "--version", "1.0.0")
    assert code == 0, err
    assert "README front matter now points at v1.0.0" in out
    manifest = json.loads((root / "corpus/releases/v1.0.0/manifest.json").read_text())
    assert manifest["versions"]["codebook"] == "0.3.0"
    book = corpus_config.codebook_for(root / "corpus")
    assert manifest["labels"]["classes"] == len(book.label_ids)
    # the card keeps its author's keys and gains the release's
    card = yaml.safe_load((root / "README.md").read_text().split("---\n")[1])
    assert (card["pretty_name"], card["license"]) == ("sea", "other")
    assert card["configs"][0]["data_files"][0]["path"].startswith("corpus/releases/v1.0.0/")
    dataset = paratopics.load(cache_dir=str(tmp_path / "hf"))
    split = next(iter(dataset))
    names = dataset[split].features["labels"].feature.names
    assert names == list(book.label_ids)
    assert {names[i] for row in dataset[split]["labels"] for i in row} == {OWN_LABEL}
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(
        json.dumps({"paragraph_id": pid, "labels": [OWN_LABEL]}) + "\n"
        for pid in dataset[split]["paragraph_id"]), encoding="utf-8")
    code, out, err = run(capsys, "evaluate", "--predictions", predictions, "--split", split,
                         "--format", "json")
    assert code == 0, err
    scores = json.loads(out)
    assert scores["paragraphs"] == 2
    assert scores["micro"]["f1"] == 1.0


# -- the GitHub action and workflows ---------------------------------------------------


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(exe), "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_action_and_workflows_match_githubs_schemas(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    assert main(["init", str(root)]) == 0
    action = check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert action.returncode == 0, action.stdout + action.stderr
    workflows = check_jsonschema("vendor.github-workflows",
                                 ROOT / ".github" / "workflows" / "validate.yml",
                                 root / ".github" / "workflows" / "validate.yml")
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    # the checker can fail: an action with a misspelt key does not pass
    bad = tmp_path / "action.yml"
    bad.write_text((ROOT / "action.yml").read_text().replace("runs:", "run:"), encoding="utf-8")
    assert check_jsonschema("vendor.github-actions", bad).returncode == 1


def test_both_workflows_use_the_action() -> None:
    ours = yaml.safe_load((ROOT / ".github" / "workflows" / "validate.yml").read_text())
    assert [s.get("uses") for s in ours["jobs"]["validate"]["steps"]][-1] == "./"
    files = scaffold_files("x", "iptc")
    theirs = yaml.safe_load(files[".github/workflows/validate.yml"])
    uses = theirs["jobs"]["validate"]["steps"][-1]["uses"]
    assert uses == f"paratopics/paratopics@v{__import__('paratopics').__version__}"
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == set(theirs["jobs"]["validate"]["steps"][-1]["with"]) | {
        "scope", "base", "python-version"}


def test_a_broken_card_is_named_and_a_fixed_one_follows_the_release(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "cards"
    assert main(["init", str(root), "--name", "Card news"]) == 0
    source = tmp_path / "tanker.json"
    source.write_text(json.dumps(ARTICLE), encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PARATOPICS_CORPUS", raising=False)
    assert run(capsys, "ingest", source)[0] == 0
    judge(root, ["medtop:20000082"])
    readme = root / "README.md"
    good = readme.read_text(encoding="utf-8")
    readme.write_text(good.replace("license: other", "license: [other"), encoding="utf-8")
    code, _, err = run(capsys, "build", "--version", "1.0.0")
    assert code == 1 and "Traceback" not in err
    assert f"{readme}: error [corpus-config] the dataset card's front matter cannot be read" in err
    assert (root / "corpus/releases/v1.0.0/manifest.json").is_file()
    readme.write_text(good, encoding="utf-8")
    code, out, _ = run(capsys, "build", "--version", "1.0.0")
    assert code == 0 and "already built, identical" in out
    assert "README front matter now points at v1.0.0" in out
    # the published card is this corpus's: its name and licence, not paratopics'
    code, _, err = run(capsys, "publish", "--out", tmp_path / "hub")
    assert code == 0, err
    published = (tmp_path / "hub" / "README.md").read_text(encoding="utf-8")
    card = yaml.safe_load(published.split("---\n")[1])
    assert (card["pretty_name"], card["license"]) == ("Card news", "other")
    assert card["configs"][0]["data_files"][0]["path"].startswith("data/paragraphs/")
    assert "\n# Card news v1.0.0\n" in published
    assert "Annotations: `other` (this card's `license`)" in published
    # what paratopics says of itself is not said of a corpus of one's own: marked gaps
    assert "license_name" not in card and "Voice of America" not in published
    for section in ("### Curation rationale", "### Annotation process", "## Maintainers"):
        assert published.split(section, 1)[1].lstrip().startswith("_Not written yet:"), section


def test_label_studio_round_trip_uses_the_corpus_codebook(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sea"
    assert main(["init", str(root), "--codebook", str(own_codebook(tmp_path / "cb.json"))]) == 0
    source = tmp_path / "tanker.json"
    source.write_text(json.dumps(ARTICLE), encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PARATOPICS_CORPUS", raising=False)
    assert run(capsys, "ingest", source)[0] == 0
    code, config, _ = run(capsys, "tasks", "config", "--tool", "label-studio")
    assert code == 0 and f'alias="{OWN_LABEL}"' in config
    assert 'alias="medtop:20000082"' not in config  # crime: not in this codebook
    tasks = tmp_path / "tasks.json"
    assert run(capsys, "tasks", "export", "--tool", "label-studio", "--out", tasks)[0] == 0
    exported = json.loads(tasks.read_text(encoding="utf-8"))
    mapping = tmp_path / "people.tsv"
    mapping.write_text("1\tsea-team\n", encoding="utf-8")
    picked = {"from_name": "topics", "to_name": "paragraph", "type": "taxonomy",
              "value": {"taxonomy": [[PARENT, OWN_LABEL]]}, "origin": "manual", "id": "r1"}
    done = [{"id": n, "data": t["data"], "predictions": [], "drafts": [], "project": 1,
             "created_at": "2026-12-01T09:00:00Z",
             "annotations": [{"id": 10 + n, "completed_by": 1, "result": [picked],
                              "was_cancelled": False, "ground_truth": False,
                              "created_at": "2026-12-01T10:00:00Z",
                              "updated_at": "2026-12-01T10:05:00Z", "task": n}]}
            for n, t in enumerate(exported, start=1)]
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps(done), encoding="utf-8")
    out = root / "corpus" / "annotations" / "sea-team.jsonl"
    code, _, err = run(capsys, "annotations", "import", "--tool", "label-studio", export_file,
                       "--out", out, "--annotators", mapping)
    assert code == 0, err
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(ARTICLE["paragraphs"])
    assert all(x["labels"] == [OWN_LABEL] for x in lines)
    assert run(capsys, "validate")[0] == 0
