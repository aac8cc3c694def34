"""The converted base must give the same digest on the device as here, or the adapter trained there
cannot be placed over this machine's judge (`tools/place_reward.py` compares hidden-states digests).

Another transformers writes its own version (and possibly other defaults) into the converted base's
config.json and tokenizer files, which are digested, while the dequantized weights are the same. So:

    python tools/gpu/base_files.py pack DEST     # here: the small files, the weights' sha256, the digests
    python tools/gpu/base_files.py align DEST    # there, after flame converted the GGUF: check and align

`align` refuses (exit 3) when the weights themselves differ: training over other weights is wasted.
It replaces only files whose content differs, then checks that flame-smol's hidden-states digest is
the one recorded here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

WEIGHTS = "model.safetensors"
RECORD = "base.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def small_files(base: Path) -> list[Path]:
    """Every file of the converted base but its weights (configs, tokenizer, chat template, flame.json)."""
    return sorted(p for p in base.iterdir() if p.is_file() and p.name != WEIGHTS and not p.name.startswith("."))


def pack(base: Path, dest: Path, hidden_states: str) -> dict:
    dest.mkdir(parents=True, exist_ok=True)
    files = {}
    for path in small_files(base):
        shutil.copy2(path, dest / path.name)
        files[path.name] = sha256(path)
    record = {"weights_sha256": sha256(base / WEIGHTS), "files": files, "hidden_states": hidden_states}
    (dest / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return record


def align(base: Path, packed: Path) -> list[str]:
    """Make the small files of `base` the packed ones: replace those that differ, remove those the
    packing machine's base does not have (named with a leading "-"); the names changed."""
    record = json.loads((packed / RECORD).read_text())
    found = sha256(base / WEIGHTS)
    if found != record["weights_sha256"]:
        raise SystemExit(
            f"base_files: the weights converted here ({found[:16]}) differ from the packing machine's "
            f"({record['weights_sha256'][:16]}): an adapter trained over them could not be placed there; stop"
        )
    replaced = []
    for path in small_files(base):  # a file the other transformers writes and this machine does not
        if path.name not in record["files"]:
            path.unlink()
            replaced.append(f"-{path.name}")
    for name, digest in sorted(record["files"].items()):
        target = base / name
        if not target.is_file() or sha256(target) != digest:
            tmp = base / f".{name}.tmp"
            shutil.copyfile(packed / name, tmp)  # a new mtime: the digest cache keys on it
            tmp.replace(target)
            replaced.append(name)
    return replaced


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("pack", "align"):
        print("usage: base_files.py pack|align DEST", file=sys.stderr)
        return 2
    from flame_judge.loading import SHIPPED, converted_base_dir, hidden_states_of

    base, dest, judge = converted_base_dir(), Path(argv[1]), SHIPPED / "flame-smol"
    if argv[0] == "pack":
        record = pack(base, dest, hidden_states_of(judge))
        print(f"base_files: packed {len(record['files'])} files, hidden states {record['hidden_states']}")
        return 0
    replaced = align(base, dest)
    want = json.loads((dest / RECORD).read_text())["hidden_states"]
    got = hidden_states_of(judge)
    if got != want:
        print(f"base_files: flame-smol's hidden states are {got} here, {want} there; stop", file=sys.stderr)
        return 3
    print(f"base_files: weights match; replaced {replaced or 'nothing'}; hidden states {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
