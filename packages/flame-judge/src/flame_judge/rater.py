"""Pointwise and classification verdicts from heads on the judge's hidden states.

The label path reads a score or a label from the next-token probabilities, and for the default judge
those are close to the cheap baselines (pointwise Spearman 0.11, length alone 0.32). A rater head
reads the same model input (the task rendered as the label path renders it, ending at its answer
position) through the features of the reward head (`reward.RewardFeatures`) and gives the verdict's
distribution directly:

- pointwise (integer scales, any range): an ordinal logistic model. A linear score r = w . x and
  cutpoints between adjacent labels at c_j = a + b * (m_j - 0.5), m_j the midpoint of labels j and
  j+1 with the scale mapped to [0, 1], so one head serves 1-5, 0-2 or 1-10 alike:
  P(y <= label_j) = sigmoid(c_j - r).
- classification: one linear score per label position, softmax over the task's labels. A position
  means what it meant in training, so the head judges only the label sets it was fitted on (yes/no,
  correct/incorrect, ...; `classify`'s default yes/no among them); any other label set stays on the
  label path. With `per_label_set`, each label set has its own scores (no position shared across
  sets).

Both are fitted by maximum likelihood on the collection's train rows (`flame_train.rater`), then a
temperature per verdict (one for pointwise, one per label set: `point_log_t`, `class_log_t`) is fitted
on dev rows, which come as the tasks have them (train rows are sampled label-balanced and with forged
copies). A classification temperature divides the logits, so it never changes the most probable
label; the pointwise one divides c_j - r, which keeps the ranking by expected score within a scale
(Spearman) but can move the most probable score. Stored in `rater_head.safetensors` beside the
judge's weights, which puts the head in the judge's fingerprint.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data.schema import TaskSpec
from flame_judge.errors import JudgeError, ModelLoadError
from flame_judge.reward import RewardConfig, RewardFeatures, RewardQuery

if TYPE_CHECKING:
    import torch

    from flame_judge.loading import LoadedModel

RATER_FILE = "rater_head.safetensors"


@dataclass(frozen=True)
class RaterConfig:
    """What the heads read (as `RewardConfig`) and which verdicts they give."""

    features: RewardConfig
    label_sets: tuple[tuple[str, ...], ...] = ()  # classification label sets fitted (none: no classification head)
    pointwise: bool = True
    per_label_set: bool = False  # classification: separate scores per label set instead of shared positions

    @property
    def positions(self) -> int:
        return max((len(labels) for labels in self.label_sets), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.features.to_json(),
            "label_sets": [list(s) for s in self.label_sets],
            "pointwise": self.pointwise,
            **({"per_label_set": True} if self.per_label_set else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RaterConfig:
        sets = tuple(tuple(str(label) for label in labels) for labels in data.get("label_sets", ()))
        per_set = bool(data.get("per_label_set", False))
        return cls(RewardConfig.from_json(data), sets, bool(data.get("pointwise", True)), per_set)


def scale_of(labels: Sequence[str]) -> list[int] | None:
    """The integer scale of a pointwise task's labels, or None if they are not increasing integers."""
    try:
        values = [int(label) for label in labels]
    except ValueError:
        return None
    if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
        return None
    return values


def supports(config: RaterConfig, spec: TaskSpec) -> bool:
    """Whether a rater head of `config` judges `spec` (else it stays on the label path)."""
    labels = spec.outputs[0].labels
    if spec.task_type == "pointwise":
        return config.pointwise and scale_of(labels) is not None
    if spec.task_type == "classification":
        return tuple(labels) in config.label_sets
    return False


def cutpoint_positions(labels: Sequence[str]) -> list[float]:
    """m_j - 0.5 for each cut between adjacent labels, the scale mapped to [0, 1]."""
    values = scale_of(labels)
    assert values is not None
    lo, hi = values[0], values[-1]
    t = [(v - lo) / (hi - lo) for v in values]
    return [(a + b) / 2 - 0.5 for a, b in itertools.pairwise(t)]


def ordinal_log_probs(r: torch.Tensor, a: torch.Tensor, b: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """log P(y = j) for scores r [N] and cut positions [J-1] -> [N, J] (cumulative logistic)."""
    import torch

    cuts = a + b * positions  # [J-1], increasing when b > 0
    cdf = torch.sigmoid(cuts[None, :] - r[:, None])  # P(y <= j) for j < J-1
    ones, zeros = torch.ones_like(r)[:, None], torch.zeros_like(r)[:, None]
    upper, lower = torch.cat([cdf, ones], 1), torch.cat([zeros, cdf], 1)
    return torch.log((upper - lower).clamp_min(1e-12))


class RaterHead:
    """Standardized features, then the ordinal (pointwise) or per-position (classification) model."""

    def __init__(self, config: RaterConfig, tensors: dict[str, torch.Tensor]) -> None:
        need = {"mean", "scale"}
        need |= {"point_w", "point_a", "point_log_b"} if config.pointwise else set()
        need |= {"class_w", "class_b"} if config.label_sets else set()
        if missing := need - set(tensors):
            raise ModelLoadError(f"rater head lacks tensors {sorted(missing)}")
        self.config = config
        self.tensors = {k: v.double() for k, v in tensors.items()}

    def _x(self, features: torch.Tensor) -> torch.Tensor:
        return (features.double() - self.tensors["mean"]) / self.tensors["scale"]

    def log_probs(self, spec: TaskSpec, features: torch.Tensor) -> torch.Tensor:
        """[N, labels] log-probabilities over the task's labels."""
        import torch

        t = self.tensors
        x = self._x(features)
        labels = spec.outputs[0].labels
        if spec.task_type == "pointwise":
            positions = torch.tensor(cutpoint_positions(labels), dtype=torch.float64)
            temp = t["point_log_t"].exp() if "point_log_t" in t else 1.0
            r, a, b = x @ t["point_w"], t["point_a"], t["point_log_b"].exp()
            return ordinal_log_probs(r / temp, a / temp, b / temp, positions)
        which = self.config.label_sets.index(tuple(labels))
        w, bias = t["class_w"], t["class_b"]
        if self.config.per_label_set:
            w, bias = w[which], bias[which]
        logits = x @ w[: len(labels)].T + bias[: len(labels)]
        if "class_log_t" in t:
            logits = logits / t["class_log_t"][which].exp()
        return torch.log_softmax(logits, dim=1)

    def save(self, directory: Path) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.float().contiguous() for k, v in self.tensors.items()}
        save_file(tensors, str(directory / RATER_FILE), metadata={"config": json.dumps(self.config.to_json())})

    @classmethod
    def load(cls, directory: Path) -> RaterHead:
        from safetensors import safe_open

        path = directory / RATER_FILE
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no __iter__
            config = RaterConfig.from_json(json.loads(meta["config"]))
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{path} is not a flame rater head ({exc}); refit it with flame rater fit") from exc
        return cls(config, tensors)


def declared_rater(directory: Path) -> tuple[RaterConfig, Path] | None:
    """The rater head a judge folder declares in flame.json (`rater_head`), checked to be there."""
    from flame_judge.errors import ModelNotFoundError
    from flame_judge.loading import read_meta

    meta = read_meta(directory)
    if "rater_head" not in meta:
        return None
    head = directory / RATER_FILE
    if not head.is_file():
        raise ModelNotFoundError(f"{directory / 'flame.json'} declares a rater head but {RATER_FILE} is missing")
    try:
        return RaterConfig.from_json(meta["rater_head"]["config"]), head.resolve()
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelNotFoundError(f"{directory / 'flame.json'}: rater_head.config is malformed ({exc!r})") from None


class RaterBackend:
    """Features of a task's rendered input read by the judge model, then the rater head."""

    def __init__(
        self,
        loaded: LoadedModel,
        rater: tuple[RaterConfig, Path],
        *,
        max_input_tokens: int | None = None,
        batch_tokens: int = 16384,
    ) -> None:
        self.config, self.path = rater
        # None: the budget the heads were fitted at (recorded beside them), as for the reward head.
        self.features = RewardFeatures(
            loaded, self.config.features, max_input_tokens=max_input_tokens, batch_tokens=batch_tokens
        )
        self._head: RaterHead | None = None

    @property
    def head(self) -> RaterHead:
        if self._head is None:
            head = RaterHead.load(self.path.parent)
            if head.config != self.config:
                raise ModelLoadError(f"{self.path} was fitted with {head.config}, but flame.json says {self.config}")
            self._head = head
        return self._head

    def supports(self, spec: TaskSpec) -> bool:
        """Decided from flame.json alone, so a cached verdict never needs the head's file read."""
        return supports(self.config, spec)

    def prepare(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> RewardQuery:
        """The task rendered as the label path renders it, at the head's budget; the last input is the
        judged response (its full token count is the length feature)."""
        view = self.features.view
        query = view.label_query(spec, inputs)
        return RewardQuery(query, view.tokens(inputs[-1][1]), response_cut=inputs[-1][0] in query.truncated)

    def log_probs(
        self, items: Sequence[tuple[TaskSpec, RewardQuery]], *, batch_size: int | None = None
    ) -> list[list[float]]:
        """Per item, log-probabilities over its task's labels."""
        if not items:
            return []
        head = self.head
        feats = self.features([q for _, q in items], batch_size=batch_size)
        width = head.tensors["mean"].shape[0]
        if feats.shape[1] != width:
            raise JudgeError(f"rater head expects {width} features, the model gives {feats.shape[1]}")
        out = []
        for i, (spec, _) in enumerate(items):
            row = head.log_probs(spec, feats[i : i + 1])[0]
            out.append([float(v) if math.isfinite(float(v)) else -1e9 for v in row])
        return out
