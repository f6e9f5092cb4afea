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

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

ARTICLE = {"source": "harbour.example", "title": "Customs officers seize smuggled rifles",
           "url": "https://harbour.example/rifles", "published": "2024-03-04",
           "paragraphs": ["Customs officers found forty rifles hidden in a container of "
                          "frozen fish at the port on Tuesday.",
                          "Two dock workers were arrested and the shipping agent was "
                          "questioned, the police said."]}
GOOD_LABEL = "medtop:20000082"  # crime
FIXED_DATE = "2024-01-01T00:00:00+00:00"
#: What pre-commit needs of the hook repository: the hook and an installable package.
HOOK_FILES = (".pre-commit-hooks.yaml", "pyproject.toml", "README.md", "LICENSE", "src",
              "schema")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paratopics-tests"


def sh(*args: str | Path, cwd: Path, env: dict[str, str], check: bool = True,
       ) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600)
    if check and run.returncode != 0:
        raise AssertionError(f"{args} exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    return run


@dataclass(frozen=True)
class Installed:
    """A fresh environment with the wheel, and what the commands below run with."""

    venv: Path
    hook_repo: Path
    hook_rev: str
    env: dict[str, str]

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


def base_env(venv_bin: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PARATOPICS_CORPUS", "VIRTUAL_ENV", "PYTHONPATH"}
           and not k.startswith(("GITHUB_", "GIT_"))}
    return {**env, "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "PRE_COMMIT_HOME": str(cache_root() / "pre-commit"),
            "HF_HOME": str(tmp / "hf"), "HF_DATASETS_OFFLINE": "1",
            # bytecode for every file of datasets, pyarrow, pandas...: a third of an install
            "PIP_NO_COMPILE": "1",
            "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"}


def snapshot_checkout(target: Path, env: dict[str, str]) -> str:
    """The checkout's files as git sees them (uncommitted edits included), committed
    in `target` with fixed names and dates: the same files give the same revision."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard", "--", *HOOK_FILES],
                            cwd=ROOT, capture_output=True, check=True)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in sorted(filter(None, listed.stdout.decode().split("\0"))):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    fixed = {**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
             "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE}
    sh("git", "init", "-q", "-b", "main", cwd=target, env=fixed)
    sh("git", "add", "-A", cwd=target, env=fixed)
    sh("git", "commit", "-q", "--no-verify", "-m", "snapshot", cwd=target, env=fixed)
    return sh("git", "rev-parse", "HEAD", cwd=target, env=fixed).stdout.strip()


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("own-corpus-e2e")
    (tmp / "gitconfig").write_text("[user]\n\tname = Ann Otator\n\temail = ann@example.org\n"
                                   "[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    dist = tmp / "dist"
    # the wheel, built by the test extra's hatchling (no network, no isolation)
    sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
       "-w", dist, ROOT, cwd=tmp, env=dict(os.environ))
    wheel = next(dist.glob("paratopics-*.whl"))
    where = tmp / "venv"
    venv.create(where, with_pip=True)
    env = base_env(where / "bin", tmp)
    sh(where / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, cwd=tmp, env=env)
    key = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    hook_repo = cache_root() / f"hook-repo-{key}"
    rev = snapshot_checkout(hook_repo, env)
    yield Installed(where, hook_repo, rev, env)


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
