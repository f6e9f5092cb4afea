"""scripts/convert_gum.py: GUM CoNLL-U to the JSON door, summaries kept out."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from conftest import ROOT, run_cli

from paratopics.corpus.store import Corpus

SPEC = importlib.util.spec_from_file_location("convert_gum", ROOT / "scripts" / "convert_gum.py")
assert SPEC is not None and SPEC.loader is not None
convert_gum = importlib.util.module_from_spec(SPEC)
sys.modules["convert_gum"] = convert_gum  # dataclasses look their module up
SPEC.loader.exec_module(convert_gum)

DOC = """# newdoc id = GUM_news_test
# meta::author = Wikinews
# meta::dateCreated = 2017-07-18
# meta::sourceURL = https://en.wikinews.org/wiki/Test_article
# meta::summary1 = (human1) A human summary that is not article text.
# meta::summary2 = (gpt4o) A generated summary that must never be text.
# meta::title = Harbour bridge to be rebuilt
# newpar
# newpar_block = head (1 s)
# sent_id = GUM_news_test-1
# text = Harbour bridge to be rebuilt
1\tHarbour\t_\t_\t_\t_\t0\troot\t_\t_

# newpar
# newpar_block = p (1 s)
# text = Friday, July 21, 2017
1\tFriday\t_\t_\t_\t_\t0\troot\t_\t_

# newpar
# newpar_block = p (2 s)
# text = The council voted on Tuesday.
1\tThe\t_\t_\t_\t_\t0\troot\t_\t_

# text = Work starts in spring.
1\tWork\t_\t_\t_\t_\t0\troot\t_\t_

# newpar
# newpar_block = figure (1 s) | caption (1 s)
# text = The old bridge in 2016.
1\tThe\t_\t_\t_\t_\t0\troot\t_\t_

# newpar
# newpar_block = head rend:::"bold" (1 s)
# text = Sources
1\tSources\t_\t_\t_\t_\t0\troot\t_\t_

# newpar
# newpar_block = item (1 s) | p (1 s)
# text = Harbour Times, July 2017.
1\tHarbour\t_\t_\t_\t_\t0\troot\t_\t_

"""


def test_conversion_keeps_text_and_credits_and_leaves_summaries_out(tmp_path: Path) -> None:
    (tmp_path / "GUM_news_test.conllu").write_text(DOC, encoding="utf-8")
    [record] = convert_gum.convert(tmp_path)
    assert record["title"] == "Harbour bridge to be rebuilt"
    assert record["published"] == "2017-07-21"
    assert record["url"] == "https://en.wikinews.org/wiki/Test_article"
    assert record["paragraphs"] == [
        {"heading": None, "text": "The council voted on Tuesday. Work starts in spring."},
        {"heading": "Sources", "text": "Harbour Times, July 2017."},
    ]
    assert record["license"] == "CC-BY-2.5"
    assert "https://en.wikinews.org/wiki/Test_article" in str(record["attribution"])
    assert "GUM" in str(record["attribution"])
    assert "summary" not in json.dumps(record).lower()


def test_converted_file_goes_through_the_json_door(corpus: Corpus, tmp_path: Path) -> None:
    source = tmp_path / "gum"
    source.mkdir()
    (source / "GUM_news_test.conllu").write_text(DOC, encoding="utf-8")
    out = tmp_path / "gum-wikinews.jsonl"
    assert convert_gum.main([str(source), "-o", str(out)]) == 0
    run = run_cli("ingest", "--corpus", corpus.root, out)
    assert run.returncode == 0, run.stdout + run.stderr
    [path] = corpus.articles.glob("*.json")
    assert json.loads(path.read_text(encoding="utf-8"))["source"] == "en.wikinews.org"


def test_a_folder_without_documents_is_an_error(tmp_path: Path) -> None:
    assert convert_gum.main([str(tmp_path), "-o", str(tmp_path / "x.jsonl")]) == 1
