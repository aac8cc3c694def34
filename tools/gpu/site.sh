# Sourced by stash.sh (calls 1-2) and reward_model.sh (call 3) on the device: the wheels the image
# lacks installed beside its own torch/transformers/peft into $W/site, flame from this tree on
# PYTHONPATH, and its `flame` subcommands declared by a small dist-info (they are entry points).
# Needs W, PY and PIP set; the wheels come from the stash (call 1 leaves them) or .gpu/1.
WHEELS_DIR=$(ls -d runs/gpu-stash/wheels .gpu/1/wheels 2>/dev/null | head -1 || true)
[ -n "$WHEELS_DIR" ] || { echo "site: no wheels: run call 1 (tools/gpu/stash.sh 1) on this warm machine first" >&2; return 3; }
mkdir -p "$W/site"
$PIP install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$W/site" "$WHEELS_DIR"/*.whl
export PYTHONPATH=$W/site:$PWD/packages/flame-data/src:$PWD/packages/flame-judge/src:$PWD/packages/flame-train/src
$PY - "$W/site" <<'PY'
import sys, tomllib
from importlib.metadata import entry_points
from pathlib import Path
if entry_points(group="flame.commands"):
    sys.exit(0)  # flame is installed here already (the CPU rehearsal in the project's venv)
info = Path(sys.argv[1]) / "flame_source-0.dist-info"
info.mkdir(exist_ok=True)
(info / "METADATA").write_text("Metadata-Version: 2.1\nName: flame-source\nVersion: 0\n")
lines = ["[flame.commands]"]
for name in ("flame-data", "flame-judge", "flame-train"):
    project = tomllib.loads(Path(f"packages/{name}/pyproject.toml").read_text())["project"]
    lines += [f"{k} = {v}" for k, v in project["entry-points"]["flame.commands"].items()]
(info / "entry_points.txt").write_text("\n".join(lines) + "\n")
PY
export FLAME_CACHE_DIR=$W/cache HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
