"""Plot a `flame train` run: the training loss (logged steps and a moving average) and the dev metrics.

uv run python tools/plot_run.py runs/flame-smol/metrics.csv docs/flame-smol/training.png
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("metrics", type=Path, help="metrics.csv written by flame train")
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--window", type=int, default=5, help="moving-average window, in logged rows")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(args.metrics.open()))
    steps = [int(r["step"]) for r in rows]
    loss = [float(r["loss"]) for r in rows]
    smooth = [
        sum(loss[max(0, i - args.window + 1) : i + 1]) / len(loss[max(0, i - args.window + 1) : i + 1])
        for i in range(len(loss))
    ]
    evals = [(int(r["step"]), json.loads(r["eval"])) for r in rows if r["eval"]]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(steps, loss, ".", alpha=0.35, label="batch loss (logged steps)")
    left.plot(steps, smooth, "-", label=f"moving average ({args.window})")
    left.set(xlabel="step", ylabel="mean target-token loss", yscale="log", title="training loss")
    left.legend()
    for key in sorted({k for _, e in evals for k in e}):
        right.plot([s for s, e in evals if key in e], [e[key] for _, e in evals if key in e], "o-", label=key)
    right.set(xlabel="step", title="dev metrics")
    right.axhline(0.5, color="grey", lw=0.5)
    right.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
