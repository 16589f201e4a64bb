#!/bin/sh
# Fine-tune one model's shipped weights on the CPU, in the background, across sessions.
#
#   scripts/cpu_train.sh MODEL RUN_DIR MINUTES [LR [TRAIN OPTIONS...]]
#   e.g. scripts/cpu_train.sh stya2k /work/runs/stya2k 100
#        scripts/cpu_train.sh stya2k /work/runs/g20 60 5e-5 --lambda global=20 --init-from /work/runs/stya2k/weights
#
# The recipe that generalises within a 2-core machine's means: the 74 training photos and the ~340
# styles of scripts/build_styles.py (recoloured paintings, krita-data textures, NPR-filtered photos),
# 128 px crops (a step costs about a quarter of a 256 px one: bench/train_step_profile.py), bf16
# autocast, starting from weights/stylize/. It checkpoints every 5 minutes; running the same command
# again (next session) resumes from RUN_DIR/checkpoint.pt, and without one starts from the shipped
# weights. LR (default 1e-4) applies from the next step, resumed runs included: a lower one for the
# last stretch settles the weights (the learning rate is otherwise constant after its warm-up).
# Further options go to `stylize train` after the recipe's and override them (the last one given wins).
# Niced, so interactive work on the machine keeps priority. Log: RUN_DIR/train.out; each export is
# kept in RUN_DIR/exports/step_N.
set -e
model=${1:?model}
run=${2:?run folder}
minutes=${3:?minutes of training}
lr=${4:-1e-4}
shift $(($# < 4 ? $# : 4))
cd "$(dirname "$0")/.."
[ -d .traindata/content ] || .venv/bin/python scripts/pack_training_data.py
[ -d .traindata/styles ] || .venv/bin/python scripts/build_styles.py
mkdir -p "$run"
nohup nice -n 15 .venv/bin/stylize train -m "$model" -c .traindata/content -s .traindata/styles -o "$run" \
    --init-from weights/stylize --crop 128 -b 8 --precision bf16 --lr "$lr" --warmup 50 \
    --steps 0 --max-time "${minutes}m" --save-time 5m --save-every 200 --sample-every 200 --log-every 10 --plain \
    --data-note "74 free photos; the styles of scripts/build_styles.py (18 paintings, their recolourings, krita-data textures, NPR-filtered photos); the held-out set never read" \
    "$@" >>"$run/train.out" 2>&1 &
pid=$!
# Keep each export as RUN_DIR/exports/step_N (the run overwrites weights/ at every save), for
# scripts/average_weights.py; stops with the training, after keeping its last export.
keep() {
    step=$(sed -n 's/^saved at step \([0-9]*\)$/\1/p' "$run/train.out" | tail -n 1)
    kept="$run/exports/step_$step"
    if [ -n "$step" ] && [ ! -d "$kept" ]; then
        mkdir -p "$run/exports" && cp -r "$run/weights/$model" "$kept.part" && mv "$kept.part" "$kept"
    fi
}
(
    while kill -0 "$pid" 2>/dev/null; do
        sleep 30
        keep
    done
    keep
) >/dev/null 2>&1 &
echo "training $model in $run (pid $pid), log $run/train.out, exports kept in $run/exports"
