"""Label Studio export records as the tool writes them, for the import tests."""

from __future__ import annotations

from typing import Any

from paratopics import codebook as codebook_module

BOOK = codebook_module.load()


def pick(*labels: str) -> dict[str, Any]:
    """A Taxonomy result picking `labels` (paths of aliases: level-1 id, label id)."""
    paths = [[BOOK.level1(code), code] if code in BOOK else ["x", code] for code in labels]
    return {"from_name": "topics", "to_name": "paragraph", "type": "taxonomy",
            "value": {"taxonomy": paths}, "origin": "manual", "id": "r1"}


def note(text: str) -> dict[str, Any]:
    return {"from_name": "note", "to_name": "paragraph", "type": "textarea",
            "value": {"text": [text]}, "origin": "manual", "id": "r2"}


def annotation(aid: int, user: object, *results: dict[str, Any], updated: str =
               "2026-12-01T10:05:00.123456Z", **extra: object) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": aid, "completed_by": user, "result": list(results), "was_cancelled": False,
        "ground_truth": False, "created_at": "2026-12-01T10:00:00.000001Z",
        "updated_at": updated, "lead_time": 12.5, "task": 0}
    record.update(extra)
    return record


def task(tid: int, exported: dict[str, Any], *annotations: dict[str, Any]) -> dict[str, Any]:
    """A task of the JSON export: the task `tasks export` wrote, with its annotations."""
    return {"id": tid, "data": exported["data"], "annotations": list(annotations),
            "predictions": exported.get("predictions", []), "drafts": [],
            "created_at": "2026-12-01T09:00:00Z", "project": 1}
