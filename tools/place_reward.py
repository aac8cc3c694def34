"""Make a reward LoRA the pairwise part of a judge folder: `pairwise_judge: reward`, its base the judge
itself (".."), the judge's previous reward head removed (git history keeps the shipped one), and both
fingerprints recomputed, the reward part's first (the judge's covers it).

    uv run python tools/place_reward.py JUDGE REWARD

REWARD is a folder written by `flame reward export RUN --adapter` (here, or on the GPU by
tools/gpu/reward_model.sh) over this judge. It must have been trained over this judge's hidden
states: a reward LoRA trained over an earlier adapter would load but score other states.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any


def fail(message: str) -> None:
    print(f"place_reward: {message}", file=sys.stderr)
    raise SystemExit(2)


def rewrite(folder: Path, drop: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    meta = {k: v for k, v in json.loads((folder / "flame.json").read_text()).items() if k not in drop} | changes
    (folder / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def place(judge: Path, reward: Path) -> str:
    from flame_judge.loading import hidden_states_of

    for folder, what in ((judge, "judge"), (reward, "reward")):
        if not (folder / "flame.json").is_file():
            fail(f"{folder} has no flame.json: not a flame {what} folder")
    meta = json.loads((reward / "flame.json").read_text())
    if (meta.get("kind"), meta.get("format")) != ("reward", "lora"):
        fail(
            f"{reward} is not a reward LoRA (kind {meta.get('kind')!r}, format {meta.get('format')!r}): "
            "export it with --adapter"
        )
    own = json.loads((judge / "flame.json").read_text()).get("name")
    expected = (meta.get("reward_model") or {}).get("base_hidden_states")
    if expected is not None:  # the exact test: the states it was trained over are the judge's
        found = hidden_states_of(judge)
        if expected != found:
            fail(f"{reward} was trained over hidden states {expected}, but {judge} gives {found} (retrained since?)")
    elif meta.get("base") not in ("..", own):  # an export older than that record: its base's name at least
        fail(f"{reward} was trained over {meta.get('base')!r}, not over this judge ({own!r})")
    # Everything happens in a copy beside the judge, which must load before it replaces the judge:
    # a failure half-way leaves the judge as it was.
    work = judge.with_name(f".{judge.name}.placing")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(judge, work)
    try:
        fingerprint = _place_in(work, reward)
        from flame_judge import Judge

        Judge.load(work, cache=False).pairwise("Say hi.", "Hi!", "Hello.")  # loads lazily: score one pair
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = judge.with_name(f".{judge.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    judge.rename(old)
    try:
        work.rename(judge)
    except BaseException:
        old.rename(judge)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return fingerprint


def _place_in(judge: Path, reward: Path) -> str:
    from flame_judge.loading import fingerprint_of

    shutil.rmtree(judge / "reward", ignore_errors=True)
    shutil.copytree(reward, judge / "reward")
    rewrite(judge / "reward", base="..")
    (judge / "reward_head.safetensors").unlink(missing_ok=True)
    top = rewrite(judge, drop=("reward_head",), pairwise_judge="reward")
    part = json.loads((judge / "reward" / "flame.json").read_text())
    rewrite(judge / "reward", fingerprint=fingerprint_of(part["name"], judge / "reward"))
    return rewrite(judge, fingerprint=fingerprint_of(top["name"], judge))["fingerprint"]


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: tools/place_reward.py JUDGE REWARD")
    print(place(Path(sys.argv[1]), Path(sys.argv[2])))
