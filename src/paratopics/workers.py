"""Worker processes that die with the command that started them.

A command killed with SIGKILL (or by the OOM killer) cannot tell its workers to
stop. An idle pool worker then waits for work forever, holds its memory and the
caller's stdout, and keeps multiprocessing's resource tracker alive with it: a
`paratopics build ... | cat` never ends. Every pool the package starts runs
`die_with_parent` in each worker first: the kernel kills the worker when its parent
dies (Linux `PR_SET_PDEATHSIG`), and a watching thread ends it where that is not
available or did not take (the parent died before the call).
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: How often the watching thread checks that the parent is alive.
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


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

