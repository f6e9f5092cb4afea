"""`paratopics tasks export`: the selected paragraphs as a Label Studio import file.

Tasks are written one at a time into a temporary file beside the target, which
is renamed into place when complete, so a large export never sits whole in
memory and an interrupted one leaves no half-written file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from paratopics.annotate import label_studio, select
from paratopics.codebook import Codebook
from paratopics.corpus.store import Corpus, fsync_dir


@dataclass(frozen=True)
class Request:
    how: str = "unjudged"
    limit: int | None = None
    seed: int = 0
    version: str | None = None
    exclude: tuple[str, ...] = ()
    model: Path | None = None


@dataclass(frozen=True)
class Exported:
    tasks: int
    candidates: int
    paragraphs: int
    model_version: str | None


def write_json_array(out: Path, items: Iterable[dict[str, Any]]) -> int:
    """Write `items` as a JSON array, one item per line, atomically; returns the count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        "wb", dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False)
    count = 0
    try:
        with handle:
            handle.write(b"[")
            for item in items:
                handle.write(b"\n" if count == 0 else b",\n")
                handle.write(orjson.dumps(item))
                count += 1
            handle.write(b"\n]\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, out)
        fsync_dir(out.parent)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def plan(corpus: Corpus, request: Request, codebook: Codebook
         ) -> tuple[list[label_studio.TaskParagraph], list[label_studio.Prediction | None],
                    int, int, str | None]:
    """The chosen paragraphs with their predictions, the candidate and paragraph counts,
    and the model's version."""
    pool = (select.release_pool(corpus, request.version) if request.version
            else select.working_pool(corpus))
    found = select.candidates(pool, request.how, codebook, request.exclude)
    model = select.load_model(request.model, codebook) if request.model else None
    chosen: Sequence[label_studio.TaskParagraph]
    predictions: list[label_studio.Prediction | None]
    if request.how == "uncertain":
        assert model is not None  # the CLI requires --model for `uncertain`
        scored = select.predict(model, found, codebook)
        positions = select.most_uncertain(found, scored, request.limit)
        chosen = [found[i] for i in positions]
        predictions = [scored[i] for i in positions]
    else:
        chosen = select.sample(found, request.limit, request.seed)
        predictions = (list(select.predict(model, chosen, codebook)) if model
                       else [None] * len(chosen))
    return (list(chosen), predictions, len(found), len(pool.paragraphs),
            model.version if model else None)


def export_tasks(corpus: Corpus, out: Path, request: Request, codebook: Codebook) -> Exported:
    chosen, predictions, found, total, version = plan(corpus, request, codebook)
    written = write_json_array(out, (
        label_studio.task(p, codebook, prediction)
        for p, prediction in zip(chosen, predictions, strict=True)))
    return Exported(written, found, total, version)
