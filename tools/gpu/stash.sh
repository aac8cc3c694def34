#!/usr/bin/env bash
# On the device, calls 1 and 2 of tools/gpu/README.md: keep this call's part of the base (and, in
# call 1, the wheels) in runs/ (ignored, so it stays on the warm machine for the next call); call 1
# then preflights what only runs there: the wheels, flame's commands, two reward-model steps on the GPU.
# A failure here costs one short call, not the training call.
set -euo pipefail
N=${1:?usage: tools/gpu/stash.sh 1|2}
PY=${PYTHON:-python3}
PIP=${PIP:-$PY -m pip}
W=${WORK:-/tmp/flame-gpu}
DEVICE=${DEVICE:-cuda}
mkdir -p runs/gpu-stash
cp -r ".gpu/$N"/* runs/gpu-stash/
ls -l runs/gpu-stash
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi here"
"$PY" -c 'import torch, transformers, peft, accelerate; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__)'
# Once is enough (each start of torch on the device costs seconds of the lease): call 1 preflights.
if [ "$N" = 1 ]; then
  # shellcheck source=tools/gpu/site.sh
  source tools/gpu/site.sh
  "$PY" tools/gpu/preflight.py "$DEVICE"
fi
