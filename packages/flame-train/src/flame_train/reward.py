"""Fit a reward-style pairwise head (Bradley-Terry) on a judge's frozen features.

    flame reward features --mixture mix --split train --per-task 200 --out runs/rm/train
    flame reward features --mixture mix --split dev --per-task 32 --out runs/rm/dev
    flame reward fit --train runs/rm/train --dev runs/rm/dev --out judges/flame-smol

`--pairs pool` reads the end-to-end reward model's training pool instead (human pairs balanced for
length plus pairs whose winner is known by construction, `flame_train.rm_data`), and `--pairs suites`
the robustness suites of a split (`flame_judge.robustness`), so a head can be fitted on what the
easy cues hide and chosen on the dev suites. Every pair keeps its kind in the manifest.

Features are written in chunks and a killed run resumes where it stopped. The fit tries several
L2 strengths and keeps the one with the lowest dev log-loss; the head is stored beside the judge's
adapter, so `Judge.load()` of that folder judges pairs with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_train.errors import CheckpointError, ConfigError
from flame_train.outdir import replacing

if TYPE_CHECKING:
    import torch

    from flame_data.schema import TaskSpec

MANIFEST = "pairs.json"
PROVENANCE = "provenance.json"  # where the pairs came from (not part of the resume check)
L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


@dataclass(frozen=True)
class Pair:
    id: str
    task: str
    fields: tuple[tuple[str, str], ...]
    a_won: bool
    kind: str = "human"  # or a construction of `flame_data.constructed`, or a robustness suite
    spec: TaskSpec | None = None  # how the pair is rendered when it is not its registered task's own


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


def pool_reward_pairs(mixture: str | Path, *, config: Any = None) -> list[Pair]:
    """The end-to-end reward model's training pool (train split only; `rm_data.build_pool`), the
    chosen reply in a seeded random position."""
    from flame_data import constructed
    from flame_data.registry import tasks as registered
    from flame_train.rm_data import PoolConfig, build_pool, generic_view

    config = config or PoolConfig()
    specs = {name: spec for name, (spec, _) in registered().items()}
    coins = random.Random(f"pool-position:{config.seed}")
    out = []
    for i, entry in enumerate(build_pool(constructed.read_split(mixture, "train"), config)):
        pair, first = entry.pair, coins.random() < 0.5
        if entry.generic:
            spec, context = generic_view(pair)
            a, b = (pair.chosen, pair.rejected) if first else (pair.rejected, pair.chosen)
            fields = (*context, ("response A", a), ("response B", b))
        else:
            spec, fields = constructed.spec_of(pair.task, specs), pair.fields(chosen_first=first)[0]
        out.append(Pair(f"pool-{i:05d}", pair.task, fields, first, pair.kind, spec))
    return out


def suite_reward_pairs(mixture: str | Path, split: str, *, per_suite: int, seed: int = 0) -> list[Pair]:
    """The robustness suites of a split (`robustness.build_suites`), kind = suite; ties left out."""
    from flame_data import constructed
    from flame_judge.robustness import build_suites

    items = build_suites(constructed.read_split(mixture, split), per_suite=per_suite, seed=seed)
    return [
        Pair(f"{item.subset}-{i:05d}", item.spec.name, item.fields, item.gold == "A", item.subset, item.spec)
        for i, item in enumerate(items)
        if item.gold in ("A", "B")
    ]


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
    from flame_data.registry import tasks as registered
    from flame_judge.loading import hidden_states_digest, load
    from flame_judge.reward import RewardConfig, RewardFeatures

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loaded = load(model, device=device)
    config = RewardConfig(tuple(layers), max_input_tokens)
    manifest = {
        "fingerprint": loaded.fingerprint,
        "hidden_states": hidden_states_digest(loaded.directory, loaded.adapters),
        "config": config.to_json(),
        "ids": [p.id for p in pairs],
        "tasks": [p.task for p in pairs],
        "a_won": [p.a_won for p in pairs],
        "chunk": chunk,
    }
    if any(p.kind != "human" for p in pairs):
        manifest["kinds"] = [p.kind for p in pairs]
    specs = {name: spec for name, (spec, _) in registered().items()}
    features = RewardFeatures(loaded, config)

    def compute(part: list[Pair]) -> dict[str, torch.Tensor]:
        f = features([q for p in part for q in features.prepare(p.spec or specs[p.task], p.fields)])
        return {"a": f[0::2], "b": f[1::2]}

    return write_chunks(out, MANIFEST, manifest, pairs, compute, provenance=provenance, unit="pair")


def write_chunks(
    out: Path,
    manifest_name: str,
    manifest: dict[str, Any],
    items: Sequence[Any],
    compute: Callable[[list[Any]], dict[str, torch.Tensor]],
    *,
    provenance: dict[str, Any] | None,
    unit: str,
) -> Path:
    """Write `compute(chunk of items)` as fp32 safetensors chunks under `out`, each atomically, skipping
    chunks already there; a folder whose manifest differs (other items or another judge) is refused."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    path = out / manifest_name
    if path.is_file():
        stored = json.loads(path.read_text())
        if "hidden_states" not in stored:  # written before features recorded it: the rest must match
            manifest = {k: v for k, v in manifest.items() if k != "hidden_states"}
        if stored != manifest:
            raise CheckpointError(f"{out} holds features of other {unit}s or another judge; choose a new --out")
    else:
        path.write_text(json.dumps(manifest) + "\n")
    if provenance is not None:
        (out / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n")
    chunk = manifest["chunk"]
    todo = [s for s in range(0, len(items), chunk) if not (out / f"chunk-{s // chunk:05d}.safetensors").is_file()]
    bar = tqdm(total=len(items), initial=len(items) - sum(min(chunk, len(items) - s) for s in todo), unit=unit)
    started = time.perf_counter()
    for s in todo:
        part = list(items[s : s + chunk])
        tensors = {k: v.to(torch.float32).contiguous() for k, v in compute(part).items()}
        tmp = out / f".chunk-{s // chunk:05d}.tmp"
        save_file(tensors, str(tmp))
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

    @property
    def kinds(self) -> list[str]:
        """Each pair's kind ("human" for every pair of a folder that records none)."""
        return self.manifest.get("kinds") or ["human"] * len(self.tasks)


def read_chunks(
    directory: str | Path, manifest_name: str, command: str
) -> tuple[dict[str, Any], list[dict[str, torch.Tensor]], dict[str, Any] | None]:
    """(manifest, the tensors of every chunk in order, provenance) of a features folder that `command`
    wrote; a missing chunk says to rerun it."""
    from safetensors.torch import load_file

    directory = Path(directory)
    try:
        manifest = json.loads((directory / manifest_name).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{directory} is not a features folder from `{command}` ({exc})") from None
    n, chunk = len(manifest["ids"]), manifest["chunk"]
    parts = []
    for k in range((n + chunk - 1) // chunk):
        file = directory / f"chunk-{k:05d}.safetensors"
        if not file.is_file():
            raise CheckpointError(f"{file} is missing: rerun `{command}` with the same options to finish")
        parts.append(load_file(str(file)))
    provenance_path = directory / PROVENANCE
    provenance = json.loads(provenance_path.read_text()) if provenance_path.is_file() else None
    return manifest, parts, provenance


def read_features(directory: str | Path) -> FeatureSet:
    import torch

    manifest, parts, provenance = read_chunks(directory, MANIFEST, "flame reward features")
    a = torch.cat([p["a"] for p in parts]) if parts else torch.zeros(0)
    b = torch.cat([p["b"] for p in parts]) if parts else torch.zeros(0)
    a_won = torch.tensor(manifest["a_won"], dtype=torch.float64)
    return FeatureSet(a, b, a_won, manifest["tasks"], manifest, provenance)


def same_reader(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two features manifests hold hidden states of the same weights, read with the same settings:
    the same `hidden_states` digest (judges that differ only in their heads), or, for folders that
    predate it, the same judge fingerprint."""
    if a["config"] != b["config"]:
        return False
    if "hidden_states" in a and "hidden_states" in b:
        return a["hidden_states"] == b["hidden_states"]
    return a["fingerprint"] == b["fingerprint"]


def first_seen(keys: Sequence[Hashable | None]) -> list[int]:
    """Indices of the rows to keep when merging features folders: a row whose key was met before is
    the same input read twice (samples of one split overlap), so it counts once; a None key (a
    constructed copy whose text the manifest does not hold) is always kept."""
    seen: set[Hashable] = set()
    keep = []
    for i, key in enumerate(keys):
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        keep.append(i)
    return keep


def merge_features(sets: list[FeatureSet]) -> FeatureSet:
    """Several features folders read with one judge and one setting, as one set (a human pair met in
    two folders counts once)."""
    import torch

    first = sets[0]
    for other in sets[1:]:
        if not same_reader(other.manifest, first.manifest):
            raise ConfigError("the features folders come from different judges or feature settings")
    if len(sets) == 1:
        return first
    ids = [i for s in sets for i in s.manifest["ids"]]
    tasks = [t for s in sets for t in s.tasks]
    kinds = [k for s in sets for k in s.kinds]
    keep = first_seen([(t, i) if dev_kind(k) == "human" else None for t, i, k in zip(tasks, ids, kinds, strict=True)])
    a_won = torch.cat([s.a_won for s in sets])[keep]
    manifest = {
        **first.manifest,
        "ids": [ids[i] for i in keep],
        "tasks": [tasks[i] for i in keep],
        "a_won": [bool(a) for a in a_won.tolist()],
        "kinds": [kinds[i] for i in keep],
    }
    provenance = {"merged": [s.provenance for s in sets], "rows_read": len(ids), "read_twice": len(ids) - len(keep)}
    return FeatureSet(
        torch.cat([s.a for s in sets])[keep],
        torch.cat([s.b for s in sets])[keep],
        a_won,
        manifest["tasks"],
        manifest,
        provenance,
    )


def fit_bradley_terry(x: torch.Tensor, y: torch.Tensor, l2: float, weight: torch.Tensor | None = None) -> torch.Tensor:
    """w minimizing the (weighted) mean BCE(sigmoid(x @ w), y) + l2 * |w|^2 / n; x holds standardized
    feature differences, `weight` (mean 1) how much each pair counts."""
    import torch

    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y, weight=weight)
        loss = bce + l2 * (w * w).sum() / len(y)
        loss.backward()
        return loss

    opt.step(closure)  # pyright: ignore[reportArgumentType]
    return w.detach()


def dev_kind(kind: str) -> str:
    """Human pairs are one kind whether sampled per task or as the in-distribution suite."""
    return "human" if kind == "in_distribution" else kind


@dataclass(frozen=True)
class FitResult:
    l2: float
    train_accuracy: float
    dev_accuracy: float  # human dev pairs (all dev pairs when there are none)
    dev_log_loss: float  # what chose the L2 strength: the mean over dev kinds of their log-loss
    grid: dict[str, dict[str, Any]]
    kind_weights: dict[str, float] | None = None


def _kind_weights(kinds: list[str], weights: dict[str, float]) -> torch.Tensor:
    """Per-pair weights from per-kind ones (1 when not given), scaled to mean 1."""
    import torch

    unknown = set(weights) - set(kinds)
    if unknown:
        have = sorted(set(kinds))
        raise ConfigError(f"--kind-weight names kinds the train pairs do not have: {sorted(unknown)}; they have {have}")
    if not all(math.isfinite(v) and v >= 0 for v in weights.values()):
        raise ConfigError(f"--kind-weight values must be finite and >= 0, got {weights}")
    w = torch.tensor([weights.get(k, 1.0) for k in kinds], dtype=torch.float64)
    if float(w.sum()) <= 0:
        raise ConfigError("--kind-weight leaves every train pair at weight 0")
    return w * (len(w) / w.sum())


def fit_head(
    train: FeatureSet,
    dev: FeatureSet,
    *,
    length_feature: bool = True,
    kind_weights: dict[str, float] | None = None,
    layers: Sequence[int] | None = None,
) -> tuple[Any, FitResult]:
    """A RewardHead fitted on `train`, its L2 strength chosen by dev log-loss.

    Log-loss, not accuracy: it is a proper score, so the kept head gives calibrated P(A better), and it
    moves smoothly where accuracy on a few hundred dev pairs jumps by noise. With dev pairs of several
    kinds (human pairs and robustness suites), the score is the mean of the kinds' log-losses, so each
    kind counts the same however many pairs it has: the head is chosen where the easy cues mislead too.

    `length_feature=False` leaves out the response-length feature the features were read with;
    `kind_weights` weighs train pairs by kind (1 for kinds not named); `layers` fits on some of the
    hidden states read (one read, several heads to compare).
    """
    import dataclasses

    import torch

    from flame_judge.reward import RewardConfig, RewardHead

    if not same_reader(train.manifest, dev.manifest):
        raise ConfigError("train and dev features come from different judges or feature settings")
    if not len(train.a_won) or not len(dev.a_won):
        raise ConfigError("no pairs to fit on: the train or dev features folder is empty")
    config = RewardConfig.from_json(train.manifest["config"])
    if config.length_feature and not length_feature:
        config = dataclasses.replace(config, length_feature=False)
        train = dataclasses.replace(train, a=train.a[:, :-1], b=train.b[:, :-1])
        dev = dataclasses.replace(dev, a=dev.a[:, :-1], b=dev.b[:, :-1])
    if layers is not None:
        config, keep = layer_columns(config, train.a.shape[1], layers)
        train = dataclasses.replace(train, a=train.a[:, keep], b=train.b[:, keep])
        dev = dataclasses.replace(dev, a=dev.a[:, keep], b=dev.b[:, keep])
    weight = _kind_weights(train.kinds, kind_weights or {})
    every = torch.cat([train.a, train.b]).double()
    mean, scale = every.mean(0), every.std(0).clamp_min(1e-6)
    x = ((train.a.double() - train.b.double()) / scale).contiguous()
    xd = ((dev.a.double() - dev.b.double()) / scale).contiguous()
    kinds = [dev_kind(k) for k in dev.kinds]
    groups = {k: torch.tensor([j for j, g in enumerate(kinds) if g == k]) for k in dict.fromkeys(kinds)}
    grid: dict[str, dict[str, Any]] = {}
    best: tuple[float, float, torch.Tensor] | None = None
    for l2 in L2_GRID:
        w = fit_bradley_terry(x, train.a_won, l2, weight)
        logits = xd @ w
        right = ((logits > 0).double() == dev.a_won).double()
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, dev.a_won, reduction="none")
        by_kind = {k: float(right[i].mean()) for k, i in groups.items()}
        loss = sum(float(losses[i].mean()) for i in groups.values()) / len(groups)
        tr = float((((x @ w) > 0).double() == train.a_won).double().mean())
        human = by_kind.get("human", float(right.mean()))
        grid[str(l2)] = {"train_accuracy": tr, "dev_accuracy": human, "dev_log_loss": loss, "dev_by_kind": by_kind}
        if best is None or loss < best[1]:
            best = (l2, loss, w)
    assert best is not None
    l2, loss, w = best
    head = RewardHead(config, w.float(), mean.float(), scale.float())
    row = grid[str(l2)]
    return head, FitResult(l2, row["train_accuracy"], row["dev_accuracy"], loss, grid, kind_weights or None)


def layer_columns(config: Any, width: int, layers: Sequence[int]) -> tuple[Any, torch.Tensor]:
    """The config of a head on `layers` (some of those `config` read) and the feature columns it
    keeps: per layer read, its answer-position and mean states, then the length feature if any."""
    import dataclasses

    import torch

    missing = [layer for layer in layers if layer not in config.layers]
    if not layers or missing or len(set(layers)) != len(layers):
        raise ConfigError(
            f"--layers {' '.join(map(str, layers))}: give distinct layers among those the features read "
            f"({' '.join(map(str, config.layers))})"
        )
    hidden, rest = divmod(width - int(config.length_feature), 2 * len(config.layers))
    if rest:
        raise ConfigError(f"features of width {width} do not split into {len(config.layers)} layers x 2 states")
    order = sorted(layers, key=config.layers.index)  # as the judge reads them
    keep = [
        c
        for layer in order
        for c in range(config.layers.index(layer) * 2 * hidden, (config.layers.index(layer) + 1) * 2 * hidden)
    ]
    if config.length_feature:
        keep.append(width - 1)
    return dataclasses.replace(config, layers=tuple(order)), torch.tensor(keep)


def check_features_from(meta: dict[str, Any], source: Path, manifest: dict[str, Any]) -> str:
    """The fingerprint the features of `manifest` were read with, if they fit a head for the judge at
    `source`.

    A head does not change the hidden states it reads: features read with the source judge itself,
    with the judge one of its heads was fitted on, or with any judge of the same hidden states
    (`same_reader`) fit a new head for it.
    """
    from flame_judge.loading import fingerprint_of, hidden_states_of

    read_with = manifest["fingerprint"]
    current = fingerprint_of(meta.get("name") or source.resolve().name, source)
    heads = [meta.get(h, {}).get("features_from") for h in ("reward_head", "rater_head")]
    if read_with in (current, *heads) or manifest.get("hidden_states") == hidden_states_of(source):
        return read_with
    raise ConfigError(f"the features were read with {read_with} but {source} is {current}")


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
    from flame_judge.loading import relocate_base
    from flame_train.provenance import command_line

    meta = judge_meta(source)
    generative = check_features_from(meta, source, train.manifest)
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
            "train_by_kind": dict(Counter(train.kinds)),
            "kind_weights": result.kind_weights,
            "dev_by_kind": {
                k: round(v, 4) for k, v in result.grid.get(str(result.l2), {}).get("dev_by_kind", {}).items()
            },
            "provenance": {
                "train_pairs": train.provenance,
                "dev_pairs": dev.provenance if dev is not None else None,
                "fitted_by": command or command_line(),
            },
        }
        (tmp / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out
