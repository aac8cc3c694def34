#!/usr/bin/env bash
# Train the end-to-end Bradley-Terry reward model (the candidate default judge, issue #15) on CPU,
# in the background-friendly way: niced, logged, checkpointed every few minutes, and resumed exactly
# (weights, optimizer, schedule, data position) when rerun with the same settings.
#
#   tools/train_reward_model.sh            # start or resume; log in $OUT/train.log
#   tools/train_reward_model.sh export     # write $OUT/judge, a plain *ForSequenceClassification folder
#   tools/eval_candidate.sh RUN/reward-export   # (after `export --adapter`) measure it as the default's pairwise part
#   tools/train_reward_model.sh ship       # make it the default judge's pairwise part (a compact LoRA in
#                                          # flame_judge/judges/flame-smol/reward, named by pairwise_judge;
#                                          # tools/place_reward.py)
#
# Pairs come from the collection's train split only: human pairs balanced per task so "longer wins"
# is exactly 0.5, plus constructed pairs (neighbour prompt, irrelevant addition, forged EVALUATION
# line, truncated answer, XSTest refusal/compliance); counts in $OUT/pool.json. Dev BT accuracy,
# log-loss and the dev robustness suites are in $OUT/metrics.csv every EVAL_EVERY steps.
# Runs outside git (runs/ is ignored); never commit the checkpoint or the cache.
set -euo pipefail
MIX=${MIX:-mix}
OUT=${OUT:-runs/reward-model}
FLAME=${FLAME:-uv run flame}
# BASE: the model it starts from; the default judge (flame-smol) trains over its stage-1 adapter.
SETTINGS=(
  --set base_model="${BASE:-flame-smol}" --set top_layers=6 --set lora_r=16 --set lora_alpha=32 --set lr=2e-4
  --set warmup_steps=20 --set batch_pairs=8 --set epochs="${EPOCHS:-1}" --set max_steps="${MAX_STEPS:-0}"
  --set max_input_tokens=384 --set per_task=300 --set neighbour=400 --set distractor=400 --set safety_repeat=1
  --set generic_share=0.3 --set dev_per_suite=8 --set eval_every="${EVAL_EVERY:-200}" --set checkpoint_minutes=5
  --set threads="${THREADS:-2}"
)
[ -f "$MIX/mixture.json" ] || $FLAME data build --out "$MIX" --on-error skip
if [ "${1:-train}" = export ]; then
  $FLAME reward export "$OUT" --out "$OUT/judge" --name flame-rm
  exit 0
fi
if [ "${1:-train}" = ship ]; then
  # Export beside the run, then place it: the judge stays whole (and loadable) until the export has succeeded.
  rm -rf "$OUT/reward-export"
  $FLAME reward export "$OUT" --out "$OUT/reward-export" --name flame-smol-rm --adapter
  uv run python tools/place_reward.py packages/flame-judge/src/flame_judge/judges/flame-smol "$OUT/reward-export"
  echo "shipped: update the pin in test_shipped_judge.py, README's verdict and MODEL_CARD.md"
  exit 0
fi
mkdir -p "$OUT"
OMP_NUM_THREADS=${THREADS:-2} exec nice -n 19 $FLAME reward train --mixture "$MIX" --out "$OUT" "${SETTINGS[@]}" >>"$OUT/train.log" 2>&1
