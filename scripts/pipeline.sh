#!/usr/bin/env bash
# The main job: ingest, validate, build (reproducibly), verify, load, report.
# Uses .venv/bin when present, so it runs right after the quickstart install.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/paratopics ]; then PATH="$PWD/.venv/bin:$PATH"; fi

step() { printf '\n== %s\n' "$*"; }

step "ingest: re-read every raw source (unchanged sources change nothing)"
paratopics ingest corpus/sources/*/*

step "validate: articles and annotations"
paratopics validate

latest=$(python -c "from paratopics.release.core import list_versions; from paratopics.corpus.store import Corpus; print(list_versions(Corpus(__import__('pathlib').Path('corpus')))[-1])")
step "build v$latest again: must be byte-identical to the committed release"
paratopics build --version "$latest"

step "verify every release against its manifest and the changelog"
paratopics verify --all

step "load with datasets.load_dataset in a fresh process (offline)"
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 python - <<'PY'
import os

import datasets

datasets.disable_progress_bars()
checkout = os.getcwd()
for config in ("paragraphs", "articles", "annotations"):
    ds = datasets.load_dataset(checkout, config)
    print(f"{config:12}", {split: ds[split].num_rows for split in ds})
paragraphs = datasets.load_dataset(checkout, "paragraphs")
first = paragraphs[next(iter(paragraphs))]
names = first.features["labels"].feature.names
print("first paragraph:", first[0]["text"][:70], "...")
print("  labels:", [names[i] for i in first[0]["labels"]])
PY

step "publish: a Hub-ready folder (card, data, croissant.json), loaded back"
hub="$(mktemp -d)/paratopics"
paratopics publish --version "$latest" --out "$hub"
HF_HUB_OFFLINE=1 python -c "import datasets, sys; datasets.disable_progress_bars(); \
ds = datasets.load_dataset(sys.argv[1], 'paragraphs'); print('loaded from', sys.argv[1], ds)" "$hub"

step "stats"
paratopics stats --plot docs/label-distribution.png
