"""Why did the stage-1 generative adapter leave the pairwise A/B label at chance? Measurements that
need no training: the label token's share of the loss, where the label sits, and what truncation
to the training length leaves of the two responses.

    nice -n 10 uv run python tools/probes/stage1_pairwise.py --mixture mix --per-task 100

It encodes rows exactly as `flame train` does (`flame_train.data.Encoder`, max_length 512, the
flame-smol config) and weights tasks by the mixture's sampling rates, as the run sampled them.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from flame_data.format import TRUNCATION_MARKER, fit_inputs, render_target
from flame_judge.loading import load
from flame_judge.prompting import TokenizerView
from flame_train.data import Encoder, load_split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mixture", default="mix")
    parser.add_argument("--per-task", type=int, default=100)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--generative", type=int, default=0, help="also read P(A) of N dev pairs, both orders")
    args = parser.parse_args()
    tokenizer = load(None, device="cpu").tokenizer
    view = TokenizerView(tokenizer)
    enc = Encoder(tokenizer, args.max_length)
    rates = json.loads(Path(args.mixture, "mixture.json").read_text())["rates"]
    rows = load_split(args.mixture, "train")
    by_task: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_task[r["task"]].append(r)
    rng = random.Random(0)

    # 1. Target tokens per sequence by task type, weighted by sampling rate: the A/B label is one of them.
    targets: dict[str, float] = defaultdict(float)
    label_weight = 0.0
    for task, group in by_task.items():
        sample = rng.sample(group, min(args.per_task, len(group)))
        n = sum(len(enc.row(r).labels) - enc.row(r).labels.count(-100) for r in sample) / len(sample)
        targets[group[0]["task_type"]] += rates.get(task, 0.0) * n
        if group[0]["task_type"] == "pairwise":
            label_weight += rates.get(task, 0.0)  # one label token per pairwise sequence
    total = sum(targets.values())
    pairwise_rate = sum(rates.get(t, 0.0) for t, g in by_task.items() if g[0]["task_type"] == "pairwise")
    print("target tokens per sampled sequence (rate-weighted):")
    for kind, value in sorted(targets.items()):
        print(f"  {kind}: {value / total:.3f} of all target tokens")
    print(f"  pairwise sequences: {pairwise_rate:.3f} of the samples")
    print(f"  the A/B label token: {label_weight / total:.4f} of all target tokens in the loss")
    eos = tokenizer.eos_token
    ids = view.encode(render_target([("answer", "A")]) + (eos if isinstance(eos, str) else ""))
    print(f"  a pairwise target is {len(ids)} tokens: {[view.decode([i]) for i in ids]}")

    # 2. What truncation to max_length leaves of the two responses of pairwise rows.
    cut_rows = 0
    kept_fracs: list[float] = []
    identical_after = 0
    n_rows = 0
    budget = args.max_length - enc._overhead - len(ids)
    for group in by_task.values():
        if group[0]["task_type"] != "pairwise":
            continue
        for r in rng.sample(group, min(args.per_task, len(group))):
            fields = [tuple(f) for f in json.loads(r["fields"])]
            spec = enc.specs[r["task"]]
            fitted = fit_inputs(spec, fields, max_tokens=budget, tokenizer=view)  # type: ignore[arg-type]
            full = [len(view.encode(v)) for _, v in fields[-2:]]
            kept = [len(view.encode(v.removesuffix(TRUNCATION_MARKER))) for _, v in fitted[-2:]]
            n_rows += 1
            if kept != full:
                cut_rows += 1
            kept_fracs += [k / f for k, f in zip(kept, full, strict=True) if f]
            if fitted[-2][1] == fitted[-1][1]:
                identical_after += 1
    kept_fracs.sort()
    print(f"\npairwise rows at max_length {args.max_length} (sample of {n_rows}):")
    print(f"  a response cut: {cut_rows / n_rows:.3f} of rows")
    median, mean = kept_fracs[len(kept_fracs) // 2], sum(kept_fracs) / len(kept_fracs)
    print(f"  response tokens kept: median {median:.3f}, mean {mean:.3f}")
    print(f"  the two responses identical after truncation: {identical_after / n_rows:.3f} of rows")
    if args.generative:
        generative_spread(args.mixture, args.generative, args.max_length)


def generative_spread(mixture: str, n: int, max_length: int) -> None:
    """P(A) of the stage-1 adapter (flame-smol's generative path) in both orders on n dev pairs.

    A label that learned only the prior sits at P(A) ~ 0.5 in both orders whatever the content;
    one that reads the content moves with the gold answer and flips with the order.
    """
    import math

    from flame_judge.scoring import GenerativeBackend

    backend = GenerativeBackend(load(None, device="cpu"), max_input_tokens=max_length)
    specs = Encoder(backend.loaded.tokenizer, max_length).specs
    rows = [r for r in load_split(mixture, "dev") if r["task_type"] == "pairwise"]
    rows = [r for r in rows if json.loads(r["target_fields"])[0][1] in ("A", "B")]
    rows = random.Random(1).sample(rows, n)
    queries = []
    for r in rows:
        fields = [tuple(f) for f in json.loads(r["fields"])]
        swapped = [*fields[:-2], (fields[-2][0], fields[-1][1]), (fields[-1][0], fields[-2][1])]
        queries += [backend.prepare(specs[r["task"]], fields), backend.prepare(specs[r["task"]], swapped)]
    logps = backend.score(queries)
    p = [math.exp(lp[0]) / (math.exp(lp[0]) + math.exp(lp[1])) for lp in logps]
    first, second = p[0::2], p[1::2]
    gold_a = [json.loads(r["target_fields"])[0][1] == "A" for r in rows]
    mean = sum(p) / len(p)
    sd = math.sqrt(sum((x - mean) ** 2 for x in p) / len(p))
    gap = [f - s for f, s in zip(first, second, strict=True)]  # content signal: flips with the order
    right = sum((g > 0) == a for g, a in zip(gap, gold_a, strict=True) if g != 0) / max(1, sum(g != 0 for g in gap))
    print(
        f"\nstage-1 generative P(A), {n} dev pairs x 2 orders: mean {mean:.3f}, sd {sd:.4f}, "
        f"min {min(p):.3f}, max {max(p):.3f}"
    )
    print(
        f"  P(A | A first) - P(A | A second): mean |gap| {sum(abs(g) for g in gap) / n:.4f}; "
        f"its sign matches the gold in {right:.3f} of pairs"
    )


if __name__ == "__main__":
    main()
