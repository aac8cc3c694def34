"""Provenance written into a judge's `flame.json`: what was built, from which data, by which command.

A path on the training machine (often a temporary folder) says nothing once that machine is gone, so
a mixture is described by its content: the build settings `flame data build` recorded in its
`stats.json` (data folder, license filter, cap, seed), its task and row counts, and a digest of its
manifest, which a rebuild with the same settings and data reproduces.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any


def command_line(argv: list[str] | None = None) -> str:
    """The command that is running, as a user would type it (`flame export ...`)."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["flame", *args])


def describe_mixture(path: str | Path | None) -> dict[str, Any] | None:
    """A built mixture by content; only its path (and that it was not found) if it is not there."""
    if not path:
        return None
    folder = Path(path)
    described: dict[str, Any] = {"path_at_build": str(path)}
    stats_path, rates_path = folder / "stats.json", folder / "mixture.json"
    try:
        stats = json.loads(stats_path.read_text())
        rates = rates_path.read_bytes()
    except (OSError, ValueError):
        described["found"] = False
        return described
    rows: dict[str, int] = {}
    for task in stats.get("tasks", []):
        for split, n in task.get("written", {}).items():
            rows[split] = rows.get(split, 0) + int(n)
    config = stats.get("config", {})
    described.update(
        {
            "built_with": _build_command(config),
            "build_config": config,
            "tasks": len(stats.get("tasks", [])),
            "rows": rows,
            "digest": _digest(rates, stats.get("tasks", [])),
        }
    )
    return described


def _digest(rates: bytes, tasks: list[Any]) -> str:
    """Over the sampling rates and the per-task counts: what a rebuild must reproduce (not the timing)."""
    return hashlib.sha256(rates + json.dumps(tasks, sort_keys=True).encode()).hexdigest()[:16]


def _build_command(config: dict[str, Any]) -> str:
    """The `flame data build` command with these settings (weights and decontamination files, when
    used, are in `build_config`)."""
    args = ["data", "build", "--out", "MIX"]
    if config.get("data_dir"):
        args += ["--data-dir", str(config["data_dir"])]
    if config.get("datasets"):
        args += ["--datasets", *map(str, config["datasets"])]
    if config.get("licenses"):
        args += ["--licenses", ",".join(map(str, config["licenses"]))]
    for flag in ("cap", "seed"):
        if config.get(flag) is not None:
            args += [f"--{flag}", str(config[flag])]
    if config.get("on_error"):
        args += ["--on-error", str(config["on_error"])]
    return command_line(args)


def describe_file(path: str | Path | None) -> dict[str, Any] | None:
    """A large derived file (an encoded token set) by path and size: it is rebuilt, not shipped."""
    if not path:
        return None
    file = Path(path)
    described: dict[str, Any] = {"path_at_build": str(path)}
    described.update({"bytes": file.stat().st_size} if file.exists() else {"found": False})
    return described
