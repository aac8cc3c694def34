"""The training loop: accelerate for devices and processes, the fused loss on target tokens, periodic
dev evaluation through flame-judge's scorer, checkpoints that `Judge.load` reads, and exact resume.

`batch_size` is the global batch: with N processes (`torchrun --nproc_per_node N .venv/bin/flame
train ...`, or `accelerate launch`) each takes 1/N of every step's batch, and the loss is the sum over
all target tokens divided by their global count, so a run's losses and weights do not depend on N.
Checkpoints, metrics and dev evaluation happen on the main process.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch

from flame_train.config import TrainConfig
from flame_train.data import (
    IGNORE,
    Encoded,
    Encoder,
    LabelMask,
    MixtureSampler,
    collate,
    load_rates,
    load_split,
    sample_rows,
)
from flame_train.errors import CheckpointError, ConfigError
from flame_train.model import build_model
from flame_train.state import RNG, load_rng, load_training_state, rng_state, save_training_state

STATE = "trainer_state.json"


def target_count(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """How many target tokens a batch has (labels shifted by one, as the loss reads them)."""
    return (batch["labels"][:, 1:] != IGNORE).sum()


def compute_loss(
    model: Any, batch: dict[str, torch.Tensor], *, num_items: torch.Tensor | int | None = None
) -> tuple[torch.Tensor, int]:
    """Cross-entropy over target tokens through the model's own forward (fused if the model was
    built with `fused_loss`), and how many targets there were: their mean, or their sum divided by
    `num_items` (the global count when the batch is one process's share)."""
    extra = {} if num_items is None else {"num_items_in_batch": num_items}
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"], **extra)
    return out.loss, int(target_count(batch))


class Trainer:
    def __init__(self, config: TrainConfig, *, log: Any = None) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DataLoaderConfiguration, DistributedType, set_seed

        self.config = config
        self.out = Path(config.output_dir)
        cuda = torch.cuda.is_available()
        precision = config.mixed_precision if config.mixed_precision != "auto" else ("bf16" if cuda else "no")
        # split_batches: our batch_size is global, so accelerate must not also step the LR schedule
        # once per process per optimizer step.
        self.accelerator = Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=config.grad_accum,
            cpu=not cuda,
            dataloader_config=DataLoaderConfiguration(split_batches=True),
        )
        self.main = self.accelerator.is_main_process
        say = log or (lambda s: print(s, file=sys.stderr))
        self.log = say if self.main else (lambda s: None)
        self.world = self.accelerator.num_processes
        self.rank = self.accelerator.process_index
        self.sharded = self.accelerator.distributed_type == DistributedType.FSDP
        if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and not self.sharded:
            self.log(
                f"note: an FSDP config was given but accelerate runs {self.accelerator.distributed_type.value} "
                "(it shards only on GPUs); every process holds the whole model"
            )
        if config.batch_size % self.world:
            raise ConfigError(
                f"batch_size = {config.batch_size} is the global batch and must split evenly over the "
                f"{self.world} processes; use a multiple of {self.world}"
            )
        set_seed(config.seed)  # the same initial weights (LoRA's too) on every process
        model, self.tokenizer, self.base_spec = build_model(config)
        if config.encoded:
            from flame_train.encoded import EncodedTrain

            store = EncodedTrain.open(config.encoded, tokenizer=self.tokenizer, config=config)
            train_rows = store.rows
            self.example = store.example
        else:
            rows = load_split(config.mixture, "train", config.tasks)
            encoder = Encoder(self.tokenizer, config.max_length)
            train_rows = sample_rows(rows)

            def example(row: int, swap: bool) -> Encoded:
                return encoder.row(rows[row], swap)

            self.example = example
        self.dev_rows = self._dev_sample(load_split(config.mixture, "dev", config.tasks))
        present = sorted({r.task for r in train_rows if not config.tasks or r.task in config.tasks})
        if config.loss_tokens == "label":
            self.example = self._label_only(present, [r.task for r in train_rows])
        rates = load_rates(config.mixture, config.rates, present)
        self.sampler = MixtureSampler(
            train_rows,
            rates,
            batch_size=config.batch_size,
            seed=config.seed,
            both_orders=config.both_orders,
            group_by_length=config.group_by_length,
        )
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        from transformers import get_scheduler

        scheduler = get_scheduler(
            config.scheduler if config.scheduler != "constant" else "constant_with_warmup",
            optimizer,
            num_warmup_steps=config.warmup_steps,
            num_training_steps=config.max_steps,
        )
        self.model, self.optimizer, self.scheduler = self.accelerator.prepare(model, optimizer, scheduler)
        set_seed(config.seed, device_specific=True)  # then dropout differs per process, as in one big batch
        self.step = 0
        self.trainable = sum(p.numel() for p in params)

    def _label_only(self, present: list[str], names: list[str]) -> Any:
        """`example` with the loss on the label alone, every task checked now: an error inside a step
        would stop one process while the others wait for it."""
        mask, source = LabelMask(self.tokenizer), self.example
        free = [t for t in present if not mask.lines(t)[1]]
        if free:
            raise ConfigError(
                f"loss_tokens = label: tasks {free} have no labels to keep (open-ended); their whole targets "
                "would outweigh every label; leave them out with `tasks` or use loss_tokens = target"
            )

        def masked(row: int, swap: bool) -> Encoded:
            return mask(names[row], source(row, swap))

        return masked

    def _dev_sample(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        per: dict[str, list[dict[str, Any]]] = {}
        for r in sorted(rows, key=lambda r: r["id"]):
            if len(per.setdefault(r["task"], [])) < self.config.eval_examples_per_task:
                per[r["task"]].append(r)
        return [r for rs in per.values() for r in rs]

    # -- checkpoints ----------------------------------------------------------------------------

    def save(self, name: str | None = None) -> Path:
        """Write a checkpoint `Judge.load` accepts, plus the training state for resuming.

        Every process takes part (the weights and RNG states are gathered); the main one writes.
        """
        from accelerate.utils import gather_object

        target = self.out / (name or f"step-{self.step:06d}")
        # Sharded weights are gathered (every process must call it); replicated ones are read in place.
        weights = self.accelerator.get_state_dict(self.model) if self.sharded else None
        rngs = gather_object([rng_state()])
        if self.main:
            self._write(target, weights or self.accelerator.unwrap_model(self.model).state_dict(), rngs)
        self.accelerator.wait_for_everyone()  # no process runs ahead to a folder not yet written
        return target

    def _write(self, target: Path, weights: dict[str, Any], rngs: list[str]) -> None:
        from safetensors.torch import save_file

        from flame_judge.loading import base_reference

        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        unwrapped = self.accelerator.unwrap_model(self.model)
        unwrapped.save_pretrained(str(tmp), state_dict=weights, safe_serialization=True)
        lora = self.config.finetune == "lora"
        if not lora:
            self.tokenizer.save_pretrained(str(tmp))
        files = sorted(tmp.glob("*.safetensors"))
        digest = hashlib.sha256(b"".join(w.read_bytes() for w in files)).hexdigest()[:16]
        meta: dict[str, Any] = {
            "format": "lora" if lora else "full",
            "name": f"{self.out.name}-{target.name}",  # the fingerprint's first part when it loads
            "base": base_reference(self.base_spec, target) if lora else None,
            "fingerprint": f"{self.out.name}-{target.name}@{digest}",
            "step": self.step,
            "config": self.config.to_dict(),
        }
        (tmp / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
        if not self.sharded:
            # Sharded optimizer state would need FSDP's own checkpointing; such a checkpoint loads
            # as a judge but is not resumable (resume() says so).
            trainable = self._trainable_names()
            tensors = {n: weights[n].detach().contiguous().cpu() for n in trainable}
            save_file(tensors, str(tmp / "trainable.safetensors"))
            save_training_state(tmp, self.optimizer, self.scheduler)
            (tmp / RNG).write_text(json.dumps({"ranks": [json.loads(r) for r in rngs]}) + "\n")
            (tmp / STATE).write_text(json.dumps({"step": self.step, "config": self.config.to_dict()}, indent=2))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)

    def _trainable_names(self) -> list[str]:
        model = self.accelerator.unwrap_model(self.model)
        return [n for n, p in model.named_parameters() if p.requires_grad]

    def _load_state(self, folder: Path) -> None:
        from safetensors.torch import load_file

        try:
            weights = load_file(str(folder / "trainable.safetensors"))
        except (OSError, RuntimeError) as exc:
            raise CheckpointError(f"cannot read the training state in {folder}: {exc}") from exc
        state = load_training_state(folder)
        model = self.accelerator.unwrap_model(self.model)
        params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        if set(weights) != set(params):
            raise CheckpointError(f"{folder} holds weights for a different model or fine-tuning mode")
        with torch.no_grad():
            for name, value in weights.items():
                params[name].copy_(value)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        note = load_rng(folder, self.rank, self.world)
        if note:
            self.log(note)

    def resume(self, checkpoint: str | Path) -> None:
        """Continue from `checkpoint` on every process: weights, optimizer, schedule, each process's
        RNG, and the sampler (a pure function of seed and step, so the step is its whole state)."""
        path = Path(checkpoint)
        state = path / STATE
        if not state.is_file():
            raise CheckpointError(
                f"{path} is not a resumable training checkpoint (no {STATE}; runs sharded with FSDP save weights only)"
            )
        try:
            saved = json.loads(state.read_text())
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read {state}: {exc}") from None
        mismatch = {
            k
            for k, v in saved["config"].items()
            if k not in ("max_steps", "output_dir", "eval_every", "save_every", "log_every", "encoded")
            and self.config.to_dict().get(k) != v
        }
        if mismatch:
            raise CheckpointError(f"cannot resume {path}: the config differs in {sorted(mismatch)}")
        if saved["config"]["max_steps"] != self.config.max_steps:
            self.log(f"note: max_steps changed from {saved['config']['max_steps']}; the LR schedule changes with it")
        self._load_state(path)
        self.step = int(saved["step"])
        self.log(f"resumed from {path} at step {self.step}")

    # -- evaluation -------------------------------------------------------------------------------

    def evaluate(self) -> dict[str, float]:
        """Dev scores of the in-memory model (on the main process; the others wait)."""
        from flame_judge.loading import LoadedModel
        from flame_judge.scoring import GenerativeBackend
        from flame_train.dev import dev_scores

        scores: dict[str, float] = {}
        if self.main:
            model = self.accelerator.unwrap_model(self.model)
            model.eval()
            device = self.accelerator.device
            loaded = LoadedModel(Path("."), self.tokenizer, "training", f"training@{self.step}", device)
            loaded._model = model.get_base_model() if hasattr(model, "get_base_model") else model
            backend = GenerativeBackend(loaded, max_input_tokens=self.config.max_length)
            with torch.no_grad(), self.accelerator.autocast():
                scores = dev_scores(backend, self.dev_rows)
            model.train()
        self.accelerator.wait_for_everyone()
        return scores

    # -- the loop -------------------------------------------------------------------------------

    def _micro_batch(self, index: int, pad: int) -> dict[str, torch.Tensor]:
        """This process's share of micro-batch `index` of the global batch."""
        picks = self.sampler.batch(index)
        share = len(picks) // self.world
        mine = picks[self.rank * share : (self.rank + 1) * share]
        batch = collate([self.example(i, swap) for i, swap in mine], pad)
        return {k: v.to(self.accelerator.device) for k, v in batch.items()}

    def _total(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of `value` over processes."""
        if self.world == 1:
            return value.detach()
        total = self.accelerator.reduce(value.detach().clone(), reduction="sum")
        assert isinstance(total, torch.Tensor)
        return total

    def close(self) -> None:
        """Meet every process, then end accelerate's run (trackers, the process group) while Python is
        whole rather than at interpreter teardown."""
        self.accelerator.wait_for_everyone()
        self.accelerator.end_training()

    def train(self, *, until: int | None = None, final_eval: bool = True) -> dict[str, Any]:
        """Train to `max_steps` (or stop after step `until`, as an interrupted run would).

        Dev evaluation every `eval_every` steps and once at the end (unless `final_eval` is off,
        as for tail patches, which score their checkpoint themselves); one checkpoint per
        `save_every` steps and one at the end (`final`, or `step-N` when stopped early).
        """
        from tqdm import tqdm

        config = self.config
        writer: Any = None
        fh: Any = None
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            config.dump(self.out / "config.yaml")
            metrics_path = self.out / "metrics.csv"
            fresh = not metrics_path.exists() or self.step == 0
            fh = metrics_path.open("w" if fresh else "a", newline="")
            writer = csv.writer(fh)
            if fresh:
                writer.writerow(["step", "loss", "lr", "tokens", "tokens_per_s", "eval"])
        pad = self.tokenizer.pad_token_id if isinstance(self.tokenizer.pad_token_id, int) else 0
        self.model.train()
        history: list[float] = []
        tokens = 0
        start = time.perf_counter()
        bar = tqdm(
            total=config.max_steps,
            initial=self.step,
            desc="training",
            unit="step",
            file=sys.stderr,
            disable=not self.main,
        )
        stop = min(config.max_steps, until or config.max_steps)
        last_saved: Path | None = None
        while self.step < stop:
            window = 0.0
            for micro in range(config.grad_accum):
                batch = self._micro_batch(self.step * config.grad_accum + micro, pad)
                # The global target count: each process's loss is its sum over it, and DDP's mean
                # of the gradients times the process count is then the gradient of the global mean.
                total = self._total(target_count(batch))
                with self.accelerator.accumulate(self.model), self.accelerator.autocast():
                    loss, _ = compute_loss(self.model, batch, num_items=total)
                    self.accelerator.backward(loss * self.world)
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                window += float(self._total(loss)) / config.grad_accum
                tokens += int(self._total(batch["attention_mask"].sum()))
            self.step += 1
            history.append(window)
            bar.update(1)
            bar.set_postfix(loss=f"{window:.4f}")
            evaluated = ""
            end = self.step == config.max_steps
            if (config.eval_every and self.step % config.eval_every == 0) or (end and final_eval):
                evaluated = json.dumps(self.evaluate())
                self.log(f"step {self.step}: dev {evaluated}")
            if writer is not None and (self.step % config.log_every == 0 or evaluated):
                rate = tokens / max(time.perf_counter() - start, 1e-9)
                lr = self.scheduler.get_last_lr()[0]
                writer.writerow([self.step, f"{window:.6f}", f"{lr:.3e}", tokens, f"{rate:.1f}", evaluated])
                fh.flush()
            if config.save_every and self.step % config.save_every == 0 and not end:
                last_saved = self.save()
        bar.close()
        if fh is not None:
            fh.close()
        elapsed = time.perf_counter() - start
        if self.step == config.max_steps:
            final = self.save("final")
        elif last_saved is not None and last_saved.name == f"step-{self.step:06d}":
            final = last_saved  # stopped right after a periodic checkpoint: it is the last state
        else:
            final = self.save()
        return {
            "steps": self.step,
            "last_loss": history[-1] if history else math.nan,
            "losses": history,
            "tokens": tokens,
            "seconds": elapsed,
            "tokens_per_s": tokens / max(elapsed, 1e-9),
            "checkpoint": str(final),
            "trainable_parameters": self.trainable,
        }
