"""The Ray engine: pieces of work as Ray tasks, on a cluster or on a Ray instance
started for one command.

Every node must have the same paratopics (and pyarrow) installed and see the
corpus at the same path (shared storage): a task reads its inputs and writes its
shard where the driver planned it, and only names, counts and checksums travel
back. Tasks are retried when their worker dies (a retried shard is written again
from its start, to the same bytes); a task that fails for a reason of its own
fails the command, and nothing is published.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from paratopics.errors import MissingExtra, ParatopicsError, UsageError, fail

if TYPE_CHECKING:
    import pyarrow as pa

    from paratopics.codebook import Codebook
    from paratopics.corpus.store import Corpus
    from paratopics.release.build_cache import ShardEntry
    from paratopics.release.shards import Shard

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for the head node to answer before saying it cannot be reached.
CONNECT_TIMEOUT = 5.0
#: Attempts of a task whose worker process died (a killed worker, a lost node).
TASK_RETRIES = 3
#: Tasks in flight per CPU of the cluster: enough to keep every CPU busy while
#: results come back in order, few enough that results waiting stay small.
IN_FLIGHT_PER_CPU = 2


def require_ray(command: str) -> None:
    """Stop before any work when Ray is not installed: one line naming the extra."""
    if importlib.util.find_spec("ray") is None:
        raise MissingExtra(f"{command} --engine ray", "ray", "ray")


def split_address(address: str) -> tuple[str, int]:
    """HOST:PORT of a Ray head node (its GCS address, as `ray start --head` prints it)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--address {address}: expected HOST:PORT of a Ray head node, as "
                         "`ray start --head` prints it (e.g. 10.0.0.5:6379)")
    return host.strip("[]"), int(port)


def probe(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail in seconds when nothing listens at `address`: Ray itself retries for minutes."""
    host, port = split_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"--address {address}: no Ray head node answers there ({reason}, "
                         f"after at most {timeout:.0f} s); start one with `ray start --head "
                         f"--port {port}` or check the host and port") from None


@dataclass
class RayEngine:
    """A connection to Ray for one command: `with RayEngine(address) as engine: ...`.

    Without an address Ray's own rules apply: $RAY_ADDRESS if set, else a Ray
    instance started here for the command and stopped after it.
    """

    address: str | None = None
    num_cpus: int | None = None  # of a Ray instance started here (default: all)
    name: str = "ray"
    started: float = field(default_factory=time.monotonic)
    #: Tasks finished per node id, for the summary line.
    task_nodes: collections.Counter[str] = field(default_factory=collections.Counter)
    #: Seconds the driver spent in maps (tasks running), the rest being its own work.
    mapping: float = 0.0

    def __enter__(self) -> RayEngine:
        import ray

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False,
                                   "configure_logging": True}
        if self.address:
            probe(self.address)
            options["address"] = self.address
        elif not os.environ.get("RAY_ADDRESS"):
            options.update(num_cpus=self.num_cpus or os.cpu_count() or 1,
                           include_dashboard=False)
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UsageError(f"could not connect to Ray at {self.address or 'a new instance'}: "
                             f"{exc}") from None
        self.started = time.monotonic()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        import ray

        ray.shutdown()

    def summary(self) -> str:
        """What ran where, in one line: tasks really spread over the cluster's nodes?"""
        return (f"ray: {sum(self.task_nodes.values())} task(s) on {len(self.task_nodes)} of "
                f"{len(self.nodes())} node(s), {self.cpus()} CPU(s); {self.mapping:.1f} s of "
                f"{time.monotonic() - self.started:.1f} s after connecting in tasks")

    def cpus(self) -> int:
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def nodes(self) -> list[str]:
        """The ids of the cluster's live nodes."""
        import ray

        return [n["NodeID"] for n in ray.nodes() if n.get("Alive")]

    # -- running pieces ---------------------------------------------------------

    def map(self, func: Callable[..., R], items: Sequence[T], *shared: object,
            on_done: Callable[[int, R], None] | None = None,
            cancelled: Callable[[], bool] = lambda: False) -> Iterator[R]:
        """`func(*shared, item)` for each item, as Ray tasks; results in item order.

        `shared` is put in the object store once, not sent with every task.
        """
        import ray

        remote = ray.remote(max_retries=TASK_RETRIES)(in_directory)
        refs = [ray.put(value) for value in (os.getcwd(), func, *shared)]
        window = self.cpus() * IN_FLIGHT_PER_CPU
        flying: collections.deque[Any] = collections.deque()
        todo = iter(enumerate(items))
        began = time.monotonic()
        try:
            for number, item in todo:
                flying.append((number, remote.remote(*refs, item)))
                if len(flying) < window:
                    continue
                yield self._next(flying, on_done, cancelled)
            while flying:
                yield self._next(flying, on_done, cancelled)
        finally:
            self.mapping += time.monotonic() - began
            for _, ref in flying:
                ray.cancel(ref, force=True)

    def _next(self, flying: collections.deque[Any], on_done: Callable[[int, R], None] | None,
              cancelled: Callable[[], bool]) -> R:
        import ray
        from ray.exceptions import GetTimeoutError, RayError, RayTaskError

        number, ref = flying[0]
        while True:
            if cancelled():
                from paratopics.release.tree import Cancelled

                raise Cancelled
            try:
                node, result = ray.get(ref, timeout=1.0)
                break
            except GetTimeoutError:
                continue
            except RayTaskError as exc:  # the task raised: its own exception, as if here
                cause = exc.cause
                if isinstance(cause, ParatopicsError | OSError | UsageError):
                    raise cause from None
                raise fail("engine-failed", engine="ray", detail=f"a task failed: {cause!r}"
                           ) from None
            except RayError as exc:  # a worker or node lost more often than retried
                raise fail("engine-failed", engine="ray",
                           detail=f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        flying.popleft()
        self.task_nodes[node] += 1
        if on_done is not None:
            on_done(number, result)
        return result

    # -- the release ------------------------------------------------------------

    def build_shards(self, folder: Path, corpus: Corpus, codebook: Codebook,
                     schemas: dict[str, pa.Schema], missing: list[Shard],
                     tables: Iterable[pa.Table], judged: dict[str, object],
                     cancelled: Callable[[], bool]) -> dict[str, ShardEntry]:
        """release.tree.build_units with each unit a task on the cluster."""
        from paratopics.release.tree import build_units

        return build_units(folder, corpus, codebook, schemas, missing, tables, judged,
                           cancelled, mapper=functools.partial(self.map, cancelled=cancelled))


def in_directory(cwd: str, func: Callable[..., R], *args: object) -> tuple[str, R]:
    """`func(*args)` in the driver's working directory, so that the relative paths
    a command was given mean what they mean there (on a node that sees the same
    storage at the same path); a worker otherwise starts in a folder of Ray's.
    With the id of the node it ran on."""
    import ray

    if os.path.isdir(cwd):
        os.chdir(cwd)
    return ray.get_runtime_context().get_node_id(), func(*args)


def engine_for(name: str, address: str | None, command: str) -> RayEngine | None:
    """The engine a command asked for: None for local (the default path)."""
    if name == "local":
        if address:
            raise UsageError("--address needs --engine ray")
        return None
    require_ray(command)
    if address:
        split_address(address)
    return RayEngine(address)
