"""Task tables and mixture charts from a built mixture's stats.json."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from flame_data.errors import FlameError

HEAD = ("task", "type", "category", "license", "train", "dev", "test")


def load_stats(out: Path) -> dict[str, Any]:
    path = out / "stats.json"
    if not path.is_file():
        raise FlameError(f"{path} does not exist; build a mixture first: flame data build --out {out}")
    return json.loads(path.read_text())


def task_rows(stats: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for t in stats["tasks"]:
        w = t["written"]
        if sum(w.values()) == 0:
            continue
        rows.append(
            (
                t["task"],
                t["task_type"],
                t["category"],
                t["license"],
                str(w["train"]),
                str(w["dev"]),
                str(w["test"]),
            )
        )
    return rows


def plain_table(rows: list[tuple[str, ...]], head: tuple[str, ...] = HEAD) -> str:
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if c.isdigit() else c.ljust(w) for c, w in zip(r, widths, strict=True))

    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)])


def markdown_table(rows: list[tuple[str, ...]], head: tuple[str, ...] = HEAD) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def summary(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Train examples and task counts by task type and by category."""
    by: dict[str, dict[str, int]] = {
        "type": defaultdict(int),
        "category": defaultdict(int),
        "tasks_by_type": defaultdict(int),
        "tasks_by_category": defaultdict(int),
    }
    for t in stats["tasks"]:
        if sum(t["written"].values()) == 0:
            continue
        by["type"][t["task_type"]] += t["written"]["train"]
        by["category"][t["category"]] += t["written"]["train"]
        by["tasks_by_type"][t["task_type"]] += 1
        by["tasks_by_category"][t["category"]] += 1
    return {k: dict(v) for k, v in by.items()}


def write_report(stats: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """stats.md (the task table and the summary) and mixture.png (train examples by type and category)."""
    rows = task_rows(stats)
    parts = summary(stats)
    md = [
        "# FLAMe mixture",
        "",
        f"{len(rows)} tasks, built in {stats['seconds']} s.",
        "",
        markdown_table(
            [(k, str(v), str(parts["type"][k])) for k, v in sorted(parts["tasks_by_type"].items())],
            ("task type", "tasks", "train examples"),
        ),
        "",
        markdown_table(
            [(k, str(v), str(parts["category"][k])) for k, v in sorted(parts["tasks_by_category"].items())],
            ("category", "tasks", "train examples"),
        ),
        "",
        markdown_table(rows),
        "",
    ]
    md_path = out / "stats.md"
    md_path.write_text("\n".join(md))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise FlameError("the chart needs the build extra: pip install 'flame-data[build]'") from exc
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, title in (
        (axes[0], "type", "by task type"),
        (axes[1], "category", "by capability category"),
    ):
        items = sorted(parts[key].items(), key=lambda kv: -kv[1])
        ax.barh([k for k, _ in items], [v for _, v in items], color="#c0504d")
        ax.invert_yaxis()
        ax.set_title(f"Train examples {title}")
        ax.set_xlabel("examples (after the per-task cap)")
    fig.tight_layout()
    png = out / "mixture.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return md_path, png
