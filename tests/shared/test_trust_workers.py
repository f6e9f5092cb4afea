"""Workers die with their command: a SIGKILLed `build` or `validate -j 2` leaves no
worker, no resource tracker and no open end of the caller's stdout behind.

The corpus is large enough to start the workers: `build` validates in a spawned
child from PARALLEL_FROM_ARTICLES articles on, `validate` checks records in a pool
from 2,000 on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from reliability_helpers import children_of, cli_args, process_gone, synthetic_corpus, wait_until

from paratopics.release.build import PARALLEL_FROM_ARTICLES

ARTICLES = PARALLEL_FROM_ARTICLES + 100


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_corpus(tmp_path_factory.mktemp("workers") / "corpus", ARTICLES,
                            seed=12).root


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children_of(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _kill_once_workers_run(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PARATOPICS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    drained = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        proc.stdout.read()
        drained.set()

    workers: set[int] = set()
    try:
        assert wait_until(lambda: len(_descendants(proc.pid)) >= 1, limit=120, step=0.01), \
            "no worker started: the corpus is too small to test this"
        # let the workers get going (an initializer that has not run yet is covered too);
        # briefly: on an idle machine `validate -j 2` of this corpus ends about a second
        # after its workers start
        wait_until(lambda: False, limit=0.3, step=0.1)
        workers = _descendants(proc.pid)
        assert proc.poll() is None, "the command ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # the caller's pipe reaches its end: no worker holds it open any more
        threading.Thread(target=drain, daemon=True).start()
        assert drained.wait(timeout=30), "stdout still open: a worker outlived its command"
        assert wait_until(lambda: all(process_gone(p) for p in workers), limit=30), \
            [p for p in workers if not process_gone(p)]
    finally:  # on failure: end what this test started, so that nothing hangs
        for pid in workers | (_descendants(proc.pid) if proc.poll() is None else set()):
            if not process_gone(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if drained.wait(timeout=30) and proc.stdout is not None:
            proc.stdout.close()


def test_killed_build_leaves_no_process_behind(big: Path, tmp_path: Path) -> None:
    _kill_once_workers_run(cli_args("build", "--corpus", big, "--version", "1.0.0",
                                    "--no-cache"), tmp_path)
    assert not (big / "releases" / "v1.0.0").exists()


def test_killed_validate_leaves_no_process_behind(big: Path, tmp_path: Path) -> None:
    _kill_once_workers_run(cli_args("validate", "--corpus", big, "--jobs", "2", "--no-cache"),
                           tmp_path)


def test_a_worker_whose_parent_is_gone_ends_at_once() -> None:
    """The initializer's own check: a parent that died before it ran (the worker was
    adopted) ends the worker instead of leaving it to wait for work."""
    code = ("import os, sys; sys.path[:0] = sys.argv[1:]; "
            "from paratopics.workers import die_with_parent; "
            "die_with_parent(os.getppid() + 1000000); print('survived')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "survived" not in done.stdout
    code = code.replace("os.getppid() + 1000000", "os.getppid()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "survived" in done.stdout  # the real parent: goes on
