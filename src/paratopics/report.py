"""Output for people: aligned tables and progress lines on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *,
          align: str | None = None) -> str:
    """A plain-text table; numbers right-aligned unless `align` says otherwise."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if align is None:
        align = "".join(
            "r" if rows and all(isinstance(r[i], int | float) for r in rows) else "l"
            for i in range(len(headers))
        )

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if a == "r" else v.ljust(w)
                 for v, w, a in zip(values, widths, align, strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), rule, *(line(r) for r in cells)])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


@dataclass
class Progress:
    """Counts and rate on stderr, at most every `every` seconds, so long runs show life;
    with a `total`, also how far along and the time left at the rate so far."""

    what: str
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    total: int | None = None
    every: float = 2.0
    started: float = field(default_factory=time.monotonic)
    _last: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._last = self.started  # quiet for the first `every` seconds: short runs stay quiet

    def __call__(self, count: int, **also: int) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        extra = "".join(f", {k} {v:,} ({v / elapsed:,.0f}/s)" for k, v in also.items())
        if self.total:
            rate = count / elapsed
            left = (self.total - count) / rate if rate else float("inf")
            eta = f"{left:,.0f} s" if left != float("inf") else "unknown"
            print(f"  {self.what}: {count:,} of {self.total:,} ({count / self.total:.0%}, "
                  f"{rate:,.0f}/s, about {eta} left){extra}", file=self.stream, flush=True)
            return
        print(f"  {self.what}: {count:,} ({count / elapsed:,.0f}/s){extra}", file=self.stream,
              flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started
