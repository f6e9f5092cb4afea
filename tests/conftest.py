"""Shared fixtures: every test works on its own corpus in a temporary folder."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paratopics.corpus.store import Corpus

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SEED = SHARED / "articles" / "000_d12fdfeb9be6ca05.txt"
COMMITTED_SEED = ROOT / "corpus" / "sources" / "globalsecurity.org" / "000_d12fdfeb9be6ca05.txt"


def seed_path() -> Path:
    """The seed article: the shared copy, else the one committed in corpus/sources."""
    return SEED if SEED.is_file() else COMMITTED_SEED


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Validation and build caches of the whole session in a temporary folder,
    never in the user's; tests that need a cold cache set their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARATOPICS_CACHE", str(tmp_path_factory.mktemp("paratopics-cache")))
        yield


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    root = tmp_path / "corpus"
    for sub in ("sources", "articles", "annotations", "releases"):
        (root / sub).mkdir(parents=True)
    return Corpus(root)


@pytest.fixture
def seeded(corpus: Corpus) -> Corpus:
    """A corpus holding the seed article, ingested through the real code path."""
    from paratopics.ingest.core import ingest_files

    report = ingest_files(corpus, [seed_path()])
    assert not report.problems, report.problems
    return corpus


def run_cli(*args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `paratopics` command in a fresh process, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "paratopics", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=600,
    )


def run_in_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The `paratopics` command in this process: the parser, exit code and output of
    `run_cli`, without a new interpreter importing datasets, pyarrow and scikit-learn
    again (two to three seconds a call). For tests of what a command says and writes;
    a test about processes (killed, concurrent, a fresh install) uses `run_cli`."""
    from paratopics import cli

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's misuse (2) and --help (0), as in a process
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        finally:
            gc.unfreeze()  # main freezes what it imported; the test process goes on
    return subprocess.CompletedProcess(["paratopics", *argv], code, out.getvalue(),
                                       err.getvalue())


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_article(corpus: Corpus) -> dict[str, object]:
    files = corpus.article_files()
    assert len(files) == 1, files
    return json.loads(files[0].read_text(encoding="utf-8"))


def copy_seed(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed_path(), dest)
    return dest


# -- a fresh environment with the built wheel, outside the checkout ----------------------
# (shared by the tests of an installed package: one wheel and one environment per run)

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


def _make_installed(tmp: Path) -> Installed:
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
    return Installed(where, hook_repo, rev, env)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One wheel and environment for the whole run. Under pytest-xdist every worker is
    a session of its own: the first to need it makes it in the run's shared temporary
    folder, under a lock, and the others reuse it (the install takes half a minute,
    and the hook repository is a fixed path that two workers must not write at once)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    tmp = shared / "installed-wheel"
    record = tmp / "installed.json"
    with (shared / "installed-wheel.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not record.is_file():
            shutil.rmtree(tmp, ignore_errors=True)  # what a failed attempt left
            tmp.mkdir()
            made = _make_installed(tmp)
            record.write_text(json.dumps({"venv": str(made.venv), "hook_repo":
                                          str(made.hook_repo), "hook_rev": made.hook_rev,
                                          "env": made.env}), encoding="utf-8")
        found = json.loads(record.read_text(encoding="utf-8"))
    return Installed(Path(found["venv"]), Path(found["hook_repo"]), found["hook_rev"],
                     found["env"])


