"""The `flame eval` report: a table by category beside the baselines, as markdown, JSON and PNG."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flame_judge.benchmark import (
    EvalItem,
    Predictions,
    by_category,
    subset_scores,
    verdict_calibration,
)

KINDS = {"pairwise": "accuracy", "pointwise": "Spearman", "classification": "balanced accuracy"}
RELIABILITY = {  # report.json keys of the reliability bins (pairwise's predates the other two)
    "pairwise": "reliability",
    "pointwise": "pointwise_reliability",
    "classification": "classification_reliability",
}


def build_report(items: Sequence[EvalItem], runs: Sequence[Predictions]) -> dict[str, Any]:
    report: dict[str, Any] = {"items": len(items), "runs": {}}
    for pred in runs:
        scores = subset_scores(items, pred)
        run: dict[str, Any] = {
            "by_category": {kind: by_category(scores, kind) for kind in KINDS},
            "subsets": [
                {"subset": s.subset, "category": s.category, "type": s.task_type, "n": s.n, **s.metrics} for s in scores
            ],
        }
        for kind in KINDS:
            cal = verdict_calibration(kind, items, pred)
            run[f"{kind}_ece"] = cal.ece
            run[f"{kind}_ece_noise"] = {"mean": cal.noise[0], "p95": cal.noise[1]}
            run[RELIABILITY[kind]] = cal.bins
        report["runs"][pred.name] = run
    return report


def _fmt(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _ece_cell(run: dict[str, Any], kind: str) -> str:
    ece, noise = run.get(f"{kind}_ece"), run.get(f"{kind}_ece_noise")
    if _fmt(ece) == "-" or noise is None:  # reports written before the noise existed have none
        return _fmt(ece)
    return f"{_fmt(ece)} ({_fmt(noise['mean'])} / {_fmt(noise['p95'])})"


def markdown(report: dict[str, Any]) -> str:
    names = list(report["runs"])
    lines = [f"# flame eval ({report['items']} items)", ""]
    for kind, metric in KINDS.items():
        cats = sorted({c for r in report["runs"].values() for c in r["by_category"][kind]} - {"overall"})
        if not cats:
            continue
        lines += [
            f"## {kind} ({metric}, example-weighted by category)",
            "",
            "| category | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for cat in [*cats, "overall"]:
            row = [_fmt(report["runs"][n]["by_category"][kind].get(cat)) for n in names]
            lines.append(f"| {'**overall**' if cat == 'overall' else cat} | " + " | ".join(row) + " |")
        lines.append("")
    lines += [
        "## calibration and order consistency",
        "",
        "| run | pairwise ECE (noise) | pointwise ECE (noise) | classification ECE (noise)"
        " | pairwise order consistency |",
        "|---|---|---|---|---|",
    ]
    for n in names:
        subsets = [s for s in report["runs"][n]["subsets"] if s["type"] == "pairwise"]
        total = sum(s["n"] for s in subsets) or 1
        consistency = sum(s["order_consistency"] * s["n"] for s in subsets) / total if subsets else float("nan")
        run = report["runs"][n]
        eces = " | ".join(_ece_cell(run, kind) for kind in ("pairwise", "pointwise", "classification"))
        lines.append(f"| {n} | {eces} | {_fmt(consistency)} |")
    lines += [
        "",
        "Noise: the mean and 95th percentile of the ECE that a perfectly calibrated judge with the same"
        " confidences scores on this many items (each verdict drawn right with its own confidence, 200 draws)."
        " An ECE below the 95th percentile is consistent with sampling noise; one above it is miscalibration.",
        "",
    ]
    return "\n".join(lines)


def plots(report: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    names = list(report["runs"])
    for kind, metric in KINDS.items():
        cats = sorted({c for r in report["runs"].values() for c in r["by_category"][kind]} - {"overall"})
        if not cats:
            continue
        cats.append("overall")
        fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(cats)), 4))
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            values = [report["runs"][n]["by_category"][kind].get(c, float("nan")) for c in cats]
            ax.bar([x + i * width for x in range(len(cats))], values, width, label=n)
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(cats))], cats, rotation=20)
        ax.set_ylabel(metric)
        ax.set_title(f"{kind} {metric} by category")
        if kind == "pairwise":
            ax.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
        ax.legend()
        fig.tight_layout()
        path = out / f"{kind}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
    for ax, title in zip(axes, ("pairwise", "pointwise", "classification"), strict=True):
        key, ece_key = RELIABILITY[title], f"{title}_ece"
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
        for n in names:
            bins = report["runs"][n].get(key)
            if bins:
                ece = report["runs"][n][ece_key]
                ax.plot([b[0] for b in bins], [b[1] for b in bins], marker="o", label=f"{n} (ECE {ece:.3f})")
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{title} reliability")
        if ax.get_legend_handles_labels()[0]:  # a run with no items of this type draws no curve
            ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "reliability.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def write(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown(report))
    return [out / "report.json", out / "report.md", *plots(report, out)]
