#!/usr/bin/env bash
# On the device, calls 1 and 2 of tools/gpu/README.md: keep this call's part of the base in runs/
# (ignored, so it stays on the warm machine for the next call) and say what the machine has.
set -euo pipefail
N=${1:?usage: tools/gpu/stash.sh 1|2}
mkdir -p runs/gpu-stash
cp ".gpu/$N"/* runs/gpu-stash/
ls -l runs/gpu-stash
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi here"
"${PYTHON:-python3}" -c 'import torch, transformers, peft, accelerate; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__)'
