"""`paratopics publish`: the Hub-ready folder, its dataset card, and the push plan.

Everything up to the network call is real: the folder is loaded by
`datasets.load_dataset` in a fresh offline process, the card is parsed by
`huggingface_hub` and `datasets`, and the push is exercised against a
recording stand-in for `HfApi` that makes the same three calls.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from datasets import load_dataset
from huggingface_hub import DatasetCard
from release_helpers import (
    OFFLINE,
    last_json,
    make_release,
    manifest_rows,
    release_rows,
    run_python,
)

from paratopics import codebook as codebook_module
from paratopics.cli import main
from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus
from paratopics.errors import ParatopicsError, UsageError
from paratopics.publish.core import (
    MANAGED_PATTERNS,
    card_problems,
    folder_files,
    human_size,
    plan_text,
    plan_upload,
    publish_folder,
    push,
)
from paratopics.release import layout as release_layout

VERSION = "1.0.0"
REPO = "paratopics-org/paratopics"
SECRET = "hf_secret_token_that_must_never_be_printed"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("publish"), articles=20, seed=0)


@pytest.fixture(scope="module")
def folder(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "hub"
    publish_folder(corpus, VERSION, out, codebook_module.load(), repo_id=REPO)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the folder -------------------------------------------------------------------


def test_folder_holds_card_manifest_croissant_and_checked_data(corpus: Corpus,
                                                               folder: Path) -> None:
    manifest = release_layout.read_manifest(corpus, VERSION).to_dict()
    source = release_layout.release_dir(corpus, VERSION)
    expected = {"README.md", "manifest.json", "croissant.json", "codebook.jsonld",
                *(f"data/{f['path']}" for f in manifest["files"])}  # type: ignore[attr-defined]
    assert {path for path, _ in folder_files(folder)} == expected
    assert (folder / "manifest.json").read_bytes() == (source / "manifest.json").read_bytes()
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        assert sha256(folder / "data" / entry["path"]) == entry["sha256"]
    assert not list(folder.parent.glob(".tmp-*")), "no scratch folder left behind"


def test_load_dataset_reads_the_folder_in_a_fresh_offline_process(corpus: Corpus,
                                                                  folder: Path,
                                                                  tmp_path: Path) -> None:
    found = last_json(run_python(f"""
        import json, datasets
        out = {{}}
        for config in ("paragraphs", "articles", "annotations"):
            ds = datasets.load_dataset({str(folder)!r}, config, cache_dir={str(tmp_path)!r})
            out[config] = {{s: ds[s].num_rows for s in ds}}
            if config == "paragraphs":
                out["ids"] = {{s: list(ds[s]["paragraph_id"]) for s in ds}}
                out["names"] = ds["train"].features["labels"].feature.names
        print(json.dumps(out))
    """, cwd=tmp_path))
    for config in release_layout.CONFIGS:
        assert found[config] == manifest_rows(corpus, VERSION, config), config
    reference = release_rows(corpus, VERSION, "paragraphs")
    assert found["ids"] == {s: [r["paragraph_id"] for r in rows] for s, rows in reference.items()}
    assert found["names"] == list(codebook_module.load().label_ids)


def test_publishing_twice_gives_identical_bytes(corpus: Corpus, folder: Path,
                                               tmp_path: Path) -> None:
    again = tmp_path / "again"
    publish_folder(corpus, VERSION, again, codebook_module.load(), repo_id=REPO)
    assert folder_files(again) == folder_files(folder)
    for name in ("README.md", "croissant.json"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    # Publishing into an earlier publish folder replaces the files it wrote and keeps
    # the rest (a file added by hand); a foreign folder is refused.
    (again / "stale.txt").write_text("left from before")
    publish_folder(corpus, VERSION, again, codebook_module.load(), repo_id=REPO)
    assert (again / "stale.txt").read_text() == "left from before"
    assert [f for f in folder_files(again) if f[0] != "stale.txt"] == list(folder_files(folder))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not written by `paratopics publish`"):
        publish_folder(corpus, VERSION, foreign, codebook_module.load())
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_corrupt_release_file_is_refused(corpus: Corpus, tmp_path: Path) -> None:
    copy = Corpus(tmp_path / "corpus")
    shutil.copytree(corpus.root, copy.root)
    target = next((release_layout.release_dir(copy, VERSION) / "paragraphs").glob("*.parquet"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ParatopicsError) as caught:
        publish_folder(copy, VERSION, tmp_path / "out", codebook_module.load())
    assert caught.value.problem.code == "release-corrupt"
    assert not (tmp_path / "out").exists()


def test_a_release_of_a_codebook_with_other_classes_is_refused(
        corpus: Corpus, tmp_path: Path) -> None:
    book = codebook_module.load()
    # another version with the same classes (guidance added, say) describes the release
    same = Codebook(version="9.0.0", nodes=book.nodes, credit=book.credit)
    publish_folder(corpus, VERSION, tmp_path / "same", same)
    assert (tmp_path / "same" / "README.md").is_file()
    fewer = Codebook(version="9.0.0", nodes=tuple(n for n in book.nodes
                                                  if n["id"] != book.label_ids[-1]),
                     credit=book.credit)
    with pytest.raises(ParatopicsError, match=rf"built with codebook {book.version}, whose "
                       r"label classes differ from those of codebook 9\.0\.0"):
        publish_folder(corpus, VERSION, tmp_path / "out", fewer)
    assert not (tmp_path / "out").exists()


def test_a_card_the_hub_would_refuse_is_a_catalog_error_and_writes_nothing(
        corpus: Corpus, tmp_path: Path) -> None:
    """The corpus's own card lends the published card its keys; a value the Hub does not
    know used to end in a RuntimeError traceback."""
    copy = Corpus(tmp_path / "checkout" / "corpus")
    shutil.copytree(corpus.root, copy.root)
    readme = copy.root.parent / "README.md"
    readme.write_text("---\nlanguage:\n- not-a-language\nconfigs:\n- config_name: paragraphs\n"
                      "  data_files:\n  - split: train\n    path: corpus/releases/v1.0.0/"
                      "paragraphs/train-*.parquet\n---\n\n# My corpus\n", encoding="utf-8")
    with pytest.raises(ParatopicsError) as caught:
        publish_folder(copy, VERSION, tmp_path / "out", codebook_module.load())
    assert caught.value.problem.code == "card-invalid"
    assert caught.value.problem.file.endswith("checkout/README.md")
    assert "language: 'not-a-language' is not a known value" in caught.value.problem.message
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-publish")]
    done = run_cli("publish", "--corpus", copy.root, "--version", VERSION,
                   "--out", tmp_path / "out")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "error [card-invalid] the dataset card `publish` made would be refused" in done.stderr


# -- the card ------------------------------------------------------------------------


def test_card_validates_offline_and_round_trips(corpus: Corpus, folder: Path) -> None:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert card_problems(text, folder) == []
    card = DatasetCard.load(folder / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "other"
    assert data["license_name"] == "cc-by-4.0-annotations-and-source-terms-text"
    assert data["license_link"].startswith("https://")
    assert data["task_categories"] == ["text-classification"]
    assert "multi-label-classification" in data["task_ids"]
    assert data["pretty_name"] == "paratopics"
    configs = {c["config_name"]: c for c in data["configs"]}
    assert set(configs) == set(release_layout.CONFIGS)
    assert configs["paragraphs"].get("default") is True
    assert {f["path"] for f in configs["paragraphs"]["data_files"]} == {
        f"data/paragraphs/{s}-*.parquet" for s in manifest_rows(corpus, VERSION, "paragraphs")}
    sizes = {info["config_name"]: {s["name"]: s["num_examples"] for s in info["splits"]}
             for info in data["dataset_info"]}
    for config in release_layout.CONFIGS:
        assert sizes[config] == manifest_rows(corpus, VERSION, config)


def test_card_problems_catches_broken_cards(folder: Path) -> None:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert card_problems("# no front matter\n") == ["no YAML front matter"]
    broken = text.replace("license: other\n", "").replace("- n<1K\n", "- tiny\n")
    found = card_problems(broken, folder)
    assert "missing key: license" in found
    assert any("size_categories: 'tiny'" in p for p in found)
    moved = text.replace("path: data/paragraphs/train-*.parquet",
                         "path: data/paragraphs/training-*.parquet")
    assert card_problems(moved, folder) == [
        "config paragraphs: data/paragraphs/training-*.parquet matches no file"]


def test_card_body_explains_the_release(corpus: Corpus, folder: Path) -> None:
    text = (folder / "README.md").read_text(encoding="utf-8")
    manifest = release_layout.read_manifest(corpus, VERSION).to_dict()
    # the sections Hub users look for, in this order
    headings = ["## Dataset summary", "## Supported tasks", "## Languages", "## Load",
                "## Dataset structure", "### Rows per config and split", "### Fields",
                "### Labels and codebook", "### Splits", "## Dataset creation",
                "### Curation rationale", "### Source data", "### Annotation process",
                "### Personal and sensitive information", "## Bias, risks and limitations",
                "## Train and evaluate", "## Versions", "## Files",
                "## Licensing information", "## Citation", "## Maintainers"]
    places = [text.find(f"\n{heading}\n") for heading in headings]
    missing = [h for h, p in zip(headings, places, strict=True) if p < 0]
    assert not missing, missing
    assert places == sorted(places)
    assert "${" not in text
    # how the labels were made is computed from the release: who judged, agreement
    process = text.split("### Annotation process", 1)[1].split("\n### ", 1)[0]
    assert "judgements of" in process and "Krippendorff's alpha" in process
    # every part's terms, and where the articles come from
    licensing = text.split("## Licensing information", 1)[1].split("## Citation", 1)[0]
    for part in ("Annotations", "Codebook codes and names", "Article text", "CC BY 4.0",
                 "own terms"):
        assert part in licensing, part
    sources = release_rows(corpus, VERSION, "articles")
    counted = Counter(row["source"] for rows in sources.values() for row in rows)
    assert ", ".join(f"{name} ({n})" for name, n in sorted(
        counted.items(), key=lambda kv: (-kv[1], kv[0]))) in text
    assert f'load_dataset("{REPO}", "paragraphs", revision="v{VERSION}")' in text
    assert "IPTC (International Press Telecommunications Council)" in text
    assert "CC BY 4.0" in text
    assert manifest["adjudication"]["text"] in text  # type: ignore[index]
    assert manifest["adjudication"]["rule"] in text  # type: ignore[index]
    rows = manifest_rows(corpus, VERSION, "paragraphs")
    assert f"| `paragraphs` | {rows.get('train', 0)} | {rows.get('validation', 0)} |" in text
    # label classes carry their concept URIs, IPTC's for IPTC nodes
    assert re.search(r"\| \[`medtop:(\d+)`\]\(http://cv\.iptc\.org/newscodes/mediatopic/\1\) \|",
                     text)


def test_card_train_snippet_runs_on_the_published_data(folder: Path, tmp_path: Path) -> None:
    text = (folder / "README.md").read_text(encoding="utf-8")
    section = text.split("## Train and evaluate", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.S)
    assert snippet is not None
    ds = load_dataset(str(folder), "paragraphs", cache_dir=str(tmp_path))
    scope: dict[str, Any] = {"ds": ds}
    exec(snippet.group(1), scope)
    train = scope["train"]
    for row in train.select(range(min(20, train.num_rows))):
        assert [i for i, v in enumerate(row["targets"]) if v == 1.0] == sorted(row["labels"])


# -- the upload ------------------------------------------------------------------


def test_plan_lists_every_file_and_the_tag(folder: Path) -> None:
    published = publish_folder_result(folder)
    plan = plan_upload(published, REPO)
    assert plan.repo_id == REPO
    assert plan.tag == f"v{VERSION}"
    assert plan.files == folder_files(folder)
    assert plan.total_bytes == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert plan.delete_patterns == MANAGED_PATTERNS
    text = plan_text(plan)
    assert f"tag: v{VERSION}" in text
    for path, _ in plan.files:
        assert path in text
    for bad in ("no-namespace", "a/b/c", "bad--name/x"):
        with pytest.raises(UsageError):
            plan_upload(published, bad)


def publish_folder_result(folder: Path) -> Any:
    from paratopics.publish.core import Published

    return Published(folder, VERSION, folder_files(folder))


class RecordingApi:
    """Stands in for huggingface_hub.HfApi: records the calls a push makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return f"https://huggingface.co/datasets/{repo_id}"

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", kwargs))
        return type("Commit", (), {"oid": "abc123"})()

    def create_tag(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_tag", {"repo_id": repo_id, **kwargs}))


def test_push_creates_uploads_and_tags_the_uploaded_commit(folder: Path,
                                                           capsys: pytest.CaptureFixture[str],
                                                           ) -> None:
    plan = plan_upload(publish_folder_result(folder), REPO)
    api = RecordingApi()
    url = push(plan, folder, SECRET, api=api)
    assert url == f"https://huggingface.co/datasets/{REPO}/tree/v{VERSION}"
    assert [name for name, _ in api.calls] == ["create_repo", "upload_folder", "create_tag"]
    create, upload, tag = (kwargs for _, kwargs in api.calls)
    assert create["repo_type"] == "dataset" and create["exist_ok"] is True
    assert upload["folder_path"] == str(folder) and upload["repo_type"] == "dataset"
    assert upload["delete_patterns"] == list(MANAGED_PATTERNS)
    assert tag["tag"] == f"v{VERSION}" and tag["revision"] == "abc123"
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err


def test_cli_dry_run_lists_the_upload_without_network(corpus: Corpus, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    result = run_cli("publish", "--corpus", corpus.root, "--version", VERSION, "--out", out,
                     "--repo-id", REPO, "--dry-run", "--date", "2026-01-15",
                     env={**OFFLINE, "HF_TOKEN": SECRET})
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "dry run, nothing uploaded" in result.stderr
    assert f"tag: v{VERSION}" in result.stdout
    listed = {line.split()[0]: line for line in result.stdout.splitlines()
              if line.startswith("  ")}
    assert set(listed) == {path for path, _ in folder_files(out)}
    for path, size in folder_files(out):
        assert listed[path].rstrip().endswith(human_size(size)), listed[path]
    assert json.loads((out / "croissant.json").read_text())["datePublished"] == "2026-01-15"


def test_cli_usage_errors(corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # and no token stored by `hf auth login` either: huggingface_hub reads the paths
    # it computed at import
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    out = tmp_path / "hub"
    cases = [
        (["--out", out, "--dry-run"], "--dry-run shows what a push"),
        (["--out", out, "--repo-id", "bad--id", "--dry-run"], "bad--id"),
        ([], "give --out DIR"),
        (["--repo-id", REPO], "HF_TOKEN"),
    ]
    for args, message in cases:
        code = main(["publish", "--corpus", str(corpus.root), *map(str, args)])
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert message in err, (args, err)
    assert not out.exists(), "nothing is written before the arguments are checked"
    assert main(["publish", "--corpus", str(corpus.root), "--version", "9.9.9",
                 "--out", str(out)]) == 2
    assert "no release v9.9.9 (available: 1.0.0)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["publish", "--corpus", str(corpus.root), "--out", str(out),
              "--date", "15/01/2026"])
    assert exited.value.code == 2


def test_card_commands_are_ones_the_cli_accepts(folder: Path) -> None:
    from paratopics.cli import build_parser

    text = (folder / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None
    commands = block.group(1).strip().splitlines()
    assert [c.split()[1] for c in commands] == ["train", "predict", "evaluate"]
    for command in commands:
        args = build_parser().parse_args(command.split()[1:])
        assert args.version == VERSION
