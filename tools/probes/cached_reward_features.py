"""Probe: reward-head features of an end-to-end reward run's whole pool, from its cached lower states.

`flame reward train` caches, for every pair of its pool, the hidden states after the frozen lower
layers (bf16, `lower-cache/`). A reward head reads the answer-position and mean state of two layers;
when those are the cache's layer and the last one, only the top layers have to run again: a fifth of
a forward pass on this base. This writes a features folder that `flame reward fit` reads, with the
layers (cut, last) of the run's base, and first checks a few pairs against features read the plain
way (`flame reward features`, fp32 throughout): the two differ only by the cache's bf16 rounding.
The run's pool is `flame reward features --pairs pool` with the run's pool settings (`--per-task`,
`--neighbour`, `--distractor`, `--safety-repeat`, `--seed`) on the same mixture: the same pairs, the
chosen reply in the same position, so that command reproduces this folder at five times the cost.

    uv run python tools/probes/cached_reward_features.py runs/rm1 --out runs/h3/features/rm1-pool
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from flame_judge.loading import hidden_states_digest, load
from flame_judge.reward import RewardConfig, RewardFeatures, RewardView
from flame_train.reward import MANIFEST, write_chunks
from flame_train.reward_model import SplitForward, pad_states


def features_of(split: SplitForward, states: list[torch.Tensor], tokens: list[int], batch: int = 16) -> torch.Tensor:
    """[answer state, mean state] of the cut layer (the cached states) and of the last layer, then
    log1p(response tokens), per response: the columns `flame reward features` writes."""
    rows = []
    for s in range(0, len(states), batch):
        part = [t.float() for t in states[s : s + batch]]
        hidden, mask = pad_states(part)
        with torch.inference_mode():
            last = split.top_states(hidden, mask)
        for i, low in enumerate(part):
            n = low.shape[0]
            high = last[i, :n]
            length = torch.tensor([math.log1p(tokens[s + i])])
            rows.append(torch.cat([low[-1], low.mean(0), high[-1], high.mean(0), length]))
    return torch.stack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a `flame reward train` output with lower-cache/ and pairs.jsonl")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", type=int, default=4, help="pairs compared with features read the plain way")
    args = parser.parse_args()
    config = json.loads((args.run / "config.json").read_text())
    pairs = [json.loads(line) for line in (args.run / "pairs.jsonl").open()]
    loaded = load(config["base_model"], device="cpu", eager=True)
    split = SplitForward(loaded.model, int(config["top_layers"]))
    n_layers, cut = len(split.decoder.layers), split.cut
    head_config = RewardConfig((cut, n_layers), int(config["max_input_tokens"]))
    cache = args.run / "lower-cache"

    def cached(i: int) -> tuple[torch.Tensor, torch.Tensor, list[int], list[int]]:
        t = load_file(str(cache / f"{i:06d}.safetensors"))
        return t["a"], t["b"], t["ids_a"].tolist(), t["ids_b"].tolist()

    # Chosen first in the cache; the chosen reply goes where `flame reward features --pairs pool` puts
    # it (the same seeded coin), so both folders hold the same pairs in the same positions.
    coins = random.Random(f"pool-position:{config['seed']}")
    a_won = [coins.random() < 0.5 for _ in pairs]

    plain = RewardFeatures(loaded, head_config)
    view = RewardView(loaded, head_config.max_input_tokens)
    for i in range(min(args.check, len(pairs))):
        low_a, _, ids_a, _ = cached(i)
        mine = features_of(split, [low_a], [0])[0]
        ref = plain._row(_states(loaded, ids_a, (cut, n_layers)), 0)
        rel = float((mine - ref).norm() / ref.norm())
        cos = float(torch.nn.functional.cosine_similarity(mine, ref, dim=0))
        print(f"check pair {i}: {len(ids_a)} tokens, relative difference {rel:.4f}, cosine {cos:.6f}")
        if cos < 0.999:
            raise SystemExit("cached states do not match this base's own: another base, or another rendering")

    manifest = {
        "fingerprint": loaded.fingerprint,
        "hidden_states": hidden_states_digest(loaded.directory, loaded.adapters),
        "config": head_config.to_json(),
        "ids": [f"pool-{i:05d}" for i in range(len(pairs))],
        "tasks": [p["task"] for p in pairs],
        "a_won": a_won,
        "chunk": 64,
        "kinds": [p["kind"] for p in pairs],
    }
    provenance = {
        "from": f"{args.run}/lower-cache (layer {cut} states in bf16) + layers {cut + 1}-{n_layers} in fp32",
        "pairs": f"{args.run}/pairs.jsonl",
        "pool": {k: config[k] for k in ("per_task", "neighbour", "distractor", "safety_repeat", "generic_share")},
    }
    index = {pid: i for i, pid in enumerate(manifest["ids"])}

    def compute(part: list[str]) -> dict[str, torch.Tensor]:
        states, tokens = [], []
        for pid in part:
            i = index[pid]
            chosen, rejected, _, _ = cached(i)
            # the length column counts the response before any cut, as RewardView.prepare does
            n_chosen, n_rejected = view.tokens(pairs[i]["chosen"]), view.tokens(pairs[i]["rejected"])
            states += [chosen, rejected] if a_won[i] else [rejected, chosen]
            tokens += [n_chosen, n_rejected] if a_won[i] else [n_rejected, n_chosen]
        f = features_of(split, states, tokens)
        return {"a": f[0::2], "b": f[1::2]}

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_chunks(args.out, MANIFEST, manifest, manifest["ids"], compute, provenance=provenance, unit="pair")
    print(f"{len(pairs)} pairs in {time.perf_counter() - started:.0f} s -> {args.out}")


def _states(loaded: Any, ids: list[int], layers: tuple[int, ...]) -> list[torch.Tensor]:
    """Hidden states `layers` of one input, fp32, the plain way."""
    with torch.inference_mode():
        out = loaded.model.get_decoder()(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return [out.hidden_states[layer][0] for layer in layers]


if __name__ == "__main__":
    main()
