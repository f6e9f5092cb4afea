"""Concurrency: two writers on one corpus. One proceeds; the other stops with a clear
`locked` message (or waits, with --wait); a dead owner's lock is taken over.

Overlap is made certain, not hoped for: the first command is frozen with SIGSTOP
while it holds the lock, the second runs against it, then the first is resumed
with SIGCONT. A race without freezing (several ingests started at once) checks
that whatever interleaving the scheduler picks, the result is consistent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    cli_args,
    corpus_problems,
    new_corpus,
    output,
    release_issues,
    run,
    synthetic_corpus,
    wait_until,
    write_json_inputs,
)

from paratopics.corpus.store import UNREADABLE_LOCK_SECONDS, Corpus, corpus_lock
from paratopics.errors import ParatopicsError


def _lock_owner(corpus: Corpus) -> int | None:
    try:
        return int(json.loads((corpus.root / ".lock").read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _frozen_holder(corpus: Corpus, *args: str | Path) -> subprocess.Popen[str]:
    """Start a command and freeze it (SIGSTOP) as soon as it holds the corpus lock."""
    child = subprocess.Popen(cli_args(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert wait_until(lambda: _lock_owner(corpus) == child.pid or child.poll() is not None,
                      step=0.0005), "the first command never took the lock"
    child.send_signal(signal.SIGSTOP)
    assert child.poll() is None, "the first command finished before it could be frozen"
    return child


def _resume(child: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    child.send_signal(signal.SIGCONT)
    out, err = child.communicate(timeout=300)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@pytest.mark.parametrize("command", ["build", "ingest"])
def test_second_writer_stops_with_a_clear_message(tmp_path: Path, command: str) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 30, seed=1)
    first_inputs = write_json_inputs(tmp_path / "a", 0, 40, seed=1)
    second_inputs = write_json_inputs(tmp_path / "b", 1000, 5, seed=2)
    args = {"build": (["--version", "1.0.0"], ["--version", "1.0.0"]),
            "ingest": (first_inputs, second_inputs)}[command]
    first = _frozen_holder(corpus, command, "--corpus", corpus.root, *args[0])
    try:
        time.sleep(1.1)  # so that the reported age is at least 1 s
        second = run(command, "--corpus", corpus.root, *args[1])
    finally:
        first_done = _resume(first)
    assert second.returncode == 1, output(second)
    message = second.stderr
    assert "[locked]" in message
    assert f"`paratopics {command}`" in message
    assert f"pid {first.pid}" in message
    assert "has held the corpus for" in message and " 0 s" not in message
    assert second.stdout == ""  # it wrote nothing, printed nothing else
    assert first_done.returncode == 0, output(first_done)
    assert corpus_problems(corpus) == []
    if command == "build":
        assert release_issues(corpus) == {"1.0.0": []}
        changelog = (corpus.releases / "CHANGELOG.md").read_text(encoding="utf-8")
        assert changelog.count("## v1.0.0") == 1
    else:  # the refused ingest wrote none of its articles, the first all of its own
        assert len(corpus.article_files()) == 30 + 40
        assert not (corpus.sources / "crash-test" / second_inputs[0].name).exists()


def test_second_writer_with_wait_runs_after_the_first(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 30, seed=1)
    first = _frozen_holder(corpus, "build", "--corpus", corpus.root, "--version", "1.0.0")
    err_file = tmp_path / "second.err"
    with err_file.open("w") as err_handle:
        second = subprocess.Popen(
            cli_args("build", "--corpus", corpus.root, "--version", "1.0.0", "--wait", "300"),
            stdout=subprocess.PIPE, stderr=err_handle, text=True)
    try:
        # it says that it waits, and does not give up while the first is frozen
        assert wait_until(lambda: "waiting for the corpus lock" in err_file.read_text(),
                          limit=120)
        time.sleep(1.0)
        assert second.poll() is None
    finally:
        first_done = _resume(first)
    out, _ = second.communicate(timeout=300)
    err = err_file.read_text()
    assert first_done.returncode == 0, output(first_done)
    assert second.returncode == 0, err
    assert f"pid {first.pid}" in err
    assert "already built, identical" in out  # it ran after the first, not alongside it
    assert release_issues(corpus) == {"1.0.0": []}


def test_simultaneous_ingests_never_mix(tmp_path: Path) -> None:
    """Three ingests started together: each either runs whole or is refused whole;
    with --wait, all three run, one after another."""
    corpus = new_corpus(tmp_path / "corpus")
    batches = [write_json_inputs(tmp_path / f"in{k}", k * 100, 30, seed=k) for k in range(3)]

    def start(*extra: str) -> list[subprocess.Popen[str]]:
        return [subprocess.Popen(cli_args("ingest", "--corpus", corpus.root, "--jobs", "1",
                                          *extra, *batch),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for batch in batches]

    results = [(*c.communicate(timeout=300), c.returncode) for c in start()]
    ok = [k for k, (_, _, code) in enumerate(results) if code == 0]
    refused = [k for k, (_, err, code) in enumerate(results) if code == 1 and "[locked]" in err]
    assert sorted(ok + refused) == [0, 1, 2], results
    assert ok, "no ingest ran at all"
    assert len(corpus.article_files()) == 30 * len(ok)
    assert corpus_problems(corpus) == []
    results = [(*c.communicate(timeout=300), c.returncode) for c in start("--wait", "300")]
    assert [code for _, _, code in results] == [0, 0, 0], results
    assert len(corpus.article_files()) == 90
    assert corpus_problems(corpus) == []


# -- the lock file itself ---------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_lock(corpus: Corpus, **fields: object) -> Path:
    lock = corpus.root / ".lock"
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": "build",
            "since": time.time(), **fields}
    lock.write_text(json.dumps(info), encoding="utf-8")
    return lock


def test_stale_lock_of_a_dead_process_is_recovered_by_build(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 10, seed=2)
    lock = _write_lock(corpus, pid=_dead_pid(), since=time.time() - 5)
    done = run("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert done.returncode == 0, output(done)
    assert not lock.exists()
    assert release_issues(corpus) == {"1.0.0": []}


def test_lock_of_a_reused_pid_is_recovered(tmp_path: Path) -> None:
    """The owner died and its pid now belongs to another process (here: this one)."""
    corpus = new_corpus(tmp_path / "corpus")
    _write_lock(corpus, started="1")  # our pid, but not our start time
    with corpus_lock(corpus, "ingest"):
        held = json.loads((corpus.root / ".lock").read_text(encoding="utf-8"))
        assert held["command"] == "ingest" and held["started"] != "1"


def test_garbled_lock_waits_out_its_grace_then_is_recovered(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    lock = corpus.root / ".lock"
    lock.write_bytes(b'{"pid": 12')  # a writer killed mid-write, by an older version
    with pytest.raises(ParatopicsError) as caught, corpus_lock(corpus, "ingest"):
        pass
    assert caught.value.problem.code == "locked"
    old = time.time() - UNREADABLE_LOCK_SECONDS - 1
    os.utime(lock, (old, old))
    with corpus_lock(corpus, "ingest"):
        assert json.loads(lock.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert not lock.exists()


_CONTENDER = """
import sys, time
from pathlib import Path
from paratopics.corpus.store import Corpus, corpus_lock
corpus, log = Corpus(Path(sys.argv[1])), Path(sys.argv[2])
with corpus_lock(corpus, "contender", wait=120):
    with log.open("a") as handle:
        handle.write(f"enter {time.monotonic_ns()}\\n")
    time.sleep(0.05)
    with log.open("a") as handle:
        handle.write(f"leave {time.monotonic_ns()}\\n")
"""


def test_lock_excludes_even_while_a_stale_lock_is_taken_over(tmp_path: Path) -> None:
    """Eight processes race for a corpus whose lock belongs to a dead process: the
    takeover happens once, and no two ever hold the lock at the same time."""
    corpus = new_corpus(tmp_path / "corpus")
    _write_lock(corpus, pid=_dead_pid())
    log = tmp_path / "log"
    children = [subprocess.Popen([sys.executable, "-c", _CONTENDER, str(corpus.root), str(log)])
                for _ in range(8)]
    assert [c.wait(timeout=300) for c in children] == [0] * 8
    events = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    events.sort(key=lambda e: int(e[1]))
    assert [kind for kind, _ in events] == ["enter", "leave"] * 8  # never two inside
    assert not (corpus.root / ".lock").exists()


_STOPPED_MIDWAY = """
import fcntl, json, os, socket, sys, time
root = sys.argv[1]
fd = os.open(root, os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)  # inside the lock's check-and-set, and then stopped
with open(os.path.join(root, ".lock"), "w") as handle:
    json.dump({"pid": os.getpid(), "host": socket.gethostname(), "command": "build",
               "since": time.time()}, handle)
print("holding", flush=True)
time.sleep(120)
"""


def test_a_writer_stopped_while_taking_the_lock_does_not_hang_others(tmp_path: Path) -> None:
    """A process stopped (Ctrl-Z) in the middle of taking the lock holds the folder's
    flock: the next command must still answer `locked` instead of blocking forever."""
    corpus = new_corpus(tmp_path / "corpus")
    holder = subprocess.Popen([sys.executable, "-c", _STOPPED_MIDWAY, str(corpus.root)],
                              stdout=subprocess.PIPE, text=True)
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(60)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        holder.send_signal(signal.SIGSTOP)
        with pytest.raises(ParatopicsError) as caught, corpus_lock(corpus, "ingest"):
            pass
        assert caught.value.problem.code == "locked"
        assert f"pid {holder.pid}" in caught.value.problem.message
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        holder.send_signal(signal.SIGCONT)
        holder.kill()
        holder.wait()


def _hang(signum: int, frame: object) -> None:
    raise AssertionError("corpus_lock blocked instead of answering `locked`")
