"""Crash safety: SIGKILL `paratopics ingest` and `build` anywhere; a failed write changes nothing.

Each kill test runs the real command in a subprocess, waits until it starts
writing (its target folder changes), then kills it with SIGKILL after a random
delay drawn from a seeded RNG over the measured length of the write phase. After
every kill the corpus must validate, every older release must verify, no
visible file may be partial, and the next run (the next trial, and a final
uninterrupted one) must complete normally. The trials chain on one corpus, so
each run also starts from the previous crash's leftovers (a dead owner's lock,
hidden temporary files and folders).

The OS-level failure tests make writes really fail: as root (where chmod does
not stop writes) a small tmpfs is mounted over corpus/articles, read-only or
nearly full; without root, chmod 0o555 and RLIMIT_FSIZE do the same job.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reliability_helpers import (
    article_record,
    children_of,
    cli_args,
    corpus_problems,
    new_corpus,
    output,
    process_gone,
    release_issues,
    run,
    run_measured,
    synthetic_corpus,
    visible_files,
    wait_until,
    write_json_inputs,
    write_jsonl_input,
)

from paratopics.corpus.store import Corpus

SEED = 20240607


@dataclass
class Trials:
    """What the kill loop saw, for the assertions and for docs/reliability.md."""

    killed: int = 0
    finished: int = 0
    #: ingest worker processes seen at kill time (each must die with the ingest)
    workers: int = 0
    pending_changelog: list[str] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)


def _mtime(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _run_and_kill(args: list[str], watched: Path, delay: float | None,
                  ) -> tuple[bool, float, list[int]]:
    """Start `args`; once `watched` changes (writing began), wait `delay` s and SIGKILL.

    Returns (was killed, seconds from first write to exit or kill, worker pids).
    With `delay` None the run is left to finish (a calibration run).
    """
    before = _mtime(watched)
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: _mtime(watched) != before or child.poll() is not None,
                          limit=120), "the command neither wrote nor exited"
        started = time.monotonic()
        if delay is None:
            assert child.wait(timeout=300) == 0, f"calibration run failed: {args}"
            return False, time.monotonic() - started, []
        deadline = started + delay
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        workers = children_of(child.pid)
        if child.poll() is not None:
            return False, time.monotonic() - started, workers
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        return True, time.monotonic() - started, workers
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _check_after(corpus: Corpus, intact: set[str], trials: Trials, building: str | None,
                 workers: list[int]) -> set[str]:
    """The invariants that must hold after every kill; returns the releases now intact."""
    assert corpus_problems(corpus) == []
    issues = release_issues(corpus)
    for version in intact:
        assert issues.get(version) == [], (version, issues.get(version))
    if building is not None:
        # the killed build's release is absent, or complete with its digest recorded
        # (the changelog entry is written, pending, before the rename)
        assert issues.get(building, []) == [], issues[building]
    assert wait_until(lambda: all(process_gone(pid) for pid in workers), limit=30), (
        f"worker processes {workers} outlived the killed ingest")
    return {v for v, found in issues.items() if not found}


def _kill_loop(corpus: Corpus, count: int, rng: random.Random, window: float,
               make_run: Callable[[int], tuple[list[str], Path, str | None]]) -> Trials:
    trials = Trials()
    intact = {v for v, issues in release_issues(corpus).items() if not issues}
    for trial in range(count):
        args, watched, building = make_run(trial)
        # the first kill lands at the very first write (ingest workers still busy)
        delay = 0.0 if trial == 0 else rng.uniform(0, window)
        trials.delays.append(round(delay, 3))
        killed, _, workers = _run_and_kill(args, watched, delay)
        trials.killed += killed
        trials.finished += not killed
        trials.workers += len(workers)
        intact = _check_after(corpus, intact, trials, building, workers)
    return trials


def _report(name: str, trials: Trials) -> None:
    print(f"{name}: {trials.killed} killed, {trials.finished} finished before the kill, "
          f"{trials.workers} worker processes ended with their parent, changelog pending "
          f"after kill: {trials.pending_changelog}, delays {trials.delays}")


# -- ingest ---------------------------------------------------------------------------


BATCH = 60
INGEST_TRIALS = 7
#: Kills land within this share of the calibrated write phase: a calibration run
#: slowed by a busy machine must not leave most later runs finishing unkilled.
KILL_SPAN = 0.7
JSONL_RECORDS = 500
JSONL_TRIALS = 5


def test_ingest_batch_killed_anywhere_leaves_a_valid_corpus(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 10, seed=3)
    done = run("build", "--corpus", corpus.root, "--version", "1.0.0")  # must keep verifying
    assert done.returncode == 0, output(done)
    baseline = len(corpus.article_files())
    inputs = tmp_path / "in"
    rng = random.Random(SEED)
    batches = [write_json_inputs(inputs / f"b{k}", k * BATCH, BATCH, seed=k)
               for k in range(INGEST_TRIALS + 1)]
    # calibration: one whole batch, uninterrupted, measures the write phase
    _, window, _ = _run_and_kill(cli_args("ingest", "--corpus", corpus.root, *batches[0]),
                                 corpus.articles, None)
    assert corpus_problems(corpus) == []

    def make_run(trial: int) -> tuple[list[str], Path, str | None]:
        return cli_args("ingest", "--corpus", corpus.root, *batches[trial + 1]), \
            corpus.articles, None

    trials = _kill_loop(corpus, INGEST_TRIALS, rng, window * KILL_SPAN, make_run)
    _report("ingest batch", trials)
    assert trials.killed >= INGEST_TRIALS // 2, trials  # the kills really hit the writes
    assert trials.workers > 0, "no worker process was alive at a kill: -j is not tested"

    done = run("ingest", "--corpus", corpus.root, *(p for batch in batches for p in batch))
    assert done.returncode == 0, output(done)
    assert len(corpus.article_files()) == baseline + BATCH * (INGEST_TRIALS + 1)
    assert corpus_problems(corpus) == []
    assert release_issues(corpus) == {"1.0.0": []}
    assert not [p for p in corpus.root.rglob(".*.tmp")], "temporary files were not swept"


def test_jsonl_ingest_killed_anywhere_leaves_a_valid_corpus(tmp_path: Path) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    rng = random.Random(SEED + 1)
    files = [write_jsonl_input(tmp_path / "in" / f"wire-{k}.jsonl", k * JSONL_RECORDS,
                               JSONL_RECORDS, seed=k) for k in range(JSONL_TRIALS + 1)]
    _, window, _ = _run_and_kill(cli_args("ingest", "--corpus", corpus.root, files[0]),
                                 corpus.articles, None)

    def make_run(trial: int) -> tuple[list[str], Path, str | None]:
        return cli_args("ingest", "--corpus", corpus.root, files[trial + 1]), \
            corpus.articles, None

    trials = _kill_loop(corpus, JSONL_TRIALS, rng, window * KILL_SPAN, make_run)
    _report("jsonl ingest", trials)
    assert trials.killed >= JSONL_TRIALS // 2, trials

    done = run("ingest", "--corpus", corpus.root, *files)
    assert done.returncode == 0, output(done)
    assert len(corpus.article_files()) == JSONL_RECORDS * (JSONL_TRIALS + 1)
    assert corpus_problems(corpus) == []


# -- build ----------------------------------------------------------------------------


BUILD_TRIALS = 10


def test_build_killed_anywhere_leaves_no_partial_release(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 30, seed=5)
    rng = random.Random(SEED + 2)
    _, window, _ = _run_and_kill(
        cli_args("build", "--corpus", corpus.root, "--version", "1.0.0"), corpus.releases, None)
    assert release_issues(corpus) == {"1.0.0": []}

    def make_run(trial: int) -> tuple[list[str], Path, str | None]:
        version = f"1.{trial + 1}.0"
        return cli_args("build", "--corpus", corpus.root, "--version", version), \
            corpus.releases, version

    trials = _kill_loop(corpus, BUILD_TRIALS, rng, window * 1.1, make_run)
    _report("build", trials)
    assert trials.killed >= BUILD_TRIALS // 2, trials

    # the next run completes normally: the last killed version builds, and building a
    # version left without its changelog entry again (identical) completes the entry
    last = f"1.{BUILD_TRIALS}.0"
    for version in sorted({*trials.pending_changelog, last}):
        done = run("build", "--corpus", corpus.root, "--version", version)
        assert done.returncode == 0, output(done)
    done = run("verify", "--corpus", corpus.root, "--all")
    assert done.returncode == 0, output(done)
    assert not list(corpus.releases.glob(".tmp-*")), "stale build folders were not removed"
    assert {"1.0.0", last} <= set(release_issues(corpus))


# -- writes that fail at the OS level -------------------------------------------------


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="paratopics-mount-probe-"))
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=True)
        return ok
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


MOUNT = _can_mount()
#: Dropping these capabilities makes root obey file modes, so chmod works as for anyone.
NO_DAC = ["setpriv", "--inh-caps=-all",
          "--bounding-set=-dac_override,-dac_read_search,-fowner"]
#: The last resort: every file the child writes is capped (EFBIG), so its first large
#: write fails: the raw copy, which ingest writes before the record.
PER_PROCESS = "RLIMIT_FSIZE=4096 in the child (EFBIG)"


@dataclass
class Fault:
    """How writes are made to fail, and how the child command must be started for it."""

    mechanism: str
    prefix: list[str] = field(default_factory=list)
    preexec: Callable[[], None] | None = None

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return run_measured([*self.prefix, *cli_args(*args)], preexec_fn=self.preexec)[0]


def _capped() -> Fault:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    return Fault(PER_PROCESS, preexec=preexec)


@contextlib.contextmanager
def _tmpfs_over(folder: Path, spare: int) -> Iterator[None]:
    """Mount a tmpfs over `folder` holding its files plus `spare` bytes; restore after."""
    saved = Path(tempfile.mkdtemp(prefix="paratopics-saved-")) / folder.name
    shutil.copytree(folder, saved)
    used = sum(p.stat().st_size + 4096 for p in saved.rglob("*"))
    size = (used + spare) // 4096 * 4096 + 4096
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                   check=True)
    try:
        shutil.copytree(saved, folder, dirs_exist_ok=True)
        yield
    finally:
        _unmount(folder)
        shutil.rmtree(folder)
        shutil.move(saved, folder)
        saved.parent.rmdir()


def _unmount(folder: Path) -> None:
    """Unmount `folder`. A command's last child process may hold a file there for a
    moment after the command has exited (EBUSY): try again, then detach the mount
    lazily, so that no test leaves a mount behind for later runs to trip over."""
    for _ in range(20):
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    subprocess.run(["umount", "--lazy", str(folder)], check=True)


@contextlib.contextmanager
def _chmod_read_only(folder: Path) -> Iterator[Fault]:
    folder.chmod(0o555)
    try:
        if os.geteuid() != 0:
            yield Fault("chmod 0o555 (EACCES)")
        elif shutil.which("setpriv"):
            yield Fault("chmod 0o555, child run as root without CAP_DAC_OVERRIDE (EACCES)",
                        prefix=NO_DAC)
        else:
            yield _capped()
    finally:
        folder.chmod(0o755)


@contextlib.contextmanager
def _mount_read_only(folder: Path) -> Iterator[Fault]:
    if not MOUNT:
        with _chmod_read_only(folder) as fault:
            yield fault
        return
    with _tmpfs_over(folder, 1 << 20):
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield Fault("read-only tmpfs mount (EROFS)")


@contextlib.contextmanager
def _nearly_full(folder: Path) -> Iterator[Fault]:
    """Leave `folder` without one free block (ENOSPC), or cap file size (EFBIG)."""
    if not MOUNT:
        yield _capped()
        return
    with _tmpfs_over(folder, 64 << 10):
        fd = os.open(folder / ".filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:  # until ENOSPC: no block left for anyone
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        yield Fault("tmpfs mount filled to the last block (ENOSPC)")


FAULTS = {"read-only mount": _mount_read_only, "read-only chmod": _chmod_read_only,
          "disk full": _nearly_full}


@pytest.mark.parametrize("fault_name", list(FAULTS))
def test_failed_write_names_the_file_and_changes_nothing(tmp_path: Path,
                                                         fault_name: str) -> None:
    corpus = new_corpus(tmp_path / "corpus")
    source = tmp_path / "in" / "wire.json"
    source.parent.mkdir()
    record = article_record(1, random.Random(SEED))
    source.write_text(json.dumps(record), encoding="utf-8")
    done = run("ingest", "--corpus", corpus.root, source)
    assert done.returncode == 0, output(done)
    (article,) = corpus.article_files()
    before = {rel: (corpus.root / rel).read_bytes() for rel in visible_files(corpus.root)}
    # the same article (same file name and URL) grown large: an update of both files
    bigger = {**record, "paragraphs": [f"Paragraph {i}: " + "word " * 400 for i in range(60)]}
    source.write_text(json.dumps(bigger), encoding="utf-8")

    with FAULTS[fault_name](corpus.articles) as fault:
        done = fault.run("ingest", "--corpus", corpus.root, source)
        print(f"{fault_name}: {fault.mechanism}: {output(done)}")
        after = {rel: (corpus.root / rel).read_bytes() for rel in visible_files(corpus.root)}
        leftovers = [p.name for p in corpus.articles.iterdir() if p.name.endswith(".tmp")]
    text = done.stdout + done.stderr
    assert done.returncode == 1, output(done)
    assert "Traceback" not in text
    assert "[write-failed]" in text
    assert (source.name if fault.mechanism == PER_PROCESS else article.name) in text
    assert "nothing was changed" in text
    assert after == before  # the old record and the old raw copy, byte for byte
    assert leftovers == []
    assert corpus_problems(corpus) == []
    done = run("ingest", "--corpus", corpus.root, source)  # writable again: it goes through
    assert done.returncode == 0, output(done)
    assert "updated" in done.stdout
    assert corpus_problems(corpus) == []


def test_failed_release_write_leaves_no_partial_release(tmp_path: Path) -> None:
    corpus = synthetic_corpus(tmp_path / "corpus", 20, seed=9)
    done = run("build", "--corpus", corpus.root, "--version", "1.0.0")
    assert done.returncode == 0, output(done)
    with _nearly_full(corpus.releases) as fault:
        done = fault.run("build", "--corpus", corpus.root, "--version", "1.1.0")
        print(f"build on a full disk: {fault.mechanism}: {done.stderr.strip()[-400:]}")
        listing = sorted(p.name for p in corpus.releases.iterdir())
        issues = release_issues(corpus)
    assert done.returncode == 1, output(done)
    assert "Traceback" not in done.stderr, output(done)
    assert "[write-failed]" in done.stderr, output(done)
    assert "releases/v1.1.0" in done.stderr and "nothing was changed" in done.stderr
    assert [n for n in listing if not n.startswith(".")] == ["CHANGELOG.md", "v1.0.0"]
    assert issues == {"1.0.0": []}
