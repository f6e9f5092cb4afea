"""`--engine ray`: ingest, validate and build on Ray give the bytes of the local engine.

Each test generates a small corpus (paratopics.synthetic) in a temporary folder,
runs the stage on the local engine and on Ray, and compares every byte written:
the release's Parquet files, its manifest and the changelog; the article
records and raw copies of ingest; the report of validate.

Ray runs in fresh PID namespaces (`unshare --pid --fork --mount-proc`, as root):
`ray stop` there sees only the processes of this test, and whatever Ray started
ends with the namespace. The two-node cluster also gets its own network
namespace with only the loopback device, so that both raylets bind 127.0.0.1
(outside one, Ray resolves 127.0.0.1 to the machine's other address).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paratopics import cli
from paratopics.corpus.store import Corpus
from paratopics.synthetic import generate

pytest.importorskip("ray", reason='the ray extra is not installed: pip install -e ".[ray]"')

VERSION = "1.0.0"
#: --chunk-bytes of ingest on Ray: each input file (about 400 kB) in several pieces
CHUNK = 65536
BIN = Path(sys.executable).parent
NAMESPACES = os.geteuid() == 0 and shutil.which("unshare") is not None and (
    shutil.which("ip") is not None)
needs_namespaces = pytest.mark.skipif(
    not NAMESPACES, reason="needs root, unshare and ip (util-linux, iproute2) to run Ray in "
    "namespaces of its own")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_tree(left: Path, right: Path) -> None:
    a, b = tree(left), tree(right)
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"files whose bytes differ: {differ}"


def generated(folder: Path, articles: int, seed: int) -> Corpus:
    corpus = Corpus(folder)
    generate(corpus, articles, seed=seed)
    return corpus


def twin(corpus: Corpus, folder: Path) -> Corpus:
    shutil.copytree(corpus.root, folder)
    return Corpus(folder)


def build_locally(corpus: Corpus) -> None:
    assert cli.main(["build", "--corpus", str(corpus.root), "--version", VERSION,
                     "--no-cache"]) == 0


def isolated(script: str, cwd: Path, network: bool = False, timeout: float = 420,
             ) -> subprocess.CompletedProcess[str]:
    """`script` (bash) in a PID namespace of its own, and with `network` also a
    network namespace holding only the loopback device."""
    flags = ["--pid", "--fork", "--mount-proc"] + (["--net"] if network else [])
    prelude = "set -euo pipefail\n" + ("ip link set lo up\n" if network else "")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(["unshare", *flags, "bash", "-c", prelude + script], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def paratopics(*args: str | Path) -> str:
    return shlex.join([sys.executable, "-m", "paratopics", *map(str, args)])


# -- misuse -------------------------------------------------------------------------


def test_address_without_ray_engine_is_misuse(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    corpus = generated(tmp_path / "c", 5, seed=1)
    code = cli.main(["build", "--corpus", str(corpus.root), "--version", VERSION,
                     "--address", "127.0.0.1:6379"])
    assert code == 2
    assert "--address needs --engine ray" in capsys.readouterr().err
    assert not (corpus.releases / f"v{VERSION}").exists()


def test_missing_ray_names_the_extra_in_one_line(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    corpus = generated(tmp_path / "c", 5, seed=1)
    for command in (["build", "--version", VERSION], ["validate"]):
        code = cli.main([*command, "--corpus", str(corpus.root), "--engine", "ray"])
        err = capsys.readouterr().err
        assert code == 2
        assert err.strip().splitlines() == [
            f"paratopics {command[0]} --engine ray needs ray, which this installation lacks: "
            'pip install "paratopics[ray]"']


def test_unreachable_address_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    corpus = generated(tmp_path / "c", 5, seed=1)
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "paratopics", "build", "--corpus",
                           str(corpus.root), "--version", VERSION, "--engine", "ray",
                           "--address", f"127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"--address 127.0.0.1:{port}: no Ray head node answers there" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 120  # (the timeout above fails first on a hang)
    assert not (corpus.releases / f"v{VERSION}").exists()


def test_address_must_be_host_and_port(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    corpus = generated(tmp_path / "c", 5, seed=1)
    code = cli.main(["validate", "--corpus", str(corpus.root), "--engine", "ray",
                     "--address", "headnode"])
    assert code == 2
    assert "expected HOST:PORT of a Ray head node" in capsys.readouterr().err


# -- byte identity ------------------------------------------------------------------


def kill_first_task(child: subprocess.Popen[str], deadline: float) -> int | None:
    """SIGKILL the first Ray worker seen running a task of `child`'s build; its pid."""
    while child.poll() is None and time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", "^ray::in_directory"], capture_output=True,
                               text=True).stdout.split()
        for pid in map(int, found):
            try:
                if os.getsid(pid) == os.getsid(child.pid):  # started by this test's build
                    os.kill(pid, signal.SIGKILL)
                    return pid
            except ProcessLookupError:
                continue
        time.sleep(0.05)
    return None


@needs_namespaces
def test_build_on_a_local_ray_instance_is_byte_identical_despite_a_killed_worker(
        tmp_path: Path) -> None:
    """No --address: a Ray instance started for the command (and stopped after it).
    A worker killed in the middle of a shard: Ray runs the task again, and the
    shard is written again from its start, to the same bytes."""
    local = generated(tmp_path / "local", 300, seed=71)
    on_ray = twin(local, tmp_path / "ray")
    build_locally(local)
    script = paratopics("build", "--corpus", on_ray.root, "--version", VERSION, "--no-cache",
                        "--engine", "ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    child = subprocess.Popen(["setsid", "unshare", "--pid", "--fork", "--mount-proc", "bash",
                              "-c", script], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = kill_first_task(child, time.monotonic() + 300)
    out, err = child.communicate(timeout=420)
    assert killed is not None, "no worker was seen running a task: " + err
    assert child.returncode == 0, out + err
    assert re.search(r"ray: \d+ task\(s\) on 1 of 1 node\(s\)", err), err
    assert_same_tree(local.releases, on_ray.releases)
    assert (on_ray.releases / f"v{VERSION}" / "manifest.json").is_file()
    assert cli.main(["verify", "--corpus", str(on_ray.root), "--version", VERSION]) == 0


def flawed_twin(corpus: Corpus, folder: Path) -> Corpus:
    """A copy of `corpus` with an unknown label in one annotation file and its first
    judgement repeated in the last file (found only by comparing the runs of files)."""
    copy = twin(corpus, folder)
    files = copy.annotation_files()
    lines = files[1].read_text(encoding="utf-8").splitlines()
    lines[2] = re.sub(r'"labels": \[[^]]*\]', '"labels": ["medtop:99999999"]', lines[2])
    files[1].write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = files[0].read_text(encoding="utf-8").splitlines()[0]
    with files[-1].open("a", encoding="utf-8") as handle:
        handle.write(first + "\n")
    return copy


def split_lines(path: Path, parts: int) -> list[Path]:
    """A JSON Lines file cut into `parts` files (so ingest has several files to map)."""
    lines = path.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // parts)
    out = []
    for i in range(parts):
        piece = path.with_name(f"part-{i}.jsonl")
        piece.write_bytes(b"".join(lines[i * size:(i + 1) * size]))
        out.append(piece)
    return out


@needs_namespaces
def test_two_node_cluster_ingests_validates_and_builds_the_local_bytes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A head and a worker node (`ray start`), one CPU each, so that tasks run in
    two raylets; every stage's output compared with the local engine's. Ingest on
    Ray reads each file in pieces (--chunk-bytes), the local one reads them whole."""
    local = generated(tmp_path / "local", 300, seed=72)
    on_ray = twin(local, tmp_path / "ray")
    raw = split_lines(next((local.root / "sources" / "synthetic").glob("*.jsonl")), 3)
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    inputs = [shutil.copy(p, raw_dir / p.name) for p in raw]
    for p in raw:
        p.unlink()
    fresh_local, fresh_ray = Corpus(tmp_path / "fresh-local"), Corpus(tmp_path / "fresh-ray")
    for fresh in (fresh_local, fresh_ray):
        fresh.root.mkdir()
    flawed = flawed_twin(local, tmp_path / "flawed")
    assert cli.main(["validate", "--corpus", str(flawed.root), "--no-cache"]) == 1
    flawed_local = capsys.readouterr()
    build_locally(local)
    capsys.readouterr()
    assert cli.main(["validate", "--corpus", str(local.root), "--no-cache"]) == 0
    validated = capsys.readouterr()
    assert cli.main(["ingest", "--corpus", str(fresh_local.root), *map(str, inputs)]) == 0
    capsys.readouterr()

    port = free_port()
    address = f"127.0.0.1:{port}"
    temp = Path(os.environ.get("TMPDIR", "/tmp")) / f"pt-ray-{secrets.token_hex(4)}"
    ray = BIN / "ray"
    script = f"""
export RAY_AUTH_MODE=token RAY_AUTH_TOKEN={secrets.token_hex(32)}
trap '{ray} stop --force >/dev/null 2>&1 || true; rm -rf {temp}' EXIT
{ray} start --head --port {port} --node-ip-address 127.0.0.1 --num-cpus 1 \\
    --include-dashboard false --disable-usage-stats --temp-dir {temp} >head.log 2>&1 \\
    || {{ tail -20 head.log >&2; exit 3; }}
{ray} start --address {address} --node-ip-address 127.0.0.1 --num-cpus 1 >worker.log 2>&1 \\
    || {{ tail -20 worker.log >&2; exit 3; }}
echo "== build" >&2
{paratopics("build", "--corpus", on_ray.root, "--version", VERSION, "--no-cache",
            "--engine", "ray", "--address", address)}
echo "== validate" >&2
{paratopics("validate", "--corpus", on_ray.root, "--no-cache", "--engine", "ray",
            "--address", address)} >validate.out 2>validate.err
echo "== validate, with problems" >&2
{paratopics("validate", "--corpus", flawed.root, "--no-cache", "--engine", "ray",
            "--address", address)} >flawed.out 2>flawed.err || echo $? >flawed.code
echo "== ingest" >&2
{paratopics("ingest", "--corpus", fresh_ray.root, "--engine", "ray", "--address", address,
            "--chunk-bytes", CHUNK, *inputs)} >ingest.out
"""
    done = isolated(script, cwd=tmp_path, network=True)
    assert done.returncode == 0, done.stdout + done.stderr
    build_log = done.stderr.split("== validate")[0]
    assert re.search(r"ray: \d+ task\(s\) on 2 of 2 node\(s\)", build_log), done.stderr
    assert_same_tree(local.releases, on_ray.releases)

    assert (tmp_path / "validate.out").read_text() == validated.out
    err = (tmp_path / "validate.err").read_text()
    assert validated.err.strip().splitlines()[-1] in err
    assert re.search(r"ray: \d+ task\(s\) on \d of 2 node\(s\)", err)

    # annotation files in runs as tasks too, on both nodes: the local report, the
    # judgement repeated in a run of its own included
    assert (tmp_path / "flawed.code").read_text().strip() == "1"
    here = f"{tmp_path}/"  # the command ran in tmp_path and names files from there
    assert (tmp_path / "flawed.out").read_text() == flawed_local.out.replace(here, "")
    flawed_err = (tmp_path / "flawed.err").read_text()
    assert flawed_local.err.replace(here, "").strip().splitlines()[-1] in flawed_err, \
        flawed_err
    assert "duplicate-judgement" in flawed_local.out + flawed_local.err
    files = len(flawed.annotation_files())
    tasks = re.search(r"ray: (\d+) task\(s\) on 2 of 2 node\(s\)", flawed_err)
    assert tasks and int(tasks.group(1)) >= 2 + files, flawed_err  # article chunks + runs

    # each file read in pieces, as tasks on the cluster; the same bytes as read whole
    assert all(p.stat().st_size > 2 * CHUNK for p in inputs)
    tasks = re.findall(r"ray: (\d+) task\(s\)", done.stderr.split("== ingest")[1])
    assert tasks and int(tasks[-1]) > 2 * len(inputs), done.stderr
    assert_same_tree(fresh_local.root, fresh_ray.root)
    assert len(fresh_ray.article_files()) == 300
    leftovers = subprocess.run(["pgrep", "-f", str(temp)], capture_output=True, text=True)
    assert leftovers.stdout == "", "Ray processes of the test cluster are still running"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
