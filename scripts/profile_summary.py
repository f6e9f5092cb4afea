"""A py-spy profile (raw, collapsed stacks) in one line: why a stage took its time.

Used by scripts/benchmark.py for the note of a missed target. It tells imports made
at start-up from those a call makes on its way, since only the second kind is a cost
of the stage itself, and names where our code hands over to a library.
"""

from __future__ import annotations

import re
from collections import Counter


def frame_name(frame: str) -> str:
    """`write_tree (paratopics/release.py:612)` -> `release.write_tree`."""
    found = re.match(r"(.+?) \((?:.*/)?([\w.]+?)(?:\.py)?:\d+\)", frame.strip())
    return f"{found.group(2)}.{found.group(1)}" if found else frame.strip()


def is_import(frame: str) -> bool:
    return "_find_and_load" in frame


def is_plumbing(frame: str) -> bool:
    """Frames of the import machinery and of `python -m`, which name no caller."""
    return "importlib" in frame or "runpy.py" in frame


def module_of(frame: str) -> str:
    """`<module> (scipy/io/__init__.py:102)` -> `scipy.io`."""
    found = re.match(r"<module> \((.+?)(?:/__init__)?\.py:\d+\)", frame.strip())
    return found.group(1).replace("/", ".") if found else frame_name(frame)


def frame_file(frame: str) -> str:
    """`start (datasets/utils/patching.py:108)` -> `datasets/utils/patching.py`."""
    found = re.search(r"\((.+?):\d+\)$", frame.strip())
    return found.group(1) if found else ""


def import_site(frames: list[str]) -> tuple[str, str] | None:
    """(module, the call that led to it) for an import made inside a function call;
    None for one made at start-up (only module bodies above it). The first kind is a
    cost of that call. The call named is the innermost one outside the file that did
    the importing, which is a helper (such as a patcher) more often than a cause."""
    first = next(i for i, f in enumerate(frames) if is_import(f))
    callers = [f for f in frames[:first] if not is_plumbing(f)]
    if all(f.startswith("<module> ") for f in callers):
        return None
    module = next((module_of(f) for f in frames[first:] if f.startswith("<module> ")), "?")
    calls = [f for f in callers if not f.startswith("<module> ")]
    helper = frame_file(calls[-1])
    cause = next((f for f in reversed(calls) if frame_file(f) != helper), calls[-1])
    return module, frame_name(cause)


def summarize_profile(collapsed: str) -> str:
    """Where a stage's samples went: start-up imports, imports inside calls (with
    their cause), the last paratopics frame (where our code hands over) and leaves.

    Samples inside imports are counted apart: at small sizes they are most of a
    run, and no change to the stage's own code would remove them. Imports made at
    start-up are told from those a call makes on its way (a library importing a
    module the first time it is used); the latter are named with their callers.
    """
    ours, leaves, late = Counter[str](), Counter[str](), Counter[str]()
    total = startup = bare = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if f.strip() and not f.startswith("process ")]
        n = int(count)
        total += n
        if not frames:
            bare += n
            continue
        if any(is_import(f) for f in frames):
            site = import_site(frames)
            if site is None:
                startup += n
            else:
                late[f"{site[0]} under {site[1]}"] += n
            continue
        leaves[frame_name(frames[-1])] += n
        own = [f for f in frames if "paratopics/" in f]
        if own:
            ours[frame_name(own[-1])] += n
    calls = total - startup - bare
    if not calls:
        return f"{total:,} samples, none inside a call"

    def top(counter: Counter[str], most: int = 4) -> str:
        return ", ".join(f"{name} {n / calls:.0%}" for name, n in counter.most_common(most)) or (
            "none")

    return (f"{total:,} samples: {startup / total:.0%} in start-up imports, {bare / total:.0%} "
            f"with no Python frame, {calls:,} inside calls. Of those: imports "
            f"{sum(late.values()) / calls:.0%} ({top(late, 2)}); deepest paratopics frames: "
            f"{top(ours)}; leaf frames: {top(leaves)}")
