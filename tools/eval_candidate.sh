#!/usr/bin/env bash
# Measure a reward LoRA as the default judge's pairwise part, on the CPU, on the very items the shipped
# judge's reports use (docs/flame-smol/heads/pairwise64, robustness24, bias): a copy of flame-smol with
# REWARD placed in it (tools/place_reward.py), then the three evaluations, ~17 min on 2 cores.
#
#   tools/eval_candidate.sh REWARD [OUT]     # REWARD: `flame reward export RUN --adapter` output, or the
#                                            # reward/ folder a GPU run brought back; OUT: runs/cand
set -euo pipefail
REWARD=${1:?usage: tools/eval_candidate.sh REWARD [OUT]}
OUT=${2:-runs/cand}
MIX=${MIX:-mix}
FLAME=${FLAME:-uv run flame}
J=$OUT/judge
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r packages/flame-judge/src/flame_judge/judges/flame-smol "$J"
uv run python tools/place_reward.py "$J" "$REWARD"
[ -f "$MIX/mixture.json" ] || $FLAME data build --out "$MIX" --on-error skip
$FLAME eval --mixture "$MIX" --task-types pairwise --per-task 64 --baseline-model none --model "$J" --out "$OUT/pairwise64"
$FLAME eval robustness --mixture "$MIX" --split test --per-suite 24 --baseline-model none --model "$J" --out "$OUT/robustness24"
$FLAME eval bias --mixture "$MIX" --items 16 --model "$J" --out "$OUT/bias"
