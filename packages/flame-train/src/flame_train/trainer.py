"""The training loop: accelerate for devices, the fused loss on target tokens, periodic dev
evaluation through flame-judge's scorer, checkpoints that `Judge.load` reads, and exact resume."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from flame_train.config import TrainConfig
from flame_train.data import Encoded, Encoder, MixtureSampler, collate, load_rates, load_split, sample_rows
from flame_train.errors import CheckpointError
from flame_train.kernels import fused_linear_cross_entropy
from flame_train.model import body_and_head, build_model

STATE = "trainer_state.json"


def compute_loss(model: Any, batch: dict[str, torch.Tensor], *, fused: bool) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over target tokens (labels shifted by one), and how many there were."""
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    if fused:
        body, head = body_and_head(model)
        hidden = body(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        picked = hidden[:, :-1][keep]
        weight = head.weight
        if not isinstance(weight, torch.Tensor):
            raise TypeError(f"the LM head of {type(model).__name__} has no weight tensor")
        loss = fused_linear_cross_entropy(picked, weight, labels[keep])
    else:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), ignore_index=-100)
    return loss, int(keep.sum())


class Trainer:
    def __init__(self, config: TrainConfig, *, log: Any = None) -> None:
        from accelerate import Accelerator
        from accelerate.utils import set_seed

        self.config = config
        self.out = Path(config.output_dir)
        self.log = log or (lambda s: print(s, file=sys.stderr))
        cuda = torch.cuda.is_available()
        precision = config.mixed_precision if config.mixed_precision != "auto" else ("bf16" if cuda else "no")
        self.accelerator = Accelerator(
            mixed_precision=precision, gradient_accumulation_steps=config.grad_accum, cpu=not cuda
        )
        set_seed(config.seed)
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
        rates = load_rates(config.mixture, config.rates, sorted({r.task for r in train_rows}))
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
        self.step = 0
        self.trainable = sum(p.numel() for p in params)

    def _dev_sample(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        per: dict[str, list[dict[str, Any]]] = {}
        for r in sorted(rows, key=lambda r: r["id"]):
            if len(per.setdefault(r["task"], [])) < self.config.eval_examples_per_task:
                per[r["task"]].append(r)
        return [r for rs in per.values() for r in rs]

    # -- checkpoints ----------------------------------------------------------------------------

    def save(self, name: str | None = None) -> Path:
        """Write a checkpoint `Judge.load` accepts, plus the full training state for resuming."""
        target = self.out / (name or f"step-{self.step:06d}")
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        unwrapped = self.accelerator.unwrap_model(self.model)
        unwrapped.save_pretrained(str(tmp), safe_serialization=True)
        lora = self.config.finetune == "lora"
        if not lora:
            self.tokenizer.save_pretrained(str(tmp))
        weights = sorted(tmp.glob("*.safetensors"))
        digest = hashlib.sha256(b"".join(w.read_bytes() for w in weights)).hexdigest()[:16]
        meta = {
            "format": "lora" if lora else "full",
            "base": self.base_spec if lora else None,
            "fingerprint": f"{self.out.name}-{target.name}@{digest}",
            "step": self.step,
            "config": self.config.to_dict(),
        }
        (tmp / "flame.json").write_text(json.dumps(meta, indent=2) + "\n")
        self._save_state(tmp)
        (tmp / STATE).write_text(json.dumps({"step": self.step, "config": self.config.to_dict()}, indent=2))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        return target

    def _trainable(self) -> dict[str, torch.Tensor]:
        model = self.accelerator.unwrap_model(self.model)
        return {n: p for n, p in model.named_parameters() if p.requires_grad}

    def _save_state(self, folder: Path) -> None:
        """Trainable weights, optimizer, scheduler and every RNG: what an exact resume needs."""
        import random

        import numpy as np
        from safetensors.torch import save_file

        save_file(
            {n: p.detach().contiguous().cpu() for n, p in self._trainable().items()},
            str(folder / "trainable.safetensors"),
        )
        torch.save(
            {
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "rng": {
                    "python": random.getstate(),
                    "numpy": np.random.get_state(),
                    "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                },
            },
            folder / "optimizer.pt",
        )

    def _load_state(self, folder: Path) -> None:
        import random

        import numpy as np
        from safetensors.torch import load_file

        try:
            weights = load_file(str(folder / "trainable.safetensors"))
            state = torch.load(folder / "optimizer.pt", weights_only=False)
        except (OSError, RuntimeError) as exc:
            raise CheckpointError(f"cannot read the training state in {folder}: {exc}") from exc
        params = self._trainable()
        if set(weights) != set(params):
            raise CheckpointError(f"{folder} holds weights for a different model or fine-tuning mode")
        with torch.no_grad():
            for name, value in weights.items():
                params[name].copy_(value)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"]["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])

    def resume(self, checkpoint: str | Path) -> None:
        path = Path(checkpoint)
        state = path / STATE
        if not state.is_file():
            raise CheckpointError(f"{path} is not a training checkpoint (no {STATE})")
        saved = json.loads(state.read_text())
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
        from flame_judge.evaluation import score_rows, summarize, task_scores
        from flame_judge.loading import LoadedModel
        from flame_judge.scoring import GenerativeBackend

        model = self.accelerator.unwrap_model(self.model)
        model.eval()
        loaded = LoadedModel(Path("."), self.tokenizer, "training", f"training@{self.step}", self.accelerator.device)
        loaded._model = model.get_base_model() if hasattr(model, "get_base_model") else model
        backend = GenerativeBackend(loaded, max_input_tokens=self.config.max_length)
        with torch.no_grad(), self.accelerator.autocast():
            dists = score_rows(backend, self.dev_rows)
        model.train()
        return summarize(task_scores(self.dev_rows, dists))

    # -- the loop -------------------------------------------------------------------------------

    def train(self, *, until: int | None = None) -> dict[str, Any]:
        """Train to `max_steps` (or stop after step `until`, as an interrupted run would)."""
        from tqdm import tqdm

        config = self.config
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
        bar = tqdm(total=config.max_steps, initial=self.step, desc="training", unit="step", file=sys.stderr)
        stop = min(config.max_steps, until or config.max_steps)
        while self.step < stop:
            window = 0.0
            for micro in range(config.grad_accum):
                picks = self.sampler.batch(self.step * config.grad_accum + micro)
                batch = collate([self.example(i, swap) for i, swap in picks], pad)
                batch = {k: v.to(self.accelerator.device) for k, v in batch.items()}
                with self.accelerator.accumulate(self.model), self.accelerator.autocast():
                    loss, _ = compute_loss(self.model, batch, fused=config.fused_loss)
                    self.accelerator.backward(loss)
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad()
                window += float(loss.detach()) / config.grad_accum
                tokens += int(batch["attention_mask"].sum())
            self.step += 1
            history.append(window)
            bar.update(1)
            bar.set_postfix(loss=f"{window:.4f}")
            evaluated = ""
            if (config.eval_every and self.step % config.eval_every == 0) or self.step == config.max_steps:
                evaluated = json.dumps(self.evaluate())
                self.log(f"step {self.step}: dev {evaluated}")
            if self.step % config.log_every == 0 or evaluated:
                rate = tokens / max(time.perf_counter() - start, 1e-9)
                writer.writerow(
                    [
                        self.step,
                        f"{window:.6f}",
                        f"{self.scheduler.get_last_lr()[0]:.3e}",
                        tokens,
                        f"{rate:.1f}",
                        evaluated,
                    ]
                )
                fh.flush()
            if (config.save_every and self.step % config.save_every == 0) or self.step == config.max_steps:
                self.save()
        bar.close()
        fh.close()
        elapsed = time.perf_counter() - start
        final = self.save("final") if self.step == config.max_steps else self.save()
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
