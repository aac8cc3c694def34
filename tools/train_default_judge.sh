#!/usr/bin/env bash
# Reproduce the shipped default judge, flame-smol: build the collection, tokenize it once, train the
# LoRA adapter, export it compactly, fit its reward head and evaluate it beside the baselines.
#
#   tools/train_default_judge.sh [STEPS]      (default 450, the shipped run)
#
# Stage 1 (multitask LoRA) is written for one CUDA GPU: the shipped run took 3.9 min of training on an
# H200 (450 steps x 64 sequences x <=512 tokens, 10.5M tokens, 45k tokens/s); a CPU runs it at roughly
# 1/200 of that speed. Stage 2 (the Bradley-Terry reward head for pairwise verdicts) reads 200 train pairs
# per pairwise task with the frozen stage-1 judge and fits a linear head: about 45 min on 2 CPU cores.
# Outputs: mix/ (collection), runs/flame-smol/ (checkpoints, metrics.csv), runs/flame-smol/judge
# (stage 1), runs/flame-smol/rm/ (features), runs/flame-smol/judge-rm (the judge that ships),
# runs/flame-smol/eval (report). To ship it, copy judge-rm over
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
$FLAME reward features --mixture "$MIX" --model "$OUT/judge" --split train --per-task 200 --out "$OUT/rm/train"
$FLAME reward features --mixture "$MIX" --model "$OUT/judge" --split dev --per-task 32 --seed 1 --out "$OUT/rm/dev"
$FLAME reward fit --train "$OUT/rm/train" --dev "$OUT/rm/dev" --judge "$OUT/judge" --out "$OUT/judge-rm" --name flame-smol
$FLAME eval --mixture "$MIX" --model "$OUT/judge-rm" --per-task 64 --max-input-tokens 512 --out "$OUT/eval"
