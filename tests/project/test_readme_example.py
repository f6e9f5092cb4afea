"""The README's Python example runs as written, against a copy of the committed corpus."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example:train -->\n```python\n(.*?)```", text, re.S)
    assert match, "the README lost its example"
    return match.group(1)


def test_readme_example_runs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    env = {**os.environ, "PARATOPICS_CORPUS": str(corpus), "HF_HUB_OFFLINE": "1",
           "HF_DATASETS_CACHE": str(tmp_path / "hf-cache")}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    micro = re.search(r"micro-F1 ([0-9.]+)", done.stdout)
    assert micro and 0.0 <= float(micro.group(1)) <= 1.0, done.stdout
    assert (tmp_path / "model" / "model.json").is_file()
    import pyarrow.parquet as pq

    from paratopics.corpus.store import Corpus
    from paratopics.release import layout as release_layout

    latest = release_layout.release_dir(Corpus(corpus),
                                        release_layout.list_versions(Corpus(corpus))[-1])
    test_rows = sum(pq.read_metadata(p).num_rows
                    for p in (latest / "paragraphs").glob("test-*.parquet"))
    assert test_rows > 0
    assert len((tmp_path / "pred.jsonl").read_text().splitlines()) == test_rows
