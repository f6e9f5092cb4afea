"""Baseline scores of a release, recorded beside the corpus so that the card can quote them.

Scoring needs scikit-learn and a model fit; publishing must not (it runs on a core
install and must give the same bytes everywhere). So the scores are computed once,
by `scripts/scores.py`, and stored as `corpus/scores/vX.Y.Z.json` (checked against
schema/scores.schema.json) with the sha256 of the release manifest they were
computed on: a rebuilt or different release never gets another release's figures.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from paratopics.codebook import load_json_resource
from paratopics.corpus.store import Corpus


@dataclass(frozen=True)
class ScoreRow:
    level: int
    model: str
    train_paragraphs: int
    test_paragraphs: int
    micro_f1: float
    macro_f1: float


@dataclass(frozen=True)
class Scores:
    version: str
    manifest_sha256: str
    split: str
    command: str
    rows: tuple[ScoreRow, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scores:
        return cls(data["version"], data["manifest_sha256"], data["split"], data["command"],
                   tuple(ScoreRow(**row) for row in data["rows"]))

    def to_json(self) -> bytes:
        data = asdict(self)
        data["rows"] = [asdict(row) for row in self.rows]
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def scores_path(corpus: Corpus, version: str) -> Path:
    return corpus.root / "scores" / f"v{version}.json"


def schema_problems(data: object) -> list[str]:
    """Where `data` breaks schema/scores.schema.json, each as 'at /pointer: message'."""
    from paratopics.schema_check import validator_for
    from paratopics.validate.fastschema import surely_valid

    schema = load_json_resource("scores.schema.json")
    if surely_valid(schema, data):
        return []
    validator = validator_for(schema)
    return [f"at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))]


def read_scores(path: Path, manifest_sha256: str) -> tuple[Scores | None, str | None]:
    """The scores in `path` if they were computed on the release whose manifest has
    `manifest_sha256`; otherwise None and why they are not quoted (None when the
    file is simply absent)."""
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"{path}: cannot be read ({error}); run scripts/scores.py again"
    problems = schema_problems(data)
    if problems:
        return None, (f"{path}: does not match schema/scores.schema.json ({problems[0]}); "
                      "run scripts/scores.py again")
    scores = Scores.from_json(data)
    if scores.manifest_sha256 != manifest_sha256:
        return None, (f"{path}: computed on another build of v{scores.version} (manifest "
                      f"sha256 {scores.manifest_sha256[:12]}...); run scripts/scores.py again")
    return scores, None


def markdown_table(scores: Scores) -> str:
    lines = ["| level | model | train paragraphs | test paragraphs | micro-F1 | macro-F1 |",
             "|---:|---|---:|---:|---:|---:|"]
    lines += [f"| {r.level} | {r.model} | {r.train_paragraphs:,} | {r.test_paragraphs:,} | "
              f"{r.micro_f1:.3f} | {r.macro_f1:.3f} |" for r in scores.rows]
    return "\n".join(lines)


def card_section(scores: Scores | None, version: str) -> str:
    """The card's paragraph on scores: the table, or how to compute it."""
    if scores is None:
        return (f"No baseline scores are recorded for v{version}: in a checkout, "
                f"`python scripts/scores.py --version {version}` computes them.")
    return (f"Test scores of this release (`{scores.split}` split), recorded with "
            f"`{scores.command}`; the majority-label row predicts, for every paragraph, "
            "the label most often gold in `train`, the floor any classifier must clear:\n\n"
            + markdown_table(scores))
