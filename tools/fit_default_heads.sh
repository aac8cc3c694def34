#!/usr/bin/env bash
# Fit flame-smol's heads on the frozen hidden states of its stage-1 adapter, on CPU:
#   - the pairwise reward head (Bradley-Terry, no length feature) on the reward model's training pool:
#     human pairs balanced so length carries no signal, plus pairs whose winner is known by
#     construction (neighbour prompt, distractor, forged verdict line, truncation, XSTest refusal and
#     compliance), all from the train split; its L2 strength chosen on the dev split's human pairs and
#     robustness suites together (each kind counts the same); XSTest refusal pairs weighted 0.5;
#   - the rater head on train rows plus forged-verdict copies and generic-template renderings, chosen on
#     dev rows, in two fits: first pointwise (ordinal) on the pointwise tasks' rows together with a
#     classification head whose standardization both share; then the classification head refitted
#     (scores per label set) on the classification tasks' rows sampled with each gold label in an equal
#     share plus copies with a neutral sentence appended (label unchanged), keeping the pointwise head.
#     No temperatures: fitted on dev they did not hold up on test (MODEL_CARD.md). Last, the pointwise
#     head refitted (rater head 4), keeping that classification head: its weights shrunk toward the
#     reward head's direction and fitted with a score offset per task, chosen on a larger dev read.
#     A rerun reproduces the recipe, not the bytes: the standardization every shipped head reads
#     (rater head 2's) was read from the collection as first built (95,223 train rows), rater head 3's
#     classification rows from the 2026-12-02 rebuild (95,256), and its fit was run with the judge
#     then shipped as --judge; rater head 4 (pointwise) was read from the rebuild and fitted with the
#     judge shipping rater head 3 as --judge. To refit only the pointwise head of the shipped judge,
#     run the pointwise feature reads and the last fit with --judge packages/flame-judge/src/flame_judge/judges/flame-smol.
#
#   tools/fit_default_heads.sh [JUDGE] [OUT]
#
# JUDGE: the stage-1 judge (default: the shipped flame-smol, whose adapter is stage 1; its heads are
# replaced). OUT (default runs/heads): features/ and judge/ (the judge to ship: copy it over
# packages/flame-judge/src/flame_judge/judges/flame-smol). Features resume where a killed run stopped.
# Measured on 2 CPU cores (no GPU): 55 min for the 3,753 train pairs, 13 min for the dev pairs and
# suites, about 6 + 4 + 6 min for the rater dev rows, 31 min for the 3,719 classification train rows
# and 38 min for the 3,450 pointwise ones, 42 min for the 4,463 classification rows with benign
# copies, 12 min for the 852 pointwise dev rows at 48 per task; each fit takes under a minute.
set -euo pipefail
JUDGE=${1:-packages/flame-judge/src/flame_judge/judges/flame-smol}
OUT=${2:-runs/heads}
MIX=${MIX:-mix}
FLAME=${FLAME:-uv run flame}
F="$OUT/features"

[ -f "$MIX/mixture.json" ] || $FLAME data build --out "$MIX" --on-error skip
$FLAME reward features --mixture "$MIX" --model "$JUDGE" --split dev --pairs suites --per-task 32 --out "$F/dev-suites"
$FLAME reward features --mixture "$MIX" --model "$JUDGE" --split dev --per-task 16 --seed 1 --out "$F/dev-human"
$FLAME reward features --mixture "$MIX" --model "$JUDGE" --split train --pairs pool --per-task 100 \
  --neighbour 200 --distractor 200 --safety-repeat 1 --out "$F/train-pool"
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split dev --per-task 16 --seed 1 --out "$F/rater-dev"
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split dev --task-types pointwise --per-task 16 --seed 1 \
  --out "$F/rater-dev-pw"
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split dev --task-types classification --per-task 64 --seed 3 \
  --out "$F/rater-dev-cls"
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split train --task-types classification --balance-labels \
  --per-task 250 --seed 2 --forged 0.25 --generic 0.3 --out "$F/rater-train-cls"
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split train --task-types pointwise --per-task 120 --seed 2 \
  --forged 0.25 --generic 0.3 --out "$F/rater-train-pw"
$FLAME reward fit --train "$F/train-pool" --dev "$F/dev-suites" "$F/dev-human" --no-length \
  --kind-weight refusal=0.5 --judge "$JUDGE" --out "$OUT/pairwise" --name flame-smol
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split train --task-types classification --balance-labels \
  --per-task 250 --seed 2 --forged 0.25 --generic 0.3 --benign 0.25 --out "$F/rater-train-cls-b"
$FLAME rater fit --train "$F/rater-train-pw" "$F/rater-train-cls" --dev "$F/rater-dev" "$F/rater-dev-pw" "$F/rater-dev-cls" \
  --judge "$OUT/pairwise" --out "$OUT/rater2" --name flame-smol --no-length --no-temperature
$FLAME rater fit --train "$F/rater-train-cls-b" --dev "$F/rater-dev-cls" --judge "$OUT/rater2" --out "$OUT/rater3" \
  --name flame-smol --heads classification --keep-others --per-label-set --no-length --no-temperature
$FLAME rater features --mixture "$MIX" --model "$JUDGE" --split dev --task-types pointwise --per-task 48 --seed 5 \
  --out "$F/rater-dev-pw48"
$FLAME rater fit --train "$F/rater-train-pw" --dev "$F/rater-dev-pw48" "$F/rater-dev-pw" --judge "$OUT/rater3" \
  --out "$OUT/judge" --name flame-smol --heads pointwise --keep-others --no-length --no-temperature \
  --reward-prior --task-offsets
