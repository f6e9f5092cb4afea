"""A real Label Studio server for tests and docs, inside a network namespace of its own.

Label Studio lives in its own virtual environment (`.venv-labelstudio/`, git-ignored,
made from `tests/labelstudio-requirements.txt` by `.ci/run` or on first use), so
its many pins never decide the project's. The server runs in a fresh network
namespace with only loopback up, so it can reach nothing outside; whoever talks
to it (`in_namespace`) runs there too. A migrated empty database is kept beside
the environment after the first start, which cuts later starts from minutes to
under a minute.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("PARATOPICS_LABEL_STUDIO_VENV", ROOT / ".venv-labelstudio"))
REQUIREMENTS = ROOT / "tests" / "labelstudio-requirements.txt"
TEMPLATE = VENV / "paratopics-empty-data"
DATABASE = "label_studio.sqlite3"


def ensure_venv() -> Path:
    """The label-studio executable, installing it into its own environment if absent."""
    exe = VENV / "bin" / "label-studio"
    if not exe.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "-r",
                        str(REQUIREMENTS)], check=True)
    return exe


def in_namespace(namespace: str, command: Sequence[str], **kwargs: object
                 ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", namespace, *command],  # type: ignore[call-overload,no-any-return]
                          text=True, capture_output=True, **kwargs)


@dataclass(frozen=True)
class Server:
    url: str
    namespace: str
    data: Path
    seconds_to_health: float


def _free_port(namespace: str) -> int:
    probe = in_namespace(namespace, [sys.executable, "-c",
                                     "import socket; s = socket.socket(); "
                                     "s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                         check=True)
    return int(probe.stdout.strip())


def _save_template(data: Path) -> None:
    """Copy the freshly migrated, still empty database for the next start (a consistent
    copy through SQLite's backup API, as the server has it open)."""
    partial = TEMPLATE.with_name(TEMPLATE.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in (".env",):
        if (data / name).is_file():
            shutil.copy2(data / name, partial / name)
    with sqlite3.connect(data / DATABASE) as source, sqlite3.connect(partial / DATABASE) as copy:
        source.backup(copy)
    shutil.rmtree(TEMPLATE, ignore_errors=True)
    partial.rename(TEMPLATE)


@contextmanager
def label_studio(tmp: Path, client_python: str = sys.executable) -> Iterator[Server]:
    """A started Label Studio in its own namespace; stopped and removed on exit, always."""
    exe = ensure_venv()
    namespace = f"paratopics-ls-{os.getpid()}-{time.monotonic_ns() % 100000}"
    data = tmp / "label-studio-data"
    fresh = not (TEMPLATE / DATABASE).is_file()
    if fresh:
        data.mkdir(parents=True)
    else:
        shutil.copytree(TEMPLATE, data)
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    process: subprocess.Popen[bytes] | None = None
    log = (tmp / "label-studio.log").open("wb")
    try:
        in_namespace(namespace, ["ip", "link", "set", "lo", "up"], check=True)
        port = _free_port(namespace)
        env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "DJANGO_DB": "sqlite",
               "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "false", "SENTRY_DSN": "",
               "FRONTEND_SENTRY_DSN": "", "COLLECT_ANALYTICS": "false"}
        start = time.monotonic()
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, str(exe), "start", "--no-browser",
             "--internal-host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        waited = in_namespace(namespace, [client_python, str(ROOT / "tests" /
                                                             "labelstudio_client.py"),
                                          "wait", url], timeout=900)
        if waited.returncode != 0:
            raise RuntimeError(f"Label Studio did not start: {waited.stdout}{waited.stderr}\n"
                               + (tmp / "label-studio.log").read_text(errors="replace")[-3000:])
        ready = time.monotonic() - start
        if fresh:
            _save_template(data)
        yield Server(url, namespace, data, ready)
    finally:
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        log.close()
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
