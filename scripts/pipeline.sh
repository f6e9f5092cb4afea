#!/usr/bin/env bash
# The main job: ingest, validate, build (reproducibly), verify, load, publish, report.
# Uses .venv/bin when present, so it runs right after the quickstart install; else the
# `paratopics` and `python` on PATH. Works on a core install (the chart needs the `plot`
# extra and is skipped without it). Leaves no temporary folder behind and, on a corpus
# whose latest release is current, no tracked file modified; ends with a one-line summary.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/paratopics ]; then PATH="$PWD/.venv/bin:$PATH"; fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/paratopics-pipeline.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "ingest: re-read every raw source (unchanged sources change nothing)"
paratopics ingest corpus/sources/*/*

step "validate: articles and annotations"
paratopics validate

# the latest release not yanked: the one the README's configs and paratopics.load() use
latest=$(python -c "from paratopics.release.yank import default_version; from paratopics.corpus.store import Corpus; print(default_version(Corpus(__import__('pathlib').Path('corpus'))))")
step "build v$latest again: must be byte-identical to the committed release"
if built=$(paratopics build --version "$latest" 2>&1); then
  echo "$built"
  rebuilt="rebuilt identical"
elif grep -q "release-exists" <<<"$built"; then
  # the data moved on since the release: not a fault of the release, but worth saying
  echo "$built"
  echo "the corpus has changes v$latest does not hold: cut a new release (paratopics build --version X.Y.Z)"
  rebuilt="differs from the corpus (unreleased changes)"
else
  echo "$built" >&2
  exit 1
fi

step "verify every release against its manifest and the changelog"
paratopics verify --all

step "load with datasets.load_dataset in a fresh process (offline)"
rows=$(HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_DATASETS_CACHE="$scratch/hf" python - <<'PY'
import os
import sys

import datasets

datasets.disable_progress_bars()
checkout = os.getcwd()
for config in ("paragraphs", "articles", "annotations"):
    ds = datasets.load_dataset(checkout, config)
    print(f"{config:12}", {split: ds[split].num_rows for split in ds}, file=sys.stderr)
paragraphs = datasets.load_dataset(checkout, "paragraphs")
first = paragraphs[next(iter(paragraphs))]
names = first.features["labels"].feature.names
print("first paragraph:", first[0]["text"][:70], "...", file=sys.stderr)
print("  labels:", [names[i] for i in first[0]["labels"]], file=sys.stderr)
print(sum(paragraphs[split].num_rows for split in paragraphs))
PY
)

step "publish: a Hub-ready folder (card, data, croissant.json), loaded back"
hub="$scratch/paratopics"
if published=$(paratopics publish --version "$latest" --out "$hub" 2>&1); then
  echo "$published"
  HF_HUB_OFFLINE=1 HF_DATASETS_CACHE="$scratch/hf" python -c "import datasets, sys; \
datasets.disable_progress_bars(); ds = datasets.load_dataset(sys.argv[1], 'paragraphs'); \
print('loaded from the publish folder:', {s: ds[s].num_rows for s in ds})" "$hub"
  publish="published"
elif grep -q "\[codebook\]" <<<"$published"; then
  # a release is described with the codebook it was built with, which this package no
  # longer ships: the next release will be publishable
  echo "$published"
  publish="not published (built with an earlier codebook)"
else
  echo "$published" >&2
  exit 1
fi

step "stats"
if python -c "import matplotlib" 2>/dev/null; then
  # drawn where it is thrown away: the job changes no tracked file (redraw the README's
  # chart with `paratopics stats --plot docs/label-distribution.png` after a release)
  paratopics stats --plot "$scratch/label-distribution.png"
  chart="drawn"
else
  paratopics stats
  chart="skipped (core install; pip install \"paratopics[plot]\" to draw it)"
  echo "label chart $chart"
fi

printf '\npipeline: OK: v%s %s and verified; %s paragraphs loaded; %s; label chart %s\n' \
  "$latest" "$rebuilt" "$rows" "$publish" "$chart"
