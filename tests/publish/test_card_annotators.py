"""The card's annotation process is computed from the release it describes."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from release_helpers import make_release

from paratopics import codebook as codebook_module
from paratopics.corpus.store import Corpus
from paratopics.loader import data_files
from paratopics.publish.annotators import process_text, summarize
from paratopics.publish.core import publish_folder
from paratopics.release import layout as release_layout
from paratopics.release.judgements import agreement

BOOK = codebook_module.load()
A, B = "medtop:20000053", "medtop:20000344"  # under two different level-1 topics


def judgement(index: int, labels: list[str], who: str, role: str = "annotator"
              ) -> dict[str, object]:
    return {"article_id": "story-0123456789", "paragraph_index": index, "labels": labels,
            "annotator": who, "role": role}


def test_model_based_judges_are_named_as_such_with_the_agreement() -> None:
    rows = [judgement(0, [A], "llm-judge-1"), judgement(0, [A], "llm-judge-2"),
            judgement(1, [A], "llm-judge-1"), judgement(1, [B], "llm-judge-2"),
            judgement(1, [B], "llm-adjudicator-1", "adjudicator"),
            judgement(2, [], "team-a"), judgement(2, [B], "llm-judge-1")]
    summary = summarize(rows, BOOK)  # type: ignore[arg-type]
    assert summary.people == {"team-a": 1}
    assert summary.models == {"llm-adjudicator-1": 1, "llm-judge-1": 3, "llm-judge-2": 2}
    assert (summary.adjudicated, summary.by_models_adjudicated, summary.paragraphs) == (1, 1, 3)
    text = process_text(summary, BOOK)
    expected = agreement(rows, BOOK.level1)  # type: ignore[arg-type]
    assert expected.alpha is not None
    assert f"= {expected.alpha:.3f} over 3 paragraphs" in text
    assert "model-based judges, not people" in text and "No person reviewed" in text
    assert "`team-a` (1)" in text and "1 judgements are adjudications (1 of them" in text
    for top in expected.per_level1:
        assert f"| {top.label} | {BOOK.name(top.label)} |" in text
    own = process_text(summary, BOOK, ours=False)
    assert "No person reviewed" not in own and "`llm-judge-1` (3)" in own


def test_a_release_without_double_judgements_says_agreement_cannot_be_measured() -> None:
    text = process_text(summarize([judgement(0, [A], "team-a")], BOOK),  # type: ignore[list-item]
                        BOOK)
    assert "cannot be measured" in text and "model-based" not in text


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return make_release(tmp_path_factory.mktemp("card"), articles=20, seed=3)


def test_the_published_card_reports_the_release_s_own_agreement(corpus: Corpus,
                                                                tmp_path: Path) -> None:
    publish_folder(corpus, "1.0.0", tmp_path / "hub", BOOK)
    card = (tmp_path / "hub" / "README.md").read_text(encoding="utf-8")
    folder = release_layout.release_dir(corpus, "1.0.0")
    manifest = release_layout.read_manifest(corpus, "1.0.0")
    rows = [row for paths in data_files(manifest, "annotations").values() for p in paths
            for row in pq.read_table(folder / p).to_pylist()]
    expected = agreement(rows, BOOK.level1)  # type: ignore[arg-type]
    section = card.split("### Annotation process", 1)[1].split("\n### ", 1)[0]
    assert f"This release holds {len(rows):,} judgements" in section
    if expected.paragraphs:
        assert f"over {expected.paragraphs:,} paragraphs" in section
        assert (f"= {expected.alpha:.3f}" if expected.alpha is not None else "undefined") \
            in section
    assert "Draft, to be confirmed" not in card
