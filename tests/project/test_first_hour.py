"""A user's first hour: the installed package, its commands' help, extras and citation.

The tests of an installed package run in the fresh environment the wheel of this
checkout is installed in (the `installed` fixture of conftest): a core install,
without scikit-learn or matplotlib, in folders outside the checkout.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, Installed, read_article, run_in_process, sh, write_jsonl

import paratopics
from paratopics.cli import build_parser
from paratopics.corpus.store import Corpus
from paratopics.publish import croissant as croissant_module
from paratopics.release import layout as release_layout

SEED_ARTICLE = "russia-pakistan-agree-to-boost-military-9fb302f7a1"


# -- the wheel ---------------------------------------------------------------------------


def test_the_wheel_ships_types_declares_its_imports_and_tells_its_version(
        installed: Installed, tmp_path: Path) -> None:
    code = ("import importlib.metadata as m, importlib.resources as r, json\n"
            "print(json.dumps({'typed': r.files('paratopics').joinpath('py.typed').is_file(),\n"
            "                  'requires': m.requires('paratopics'),\n"
            "                  'version': m.version('paratopics')}))\n")
    found = yaml.safe_load(sh(installed.bin / "python", "-c", code, cwd=tmp_path,
                              env=installed.env).stdout)
    assert found["typed"] is True
    required = {re.split(r"[<>=!~; \[]", r, maxsplit=1)[0].lower().replace("_", "-")
                for r in found["requires"] if "extra ==" not in r}
    # publish imports both directly; they must not come only as some other package's deps
    assert {"huggingface-hub", "pyyaml", "datasets", "pyarrow"} <= required, required
    shown = sh(installed.bin / "paratopics", "--version", cwd=tmp_path, env=installed.env)
    assert shown.stdout.strip() == f"paratopics {found['version']}"
    assert found["version"] == paratopics.__version__


@pytest.mark.parametrize(("command", "extra", "package"), [
    (["train", "--out", "model"], "train", "scikit-learn"),
    (["predict", "--model", "model", "--out", "predictions.jsonl"], "train", "scikit-learn"),
    (["evaluate", "--predictions", "predictions.jsonl"], "train", "scikit-learn"),
    (["stats", "--plot", "labels.png"], "plot", "matplotlib"),
    (["build", "--version", "1.0.0", "--engine", "ray"], "ray", "ray"),
    (["validate", "--engine", "ray"], "ray", "ray"),
])
def test_a_core_install_names_the_extra_a_command_needs_in_one_line(
        installed: Installed, tmp_path: Path, command: list[str], extra: str,
        package: str) -> None:
    missing = sh(installed.bin / "python", "-c", "import importlib.util as u; "
                 "print(all(u.find_spec(m) is None for m in ('sklearn', 'matplotlib', 'ray')))",
                 cwd=tmp_path, env=installed.env)
    assert missing.stdout.strip() == "True", "the wheel's environment is not a core install"
    run = sh(installed.bin / "paratopics", *command, cwd=tmp_path, env=installed.env,
             check=False)
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert f'pip install "paratopics[{extra}]"' in lines[0] and package in lines[0], lines
    assert "Traceback" not in run.stderr
    assert not list(tmp_path.iterdir()), "nothing is written before the extra is checked"


def _pipeline_checkout(target: Path, env: dict[str, str]) -> None:
    """A clone of this checkout's job as a user has it: the script, the card, and a
    corpus of the seed article (the whole corpus would take minutes), with its release
    v1.0.0 built and committed by the installed package."""
    corpus = ROOT / "corpus"
    files = [Path("scripts/pipeline.sh"), Path("README.md"), Path("pyproject.toml"),
             Path("corpus/paratopics.toml"), Path("corpus/annotations/globalsecurity-seed.jsonl"),
             Path(f"corpus/articles/{SEED_ARTICLE}.json"),
             *(p.relative_to(ROOT) for p in (corpus / "sources" / "globalsecurity.org").glob(
                 "000_*"))]
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    fixed = {**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    sh("paratopics", "build", "--version", "1.0.0", cwd=target, env=fixed)
    sh("git", "init", "-q", cwd=target, env=fixed)
    sh("git", "add", "-A", cwd=target, env=fixed)
    sh("git", "commit", "-q", "--no-verify", "-m", "clone", cwd=target, env=fixed)


def test_the_pipeline_runs_on_a_core_install_and_leaves_nothing_behind(
        installed: Installed, tmp_path: Path) -> None:
    checkout, scratch = tmp_path / "paratopics", tmp_path / "tmp"
    scratch.mkdir()
    _pipeline_checkout(checkout, installed.env)
    env = {**installed.env, "TMPDIR": str(scratch),
           "PARATOPICS_CACHE": str(tmp_path / "cache")}
    run = subprocess.run(["bash", "scripts/pipeline.sh"], cwd=checkout, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    last = run.stdout.rstrip().splitlines()[-1]
    assert last == ("pipeline: OK: v1.0.0 rebuilt identical and verified; 27 paragraphs loaded; "
                    'published; label chart skipped (core install; pip install '
                    '"paratopics[plot]" to draw it)'), last
    status = sh("git", "status", "--porcelain", "--untracked-files=all", cwd=checkout,
                env=installed.env).stdout
    assert status == "", status
    assert not list(scratch.iterdir()), "a temporary folder was left behind"


# -- help, version, ignores, citation ------------------------------------------------------


def _parsers(parser: argparse.ArgumentParser, name: str = "paratopics",
             ) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


def test_every_option_of_every_command_is_described_with_its_default() -> None:
    parsers = _parsers(build_parser())
    assert len(parsers) > 15
    for name, parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            shown = "/".join(action.option_strings) or action.metavar or action.dest
            assert action.help and action.help.strip(), f"{name} {shown}: no help"
            default = action.default
            if action.option_strings and default not in (None, False, argparse.SUPPRESS):
                assert "default" in action.help, f"{name} {shown}: default {default!r} unsaid"
    help_of = {name: parser.format_help() for name, parser in parsers}
    for command in ("paratopics evaluate", "paratopics predict"):
        assert re.search(r"--split SPLIT\s.*\(default:\s+test\)", help_of[command], re.S)
    for command in ("paratopics evaluate", "paratopics train"):
        assert re.search(r"--level LEVEL\s.*\(default:\s+2\)", help_of[command], re.S)


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"paratopics {paratopics.__version__}"
    assert importlib.metadata.version("paratopics") == paratopics.__version__


def test_the_readme_commands_outputs_are_ignored_by_git() -> None:
    for path in ("model/model.json", "model/README.md", "predictions.jsonl", "pred.jsonl"):
        run = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert run.returncode == 0, f"{path} is not in .gitignore"


def _bibtex_fields(entry: str) -> dict[str, str]:
    return {k: v.strip("{}") for k, v in re.findall(r"^\s*(\w+) = (\{.*\}),?$", entry, re.M)}


def test_citation_cff_readme_and_release_metadata_agree() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("title", "authors", "version", "date-released", "url", "license", "message"):
        assert cff.get(key), key
    latest = release_layout.list_versions(paratopics.Corpus(ROOT / "corpus"))[-1]
    assert cff["version"] == latest, (
        "CITATION.cff and the README's BibTeX name the latest committed release: update "
        f"both to {latest}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    entry = readme.split("<!-- citation -->\n```bibtex\n", 1)[1].split("```", 1)[0].strip()
    assert entry == croissant_module.cite_as(latest, str(cff["date-released"])[:4])
    fields = _bibtex_fields(entry)
    assert fields["author"] == cff["authors"][0]["name"]
    assert fields["url"] == cff["url"] and fields["version"] == cff["version"]
    assert fields["year"] == str(cff["date-released"])[:4]
    assert fields["title"] == cff["title"]


def test_the_token_hf_auth_login_stored_is_taken_for_a_push(tmp_path: Path) -> None:
    """`hf auth login` stores the token as $HF_HOME/token; without $HF_TOKEN it is used."""
    home = tmp_path / "hf"
    home.mkdir()
    (home / "token").write_text("hf_stored_secret", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in {"HF_TOKEN", "HF_TOKEN_PATH"}}
    code = ("import sys\nfrom paratopics.publish.core import hub_token\n"
            "sys.exit(0 if hub_token() == 'hf_stored_secret' else 3)\n")
    run = subprocess.run([sys.executable, "-c", code], env={**env, "HF_HOME": str(home)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


# -- loading, anywhere -----------------------------------------------------------------------

LOAD_ANYWHERE = '''
import json, os, sys
from pathlib import Path

import datasets
import paratopics
from paratopics import codebook
from paratopics.corpus.config import render_marker
from paratopics.corpus.store import Corpus
from paratopics.release import build as release_build
from paratopics.synthetic import generate

datasets.disable_progress_bars()
repo = Path(sys.argv[1])
corpus = Corpus(repo / "corpus")
generate(corpus, 12, 3)
(repo / "corpus" / "paratopics.toml").write_text(render_marker("harbour"), encoding="utf-8")
release_build.build(corpus, "1.0.0", codebook.load())
cache = sys.argv[3]


def rows(ds):
    return {split: ds[split].num_rows for split in ds}


def error(call):
    try:
        call()
    except Exception as exc:  # the type and message a user sees
        return [type(exc).__name__, str(exc)]
    return None


out = {
    "dir": [name for name in ("load", "label_map", "label_names") if name in dir(paratopics)],
    "module": paratopics.__file__,
    "checkout": rows(paratopics.load(corpus=str(repo), cache_dir=cache)),
    "corpus_folder": rows(paratopics.load(corpus=repo / "corpus", cache_dir=cache)),
    "articles": rows(paratopics.load("articles", corpus=repo, cache_dir=cache)),
    "version_as_config": error(lambda: paratopics.load("1.0.0", corpus=repo)),
    "publish_is_there": (Path(sys.argv[2]) / "croissant.json").is_file(),
}
os.chdir(repo / "corpus" / "articles")  # the rule the command line follows: found from here
out["found"] = rows(paratopics.load(version="1.0.0", cache_dir=cache))
print(json.dumps(out))
'''

LOAD_PUBLISHED = '''
import json, sys
import datasets, paratopics

datasets.disable_progress_bars()
folder, cache = sys.argv[1], sys.argv[2]


def error(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return None


ds = paratopics.load(corpus=folder, cache_dir=cache)
labels = paratopics.label_map(ds)
out = {
    "published": {split: ds[split].num_rows for split in ds},
    "annotations": {s: n.num_rows for s, n in paratopics.load(
        "annotations", corpus=folder, version="v1.0.0", cache_dir=cache).items()},
    "first_label": labels.id(0),
    "wrong_version": error(lambda: paratopics.load(corpus=folder, version="2.0.0")),
    "hub_offline": error(lambda: paratopics.load(repo_id="harbour/news", revision="v1.0.0")),
    "hub_disagree": error(lambda: paratopics.load(repo_id="harbour/news", version="1.0.0",
                                                  revision="v2.0.0")),
    "revision_without_hub": error(lambda: paratopics.load(corpus=folder, revision="v1.0.0")),
}
print(json.dumps(out))
'''


def test_the_installed_package_loads_a_checkout_a_corpus_and_a_publish_folder(
        installed: Installed, tmp_path: Path) -> None:
    repo, published, cache = tmp_path / "harbour", tmp_path / "published", tmp_path / "hf"
    repo.mkdir()
    env = {**installed.env, "HF_HUB_OFFLINE": "1"}
    script = tmp_path / "load_anywhere.py"
    script.write_text(LOAD_ANYWHERE, encoding="utf-8")
    run = sh(installed.bin / "python", script, repo, published, cache, cwd=tmp_path, env=env)
    found = yaml.safe_load(run.stdout.splitlines()[-1])
    manifest = yaml.safe_load((repo / "corpus/releases/v1.0.0/manifest.json").read_text())
    expected = {split: n for split, n in manifest["configs"]["paragraphs"]["rows"].items() if n}
    assert found["dir"] == ["load", "label_map", "label_names"]
    assert Path(found["module"]).is_relative_to(installed.venv)
    assert found["checkout"] == found["corpus_folder"] == found["found"] == expected
    assert found["articles"] == {split: n for split, n in
                                 manifest["configs"]["articles"]["rows"].items() if n}
    kind, message = found["version_as_config"]
    assert kind == "ValueError" and "pass version='1.0.0'" in message, message

    # the command line finds the same corpus from the same folder, and publishes it
    inside = repo / "corpus" / "articles"
    stats = sh(installed.bin / "paratopics", "stats", cwd=inside, env=env)
    assert f"corpus {repo / 'corpus'}" in stats.stdout
    sh(installed.bin / "paratopics", "publish", "--corpus", repo, "--out", published,
       cwd=tmp_path, env=env)
    script = tmp_path / "load_published.py"
    script.write_text(LOAD_PUBLISHED, encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    run = sh(installed.bin / "python", script, published, cache, cwd=outside, env=env)
    loaded = yaml.safe_load(run.stdout.splitlines()[-1])
    assert loaded["published"] == expected
    assert loaded["annotations"] == {split: n for split, n in
                                     manifest["configs"]["annotations"]["rows"].items() if n}
    assert loaded["first_label"].startswith(("medtop:", "paratopics:"))
    kind, message = loaded["wrong_version"]
    assert kind == "ParatopicsError" and "holds v1.0.0" in message, message
    kind, message = loaded["hub_offline"]
    assert kind == "ConnectionError" and "harbour/news at v1.0.0" in message, message
    kind, message = loaded["hub_disagree"]
    assert kind == "ValueError" and "disagree" in message, message
    kind, message = loaded["revision_without_hub"]
    assert kind == "ValueError" and "repo_id" in message, message


# -- versions ----------------------------------------------------------------------------------
# (what the commands say and refuse: they run in the test's process, `run_in_process`)


def test_versions_are_strict_and_never_go_backwards_silently(seeded: Corpus) -> None:
    root = str(seeded.root)
    refused = run_in_process("build", "--corpus", root, "--version", "01.2.0")
    assert refused.returncode == 2, refused.stderr
    assert "without leading zeros" in refused.stderr
    assert not seeded.releases.exists() or not any(seeded.releases.iterdir())
    assert run_in_process("build", "--corpus", root, "--version", "1.2.0").returncode == 0
    lower = run_in_process("build", "--corpus", root, "--version", "1.1.0")
    assert lower.returncode == 2 and "lower than the latest release v1.2.0" in lower.stderr
    assert "--allow-older REASON" in lower.stderr
    assert not (seeded.releases / "v1.1.0").exists()
    again = run_in_process("build", "--corpus", root, "--version", "1.2.0")  # the latest, checked
    assert again.returncode == 0 and "already built, identical" in again.stdout
    older = run_in_process("build", "--corpus", root, "--version", "1.1.0", "--allow-older",
                    "a patch of the 1.1 line for a user who pinned it")
    assert older.returncode == 0, older.stderr
    changelog = (seeded.releases / "CHANGELOG.md").read_text(encoding="utf-8")
    assert ("Older than v1.2.0, built because: a patch of the 1.1 line for a user who "
            "pinned it") in changelog


def test_verify_of_a_missing_release_says_there_is_no_such_release(seeded: Corpus) -> None:
    assert run_in_process("build", "--corpus", seeded.root, "--version", "1.0.0").returncode == 0
    missing = run_in_process("verify", "--corpus", seeded.root, "--version", "1.1")
    assert missing.returncode == 2  # misuse: a version that does not exist
    assert "error [release-missing] no such release v1.1 (available: 1.0.0)" in missing.stderr
    assert "release-corrupt" not in missing.stderr and "Traceback" not in missing.stderr
    diff = run_in_process("diff", "--corpus", seeded.root, "1.0.0", "1.1")
    assert diff.returncode == 2 and "[release-missing]" in diff.stderr
    stats = run_in_process("stats", "--corpus", seeded.root, "--version", "1.1")
    assert stats.returncode == 2 and "[release-missing]" in stats.stderr


# -- validate's messages --------------------------------------------------------------------


def _judgement(article: dict, index: int, **changes: object) -> dict[str, object]:
    line: dict[str, object] = {
        "article_id": article["article_id"], "paragraph_index": index,
        "paragraph_sha256": article["paragraphs"][index]["sha256"], "labels": [],
        "annotator": "ann", "created": "2026-11-27T21:00:00Z"}
    line.update(changes)
    return {k: v for k, v in line.items() if v is not None}


def test_validate_says_which_paragraph_range_and_article_was_meant(seeded: Corpus) -> None:
    article = read_article(seeded)
    aid, paragraphs = article["article_id"], article["paragraphs"]
    typo = aid.replace("military", "militray")
    lines = [
        _judgement(article, 1, paragraph_sha256=paragraphs[2]["sha256"]),
        _judgement(article, 0, paragraph_index=len(paragraphs) + 3),
        _judgement(article, 0, article_id=typo),
        _judgement(article, 0, article_id=aid[:20]),
        _judgement(article, 3, paragraph_sha256=None),
    ]
    write_jsonl(seeded.annotations / "ann.jsonl", lines)
    run = run_in_process("validate", "--corpus", seeded.root, "--format", "json")
    assert run.returncode == 1, run.stderr
    found = {p["line"]: p for p in json.loads(run.stdout)}
    assert (found[1]["code"], found[1]["pointer"]) == ("wrong-paragraph", "/paragraph_sha256")
    assert "is the hash of paragraph 2" in found[1]["message"]
    assert "not of paragraph 1" in found[1]["message"]
    last = len(paragraphs) - 1
    assert f"(it has {len(paragraphs)}: indexes 0-{last})" in found[2]["message"]
    assert found[3]["code"] == "unknown-article"
    assert found[3]["message"].endswith(f"did you mean '{aid}'?")
    assert found[4]["pointer"] == "/article_id" and f"Did you mean '{aid}'?" in found[4]["hint"]
    assert found[5]["pointer"] == "/paragraph_sha256"
    assert found[5]["message"] == "the record has no 'paragraph_sha256', a required field"


def test_validate_a_folder_checks_its_files(seeded: Corpus, tmp_path: Path) -> None:
    article = read_article(seeded)
    write_jsonl(seeded.annotations / "a.jsonl", [_judgement(article, 0)])
    write_jsonl(seeded.annotations / "b.jsonl", [_judgement(article, 0, labels=["nope"],
                                                            annotator="bob")])
    run = run_in_process("validate", "--corpus", seeded.root, seeded.annotations)
    assert run.returncode == 1
    assert "b.jsonl:1 /labels/0: error [unknown-label]" in run.stdout
    assert "2 annotation file(s)" in run.stderr
    articles = run_in_process("validate", "--corpus", seeded.root, seeded.articles)
    assert articles.returncode == 0 and "1 article(s), 0 annotation file(s)" in articles.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_in_process("validate", "--corpus", seeded.root, empty)
    assert refused.returncode == 2 and "holds no article record" in refused.stderr
