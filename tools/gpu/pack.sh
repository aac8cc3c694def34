#!/usr/bin/env bash
# Here, before a device lease: pack what the GPU run needs into .gpu/1, .gpu/2 and .gpu/3 (ignored),
# one folder per device call, each call under the 64 MiB a call may carry with the working tree.
# Why three: the base GGUF alone is 98 MB, the collection's data 20 MB packed; the repo travels
# with every call (~23 MB). The order of the calls is in tools/gpu/README.md.
#
#   tools/gpu/pack.sh                 # wheels for the device's Python 3.12
#   PYVER=3.11 tools/gpu/pack.sh      # wheels for this machine's Python (the CPU rehearsal)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
DATA=${FLAME_DATA_DIR:-../shared/data}
PYVER=${PYVER:-3.12}
LIMIT=$((64 * 1024 * 1024))
[ -d "$DATA" ] || { echo "pack: no data folder at $DATA (set FLAME_DATA_DIR)" >&2; exit 2; }
rm -rf .gpu
mkdir -p .gpu/1/wheels .gpu/2 .gpu/3 .gpu/base-files
# The dependencies the device image lacks (KINDS.md's list), in call 1 so that its preflight installs
# them; flame itself runs from the tree there (a wheel of flame-judge would carry the shipped judge again).
pin() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/[^0-9.]/, ""); print; exit }' uv.lock; }
WHEELS=()
for name in datasets dill multiprocess gguf platformdirs; do WHEELS+=("$name==$(pin "$name")"); done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .gpu/1/wheels "${WHEELS[@]}"
tar -C "$(dirname "$DATA")" -cJf .gpu/3/data.tar.xz "$(basename "$DATA")"
# The converted base's small files and digests here (tools/gpu/base_files.py): the device's
# transformers writes other bytes into config.json over the same weights.
uv run python tools/gpu/base_files.py pack .gpu/base-files
tar -C .gpu/base-files -cJf .gpu/3/base-files.tar.xz . && rm -rf .gpu/base-files
# The base GGUF in three parts, sized so the three calls carry about the same.
GGUF=$(uv run python -c 'from flame_judge.loading import default_gguf_path; print(default_gguf_path())')
size=$(stat -c %s "$GGUF")
e1=$(du -sb .gpu/1 | cut -f1)
e3=$(du -sb .gpu/3 | cut -f1)
share=$(((size + e1 + e3 + 2) / 3))
p0=$((share - e1)) p1=$share
cut_part() { dd if="$GGUF" of="$1" bs=1M iflag=skip_bytes,count_bytes skip="$2" ${3:+count="$3"} status=none; }
cut_part .gpu/1/base.part0 0 "$p0"
cut_part .gpu/2/base.part1 "$p0" "$p1"
cut_part .gpu/3/base.part2 $((p0 + p1))
[ $(($(stat -c %s .gpu/1/base.part0) + $(stat -c %s .gpu/2/base.part1) + $(stat -c %s .gpu/3/base.part2))) -eq "$size" ] ||
  { echo "pack: the parts do not add up to the GGUF" >&2; exit 2; }
sha256sum "$GGUF" | cut -d' ' -f1 >.gpu/3/base.sha256
# What each call carries: the working tree (tracked + untracked, not ignored) plus its folder.
TREE=$( (git ls-files -z; git ls-files -z -o --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
for n in 1 2 3; do
  size=$((TREE + $(du -sb ".gpu/$n" | cut -f1)))
  echo "call $n carries $((size / 1000000)) MB of $((LIMIT / 1000000)) MB"
  [ "$size" -lt "$LIMIT" ] || { echo "pack: call $n is over the device's 64 MiB" >&2; exit 1; }
done
