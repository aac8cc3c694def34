"""Probe: would a reward-style judge (each response scored alone, Bradley-Terry) beat longer-wins?

Scores every response of N train and M dev pairwise rows of a built mixture with a frozen judge
(last-token and mean hidden states of two layers), fits a linear Bradley-Terry head on the train
feature differences for several L2 strengths, and prints dev accuracy beside longer-wins on the
same dev pairs. CPU-friendly; a measurement for choosing the next training run, not a product.

    uv run python tools/probes/reward_head.py --mixture mix --train 500 --dev 300
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np
import torch

from flame_judge.loading import load
from flame_judge.metrics import pair_credit
from flame_train.data import load_split
from flame_train.reward import fit_bradley_terry

Pair = tuple[list[list[str]], str, str, bool]  # context fields, response A, response B, A won


def pairs(mixture: str, split: str, n: int, seed: int) -> list[Pair]:
    out: list[Pair] = []
    for row in load_split(mixture, split):
        if row["task_type"] != "pairwise" or "explanation" in row["target_fields"]:
            continue
        fields = json.loads(row["fields"])
        gold = json.loads(row["target_fields"])[0][1]
        if gold in ("A", "B"):
            out.append((fields[:-2], fields[-2][1], fields[-1][1], gold == "A"))
    random.Random(seed).shuffle(out)
    return out[:n]


def features(loaded: Any, items: list[Pair], max_tokens: int, layer: int) -> np.ndarray:
    tok, model = loaded.tokenizer, loaded.model
    half = max_tokens // 2
    rows = []
    start = time.perf_counter()
    with torch.no_grad():
        for i, (context, a, b, _) in enumerate(items):
            both = []
            for response in (a, b):
                user = tok.decode(tok.encode("\n".join(f"{k}: {v}" for k, v in context))[:half])
                reply = tok.decode(tok.encode(response)[:half])
                chat = [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
                ids = tok(tok.apply_chat_template(chat, tokenize=False), return_tensors="pt")
                hidden = model(**ids, output_hidden_states=True).hidden_states
                top, mid = hidden[-1][0], hidden[layer][0]
                both.append(torch.cat([top[-1], top.mean(0), mid[-1], mid.mean(0)]).float().numpy())
            rows.append(both)
            if i % 100 == 0:
                print(f"  {i}/{len(items)} pairs, {time.perf_counter() - start:.0f} s", flush=True)
    return np.array(rows)


def fit(x: np.ndarray, y: np.ndarray, lam: float) -> torch.Tensor:
    """Linear Bradley-Terry, no intercept: the same fit `flame reward fit` uses."""
    return fit_bradley_terry(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64), lam)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--model", default=None, help="judge whose features are used (default: the default judge)")
    parser.add_argument("--train", type=int, default=500)
    parser.add_argument("--dev", type=int, default=300)
    parser.add_argument("--max-tokens", type=int, default=384, help="per response: half context, half response")
    parser.add_argument("--layer", type=int, default=20, help="the second hidden layer read (the last is always)")
    args = parser.parse_args()

    torch.set_num_threads(max(1, torch.get_num_threads()))
    loaded = load(args.model, device="cpu", eager=True)
    train, dev = pairs(args.mixture, "train", args.train, 0), pairs(args.mixture, "dev", args.dev, 1)
    f_train = features(loaded, train, args.max_tokens, args.layer)
    f_dev = features(loaded, dev, args.max_tokens, args.layer)
    x, xd = f_train[:, 0] - f_train[:, 1], f_dev[:, 0] - f_dev[:, 1]
    scale = np.abs(x).mean(0) + 1e-6
    x, xd = x / scale, xd / scale
    y, yd = np.array([p[3] for p in train]), np.array([p[3] for p in dev])
    for lam in (1.0, 10.0, 100.0, 1000.0):
        w = fit(x, y, lam).numpy()
        print(f"L2 {lam:>6}: train {((x @ w > 0) == y).mean():.3f}  dev {((xd @ w > 0) == yd).mean():.3f}")
    # Equal lengths get half credit (metrics.pair_credit), never a side.
    credits = []
    for _, a, b, won in dev:
        p = 0.5 if len(a) == len(b) else float(len(a) > len(b))
        credits.append(pair_credit(p, p, "A" if won else "B"))
    longer = np.mean(credits)
    print(f"longer wins on the same dev pairs: {longer:.3f} ({len(dev)} pairs)")


if __name__ == "__main__":
    main()
