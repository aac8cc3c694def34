"""Probe: does the linear reward head gain from more human pairs? A learning curve on one read.

Fits the head (`flame reward fit`'s fit: no length feature, XSTest refusal pairs weighted 0.5, L2
chosen by dev log-loss over kinds) on a features folder of the reward pool with its human pairs
subsampled per task (every constructed pair kept), and prints each fit's L2 grid on the same dev
pairs, so only the number of human pairs changes. `--mlp H ...` also fits, on all the pairs, a
two-layer head (standardized features, dropout 0.5, H GELU units, AdamW, 12 epochs) per H and prints
its dev numbers every 3 epochs: whether a nonlinear head on the same states does better.

    uv run python tools/probes/reward_curve.py --train runs/h3/features/rm1-pool \
        --dev runs/h3/features/dev-suites runs/h3/features/dev-human --per-task 100 300
"""

from __future__ import annotations

import argparse
import dataclasses
import random

import torch

from flame_train.reward import FeatureSet, dev_kind, fit_head, merge_features, read_features


def subset(features: FeatureSet, keep: list[int]) -> FeatureSet:
    idx = torch.tensor(keep)
    manifest = dict(features.manifest)
    for key in ("ids", "tasks", "kinds"):
        manifest[key] = [features.manifest[key][i] if key != "kinds" else features.kinds[i] for i in keep]
    manifest["a_won"] = [bool(features.a_won[i]) for i in keep]
    return dataclasses.replace(
        features,
        a=features.a[idx],
        b=features.b[idx],
        a_won=features.a_won[idx],
        tasks=manifest["tasks"],
        manifest=manifest,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--train", required=True, help="features folder of a reward pool (`flame reward features --pairs pool`)"
    )
    parser.add_argument("--dev", nargs="+", required=True)
    parser.add_argument("--per-task", type=int, nargs="+", default=[100, 200, 300])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mlp", type=int, nargs="*", default=[], help="hidden sizes of two-layer heads to try")
    args = parser.parse_args()
    pool = read_features(args.train)
    dev = merge_features([read_features(d) for d in args.dev])
    by_task: dict[str, list[int]] = {}
    for i, (task, kind) in enumerate(zip(pool.tasks, pool.kinds, strict=True)):
        if kind == "human":
            by_task.setdefault(task, []).append(i)
    constructed = [i for i, kind in enumerate(pool.kinds) if kind != "human"]
    for n in args.per_task:
        rng = random.Random(args.seed)
        human = [i for task in sorted(by_task) for i in rng.sample(by_task[task], min(n, len(by_task[task])))]
        _, result = fit_head(
            subset(pool, sorted(human + constructed)), dev, length_feature=False, kind_weights={"refusal": 0.5}
        )
        print(
            f"== {n} human pairs per task ({len(human)} human + {len(constructed)} constructed): L2 {result.l2:g} kept"
        )
        for l2, row in result.grid.items():
            kinds = " ".join(f"{k}={a:.3f}" for k, a in row["dev_by_kind"].items())
            print(
                f"  L2 {float(l2):>7g}: train {row['train_accuracy']:.3f}  dev human {row['dev_accuracy']:.3f}"
                f"  dev log-loss {row['dev_log_loss']:.3f} | {kinds}"
            )
    for hidden in args.mlp:
        mlp_curve(pool, dev, hidden, seed=args.seed)


def mlp_curve(pool: FeatureSet, dev: FeatureSet, hidden: int, *, seed: int, epochs: int = 12) -> None:
    """A two-layer Bradley-Terry head on the standardized features (no length column), dev every 3 epochs."""
    import torch.nn.functional as F

    every = torch.cat([pool.a[:, :-1], pool.b[:, :-1]]).double()
    mean, scale = every.mean(0), every.std(0).clamp_min(1e-6)

    def standard(x: torch.Tensor) -> torch.Tensor:
        return ((x[:, :-1].double() - mean) / scale).float()

    xa, xb, y = standard(pool.a), standard(pool.b), pool.a_won.float()
    da, db, dy = standard(dev.a), standard(dev.b), dev.a_won.float()
    weight = torch.tensor([0.5 if k == "refusal" else 1.0 for k in pool.kinds])
    weight = weight * len(weight) / weight.sum()
    kinds = [dev_kind(k) for k in dev.kinds]
    groups = {k: torch.tensor([j for j, g in enumerate(kinds) if g == k]) for k in dict.fromkeys(kinds)}
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Dropout(0.5), torch.nn.Linear(xa.shape[1], hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1)
    )
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    print(f"== two-layer head, {hidden} hidden units, {len(y)} pairs")
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(len(y))
        for s in range(0, len(y), 128):
            i = order[s : s + 128]
            logit = (net(xa[i]) - net(xb[i])).squeeze(-1)
            loss = (F.binary_cross_entropy_with_logits(logit, y[i], reduction="none") * weight[i]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 3:
            continue
        net.eval()
        with torch.no_grad():
            logit = (net(da) - net(db)).squeeze(-1)
        right = ((logit > 0).float() == dy).float()
        losses = F.binary_cross_entropy_with_logits(logit, dy, reduction="none")
        log_loss = sum(float(losses[g].mean()) for g in groups.values()) / len(groups)
        by_kind = " ".join(f"{k}={float(right[g].mean()):.3f}" for k, g in groups.items())
        print(
            f"  epoch {epoch:>2}: dev human {float(right[groups['human']].mean()):.3f}"
            f"  dev log-loss {log_loss:.3f} | {by_kind}"
        )


if __name__ == "__main__":
    main()
