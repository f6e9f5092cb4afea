"""Where the heavy stages run: `local` (this machine: today's path, which needs no
cluster) or `ray` (a Ray cluster, or a Ray instance started for one command).

The stages hand an engine work that is already cut into independent pieces: the
content-defined shards of a release, chunks of article records to check, raw
files to prepare. An engine only runs the pieces and gives their results back
in order, so the bytes written do not depend on where a piece ran.
"""

from __future__ import annotations

ENGINES = ("local", "ray")
