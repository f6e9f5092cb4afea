"""Helpers shared by the annotation tests: judgement lines and corpus snapshots."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from paratopics.corpus.store import Corpus

CREATED = "2024-05-01T12:00:00Z"


def the_article(corpus: Corpus) -> dict[str, Any]:
    files = corpus.article_files()
    assert len(files) == 1, files
    return json.loads(files[0].read_text(encoding="utf-8"))


def judgement(article: dict[str, Any], index: int, labels: list[str],
              annotator: str = "team-a", **extra: object) -> dict[str, object]:
    """A judgement of paragraph `index` as it reads now (its current hash)."""
    record: dict[str, object] = {
        "article_id": article["article_id"],
        "paragraph_index": index,
        "paragraph_sha256": article["paragraphs"][index]["sha256"],
        "labels": labels,
        "annotator": annotator,
        "created": CREATED,
    }
    record.update(extra)
    return record


def line(record: dict[str, object]) -> bytes:
    return (json.dumps(record) + "\n").encode("utf-8")


def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under `roots`, to prove a command modified nothing."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def located(problems: list[dict[str, Any]]) -> list[tuple[str, str, int | None, str]]:
    """(code, file, line, pointer) of each reported problem, in order."""
    return [(p["code"], p["file"], p["line"], p["pointer"]) for p in problems]


def run_all(cli: Callable[..., Any], *calls: tuple[tuple[object, ...], dict[str, Any]],
            ) -> list[Any]:
    """Run several CLI commands at once: each starts a fresh interpreter (~2 s of imports)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(cli, *args, **kwargs) for args, kwargs in calls]
        return [f.result() for f in futures]
