"""`TrainConfig`: every training option, documented once; the fields drive the YAML file and the CLI.

flame train --config run.yaml --set max_steps=200 --set lr=1e-4
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

import yaml

from flame_train.errors import ConfigError


@dataclass
class TrainConfig:
    mixture: str = field(default="", metadata={"help": "folder written by `flame data build`"})
    rates: str | None = field(
        default=None, metadata={"help": "JSON or TOML file of task -> sampling rate (default: the mixture's own rates)"}
    )
    encoded: str | None = field(
        default=None,
        metadata={"help": "train split pre-tokenized by `flame encode` (the mixture then supplies only the dev rows)"},
    )
    tasks: list[str] = field(default_factory=list, metadata={"help": "train only on these tasks (default: all)"})
    base_model: str = field(default="smollm2-135m-instruct", metadata={"help": "model name or local directory"})
    init_checkpoint: str | None = field(
        default=None, metadata={"help": "start from this flame checkpoint (LoRA merged), e.g. for FLAMe-RM"}
    )
    output_dir: str = field(default="runs/flame", metadata={"help": "checkpoints, metrics.csv and the config go here"})
    finetune: Literal["lora", "full"] = field(default="lora", metadata={"help": "LoRA adapters or all weights"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scale numerator (scale = alpha / r)"})
    lora_dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA input"})
    lora_targets: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "module names that get LoRA adapters"},
    )
    loss_tokens: Literal["target", "label"] = field(
        default="target",
        metadata={"help": "target = every target token; label = only the first output's label (the scored token)"},
    )
    max_length: int = field(default=512, metadata={"help": "tokens per example; inputs are truncated field by field"})
    batch_size: int = field(default=8, metadata={"help": "examples per optimizer micro-step"})
    grad_accum: int = field(default=1, metadata={"help": "micro-steps per optimizer step"})
    max_steps: int = field(default=100, metadata={"help": "optimizer steps"})
    lr: float = field(default=2e-4, metadata={"help": "peak learning rate"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    warmup_steps: int = field(default=10, metadata={"help": "linear warm-up steps"})
    scheduler: Literal["cosine", "linear", "constant"] = field(default="cosine", metadata={"help": "LR decay"})
    seed: int = field(default=0, metadata={"help": "seed of sampling, shuffling and initialization"})
    both_orders: bool = field(
        default=True, metadata={"help": "show each pairwise example in a random order of its two responses"}
    )
    group_by_length: bool = field(default=True, metadata={"help": "batch examples of similar length together"})
    fused_loss: bool = field(default=True, metadata={"help": "chunked loss that never builds [tokens x vocab] logits"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "recompute activations in backward"})
    mixed_precision: Literal["auto", "no", "bf16"] = field(
        default="auto", metadata={"help": "auto = bf16 autocast on CUDA, fp32 on CPU"}
    )
    eval_every: int = field(default=50, metadata={"help": "steps between dev evaluations (0 = only at the end)"})
    eval_examples_per_task: int = field(default=16, metadata={"help": "dev examples scored per task"})
    save_every: int = field(default=50, metadata={"help": "steps between checkpoints (0 = only at the end)"})
    log_every: int = field(default=10, metadata={"help": "steps between metrics.csv rows"})

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            allowed = get_args(hints[f.name])
            if allowed and all(isinstance(a, str) for a in allowed) and value not in allowed:
                raise ConfigError(f"{f.name} = {value!r}: must be one of {list(allowed)}")
        for name in ("lora_r", "max_length", "batch_size", "grad_accum", "max_steps", "eval_examples_per_task"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} = {getattr(self, name)!r}: must be a positive integer")
        if self.lr <= 0:
            raise ConfigError(f"lr = {self.lr}: must be positive")

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
        """A YAML file (optional), then `key=value` overrides (values parsed as YAML)."""
        data: dict[str, Any] = {}
        if path is not None:
            try:
                loaded = yaml.safe_load(Path(path).read_text()) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"cannot read the config {path}: {exc}") from exc
            if not isinstance(loaded, dict):
                raise ConfigError(f"{path}: expected a mapping of option: value")
            data.update(loaded)
        for item in overrides or []:
            key, sep, raw = item.partition("=")
            if not sep:
                raise ConfigError(f"--set {item!r}: expected key=value")
            data[key.strip()] = yaml.safe_load(raw)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            import difflib

            hints = {u: difflib.get_close_matches(u, known, n=1) for u in unknown}
            detail = ", ".join(f"{u!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for u, h in hints.items())
            raise ConfigError(f"unknown option {detail}; see `flame train --help-config`")
        hints = get_type_hints(cls)
        for key, value in data.items():
            data[key] = _coerce(key, value, hints[key])
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dump(self, path: Path) -> None:
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    def digest(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """YAML reads `1e-4` as text and `5` as an int; give each option the type it declares."""
    try:
        if hint is float and isinstance(value, str | int) and not isinstance(value, bool):
            return float(value)
        if hint is int and isinstance(value, str):
            return int(value)
    except ValueError:
        raise ConfigError(f"{key} = {value!r}: expected a number") from None
    if hint in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConfigError(f"{key} = {value!r}: expected a number")
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r}: expected true or false")
    return value


def describe() -> str:
    """Every option with its default and help, for `flame train --help-config` and the docs."""
    lines = []
    for f in fields(TrainConfig):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]
        lines.append(f"{f.name} (default {default!r}): {f.metadata.get('help', '')}")
    return "\n".join(lines)
