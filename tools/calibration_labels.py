"""Build a labelled file for `flame calibrate` from a built mixture's test split (pairwise tasks).

Each row is in the `flame judge batch` format plus the human `label`; the criteria name the task's
aspect, so the calibration report gives one line per aspect. Shorter items are preferred (seeded),
so the file judges in a few minutes on a CPU.

uv run flame data build --out /tmp/mix --on-error skip
uv run python tools/calibration_labels.py /tmp/mix /tmp/labels.jsonl --per-task 50
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

# task -> criteria for the judge (the aspect the people judged)
TASKS = {
    "hh_rlhf/helpful": "helpfulness",
    "hh_rlhf/harmless": "harmlessness",
    "summeval/coherence_pairwise": "coherence of the summary",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mixture", type=Path, help="a folder written by `flame data build`")
    parser.add_argument("out", type=Path, help="JSONL to write")
    parser.add_argument("--per-task", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from datasets import load_from_disk

    data: Any = load_from_disk(str(args.mixture / "data"))["test"]
    rows: dict[str, list[dict[str, object]]] = {t: [] for t in TASKS}
    for row in data.to_list():
        if row["task"] not in TASKS:
            continue
        fields = json.loads(row["fields"])
        label = json.loads(row["target_fields"])[0][1]
        context = "\n\n".join(text for _, text in fields[:-2])
        rows[row["task"]].append(
            {
                "id": row["id"],
                "prompt": context,
                "a": fields[-2][1],
                "b": fields[-1][1],
                "criteria": TASKS[row["task"]],
                "label": label,
            }
        )
    rng = random.Random(args.seed)
    out = []
    for task in TASKS:
        short = sorted(rows[task], key=lambda r: (len(str(r["prompt"])) + len(str(r["a"])) + len(str(r["b"])), r["id"]))
        pool = short[: 3 * args.per_task]
        out += rng.sample(pool, min(args.per_task, len(pool)))
    with args.out.open("w", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(out)} labelled rows to {args.out}")


if __name__ == "__main__":
    main()
