#!/usr/bin/env bash
# A small dev experiment on why the generative stage left the A/B label at chance: the same
# pairwise-only LoRA run from the base, with the loss on every target token (stage 1's) or on the
# label token alone, at stage 1's learning rate and a higher one. Dev pairwise accuracy (both
# orders, 16 pairs per task) at the middle and the end of each run, in each arm's metrics.csv.
#
#   tools/probes/label_loss.sh [OUT]        (2 CPU cores: ~20 min an arm; STEPS=300 by default)
set -euo pipefail
OUT=${1:-runs/label}
STEPS=${STEPS:-300}
ARMS=${ARMS:-"target-3e-4 label-3e-4 label-1e-3"}
mkdir -p "$OUT"
tasks=$(uv run python - <<'PY'
import json
rates = json.load(open("mix/mixture.json"))["rates"]
stats = json.load(open("mix/stats.json"))["tasks"]
print(json.dumps([t["task"] for t in stats if t["task_type"] == "pairwise" and rates.get(t["task"], 0) > 0]))
PY
)
for arm in $ARMS; do
  loss=${arm%%-*}; lr=${arm#*-}
  [ -f "$OUT/$arm/done" ] && continue
  uv run flame train --set mixture=mix --set "tasks=$tasks" --set base_model=smollm2-135m-instruct \
    --set lora_r=16 --set lora_alpha=32 --set max_length=384 --set batch_size=8 \
    --set "max_steps=$STEPS" --set "lr=$lr" --set warmup_steps=30 --set mixed_precision=bf16 \
    --set "loss_tokens=$loss" --set "eval_every=$((STEPS / 2))" --set eval_examples_per_task=16 \
    --set save_every=0 --set log_every=10 --set "output_dir=$OUT/$arm" > "$OUT/$arm.log" 2>&1
  touch "$OUT/$arm/done"
done
for arm in $ARMS; do echo "== $arm"; grep -v '^$' "$OUT/$arm/metrics.csv" | awk -F, '$6 != "" || NR == 1'; done
