"""Probe: does the linear reward head gain from more human pairs? A learning curve on one read.

Fits the head (`flame reward fit`'s fit: no length feature, XSTest refusal pairs weighted 0.5, L2
chosen by dev log-loss over kinds) on a features folder of the reward pool with its human pairs
subsampled per task (every constructed pair kept), and prints each fit's L2 grid on the same dev
pairs, so only the number of human pairs changes.

    uv run python tools/probes/reward_curve.py --train runs/h3/features/rm1-pool \
        --dev runs/h3/features/dev-suites runs/h3/features/dev-human --per-task 100 300
"""

from __future__ import annotations

import argparse
import dataclasses
import random

import torch

from flame_train.reward import FeatureSet, fit_head, merge_features, read_features


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


if __name__ == "__main__":
    main()
