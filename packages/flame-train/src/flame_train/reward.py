"""Fit a reward-style pairwise head (Bradley-Terry) on a judge's frozen features.

    flame reward features --mixture mix --split train --per-task 200 --out runs/rm/train
    flame reward features --mixture mix --split dev --per-task 32 --out runs/rm/dev
    flame reward fit --train runs/rm/train --dev runs/rm/dev --out judges/flame-smol

Features are written in chunks and a killed run resumes where it stopped. The fit tries several
L2 strengths and keeps the one with the lowest dev log-loss; the head is stored beside the judge's
adapter, so `Judge.load()` of that folder judges pairs with it.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_train.errors import CheckpointError, ConfigError
from flame_train.outdir import replacing

if TYPE_CHECKING:
    import torch

MANIFEST = "pairs.json"
PROVENANCE = "provenance.json"  # where the pairs came from (not part of the resume check)
L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


@dataclass(frozen=True)
class Pair:
    id: str
    task: str
    fields: tuple[tuple[str, str], ...]
    a_won: bool


def reward_pairs(mixture: str | Path, split: str, *, per_task: int, seed: int = 0) -> list[Pair]:
    """A seeded sample of at most `per_task` A/B-labelled pairs per pairwise task (ties left out)."""
    from flame_train.data import load_split

    by_task: dict[str, list[Pair]] = {}
    for row in load_split(str(mixture), split):
        if row["task_type"] != "pairwise":
            continue
        gold = json.loads(row["target_fields"])[0][1]
        if gold not in ("A", "B"):
            continue
        fields = tuple((f[0], f[1]) for f in json.loads(row["fields"]))
        by_task.setdefault(row["task"], []).append(Pair(row["id"], row["task"], fields, gold == "A"))
    rng = random.Random(seed)
    out: list[Pair] = []
    for task in sorted(by_task):
        rows = sorted(by_task[task], key=lambda p: p.id)
        out.extend(rng.sample(rows, min(per_task, len(rows))))
    return out


def extract(
    pairs: list[Pair],
    out: str | Path,
    *,
    model: str | None = None,
    device: str = "auto",
    chunk: int = 64,
    layers: tuple[int, ...] = (20, 30),
    max_input_tokens: int = 384,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Features of both responses of every pair, in resumable chunks under `out`; `provenance` (where
    the pairs came from) is kept beside them for the judge a fit writes."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    from flame_data.registry import tasks as registered
    from flame_judge.loading import load
    from flame_judge.reward import RewardConfig, RewardFeatures

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loaded = load(model, device=device)
    config = RewardConfig(tuple(layers), max_input_tokens)
    manifest = {
        "fingerprint": loaded.fingerprint,
        "config": config.to_json(),
        "ids": [p.id for p in pairs],
        "tasks": [p.task for p in pairs],
        "a_won": [p.a_won for p in pairs],
        "chunk": chunk,
    }
    path = out / MANIFEST
    if path.is_file():
        old = json.loads(path.read_text())
        if old != manifest:
            raise CheckpointError(f"{out} holds features of other pairs or another judge; choose a new --out")
    else:
        path.write_text(json.dumps(manifest) + "\n")
    if provenance is not None:
        (out / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n")
    specs = {name: spec for name, (spec, _) in registered().items()}
    features = RewardFeatures(loaded, config)
    starts = range(0, len(pairs), chunk)
    todo = [s for s in starts if not (out / f"chunk-{s // chunk:05d}.safetensors").is_file()]
    bar = tqdm(total=len(pairs), initial=len(pairs) - sum(min(chunk, len(pairs) - s) for s in todo), unit="pair")
    started = time.perf_counter()
    for s in todo:
        part = pairs[s : s + chunk]
        queries = [q for p in part for q in features.prepare(specs[p.task], p.fields)]
        f = features(queries)
        tensors = {"a": f[0::2].contiguous(), "b": f[1::2].contiguous()}
        tmp = out / f".chunk-{s // chunk:05d}.tmp"
        save_file({k: v.to(torch.float32) for k, v in tensors.items()}, str(tmp))
        tmp.rename(out / f"chunk-{s // chunk:05d}.safetensors")
        bar.update(len(part))
    bar.close()
    if todo:
        print(f"features: {len(todo)} chunks in {time.perf_counter() - started:.0f} s -> {out}")
    return out


@dataclass
class FeatureSet:
    a: torch.Tensor
    b: torch.Tensor
    a_won: torch.Tensor
    tasks: list[str]
    manifest: dict[str, Any]
    provenance: dict[str, Any] | None = None  # where the pairs came from, when the folder records it


def read_features(directory: str | Path) -> FeatureSet:
    import torch
    from safetensors.torch import load_file

    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{directory} is not a features folder from `flame reward features` ({exc})") from None
    n, chunk = len(manifest["ids"]), manifest["chunk"]
    parts = []
    for k in range((n + chunk - 1) // chunk):
        file = directory / f"chunk-{k:05d}.safetensors"
        if not file.is_file():
            raise CheckpointError(f"{file} is missing: rerun `flame reward features` with the same options to finish")
        parts.append(load_file(str(file)))
    a = torch.cat([p["a"] for p in parts]) if parts else torch.zeros(0)
    b = torch.cat([p["b"] for p in parts]) if parts else torch.zeros(0)
    provenance_path = directory / PROVENANCE
    provenance = json.loads(provenance_path.read_text()) if provenance_path.is_file() else None
    a_won = torch.tensor(manifest["a_won"], dtype=torch.float64)
    return FeatureSet(a, b, a_won, manifest["tasks"], manifest, provenance)


def fit_bradley_terry(x: torch.Tensor, y: torch.Tensor, l2: float) -> torch.Tensor:
    """w minimizing mean BCE(sigmoid(x @ w), y) + l2 * |w|^2 / n; x holds standardized feature differences."""
    import torch

    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y) + l2 * (w * w).sum() / len(y)
        loss.backward()
        return loss

    opt.step(closure)  # pyright: ignore[reportArgumentType]
    return w.detach()


@dataclass(frozen=True)
class FitResult:
    l2: float
    train_accuracy: float
    dev_accuracy: float
    dev_log_loss: float
    grid: dict[str, dict[str, float]]


def fit_head(train: FeatureSet, dev: FeatureSet, *, length_feature: bool = True) -> tuple[Any, FitResult]:
    """A RewardHead fitted on `train`, its L2 strength chosen by dev log-loss.

    Log-loss, not accuracy: it is a proper score, so the kept head gives calibrated P(A better), and it
    moves smoothly where accuracy on a few hundred dev pairs jumps by noise.

    `length_feature=False` leaves out the response-length feature the features were read with.
    """
    import dataclasses

    import torch

    from flame_judge.reward import RewardConfig, RewardHead

    same = ("fingerprint", "config")
    if any(train.manifest[k] != dev.manifest[k] for k in same):
        raise ConfigError("train and dev features come from different judges or feature settings")
    if not len(train.a_won) or not len(dev.a_won):
        raise ConfigError("no pairs to fit on: the train or dev features folder is empty")
    config = RewardConfig.from_json(train.manifest["config"])
    if config.length_feature and not length_feature:
        config = dataclasses.replace(config, length_feature=False)
        train = dataclasses.replace(train, a=train.a[:, :-1], b=train.b[:, :-1])
        dev = dataclasses.replace(dev, a=dev.a[:, :-1], b=dev.b[:, :-1])
    every = torch.cat([train.a, train.b]).double()
    mean, scale = every.mean(0), every.std(0).clamp_min(1e-6)
    x = ((train.a.double() - train.b.double()) / scale).contiguous()
    xd = ((dev.a.double() - dev.b.double()) / scale).contiguous()
    grid: dict[str, dict[str, float]] = {}
    best: tuple[float, float, float, torch.Tensor] | None = None
    for l2 in L2_GRID:
        w = fit_bradley_terry(x, train.a_won, l2)
        logits = xd @ w
        acc = float(((logits > 0).double() == dev.a_won).double().mean())
        loss = float(torch.nn.functional.binary_cross_entropy_with_logits(logits, dev.a_won))
        tr = float((((x @ w) > 0).double() == train.a_won).double().mean())
        grid[str(l2)] = {"train_accuracy": tr, "dev_accuracy": acc, "dev_log_loss": loss}
        if best is None or loss < best[2]:
            best = (l2, acc, loss, w)
    assert best is not None
    l2, acc, loss, w = best
    head = RewardHead(config, w.float(), mean.float(), scale.float())
    return head, FitResult(l2, grid[str(l2)]["train_accuracy"], acc, loss, grid)


def judge_meta(source: Path) -> dict[str, Any]:
    """The `flame.json` of the judge folder `source` ({} for a plain Hugging Face folder)."""
    meta_path = source / "flame.json"
    if not (source / "config.json").is_file() and not meta_path.is_file():
        raise CheckpointError(f"{source} is neither an exported flame judge nor a Hugging Face model folder")
    try:
        return json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    except ValueError as exc:
        raise CheckpointError(f"{meta_path} is not valid JSON ({exc})") from None


def write_judge(
    head: Any,
    result: FitResult,
    train: FeatureSet,
    source: Path,
    out: Path,
    *,
    name: str,
    dev: FeatureSet | None = None,
    overwrite: bool = False,
    log: Callable[[str], object] = print,
    command: str | None = None,
) -> Path:
    """Copy the judge at `source` to `out` with the head beside it and a fingerprint over both.

    A non-empty `out` that is not a flame output needs `overwrite` (see `flame_train.outdir`).
    """
    from flame_judge.loading import fingerprint_of, relocate_base
    from flame_train.provenance import command_line

    meta = judge_meta(source)
    generative = meta.get("reward_head", {}).get("features_from") or fingerprint_of(source.resolve().name, source)
    if generative != train.manifest["fingerprint"]:
        raise ConfigError(f"the features were read with {train.manifest['fingerprint']} but {source} is {generative}")
    with replacing(out, inputs=(source,), overwrite=overwrite, log=log) as tmp:
        shutil.copytree(source, tmp, dirs_exist_ok=True)
        head.save(tmp)
        digest = hashlib.sha256()
        for file in sorted(tmp.glob("*.safetensors")):  # the weights (or adapter) and the head
            digest.update(file.read_bytes())
        meta["name"] = name
        if meta.get("format") == "lora" and isinstance(meta.get("base"), str):
            meta["base"] = relocate_base(meta["base"], source, out)  # recorded relative to the folder
        meta["fingerprint"] = f"{name}@{digest.hexdigest()[:16]}"
        meta["reward_head"] = {
            "features_from": generative,
            "config": head.config.to_json(),
            "train_pairs": len(train.a_won),
            "train_tasks": len(set(train.tasks)),
            "l2": result.l2,
            "train_accuracy": round(result.train_accuracy, 4),
            "dev_accuracy": round(result.dev_accuracy, 4),
            "dev_log_loss": round(result.dev_log_loss, 4),
            "provenance": {
                "train_pairs": train.provenance,
                "dev_pairs": dev.provenance if dev is not None else None,
                "fitted_by": command or command_line(),
            },
        }
        (tmp / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out
