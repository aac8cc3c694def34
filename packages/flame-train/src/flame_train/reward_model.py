"""An end-to-end Bradley-Terry reward model: `*ForSequenceClassification` (one output) over the
base, LoRA on its top layers plus the score head, each response scored alone in the pointwise view
of its pairwise task (`flame_data.templates.reward_task`, rendered exactly as the judge renders it).

    flame reward train --mixture mix --out runs/rm            # resumes exactly when rerun
    flame reward export runs/rm --out judges/flame-rm         # a plain HF folder (transformers, vLLM)

Why only the top layers: the lower layers stay frozen, so their output for a response never
changes; it is computed once (no gradient), cached on disk, and every later epoch runs only the
top `top_layers` layers forward and backward. `tools/bench/reward_model_throughput.py` measures
what that buys. Tiny CPU run (a random 2-layer model): see tests/flame_train/test_reward_model.py.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_train.errors import CheckpointError, ConfigError
from flame_train.rm_data import PoolConfig, PoolPair, build_pool, generic_view, read_pool, write_pool

if TYPE_CHECKING:
    import torch

    from flame_judge.benchmark import EvalItem

CHECKPOINT = "checkpoint"
METRICS = "metrics.csv"
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
COLUMNS = (
    "step",
    "epoch",
    "pairs_seen",
    "tokens_seen",
    "loss",
    "lr",
    "elapsed_s",
    "tokens_per_s",
    "dev_accuracy",
    "dev_log_loss",
)


def bf16_is_fast() -> bool:
    """CPU bf16 autocast pays only where matmuls run natively in bf16 (AMX or AVX512-BF16); on a plain
    AVX512 CPU a bf16 linear forward+backward is ~4.6x slower than fp32 (measured on the CI machine)."""
    import torch

    cpu = torch.cpu
    return any(
        bool(getattr(cpu, name, lambda: False)()) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    )


@dataclass(frozen=True)
class RewardModelConfig:
    """Every setting of a run; stored in the checkpoint, and a resume must match it."""

    mixture: str
    output_dir: str
    base_model: str = "smollm2-135m-instruct"  # a flame model spec; a LoRA judge trains over its whole chain
    max_input_tokens: int = 384  # per response, as the judge renders it
    top_layers: int = 4  # trainable (LoRA) layers at the top; the rest are frozen and cached
    lora_r: int = 16
    lora_alpha: int = 32
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 20
    epochs: int = 3
    max_steps: int = 0  # 0: as many as `epochs` gives
    batch_pairs: int = 8
    bf16: bool = field(default_factory=lambda: bf16_is_fast())  # autocast; exported weights stay fp32
    cache_lower: bool = True
    checkpoint_minutes: float = 10.0
    eval_every: int = 100
    log_every: int = 10
    dev_per_suite: int = 24  # dev robustness pairs per suite; in_distribution gets 4x
    threads: int = 0  # torch threads (0: torch's default)
    device: str = "auto"  # auto: cuda when one is visible, else cpu; a run may resume on another device
    encode_workers: int = 0  # processes that render and tokenize the whole pool once up front (0: as needed)
    seed: int = 0
    per_task: int = 300
    neighbour: int = 600
    distractor: int = 600
    safety_repeat: int = 3
    generic_share: float = 0.3
    pointwise_per_task: int = 0

    def __post_init__(self) -> None:
        for name in ("top_layers", "lora_r", "epochs", "batch_pairs", "eval_every", "log_every", "max_input_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} = {getattr(self, name)} must be at least 1")
        if self.pointwise_per_task < 0:
            raise ConfigError(f"pointwise_per_task = {self.pointwise_per_task} must be 0 (none) or more")
        if not 0 <= self.generic_share <= 1:
            raise ConfigError(f"generic_share = {self.generic_share} must be within [0, 1]")

    @property
    def pool(self) -> PoolConfig:
        return PoolConfig(
            per_task=self.per_task,
            neighbour=self.neighbour,
            distractor=self.distractor,
            safety_repeat=self.safety_repeat,
            generic_share=self.generic_share,
            seed=self.seed,
            pointwise_per_task=self.pointwise_per_task,
        )

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


# -- the model and its split forward ---------------------------------------------------------------


def check_base(run: Path, base_model: str, *, record: bool) -> None:
    """A run's checkpoint and cached lower states hold one base's states: refuse them over another.

    `base.json` records the hidden-states digest of the base (with every adapter of its chain) the run
    started over; a base retrained since (same name, other weights) is a CheckpointError, not a silent
    mix of two models. `record` writes it for a run that has none yet.
    """
    from flame_judge.loading import hidden_states_digest, resolve

    found = resolve(base_model)
    digest = hidden_states_digest(found.directory, found.adapters)
    path = run / "base.json"
    if path.is_file():
        old = json.loads(path.read_text()).get("hidden_states")
        if old != digest:
            raise CheckpointError(
                f"{run} was trained over {base_model} with hidden states {old}, but {base_model} now gives "
                f"{digest} (retrained?); its checkpoint and cached states belong to the other weights: "
                "train into a new output folder"
            )
    elif record:
        path.write_text(json.dumps({"base_model": base_model, "hidden_states": digest}, indent=2) + "\n")


def load_reward_model(config: RewardModelConfig) -> tuple[Any, Any]:
    """(peft-wrapped `*ForSequenceClassification`, tokenizer): LoRA on the top layers + the score head."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from flame_judge.loading import remote_code_allowed, resolve
    from flame_judge.lora import merge_lora

    hf_logging.disable_progress_bar()
    found = resolve(config.base_model)  # a flame LoRA judge: its base plus every adapter of its chain
    directory = found.directory
    trust = remote_code_allowed(directory)  # False unless FLAME_TRUST_REMOTE_CODE=1; refuses a folder's own code
    tokenizer = AutoTokenizer.from_pretrained(str(directory), trust_remote_code=trust)
    hf_logging.set_verbosity_error()  # "score.weight newly initialized" is the point here
    model = AutoModelForSequenceClassification.from_pretrained(
        str(directory), num_labels=1, dtype=torch.float32, trust_remote_code=trust
    )
    hf_logging.set_verbosity_warning()
    for adapter in found.adapters:  # train on top of the judge's own weights, not its bare base
        merge_lora(model, adapter)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model.config.pad_token_id = pad  # last-token pooling (HF and vLLM) looks for the last non-pad token
    n = int(model.config.num_hidden_layers)
    if config.top_layers > n:
        raise ConfigError(f"top_layers = {config.top_layers} but {directory} has {n} layers")
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=0.0,  # no dropout: cached lower states and resumes stay exact
        target_modules=list(LORA_TARGETS),
        layers_to_transform=list(range(n - config.top_layers, n)),
        modules_to_save=["score"],
        task_type="SEQ_CLS",
    )
    return get_peft_model(model, lora), tokenizer


class SplitForward:
    """The reward as two halves: `lower` (frozen layers, no gradient) and `top` (trainable layers,
    final norm, score at the last token). top(lower(x)) equals the model's own forward."""

    def __init__(self, model: Any, top_layers: int) -> None:
        self.model = model
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.decoder = base.model
        self.score = getattr(base, "score", None)  # None over a causal LM: `top_states` only
        self.cut = len(self.decoder.layers) - top_layers

    @contextlib.contextmanager
    def _only(self, layers: Any, norm: Any) -> Iterator[None]:
        import torch

        keep_layers, keep_norm = self.decoder.layers, self.decoder.norm
        self.decoder.layers, self.decoder.norm = torch.nn.ModuleList(layers), norm
        try:
            yield
        finally:
            self.decoder.layers, self.decoder.norm = keep_layers, keep_norm

    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states entering the first trainable layer."""
        import torch

        with torch.no_grad(), self._only(list(self.decoder.layers)[: self.cut], torch.nn.Identity()):
            return self.decoder(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state

    def top_states(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last hidden states (final norm applied) from the lower states (right-padded; `mask`
        marks the real tokens)."""
        with self._only(list(self.decoder.layers)[self.cut :], self.decoder.norm):
            return self.decoder(inputs_embeds=hidden, attention_mask=mask, use_cache=False).last_hidden_state

    def top(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One reward per row from the lower states (right-padded; `mask` marks the real tokens)."""
        import torch

        if self.score is None:
            raise TypeError("SplitForward.top needs a sequence-classification model (a `score` layer)")
        h = self.top_states(hidden, mask)
        last = mask.sum(1) - 1
        return self.score(h[torch.arange(h.shape[0], device=h.device), last]).squeeze(-1)


# -- rendering: exactly what the judge reads -------------------------------------------------------


class ResponseEncoder:
    """Token ids of each response of a pair, rendered as the reward judge renders it."""

    def __init__(self, base_model: str, max_input_tokens: int) -> None:
        from flame_data.registry import tasks as registered
        from flame_judge.loading import load
        from flame_judge.reward import RewardView

        self.specs = {name: spec for name, (spec, _) in registered().items()}
        self.view = RewardView(load(base_model, device="cpu"), max_input_tokens)

    def encode(self, spec: Any, fields: Sequence[tuple[str, str]]) -> tuple[list[int], list[int]]:
        """(first response ids, second response ids) of a pairwise example: the judge's own reward view,
        the context cut once for the pair."""
        qa, qb = self.view.prepare(spec, fields)
        return self.view.model_input(qa), self.view.model_input(qb)

    def pool_pair(self, entry: PoolPair) -> tuple[list[int], list[int]]:
        """(chosen ids, rejected ids)."""
        from flame_data.constructed import spec_of

        pair = entry.pair
        if pair.kind == "pointwise":
            return self.pointwise_pair(entry)
        if entry.generic:
            spec, context = generic_view(pair)
            fields = (*context, ("response A", pair.chosen), ("response B", pair.rejected))
        else:
            spec, fields = spec_of(pair.task, self.specs), pair.fields(chosen_first=True)[0]
        return self.encode(spec, fields)

    def pointwise_pair(self, entry: PoolPair) -> tuple[list[int], list[int]]:
        """(chosen ids, rejected ids) of two rows of a pointwise task: each row rendered and cut as the
        label path renders that task (or the judge's own `judge.pointwise` template), read at its
        answer position."""
        from flame_data.constructed import spec_of
        from flame_train.rater import Row, row_input

        pair = entry.pair
        spec = spec_of(pair.task, self.specs)
        ids = []
        for response in (pair.chosen, pair.rejected):
            inputs = (*pair.context, (pair.labels[0], response))
            row = Row(pair.source, pair.task, inputs, "", None, generic=entry.generic)
            ids.append(self.view.label_input(*row_input(row, spec)))
        return ids[0], ids[1]


def pad_states(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad (tokens, hidden) tensors into a batch, with its attention mask."""
    import torch

    width = max(s.shape[0] for s in states)
    out = torch.zeros((len(states), width, states[0].shape[1]), dtype=states[0].dtype)
    mask = torch.zeros((len(states), width), dtype=torch.long)
    for i, s in enumerate(states):
        out[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    return out, mask


class LowerCache:
    """Lower-layer states of each response on disk (bf16), keyed by name; written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.safetensors"

    def get(self, key: str, ids: tuple[Sequence[int], Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The states stored for `key`, only if they were computed from these very token ids (a changed
        rendering or budget is a miss, never stale states)."""
        from safetensors.torch import load_file

        path = self._path(key)
        if not path.is_file():
            return None
        t = load_file(str(path))
        if "ids_a" not in t or t["ids_a"].tolist() != list(ids[0]) or t["ids_b"].tolist() != list(ids[1]):
            return None
        return t["a"], t["b"]

    def put(self, key: str, a: torch.Tensor, b: torch.Tensor, ids: tuple[Sequence[int], Sequence[int]]) -> None:
        import torch
        from safetensors.torch import save_file

        tmp = self.directory / f".{key}.tmp"
        tensors = {
            "a": a.to(torch.bfloat16).contiguous(),
            "b": b.to(torch.bfloat16).contiguous(),
            "ids_a": torch.tensor(list(ids[0]), dtype=torch.int64),
            "ids_b": torch.tensor(list(ids[1]), dtype=torch.int64),
        }
        save_file(tensors, str(tmp))
        tmp.rename(self._path(key))


# -- training --------------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    """flame_judge's device rules (auto, cpu, cuda, cuda:N; checked against what is visible) as a ConfigError."""
    from flame_judge.errors import ModelLoadError
    from flame_judge.loading import resolve_device as judge_device

    try:
        return judge_device(name)
    except ModelLoadError as exc:
        raise ConfigError(f"device = {name!r}: {exc}") from None


_WORKER_ENCODER: ResponseEncoder | None = None


def _start_encoder(base_model: str, max_input_tokens: int) -> None:
    global _WORKER_ENCODER
    _WORKER_ENCODER = ResponseEncoder(base_model, max_input_tokens)


def _encode_chunk(chunk: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, tuple[list[int], list[int]]]]:
    assert _WORKER_ENCODER is not None
    return [(i, _WORKER_ENCODER.pool_pair(PoolPair.from_json(row))) for i, row in chunk]


def encode_pool(
    pool: Sequence[PoolPair], base_model: str, max_input_tokens: int, workers: int
) -> dict[int, tuple[list[int], list[int]]]:
    """Token ids of every pool pair, rendered in `workers` processes: rendering is ~5 ms a pair on one
    core, which would leave a GPU waiting for most of each step. Same ids as `ResponseEncoder`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    rows = [(i, p.to_json()) for i, p in enumerate(pool)]
    chunks = [rows[k : k + 256] for k in range(0, len(rows), 256)]
    out: dict[int, tuple[list[int], list[int]]] = {}
    # spawn, not fork: the parent may hold CUDA state and torch threads that a fork would copy broken
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_encoder, initargs=(base_model, max_input_tokens)
    ) as ex:
        for part in ex.map(_encode_chunk, chunks):
            out.update(part)
    return out


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


class RewardTrainer:
    """Bradley-Terry training over the pool with exact resume (weights, optimizer, schedule, data
    position; the order of every epoch is a pure function of (seed, epoch))."""

    def __init__(self, config: RewardModelConfig, *, rows: Sequence[dict[str, Any]] | None = None, log: Any = None):
        import torch

        self.config = config
        self.out = Path(config.output_dir)
        self.log = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.device = resolve_device(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.out.mkdir(parents=True, exist_ok=True)
        self._check_config()
        check_base(self.out, config.base_model, record=True)
        if (self.out / "pairs.jsonl").is_file():
            self.pool = read_pool(self.out)
        else:
            from flame_data.constructed import read_split

            train_rows = rows if rows is not None else read_split(config.mixture, "train")
            self.pool = build_pool(train_rows, config.pool)
        self.pool_digest = write_pool(self.pool, self.out)
        self.model, self.tokenizer = load_reward_model(config)
        self.model.to(self.device)
        self.split = SplitForward(self.model, config.top_layers)
        self.encoder = ResponseEncoder(config.base_model, config.max_input_tokens)
        self.ids: dict[int, tuple[list[int], list[int]]] = {}
        if config.encode_workers:
            self.ids = encode_pool(self.pool, config.base_model, config.max_input_tokens, config.encode_workers)
        self.cache = LowerCache(self.out / "lower-cache") if config.cache_lower else None
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay)
        self.steps_per_epoch = math.ceil(len(self.pool) / config.batch_pairs)
        self.total_steps = config.max_steps or self.steps_per_epoch * config.epochs
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.step = 0
        self.pairs_seen = 0
        self.tokens_seen = 0
        self.elapsed = 0.0
        self.dev: list[EvalItem] | None = None
        self._stop = False
        if (self.out / CHECKPOINT / "state.json").is_file():
            self._load_checkpoint(self.out / CHECKPOINT)

    def _check_config(self) -> None:
        path = self.out / "config.json"
        mine = asdict(self.config)
        if path.is_file():
            old = json.loads(path.read_text())
            # Where it trains from and how long may change between runs; nothing else may.
            # Compute precision may change too: the cached lower states are bf16 either way.
            free = {
                "output_dir",
                "mixture",
                "max_steps",
                "epochs",
                "checkpoint_minutes",
                "eval_every",
                "threads",
                "bf16",
                "device",
                "encode_workers",
            }
            # A setting added after the run started counts as its default: every new setting's
            # default must keep what the trainer did before it existed. (Factory defaults, like bf16,
            # depend on the machine and are free anyway.)
            defaults = {f.name: f.default for f in fields(self.config) if not callable(f.default_factory)}
            diff = sorted(k for k in mine if k not in free and old.get(k, defaults.get(k)) != mine[k])

            def was(k: str) -> str:
                return f"{k}={old[k]!r}" if k in old else f"{k} unset (default {defaults.get(k)!r})"

            if diff:
                raise CheckpointError(
                    f"{self.out} was started with other settings ({', '.join(was(k) for k in diff)}); "
                    "rerun with the same settings to resume, or choose a new output folder"
                )
        path.write_text(json.dumps(mine, indent=2) + "\n")

    def _lr_factor(self, step: int) -> float:
        warm = self.config.warmup_steps
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, self.total_steps - warm))
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    # -- data position

    def batch_indices(self, step: int) -> list[int]:
        epoch, k = divmod(step, self.steps_per_epoch)
        order = list(range(len(self.pool)))
        random.Random(f"{self.config.seed}:epoch:{epoch}").shuffle(order)
        b = self.config.batch_pairs
        return order[k * b : (k + 1) * b]

    # -- lower states

    def _lower_pair(self, key: str, encode: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Lower-layer states of both responses: from the cache, or `encode()` and the frozen layers."""
        import torch

        from flame_judge.scoring import pad_right

        ids = encode()
        if self.cache is not None:
            hit = self.cache.get(key, ids)
            if hit is not None:
                return hit
        pad = int(self.model.config.pad_token_id or 0)
        x, mask = pad_right(list(ids), pad)
        with self._autocast():
            h = self.split.lower(x.to(self.device), mask.to(self.device))
        a, b = h[0, : len(ids[0])].to(torch.bfloat16).cpu(), h[1, : len(ids[1])].to(torch.bfloat16).cpu()
        if self.cache is not None:
            self.cache.put(key, a, b, ids)
        return a, b

    def _autocast(self) -> Any:
        import torch

        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.bf16)

    def rewards(self, states: Sequence[torch.Tensor]) -> torch.Tensor:
        import torch

        hidden, mask = pad_states(states)
        hidden, mask = hidden.to(self.device), mask.to(self.device)
        with self._autocast():
            return self.split.top(hidden.float() if not self.config.bf16 else hidden, mask).float().to(torch.float32)

    # -- one step

    def train_step(self) -> float:
        import torch.nn.functional as F

        idx = self.batch_indices(self.step)
        states = []
        for i in idx:
            a, b = self._lower_pair(f"{i:06d}", lambda i=i: self.ids.get(i) or self.encoder.pool_pair(self.pool[i]))
            self.tokens_seen += a.shape[0] + b.shape[0]
            states.append((a, b))
        self.model.train()
        r = self.rewards([s[0] for s in states] + [s[1] for s in states])
        n = len(idx)
        loss = -F.logsigmoid(r[:n] - r[n:]).mean()
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.pairs_seen += n
        return float(loss.detach())

    # -- dev

    def dev_items(self) -> list[EvalItem]:
        if self.dev is None:
            from flame_data.constructed import read_split
            from flame_judge.robustness import build_suites

            rows = read_split(self.config.mixture, "dev")
            per = self.config.dev_per_suite
            items = build_suites(rows, per_suite=4 * per, seed=self.config.seed)
            seen: dict[str, int] = {}
            self.dev = []
            for item in items:  # in_distribution keeps 4x, the other suites `dev_per_suite`
                seen[item.subset] = seen.get(item.subset, 0) + 1
                if item.subset == "in_distribution" or seen[item.subset] <= per:
                    self.dev.append(item)
        return self.dev

    def evaluate(self) -> dict[str, float]:
        """Dev BT accuracy (`metrics.pair_credit`) and log-loss on human pairs, accuracy per suite."""
        import torch

        from flame_judge.metrics import pair_credit

        self.model.eval()
        by_suite: dict[str, list[float]] = {}
        losses = []
        with torch.no_grad():
            for j, item in enumerate(self.dev_items()):
                a, b = self._lower_pair(f"dev-{j:05d}", lambda item=item: self.encoder.encode(item.spec, item.fields))
                r = self.rewards([a, b])
                p = _sigmoid(float(r[0] - r[1]))
                credit = pair_credit(p, p, item.gold)
                if credit is not None:
                    by_suite.setdefault(item.subset, []).append(credit)
                if item.subset == "in_distribution":
                    y = 1.0 if item.gold == "A" else 0.0
                    losses.append(-math.log(max(1e-12, p if y else 1 - p)))
        out = {f"dev_{s}": sum(v) / len(v) for s, v in by_suite.items()}
        out["dev_accuracy"] = out.get("dev_in_distribution", float("nan"))
        out["dev_log_loss"] = sum(losses) / len(losses) if losses else float("nan")
        return out

    # -- checkpoints

    def save_checkpoint(self) -> Path:
        import torch
        from safetensors.torch import save_file

        folder = self.out / CHECKPOINT
        tmp = self.out / f".{CHECKPOINT}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        trainable = {n: p.detach().cpu().contiguous() for n, p in self.model.named_parameters() if p.requires_grad}
        save_file(trainable, str(tmp / "trainable.safetensors"))
        torch.save(
            {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}, tmp / "optim.pt"
        )
        state = {
            "step": self.step,
            "pairs_seen": self.pairs_seen,
            "tokens_seen": self.tokens_seen,
            "elapsed_s": self.elapsed,
            "pool": self.pool_digest,
            "torch_rng": torch.get_rng_state().tolist(),
        }
        (tmp / "state.json").write_text(json.dumps(state) + "\n")
        old = self.out / f".{CHECKPOINT}.old"
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
        return folder

    def _load_checkpoint(self, folder: Path) -> None:
        import torch
        from safetensors.torch import load_file

        try:
            state = json.loads((folder / "state.json").read_text())
            weights = load_file(str(folder / "trainable.safetensors"))
            optim = torch.load(folder / "optim.pt", weights_only=True, map_location="cpu")  # may come from a GPU
        except (OSError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{folder} is not a complete reward-model checkpoint ({exc})") from None
        if state["pool"] != self.pool_digest:
            raise CheckpointError(f"{folder} was trained on another pool of pairs; choose a new output folder")
        named = dict(self.model.named_parameters())
        missing = sorted(n for n, p in named.items() if p.requires_grad and n not in weights)
        if missing:
            raise CheckpointError(f"{folder} lacks trainable tensors {missing[:3]}...; it is another model")
        with torch.no_grad():
            for n, t in weights.items():
                named[n].copy_(t)
        self.optimizer.load_state_dict(optim["optimizer"])
        self.scheduler.load_state_dict(optim["scheduler"])
        self.step, self.pairs_seen = int(state["step"]), int(state["pairs_seen"])
        self.tokens_seen, self.elapsed = int(state["tokens_seen"]), float(state["elapsed_s"])
        torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
        self.log(f"resumed {folder} at step {self.step} ({self.pairs_seen} pairs, {self.tokens_seen} tokens)")

    def _write_metrics(self, row: dict[str, Any]) -> None:
        path = self.out / METRICS
        extra = sorted(k for k in row if k not in COLUMNS)
        new = not path.is_file()
        with path.open("a", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow([*COLUMNS, "extra"])
            writer.writerow([row.get(c, "") for c in COLUMNS] + [json.dumps({k: row[k] for k in extra})])

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.log(f"signal {signum}: checkpointing at the end of this step")
        self._stop = True

    def train(self, *, until: int | None = None) -> dict[str, Any]:
        """Train to `until` (default: the last step), checkpointing every `checkpoint_minutes`."""
        end = min(until or self.total_steps, self.total_steps)
        handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        last_save = time.monotonic()
        window: list[float] = []
        window_tokens, window_start = self.tokens_seen, time.monotonic()
        self.log(
            f"reward model: {len(self.pool)} pairs, {self.steps_per_epoch} steps/epoch, "
            f"step {self.step} -> {end}, top {self.config.top_layers} layers trainable "
            f"({sum(p.numel() for p in self.params)} parameters)"
        )
        result: dict[str, Any] = {}
        try:
            while self.step < end and not self._stop:
                started = time.monotonic()
                window.append(self.train_step())
                self.elapsed += time.monotonic() - started
                row: dict[str, Any] = {}
                if self.step % self.config.log_every == 0 or self.step == end:
                    spent = time.monotonic() - window_start
                    row = {
                        "loss": round(sum(window) / len(window), 5),
                        "tokens_per_s": round((self.tokens_seen - window_tokens) / max(spent, 1e-9), 1),
                    }
                    window, window_tokens, window_start = [], self.tokens_seen, time.monotonic()
                if self.step % self.config.eval_every == 0 or self.step == end:
                    row.update({k: round(v, 5) for k, v in self.evaluate().items()})
                    result = row
                if row:
                    row.update(
                        step=self.step,
                        epoch=round(self.step / self.steps_per_epoch, 3),
                        pairs_seen=self.pairs_seen,
                        tokens_seen=self.tokens_seen,
                        lr=f"{self.scheduler.get_last_lr()[0]:.3g}",
                        elapsed_s=round(self.elapsed, 1),
                    )
                    self._write_metrics(row)
                    self.log(" ".join(f"{k}={v}" for k, v in row.items()))
                if time.monotonic() - last_save > 60 * self.config.checkpoint_minutes:
                    self.save_checkpoint()
                    last_save = time.monotonic()
        finally:
            self.save_checkpoint()
            for s, h in handlers.items():
                signal.signal(s, h)
        return {"step": self.step, **result}


# -- export ----------------------------------------------------------------------------------------


def export_reward_model(
    run: str | Path, out: str | Path, *, name: str, adapter: bool = False, dtype: str = "float32"
) -> Path:
    """A reward-model folder from a run's latest checkpoint.

    By default a plain `*ForSequenceClassification` folder (LoRA merged), loadable by
    `AutoModelForSequenceClassification.from_pretrained` and vLLM's pooling runner. With `adapter=True`
    a compact LoRA checkpoint (peft's format: the top layers' LoRA and the score head, a few MB) over
    the run's base, which flame loads (`Judge.load`) and merges for vLLM; `dtype` float16 or bfloat16
    stores that adapter at half the size (a LoRA on every layer fits a 16 MB transfer). Either way its flame.json
    says how flame renders a response for it (the reward view, at `max_input_tokens`).
    """
    import torch
    from safetensors.torch import load_file

    run, out = Path(run), Path(out)
    try:
        config = RewardModelConfig(**json.loads((run / "config.json").read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{run} is not a reward-model run folder ({exc})") from None
    folder = run / CHECKPOINT
    if not (folder / "trainable.safetensors").is_file():
        raise CheckpointError(f"{folder} has no weights yet; train first")
    if out.exists():
        raise CheckpointError(f"{out} already exists; remove it or choose another --out")
    if dtype not in ("float32", "float16", "bfloat16"):
        raise ConfigError(f"dtype = {dtype!r}: use float32, float16 or bfloat16")
    if dtype != "float32" and not adapter:
        raise ConfigError("a half-precision export is for the adapter (--adapter); merged folders stay float32")
    state = json.loads((folder / "state.json").read_text())
    check_base(run, config.base_model, record=False)
    model, tokenizer = load_reward_model(config)
    named = dict(model.named_parameters())
    with torch.no_grad():
        for n, t in load_file(str(folder / "trainable.safetensors")).items():
            named[n].copy_(t)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if adapter:
        from flame_judge.loading import base_reference, resolve

        model.save_pretrained(tmp, safe_serialization=True)
        (tmp / "README.md").unlink(missing_ok=True)  # peft's empty model card template
        if dtype != "float32":
            from safetensors.torch import save_file

            weights = tmp / "adapter_model.safetensors"
            small = {k: v.to(getattr(torch, dtype)).contiguous() for k, v in load_file(str(weights)).items()}
            save_file(small, str(weights), metadata={"format": "pt"})
        over = resolve(config.base_model).adapter
        # Written inside the judge it was trained over (its `pairwise_judge`): a relative base ("..")
        # keeps the two together wherever the judge is installed.
        if over is not None and over in out.resolve().parents:
            base = os.path.relpath(over, out.resolve())
        else:
            base = base_reference(config.base_model, out)
        head = {"format": "lora", "kind": "reward", "base": base}
    else:
        model.merge_and_unload().save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        head = {"kind": "reward", "format": "hf-sequence-classification"}
    meta = {
        "name": name,
        **head,
        "reward_model": {
            "max_input_tokens": config.max_input_tokens,
            "view": "flame",  # how flame renders a response for it: the reward view below, not a chat turn
            "rendering": "flame_data.templates.reward_task (pointwise view, read at EVALUATION:/score:)",
            "base_model": config.base_model,
            # what a judge must give to take this adapter as its pairwise part (tools/place_reward.py)
            "base_hidden_states": json.loads((run / "base.json").read_text())["hidden_states"]
            if (run / "base.json").is_file()
            else None,
            "top_layers": config.top_layers,
            "lora_r": config.lora_r,
            "steps": state["step"],
            "pairs_seen": state["pairs_seen"],
            "tokens_seen": state["tokens_seen"],
            "train_seconds": round(state["elapsed_s"], 1),
            "pool": json.loads((run / "pool.json").read_text()) if (run / "pool.json").is_file() else None,
        },
    }
    (tmp / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
    tmp.rename(out)
    from flame_judge.loading import fingerprint_of

    meta = {"name": name, "fingerprint": fingerprint_of(name, out), **{k: v for k, v in meta.items() if k != "name"}}
    (out / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out
