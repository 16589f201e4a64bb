#!/bin/sh
# Fine-tune one model's shipped weights on the CPU, in the background, across sessions.
#
#   scripts/cpu_train.sh MODEL RUN_DIR MINUTES [LR]   e.g. scripts/cpu_train.sh stya2k /work/runs/stya2k 100
#
# The recipe that generalises within a 2-core machine's means: the 74 training photos and the ~340
# styles of scripts/build_styles.py (recoloured paintings, krita-data textures, NPR-filtered photos),
# 128 px crops (a step costs about a quarter of a 256 px one: bench/train_step_profile.py), bf16
# autocast, starting from weights/stylize/. It checkpoints every 5 minutes; running the same command
# again (next session) resumes from RUN_DIR/checkpoint.pt, and without one starts from the shipped
# weights. LR (default 1e-4) applies from the next step, resumed runs included: a lower one for the
# last stretch settles the weights (the learning rate is otherwise constant after its warm-up). Niced, so interactive work on the machine keeps priority. Log: RUN_DIR/train.out.
set -e
model=${1:?model}
run=${2:?run folder}
minutes=${3:?minutes of training}
lr=${4:-1e-4}
cd "$(dirname "$0")/.."
[ -d .traindata/content ] || .venv/bin/python scripts/pack_training_data.py
[ -d .traindata/styles ] || .venv/bin/python scripts/build_styles.py
mkdir -p "$run"
nohup nice -n 15 .venv/bin/stylize train -m "$model" -c .traindata/content -s .traindata/styles -o "$run" \
    --init-from weights/stylize --crop 128 -b 8 --precision bf16 --lr "$lr" --warmup 50 \
    --steps 0 --max-time "${minutes}m" --save-time 5m --save-every 200 --sample-every 200 --log-every 10 --plain \
    --data-note "74 free photos; the styles of scripts/build_styles.py (18 paintings, their recolourings, krita-data textures, NPR-filtered photos); the held-out set never read" \
    >>"$run/train.out" 2>&1 &
echo "training $model in $run (pid $!), log $run/train.out"
