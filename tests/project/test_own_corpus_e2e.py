"""A newcomer's corpus repository, from an installed wheel, outside this checkout.

The wheel is built from the checkout and installed in a fresh virtual
environment; `paratopics init` makes a git repository in a temporary folder; an
article is ingested and judged; commits go through the real pre-commit hook of
this project (once refused with the bad line named, once accepted); a release
is built and loaded. The composite action's shell steps run with the
environment variables GitHub sets for a pull request.

pre-commit installs the hook's environment with pip, the slow part: the hook
repository is a snapshot of the checkout committed with fixed dates at a fixed
path, so that an unchanged checkout gives the same revision and pre-commit
reuses the environment it made on an earlier run (PRE_COMMIT_HOME in the user's
cache folder).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from conftest import ROOT, Installed, sh

ARTICLE = {"source": "harbour.example", "title": "Customs officers seize smuggled rifles",
           "url": "https://harbour.example/rifles", "published": "2024-03-04",
           "license": "CC-BY-4.0", "attribution": "Harbour News, https://harbour.example/rifles",
           "paragraphs": ["Customs officers found forty rifles hidden in a container of "
                          "frozen fish at the port on Tuesday.",
                          "Two dock workers were arrested and the shipping agent was "
                          "questioned, the police said."]}
GOOD_LABEL = "medtop:20000082"  # crime


def init_repository(installed: Installed, root: Path, *args: str) -> Path:
    env = installed.env
    sh(installed.bin / "paratopics", "init", root, *args, cwd=root.parent, env=env)
    sh("git", "init", "-q", cwd=root, env=env)
    return root


def write_article(folder: Path) -> Path:
    path = folder / "rifles.json"
    path.write_text(json.dumps(ARTICLE), encoding="utf-8")
    return path


def judgements(root: Path, labels: list[list[str]]) -> str:
    record = json.loads(next((root / "corpus" / "articles").glob("*.json")).read_text())
    return "".join(json.dumps({
        "article_id": record["article_id"], "paragraph_index": p["index"],
        "paragraph_sha256": p["sha256"], "labels": chosen, "annotator": "ann",
        "created": "2024-03-05T09:00:00Z"}) + "\n"
        for p, chosen in zip(record["paragraphs"], labels, strict=True))


def pre_commit(installed: Installed) -> Path:
    """pre-commit, the tool itself (from the test environment); the hook it runs
    lives in the environment pre-commit makes from the hook repository."""
    return Path(sys.executable).with_name("pre-commit")


def test_a_corpus_repository_commits_through_the_hook_and_releases(
        installed: Installed, tmp_path: Path) -> None:
    env, paratopics = installed.env, installed.bin / "paratopics"
    root = init_repository(installed, tmp_path / "harbour-news", "--name", "Harbour news")
    # pin the hook to the snapshot of this checkout, as one pins a tag
    config = root / ".pre-commit-config.yaml"
    hooks = yaml.safe_load(config.read_text())
    hooks["repos"][0].update(repo=str(installed.hook_repo), rev=installed.hook_rev)
    config.write_text(yaml.safe_dump(hooks, sort_keys=False), encoding="utf-8")
    sh(pre_commit(installed), "install", cwd=root, env=env)
    sh("git", "add", "-A", cwd=root, env=env)
    first = sh("git", "commit", "-m", "Start the corpus", cwd=root, env=env)
    assert "paratopics validate" in first.stdout + first.stderr

    sh(paratopics, "ingest", write_article(tmp_path), cwd=root, env=env)
    bad = root / "corpus" / "annotations" / "ann.jsonl"
    bad.write_text(judgements(root, [[GOOD_LABEL], ["Crime"]]), encoding="utf-8")
    sh("git", "add", "-A", cwd=root, env=env)
    refused = sh("git", "commit", "-m", "Judge the rifles article", cwd=root, env=env,
                 check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert re.search(r"paratopics validate\.+Failed", output), output
    assert ("corpus/annotations/ann.jsonl:2 /labels/0: error [unknown-label] 'Crime' is not "
            "a codebook id; did you mean 'medtop:20000082'?") in output
    assert sh("git", "rev-list", "--count", "HEAD", cwd=root, env=env).stdout.strip() == "1"

    bad.write_text(judgements(root, [[GOOD_LABEL], [GOOD_LABEL]]), encoding="utf-8")
    sh("git", "add", "-A", cwd=root, env=env)
    accepted = sh("git", "commit", "-m", "Judge the rifles article", cwd=root, env=env)
    assert re.search(r"paratopics validate\.+Passed", accepted.stdout + accepted.stderr)

    built = sh(paratopics, "build", "--version", "1.0.0", cwd=root / "corpus" / "articles",
               env=env)
    assert "README front matter now points at v1.0.0" in built.stdout
    sh("git", "add", "-A", cwd=root, env=env)
    sh("git", "commit", "-q", "-m", "Release 1.0.0", cwd=root, env=env)
    manifest = json.loads((root / "corpus/releases/v1.0.0/manifest.json").read_text())
    rows = manifest["configs"]["paragraphs"]["rows"]
    code = ("import json, datasets, paratopics\n"
            "ds = paratopics.load()\n"
            f"card = datasets.load_dataset({str(root)!r}, 'paragraphs')\n"
            "print(json.dumps({'load': {s: ds[s].num_rows for s in ds},\n"
            "                  'card': {s: card[s].num_rows for s in card},\n"
            "                  'names': ds[next(iter(ds))].features['labels'].feature.names,\n"
            "                  'module': paratopics.__file__}))\n")
    loaded = json.loads(sh(installed.bin / "python", "-c", code, cwd=root, env=env)
                        .stdout.splitlines()[-1])
    expected = {split: n for split, n in rows.items() if n}
    assert loaded["load"] == expected and loaded["card"] == expected
    assert GOOD_LABEL in loaded["names"]
    assert Path(loaded["module"]).is_relative_to(installed.venv)
    card = yaml.safe_load((root / "README.md").read_text().split("---\n")[1])
    assert card["pretty_name"] == "Harbour news"


# -- the action's shell steps, as GitHub runs them ---------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def substitute(text: str, context: dict[str, str]) -> str:
    """GitHub's `${{ name }}` substitution, for the plain names the action uses."""
    return EXPRESSION.sub(lambda m: context[m.group(1)], text)


def read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


@dataclass
class StepRun:
    outputs: dict[str, dict[str, str]]
    logs: dict[str, subprocess.CompletedProcess[str]]
    summary: str


def run_action(installed: Installed, workspace: Path, tmp: Path, event: str, base: str,
               inputs: dict[str, str] | None = None) -> StepRun:
    """Every `run` step of action.yml in order, as GitHub runs a composite action:
    inputs and step outputs substituted, `bash --noprofile --norc -eo pipefail`,
    with GitHub's variables. `uses` steps (setup-python) are GitHub's own; the fresh
    environment's Python stands in for the one they set up."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    runner_temp = tmp / "runner-temp"
    shutil.rmtree(runner_temp, ignore_errors=True)
    runner_temp.mkdir(parents=True)
    summary = runner_temp / "step-summary.md"
    github = {"github.event.pull_request.base.sha": base, "github.action_path": str(ROOT)}
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update(inputs or {})
    context = {**github, **{f"inputs.{k}": substitute(str(v), github)
                            for k, v in values.items()}}
    result = StepRun({}, {}, "")
    for number, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:
            continue
        assert step["shell"] == "bash"
        step_id = step.get("id", f"step{number}")
        output = runner_temp / f"output-{step_id}"
        script = runner_temp / f"{step_id}.sh"
        script.write_text(substitute(step["run"], context), encoding="utf-8")
        env = {**installed.env, "CI": "true", "GITHUB_ACTIONS": "true",
               "GITHUB_EVENT_NAME": event, "GITHUB_WORKSPACE": str(workspace),
               "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_OUTPUT": str(output),
               "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(runner_temp),
               "GITHUB_SHA": sh("git", "rev-parse", "HEAD", cwd=workspace,
                                env=installed.env).stdout.strip(),
               **{k: substitute(str(v), context) for k, v in step.get("env", {}).items()}}
        run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                             cwd=workspace, env=env, capture_output=True, text=True,
                             timeout=600)
        result.logs[step_id] = run
        result.outputs[step_id] = read_outputs(output)
        context.update({f"steps.{step_id}.outputs.{k}": v
                        for k, v in result.outputs[step_id].items()})
        if run.returncode != 0:
            break
    result.summary = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return result


def commit_all(root: Path, env: dict[str, str], message: str) -> str:
    sh("git", "add", "-A", cwd=root, env=env)
    sh("git", "commit", "-q", "--no-verify", "-m", message, cwd=root, env=env)
    return sh("git", "rev-parse", "HEAD", cwd=root, env=env).stdout.strip()


def test_the_actions_steps_validate_a_pull_request_with_annotations(
        installed: Installed, tmp_path: Path) -> None:
    env, paratopics = installed.env, installed.bin / "paratopics"
    root = init_repository(installed, tmp_path / "repo")
    sh(paratopics, "ingest", write_article(tmp_path), cwd=root, env=env)
    (root / "corpus/annotations/ann.jsonl").write_text(
        judgements(root, [[GOOD_LABEL], []]), encoding="utf-8")
    base = commit_all(root, env, "Base")
    # the pull request: a second annotator, with a typo on line 2
    added = root / "corpus/annotations/bob.jsonl"
    added.write_text(judgements(root, [[GOOD_LABEL], ["medtop:2000082"]])
                     .replace('"ann"', '"bob"'), encoding="utf-8")
    commit_all(root, env, "Bob's judgements")

    pull = run_action(installed, root, tmp_path, "pull_request", base)
    assert [step.returncode for step in pull.logs.values()] == [0, 0, 1], pull.logs
    assert pull.outputs["scope"]["checked"] == "1"
    log = pull.logs["validate"]
    assert re.search(r"^::error file=corpus/annotations/bob\.jsonl,line=2,title=Unknown label "
                     r"\[unknown-label\]::'medtop:2000082' is not a codebook id",
                     log.stdout, re.M), log.stdout + log.stderr
    assert "Failed (exit 1)" in pull.summary

    # a push has no base: the whole corpus is checked (and the typo found there too)
    push = run_action(installed, root, tmp_path, "push", "")
    assert push.outputs["scope"]["checked"] == "all"
    assert "checking the whole corpus: no base commit" in push.logs["scope"].stdout
    assert "file=corpus/annotations/bob.jsonl,line=2" in push.logs["validate"].stdout

    # the fix passes; a change to the marker checks the whole corpus
    added.write_text(judgements(root, [[GOOD_LABEL], []]).replace('"ann"', '"bob"'),
                     encoding="utf-8")
    marker = root / "corpus/paratopics.toml"
    marker.write_text(marker.read_text().replace('name = "repo"', 'name = "Repo news"'),
                      encoding="utf-8")
    commit_all(root, env, "Fix line 2, rename")
    fixed = run_action(installed, root, tmp_path, "pull_request", base)
    assert [step.returncode for step in fixed.logs.values()] == [0, 0, 0], fixed.logs
    assert fixed.outputs["scope"]["checked"] == "all"
    assert "corpus/paratopics.toml changed" in fixed.logs["scope"].stdout
    assert "Passed." in fixed.summary
