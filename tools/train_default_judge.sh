#!/usr/bin/env bash
# Reproduce the shipped default judge, flame-smol: build the collection, tokenize it once, train the
# LoRA adapter, export it compactly, fit its reward head and evaluate it beside the baselines.
#
#   tools/train_default_judge.sh [STEPS]      (default 450, the shipped run)
#
# Stage 1 (multitask LoRA) is written for one CUDA GPU: the shipped run took 3.9 min of training on an
# H200 (450 steps x 64 sequences x <=512 tokens, 10.5M tokens, 45k tokens/s); a CPU runs it at roughly
# 1/200 of that speed. Stages 2 and 3 (the pairwise reward head and the pointwise rater head, fitted on
# the frozen stage-1 judge's hidden states: tools/fit_default_heads.sh) take about 100 min on 2 CPU cores.
# Outputs: mix/ (collection), runs/flame-smol/ (checkpoints, metrics.csv), runs/flame-smol/judge
# (stage 1), runs/flame-smol/heads/ (features, and heads/judge: the judge that ships),
# runs/flame-smol/eval (report). To ship it, copy heads/judge over
# packages/flame-judge/src/flame_judge/judges/flame-smol and update MODEL_CARD.md.
set -euo pipefail
STEPS=${1:-450}
MIX=${MIX:-mix}
OUT=${OUT:-runs/flame-smol}
CONFIG=packages/flame-train/configs/flame_smol.yaml
FLAME=${FLAME:-uv run flame}

[ -f "$MIX/mixture.json" ] || $FLAME data build --out "$MIX" --on-error skip
[ -f "$MIX/train.tokens" ] || $FLAME encode --config "$CONFIG" --set mixture="$MIX" --out "$MIX/train.tokens"
$FLAME train --config "$CONFIG" --set mixture="$MIX" --set encoded="$MIX/train.tokens" \
  --set output_dir="$OUT" --set max_steps="$STEPS" --set eval_every=$((STEPS / 3))
$FLAME export "$OUT/final" --out "$OUT/judge" --name flame-smol
MIX="$MIX" FLAME="$FLAME" tools/fit_default_heads.sh "$OUT/judge" "$OUT/heads"
$FLAME eval --mixture "$MIX" --model "$OUT/heads/judge" --per-task 64 --max-input-tokens 512 --out "$OUT/eval"
