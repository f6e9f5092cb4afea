"""Worker processes that die with the command that started them, and hold what they
need for every task of their pool.

A command killed with SIGKILL (or by the OOM killer) cannot tell its workers to
stop. An idle pool worker then waits for work forever, holds its memory and the
caller's stdout, and keeps multiprocessing's resource tracker alive with it: a
`paratopics build ... | cat` never ends. Every pool the package starts runs
`die_with_parent` in each worker first: the kernel kills the worker when its parent
dies (Linux `PR_SET_PDEATHSIG`), and a watching thread ends it where that is not
available or did not take (the parent died before the call).

A pool whose every task needs the same costly state (a compiled schema checker,
the cache's known records) builds it once per worker with `start_worker` as the
pool's initializer and runs its tasks through `in_worker`. Why the state has a
slot here at all: a task reaches a worker as its pickled arguments and nothing
else, so state built once per process must be found by name; sent with every
task instead, it would be pickled again for each chunk (the known records of a
100k-record cache alone are megabytes). The slot is filled only in a pool's
worker processes, from the pool's initargs, never in the command's own
process: the stages keep no state of their own at module level, and their
sequential paths and engine tasks pass everything as arguments. Under the
`fork` start method the initargs reach the worker by inheritance, unpickled.

`ordered_map` runs work in such a pool with results in input order and a bounded
number in flight, so that a command storing results more slowly than the workers
make them does not hold them all.
"""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: How often the watching thread checks that the parent is alive.
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1
#: This worker's task, when this process is a pool worker (see start_worker).
_TASK: list[Callable[..., Any]] = []


def _set_death_signal() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False if it cannot."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when process `parent` (the command) dies.

    Pass the command's `os.getpid()`: a parent that already died has been replaced
    (by init or a subreaper), which the checks below see."""
    _set_death_signal()
    if os.getppid() != parent:  # it died before the death signal was set
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True,
                     name="paratopics-parent-watch").start()



def start_worker(parent: int, make: Callable[..., Callable[..., Any]], *args: Any) -> None:
    """Pool initializer: tie this worker to process `parent` (die_with_parent), then
    build its task once, `make(*args)`, for `in_worker` to call."""
    die_with_parent(parent)
    _TASK[:] = [make(*args)]


def in_worker(*args: Any) -> Any:
    """Run one task of the pool in this worker: its task (start_worker) on `args`."""
    return _TASK[0](*args)


def ordered_map(pool: Executor, func: Callable[..., R], items: Iterable[T], *shared: object,
                window: int) -> Iterator[R]:
    """`func(*shared, item)` for each item in `pool`, results in item order, with at
    most `window` items submitted and not yet taken: results wait for a slower
    consumer in bounded number (Executor.map submits every item at once)."""
    pending: collections.deque[Future[R]] = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(func, *shared, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def serial_map(func: Callable[..., R], items: Iterable[T], *shared: object) -> Iterator[R]:
    """`ordered_map` in this process: one item at a time."""
    return (func(*shared, item) for item in items)
